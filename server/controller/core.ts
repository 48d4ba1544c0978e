// The pure failover decision core (the SCS role): step(state, event) → { state, commands, reason }.
// No I/O, no clock, no randomness: time arrives in events, effects leave as command data. The decision
// procedure for each pair reads top-down as named rules (see decisionRules and DECISIONS.md).
import { cloneState } from "./state";
import { Out, type Ctx, type DecisionRule } from "./context";
import { applyEvent, settleHostsAfterGrace } from "./facts";
import { decisionRules, operatorApplication, operatorMaintenance, operatorSwitchover, releaseUnexaminedHold } from "./rules";
import { syncAlarms } from "./alarms";
import { pairStateOf } from "./predicates";
import type { ControllerEvent, ControllerState, StepResult } from "./types";

export * from "./types";
export { createControllerState, persistedView, type CreateControllerStateOptions } from "./state";
export { roleStepsSettled } from "./plans";
export { decisionRules } from "./rules";
export type { DecisionRule, RuleOutcome } from "./context";

export type StepFunction = (state: ControllerState, event: ControllerEvent) => StepResult;

/** Builds a step function over a decision procedure (tests inject a broken one to show the simulation bites). */
export function createStep(rules: readonly DecisionRule[] = decisionRules): StepFunction {
  return (state, event) => {
    const s = cloneState(state);
    s.nowMs = Math.max(s.nowMs, event.atMs);
    const out = new Out();
    const observation = applyEvent(s, event, out);
    settleHostsAfterGrace(s, out);
    if (event.type === "operator-switchover") operatorSwitchover(s, event, out);
    if (event.type === "operator-application") operatorApplication(s, event, out);
    if (event.type === "operator-maintenance") operatorMaintenance(s, event, out);
    for (const pairId of Object.keys(s.pairs)) {
      const pair = s.pairs[pairId]!;
      const ctx: Ctx = { s, pair, ps: pairStateOf(s, pairId), out };
      runRules(ctx, rules);
      releaseUnexaminedHold(ctx);
      syncAlarms(ctx);
    }
    const reason = out.decisions.length > 0 ? out.decisions.map((d) => d.sentence).join("; ") : observation;
    return { state: s, commands: out.commands, reason, decisions: out.decisions };
  };
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
