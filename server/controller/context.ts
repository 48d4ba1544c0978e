// What the decision rules share while one step runs: the pair being decided, the step's output
// (commands and decision sentences), and the small helpers every rule uses.
import { actsAsPrimary, appOf } from "./predicates";
import { type AppState, type ControllerCommand, type ControllerState, type Decision, type PairConfig, type PairState } from "./types";

/** What a rule sees: the state being built by this step, the pair it decides for, and where its output goes. */
export interface Ctx {
  s: ControllerState;
  pair: PairConfig;
  ps: PairState;
  out: Out;
  /** A rule looked at the pair's held failover in this step (an unexamined hold has ended). */
  holdExamined?: boolean;
}

export class Out {
  commands: ControllerCommand[] = [];
  decisions: Decision[] = [];
  decide(pairId: string | null, sentence: string): void {
    this.decisions.push({ pairId, sentence });
  }
}

/** What a rule concluded: its sentence, whether it acted (a decision), and whether later rules may still run. */
export interface RuleOutcome {
  sentence: string;
  acted: boolean;
  stop: boolean;
}

export interface DecisionRule {
  name: string;
  /** null = the rule's question does not apply; ask the next rule. */
  decide: (ctx: Ctx) => RuleOutcome | null;
}

export function servingPrimaries(ctx: Ctx): AppState[] {
  return ctx.pair.apps.map((a) => appOf(ctx.s, a.appId)).filter((a) => actsAsPrimary(ctx.s, a));
}

export function history(ctx: Ctx, epoch: number, text: string): void {
  ctx.out.commands.push({ type: "record-history", pairId: ctx.pair.id, epoch, text });
}
