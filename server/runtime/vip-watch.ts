// Is each pair's VIP (or NLB port) where the controller wants it? The agents observe it on their hosts
// (`ip -o addr show`, the NLB presence script, the lab's file) and report every change; the controller
// decides where it should be (the host of its intended primary). This pure rule compares the two per
// host and keeps a `vip-mismatch` alarm per host that contradicts the intention for longer than a
// settle time, cancelled when it agrees again. Pure: the plane (server/control-plane/plane.ts) brings
// the controller's state, the observations and the clock, and carries the alarms to the alarm engine.
import type { HaType } from "../../protocol/vocabulary";
import type { ControllerState } from "../controller/core";
import type { HostLiveState } from "../agents/gateway";
import type { VipObservation } from "./app-runtime";

/**
 * How long a host's observation may contradict the intention before it is an alarm: longer than the
 * agent's presence check after a script (it checks right after every script, and every 2 s anyway)
 * and than the lag between a plan's last step and the report of its result, so a switchover that went
 * well never raises it. While a plan runs nothing is judged at all.
 */
export const VIP_MISMATCH_SETTLE_MS = 10_000;

/** One host of a pair, as far as its VIP goes. */
export interface VipCheckHost {
  hostName: string;
  /** The pair's server on this host. */
  appName: string;
  /** A disconnected host's observation is only its last known one: not judged. */
  connected: boolean;
  /** The controller knows the VIP may still be up here (W3 stale VIP) and is disabling it: not judged. */
  stale: boolean;
  /** What its agent last observed: null when the driver cannot tell, undefined when nothing was reported. */
  observed: boolean | null | undefined;
}

export interface VipCheckPair {
  pairId: string;
  pairName: string;
  haType: HaType;
  /** A plan moves the VIP step by step: until it ends the VIP may rightly be on neither host or both. */
  planInProgress: boolean;
  /** The host of the controller's intended primary; null until it decided on or adopted one. */
  intendedHost: string | null;
  hosts: readonly VipCheckHost[];
}

/**
 * The watch's input from what the control plane knows: the controller's pairs (intended primary, plan,
 * stale VIPs), the agents' connections and the VIP observations (keyed by pair name and host name).
 */
export function vipCheckPairs(state: ControllerState, hosts: readonly HostLiveState[], observations: readonly VipObservation[]): VipCheckPair[] {
  const connected = new Set(hosts.filter((h) => h.state === "connected").map((h) => h.hostName));
  const observed = new Map(observations.map((o) => [`${o.pair}|${o.hostName}`, o.present]));
  return Object.values(state.pairs)
    .filter((pair) => pair.haType !== "single-host")
    .map((pair): VipCheckPair => {
    const ps = state.pairStates[pair.id];
    const intended = pair.apps.find((a) => a.appId === ps?.intendedPrimaryAppId);
    const stale = new Set((ps?.staleVips ?? []).map((v) => v.hostId));
    return {
      pairId: pair.id,
      pairName: pair.name,
      haType: pair.haType,
      planInProgress: Boolean(ps?.plan),
      intendedHost: intended?.hostName ?? null,
      hosts: pair.apps.map((a) => ({ hostName: a.hostName, appName: a.appName, connected: connected.has(a.hostName), stale: stale.has(a.hostId), observed: observed.get(`${pair.name}|${a.hostName}`) })),
    };
  });
}

/** What one host's observation says against the intention, now. */
export type VipVerdict =
  | { kind: "match" }
  /** Nothing to judge by: the reason in words. */
  | { kind: "unknown"; why: string }
  /** The intended primary's host does not hold it. */
  | { kind: "missing" }
  /** A host that is not the intended primary's holds it (the primary's host may hold it too: a duplicate). */
  | { kind: "unexpected" };

export function vipWordOf(haType: HaType): string {
  return haType === "nlb-cluster" ? "NLB port" : "VIP";
}

