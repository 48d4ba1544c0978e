// Which of the controller's plans ended in one step, and how: the facts /metrics counts (failovers and
// switchovers by kind and outcome) and times (decision → confirmed: plan start → plan end, on the
// controller's clock). Pure: a diff of the state before and after one step of the core, read by the
// shell, so the core keeps no bookkeeping for metrics. The core says what happened through its state
// and commands: a plan that is gone and left a switchover-failed alarm was abandoned; one replaced by
// another plan was superseded (its role orders were settled, only scripts were outstanding); one
// dropped by a configuration change was cancelled; any other plan that is gone completed.
import type { ControllerCommand, ControllerEvent, ControllerState, PlanCause } from "../controller/core";

export const planOutcomes = ["completed", "abandoned", "superseded", "cancelled"] as const;
export type PlanOutcome = (typeof planOutcomes)[number];

/** What an operator calls a plan: a switchover (asked for), a failover (the controller's own role change), or a VIP repair. */
export const planKinds = ["switchover", "failover", "vip"] as const;
export type PlanKind = (typeof planKinds)[number];

export function planKindOf(cause: PlanCause): PlanKind {
  if (cause === "operator") return "switchover";
  if (cause === "stale-vip" || cause === "adoption") return "vip";
  return "failover";
}

export interface PlanEnding {
  pairId: string;
  pairName: string;
  kind: PlanKind;
  cause: PlanCause;
  forced: boolean;
  epoch: number;
  outcome: PlanOutcome;
  startedAtMs: number;
  endedAtMs: number;
}

export function planEndings(before: ControllerState, after: ControllerState, commands: readonly ControllerCommand[], event: ControllerEvent): PlanEnding[] {
  const out: PlanEnding[] = [];
  for (const [pairId, ps] of Object.entries(before.pairStates)) {
    const plan = ps.plan;
    if (!plan) continue;
    const now = after.pairStates[pairId]?.plan ?? null;
    if (now && now.epoch === plan.epoch && now.startedAtMs === plan.startedAtMs && now.cause === plan.cause) continue;
    const abandoned = commands.some((c) => c.type === "raise-alarm" && c.kind === "switchover-failed" && c.pairId === pairId);
    const outcome: PlanOutcome = abandoned ? "abandoned" : !after.pairStates[pairId] || event.type === "config-loaded" ? "cancelled" : now ? "superseded" : "completed";
    out.push({
      pairId,
      pairName: after.pairs[pairId]?.name ?? before.pairs[pairId]?.name ?? pairId,
      kind: planKindOf(plan.cause),
      cause: plan.cause,
      forced: plan.forced,
      epoch: plan.epoch,
      outcome,
      startedAtMs: plan.startedAtMs,
      endedAtMs: after.nowMs,
    });
  }
  return out;
}
