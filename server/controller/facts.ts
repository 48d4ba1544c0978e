// Facts: what an event tells the controller (a connection, a status, a role, readiness, a command's
// outcome), applied to the state before any rule decides. Reports older than the last one applied
// are ignored; a report about an application from a host that is not its own is refused.
import { appName, hostName, isHostConnected, isProcessDown, isRecovering, pairStateOf, vipWord } from "./predicates";
import type { AppState, ControllerEvent, ControllerState, PairState } from "./types";
import { forgetWhatTheAppSaid, loadPairs } from "./state";
import type { Out } from "./context";
import { findPlanned, acknowledgeRole, skipOrdersToDownApp, markStaleVip } from "./plans";

// ───────────────────────────── facts: applying an event ─────────────────────────────

export function applyEvent(s: ControllerState, e: ControllerEvent, out: Out): string {
  switch (e.type) {
    case "config-loaded": {
      const removed = loadPairs(s, e.pairs, {});
      return `configuration loaded: ${e.pairs.length} pair(s)${removed.length ? `, ${removed.length} removed` : ""}`;
    }
    case "agent-connected": {
      const host = s.hosts[e.hostId];
      if (!host) return `ignored connection of unknown host ${e.hostId}`;
      host.connection = "connected";
      host.sinceMs = s.nowMs;
      // What the apps said before is stale; the agent resyncs them now.
      for (const app of Object.values(s.apps)) if (app.hostId === e.hostId) forgetWhatTheAppSaid(app);
      return `${e.hostId} connected; waiting for its resync`;
    }
    case "agent-disconnected": {
      const host = s.hosts[e.hostId];
      if (!host) return `ignored disconnection of unknown host ${e.hostId}`;
      host.connection = "disconnected";
      host.sinceMs = s.nowMs;
      return `${e.hostId} disconnected${e.detail ? ` (${e.detail})` : ""}`;
    }
    case "application-status": {
      const app = reportingApp(s, e.hostId, e.appId);
      if (typeof app === "string") return app;
      if (e.sentAtMs <= app.lastStatusSentAtMs) return `ignored an older status report from ${e.appId}`;
      app.lastStatusSentAtMs = e.sentAtMs;
      if (app.status !== e.status) app.statusSinceMs = s.nowMs;
      // A starting process is a new one: whatever the old one said about readiness went with it (the
      // agent may report the restart without the exit in between).
      if (e.status === "starting" && app.status !== "starting") {
        app.readiness = null;
        app.haLink = "unknown";
        app.pollFailingSinceMs = null;
      }
      app.status = e.status;
      app.statusHeard = true;
      app.statusDetail = e.detail ?? "";
      if (e.oosBackoff !== undefined) app.oosBackoff = e.oosBackoff;
      else if (e.status === "running") app.oosBackoff = 1;
      if (isProcessDown(app)) {
        // The process is gone and its role with it: a restart reports afresh (often its configured
        // role at epoch 0), and a stale "primary" must not count as a second primary.
        app.role = null;
        app.epoch = null;
        // Its readiness went with it: a restarted server is not ready until it says so (a stale
        // "ready" from before a crash would let a failover skip the hold for its resync).
        app.readiness = null;
        app.haLink = "unknown";
        app.pollFailingSinceMs = null;
        skipOrdersToDownApp(s, app);
      }
      return `${e.appId} reported ${e.status}${e.detail ? ` (${e.detail})` : ""}`;
    }
    case "role-report": {
      const app = reportingApp(s, e.hostId, e.appId);
      if (typeof app === "string") return app;
      if (e.sentAtMs <= app.lastRoleSentAtMs) return `ignored an older role report from ${e.appId}`;
      app.lastRoleSentAtMs = e.sentAtMs;
      // A server binds its SIP listener for the role it has: a report from the other role says nothing (W7).
      if (app.role !== e.role) app.sipListener = "unknown";
      const ps = pairStateOf(s, app.pairId);
      // W10: the primary went backup at an epoch where nobody ordered it to: it gave the role up itself.
      const selfDemoted = app.role === "primary" && e.role === "backup" && e.epoch <= ps.epoch && !ordersRole(ps, e.appId, "backup");
      if (selfDemoted) app.selfDemotedAtMs = s.nowMs;
      if (e.role === "primary" && ordersRole(ps, e.appId, "primary")) app.selfDemotedAtMs = null;
      app.role = e.role;
      app.epoch = e.epoch;
      app.unresponsiveSinceMs = null;
      // Our epoch can only be behind if persistence was lost; never order below what a server holds.
      if (e.epoch > ps.epoch) ps.epoch = e.epoch;
      acknowledgeRole(ps, e.appId, e.role, e.epoch);
      return `${e.appId} reported ${e.role} (epoch ${e.epoch})${selfDemoted ? ", a role it took by itself" : ""}`;
    }
    case "readiness-report": {
      const app = reportingApp(s, e.hostId, e.appId);
      if (typeof app === "string") return app;
      if (e.sentAtMs <= app.lastReadinessSentAtMs) return `ignored an older readiness report from ${e.appId}`;
      app.lastReadinessSentAtMs = e.sentAtMs;
      app.readiness = { readyForSwitchover: e.readyForSwitchover, readyForUpgrade: e.readyForUpgrade ?? null, notReadyReasons: e.notReadyReasons, unsyncedCalls: e.unsyncedCalls };
      if (e.pollFailed) {
        // The server did not answer: that says nothing about its link or listener, and it is no answer
        // to an order either. How long this lasts decides whether it counts as hung.
        app.pollFailingSinceMs ??= s.nowMs;
        return `${e.appId} did not answer its readiness poll (${e.notReadyReasons.join("; ")})`;
      }
      app.haLink = e.haLink;
      app.sipListener = e.sipListener;
      app.unresponsiveSinceMs = null;
      app.pollFailingSinceMs = null;
      return `${e.appId} reported readiness ${e.readyForSwitchover}, SIP listener ${e.sipListener}`;
    }
    case "control-script-result": {
      const ps = s.pairStates[e.pairId];
      if (!ps) return `ignored a script result for unknown pair ${e.pairId}`;
      const planned = findPlanned(ps, e.commandId);
      if (planned && (planned.status === "sent" || planned.status === "delivered")) {
        planned.status = e.ok ? "done" : "failed";
        planned.note = e.ok ? "" : `script failed${e.detail ? `: ${e.detail}` : ""}`;
      }
      if (e.action === "disable") {
        if (e.ok) ps.staleVips = ps.staleVips.filter((v) => v.hostId !== e.hostId);
        else markStaleVip(s, ps, e.hostId);
      }
      if (!e.ok) {
        const pair = s.pairs[e.pairId]!;
        out.commands.push({
          type: "raise-alarm",
          kind: "control-script-failed",
          pairId: e.pairId,
          hostId: e.hostId,
          text: `${e.action} script for the ${vipWord(pair)} failed on ${hostName(pair, e.hostId)}${e.detail ? `: ${e.detail}` : ""}`,
        });
      }
      return `${e.action} script on ${e.hostId} ${e.ok ? "succeeded" : "failed"}${e.detail ? ` (${e.detail})` : ""}`;
    }
    case "command-result": {
      for (const ps of Object.values(s.pairStates)) {
        const planned = findPlanned(ps, e.commandId);
        if (!planned || (planned.status !== "sent" && planned.status !== "delivered") || planned.command.type !== "set-role") continue;
        if (e.ok) {
          // Applied; the step is done when the role report says so (it carries the report ordering
          // the role needs), so only hold back the next re-send.
          planned.status = "delivered";
          planned.lastSentAtMs = s.nowMs;
          return `${planned.command.appId} accepted ${planned.command.role} (epoch ${planned.command.epoch}); waiting for its role report`;
        }
        if (e.heldEpoch !== undefined && e.heldEpoch > planned.command.epoch) {
          planned.status = "failed";
          planned.note = `${appName(s.pairs[ps.pairId]!, planned.command.appId)} refused epoch ${planned.command.epoch} because it holds epoch ${e.heldEpoch}`;
          if (e.heldEpoch > ps.epoch) ps.epoch = e.heldEpoch;
          return planned.note;
        }
        // Not a fencing refusal (e.g. "not running"): the retry on a later tick decides.
        return `${planned.command.appId} could not apply ${planned.command.role}${e.detail ? ` (${e.detail})` : ""}`;
      }
      return `ignored a result for command ${e.commandId} that is no longer awaited`;
    }
    case "command-timeout": {
      for (const ps of Object.values(s.pairStates)) {
        const planned = findPlanned(ps, e.commandId);
        if (planned && (planned.status === "sent" || planned.status === "delivered")) {
          // Due for a re-send at the next step, if the retry limit allows.
          planned.status = "sent";
          planned.lastSentAtMs = s.nowMs - s.timing.commandRetryIntervalMs;
          return `command ${e.commandId} timed out; it is re-sent if the retry limit allows`;
        }
      }
      return `ignored a timeout for command ${e.commandId} that is no longer awaited`;
    }
    case "command-delivered": {
      for (const ps of Object.values(s.pairStates)) {
        const planned = findPlanned(ps, e.commandId);
        if (planned && planned.status === "sent") {
          // The agent has it and runs it: no re-send while its result may still come.
          planned.status = "delivered";
          planned.lastSentAtMs = s.nowMs;
          return `command ${e.commandId} reached its agent`;
        }
      }
      return `command ${e.commandId} reached its agent (not part of a plan in progress)`;
    }
    case "host-resync": {
      const host = s.hosts[e.hostId];
      if (!host) return `ignored a resync of unknown host ${e.hostId}`;
      if (host.connection !== "connected") return `ignored a resync of ${e.hostId} while it is disconnected`;
      host.agentIncarnation = e.agentIncarnation;
      return `${e.hostId}'s agent (started ${e.agentIncarnation}) resynced`;
    }
    case "operator-application":
      return `${e.operator} asked to ${e.action} ${e.appId}`;
    case "operator-switchover":
      return `${e.operator} asked for a ${e.force ? "forced " : ""}switchover of ${e.pairId}`;
    case "operator-maintenance":
      return `${e.operator} asked to ${e.on ? "put" : "take"} ${e.pairId} ${e.on ? "in" : "out of"} maintenance`;
    case "console-stalled": {
      // The event's own time is after the stall: was the grace still running when the stall began?
      const stallBeganMs = e.atMs - e.stalledMs;
      const recovering = stallBeganMs < s.startedAtMs + s.timing.recoveryGraceMs + s.recoveryExtendedMs;
      if (recovering) s.recoveryExtendedMs += e.stalledMs;
      // A host that connected before the stall gets its resync wait back.
      for (const h of Object.values(s.hosts)) if (h.connection === "connected" && h.sinceMs > stallBeganMs - s.timing.resyncTimeoutMs) h.sinceMs += e.stalledMs;
      return `the console did not run for ${e.stalledMs} ms${recovering ? "; the recovery grace is extended by as much" : ""}; waits for agents get that time back`;
    }
    case "tick":
      return "tick: nothing to decide";
  }
}