/** The verdict for every host of a pair (none for a single-host pair: it has no VIP). */
export function vipVerdicts(p: VipCheckPair): Map<string, VipVerdict> {
  const out = new Map<string, VipVerdict>();
  if (p.haType === "single-host") return out;
  const known = (h: VipCheckHost): h is VipCheckHost & { observed: boolean } => h.connected && !h.stale && typeof h.observed === "boolean";
  const holders = p.hosts.filter((h) => known(h) && h.observed);
  for (const h of p.hosts) {
    if (p.planInProgress) out.set(h.hostName, { kind: "unknown", why: "a switchover is in progress" });
    else if (!h.connected) out.set(h.hostName, { kind: "unknown", why: `host ${h.hostName} is disconnected (last known only)` });
    else if (h.stale) out.set(h.hostName, { kind: "unknown", why: `the controller is disabling a stale ${vipWordOf(p.haType)} on ${h.hostName}` });
    else if (!known(h)) out.set(h.hostName, { kind: "unknown", why: h.observed === null ? `the agent on ${h.hostName} cannot tell` : `the agent on ${h.hostName} has not reported it yet` });
    else if (p.intendedHost === h.hostName) out.set(h.hostName, h.observed ? { kind: "match" } : { kind: "missing" });
    else if (p.intendedHost !== null) out.set(h.hostName, h.observed ? { kind: "unexpected" } : { kind: "match" });
    // No primary intended yet (first start, before adoption): only two holders at once is wrong.
    else if (h.observed && holders.length > 1) out.set(h.hostName, { kind: "unexpected" });
    else if (h.observed) out.set(h.hostName, { kind: "unknown", why: "no primary is intended yet" });
    else out.set(h.hostName, { kind: "match" });
  }
  return out;
}

/** A host whose observation contradicted the intention: since when, and whether the alarm is raised. */
export interface VipWatchEntry {
  status: "pending" | "raised";
  sinceMs: number;
  pairId: string;
  hostName: string;
  appName: string;
  kind: "missing" | "unexpected";
  /** The alarm's sentence (as raised). */
  text: string;
  /** The host is no longer judged (disconnected, a switchover runs): the raised alarm stands on its last observation. */
  lastKnown: boolean;
}

/**
 * Per `pairId|hostName`: "quiet" when judged as intended (no alarm can be active), an entry while it
 * contradicts the intention. A key that is absent was never judged since this watch started: its
 * alarm may still be active from before a restart, so its first match cancels it.
 */
export type VipWatchState = ReadonlyMap<string, "quiet" | VipWatchEntry>;

/** Raise or cancel the `vip-mismatch` alarm of the pair's server on this host. */
export interface VipAlarm {
  raise: boolean;
  pairId: string;
  pairName: string;
  hostName: string;
  appName: string;
  text: string;
}

/** A pair's raised mismatches, for its card: where the VIP should be and what each host shows. */
export interface PairVipMismatch {
  sinceMs: number;
  /** The intended primary's host; null when none is intended. */
  expectedHost: string | null;
  hosts: { hostName: string; server: string; expected: boolean; observed: boolean; lastKnown: boolean }[];
  /** The alarms' sentences, joined. */
  text: string;
}

export interface VipWatchStep {
  state: Map<string, "quiet" | VipWatchEntry>;
  alarms: VipAlarm[];
  /** By pair id, only pairs with a raised mismatch. */
  mismatches: Map<string, PairVipMismatch>;
}

const keyOf = (pairId: string, hostName: string) => `${pairId}|${hostName}`;

function mismatchText(p: VipCheckPair, h: VipCheckHost, kind: "missing" | "unexpected"): string {
  const vip = vipWordOf(p.haType);
  const intended = p.hosts.find((x) => x.hostName === p.intendedHost);
  if (kind === "missing") return `the ${vip} of ${p.pairName} is not on ${h.hostName}, where the intended primary ${h.appName} runs: its agent observes it absent`;
  if (intended) {
    const both = intended.connected && intended.observed === true ? ` as well as on ${intended.hostName}` : "";
    return `the ${vip} of ${p.pairName} is observed on ${h.hostName}${both}, though ${h.appName} there is not the intended primary (it belongs on ${intended.hostName} with ${intended.appName})`;
  }
  return `the ${vip} of ${p.pairName} is observed on ${h.hostName} and on another host at once, and no primary is intended yet`;
}

