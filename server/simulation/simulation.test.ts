// Deterministic simulation of the control plane: many seeded fault schedules run through production's
// shell, host liveness and command tracker around the pure core, invariants checked after every step.
// Replay one seed with `SEED=<n> npx vitest run server/simulation` (prints its trace); change the
// count with `SEEDS=<count>`. Deliberately broken cores and shells show that the invariants bite.
import { describe, expect, it } from "vitest";
import { createStep, decisionRules, pairsInScope, step, type DecisionRule, type ScopeFunction, type StepFunction } from "../controller/core";
import { servingPrimaries, type Ctx } from "../controller/context";
import { appName, appOf, isCandidate, otherAppId, whyNotServing } from "../controller/predicates";
import { startPlan } from "../controller/plans";
import { ControllerShell, type OutgoingCommand } from "../runtime/shell";
import type { Liveness, LivenessOptions, SweepResult } from "../agents/liveness";
import { PendingCommands } from "../agents/pending-commands";
import type { CommandResult, GatewayCommand } from "../../protocol/agent-wire";
import { finalState, runSeed, SimWorld, type CallTotals, type LeaseTotals, type ScheduledFault, type SimOptions, type SimResult } from "./world";
import { stepLease } from "../leader/lease-core";

/** A run's parts and limits, without its seed. */
type RunOptions = Omit<SimOptions, "seed" | "trace">;

const seedCount = Number(process.env.SEEDS ?? 10_000);
const onlySeed = process.env.SEED !== undefined ? Number(process.env.SEED) : null;
// Generous: a limit so a hung run fails instead of blocking CI, never a timing assertion.
const runLimitMs = 1_800_000;

function report(r: SimResult, opts: RunOptions = {}): string {
  const replay = runSeed({ seed: r.seed, trace: true, ...opts });
  return [
    `seed ${r.seed}: ${r.violation}`,
    `replay: SEED=${r.seed} npx vitest run server/simulation`,
    `faults: ${r.faults.join("; ")}`,
    "trace (last 250 steps):",
    ...replay.trace.slice(-250),
  ].join("\n");
}

/**
 * The broken part is caught: some seed among these breaks the invariant `violation` names. Seeds that
 * break another one first are passed over (the core under test may have other faults of its own).
 */
function expectCaught(what: string, opts: RunOptions, seeds: number[], violation: RegExp): void {
  const caught = seeds.find((seed) => violation.test(runSeed({ seed, ...opts }).violation ?? ""));
  expect(caught, `${what} survived ${seeds.length} seeds`).toBeDefined();
}

function addCalls(into: CallTotals, r: CallTotals): void {
  into.established += r.established;
  into.lost += r.lost;
  for (const [cause, n] of Object.entries(r.lostBy)) into.lostBy[cause] = (into.lostBy[cause] ?? 0) + n;
}

