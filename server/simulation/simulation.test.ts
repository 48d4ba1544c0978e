// Deterministic simulation test of the failover core: many seeded fault schedules, invariants checked
// after every step. Replay one seed with `SEED=<n> npx vitest run server/controller/sim` (prints its
// trace); change the count with `SEEDS=<count>`.
import { describe, expect, it } from "vitest";
import { createStep, decisionRules, step, type StepFunction } from "../core";
import { runSeed, type SimResult } from "./world";

const seedCount = Number(process.env.SEEDS ?? 10_000);
const onlySeed = process.env.SEED !== undefined ? Number(process.env.SEED) : null;
// Generous: a limit so a hung run fails instead of blocking CI, never a timing assertion.
const runLimitMs = 900_000;

function report(r: SimResult): string {
  const replay = runSeed({ seed: r.seed, trace: true });
  return [
    `seed ${r.seed}: ${r.violation}`,
    `replay: SEED=${r.seed} npx vitest run server/controller/sim`,
    `faults: ${r.faults.join("; ")}`,
    "trace (last 250 steps):",
    ...replay.trace.filter((l) => !l.includes("| tick: nothing")).slice(-250),
  ].join("\n");
}

/** Runs seeds from 1 and returns the first one whose run breaks an invariant. */
function firstViolation(stepFn: StepFunction | undefined, seeds: number[]): SimResult | null {
  for (const seed of seeds) {
    const r = runSeed({ seed, step: stepFn });
    if (r.violation) return r;
  }
  return null;
}

function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

describe("failover core under deterministic simulation", () => {
  it(
    onlySeed !== null ? `holds every invariant for seed ${onlySeed}` : `holds every invariant for ${seedCount} seeds`,
    () => {
      if (onlySeed !== null) {
        const r = runSeed({ seed: onlySeed, trace: true });
        console.log(
          [`seed ${onlySeed}: ${r.violation ?? "no violation"} (${r.steps} steps, ${r.roleOrders} role orders)`, `faults: ${r.faults.join("; ")}`, ...r.trace].join("\n"),
        );
        expect(r.violation).toBeNull();
        return;
      }
      let steps = 0;
      let roleOrders = 0;
      for (const seed of range(1, seedCount)) {
        const r = runSeed({ seed });
        steps += r.steps;
        roleOrders += r.roleOrders;
        if (r.violation) {
          console.error(report(r));
          expect.fail(`seed ${seed} broke an invariant: ${r.violation}`);
        }
      }
      console.log(`simulation: ${seedCount} seeds, ${steps} steps, ${roleOrders} role orders, no violation`);
    },
    runLimitMs,
  );

  it("replays a seed exactly (same trace twice)", () => {
    const a = runSeed({ seed: 4242, trace: true });
    const b = runSeed({ seed: 4242, trace: true });
    expect(a.trace.length).toBeGreaterThan(0);
    expect(b.trace).toEqual(a.trace);
  });

  it("bites: a core that skips the demotion of a returning primary (W3) is caught", () => {
    const noSplitBrainDemotion = createStep(decisionRules.filter((r) => r.name !== "resolve split brain"));
    const caught = firstViolation(noSplitBrainDemotion, range(1, 500));
    expect(caught, "the broken core survived 500 seeds").not.toBeNull();
    expect(caught!.violation).toMatch(/split brain in pair-\d not resolved|both primary under epoch/);
  });

  it("bites: a core that ignores readiness (W12) is caught", () => {
    const ignoresReadiness: StepFunction = (state, event) => {
      if (event.type !== "operator-switchover" || event.force) return step(state, event);
      const r = step(state, { ...event, force: true, reason: "readiness ignored" });
      // Report the accepted plan as unforced, as a core that skipped the readiness check would.
      const ps = r.state.pairStates[event.pairId];
      if (ps?.plan) ps.plan = { ...ps.plan, forced: false };
      return r;
    };
    const caught = firstViolation(ignoresReadiness, range(1, 2_000));
    expect(caught, "the broken core survived 2000 seeds").not.toBeNull();
    expect(caught!.violation).toMatch(/unforced switchover of pair-\d ordered while/);
  });

  it("bites: a core that promotes without bumping the epoch is caught", () => {
    const noEpochBump: StepFunction = (state, event) => {
      const r = step(state, event);
      const commands = r.commands.map((c) =>
        c.type === "set-role" && c.role === "primary" ? { ...c, epoch: state.pairStates[c.pairId]!.epoch } : c,
      );
      return { ...r, commands };
    };
    const caught = firstViolation(noEpochBump, range(1, 500));
    expect(caught, "the broken core survived 500 seeds").not.toBeNull();
    expect(caught!.violation).toMatch(/primary under epoch|two primaries ordered|no history row/);
  });
});