/**
 * One evaluation: the verdict of every host of every pair against what was pending or raised before.
 * A contradiction becomes an alarm once it has lasted `settleMs`; a match cancels a raised alarm (and,
 * the first time a host is judged, whatever alarm an earlier run left active); an unknown verdict keeps
 * a raised alarm as it is and forgets a pending one (its settle time starts again when it is known).
 * Pairs no longer configured cancel their raised alarms.
 */
export function stepVipWatch(prev: VipWatchState, pairs: readonly VipCheckPair[], nowMs: number, settleMs: number = VIP_MISMATCH_SETTLE_MS): VipWatchStep {
  const state = new Map<string, "quiet" | VipWatchEntry>();
  const alarms: VipAlarm[] = [];
  const mismatches = new Map<string, PairVipMismatch>();
  const seen = new Set<string>();
  for (const p of pairs) {
    const verdicts = vipVerdicts(p);
    for (const h of p.hosts) {
      const key = keyOf(p.pairId, h.hostName);
      seen.add(key);
      const before = prev.get(key);
      const verdict = verdicts.get(h.hostName) ?? { kind: "unknown", why: "no VIP" };
      const base = { pairId: p.pairId, pairName: p.pairName, hostName: h.hostName, appName: h.appName };
      if (verdict.kind === "match") {
        if (before === undefined || (before !== "quiet" && before.status === "raised")) {
          const where = h.observed ? `held by ${h.hostName}` : `not on ${h.hostName}`;
          alarms.push({ ...base, raise: false, text: `the ${vipWordOf(p.haType)} of ${p.pairName} is as intended again: ${where}` });
        }
        state.set(key, "quiet");
      } else if (verdict.kind === "unknown") {
        if (before !== undefined && before !== "quiet" && before.status === "raised") state.set(key, { ...before, lastKnown: true });
        else if (before !== undefined) state.set(key, "quiet");
      } else {
        const text = mismatchText(p, h, verdict.kind);
        // A host that goes on contradicting the intention keeps its start, whatever the contradiction.
        const sinceMs = before !== undefined && before !== "quiet" ? before.sinceMs : nowMs;
        const raised = before !== undefined && before !== "quiet" && before.status === "raised";
        const due = !raised && nowMs - sinceMs >= settleMs;
        if (due) alarms.push({ ...base, raise: true, text });
        state.set(key, { status: raised || due ? "raised" : "pending", sinceMs, pairId: p.pairId, hostName: h.hostName, appName: h.appName, kind: verdict.kind, text: raised ? (before as VipWatchEntry).text : text, lastKnown: false });
      }
      const now = state.get(key);
      if (now && now !== "quiet" && now.status === "raised") {
        const m = mismatches.get(p.pairId) ?? { sinceMs: now.sinceMs, expectedHost: p.intendedHost, hosts: [], text: "" };
        m.sinceMs = Math.min(m.sinceMs, now.sinceMs);
        m.hosts.push({ hostName: h.hostName, server: h.appName, expected: now.kind === "missing", observed: now.kind === "unexpected", lastKnown: now.lastKnown });
        m.text = m.text ? `${m.text}; ${now.text}` : now.text;
        mismatches.set(p.pairId, m);
      }
    }
  }
  for (const [key, before] of prev) {
    if (seen.has(key) || before === "quiet" || before.status !== "raised") continue;
    alarms.push({ raise: false, pairId: before.pairId, pairName: "", hostName: before.hostName, appName: before.appName, text: `the pair is no longer configured with ${before.appName} on ${before.hostName}` });
  }
  return { state, alarms, mismatches };
}
