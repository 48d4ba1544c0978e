// The pure failover decision core (the SCS role): step(state, event) → { state, commands, reason }.
// No I/O, no clock, no randomness: time arrives in events, effects leave as command data. The decision
// procedure for each pair reads top-down as named rules (see decisionRules and DECISIONS.md).
import { cloneState, cloneStateFor } from "./state";
import { Out, type Ctx, type DecisionRule } from "./context";
import { applyEvent, settleHostsAfterGrace } from "./facts";
import { decisionRules, operatorApplication, operatorMaintenance, operatorSwitchover, releaseUnexaminedHold } from "./rules";
import { syncAlarms } from "./alarms";
import { actsAsPrimary, isAwaitingResync, isRecovering, pairStateOf, recoveryEndsAtMs } from "./predicates";
import { findPlanned } from "./plans";
import type { ControllerEvent, ControllerState, StepResult } from "./types";

/** Which pairs a step runs the rules of (pairsInScope; the simulation checks ticks against everyPairOnTicks). */
export type ScopeFunction = (state: ControllerState, event: ControllerEvent) => readonly string[] | "all";

export * from "./types";
export { createControllerState, persistedPairView, persistedView, type CreateControllerStateOptions } from "./state";
export { roleStepsSettled } from "./plans";
export { decisionRules } from "./rules";
export type { DecisionRule, RuleOutcome } from "./context";

export type StepFunction = (state: ControllerState, event: ControllerEvent) => StepResult;

/** Builds a step function over a decision procedure (tests inject a broken one to show the simulation bites). */
export function createStep(rules: readonly DecisionRule[] = decisionRules, scopeOf: ScopeFunction = pairsInScope): StepFunction {
  const inPlace = createStepInPlace(rules, scopeOf);
  return (state, event) => {
    // The pairs the event does not concern are shared with the given state: the step does not change them.
    const scope = scopeOf(state, event);
    return inPlace(scope === "all" ? cloneState(state) : cloneStateFor(state, scope), event);
  };
}

/**
 * The same step, taking the state it is given as its own: it changes that state and returns it,
 * instead of a copy. For the one caller that owns its state and keeps no earlier one (the controller's
 * shell, server/runtime/shell.ts): copying thousands of pairs for every report cost more than the
 * decision (issue 15, 2,000 pairs). The decisions are the same as step()'s (the simulation runs this
 * one through the shell; core.test.ts compares the two).
 */
export function createStepInPlace(rules: readonly DecisionRule[] = decisionRules, scopeOf: ScopeFunction = pairsInScope): StepFunction {
  return (s, event) => {
    const scope = scopeOf(s, event);
    s.nowMs = Math.max(s.nowMs, event.atMs);
    const out = new Out();
    const observation = applyEvent(s, event, out);
    settleHostsAfterGrace(s, out);
    if (event.type === "operator-switchover") operatorSwitchover(s, event, out);
    if (event.type === "operator-application") operatorApplication(s, event, out);
    if (event.type === "operator-maintenance") operatorMaintenance(s, event, out);
    for (const pairId of scope === "all" ? Object.keys(s.pairs) : scope) {
      const pair = s.pairs[pairId];
      if (!pair) continue;
      const ctx: Ctx = { s, pair, ps: pairStateOf(s, pairId), out };
      const acted = runRules(ctx, rules);
      releaseUnexaminedHold(ctx);
      const keptAlarms = syncAlarms(ctx);
      ctx.ps.dueOnTick = acted || keptAlarms || waitsOnTime(s, pairId);
    }
    const reason = out.decisions.length > 0 ? out.decisions.map((d) => d.sentence).join("; ") : observation;
    return { state: s, commands: out.commands, reason, decisions: out.decisions, scope };
  };
}

/**
 * The pairs an event can concern: what it tells is about them (their applications, their hosts, their
 * commands), or an operator asked about them. Their rules run in this step; every other pair's state is
 * shared with the given state, unchanged. A tick concerns the pairs that were waiting on time at their
 * last decision, or whose last decision acted (dueOnTick; waitsOnTime: a plan, a hold, a stale VIP, an
 * alternation, a maintenance, a server starting, hung or resyncing, no serving primary): for any other
 * pair nothing changed but the clock, and none of its rules reads the clock in that situation, so
 * deciding it again would decide the same. A console stall concerns those same pairs and the pairs of
 * hosts whose resync wait it moved (every pair when it began during the recovery grace). Configuration,
 * the recovery grace and its end (hosts never heard of count as disconnected) concern every pair. This keeps a report about one pair, and each tick, from costing work for all of them (issue 15:
 * 2,000 pairs). The simulation checks every tick it runs against one that decides every pair
 * (everyPairOnTicks).
 */