/** Whether the plan in progress orders this application to this role. */
function ordersRole(ps: PairState, appId: string, role: "primary" | "backup"): boolean {
  return (ps.plan?.steps ?? []).some((st) => st.command.type === "set-role" && st.command.appId === appId && st.command.role === role);
}

function reportingApp(s: ControllerState, hostId: string, appId: string): AppState | string {
  const app = s.apps[appId];
  if (!app) return `ignored a report from unknown application ${appId}`;
  if (app.hostId !== hostId) return `ignored a report for ${appId} from ${hostId}, which is not its host`;
  // The gateway only forwards reports of connected agents; one racing a disconnect is stale.
  if (!isHostConnected(s, hostId)) return `ignored a report from ${appId} while ${hostId} is disconnected`;
  return app;
}

export function settleHostsAfterGrace(s: ControllerState, out: Out): void {
  if (isRecovering(s) || !s.hostsNeverSeen) return;
  s.hostsNeverSeen = false;
  for (const host of Object.values(s.hosts)) {
    if (host.connection !== "never") continue;
    host.connection = "disconnected";
    host.sinceMs = s.startedAtMs + s.timing.recoveryGraceMs + s.recoveryExtendedMs;
    out.decide(null, `${host.hostId} did not reconnect within the recovery grace of ${s.timing.recoveryGraceMs} ms; it counts as disconnected`);
  }
}
