// The pure failover decision core (the SCS role): step(state, event) → { state, commands, reason }.
// No I/O, no clock, no randomness: time arrives in events, effects leave as command data. The decision
// procedure for each pair reads top-down as named rules (see decisionRules and DECISIONS.md).
import { cloneState, cloneStateFor } from "./state";
import { Out, type Ctx, type DecisionRule } from "./context";
import { applyEvent, settleHostsAfterGrace } from "./facts";
import { decisionRules, operatorApplication, operatorMaintenance, operatorSwitchover, releaseUnexaminedHold } from "./rules";
import { syncAlarms } from "./alarms";
import { isRecovering, pairStateOf } from "./predicates";
import { findPlanned } from "./plans";
import type { ControllerEvent, ControllerState, StepResult } from "./types";

export * from "./types";
export { createControllerState, persistedPairView, persistedView, type CreateControllerStateOptions } from "./state";
export { roleStepsSettled } from "./plans";
export { decisionRules } from "./rules";
export type { DecisionRule, RuleOutcome } from "./context";

export type StepFunction = (state: ControllerState, event: ControllerEvent) => StepResult;

/** Builds a step function over a decision procedure (tests inject a broken one to show the simulation bites). */
export function createStep(rules: readonly DecisionRule[] = decisionRules): StepFunction {
  const inPlace = createStepInPlace(rules);
  return (state, event) => {
    // The pairs the event does not concern are shared with the given state: the step does not change them.
    const scope = pairsInScope(state, event);
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
export function createStepInPlace(rules: readonly DecisionRule[] = decisionRules): StepFunction {
  return (s, event) => {
    const scope = pairsInScope(s, event);
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
      runRules(ctx, rules);
      releaseUnexaminedHold(ctx);
      syncAlarms(ctx);
    }
    const reason = out.decisions.length > 0 ? out.decisions.map((d) => d.sentence).join("; ") : observation;
    return { state: s, commands: out.commands, reason, decisions: out.decisions, scope };
  };
}

/**
 * The pairs an event can concern: what it tells is about them (their applications, their hosts, their
 * commands), or an operator asked about them. Their rules run in this step; every other pair's state is
 * shared with the given state, unchanged, and its rules run at the next tick (every tickIntervalMs),
 * which is when a pair that no event concerns can have anything new to decide: time has passed. Ticks,
 * configuration, the console's stalls and the end of the recovery grace (hosts never heard of count as
 * disconnected) concern every pair. This keeps a report about one pair from costing work for all of
 * them (issue 15: 2,000 pairs).
 */
export function pairsInScope(s: ControllerState, e: ControllerEvent): readonly string[] | "all" {
  const nowMs = Math.max(s.nowMs, e.atMs);
  if (s.hostsNeverSeen && !isRecovering({ ...s, nowMs })) return "all";
  const pairOfApp = (appId: string) => {
    const pairId = s.apps[appId]?.pairId;
    return pairId !== undefined ? [pairId] : [];
  };
  const pairsOfHost = (hostId: string) => [...new Set(Object.values(s.apps).filter((a) => a.hostId === hostId).map((a) => a.pairId))];
  const pairOfCommand = (commandId: string) => Object.values(s.pairStates).filter((ps) => findPlanned(ps, commandId)).map((ps) => ps.pairId);
  switch (e.type) {
    case "tick":
    case "config-loaded":
    case "console-stalled":
      return "all";
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

function runRules(ctx: Ctx, rules: readonly DecisionRule[]): void {
  // A rule that acts may change what later rules see (a completed switchover, an abandoned one);
  // the bound keeps a buggy rule set from looping.
  for (const rule of rules) {
    const outcome = rule.decide(ctx);
    if (!outcome) continue;
    if (outcome.acted) ctx.out.decide(ctx.pair.id, outcome.sentence);
    if (outcome.stop) {
      ctx.ps.situation = outcome.sentence;
      return;
    }
  }
}

export const step: StepFunction = createStep();
/** step() without the copy: the state given is changed and returned (createStepInPlace). */
export const stepInPlace: StepFunction = createStepInPlace();
