// Deterministic simulation of the control plane: many seeded fault schedules run through production's
// shell, host liveness and command tracker around the pure core, invariants checked after every step.
// Replay one seed with `SEED=<n> npx vitest run server/simulation` (prints its trace); change the
// count with `SEEDS=<count>`. Deliberately broken cores and shells show that the invariants bite.
import { describe, expect, it } from "vitest";
import { createStep, decisionRules, step, type StepFunction } from "../controller/core";
import { ControllerShell, type OutgoingCommand } from "../runtime/shell";
import type { Liveness, LivenessOptions, SweepResult } from "../agents/liveness";
import { runSeed, type SimParts, type SimResult } from "./world";

const seedCount = Number(process.env.SEEDS ?? 10_000);
const onlySeed = process.env.SEED !== undefined ? Number(process.env.SEED) : null;
// Generous: a limit so a hung run fails instead of blocking CI, never a timing assertion.
const runLimitMs = 1_800_000;

function report(r: SimResult, parts: SimParts = {}): string {
  const replay = runSeed({ seed: r.seed, trace: true, ...parts });
  return [
    `seed ${r.seed}: ${r.violation}`,
    `replay: SEED=${r.seed} npx vitest run server/simulation`,
    `faults: ${r.faults.join("; ")}`,
    "trace (last 250 steps):",
    ...replay.trace.slice(-250),
  ].join("\n");
}

/** Runs seeds from 1 and returns the first one whose run breaks an invariant. */
function firstViolation(parts: SimParts, seeds: number[]): SimResult | null {
  for (const seed of seeds) {
    const r = runSeed({ seed, ...parts });
    if (r.violation) return r;
  }
  return null;
}

function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

/** A shell that believes any host about any application (no trust per host). */
class TrustingShell extends ControllerShell {
  protected override own(_hostName: string, appName: string): { hostId: string; appId: string } | null {
    const app = this.directory.appsByName.get(appName);
    return app ? { hostId: app.hostId, appId: app.id } : null;
  }
}

/** A shell that starts a server in the role its configuration gives it (how a restarted primary claimed primary). */
class ConfiguredRoleShell extends ControllerShell {
  protected override wireCommand(...args: Parameters<ControllerShell["wireCommand"]>): OutgoingCommand | null {
    const out = super.wireCommand(...args);
    if (!out || out.command.type !== "start") return out;
    const configuredPrimary = this.pairConfigs.some((p) => p.apps[0].appId === out.appId);
    return { ...out, command: { ...out.command, role: configuredPrimary ? "primary" : "backup" } };
  }
}

/** The naive liveness the gateway had: silent for the timeout → lost, whatever the console itself did. */
class NaiveLiveness implements Liveness {
  private readonly heardAt = new Map<string, number>();
  private readonly lost = new Set<string>();
  constructor(private readonly opts: LivenessOptions) {}
  connected(host: string, nowMs: number): void {
    this.heardAt.set(host, nowMs);
    this.lost.delete(host);
  }
  heard(host: string, nowMs: number): boolean {
    this.heardAt.set(host, nowMs);
    return this.lost.delete(host);
  }
  sweep(nowMs: number): SweepResult {
    const lost = [...this.heardAt].filter(([h, t]) => !this.lost.has(h) && nowMs - t > this.opts.heartbeatTimeoutMs).map(([host, t]) => ({ host, silentMs: nowMs - t }));
    for (const l of lost) this.lost.add(l.host);
    return { lost, stalledMs: null, held: null, released: [] };
  }
}

describe("control plane under deterministic simulation", () => {
  it(
    onlySeed !== null ? `holds every invariant for seed ${onlySeed}` : `holds every invariant for ${seedCount} seeds`,
    () => {
      if (onlySeed !== null) {
        const r = runSeed({ seed: onlySeed, trace: true });
        console.log([`seed ${onlySeed}: ${r.violation ?? "no violation"} (${r.steps} steps, ${r.roleOrders} role orders)`, `faults: ${r.faults.join("; ")}`, ...r.trace].join("\n"));
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

  describe("bites: broken cores are caught", () => {
    it("a core that skips the demotion of a returning primary (W3)", () => {
      const step = createStep(decisionRules.filter((r) => r.name !== "resolve split brain"));
      const caught = firstViolation({ step }, range(1, 1_000));
      expect(caught, "the broken core survived 1000 seeds").not.toBeNull();
      expect(caught!.violation).toMatch(/split brain in pair-\d not resolved|both primary under epoch/);
    });

    it("a core that ignores readiness (W12)", () => {
      const ignoresReadiness: StepFunction = (state, event) => {
        if (event.type !== "operator-switchover" || event.force) return step(state, event);
        const r = step(state, { ...event, force: true, reason: "readiness ignored" });
        // Report the accepted plan as unforced, as a core that skipped the readiness check would.
        const ps = r.state.pairStates[event.pairId];
        if (ps?.plan) ps.plan = { ...ps.plan, forced: false };
        return r;
      };
      const caught = firstViolation({ step: ignoresReadiness }, range(1, 3_000));
      expect(caught, "the broken core survived 3000 seeds").not.toBeNull();
      expect(caught!.violation).toMatch(/unforced switchover of pair-\d ordered while/);
    });

    it("a core that promotes without bumping the epoch", () => {
      const noEpochBump: StepFunction = (state, event) => {
        const r = step(state, event);
        const commands = r.commands.map((c) => (c.type === "set-role" && c.role === "primary" ? { ...c, epoch: state.pairStates[c.pairId]!.epoch } : c));
        return { ...r, commands };
      };
      const caught = firstViolation({ step: noEpochBump }, range(1, 1_000));
      expect(caught, "the broken core survived 1000 seeds").not.toBeNull();
      expect(caught!.violation).toMatch(/primary under epoch|two primaries ordered|no history row|without an order of that epoch/);
    });
  });

  describe("bites: broken shells are caught", () => {
    it("a shell that believes a host about another host's applications", () => {
      const caught = firstViolation({ shell: (o) => new TrustingShell(o) }, range(1, 1_000));
      expect(caught, "the trusting shell survived 1000 seeds").not.toBeNull();
      expect(caught!.violation).toMatch(/a message from host-\S+ changed the state of sip-\S+, an application of host-/);
    });

    it("a gateway that reads the console's own stall as host loss", () => {
      const caught = firstViolation({ liveness: (o) => new NaiveLiveness(o) }, range(1, 1_000));
      expect(caught, "the naive liveness survived 1000 seeds").not.toBeNull();
      expect(caught!.violation).toMatch(/failed over although neither its servers nor its hosts had any fault/);
    });

    it("a shell that starts a server in its configured role (a restarted primary claims primary)", () => {
      const caught = firstViolation({ shell: (o) => new ConfiguredRoleShell(o) }, range(1, 2_000));
      expect(caught, "the configured-role shell survived 2000 seeds").not.toBeNull();
      expect(caught!.violation).toMatch(/claims primary at epoch \d+ without an order of that epoch|both primary under epoch/);
    });
  });
});
