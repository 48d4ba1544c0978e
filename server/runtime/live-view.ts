// The dashboard's view of every pair, derived from the controller's state and the agents' connection
// states: roles, process status, host connection, VIP location (intended, with stale VIPs, and as the
// agents observe it, with a mismatch between the two), readiness, HA link, back-off, split brain, and
// whether a switchover is safe now (with the reasons when it is not).
import type { ControllerState, PairConfig, PlanCause } from "../controller/core";
import type { HostLiveState } from "../agents/gateway";
import type { PairView, ServerView } from "../../lib/ui-events";
import type { VipObservation } from "./app-runtime";
import type { PairVipMismatch } from "./vip-watch";

export type { PairView, ServerView };

/** What the agents observe of the VIPs, and the mismatches the VIP watch raised (server/runtime/vip-watch.ts). */
export interface VipLive {
  observations: readonly VipObservation[];
  /** By pair id. */
  mismatches: ReadonlyMap<string, PairVipMismatch>;
}

const noVipLive: VipLive = { observations: [], mismatches: new Map() };

/** What each kind of plan is called on the dashboard. */
const planTitles: Record<PlanCause, string> = {
  operator: "Switchover",
  "primary-failed": "Failover (the primary failed)",
  "host-disconnected": "Failover (the primary's host is disconnected)",
  "no-primary": "Promotion (no server was primary)",
  "service-unavailable": "Switchover on SERVICE_UNAVAILABLE",
  "bind-failure": "Alternation (the primary cannot bind its SIP port)",
  "split-brain": "Split-brain demotion",
  "stale-vip": "Disabling a stale VIP",
  "self-demotion": "Failover (the primary gave up the role by itself)",
  adoption: "Putting the VIP with the adopted primary",
};

/** Pairs of equal severity by name; one collator for the thousands of comparisons of a large site. */
const byName = new Intl.Collator("en");