export function pairsInScope(s: ControllerState, e: ControllerEvent): readonly string[] | "all" {
  const nowMs = Math.max(s.nowMs, e.atMs);
  if (s.hostsNeverSeen && !isRecovering({ ...s, nowMs })) return "all";
  const pairOfApp = (appId: string) => {
    const pairId = s.apps[appId]?.pairId;
    return pairId !== undefined ? [pairId] : [];
  };
  const pairsOfHost = (hostId: string) => {
    const ids: string[] = [];
    for (const pairId in s.pairs) if (s.pairs[pairId]!.apps.some((a) => a.hostId === hostId)) ids.push(pairId);
    return ids;
  };
  const pairOfCommand = (commandId: string) => Object.values(s.pairStates).filter((ps) => findPlanned(ps, commandId)).map((ps) => ps.pairId);
  switch (e.type) {
    case "tick":
      if (isRecovering({ ...s, nowMs })) return "all";
      return Object.keys(s.pairStates).filter((pairId) => s.pairStates[pairId]!.dueOnTick);
    case "config-loaded":
      return "all";
    case "console-stalled": {
      // What a stall changes (facts.ts): the recovery grace, if it ran (every pair), and the resync wait
      // of hosts that connected shortly before it. Those hosts' pairs, and the pairs waiting on time
      // (their waits moved on meanwhile), are decided; nothing changed for any other pair. Deciding
      // every pair here made each stall of a loaded console (2,000 pairs) longer by hundreds of ms.
      const stallBeganMs = e.atMs - e.stalledMs;
      if (stallBeganMs < recoveryEndsAtMs(s)) return "all";
      const moved = new Set<string>();
      for (const h of Object.values(s.hosts)) if (h.connection === "connected" && h.sinceMs > stallBeganMs - s.timing.resyncTimeoutMs) moved.add(h.hostId);
      return Object.keys(s.pairStates).filter((pairId) => s.pairStates[pairId]!.dueOnTick || s.pairs[pairId]?.apps.some((a) => moved.has(a.hostId)));
    }
    case "agent-connected":
    case "agent-disconnected":
    case "host-resync":
      return pairsOfHost(e.hostId);
    case "application-status":
    case "role-report":
    case "readiness-report":
    case "operator-application":
      return pairOfApp(e.appId);
    case "control-script-result":
    case "operator-switchover":
    case "operator-maintenance":
      return s.pairStates[e.pairId] ? [e.pairId] : [];
    case "command-result":
    case "command-timeout":
    case "command-delivered":
      return pairOfCommand(e.commandId);
  }
}

/** The old scope, kept for the simulation's check: every tick decides every pair. */
export const everyPairOnTicks: ScopeFunction = (s, e) => (e.type === "tick" ? "all" : pairsInScope(s, e));

/**
 * The pair has something that changes with time alone, so a tick may decide something new for it (the
 * rules that read the clock: plans' re-sends and deadlines, holds, stale-VIP retries, alternation waits,
 * the maintenance's end and its alarm, a first primary's startup wait, a hung server's poll timeout, a
 * resync's wait, a server that gave its role up). A pair with no serving primary is included whatever
 * the reason (rare, and its waits are several). Asked after each decision of the pair, at that
 * decision's time (dueOnTick): a wait that ends with time (a resync's) is then decided once more after
 * it ended.
 */
export function waitsOnTime(s: ControllerState, pairId: string): boolean {
  const ps = s.pairStates[pairId];
  const pair = s.pairs[pairId];
  if (!ps || !pair) return false;
  if (ps.plan || ps.hold || ps.maintenance || ps.alternations > 0 || ps.staleVips.length > 0) return true;
  let primaries = 0;
  for (const ref of pair.apps) {
    const app = s.apps[ref.appId];
    if (!app) continue;
    if (app.status === "starting" || app.pollFailingSinceMs !== null || app.selfDemotedAtMs !== null || app.sipListener === "bind-failed") return true;
    if (isAwaitingResync(s, app)) return true;
    if (actsAsPrimary(s, app)) primaries++;
  }
  return primaries !== 1;
}

/** Runs the pair's rules; returns whether one acted. */
function runRules(ctx: Ctx, rules: readonly DecisionRule[]): boolean {
  // A rule that acts may change what later rules see (a completed switchover, an abandoned one);
  // the bound keeps a buggy rule set from looping.
  let acted = false;
  for (const rule of rules) {
    const outcome = rule.decide(ctx);
    if (!outcome) continue;
    if (outcome.acted) {
      ctx.out.decide(ctx.pair.id, outcome.sentence);
      acted = true;
    }
    if (outcome.stop) {
      ctx.ps.situation = outcome.sentence;
      return acted;
    }
  }
  return acted;
}

export const step: StepFunction = createStep();
/** step() without the copy: the state given is changed and returned (createStepInPlace). */
export const stepInPlace: StepFunction = createStepInPlace();
/** step() with every pair decided on every tick (the simulation compares the two at each tick). */
export const stepEveryPairOnTicks: StepFunction = createStep(decisionRules, everyPairOnTicks);