function describeCalls(c: CallTotals): string {
  const by = Object.entries(c.lostBy)
    .sort(([, a], [, b]) => b - a)
    .map(([cause, n]) => `${cause} ${n}`)
    .join(", ");
  return `calls: ${c.established} established, ${c.lost} lost${by ? ` (${by})` : ""}`;
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

/** A command tracker that takes a result from whichever host sends it (how a host answered another host's commands). */
class AnyHostTracker extends PendingCommands<GatewayCommand> {
  private readonly sentTo = new Map<string, string>();
  override submit(hostName: string, command: GatewayCommand): Promise<CommandResult> {
    this.sentTo.set(command.id, hostName);
    return super.submit(hostName, command);
  }
  override settle(hostName: string, result: CommandResult): void {
    super.settle(this.sentTo.get(result.commandId) ?? hostName, result);
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

// ─── the W7 rule as it was before failovers waited for a ready backup (issue 18) ───
// Copied from server/controller/rules.ts (alternateOnBindFailure and alternationWait) as they stood
// when the soak lost 7,500 calls: the primary cannot bind its SIP port, so the role alternates to the
// backup after the alternation wait — whether or not the backup holds the primary's calls yet.

function todaysAlternationWait(ctx: Ctx): number {
  const { timing } = ctx.s;
  const intervalMs = Math.min(timing.alternationMaxIntervalMs, timing.bindAlternationIntervalMs * 2 ** Math.min(20, ctx.ps.alternations));
  const heldForMs = ctx.s.nowMs - (ctx.ps.lastRoleChangeAtMs ?? -Infinity);
  return Math.max(0, intervalMs - heldForMs);
}

const todaysAlternateOnBindFailure: DecisionRule = {
  name: "alternate the primary while it cannot bind its SIP port",
  decide(ctx) {
    const primary = servingPrimaries(ctx)[0];
    if (!primary || primary.sipListener !== "bind-failed") return null;
    const other = appOf(ctx.s, otherAppId(ctx.pair, primary.appId));
    const p = appName(ctx.pair, primary.appId);
    const o = appName(ctx.pair, other.appId);
    if (!isCandidate(ctx.s, other)) {
      return { sentence: `${p} cannot open its SIP listening port (00-04200) and ${o} cannot take over (${whyNotServing(ctx.s, ctx.pair, other)}); ${p} stays primary`, acted: false, stop: true };
    }
    const wait = todaysAlternationWait(ctx);
    if (wait > 0) {
      return {
        sentence: `${p} cannot open its SIP listening port (00-04200); it keeps the primary role ${Math.ceil(wait / 1000)} s more before it alternates to ${o}${ctx.ps.alternations > 0 ? ` (alternation ${ctx.ps.alternations + 1}: each waits twice as long as the last, up to ${ctx.s.timing.alternationMaxIntervalMs / 1000} s)` : ""}`,
        acted: false,
        stop: true,
      };
    }
    ctx.ps.alternations += 1;
    const epoch = ctx.ps.epoch + 1;
    const sentence = `${o} promoted to primary and ${p} demoted because ${p} cannot open its SIP listening port (00-04200); the primary role alternates until one can (alternation ${ctx.ps.alternations}, epoch ${epoch})`;
    startPlan(ctx, { cause: "bind-failure", fromAppId: primary.appId, toAppId: other.appId, demoteFirst: true, forced: false }, sentence);
    return { sentence, acted: true, stop: true };
  },
};

/** A run of a fixed fault schedule (the seed still draws the pairs), with the world to look inside. */
function scenario(seed: number, faults: ScheduledFault[]): { world: SimWorld; result: SimResult } {
  const world = new SimWorld({ seed, faults, trace: true });
  const result = { ...world.run(), seed };
  return { world, result };
}

describe("control plane under deterministic simulation", () => {
  it(
    onlySeed !== null ? `holds every invariant for seed ${onlySeed}` : `holds every invariant for ${seedCount} seeds`,
    () => {
      if (onlySeed !== null) {
        const r = runSeed({ seed: onlySeed, trace: true });
        console.log([`seed ${onlySeed}: ${r.violation ?? "no violation"} (${r.steps} steps, ${r.roleOrders} role orders; ${describeCalls(r.calls)})`, `faults: ${r.faults.join("; ")}`, ...r.trace].join("\n"));
        expect(r.violation).toBeNull();
        return;
      }
      let steps = 0;
      let roleOrders = 0;
      const calls: CallTotals = { established: 0, lost: 0, lostBy: {} };
      const lease: LeaseTotals = { leads: 0, stepDowns: 0, withheld: 0, refusedByTerm: 0 };
      // Every seed runs, so the totals and the list of seeds that broke an invariant are complete.
      const broken: SimResult[] = [];
      // Issue 19: how many agent restarts the seeds drew, and in how many a server died while its agent was down.
      let agentRestarts = 0;
      let diedWhileAgentDown = 0;
      for (const seed of range(1, seedCount)) {
        const r = runSeed({ seed });
        agentRestarts += r.faults.filter((f) => f.includes(" agent-restart ")).length;
        diedWhileAgentDown += r.faults.filter((f) => f.endsWith("(its agent is down)")).length;
        steps += r.steps;
        roleOrders += r.roleOrders;
        addCalls(calls, r.calls);
        for (const k of Object.keys(lease) as (keyof LeaseTotals)[]) lease[k] += r.lease[k];
        if (r.violation) broken.push(r);
      }
      console.log(
        `simulation: ${seedCount} seeds, ${steps} steps, ${roleOrders} role orders, ${broken.length} broke an invariant; ${describeCalls(calls)}; ` +
          `leadership: ${lease.leads} leads, ${lease.stepDowns} step-downs, ${lease.withheld} commands held back by the lease, ${lease.refusedByTerm} refused by agents by term; ` +
          `${agentRestarts} agent restarts, ${diedWhileAgentDown} with a server dying while its agent was down`,
      );
      if (broken.length > 0) {
        console.error([report(broken[0]!), `${broken.length} seed(s) broke an invariant:`, ...broken.slice(0, 30).map((r) => `  seed ${r.seed}: ${r.violation}`)].join("\n"));
      }
      expect(broken.map((r) => `seed ${r.seed}: ${r.violation}`)).toEqual([]);
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
      expectCaught("the broken core", { step }, range(1, 1_000), /split brain in pair-\d not resolved|both primary under epoch/);
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
      expectCaught("the broken core", { step: ignoresReadiness }, range(1, 3_000), /unforced switchover of pair-\d ordered while/);
    });

    it("a core that promotes without bumping the epoch", () => {
      const noEpochBump: StepFunction = (state, event) => {
        const r = step(state, event);
        const commands = r.commands.map((c) => (c.type === "set-role" && c.role === "primary" ? { ...c, epoch: state.pairStates[c.pairId]!.epoch } : c));
        return { ...r, commands };
      };
      expectCaught("the broken core", { step: noEpochBump }, range(1, 1_000), /primary under epoch|two primaries ordered|no history row|without an order of that epoch/);
    });

    it("a core that alternates on a bind failure before the backup holds the calls (W7, issue 18)", () => {
      expect(decisionRules.map((r) => r.name)).toContain(todaysAlternateOnBindFailure.name);
      const rules = decisionRules.map((r) => (r.name === todaysAlternateOnBindFailure.name ? todaysAlternateOnBindFailure : r));
      // Pairs holding 3,000–6,000 calls: a resync takes 4–7.5 s, so bind failures fall into one more often.
      const opts: RunOptions = { step: createStep(rules), limits: { initialCalls: [3_000, 6_000] } };
      expectCaught("the broken core", opts, range(1, 2_000), /pair-\d lost \d+ calls when sip-\S+ became primary at epoch \d+ \(bind-failure\): sip-\S+ held them and could have kept them/);
    });

    it("a core that ignores maintenance (issue 14: no automatic role change of a pair in maintenance)", () => {
      const step = createStep(decisionRules.filter((r) => r.name !== "observe only while the pair is in maintenance"));
      expectCaught("the broken core", { step }, range(1, 2_000), /is in maintenance since epoch \d+, yet sip-\S+ was ordered to (primary|backup) at epoch \d+ by the controller itself/);
    });
  });

  describe("bites: a tick that leaves out a pair waiting on time is caught", () => {
    it("a core whose ticks forget the pairs holding a failover for readiness", () => {
      const forgetsHolds: ScopeFunction = (s, e) => {
        const scope = pairsInScope(s, e);
        return e.type === "tick" && scope !== "all" ? scope.filter((id) => !s.pairStates[id]?.hold) : scope;
      };
      const opts: RunOptions = { step: createStep(decisionRules, forgetsHolds), checkTicks: true };
      expectCaught("the broken core", opts, range(1, 2_000), /a tick that decided .* differs in .* from one that decided every pair/);
    });
  });

  describe("both servers of a pair cannot bind (W7 hold-down, issue 11)", () => {
    it("a minute of both failing: the role alternates a handful of times, each wait twice the last up to the cap, every invariant held", () => {
      const failMs = 60_000;
      const world = new SimWorld({
        seed: 5,
        trace: true,
        limits: { faultWindowMs: failMs + 5_000 },
        faults: [
          { atMs: 1_000, fault: { kind: "bind-fail", app: "sip-1a", durationMs: failMs } },
          { atMs: 1_000, fault: { kind: "bind-fail", app: "sip-1b", durationMs: failMs } },
        ],
      });
      const result = { ...world.run(), seed: 5 };
      expect(result.violation, report(result)).toBeNull();
      // Each new epoch's promotion of pair-1 while both failed (re-sends of one order are one alternation).
      const promotions = new Map<number, number>();
      for (const c of world.commandsRun) {
        const m = /^set-role sip-1[ab] primary e(\d+)/.exec(c.command);
        if (m && c.atMs < 1_000 + failMs && !promotions.has(Number(m[1]))) promotions.set(Number(m[1]), c.atMs);
      }
      const at = [...promotions.values()];
      // The first at once, then 4 s, 8 s, 16 s, 32 s (capped at 60 s): a handful in a minute. Every 2 s it
      // was thirty; before the SERVICE_UNAVAILABLE that a server without its SIP port reports was left to
      // the W7 rule, the W4 switch flipped the role between the alternations (ten in this minute).
      expect(at.length).toBeGreaterThanOrEqual(3);
      expect(at.length).toBeLessThanOrEqual(5);
      const { bindAlternationIntervalMs, alternationMaxIntervalMs } = finalState(world)!.timing;
      // (Simulated time, measured where the agents ran the orders: a few ms from where the core counted.)
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      const seen = `promotions at ${at.map((t) => t - at[0]!).join(", ")} ms`;
      for (const [i, gap] of gaps.entries()) {
        expect(gap, seen).toBeGreaterThanOrEqual(Math.min(alternationMaxIntervalMs, bindAlternationIntervalMs * 2 ** i));
        if (i > 0) expect(gap, seen).toBeGreaterThanOrEqual(1.5 * gaps[i - 1]!);
      }
    });
  });

  describe("console high availability (issue 17)", () => {
    it("a leader frozen past its lease wakes, steps down before it commands, and none of its commands runs", () => {
      const pauseAt = 2_000;
      const wakeAt = pauseAt + 12_000;
      // A primary crashes while the leader is frozen: the failover is the next leader's.
      const { world, result } = scenario(1, [
        { atMs: pauseAt, fault: { kind: "leader-pause", durationMs: wakeAt - pauseAt } },
        { atMs: 2_500, fault: { kind: "crash", app: "sip-1a", durationMs: 3_000 } },
      ]);
      expect(result.violation, report(result)).toBeNull();
      const [first, next, wake] = world.leadership;
      expect(first).toMatchObject({ instance: "console-1", kind: "lead", term: 1 });
      // Another instance took the lease once it expired by the database's clock, while console-1 slept.
      expect(next).toMatchObject({ kind: "lead", term: 2 });
      expect(next!.instance).not.toBe("console-1");
      expect(next!.atMs).toBeGreaterThan(pauseAt + world.leaseTiming.ttlMs - world.leaseTiming.safetyMarginMs);
      expect(next!.atMs).toBeLessThan(wakeAt);
      // The first thing console-1 does on waking is to step down.
      expect(wake).toMatchObject({ instance: "console-1", kind: "step-down", term: 1, atMs: wakeAt });
      // Nothing of term 1 ran once console-1 froze (beyond what was on the wire then); term 2 did the failover.
      expect(world.commandsRun.filter((c) => c.term === 1 && c.atMs > pauseAt + 300)).toEqual([]);
      expect(world.commandsRun.filter((c) => c.term === 2).map((c) => c.command)).toContain("set-role sip-1b primary e1");
    });

    it("a leader crash in the middle of a switchover: the next leader completes it, one primary throughout", () => {
      // Seed 2: pair-1 is ip-takeover. The switchover's demotion has run when the leader dies, its promotion has not.
      const { world, result } = scenario(2, [
        { atMs: 3_000, fault: { kind: "switchover", pair: "pair-1", force: false, durationMs: 0 } },
        { atMs: 3_006, fault: { kind: "leader-crash", durationMs: 8_000 } },
      ]);
      expect(world.pairs[0]).toMatchObject({ id: "pair-1", haType: "ip-takeover" });
      // One primary per epoch and no claim without an order: checked after every step.
      expect(result.violation, report(result)).toBeNull();
      const ran = world.commandsRun.map((c) => `t${c.term} ${c.command}`);
      expect(ran).toContain("t1 set-role sip-1a backup e1");
      expect(ran.filter((c) => c.includes("sip-1b primary"))).toEqual(["t2 set-role sip-1b primary e2"]);
      expect(world.leadership.filter((l) => l.kind === "lead").map((l) => [l.instance !== "console-1", l.term])).toEqual([
        [false, 1],
        [true, 2],
      ]);
      expect(world.servers.get("sip-1b")).toMatchObject({ role: "primary", epoch: 2 });
      expect(world.servers.get("sip-1a")).toMatchObject({ role: "backup" });
    });

    it("whatever the pair's HA type, a switchover cut by the leader's crash after its demotion is completed, not undone (seeds 2-21)", () => {
      // The new leader decides once the agents' resyncs complete its picture: the target's readiness must
      // be in it (shell.ts sends a resync's readiness before its status and role), or it promoted the old
      // primary back (seeds 3-7 and 10 did, before).
      for (let seed = 2; seed <= 21; seed++) {
        const { world, result } = scenario(seed, [
          { atMs: 3_000, fault: { kind: "switchover", pair: "pair-1", force: false, durationMs: 0 } },
          { atMs: 3_006, fault: { kind: "leader-crash", durationMs: 8_000 } },
        ]);
        expect(result.violation, report(result)).toBeNull();
        const promoted = world.commandsRun.filter((c) => /^set-role sip-1. primary/.test(c.command)).map((c) => c.command);
        expect(promoted.every((c) => c.startsWith("set-role sip-1b primary")), `seed ${seed} (${world.pairs[0]!.haType}): ${promoted.join(", ")}`).toBe(true);
        expect(world.servers.get("sip-1b"), `seed ${seed}`).toMatchObject({ role: "primary" });
      }
    });

    it("a lease core that steps down only when a renewal is refused (not when its own deadline passes) is caught", () => {
      const trustsItsLease: typeof stepLease = (state, input, timing) => {
        // It pushes its deadline on as long as nobody told it otherwise.
        if (state.role === "leader" && input.kind === "tick" && input.nowMs >= state.validUntilMs) state = { ...state, validUntilMs: input.nowMs + timing!.ttlMs };
        return stepLease(state, input, timing);
      };
      expectCaught("the trusting lease core", { lease: trustsItsLease }, range(1, 1_000), /may command at term \d+ by its clock, but the database's lease is console-\d's/);
    });

    it("a lease core that counts its validity from the answer's arrival instead of the attempt's sending is caught", () => {
      const fromArrival: typeof stepLease = (state, input, timing) => {
        const r = stepLease(state, input, timing);
        if (input.kind !== "answer" || !input.won || r.state.role !== "leader") return r;
        return { ...r, state: { ...r.state, validUntilMs: Math.max(r.state.validUntilMs, input.nowMs + timing!.ttlMs - timing!.safetyMarginMs) } };
      };
      // A lossy network for most of each run: database answers are sometimes seconds late there.
      const lossy: ScheduledFault[] = [{ atMs: 500, fault: { kind: "lossy", durationMs: 14_000 } }];
      expectCaught("the late-counting lease core", { lease: fromArrival, faults: lossy }, range(1, 1_000), /may command at term \d+ by its clock, but the database's lease is console-\d's/);
    });

    it("a runner that saves and sends without asking the lease (a deposed leader writes over its successor) is caught", () => {
      expectCaught("the runner", { asksLease: false }, range(1, 3_000), /saved epoch \d+ of pair-\d over epoch \d+|two primaries ordered under epoch/);
    });
  });

  describe("host agent restarts (issue 19): the servers keep running under their keepers", () => {
    const restartAt = 3_000;
    // Shorter than the heartbeat timeout (2 s here) with the agent's cycle on either side: the host is not lost.
    const downMs = 800;
    /** Where a server of the seed's world runs (the seed draws the pairs and hosts). */
    const hostOf = (seed: number, app: string) => new SimWorld({ seed }).servers.get(app)!.host;
    const roleCommands = (world: SimWorld, fromMs: number) => world.commandsRun.filter((c) => c.atMs >= fromMs && /^(set-role|start|stop) /.test(c.command)).map((c) => `${c.atMs} ${c.command}`);

    it("an agent restart with its servers running changes nothing: no role order, the same roles and epochs (seeds 1-20)", () => {
      for (let seed = 1; seed <= 20; seed++) {
        const host = hostOf(seed, "sip-1a");
        const { world, result } = scenario(seed, [{ atMs: restartAt, fault: { kind: "agent-restart", host, durationMs: downMs } }]);
        expect(result.violation, report(result)).toBeNull();
        // The agent did go down and come back, as a new process, while its servers ran on.
        expect(world.trace.some((l) => l.includes(`agent on ${host} back (incarnation 2)`)), `seed ${seed}`).toBe(true);
        expect(roleCommands(world, restartAt), `seed ${seed}`).toEqual([]);
        const quiet = scenario(seed, []).world;
        for (const app of ["sip-1a", "sip-1b"]) {
          const { role, epoch, proc } = world.servers.get(app)!;
          const q = quiet.servers.get(app)!;
          expect({ role, epoch, proc }, `seed ${seed} ${app}`).toEqual({ role: q.role, epoch: q.epoch, proc: q.proc });
        }
      }
    });

    it("a primary that dies while its agent is down: the pair fails over once the agent is back, and the server runs again as backup (seeds 1-20)", () => {
      for (let seed = 1; seed <= 20; seed++) {
        const host = hostOf(seed, "sip-1a");
        const backAt = restartAt + downMs;
        const { world, result } = scenario(seed, [
          { atMs: restartAt, fault: { kind: "agent-restart", host, durationMs: downMs } },
          // Dies 200 ms into the agent's absence; whatever made it die is gone 100 ms later (still before the agent is back).
          { atMs: restartAt + 200, fault: { kind: "crash", app: "sip-1a", durationMs: 100 } },
        ]);
        expect(result.violation, report(result)).toBeNull();
        const promotions = world.commandsRun.filter((c) => /^set-role sip-1. primary/.test(c.command));
        // Nobody could know of the exit until the agent was back (the host was never silent long enough to be lost).
        expect(promotions.map((c) => c.command), `seed ${seed}`).toEqual([expect.stringMatching(/^set-role sip-1b primary e\d+$/)]);
        expect(promotions[0]!.atMs, `seed ${seed}`).toBeGreaterThanOrEqual(backAt);
        expect(world.servers.get("sip-1b"), `seed ${seed}`).toMatchObject({ role: "primary", proc: "running" });
        // Started again (by its restart policy or by an operator) as backup, never claiming primary on its own.
        expect(world.servers.get("sip-1a"), `seed ${seed}`).toMatchObject({ role: "backup", proc: "running" });
      }
    });

    it("a promotion that waited for an agent that restarted, then abandoned, is not sent when the agent is back (seed 6401 of 10,000)", () => {
      // host-1b's agent restarts (its socket closes: the console holds commands for it), the leader is cut
      // off from every agent, sip-1b dies meanwhile. Once the hosts count as lost the controller orders
      // sip-1b to primary, then abandons that (host-1b is lost too) and keeps sip-1a. Before, the held
      // promotion still went out when host-1b's agent reconnected: a second primary, 533 calls lost.
      const { world, result } = scenario(6401, [
        { atMs: 747, fault: { kind: "agent-restart", host: "host-1b", durationMs: 1330 } },
        { atMs: 969, fault: { kind: "agent-split", leader: true, instance: 0, durationMs: 5099 } },
        { atMs: 1412, fault: { kind: "crash", app: "sip-1b", durationMs: 5068 } },
        { atMs: 2208, fault: { kind: "burst", pair: "pair-1", calls: 2393, durationMs: 0 } },
      ]);
      expect(result.violation, report(result)).toBeNull();
      expect(world.trace.join("\n")).toMatch(/switchover of pair-1 to sip-1b \(epoch 1\) abandoned/);
      expect(world.commandsRun.filter((c) => c.command.startsWith("set-role sip-1b primary"))).toEqual([]);
    });
  });

  describe("bites: broken shells are caught", () => {
    it("a shell that believes a host about another host's applications", () => {
      expectCaught("the trusting shell", { shell: (o) => new TrustingShell(o) }, range(1, 1_000), /a message from host-\S+ changed the state of sip-\S+, an application of host-/);
    });

    it("a command tracker that takes a result from any host (a host answers another host's commands)", () => {
      // Forged results meet a command in flight to the victim's host rarely (seeds 631 and 895 of the first 1,000).
      expectCaught("the any-host tracker", { tracker: (o) => new AnyHostTracker(o) }, range(1, 1_000), /a result from host-\S+ settled .*, sent to host-/);
    }, runLimitMs);

    it("a gateway that reads the console's own stall as host loss", () => {
      expectCaught("the naive liveness", { liveness: (o) => new NaiveLiveness(o) }, range(1, 1_000), /failed over although neither its servers nor its hosts had any fault/);
    });

    it("a shell that starts a server in its configured role (a restarted primary claims primary)", () => {
      expectCaught("the configured-role shell", { shell: (o) => new ConfiguredRoleShell(o) }, range(1, 2_000), /claims primary at epoch \d+ without an order of that epoch|both primary under epoch/);
    });
  });
});