/** What a failed process last wrote, as much as a card shows (the whole tail is on the application's page and its log). */
export const FAILURE_OUTPUT_MAX_LINES = 6;
export const FAILURE_OUTPUT_MAX_CHARS = 800;
/** Words of a line that says why a process stopped (Node's and the C library's error names among them). */
const CAUSE_PATTERN = /\b(E[A-Z]{3,}|error|exception|fatal|panic|cannot|can't|could not|unable|denied|refused|not found|no such|invalid|failed)\b/i;

/** The line of a failed process's output that most likely says why: the last error-like line, else the last line. */
export function exitCause(output: string): string | null {
  const lines = output
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  if (!lines.length) return null;
  const line = [...lines].reverse().find((l) => CAUSE_PATTERN.test(l)) ?? lines[lines.length - 1]!;
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

/** A failed process's cause and last lines for its card, or null when it did not fail. */
export function failureOf(status: string, lastOutput: string | undefined): ServerView["failure"] {
  if (status !== "failed") return null;
  const tail = (lastOutput ?? "").trimEnd().split("\n").slice(-FAILURE_OUTPUT_MAX_LINES).join("\n");
  return { cause: exitCause(lastOutput ?? ""), output: tail.length > FAILURE_OUTPUT_MAX_CHARS ? tail.slice(-FAILURE_OUTPUT_MAX_CHARS) : tail };
}

/**
 * `vipLive`: what the agents observe of the VIPs and the mismatches the VIP watch raised. `versionOf`:
 * the version each server last reported running (the agents' runningConfig, kept beside the controller
 * in the control plane). `lastOutputOf`: what an application's process last wrote (the agents' reports,
 * server/runtime/app-runtime.ts), shown with a failed server. All absent where nobody keeps them.
 */
export function pairViews(
  state: ControllerState | null,
  pairs: readonly PairConfig[],
  hosts: readonly HostLiveState[],
  vipLive: VipLive = noVipLive,
  versionOf: (appName: string) => string | null = () => null,
  lastOutputOf: (appName: string) => string | undefined = () => undefined,
): PairView[] {
  const hostByName = new Map(hosts.map((h) => [h.hostName, h]));
  const observed = new Map(vipLive.observations.map((o) => [`${o.pair}|${o.hostName}`, o]));
  const views = pairs.map((pair): PairView => {
    const ps = state?.pairStates[pair.id];
    const staleHosts = new Set((ps?.staleVips ?? []).map((s) => s.hostId));
    const servers = pair.apps.map((ref, i): ServerView => {
      const app = state?.apps[ref.appId];
      const live = hostByName.get(ref.hostName);
      const role = app?.role ?? "unknown";
      const processDown = app ? ["failed", "stopped"].includes(app.status) : false;
      const vip: ServerView["vip"] =
        pair.haType === "single-host" ? "none" : staleHosts.has(ref.hostId) ? "stale" : role === "primary" && live?.state === "connected" ? "present" : "absent";
      const seen = pair.haType === "single-host" ? undefined : observed.get(`${pair.name}|${ref.hostName}`);
      return {
        appId: ref.appId,
        name: ref.appName,
        hostName: ref.hostName,
        configuredRole: i === 0 ? "primary" : "backup",
        role,
        roleEpoch: app?.epoch ?? null,
        status: app?.status ?? "unknown",
        statusDetail: app?.statusDetail ?? "",
        hostConnection: live ? live.state : "unknown",
        // Only while the host is not connected (what its last known values date from): a connected host's
        // heartbeat moves twice a second, and in the view it made every view computed again differ from
        // the last one sent (issue 15: 2,000 views pushed for nothing). The web tier's reads fill it in.
        lastHeartbeatAt: live && live.state !== "connected" ? live.lastHeartbeatAt : null,
        // A process that is not running has no readiness: what it reported before it stopped is stale.
        readyForSwitchover: processDown ? null : (app?.readiness?.readyForSwitchover ?? null),
        readyForUpgrade: processDown ? null : (app?.readiness?.readyForUpgrade ?? null),
        notReadyReasons: processDown ? [] : (app?.readiness?.notReadyReasons ?? []),
        haLink: processDown ? "down" : (app?.haLink ?? "unknown"),
        sipListener: app?.sipListener ?? "unknown",
        oosBackoff: app?.oosBackoff ?? 1,
        vip,
        failure: failureOf(app?.status ?? "unknown", lastOutputOf(ref.appName)),
        version: versionOf(ref.appName),
        vipObserved: seen ? { present: seen.present, at: new Date(seen.checkedAt), detail: seen.detail } : null,
      };
    });
    const mismatch = vipLive.mismatches.get(pair.id);
    const splitBrain = servers.filter((s) => s.role === "primary").length > 1;
    const blockers: string[] = [];
    // What even a forced switchover is refused for (the controller's operatorSwitchover); readiness and
    // the HA link are what forcing overrides.
    const hard: string[] = [];
    if (ps?.plan) hard.push("a switchover is already in progress");
    for (const s of servers) {
      if (s.hostConnection !== "connected") hard.push(`host ${s.hostName} of ${s.name} is ${s.hostConnection}`);
    }
    const primaries = servers.filter((s) => s.role === "primary");
    if (primaries.length !== 1) hard.push(primaries.length === 0 ? "no server of the pair is primary" : "both servers are primary");
    for (const s of servers) {
      if (primaries.length === 1 && s !== primaries[0] && s.status !== "running") hard.push(`${s.name} cannot take over: its process is ${s.status}`);
    }
    blockers.push(...hard);
    for (const s of servers) {
      if (s.readyForSwitchover !== 1) {
        blockers.push(s.notReadyReasons.length ? `${s.name} is not ready: ${s.notReadyReasons.join("; ")}` : `${s.name} has not reported readiness`);
      }
      if (pair.haType !== "single-host" && s.haLink !== "up") blockers.push(`${s.name}: HA link is ${s.haLink}`);
    }
    const noPrimary = !servers.some((s) => s.role === "primary");
    const severity =
      (splitBrain ? 8 : 0) +
      (noPrimary ? 8 : 0) +
      servers.filter((s) => s.hostConnection !== "connected").length * 4 +
      servers.filter((s) => s.status !== "running").length * 2 +
      staleHosts.size * 2 +
      (mismatch ? 4 : 0) +
      (ps?.activeAlarms.length ?? 0) +
      // Unprotected: the controller does not fail it over while it lasts.
      (ps?.maintenance ? 4 : 0);
    return {
      id: pair.id,
      name: pair.name,
      haType: pair.haType,
      epoch: ps?.epoch ?? 0,
      situation: ps?.situation ?? "the controller is not running",
      servers,
      splitBrain,
      plan: ps?.plan
        ? {
            title: planTitles[ps.plan.cause],
            cause: ps.plan.cause,
            from: servers.find((s) => s.appId === ps.plan!.fromAppId)?.name ?? null,
            to: servers.find((s) => s.appId === ps.plan!.toAppId)?.name ?? null,
            forced: ps.plan.forced,
            steps: ps.plan.steps.map((st) => ({
              label:
                st.command.type === "set-role"
                  ? `${servers.find((s) => s.appId === (st.command as { appId: string }).appId)?.name ?? "?"} → ${(st.command as { role: string }).role}`
                  : `${st.command.action} ${st.command.target === "vip" ? "VIP" : "NLB port"} on ${servers.find((s) => state?.apps[s.appId]?.hostId === st.command.hostId)?.hostName ?? "?"}`,
              status: st.status,
              note: st.note,
            })),
          }
        : null,
      hold: ps?.hold
        ? {
            cause: ps.hold.cause,
            from: servers.find((s) => s.appId === ps.hold!.fromAppId)?.name ?? "?",
            to: servers.find((s) => s.appId === ps.hold!.toAppId)?.name ?? "?",
            unsyncedCalls: state?.apps[ps.hold.toAppId]?.readiness?.unsyncedCalls ?? null,
            since: new Date(ps.hold.sinceMs),
            until: new Date(ps.hold.untilMs),
          }
        : null,
      maintenance: ps?.maintenance
        ? { by: ps.maintenance.by, reason: ps.maintenance.reason, since: new Date(ps.maintenance.sinceMs), until: ps.maintenance.untilMs !== null ? new Date(ps.maintenance.untilMs) : null }
        : null,
      // Alarm keys are "kind:subject-id"; people read the kind and the name of what it is about.
      activeAlarms: (ps?.activeAlarms ?? []).map((key) => {
        const [kind = key, subject = ""] = key.split(":");
        const named = pair.apps.find((a) => a.appId === subject)?.appName ?? pair.apps.find((a) => a.hostId === subject)?.hostName;
        return `${kind.replaceAll("-", " ")}${named ? ` (${named})` : ""}`;
      }),
      vipMismatch: mismatch ? { since: new Date(mismatch.sinceMs), expectedHost: mismatch.expectedHost, hosts: mismatch.hosts, text: mismatch.text } : null,
      severity,
      switchoverBlockers: [...new Set(blockers)],
      forceable: blockers.length > 0 && hard.length === 0,
    };
  });
  return views.sort((a, b) => b.severity - a.severity || byName.compare(a.name, b.name));
}
