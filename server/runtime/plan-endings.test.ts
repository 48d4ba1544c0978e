// Unit tests of planEndings: which plans ended in a step and how, from the core's state before and
// after it (the facts /metrics counts and times).
import { describe, expect, it } from "vitest";
import type { ControllerCommand, ControllerEvent, ControllerState, Plan } from "../controller/core";
import { planEndings, planKindOf } from "./plan-endings";

const plan = (over: Partial<Plan> = {}): Plan => ({ epoch: 5, cause: "primary-failed", fromAppId: "a1", toAppId: "a2", startedAtMs: 1_000, forced: false, steps: [], ...over });

function state(p: Plan | null, nowMs: number, withPair = true): ControllerState {
  return {
    nowMs,
    pairs: withPair ? { p1: { name: "pair-1" } } : {},
    pairStates: withPair ? { p1: { plan: p } } : {},
  } as unknown as ControllerState;
}

const tick: ControllerEvent = { type: "tick", atMs: 0 } as ControllerEvent;

describe("planEndings", () => {
  it("W2: a failover plan that is gone completed; its duration is decision → end on the controller's clock", () => {
    expect(planEndings(state(plan(), 1_000), state(null, 1_750), [], tick)).toEqual([
      { pairId: "p1", pairName: "pair-1", kind: "failover", cause: "primary-failed", forced: false, epoch: 5, outcome: "completed", startedAtMs: 1_000, endedAtMs: 1_750 },
    ]);
  });

  it("a plan still there (same epoch and start) has not ended, whatever its steps did", () => {
    expect(planEndings(state(plan(), 1_000), state(plan({ steps: [] }), 1_500), [], tick)).toEqual([]);
  });

  it("a plan that left a switchover-failed alarm was abandoned", () => {
    const alarm: ControllerCommand = { type: "raise-alarm", kind: "switchover-failed", pairId: "p1", text: "abandoned" } as ControllerCommand;
    expect(planEndings(state(plan({ cause: "operator" }), 0), state(null, 60_001), [alarm], tick)[0]).toMatchObject({ kind: "switchover", outcome: "abandoned" });
  });

  it("a plan replaced by a newer one was superseded; one dropped with its pair or by a configuration change was cancelled", () => {
    expect(planEndings(state(plan(), 0), state(plan({ epoch: 6, startedAtMs: 2_000 }), 2_000), [], tick)[0]?.outcome).toBe("superseded");
    expect(planEndings(state(plan(), 0), state(null, 10, false), [], tick)[0]?.outcome).toBe("cancelled");
    expect(planEndings(state(plan(), 0), state(null, 10), [], { type: "config-loaded", atMs: 10, pairs: [] } as ControllerEvent)[0]?.outcome).toBe("cancelled");
  });

  it("names plans the way operators do: switchover, failover, VIP repair", () => {
    expect(planKindOf("operator")).toBe("switchover");
    expect(planKindOf("bind-failure")).toBe("failover");
    expect(planKindOf("split-brain")).toBe("failover");
    expect(planKindOf("stale-vip")).toBe("vip");
    expect(planKindOf("adoption")).toBe("vip");
  });
});
