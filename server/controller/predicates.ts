// Named predicates over the controller state: the vocabulary the decision procedure in core.ts is
// written in. Pure functions, no side effects; each answers one question an operator would ask.
import { servingProcessStatuses } from "../../protocol/vocabulary";
import type { AppState, ControllerState, PairConfig, PairState, ProcessStatus } from "./types";

export function appOf(s: ControllerState, appId: string): AppState {
  const app = s.apps[appId];
  if (!app) throw new Error(`unknown application ${appId}`);
  return app;
}

export function pairStateOf(s: ControllerState, pairId: string): PairState {
  const p = s.pairStates[pairId];
  if (!p) throw new Error(`unknown pair ${pairId}`);
  return p;
}

export function appName(pair: PairConfig, appId: string | null): string {
  if (appId === null) return "nobody";
  return pair.apps.find((a) => a.appId === appId)?.appName ?? appId;
}

export function hostName(pair: PairConfig, hostId: string): string {
  return pair.apps.find((a) => a.hostId === hostId)?.hostName ?? hostId;
}

export function otherAppId(pair: PairConfig, appId: string): string {
  return pair.apps[0].appId === appId ? pair.apps[1].appId : pair.apps[0].appId;
}

export function hostOfApp(pair: PairConfig, appId: string): string {
  const ref = pair.apps.find((a) => a.appId === appId);
  if (!ref) throw new Error(`application ${appId} is not in pair ${pair.id}`);
  return ref.hostId;
}

export function isRecovering(s: ControllerState): boolean {
  return s.nowMs < recoveryEndsAtMs(s);
}

/** The recovery grace's end: its length after the start, plus the console's own stalls during it. */
export function recoveryEndsAtMs(s: ControllerState): number {
  return s.startedAtMs + s.timing.recoveryGraceMs + s.recoveryExtendedMs;
}

export function isHostConnected(s: ControllerState, hostId: string): boolean {
  return s.hosts[hostId]?.connection === "connected";
}

/** A host not seen since the controller started, while the recovery grace lasts: it may yet report. */
export function isHostAwaitedAfterStart(s: ControllerState, hostId: string): boolean {
  return s.hosts[hostId]?.connection === "never" && isRecovering(s);
}

const down: readonly ProcessStatus[] = ["stopped", "failed", "stopping"];

/** The process is up and answering (it may still be without SIP traffic). */
export function isServing(app: AppState): boolean {
  return (servingProcessStatuses as readonly ProcessStatus[]).includes(app.status);
}

/** The agent says the process is not there (failed, stopped, stopping). */
export function isProcessDown(app: AppState): boolean {
  return down.includes(app.status);
}

/** It did not answer an order, or its readiness polls have failed for unansweredPollTimeoutMs (hung). */
export function isUnresponsive(s: ControllerState, app: AppState): boolean {
  return app.unresponsiveSinceMs !== null || isHung(s, app);
}

export function isHung(s: ControllerState, app: AppState): boolean {
  return app.pollFailingSinceMs !== null && s.nowMs - app.pollFailingSinceMs >= s.timing.unansweredPollTimeoutMs;
}

/** Reachable, serving, answering, and it says it is primary. */
export function actsAsPrimary(s: ControllerState, app: AppState): boolean {
  return isHostConnected(s, app.hostId) && app.role === "primary" && isServing(app) && !isUnresponsive(s, app);
}

/** Reachable and running normally: may be ordered to primary. */
export function isCandidate(s: ControllerState, app: AppState): boolean {
  return (
    isHostConnected(s, app.hostId) &&
    app.status === "running" &&
    app.role !== null &&
    !isUnresponsive(s, app)
  );
}

/**
 * The host (re)connected, the process is not known to be down, but its role or status has not been
 * reported yet: it might be primary, so deciding now could create two primaries or flap roles.
 */
export function isAwaitingResync(s: ControllerState, app: AppState): boolean {
  if (isHostAwaitedAfterStart(s, app.hostId)) return true;
  const host = s.hosts[app.hostId];
  if (!host || host.connection !== "connected") return false;
  if ((app.role !== null && app.statusHeard) || isProcessDown(app)) return false;
  return s.nowMs < host.sinceMs + s.timing.resyncTimeoutMs;
}

export function isReadyForSwitchover(app: AppState): boolean {
  return app.readiness?.readyForSwitchover === 1;
}

export function notReadyWhy(app: AppState, name: string): string {
  if (!app.readiness) return `${name}'s readiness is unknown`;
  const why = app.readiness.notReadyReasons.join("; ");
  return `${name} is not ready for switchover${why ? ` (${why})` : ""}`;
}

/** "7,500 calls" — counts in sentences read like the dashboard's. */
export function callsWord(n: number): string {
  return `${n.toLocaleString("en-US")} call${n === 1 ? "" : "s"}`;
}

/** The calls a server last reported not yet synchronised, or null when it did not say. */
export function unsyncedCalls(app: AppState): number | null {
  return app.readiness?.unsyncedCalls ?? null;
}

export function usesScripts(pair: PairConfig): boolean {
  return pair.haType !== "single-host";
}

export function vipWord(pair: PairConfig): string {
  return pair.haType === "nlb-cluster" ? "NLB port" : "VIP";
}

/** Why an application cannot serve as primary, in words ("sip-1's process failed"). */
export function whyNotServing(s: ControllerState, pair: PairConfig, app: AppState): string {
  const name = appName(pair, app.appId);
  const host = s.hosts[app.hostId];
  if (!host || host.connection !== "connected") return `${hostName(pair, app.hostId)} is disconnected`;
  if (isHung(s, app)) return `${name} has not answered its readiness polls for ${Math.round((s.nowMs - app.pollFailingSinceMs!) / 1000)} s (hung)`;
  if (isUnresponsive(s, app)) return `${name} stopped answering orders`;
  switch (app.status) {
    case "failed":
      return `${name}'s process failed`;
    case "stopped":
      return `${name} is stopped`;
    case "stopping":
      return `${name} is stopping`;
    case "starting":
      return `${name} is still starting`;
    case "unknown":
      return `${name}'s status is unknown${app.statusDetail ? ` (${app.statusDetail})` : ""}`;
    case "service-unavailable":
      return `${name} reported SERVICE_UNAVAILABLE`;
    case "running":
      return app.role === null ? `${name} has not reported its role` : `${name} is ${app.role}`;
  }
}


/** A time in sentences: "2025-05-01 10:02:03 UTC" (pure: the time comes from an event, not a clock). */
export function timeWord(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** "40 min", "3 h 5 min", "12 s": how long something has lasted, in sentences. */
export function durationWord(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 120) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** The pair is in maintenance: the controller observes it and takes no decision of its own. */
export function isInMaintenance(ps: PairState): boolean {
  return ps.maintenance !== null;
}

/** "set by alice at 2025-05-01 10:02:03 UTC, until …; reason: network work" */
export function maintenanceWords(ps: PairState): string {
  const m = ps.maintenance;
  if (!m) return "not in maintenance";
  return `set by ${m.by} at ${timeWord(m.sinceMs)}${m.untilMs !== null ? `, until ${timeWord(m.untilMs)}` : ""}; reason: ${m.reason}`;
}
