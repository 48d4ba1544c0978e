// Deterministic simulation of the control plane as it runs: the real shell (server/runtime/shell.ts:
// wire messages in, persisted decisions and wire commands out), the real host liveness
// (server/agents/liveness.ts) and the real command tracker (server/agents/pending-commands.ts) around
// the real pure core — driven by simulated agents, SIP servers, network and clock, with a seeded fault
// schedule and the safety and liveness invariants checked after every step. One seed = one short run.
//
// The console is highly available (issue 17): several console instances share one database, and the
// one holding the leadership lease runs the controller. Each instance runs the real lease core
// (server/leader/lease-core.ts) against a simulated lease row updated by the real row rules
// (server/leader/lease-row.ts), with its own monotonic clock (offset and rate of its own) while the row
// is judged by the database's clock. On "lead" an instance starts a fresh controller from the persisted
// state (as a console restart does); on "step-down" it drops it at once. Its runner persists and sends
// only while mayCommand holds; commands carry its term, and agents refuse a term older than the highest
// they have seen. Agents connect only to an instance that leads (a follower names the holder it knows).
import type { GatewayCommand, AppStatusMessage, CommandResult, ReadinessReport, Resync, RoleReport } from "../../protocol/agent-wire";
import { haTypes, type ReportedProcessStatus } from "../../protocol/vocabulary";
import { PendingCommands, type PendingCommandsOptions } from "../agents/pending-commands";
import { HostLiveness, type Liveness, type LivenessOptions } from "../agents/liveness";
import { Directory } from "../config/directory";
import { ControllerShell, type ShellOptions, type ShellOutput } from "../runtime/shell";
import { step as realStep, stepEveryPairOnTicks, type ControllerState, type HaType, type PairConfig, type PersistedPairState, type Role, type StepFunction, type Timing } from "../controller/core";
import { isDeepStrictEqual } from "node:util";
import { Prng } from "./prng";
import { DEFAULT_LEASE_TIMING, initialLeaseState, mayCommand, stepLease, type LeaseAction, type LeaseInput, type LeaseState, type LeaseTiming } from "../leader/lease-core";
import { applyLeaseAttempt, EMPTY_LEASE_ROW, leaseInForce, type LeaseAttempt, type LeaseRow } from "../leader/lease-row";
import { CallBook } from "./calls";

// ───────────────────────────── limits of the simulated world ─────────────────────────────

export interface SimLimits {
  /** Faults start within this window; everything heals by its end. */
  faultWindowMs: number;
  /** Calm time after the fault window, during which the system must converge. */
  quietMs: number;
  /** The agents' heartbeat interval (and how often they report). */
  agentCycleMs: number;
  /** Every this many agent cycles the agent re-sends all reports even if unchanged (recovers lost ones). */
  fullReportEveryCycles: number;
  /** A server's start time (from spawn until it answers), and the slow starts some faults cause. */
  serverStartMs: number;
  slowStartMs: [number, number];
  /** The agent's restart policy: how long after a crash it starts the server again (as backup). */
  restartDelayMs: number;
  /** W13 readiness: HA link up for this long (60 s in SIP Server; shortened so runs stay short). */
  readyAfterMs: number;
  /** W6 effective out-of-service timeout before back-off (shortened). */
  oosTimeoutMs: number;
  /** Liveness: a reachable healthy server is primary within this long after the last disturbance. */
  primaryWithinMs: number;
  /** Split brain between two reachable servers ends within this long after the last disturbance. */
  splitBrainWithinMs: number;
  /** How often the gateway's liveness sweep runs (production: heartbeat timeout / 4, at most 250 ms). */
  sweepIntervalMs: number;
  /** Established calls each pair holds (synchronised) when the run starts, and how many a burst brings. */
  initialCalls: [number, number];
  burstCalls: [number, number];
  /**
   * W12 call sync after a (re)start: this many calls a batch, a batch every so often (800 calls/s: a
   * resync takes 1–8 s, and one of more than 3,200 calls outlasts the failover hold).
   */
  syncBatchCalls: number;
  syncBatchIntervalMs: number;
  /** How long an automatic failover whose primary keeps its calls may wait for an unready backup. */
  failoverHoldMs: number;
  /** Console instances sharing the database (issue 17); the lease's holder leads. */
  consoleInstances: number;
  /** A database round trip's each way, and (in lossy windows) a slow one's. */
  dbDelayMs: [number, number];
  slowDbDelayMs: [number, number];
  /** Each instance's monotonic clock runs at 1 ± up to this rate (the lease's margin covers it). */
  clockRateSpread: number;
  /** An agent that lost its console connects again after this long (to whichever instance leads). */
  agentReconnectMs: number;
  /** Liveness: after the last disturbance some instance leads within the lease TTL plus this. */
  leaderBoundMs: number;
}

export const DEFAULT_SIM_LIMITS: Readonly<SimLimits> = Object.freeze({
  faultWindowMs: 15_000,
  quietMs: 25_000,
  agentCycleMs: 500,
  fullReportEveryCycles: 4,
  serverStartMs: 300,
  slowStartMs: [2_000, 8_000] as [number, number],
  restartDelayMs: 300,
  readyAfterMs: 3_000,
  oosTimeoutMs: 2_000,
  primaryWithinMs: 20_000,
  splitBrainWithinMs: 6_000,
  sweepIntervalMs: 250,
  initialCalls: [0, 3_000] as [number, number],
  burstCalls: [500, 3_000] as [number, number],
  syncBatchCalls: 200,
  syncBatchIntervalMs: 250,
  failoverHoldMs: 4_000,
  consoleInstances: 3,
  dbDelayMs: [1, 15] as [number, number],
  slowDbDelayMs: [1_000, 6_000] as [number, number],
  clockRateSpread: 0.01,
  agentReconnectMs: 300,
  // Expiry seen by a follower's next attempt (one renew interval) plus slack for database round trips.
  leaderBoundMs: 3_000,
});

/** What a run uses in place of production's parts (tests inject deliberately broken ones). */
export interface SimParts {
  /** The core under test. */
  step?: StepFunction;
  /** Builds the shell (production: new ControllerShell). */
  shell?: (opts: ShellOptions) => ControllerShell;
  /** Builds the gateway's host liveness (production: new HostLiveness). */
  liveness?: (opts: LivenessOptions) => Liveness;
  /** Builds the gateway's command tracker (production: new PendingCommands). */
  tracker?: (opts: PendingCommandsOptions<GatewayCommand>) => PendingCommands<GatewayCommand>;
  /**
   * Check each tick of `step` against one that decides every pair (the same decisions, commands and
   * state): a tick decides only the pairs waiting on time (core.ts, waitsOnTime). On by default for
   * production's core; a test of a core with other rules turns it on itself.
   */
  checkTicks?: boolean;
  /** The lease core each console instance runs (production: stepLease). */
  lease?: typeof stepLease;
  /** Whether the runner saves and the gateway sends only while the lease's mayCommand holds (production: yes). */
  asksLease?: boolean;
}

export interface SimOptions extends SimParts {
  seed: number;
  trace?: boolean;
  limits?: Partial<SimLimits>;
  timing?: Partial<Timing>;
  leaseTiming?: Partial<LeaseTiming>;
  /** A fixed fault schedule in place of the seed's random one (targeted scenarios). */
  faults?: ScheduledFault[];
}

/** Leadership over a run: leads taken, step-downs, commands held back by the runner's mayCommand check, commands agents refused by term. */
export interface LeaseTotals {
  leads: number;
  stepDowns: number;
  withheld: number;
  refusedByTerm: number;
}

export interface SimResult {
  seed: number;
  violation: string | null;
  /** One line per step (only when tracing). */
  trace: string[];
  steps: number;
  faults: string[];
  roleOrders: number;
  calls: CallTotals;
  lease: LeaseTotals;
}

/** Calls established in a run (at the start and in bursts), and those lost, by cause. */
export interface CallTotals {
  established: number;
  lost: number;
  lostBy: Record<string, number>;
}

// ───────────────────────────── simulated entities ─────────────────────────────

interface SimServer {
  app: string;
  pair: string;
  host: string;
  configuredRole: Role;
  proc: "running" | "starting" | "failed" | "hung" | "stopped";
  role: Role;
  epoch: number;
  canBind: boolean;
  status: "running" | "service-unavailable";
  noTrafficSinceMs: number | null;
  oosBackoff: number;
  runningSinceMs: number;
  /** A start in progress ends at this time (the server then answers). */
  startedAtMs: number;
  slowStart: boolean;
  /** W10 tlib-nic-monitoring: while the NIC is down, the server gives up the primary role by itself. */
  nicDown: boolean;
  statusSinceMs: number;
  /**
   * It exited, or its restart policy came due, while its host's agent was down: the keeper holds the
   * exit, and the agent that comes back learns of it and applies the policy then (agent/DECISIONS.md §3).
   */
  restartWhenAgentBack: boolean;
}

interface SimHost {
  name: string;
  linkUp: boolean;
  sipNicUp: boolean;
  /** The agent process: its incarnation (restarts make a new one) and whether it is running. */
  agentUp: boolean;
  incarnation: number;
  /** The agent's socket session; equals the console's when connected. 0 = none. */
  session: number;
  /** The agent's command ledger: first result per command id (idempotency) and highest epoch per pair (fencing). */
  results: Map<string, CommandResult>;
  ledgerEpochs: Record<string, number>;
  vip: Record<string, boolean>;
  cycles: number;
  stamps: Record<string, number>;
  lastSent: Record<string, string>;
  /** When its agent last sent a heartbeat (the console's silence for this host starts there). */
  lastHeartbeatMs: number;
  /** The console instance and controller its socket is open with (null: none). */
  conn: { instance: number; instanceIncarnation: number; ctl: number } | null;
  /** When it last heard its console (acknowledged heartbeats); silence past the heartbeat timeout loses the connection. */
  consoleHeardMs: number;
  /** It connects again no sooner than this (after a lost connection). */
  reconnectAtMs: number;
  /** The instance it tries first: the last one it was connected to, or the holder a follower named. */
  leaderHint: number;
  /** The highest leadership term it has seen (its console's, or a command's), and the highest of a command it ran. */
  highestTerm: number;
  highestRunTerm: number;
}

type Up =
  | { kind: "connect" }
  | { kind: "heartbeat" }
  | { kind: "resync"; snapshot: Resync }
  | { kind: "app-status"; msg: AppStatusMessage }
  | { kind: "role-report"; msg: RoleReport }
  | { kind: "readiness"; msg: ReadinessReport }
  | { kind: "command-result"; result: CommandResult }
  | { kind: "receipt"; commandId: string };

type Fault =
  | { kind: "crash"; app: string; durationMs: number }
  | { kind: "slow-restart"; app: string; durationMs: number }
  | { kind: "hang"; app: string; durationMs: number }
  | { kind: "disconnect"; host: string; durationMs: number }
  | { kind: "sip-nic"; host: string; durationMs: number }
  | { kind: "nic-self-demotion"; app: string; durationMs: number }
  | { kind: "bind-fail"; app: string; durationMs: number }
  | { kind: "no-traffic"; pair: string; durationMs: number }
  | { kind: "lossy"; durationMs: number }
  /** The leading console instance's process restarts (down durationMs); then it is a follower that may take back its own lease. */
  | { kind: "console-restart"; durationMs: number }
  /** The leading instance is frozen (GC, blocked event loop, SIGSTOP): timers, lease keeper and controller. */
  | { kind: "console-stall"; durationMs: number }
  /** The leading instance dies, and starts again (as a follower) after durationMs. */
  | { kind: "leader-crash"; durationMs: number }
  /** The leading instance is frozen for about the lease TTL or longer (console-stall: mostly shorter). */
  | { kind: "leader-pause"; durationMs: number }
  /** An instance (the leader when `leader`) cannot reach the database, or cannot reach (or be reached by) the agents. */
  | { kind: "db-split"; leader: boolean; instance: number; durationMs: number }
  | { kind: "agent-split"; leader: boolean; instance: number; durationMs: number }
  | { kind: "agent-restart"; host: string; durationMs: number }
  | { kind: "forged"; from: string; victim: string; durationMs: 0 }
  | { kind: "switchover"; pair: string; force: boolean; durationMs: 0 }
  /** An operator puts the pair in maintenance, and ends it after durationMs — or it expires then by itself. */
  | { kind: "maintenance"; pair: string; expires: boolean; durationMs: number }
  | { kind: "burst"; pair: string; calls: number; durationMs: 0 };

/** A fault of a fixed schedule (SimOptions.faults). */
export type ScheduledFault = { atMs: number; fault: Fault };

type Item =
  /** ctl: the controller (its incarnation) whose socket carries it. */
  | { kind: "up"; host: string; session: number; ctl: number; payload: Up }
  /** term: the sending leader's, stamped on the command. */
  | { kind: "down"; host: string; session: number; term: number; command: GatewayCommand }
  | { kind: "console-tick"; incarnation: number }
  | { kind: "console-sweep"; incarnation: number }
  /** The instance's lease keeper runs (due: the instance-clock time it was scheduled for; a later schedule replaces it). */
  | { kind: "lease-tick"; instance: number; incarnation: number; due: number }
  /** The database runs an attempt; its answer goes back to the instance. */
  | { kind: "db-exec"; instance: number; incarnation: number; attempt: LeaseAttempt; sentAtMs: number }
  | { kind: "db-answer"; instance: number; incarnation: number; answer: { kind: "answer"; sentAtMs: number; won: boolean; lease: { holder: string | null; term: number } } | { kind: "failed"; sentAtMs: number; error: string } }
  | { kind: "instance-up"; instance: number; incarnation: number }
  | { kind: "agent-cycle"; host: string }
  | { kind: "fault"; fault: Fault }
  | { kind: "heal"; fault: Fault }
  | { kind: "agent-up"; host: string }
  | { kind: "started"; app: string; startedAtMs: number }
  | { kind: "restart-by-policy"; app: string };

interface Queued {
  atMs: number;
  seq: number;
  item: Item;
}

class Violation extends Error {}

function before(a: Queued, b: Queued): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

/** The console as the simulation runs it: production's shell, liveness and tracker, one leadership of one instance. */
interface SimConsole {
  incarnation: number;
  instance: SimInstance;
  /** The lease term it leads at (stamped on its commands). */
  term: number;
  /** Timeline rows of decisions that could not be saved, saved with the next one (as the runner keeps them). */
  unsavedHistory: NonNullable<ShellOutput["persist"]>["history"];
  shell: ControllerShell;
  liveness: Liveness;
  tracker: PendingCommands<GatewayCommand>;
  /** Host → the session the console has open with its agent (0: none). */
  sessions: Map<string, number>;
}

/** One console process of the highly available console. */
interface SimInstance {
  index: number;
  id: string;
  /** Process incarnation (0: never started); a restart makes a new one. */
  incarnation: number;
  alive: boolean;
  /** Frozen until then: nothing of it runs; what reaches it waits, in order. */
  pausedUntilMs: number;
  dbUp: boolean;
  agentsUp: boolean;
  /** Its monotonic clock: offset + rate × simulated time. */
  clockOffsetMs: number;
  clockRate: number;
  lease: LeaseState;
  /** The due time of its lease keeper's next run (older scheduled runs are dropped). */
  leaseTickDue: number;
  controller: SimConsole | null;
}

// ───────────────────────────── the world ─────────────────────────────

export class SimWorld {
  readonly rng: Prng;
  readonly limits: SimLimits;
  readonly tracing: boolean;
  readonly trace: string[] = [];
  readonly faults: string[] = [];
  private readonly timing: Partial<Timing>;
  private readonly parts: Required<SimParts>;
  nowMs = 0;
  steps = 0;
  roleOrders = 0;

  pairs: PairConfig[] = [];
  directory!: Directory;
  servers = new Map<string, SimServer>();
  hosts = new Map<string, SimHost>();
  noTraffic = new Set<string>();
  lossy = 0;

  /** The controller of the newest leadership (null: none runs); an older one may still exist on a frozen instance. */
  console: SimConsole | null = null;
  consoleIncarnation = 0;
  /** Every controller that exists, by incarnation. */
  private readonly controllers = new Map<number, SimConsole>();
  instances: SimInstance[] = [];
  /** The database: the lease row (judged by its clock: simulated time + dbOffsetMs) and what the console persisted. */
  leaseRow: LeaseRow = { ...EMPTY_LEASE_ROW };
  readonly dbOffsetMs: number;
  readonly leaseTiming: LeaseTiming;
  readonly leaseTotals: LeaseTotals = { leads: 0, stepDowns: 0, withheld: 0, refusedByTerm: 0 };
  /** One line per lead and step-down (tests look inside): instance, term, simulated time. */
  readonly leadership: { atMs: number; instance: string; kind: "lead" | "step-down"; term: number }[] = [];
  /** Every command an agent ran: its host, the term it carried, when. */
  readonly commandsRun: { atMs: number; host: string; term: number; command: string }[] = [];
  private leaderlessSinceMs: number | null = null;
  /** What the console persisted (survives console restarts). */
  persisted: Record<string, PersistedPairState> = {};
  nextSession = 1;

  // Invariant bookkeeping.
  /** pair:epoch → the application ordered to primary under it (orders leave only after persisting). */
  primaryOrders = new Map<string, string>();
  historyEpochs = new Map<string, Set<number>>();
  deliveredReadiness = new Map<string, { sentAtMs: number; ready: 0 | 1 }>();
  /** Pairs a fault of their own touched (a failover there may be right); others must never fail over. */
  disturbedPairs = new Set<string>();
  lastDisturbanceMs = 0;
  splitSinceMs = new Map<string, number>();
  noPrimarySinceMs = new Map<string, number>();

  /** Who holds which calls, the syncs in progress, and what was established and lost. */
  readonly calls: CallBook;
  /** pair → its two servers, the configured primary first. */
  private readonly pairServers = new Map<string, readonly [SimServer, SimServer]>();
  /** pair:epoch of every double-failure alarm the console raised (the epoch its state holds after that step). */
  doubleFailureAlarms = new Set<string>();
  /** pair:epoch of every switchover an operator forced. */
  forcedSwitchovers = new Set<string>();
  /** pair:epoch → why the console ordered a primary under that epoch (its plan's cause). */
  promotionCauses = new Map<string, string>();
  /**
   * Pairs in maintenance as the operator set it (the console accepted it): the pair's epoch then, and
   * when it expires (null: until the operator ends it). No role order of a newer epoch may leave for
   * such a pair unless an operator's switchover ordered it.
   */
  maintenance = new Map<string, { sinceEpoch: number; untilMs: number | null }>();

  private queue: Queued[] = [];
  private seq = 0;
  private readonly fixedFaults: ScheduledFault[] | null;

  constructor(opts: SimOptions) {
    this.rng = new Prng(opts.seed);
    this.limits = { ...DEFAULT_SIM_LIMITS, ...opts.limits };
    this.tracing = opts.trace ?? false;
    this.timing = opts.timing ?? {};
    this.parts = {
      step: opts.step ?? realStep,
      shell: opts.shell ?? ((o) => new ControllerShell(o)),
      liveness: opts.liveness ?? ((o) => new HostLiveness(o)),
      tracker: opts.tracker ?? ((o) => new PendingCommands<GatewayCommand>(o)),
      checkTicks: opts.checkTicks ?? opts.step === undefined,
      lease: opts.lease ?? stepLease,
      asksLease: opts.asksLease ?? true,
    };
    this.leaseTiming = { ...DEFAULT_LEASE_TIMING, ...opts.leaseTiming };
    this.dbOffsetMs = this.rng.int(0, 1_000_000_000);
    this.fixedFaults = opts.faults ?? null;
    this.calls = new CallBook({ batchCalls: this.limits.syncBatchCalls, batchIntervalMs: this.limits.syncBatchIntervalMs });
    this.build();
  }

  // ── scenario ──

  private build(): void {
    const rng = this.rng;
    const pairCount = rng.int(1, 3);
    const types: readonly HaType[] = haTypes;
    const hostRows: { id: string; name: string }[] = [];
    const appRows: { id: string; name: string; type: string; hostId: string; hostName: string }[] = [];
    for (let p = 1; p <= pairCount; p++) {
      const haType = rng.pick(types);
      const h1 = `host-${p}a`;
      const h2 = haType === "single-host" ? h1 : `host-${p}b`;
      const pair: PairConfig = {
        id: `pair-${p}`,
        name: `pair-${p}`,
        haType,
        scriptTimeoutMs: 2_000,
        failoverHoldMs: this.limits.failoverHoldMs,
        apps: [
          { appId: `sip-${p}a`, appName: `sip-${p}a`, hostId: h1, hostName: h1, startupTimeoutMs: 10_000 },
          { appId: `sip-${p}b`, appName: `sip-${p}b`, hostId: h2, hostName: h2, startupTimeoutMs: 10_000 },
        ],
      };
      this.pairs.push(pair);
      for (const [i, ref] of pair.apps.entries()) {
        const role: Role = i === 0 ? "primary" : "backup";
        this.servers.set(ref.appId, {
          app: ref.appId,
          pair: pair.id,
          host: ref.hostId,
          configuredRole: role,
          proc: "running",
          role,
          epoch: 0,
          canBind: true,
          status: "running",
          noTrafficSinceMs: null,
          oosBackoff: 1,
          // Readiness already earned at the start of the run.
          runningSinceMs: -this.limits.readyAfterMs,
          startedAtMs: -this.limits.readyAfterMs,
          slowStart: false,
          nicDown: false,
          restartWhenAgentBack: false,
          statusSinceMs: -this.limits.readyAfterMs,
        });
        appRows.push({ id: ref.appId, name: ref.appName, type: "sip-server", hostId: ref.hostId, hostName: ref.hostName });
        if (!this.hosts.has(ref.hostId)) {
          hostRows.push({ id: ref.hostId, name: ref.hostName });
          this.hosts.set(ref.hostId, {
            name: ref.hostId, linkUp: true, sipNicUp: true, agentUp: true, incarnation: 1, session: 0, results: new Map(), ledgerEpochs: {}, vip: {}, cycles: 0, stamps: {}, lastSent: {}, lastHeartbeatMs: 0,
            conn: null, consoleHeardMs: 0, reconnectAtMs: 0, leaderHint: 0, highestTerm: 0, highestRunTerm: 0,
          });
        }
        this.hosts.get(ref.hostId)!.vip[pair.id] = i === 0;
      }
      const [first, second] = pair.apps.map((r) => this.servers.get(r.appId)!) as [SimServer, SimServer];
      this.pairServers.set(pair.id, [first, second]);
      this.calls.openPair(pair.id, first.app, second.app, rng.int(...this.limits.initialCalls));
    }
    // In the simulation names are ids: the directory maps each to itself, as loadDirectory would.
    this.directory = new Directory({ hosts: hostRows, apps: appRows, pairs: this.pairs.map((p) => ({ id: p.id, name: p.name, appIds: p.apps.map((a) => a.appId) })) });
    this.startInstances();
    for (const [i, h] of [...this.hosts.keys()].entries()) this.schedule(1 + i * 37, { kind: "agent-cycle", host: h });

    if (this.fixedFaults) {
      for (const { atMs, fault } of this.fixedFaults) {
        this.faults.push(`${atMs}ms ${describeFault(fault)}`);
        this.schedule(atMs, { kind: "fault", fault });
      }
      return;
    }
    const faultCount = rng.int(2, 6);
    const apps = [...this.servers.keys()];
    const hostIds = [...this.hosts.keys()];
    for (let i = 0; i < faultCount; i++) {
      const at = rng.int(500, this.limits.faultWindowMs - 1_000);
      const maxDur = this.limits.faultWindowMs - at;
      const dur = rng.int(200, Math.max(300, Math.min(maxDur, 8_000)));
      const kind = rng.int(0, 22);
      let fault: Fault;
      switch (kind) {
        case 0:
          fault = { kind: "crash", app: rng.pick(apps), durationMs: dur };
          break;
        case 1:
          fault = { kind: "hang", app: rng.pick(apps), durationMs: dur };
          break;
        case 2:
          fault = { kind: "disconnect", host: rng.pick(hostIds), durationMs: dur };
          break;
        case 3:
          fault = { kind: "sip-nic", host: rng.pick(hostIds), durationMs: dur };
          break;
        case 4:
          fault = { kind: "bind-fail", app: rng.pick(apps), durationMs: dur };
          break;
        case 5:
          fault = { kind: "no-traffic", pair: rng.pick(this.pairs).id, durationMs: dur };
          break;
        case 6:
          fault = { kind: "lossy", durationMs: dur };
          break;
        case 7:
          fault = { kind: "console-restart", durationMs: rng.int(100, 2_000) };
          break;
        case 8:
          // Seconds without the console running: heartbeats wait in its socket buffers.
          fault = { kind: "console-stall", durationMs: rng.int(1_000, 6_000) };
          break;
        case 9:
          // The agent restarts (an upgrade, a crash) while its servers keep running; quicker than the heartbeat timeout.
          {
            const restart = { kind: "agent-restart" as const, host: rng.pick(hostIds), durationMs: rng.int(100, 1_500) };
            fault = restart;
            // Half of them (by the drawn duration, so no further draw shifts the other seeds' schedules):
            // a server of that host dies while its agent is down, and stays down for `dur` unless restarted.
            const ownApps = apps.filter((a) => this.servers.get(a)!.host === restart.host);
            if (restart.durationMs % 2 === 0 && ownApps.length > 0) {
              const crash: Fault = { kind: "crash", app: ownApps[at % ownApps.length]!, durationMs: dur };
              const crashAt = at + Math.floor(restart.durationMs / 2);
              this.faults.push(`${crashAt}ms ${describeFault(crash)} (its agent is down)`);
              this.schedule(crashAt, { kind: "fault", fault: crash });
            }
          }
          break;
        case 10: {
          const victim = rng.pick(apps);
          const others = hostIds.filter((h) => h !== this.servers.get(victim)!.host);
          fault = others.length ? { kind: "forged", from: rng.pick(others), victim, durationMs: 0 } : { kind: "lossy", durationMs: dur };
          break;
        }
        case 11:
          fault = { kind: "nic-self-demotion", app: rng.pick(apps), durationMs: dur };
          break;
        case 12:
          fault = { kind: "slow-restart", app: rng.pick(apps), durationMs: dur };
          break;
        case 17:
        case 18:
          fault = { kind: "maintenance", pair: rng.pick(this.pairs).id, expires: rng.chance(0.5), durationMs: dur };
          break;
        case 19:
          // Down past the lease TTL: another instance takes over.
          fault = { kind: "leader-crash", durationMs: rng.int(2_000, 10_000) };
          break;
        case 20: {
          const ttl = this.leaseTiming.ttlMs;
          fault = { kind: "leader-pause", durationMs: rng.int(Math.round(ttl / 2), 2 * ttl) };
          break;
        }
        case 21:
        case 22: {
          const leader = rng.chance(0.7);
          const instance = rng.int(0, this.limits.consoleInstances - 1);
          fault = kind === 21 ? { kind: "db-split", leader, instance, durationMs: dur } : { kind: "agent-split", leader, instance, durationMs: dur };
          break;
        }
        case 13:
        case 14:
          // Calls arrive on the pair's primary (replicated to its backup while the HA link is up).
          fault = { kind: "burst", pair: rng.pick(this.pairs).id, calls: rng.int(...this.limits.burstCalls), durationMs: 0 };
          break;
        default:
          fault = { kind: "switchover", pair: rng.pick(this.pairs).id, force: rng.chance(0.3), durationMs: 0 };
      }
      this.faults.push(`${at}ms ${describeFault(fault)}`);
      this.schedule(at, { kind: "fault", fault });
    }
  }

  // ── event queue ──

  private schedule(atMs: number, item: Item): void {
    const q = this.queue;
    q.push({ atMs, seq: this.seq++, item });
    for (let i = q.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(q[i]!, q[parent]!)) break;
      [q[i], q[parent]] = [q[parent]!, q[i]!];
      i = parent;
    }
  }

  /** The earliest item (by time, then by the order it was scheduled in): a binary heap, as runs queue thousands. */
  private popNext(): Queued | undefined {
    const q = this.queue;
    const top = q[0];
    const last = q.pop();
    if (top === undefined || last === undefined || q.length === 0) return top;
    q[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < q.length && before(q[l]!, q[m]!)) m = l;
      if (r < q.length && before(q[r]!, q[m]!)) m = r;
      if (m === i) break;
      [q[i], q[m]] = [q[m]!, q[i]!];
      i = m;
    }
    return top;
  }

  run(): SimResult {
    const endMs = this.limits.faultWindowMs + this.limits.quietMs;
    let violation: string | null = null;
    try {
      for (;;) {
        const q = this.popNext();
        if (!q || q.atMs > endMs) break;
        this.nowMs = q.atMs;
        this.steps++;
        const kind = q.item.kind;
        if (kind === "lease-tick" || kind === "db-exec" || kind === "db-answer") {
          // A lease step changes no server, host or call: unless a leadership began or ended, only
          // the lease is checked (the calls' sync catches up before the next step that changes anything).
          const changes = this.leaseTotals.leads + this.leaseTotals.stepDowns;
          this.process(q.item);
          if (changes === this.leaseTotals.leads + this.leaseTotals.stepDowns) {
            this.checkLease();
            continue;
          }
        } else {
          this.advanceCalls();
          this.process(q.item);
        }
        this.advanceCalls();
        this.checkInvariants();
      }
    } catch (e) {
      if (e instanceof Violation) violation = e.message;
      else throw e;
    }
    const calls = { established: this.calls.established, lost: this.calls.lost, lostBy: { ...this.calls.lostBy } };
    return { seed: 0, violation, trace: this.trace, steps: this.steps, faults: this.faults, roleOrders: this.roleOrders, calls, lease: { ...this.leaseTotals } };
  }

  private log(line: string): void {
    if (this.tracing) this.trace.push(`t=${this.nowMs} ${line}`);
  }

  private disturbed(pairs: string[] = []): void {
    this.lastDisturbanceMs = this.nowMs;
    for (const p of pairs) this.disturbedPairs.add(p);
  }

  private pairsOfHost(host: string): string[] {
    return this.pairs.filter((p) => p.apps.some((a) => a.hostId === host)).map((p) => p.id);
  }

  private iso(ms = this.nowMs): string {
    return new Date(ms).toISOString();
  }

  // ── processing one item ──

  private process(item: Item): void {
    this.expireMaintenance();
    // A frozen instance runs nothing: what reaches it waits, in order, until it runs again.
    const inst = this.instanceOf(item);
    if (inst && this.nowMs < inst.pausedUntilMs) {
      this.schedule(inst.pausedUntilMs, item);
      return;
    }
    switch (item.kind) {
      case "console-tick": {
        const c = this.controllers.get(item.incarnation);
        if (!c) return;
        if (this.parts.checkTicks) this.checkTick(c.shell.state);
        this.consoleInput({ kind: "tick" }, c);
        if (c.instance.controller === c) this.schedule(this.nowMs + c.shell.state.timing.tickIntervalMs, item);
        return;
      }
      case "console-sweep": {
        const c = this.controllers.get(item.incarnation);
        if (!c) return;
        this.sweep(c);
        if (c.instance.controller === c) this.schedule(this.nowMs + this.limits.sweepIntervalMs, item);
        return;
      }
      case "lease-tick": {
        const i = this.instances[item.instance]!;
        if (i.incarnation !== item.incarnation || !i.alive || i.leaseTickDue !== item.due) return;
        return this.leaseInput(i, { kind: "tick", nowMs: this.localNow(i) });
      }
      case "db-exec":
        return this.dbExec(item);
      case "db-answer": {
        const i = this.instances[item.instance]!;
        if (i.incarnation !== item.incarnation || !i.alive) return;
        return this.leaseInput(i, { ...item.answer, nowMs: this.localNow(i) });
      }
      case "instance-up": {
        const i = this.instances[item.instance]!;
        if (i.alive || i.incarnation !== item.incarnation) return;
        return this.startInstance(i);
      }
      case "agent-cycle":
        return this.agentCycle(item.host);
      case "up":
        return this.deliverUp(item.host, item.session, item.ctl, item.payload);
      case "down":
        return this.deliverDown(item.host, item.session, item.term, item.command);
      case "fault":
        return this.applyFault(item.fault);
      case "heal":
        return this.healFault(item.fault);
      case "agent-up": {
        const host = this.hosts.get(item.host)!;
        host.agentUp = true;
        host.incarnation += 1;
        host.session = 0; // a new process: it connects on its next cycle
        host.conn = null;
        this.log(`agent on ${item.host} back (incarnation ${host.incarnation})`);
        for (const srv of this.servers.values()) {
          if (srv.host !== item.host || !srv.restartWhenAgentBack) continue;
          srv.restartWhenAgentBack = false;
          // Its keeper kept the exit: the new agent reports it failed and its policy restarts it.
          if (srv.proc === "failed") this.schedule(this.nowMs + this.limits.restartDelayMs, { kind: "restart-by-policy", app: srv.app });
        }
        return;
      }
      case "started": {
        const srv = this.servers.get(item.app)!;
        if (srv.proc !== "starting" || srv.startedAtMs !== item.startedAtMs) return;
        srv.proc = "running";
        srv.status = "running";
        srv.noTrafficSinceMs = null;
        srv.oosBackoff = 1;
        srv.runningSinceMs = this.nowMs;
        this.setStatus(srv);
        this.log(`${srv.app} running as ${srv.role} e${srv.epoch}`);
        return;
      }
      case "restart-by-policy": {
        const srv = this.servers.get(item.app)!;
        const host = this.hosts.get(srv.host)!;
        if (srv.proc !== "failed") return;
        if (!host.agentUp) {
          srv.restartWhenAgentBack = true;
          return;
        }
        // The agent's restart policy: as backup, at the newest epoch it holds for the pair.
        this.startServer(srv, "backup", host.ledgerEpochs[srv.pair] ?? 0);
        return;
      }
    }
  }

  private startServer(srv: SimServer, role: Role, epoch: number): void {
    this.endProcess(srv, "restart"); // a process that starts holds no calls (none: it was down)
    srv.proc = "starting";
    srv.role = role;
    srv.epoch = epoch;
    srv.startedAtMs = this.nowMs;
    this.setStatus(srv);
    const ms = srv.slowStart ? this.rng.int(...this.limits.slowStartMs) : this.limits.serverStartMs;
    this.log(`${srv.app} starting as ${role} e${epoch}${srv.slowStart ? ` (slow: ${ms} ms)` : ""}`);
    this.schedule(this.nowMs + ms, { kind: "started", app: srv.app, startedAtMs: srv.startedAtMs });
  }

  private setStatus(srv: SimServer): void {
    srv.statusSinceMs = this.nowMs;
  }

  private applyFault(f: Fault): void {
    this.log(`FAULT ${describeFault(f)}`);
    switch (f.kind) {
      case "crash":
      case "slow-restart": {
        const srv = this.servers.get(f.app)!;
        this.disturbed([srv.pair]);
        if (srv.proc === "running" || srv.proc === "hung" || srv.proc === "starting") {
          this.endProcess(srv, "crash");
          srv.proc = "failed";
          srv.slowStart = f.kind === "slow-restart";
          this.setStatus(srv);
          // Its agent is down: the keeper holds the exit, and the next agent (restart counts start afresh
          // with it, so its policy has not given up) restarts it once it is back.
          if (!this.hosts.get(srv.host)!.agentUp) srv.restartWhenAgentBack = true;
        }
        break;
      }
      case "hang": {
        const srv = this.servers.get(f.app)!;
        this.disturbed([srv.pair]);
        if (srv.proc === "running") srv.proc = "hung";
        break;
      }
      case "disconnect":
        this.disturbed(this.pairsOfHost(f.host));
        this.hosts.get(f.host)!.linkUp = false;
        break;
      case "sip-nic":
        this.disturbed(this.pairsOfHost(f.host));
        this.hosts.get(f.host)!.sipNicUp = false;
        break;
      case "nic-self-demotion": {
        const srv = this.servers.get(f.app)!;
        this.disturbed([srv.pair]);
        srv.nicDown = true;
        break;
      }
      case "bind-fail": {
        const srv = this.servers.get(f.app)!;
        this.disturbed([srv.pair]);
        srv.canBind = false;
        break;
      }
      case "no-traffic":
        this.disturbed([f.pair]);
        this.noTraffic.add(f.pair);
        break;
      case "lossy":
        // A lossy network can lose heartbeats: any pair may rightly fail over.
        this.disturbed(this.pairs.map((p) => p.id));
        this.lossy++;
        break;
      case "console-restart":
      case "leader-crash": {
        // The console's own trouble: not a fault of any pair.
        this.disturbed();
        const leader = this.leaderInstance();
        if (!leader) return;
        this.crashInstance(leader);
        this.schedule(this.nowMs + f.durationMs, { kind: "instance-up", instance: leader.index, incarnation: leader.incarnation });
        return;
      }
      case "console-stall":
      case "leader-pause": {
        // The console's own trouble too: not a fault of any pair.
        this.disturbed();
        const leader = this.leaderInstance();
        if (!leader) return;
        leader.pausedUntilMs = Math.max(leader.pausedUntilMs, this.nowMs + f.durationMs);
        this.log(`${leader.id} frozen until t=${leader.pausedUntilMs}`);
        break;
      }
      case "db-split":
      case "agent-split": {
        const target = (f.leader ? this.leaderInstance() : null) ?? this.instances[f.instance % this.instances.length]!;
        f.instance = target.index;
        // Cut off from every agent, an instance that leads (now or before the heal) sees every host lost at once: any pair may rightly fail over.
        this.disturbed(f.kind === "agent-split" ? this.pairs.map((p) => p.id) : []);
        if (f.kind === "db-split") target.dbUp = false;
        else target.agentsUp = false;
        this.log(`${target.id} ${f.kind === "db-split" ? "cannot reach the database" : "cannot reach the agents"}`);
        break;
      }
      case "agent-restart": {
        const host = this.hosts.get(f.host)!;
        // Quicker than the heartbeat timeout — unless it follows a restart so closely that the agent
        // had not sent a heartbeat since: then the silence may be long enough to count as host loss.
        const silenceMs = this.nowMs + f.durationMs + this.limits.agentCycleMs - host.lastHeartbeatMs;
        this.disturbed(silenceMs >= (this.console?.shell.state.timing.heartbeatTimeoutMs ?? 0) ? this.pairsOfHost(f.host) : []);
        if (!host.agentUp) return;
        host.agentUp = false;
        // Its socket closes with it (the kernel closes a dead process's connections): a console that can
        // hear the close holds its commands for the host until the next agent connects, as the gateway does.
        const c = host.conn ? this.controllers.get(host.conn.ctl) : undefined;
        if (c && host.linkUp && c.instance.agentsUp && c.sessions.get(host.name) === host.session) c.sessions.set(host.name, 0);
        host.session = 0; // the servers keep running under their keepers
        this.schedule(this.nowMs + f.durationMs, { kind: "agent-up", host: f.host });
        return;
      }
      case "forged":
        return this.forge(f.from, f.victim);
      case "switchover":
        this.disturbed([f.pair]);
        this.consoleInput({ kind: "operator-switchover", pairId: f.pair, operator: "sim-operator", force: f.force, reason: f.force ? "simulated forced switchover" : "" }, this.operatorConsole());
        return;
      case "burst":
        // Not a fault of the pair: nothing may fail over for it.
        return this.burst(f.pair, f.calls);
      case "maintenance": {
        // Not a fault of the pair either: it must never be switched for it.
        const untilMs = f.expires ? this.nowMs + f.durationMs : null;
        const c = this.operatorConsole();
        const out = this.consoleInput({ kind: "operator-maintenance", pairId: f.pair, operator: "sim-operator", on: true, reason: "simulated maintenance", untilMs }, c);
        const ps = c?.shell.state.pairStates[f.pair];
        if (!out || !ps?.maintenance) return; // no console to take it, or it could not save it
        if (!this.maintenance.has(f.pair)) this.maintenance.set(f.pair, { sinceEpoch: ps.epoch, untilMs });
        else this.maintenance.get(f.pair)!.untilMs = untilMs;
        if (f.expires) return; // the console ends it at its expiry (checked in checkInvariants)
        break;
      }
    }
    this.schedule(this.nowMs + f.durationMs, { kind: "heal", fault: f });
  }

  private healFault(f: Fault): void {
    this.log(`HEAL ${describeFault(f)}`);
    switch (f.kind) {
      case "crash":
      case "slow-restart": {
        const srv = this.servers.get(f.app)!;
        this.disturbed([srv.pair]);
        if (srv.proc !== "failed") break;
        // Either the agent's restart policy starts it again, or (policy given up) an operator does,
        // through the console — both must start it as backup.
        if (this.rng.chance(0.5)) this.schedule(this.nowMs + this.limits.restartDelayMs, { kind: "restart-by-policy", app: f.app });
        else this.consoleInput({ kind: "operator-application", appId: f.app, action: "start", operator: "sim-operator" }, this.operatorConsole());
        break;
      }
      case "hang": {
        const srv = this.servers.get(f.app)!;
        this.disturbed([srv.pair]);
        if (srv.proc === "hung") srv.proc = "running";
        break;
      }
      case "disconnect":
        this.disturbed(this.pairsOfHost(f.host));
        this.hosts.get(f.host)!.linkUp = true;
        break;
      case "sip-nic":
        this.disturbed(this.pairsOfHost(f.host));
        this.hosts.get(f.host)!.sipNicUp = true;
        break;
      case "nic-self-demotion": {
        const srv = this.servers.get(f.app)!;
        this.disturbed([srv.pair]);
        srv.nicDown = false;
        break;
      }
      case "bind-fail": {
        const srv = this.servers.get(f.app)!;
        this.disturbed([srv.pair]);
        srv.canBind = true;
        break;
      }
      case "no-traffic":
        this.disturbed([f.pair]);
        this.noTraffic.delete(f.pair);
        break;
      case "lossy":
        this.disturbed(this.pairs.map((p) => p.id));
        this.lossy--;
        break;
      case "console-stall":
      case "leader-pause":
        this.disturbed();
        break;
      case "db-split":
      case "agent-split": {
        const target = this.instances[f.instance]!;
        this.disturbed(f.kind === "agent-split" ? this.pairs.map((p) => p.id) : []);
        if (f.kind === "db-split") target.dbUp = true;
        else target.agentsUp = true;
        break;
      }
      case "maintenance": {
        if (!this.maintenance.has(f.pair)) break;
        const c = this.operatorConsole();
        if (!c) {
          // The operator's request needs a console: ask again once it is back.
          this.schedule(this.nowMs + 500, { kind: "heal", fault: f });
          break;
        }
        // Over before the request: the decision it triggers may rightly act on the pair. (operatorConsole
        // answers only while its instance may command and reaches the database: the request is saved.)
        this.endMaintenance(f.pair);
        this.consoleInput({ kind: "operator-maintenance", pairId: f.pair, operator: "sim-operator", on: false, reason: "", untilMs: null }, c);
        break;
      }
      default:
        break;
    }
  }

  /** The pair's maintenance is over: the controller acts on it again, and the liveness bounds start anew. */
  private endMaintenance(pairId: string): void {
    this.maintenance.delete(pairId);
    this.disturbed();
  }

  // ── the console instances: the real lease core against the simulated lease row ──

  private startInstances(): void {
    const spread = this.limits.clockRateSpread;
    for (let index = 0; index < this.limits.consoleInstances; index++) {
      const clockRate = 1 + (this.rng.next() * 2 - 1) * spread;
      const clockOffsetMs = this.rng.int(0, 1_000_000_000);
      this.instances.push({ index, id: `console-${index + 1}`, incarnation: 0, alive: false, pausedUntilMs: 0, dbUp: true, agentsUp: true, clockOffsetMs, clockRate, lease: initialLeaseState(0), leaseTickDue: -1, controller: null });
    }
    // The first instance has led for a while when the run starts (its first attempt answered at once);
    // the others start as followers.
    const first = this.instances[0]!;
    this.startInstance(first);
    const step = this.parts.lease(first.lease, { kind: "tick", nowMs: this.localNow(first) }, this.leaseTiming);
    first.lease = step.state;
    const acquire = step.actions.find((a) => a.kind === "acquire");
    if (acquire) {
      const { row, won, lease } = applyLeaseAttempt(this.leaseRow, this.attemptOf(first, acquire), this.dbNow());
      this.leaseRow = row;
      this.leaseInput(first, { kind: "answer", nowMs: this.localNow(first), sentAtMs: acquire.sentAtMs, won, lease });
    }
    for (const i of this.instances.slice(1)) this.startInstance(i);
  }

  /** An instance's process starts (again): a follower with a fresh lease state, a new incarnation. */
  private startInstance(i: SimInstance): void {
    i.alive = true;
    i.incarnation++;
    i.pausedUntilMs = 0;
    i.lease = initialLeaseState(this.localNow(i));
    i.leaseTickDue = -1;
    if (i.incarnation > 1) this.log(`${i.id} starts again (incarnation ${i.incarnation}) as a follower`);
    this.scheduleLeaseTick(i);
  }

  private crashInstance(i: SimInstance): void {
    this.log(`${i.id} dies${i.controller ? ` (it led at term ${i.controller.term})` : ""}`);
    this.dropController(i, "its process died");
    i.alive = false;
  }

  /** The instance the controller of the newest leadership runs on, while it runs. */
  private leaderInstance(): SimInstance | null {
    return this.console && this.console.instance.alive ? this.console.instance : null;
  }

  /** The controller an operator's request reaches: the leader's, while it runs, may command and reaches the database. */
  private operatorConsole(): SimConsole | null {
    const c = this.console;
    if (!c || this.nowMs < c.instance.pausedUntilMs || !c.instance.dbUp || !this.mayCommandNow(c.instance)) return null;
    return c;
  }

  /** The instance an item is for (its events wait while it is frozen). */
  private instanceOf(item: Item): SimInstance | null {
    switch (item.kind) {
      case "up":
      case "console-tick":
      case "console-sweep":
        return this.controllers.get(item.kind === "up" ? item.ctl : item.incarnation)?.instance ?? null;
      case "lease-tick":
      case "db-answer":
        return this.instances[item.instance]!;
      default:
        return null;
    }
  }

  private localNow(i: SimInstance): number {
    return i.clockOffsetMs + Math.floor(this.nowMs * i.clockRate);
  }

  private dbNow(): number {
    return this.dbOffsetMs + this.nowMs;
  }

  mayCommandNow(i: SimInstance): boolean {
    return i.alive && mayCommand(i.lease, this.localNow(i));
  }

  private attemptOf(i: SimInstance, a: Extract<LeaseAction, { kind: "acquire" | "renew" }>): LeaseAttempt {
    const who = { holder: i.id, incarnation: `${i.id}#${i.incarnation}`, ttlMs: this.leaseTiming.ttlMs };
    return a.kind === "acquire" ? { kind: "acquire", ...who, takeOwn: a.takeOwn } : { kind: "renew", ...who, term: a.term };
  }

  /** One input through the instance's lease core, then what its keeper does with the actions. */
  private leaseInput(i: SimInstance, input: LeaseInput): void {
    const step = this.parts.lease(i.lease, input, this.leaseTiming);
    i.lease = step.state;
    for (const a of step.actions) {
      switch (a.kind) {
        case "acquire":
        case "renew":
          this.sendAttempt(i, a);
          break;
        case "lead":
          this.leaseTotals.leads++;
          this.leadership.push({ atMs: this.nowMs, instance: i.id, kind: "lead", term: a.term });
          this.log(`${i.id} leads at term ${a.term}: a fresh controller from the persisted state; agents connect and resync`);
          this.dropController(i, "it leads anew");
          this.startConsole(i, a.term);
          break;
        case "step-down":
          this.leaseTotals.stepDowns++;
          this.leadership.push({ atMs: this.nowMs, instance: i.id, kind: "step-down", term: a.term });
          this.log(`${i.id} steps down from term ${a.term}: ${a.reason}`);
          this.dropController(i, a.reason);
          break;
      }
    }
    this.scheduleLeaseTick(i);
  }

  /** The keeper runs again when the core next has something to do by the instance's clock (at least every renew interval). */
  private scheduleLeaseTick(i: SimInstance): void {
    const s = i.lease;
    let due = s.inFlightSentAtMs !== null ? s.inFlightSentAtMs + this.leaseTiming.ttlMs + 1 : s.nextAttemptAtMs;
    if (s.role === "leader") due = Math.min(due, s.validUntilMs);
    let at = Math.max(this.nowMs + 1, Math.ceil((due - i.clockOffsetMs) / i.clockRate));
    while (i.clockOffsetMs + Math.floor(at * i.clockRate) < due) at++;
    at = Math.min(at, this.nowMs + this.leaseTiming.renewIntervalMs);
    if (i.leaseTickDue >= 0 && i.leaseTickDue <= at && i.leaseTickDue > this.nowMs) return; // an earlier run is scheduled
    i.leaseTickDue = at;
    this.schedule(at, { kind: "lease-tick", instance: i.index, incarnation: i.incarnation, due: at });
  }

  /** A database round trip's one way: null when lost (lossy windows), slow now and then there. */
  private dbDelay(): number | null {
    if (this.lossy === 0) return this.rng.int(...this.limits.dbDelayMs);
    if (this.rng.chance(0.1)) return null;
    return this.rng.chance(0.05) ? this.rng.int(...this.limits.slowDbDelayMs) : this.rng.int(1, 300);
  }

  private sendAttempt(i: SimInstance, a: Extract<LeaseAction, { kind: "acquire" | "renew" }>): void {
    const to = { instance: i.index, incarnation: i.incarnation };
    if (!i.dbUp) {
      // Refused at once, or no answer at all (the core gives the attempt up after the TTL).
      if (this.rng.chance(0.5)) this.schedule(this.nowMs + this.rng.int(1, 50), { kind: "db-answer", ...to, answer: { kind: "failed", sentAtMs: a.sentAtMs, error: "database unreachable" } });
      return;
    }
    const delay = this.dbDelay();
    if (delay !== null) this.schedule(this.nowMs + delay, { kind: "db-exec", ...to, attempt: this.attemptOf(i, a), sentAtMs: a.sentAtMs });
  }

  /** The database runs the UPDATE by its own clock; the answer goes back unless the way back is lost. */
  private dbExec(item: Extract<Item, { kind: "db-exec" }>): void {
    const before = this.leaseRow;
    const { row, won, lease } = applyLeaseAttempt(before, item.attempt, this.dbNow());
    this.leaseRow = row;
    if (won && row.term !== before.term) this.log(`database: ${row.holder} takes the lease at term ${row.term}`);
    const i = this.instances[item.instance]!;
    const delay = i.dbUp ? this.dbDelay() : null;
    if (delay !== null) this.schedule(this.nowMs + delay, { kind: "db-answer", instance: item.instance, incarnation: item.incarnation, answer: { kind: "answer", sentAtMs: item.sentAtMs, won, lease } });
  }

  // ── the console: production's shell, liveness and tracker, stepped synchronously ──

  /** The instance leads at `term`: a fresh controller from what the database holds, as after a console restart. */
  private startConsole(inst: SimInstance, term: number): void {
    this.consoleIncarnation++;
    const incarnation = this.consoleIncarnation;
    const shell = this.parts.shell({ pairs: this.pairs, directory: this.directory, persisted: this.persisted, nowMs: this.nowMs, timing: this.timing, step: this.parts.step });
    const liveness = this.parts.liveness({ heartbeatTimeoutMs: shell.state.timing.heartbeatTimeoutMs, sweepIntervalMs: this.limits.sweepIntervalMs });
    const sessions = new Map<string, number>();
    const tracker = this.parts.tracker({
      now: () => this.nowMs,
      send: (host, command) => {
        // (Cut off from the agents, the instance still believes its sockets open: what it emits is lost.)
        const session = sessions.get(host) ?? 0;
        if (session === 0) return false;
        // The gateway asks the lease before every command.
        if (this.parts.asksLease && !this.mayCommandNow(inst)) {
          this.leaseTotals.withheld++;
          return false;
        }
        this.transmit({ kind: "down", host, session, term, command });
        return true;
      },
      // Every result reaches the shell (as the gateway's onCommandResult does).
      onResult: (host, result) => this.consoleInput({ kind: "command-result", hostName: host, result }, c),
    });
    const c: SimConsole = { incarnation, instance: inst, term, unsavedHistory: [], shell, liveness, tracker, sessions };
    inst.controller = c;
    this.controllers.set(incarnation, c);
    this.console = c;
    this.disturbed();
    this.deliveredReadiness.clear();
    this.schedule(this.nowMs + shell.state.timing.tickIntervalMs, { kind: "console-tick", incarnation });
    this.schedule(this.nowMs + this.limits.sweepIntervalMs, { kind: "console-sweep", incarnation });
  }

  /** The instance no longer leads (or died): its controller is gone at once, its agents' sockets close. */
  private dropController(inst: SimInstance, why: string): void {
    const c = inst.controller;
    if (!c) return;
    inst.controller = null;
    this.controllers.delete(c.incarnation);
    if (this.console === c) this.console = null;
    this.disturbed();
    this.log(`${inst.id}'s controller of term ${c.term} is gone (${why})`);
  }

  /** A tick that decides only the pairs waiting on time decides what one deciding every pair would. */
  private checkTick(state: ControllerState): void {
    const tick = { type: "tick" as const, atMs: this.nowMs };
    const scoped = this.parts.step(state, tick);
    const every = stepEveryPairOnTicks(state, tick);
    const scope = scoped.scope === "all" ? "every pair" : `only ${scoped.scope?.join(", ") || "no pair"}`;
    const differs = (what: string, a: unknown, b: unknown) => {
      if (!isDeepStrictEqual(a, b)) throw new Violation(`a tick that decided ${scope} differs in ${what} from one that decided every pair: ${JSON.stringify(a)} instead of ${JSON.stringify(b)}`);
    };
    differs("its decisions", scoped.decisions, every.decisions);
    differs("its commands", scoped.commands, every.commands);
    for (const id of Object.keys(every.state.pairStates)) differs(`the state of ${id}`, scoped.state.pairStates[id], every.state.pairStates[id]);
    for (const id of Object.keys(every.state.apps)) differs(`the state of ${id}`, scoped.state.apps[id], every.state.apps[id]);
    differs("the hosts' state", scoped.state.hosts, every.state.hosts);
  }

  /**
   * One input through a controller's shell (the newest leadership's unless given), then what the runner
   * does: persist, then send, in that order. It persists only while its instance may command and
   * reaches the database; not saved → not sent (runner.ts), its timeline rows kept for the next save.
   * Null when there is no controller or the step could not be saved.
   */
  private consoleInput(input: Parameters<ControllerShell["handle"]>[0], c: SimConsole | null = this.console): ShellOutput | null {
    if (!c) return null;
    const out = c.shell.handle(input, this.nowMs);
    if (out.persist || out.send.length > 0) {
      if (!c.instance.dbUp || (this.parts.asksLease && !this.mayCommandNow(c.instance))) {
        if (out.persist) c.unsavedHistory.push(...out.persist.history);
        if (out.send.length > 0) this.leaseTotals.withheld += out.send.length;
        this.log(`ctl<-${describeInput(input)} | not saved, nothing sent: ${c.instance.id} ${c.instance.dbUp ? "may no longer command" : "cannot reach the database"}`);
        return null;
      }
    }
    if (out.persist) {
      const history = [...c.unsavedHistory, ...out.persist.history];
      c.unsavedHistory = [];
      for (const [pairId, p] of Object.entries(out.persist.pairs)) {
        const was = this.persisted[pairId]?.epoch ?? 0;
        if (p.epoch < was) this.fail(`${c.instance.id} (term ${c.term}) saved epoch ${p.epoch} of ${pairId} over epoch ${was}`);
      }
      this.persisted = { ...this.persisted, ...out.persist.pairs };
      for (const row of history) {
        let set = this.historyEpochs.get(row.pairId);
        if (!set) this.historyEpochs.set(row.pairId, (set = new Set()));
        set.add(row.epoch);
      }
      c.shell.confirmPersisted(out.persist.pairs);
    }
    for (const a of out.alarms) {
      // Raised in the step that orders the promotion: keyed by the epoch the console holds after it.
      if (a.type === "raise-alarm" && a.kind === "double-failure") this.doubleFailureAlarms.add(`${a.pairId}:${c.shell.state.pairStates[a.pairId]?.epoch ?? 0}`);
    }
    this.checkSends(input, out, c);
    if (this.tracing && (input.kind !== "tick" || out.send.length > 0 || out.decisions.length > 0)) {
      this.log(`ctl<-${describeInput(input)} | ${out.reason}${out.send.length ? ` | ${out.send.map((s) => describeWire(s.command)).join(", ")}` : ""}`);
    }
    for (const w of out.withdraw) c.tracker.withdraw(w.hostName, w.commandId, w.why);
    for (const s of out.send) void c.tracker.submit(s.hostName, s.command);
    return out;
  }

  private sweep(c: SimConsole): void {
    const result = c.liveness.sweep(this.nowMs);
    if (result.stalledMs !== null) this.log(`console sweep: stalled ${result.stalledMs} ms; fresh timeouts for all`);
    if (result.held) this.log(`console sweep: ${result.held.hosts.join(", ")} silent together: held`);
    for (const lost of result.lost) {
      c.sessions.set(lost.host, 0);
      this.consoleInput({ kind: "host-disconnected", hostName: lost.host, detail: `no heartbeat for ${lost.silentMs} ms` }, c);
    }
    c.tracker.tick();
  }

  private transmit(item: Extract<Item, { kind: "up" | "down" }>): void {
    const lossy = this.lossy > 0;
    // A lost message on a lossy network; TCP would retransmit, the socket would die, and the agent
    // would reconnect — modelled as loss plus the periodic full reports.
    if (lossy && this.rng.chance(0.1)) return;
    const copies = lossy && this.rng.chance(0.1) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = lossy ? this.rng.int(1, 300) : this.rng.int(1, 10);
      this.schedule(this.nowMs + delay, item);
    }
  }

  // ── the gateway side: messages arriving from agents ──

  private deliverUp(hostName: string, session: number, ctl: number, payload: Up): void {
    const c = this.controllers.get(ctl);
    const host = this.hosts.get(hostName)!;
    if (!c || !host.linkUp || !c.instance.agentsUp) return;
    // The console answers (its heartbeat acknowledgements): the agent hears its console.
    if (host.session === session) host.consoleHeardMs = this.nowMs;
    if (payload.kind === "connect") {
      // A new socket replaces any old one; the newest connection wins.
      c.sessions.set(hostName, session);
      c.liveness.connected(hostName, this.nowMs);
      this.consoleInput({ kind: "host-connected", hostName }, c);
      c.tracker.hostConnected(hostName);
      return;
    }
    if (c.sessions.get(hostName) !== session) return; // a closed socket's late message
    const back = c.liveness.heard(hostName, this.nowMs);
    if (back) this.consoleInput({ kind: "host-connected", hostName }, c);
    switch (payload.kind) {
      case "heartbeat":
        return;
      case "resync":
        // The snapshot's readiness counts as delivered too: the shell takes a reconnected host's reports afresh.
        for (const a of payload.snapshot.applications) {
          if (a.readiness?.report) this.deliveredReadiness.set(a.application, { sentAtMs: Date.parse(a.readiness.time), ready: a.readiness.report.readyForSwitchover });
        }
        this.consoleInput({ kind: "resync", hostName, snapshot: payload.snapshot }, c);
        return;
      case "app-status":
        this.consoleInput({ kind: "app-status", hostName, msg: payload.msg }, c);
        return;
      case "role-report":
        this.consoleInput({ kind: "role-report", hostName, msg: payload.msg }, c);
        return;
      case "readiness": {
        const m = payload.msg;
        const sentAtMs = Date.parse(m.time);
        if (m.report && sentAtMs > (this.deliveredReadiness.get(m.application)?.sentAtMs ?? -1)) this.deliveredReadiness.set(m.application, { sentAtMs, ready: m.report.readyForSwitchover });
        this.consoleInput({ kind: "readiness", hostName, msg: m }, c);
        return;
      }
      case "receipt":
        if (c.tracker.awaits(hostName, payload.commandId)) this.consoleInput({ kind: "command-receipt", hostName, commandId: payload.commandId }, c);
        return;
      case "command-result":
        c.tracker.settle(hostName, payload.result);
        return;
    }
  }

  /**
   * A host speaks about an application of another host: the shell must refuse it and change nothing. It
   * also answers the commands in flight to the victim's host, and one it guesses (the next promotion's id,
   * sent ahead), through the gateway's own command tracker: none may settle.
   */
  private forge(from: string, victim: string): void {
    const c = this.console;
    if (!c || (c.sessions.get(from) ?? 0) === 0) return;
    const srv = this.servers.get(victim)!;
    const snapshot = () => JSON.stringify([c.shell.state.apps[victim], c.shell.state.pairStates[srv.pair]]);
    const before = snapshot();
    const time = this.iso(this.nowMs + 3_600_000); // newer than anything the real agent sent
    const forgedInputs: Parameters<ControllerShell["handle"]>[0][] = [
      { kind: "app-status", hostName: from, msg: { application: victim, status: "failed", previous: "running", detail: "forged", pid: null, exitCode: 1, signal: null, time, restart: null, lastOutput: "" } },
      { kind: "role-report", hostName: from, msg: { application: victim, role: srv.role === "primary" ? "backup" : "primary", epoch: 999, time } },
    ];
    for (const input of forgedInputs) this.consoleInput(input);
    const inFlight = c.tracker.pendingIds().filter((id) => c.tracker.awaits(srv.host, id));
    const epoch = c.shell.state.pairStates[srv.pair]?.epoch ?? 0;
    for (const commandId of [...inFlight, `set-role:${srv.pair}:${victim}:primary:e${epoch + 1}`]) {
      c.tracker.settle(from, { commandId, type: "set-role", application: victim, outcome: "ok", reason: "forged", pairEpoch: epoch + 1, finishedAt: time, scripts: [], heldEpoch: null });
    }
    const settled = inFlight.filter((id) => !c.tracker.awaits(srv.host, id));
    if (settled.length) this.fail(`a result from ${from} settled ${settled.join(", ")}, sent to ${srv.host}`);
    if (snapshot() !== before) this.fail(`a message from ${from} changed the state of ${victim}, an application of ${srv.host}`);
  }

  // ── agents and servers ──

  private sendUp(host: SimHost, payload: Up): void {
    if (!host.linkUp || !host.agentUp || host.session === 0 || !host.conn) return;
    this.transmit({ kind: "up", host: host.name, session: host.session, ctl: host.conn.ctl, payload });
  }

  /** The agent's clock for a report kind, nudged so stamps strictly increase (as the real agent's do). */
  private stamp(host: SimHost, key: string): string {
    const t = Math.max(this.nowMs, (host.stamps[key] ?? -1) + 1);
    host.stamps[key] = t;
    return this.iso(t);
  }

  private agentCycle(hostName: string): void {
    const host = this.hosts.get(hostName)!;
    this.schedule(this.nowMs + this.limits.agentCycleMs, { kind: "agent-cycle", host: hostName });
    host.cycles++;
    for (const srv of this.servers.values()) if (srv.host === hostName) this.serverTimers(srv);
    if (!host.agentUp || !host.linkUp) return;
    let full = host.cycles % this.limits.fullReportEveryCycles === 0;
    if (host.conn && !this.connectionHolds(host)) {
      host.conn = null;
      host.session = 0;
      host.reconnectAtMs = this.nowMs + this.limits.agentReconnectMs;
    }
    if (!host.conn) {
      // (Re)connect to the instance that leads: a new socket, then the full picture (the resync).
      if (this.nowMs < host.reconnectAtMs) return;
      const c = this.findLeader(host);
      if (!c) return;
      if (c.term < host.highestTerm) {
        // A deposed console's welcome (agent/connection.ts): refused; try again later.
        this.log(`${hostName} refuses ${c.instance.id}'s welcome: term ${c.term} older than ${host.highestTerm}`);
        host.reconnectAtMs = this.nowMs + this.limits.agentReconnectMs;
        return;
      }
      host.session = this.nextSession++;
      host.conn = { instance: c.instance.index, instanceIncarnation: c.instance.incarnation, ctl: c.incarnation };
      host.leaderHint = c.instance.index;
      host.consoleHeardMs = this.nowMs;
      // Its console's term (in the welcome): commands of older terms are refused from now on.
      host.highestTerm = c.term;
      this.transmitOrdered(host, { kind: "connect" });
      this.transmitOrdered(host, { kind: "resync", snapshot: this.snapshot(host) });
      full = true;
    }
    this.sendUp(host, { kind: "heartbeat" });
    host.lastHeartbeatMs = this.nowMs;
    this.report(host, full);
  }

  /**
   * Whether the agent's socket still holds: its instance runs the same process and the same controller
   * (a step-down closes the agents' sockets), the console has not closed it (a host declared lost), and
   * the agent heard its console within the heartbeat timeout (a frozen or cut-off console is given up).
   */
  private connectionHolds(host: SimHost): boolean {
    const conn = host.conn!;
    const inst = this.instances[conn.instance]!;
    const c = inst.controller;
    if (!inst.alive || inst.incarnation !== conn.instanceIncarnation || !c || c.incarnation !== conn.ctl) return false;
    if ((c.sessions.get(host.name) ?? host.session) !== host.session) return false;
    return this.nowMs - host.consoleHeardMs <= c.shell.state.timing.heartbeatTimeoutMs;
  }

  /**
   * The controller the agent's connection reaches: it tries the instance it knows of first; one that
   * runs but does not lead refuses and names the holder it last heard of, tried next; one it cannot
   * reach (dead, frozen, cut off) is passed over for the next. Null: none leads that it can reach.
   */
  private findLeader(host: SimHost): SimConsole | null {
    const n = this.instances.length;
    let index = host.leaderHint;
    const tried = new Set<number>();
    while (!tried.has(index)) {
      tried.add(index);
      const i = this.instances[index]!;
      const reachable = i.alive && i.agentsUp && this.nowMs >= i.pausedUntilMs;
      if (reachable && i.controller) return i.controller;
      let named = -1;
      if (reachable && i.lease.role === "follower") {
        const holder = i.lease.knownHolder;
        named = this.instances.findIndex((x) => x.id === holder);
      }
      index = named >= 0 && !tried.has(named) ? named : (index + 1) % n;
    }
    return null;
  }

  /** Connect and resync travel on one socket in order (no loss: the handshake either happens or not). */
  private transmitOrdered(host: SimHost, payload: Up): void {
    if (!host.linkUp || !host.agentUp || !host.conn) return;
    this.schedule(this.nowMs + 1, { kind: "up", host: host.name, session: host.session, ctl: host.conn.ctl, payload });
  }

  private statusOf(srv: SimServer): ReportedProcessStatus {
    switch (srv.proc) {
      case "failed":
        return "failed";
      case "starting":
        return "starting";
      case "stopped":
        return "stopped";
      case "hung":
        return "running"; // the agent sees the process alive; only its answers stop
      case "running":
        return srv.status;
    }
  }

  private snapshot(host: SimHost): Resync {
    return {
      agentVersion: "sim",
      agentStartedAt: this.iso(host.incarnation),
      configRevision: "sim",
      applications: [...this.servers.values()]
        .filter((s) => s.host === host.name)
        .map((s) => {
          const answering = s.proc === "running";
          return {
            application: s.app,
            status: this.statusOf(s),
            detail: "",
            pid: 1,
            since: this.iso(Math.max(0, Math.min(s.statusSinceMs, this.nowMs))),
            role: answering ? s.role : null,
            roleEpoch: answering ? s.epoch : null,
            readiness: answering ? this.readinessReport(s, this.iso()) : null,
            restart: null,
            lastOutput: "",
            running: null,
          };
        }),
      epochs: { ...host.ledgerEpochs },
      vip: {},
      inFlightCommandIds: [],
    };
  }

  /** The agent reports each application's status, and (when it answers) role and readiness. */
  private report(host: SimHost, full: boolean): void {
    for (const srv of this.servers.values()) {
      if (srv.host !== host.name) continue;
      const status = this.statusOf(srv);
      const statusKey = `${status}:${srv.oosBackoff}`;
      if (full || host.lastSent[`${srv.app}:status`] !== statusKey) {
        host.lastSent[`${srv.app}:status`] = statusKey;
        this.sendUp(host, { kind: "app-status", msg: { application: srv.app, status, previous: null, detail: "", pid: 1, exitCode: null, signal: null, time: this.stamp(host, `${srv.app}:status`), restart: null, lastOutput: "" } });
      }
      if (srv.proc === "hung") {
        // The process is there but does not answer: the agent's readiness polls fail.
        const key = "hung";
        if (full || host.lastSent[`${srv.app}:ready`] !== key) {
          host.lastSent[`${srv.app}:ready`] = key;
          this.sendUp(host, { kind: "readiness", msg: { application: srv.app, report: null, error: "readiness poll failed: timed out", time: this.stamp(host, `${srv.app}:ready`) } });
        }
        continue;
      }
      if (srv.proc !== "running") continue; // starting, failed, stopped: no answers from the server
      this.sendRole(host, srv, full);
      const ready = this.readinessReport(srv, "");
      // Sent again when anything in it changes, the sync's progress too (at most once an agent cycle).
      const readyKey = JSON.stringify([ready.report?.readyForSwitchover, ready.report?.sipListener, ready.report?.status, ready.report?.oosBackoff, ready.report?.calls.total, ready.report?.calls.synced]);
      if (full || host.lastSent[`${srv.app}:ready`] !== readyKey) {
        host.lastSent[`${srv.app}:ready`] = readyKey;
        this.sendUp(host, { kind: "readiness", msg: { ...ready, time: this.stamp(host, `${srv.app}:ready`) } });
      }
    }
  }

  private sendRole(host: SimHost, srv: SimServer, full: boolean): void {
    const roleKey = `${srv.role}:${srv.epoch}`;
    if (!full && host.lastSent[`${srv.app}:role`] === roleKey) return;
    host.lastSent[`${srv.app}:role`] = roleKey;
    this.sendUp(host, { kind: "role-report", msg: { application: srv.app, role: srv.role, epoch: srv.epoch, time: this.stamp(host, `${srv.app}:role`) } });
  }

  private peerOf(srv: SimServer): SimServer {
    for (const s of this.servers.values()) if (s.pair === srv.pair && s.app !== srv.app) return s;
    throw new Error(`no peer for ${srv.app}`);
  }

  private readinessReport(srv: SimServer, time: string): ReadinessReport {
    const peer = this.peerOf(srv);
    const haLink = peer.proc === "running" && srv.proc === "running";
    const upForMs = this.nowMs - Math.max(srv.runningSinceMs, peer.runningSinceMs);
    const reasons: string[] = [];
    if (!haLink) reasons.push("HA link down");
    else if (upForMs < this.limits.readyAfterMs) reasons.push(`HA link up for ${upForMs} ms of the ${this.limits.readyAfterMs} ms needed`);
    const calls = this.callsReport(srv, peer, haLink);
    if (haLink && calls.synced < calls.total) {
      const unsynced = calls.total - calls.synced;
      reasons.push(
        calls.source
          ? `${unsynced} of ${calls.total} calls not yet synchronised to the backup`
          : `call synchronisation from the primary is not complete: ${unsynced} of ${calls.total} calls not yet received`,
      );
    }
    const ready: 0 | 1 = reasons.length === 0 ? 1 : 0;
    return {
      application: srv.app,
      report: {
        role: srv.role,
        epoch: srv.epoch,
        status: srv.status,
        haLink: haLink ? "up" : "down",
        haLinkUpSince: null,
        calls: { total: calls.total, synced: calls.synced, multisite: 0 },
        readyForSwitchover: ready,
        readyForUpgrade: srv.role === "backup" ? 1 : 0,
        notReadyReasons: reasons,
        sipListener: srv.role === "primary" && !srv.canBind ? "bind-failed" : "bound",
        oosBackoff: srv.oosBackoff,
      },
      error: null,
      time,
    };
  }

  /**
   * W13 call counts. The sync source (the primary; the old primary after a W10 self-demotion; the
   * survivor when the source's process ended): its calls, and how many of them the backup holds. The
   * backup: the source's calls and how many of those it holds — with the HA link down, only its own.
   */
  private callsReport(srv: SimServer, peer: SimServer, haLink: boolean): { source: boolean; total: number; synced: number } {
    const own = this.calls.of(srv.app);
    if (this.calls.source(srv.pair) === srv.app) return { source: true, total: own.size, synced: own.sharedWith(this.calls.of(peer.app)) };
    if (!haLink) return { source: false, total: own.size, synced: own.size };
    const from = this.calls.of(peer.app);
    return { source: false, total: from.size, synced: from.sharedWith(own) };
  }

  private hasTraffic(srv: SimServer): boolean {
    const host = this.hosts.get(srv.host)!;
    const pair = this.pairs.find((p) => p.id === srv.pair)!;
    if (!host.sipNicUp || this.noTraffic.has(srv.pair) || !srv.canBind) return false;
    return pair.haType === "single-host" || host.vip[srv.pair] === true;
  }

  /** What the server does on its own: W10 NIC monitoring, SIP traffic monitoring (W4/W5). */
  private serverTimers(srv: SimServer): void {
    if (srv.proc !== "running") return;
    if (srv.nicDown && srv.role === "primary") {
      // tlib-nic-monitoring: the NIC failed, the server switches to backup by itself (same epoch).
      srv.role = "backup";
      srv.status = "running";
      srv.noTrafficSinceMs = null;
      this.log(`${srv.app} gives up the primary role by itself (NIC down) at e${srv.epoch}`);
      return;
    }
    if (srv.role !== "primary") return;
    if (this.hasTraffic(srv)) {
      srv.noTrafficSinceMs = null;
      srv.oosBackoff = 1;
      srv.status = "running";
      return;
    }
    if (srv.status === "service-unavailable") return;
    srv.noTrafficSinceMs ??= this.nowMs;
    if (this.nowMs - srv.noTrafficSinceMs >= this.limits.oosTimeoutMs * srv.oosBackoff) {
      srv.status = "service-unavailable";
      this.log(`${srv.app} SERVICE_UNAVAILABLE (back-off ${srv.oosBackoff}x)`);
    }
  }

  /** A command reaches an agent: receipt at once, then the ledger (idempotency, fencing), then the work. */
  private deliverDown(hostName: string, session: number, term: number, c: GatewayCommand): void {
    const host = this.hosts.get(hostName)!;
    if (!host.linkUp || !host.agentUp || host.session !== session || !host.conn) return;
    const via = this.instances[host.conn.instance]!;
    if (!via.agentsUp) return;
    const issuer = this.controllers.get(host.conn.ctl) ?? null;
    this.sendUp(host, { kind: "receipt", commandId: c.id });
    const first = host.results.get(c.id);
    if (first) return this.sendUp(host, { kind: "command-result", result: first });
    if (c.type === "run-os-command") return;
    const pairId = this.servers.get(c.application)?.pair ?? "";
    const finish = (outcome: CommandResult["outcome"], reason: string, heldEpoch: number | null = null): void => {
      const result: CommandResult = { commandId: c.id, type: c.type, application: c.application, pairEpoch: c.pairEpoch, outcome, reason, finishedAt: this.stamp(host, `${c.application}:role`), scripts: [], heldEpoch };
      host.results.set(c.id, result);
      this.sendUp(host, { kind: "command-result", result });
    };
    // Leadership fencing (agent/command-ledger.ts): after a repeated id, before the epochs — a command
    // of a term older than the newest the agent has seen is not run.
    if (term < host.highestTerm) {
      this.leaseTotals.refusedByTerm++;
      this.log(`${hostName} refuses ${describeWire(c)}: term ${term} older than ${host.highestTerm}`);
      return finish("stale-term", `leadership term ${term} older than ${host.highestTerm}`);
    }
    host.highestTerm = term;
    if (term < host.highestRunTerm) this.fail(`${hostName} ran ${describeWire(c)} of term ${term} after a command of term ${host.highestRunTerm}`);
    host.highestRunTerm = term;
    this.commandsRun.push({ atMs: this.nowMs, host: hostName, term, command: describeWire(c) });
    // The agent's ledger fences per pair: an epoch older than one already applied is refused.
    if (c.pairEpoch < (host.ledgerEpochs[pairId] ?? 0)) return finish("stale-epoch", `epoch ${c.pairEpoch} older than ${host.ledgerEpochs[pairId]}`, host.ledgerEpochs[pairId] ?? null);
    host.ledgerEpochs[pairId] = Math.max(host.ledgerEpochs[pairId] ?? 0, c.pairEpoch);
    const srv = this.servers.get(c.application)!;
    switch (c.type) {
      case "run-control-script": {
        const pair = this.pairs.find((p) => p.id === pairId)!;
        if (pair.haType === "nlb-cluster" && !host.sipNicUp) return finish("failed", "NLB did not react: SIP NIC down");
        host.vip[pairId] = c.action === "enable";
        return finish("ok", `${c.action}d`);
      }
      case "start":
        if (srv.proc === "running" || srv.proc === "starting" || srv.proc === "hung") return finish("ok", "already running");
        this.startServer(srv, c.role ?? "backup", c.pairEpoch);
        return finish("ok", "started");
      case "stop":
        this.endProcess(srv, "stop");
        srv.proc = "stopped";
        this.setStatus(srv);
        return finish("ok", "stopped");
      case "set-role": {
        if (srv.proc === "hung") {
          host.results.delete(c.id); // no answer: the controller's retries decide
          return;
        }
        if (srv.proc !== "running") return finish("failed", `${srv.app} is ${srv.proc}`);
        // Epoch fencing, as the real servers do it: an order older than the epoch held is refused.
        if (c.pairEpoch < srv.epoch) return finish("stale-epoch", "stale epoch", srv.epoch);
        const before = srv.role;
        const beforeEpoch = srv.epoch;
        const gaveUpForNoTraffic = srv.status === "service-unavailable";
        srv.role = c.role;
        srv.epoch = c.pairEpoch;
        if (c.role === "primary" && (before !== "primary" || beforeEpoch !== c.pairEpoch)) this.takesPrimary(srv, issuer);
        if (c.role === "backup" && before === "primary") this.givesUpPrimary(srv);
        if (before !== c.role) {
          this.log(`${srv.app} applies ${c.role} e${c.pairEpoch}`);
          if (c.role === "primary") srv.noTrafficSinceMs = null;
          else {
            srv.status = "running";
            srv.noTrafficSinceMs = null;
            // W5: a server that gave up the role for lack of traffic waits longer next time (up to 4x).
            if (gaveUpForNoTraffic) srv.oosBackoff = Math.min(4, srv.oosBackoff * 2);
          }
        }
        finish("ok", `${srv.app} is ${c.role} at epoch ${c.pairEpoch}`);
        this.sendRole(host, srv, true);
        // The pair's enable with the promotion (agent/agent.ts enableWithPromotion): run now, fenced by
        // the same ledger, and its result kept for the console's order of the same id, not sent by itself.
        if (c.role === "primary" && c.thenEnable && !host.results.has(c.thenEnable.id)) {
          const id = c.thenEnable.id;
          const keep = (outcome: CommandResult["outcome"], reason: string, heldEpoch: number | null = null): void => {
            host.results.set(id, { commandId: id, type: "run-control-script", application: c.application, pairEpoch: c.pairEpoch, outcome, reason, finishedAt: this.stamp(host, `${c.application}:role`), scripts: [], heldEpoch });
          };
          if (c.pairEpoch < (host.ledgerEpochs[pairId] ?? 0)) return keep("stale-epoch", `epoch ${c.pairEpoch} older than ${host.ledgerEpochs[pairId]}`, host.ledgerEpochs[pairId] ?? null);
          const pair = this.pairs.find((p) => p.id === pairId)!;
          if (pair.haType === "nlb-cluster" && !host.sipNicUp) return keep("failed", "NLB did not react: SIP NIC down");
          host.vip[pairId] = true;
          this.log(`${host.name} enables the ${pair.haType === "nlb-cluster" ? "NLB port" : "VIP"} of ${pair.id} with the promotion of ${srv.app} (e${c.pairEpoch})`);
          keep("ok", "enabled");
        }
        return;
      }
    }
  }

  // ── calls: held by the servers, synchronised over the HA link, lost in crashes and role changes ──

  /** Runs every pair's call sync up to now: before a step changes anything, and after it. */
  private advanceCalls(): void {
    for (const pair of this.pairs) {
      const [a, b] = this.pairServers.get(pair.id)!;
      const source = this.calls.source(pair.id);
      const receiver = source === a.app ? b.app : a.app;
      // The HA link is up while both processes run (as readinessReport says).
      const progress = this.calls.sync(pair.id, receiver, a.proc === "running" && b.proc === "running", this.nowMs);
      if (!progress || !this.tracing) continue;
      if (progress.began && progress.moved > 0) this.log(`${receiver} begins its call sync from ${source}: ${progress.moved + progress.missing} calls missing`);
      if (progress.completed) this.log(`${receiver} holds all ${this.calls.of(source).size} calls of ${source}: call sync complete`);
    }
  }

  /** New calls on the pair's primary (the sync source, when it runs as primary), and on its backup while the HA link is up. */
  private burst(pairId: string, count: number): void {
    const primary = this.servers.get(this.calls.source(pairId))!;
    if (primary.proc !== "running" || primary.role !== "primary") {
      this.log(`${count} calls for ${pairId} find no primary (${primary.app} is ${primary.proc === "running" ? primary.role : primary.proc}): none established`);
      return;
    }
    const peer = this.peerOf(primary);
    const replica = peer.proc === "running" ? peer.app : null;
    this.calls.establish(pairId, primary.app, replica, count);
    this.log(`${count} new calls on ${primary.app}${replica ? ` (live-replicated to ${replica})` : ""}: it holds ${this.calls.of(primary.app).size}`);
  }

  /** A process that ends (crash, stop) holds no calls any more: those its peer does not hold are lost. */
  private endProcess(srv: SimServer, cause: string): void {
    const peer = this.peerOf(srv);
    const lost = this.calls.endProcess(srv.pair, srv.app, peer.app, peer.proc === "running" || peer.proc === "hung", cause);
    if (lost > 0) this.log(`${lost} calls lost: only ${srv.app} held them (${cause})`);
  }

  /**
   * `srv` applied primary under a new epoch: its calls are the pair's from now on, and those its peer
   * held beyond them are lost. That must have been unavoidable (lossExcuse), or it is a violation.
   */
  private takesPrimary(srv: SimServer, issuer: SimConsole | null): void {
    const peer = this.peerOf(srv);
    const key = `${srv.pair}:${srv.epoch}`;
    const cause = this.promotionCauses.get(key) ?? "no order seen";
    const lost = this.calls.handOver(srv.pair, srv.app, peer.app, `role change (${cause})`);
    if (lost === 0) return;
    const excuse = this.lossExcuse(peer, key, issuer);
    this.log(`${lost} calls lost: ${srv.app} became primary at e${srv.epoch} (${cause}) without them; ${peer.app} held them — ${excuse ?? "not excused"}`);
    if (!excuse) {
      this.fail(
        `${srv.pair} lost ${lost} calls when ${srv.app} became primary at epoch ${srv.epoch} (${cause}): ${peer.app} held them and could have kept them ` +
          `(its process runs, ${peer.host} is connected), no double-failure alarm was raised for epoch ${srv.epoch} and no operator forced it`,
      );
    }
  }

  /** A primary demoted while its peer claims primary too (a split brain ends): the peer's calls are the truth. */
  private givesUpPrimary(srv: SimServer): void {
    const peer = this.peerOf(srv);
    if (this.calls.source(srv.pair) !== srv.app || peer.role !== "primary" || (peer.proc !== "running" && peer.proc !== "hung")) return;
    const lost = this.calls.handOver(srv.pair, peer.app, srv.app, "split brain ended");
    if (lost > 0) this.log(`${lost} calls lost: ${srv.app} was demoted at e${srv.epoch} and ${peer.app}, primary too, lacks them`);
  }

  /**
   * Why the calls `holder` held could not be kept when a role change lost them, or null when they
   * could: its process was not running, its host was cut off, there was no console, or the console
   * raised a double-failure alarm for the promotion's epoch (`pair:epoch`), or an operator forced it.
   */
  private lossExcuse(holder: SimServer, key: string, issuer: SimConsole | null): string | null {
    if (holder.proc !== "running") return `${holder.app} is ${holder.proc}`;
    const host = this.hosts.get(holder.host)!;
    if (!host.linkUp) return `${holder.host}'s link is down`;
    if (!host.agentUp) return `${holder.host}'s agent is down`;
    if (!issuer) return "no console runs";
    const seen = issuer.shell.state.hosts[holder.host]?.connection ?? "unknown";
    if (seen !== "connected") return `the console sees ${holder.host} as ${seen}`;
    if (this.forcedSwitchovers.has(key)) return "an operator forced the switchover";
    if (this.doubleFailureAlarms.has(key)) return "the console raised a double-failure alarm";
    return null;
  }

  // ── invariants ──

  private fail(message: string): never {
    this.log(`VIOLATION ${message}`);
    throw new Violation(`t=${this.nowMs}: ${message}`);
  }

  /** What leaves the console: every role order persisted first, one primary per pair and epoch, readiness for operators. */
  private checkSends(input: Parameters<ControllerShell["handle"]>[0], out: ShellOutput, ctl: SimConsole): void {
    for (const s of out.send) {
      const c = s.command;
      if (c.type !== "set-role") continue;
      this.roleOrders++;
      const pairId = this.servers.get(c.application)!.pair;
      if (!this.historyEpochs.get(pairId)?.has(c.pairEpoch)) this.fail(`set-role ${c.application} ${c.role} e${c.pairEpoch} has no history row for its epoch`);
      if (!this.disturbedPairs.has(pairId)) this.fail(`${pairId} failed over although neither its servers nor its hosts had any fault (${c.application} ordered to ${c.role}, epoch ${c.pairEpoch})`);
      const m = this.maintenance.get(pairId);
      if (m && c.pairEpoch > m.sinceEpoch) {
        const plan = ctl.shell.state.pairStates[pairId]?.plan;
        if (!(plan?.epoch === c.pairEpoch && plan.cause === "operator")) {
          this.fail(`${pairId} is in maintenance since epoch ${m.sinceEpoch}, yet ${c.application} was ordered to ${c.role} at epoch ${c.pairEpoch} by the controller itself (${plan?.epoch === c.pairEpoch ? plan.cause : "no plan of that epoch"})`);
        }
      }
      if (c.role === "primary") {
        const key = `${pairId}:${c.pairEpoch}`;
        const before = this.primaryOrders.get(key);
        if (before !== undefined && before !== c.application) this.fail(`two primaries ordered under epoch ${c.pairEpoch} of ${pairId}: ${before} and ${c.application}`);
        this.primaryOrders.set(key, c.application);
        const plan = ctl.shell.state.pairStates[pairId]?.plan;
        if (!this.promotionCauses.has(key)) this.promotionCauses.set(key, plan?.epoch === c.pairEpoch ? plan.cause : "unknown cause");
      }
    }
    if (input.kind === "operator-switchover" && input.force) {
      // The promotion order may leave later (after the demotion): remember the epoch the switchover took.
      const plan = ctl.shell.state.pairStates[input.pairId]?.plan;
      if (plan?.cause === "operator" && plan.forced) this.forcedSwitchovers.add(`${input.pairId}:${plan.epoch}`);
    }
    if (input.kind === "operator-switchover" && !input.force) {
      const ps = ctl.shell.state.pairStates[input.pairId];
      const accepted = out.send.some((s) => s.command.type === "set-role") && ps?.plan?.cause === "operator";
      if (accepted) {
        const pair = this.pairs.find((p) => p.id === input.pairId)!;
        for (const ref of pair.apps) {
          if (this.deliveredReadiness.get(ref.appId)?.ready !== 1) this.fail(`unforced switchover of ${pair.id} ordered while ${ref.appId}'s last delivered readiness is not 1`);
        }
      }
    }
  }

  /** Whether the newest leadership's controller reaches the server's agent (and runs: not frozen, not cut off). */
  private reachable(srv: SimServer): boolean {
    const host = this.hosts.get(srv.host)!;
    const c = this.console;
    return c !== null && c.instance.agentsUp && this.nowMs >= c.instance.pausedUntilMs && host.linkUp && host.agentUp && host.session !== 0 && c.sessions.get(srv.host) === host.session;
  }

  /**
   * The lease, judged at this simulated instant by every instance's own clock and the database's: an
   * instance that may command is the row's holder (this process) at its term or a newer one of its own,
   * and the row's lease is in force — so no two may command at once. After the last disturbance some instance leads within the
   * TTL plus a bound (while one could: running, not frozen, reaching the database, no lossy network).
   */
  private checkLease(): void {
    const dbNow = this.dbNow();
    const row = this.leaseRow;
    let leading = false;
    for (const i of this.instances) {
      if (!this.mayCommandNow(i)) continue;
      leading = true;
      const term = i.lease.role === "leader" ? i.lease.term : -1;
      // The row's term may be newer than the instance's own: a late acquire of this same process, sent
      // while it followed, matched its own lease (holder and incarnation) and took term + 1. Its next
      // renewal is refused and it steps down; no other instance can lead meanwhile.
      if (row.holder !== i.id || row.incarnation !== `${i.id}#${i.incarnation}` || row.term < term || !leaseInForce(row, dbNow)) {
        this.fail(
          `${i.id} may command at term ${term} by its clock, but the database's lease is ${row.holder ?? "nobody"}'s (${row.incarnation ?? "-"}) at term ${row.term}, ` +
            `${leaseInForce(row, dbNow) ? "in force" : `expired ${dbNow - row.expiresAtMs} ms ago`}`,
        );
      }
    }
    // (A lossy network may keep every attempt from being answered in time: the bound starts when it heals.)
    const couldLead = this.lossy === 0 && this.instances.some((i) => i.alive && i.dbUp && this.nowMs >= i.pausedUntilMs);
    if (leading || !couldLead) {
      this.leaderlessSinceMs = null;
      return;
    }
    this.leaderlessSinceMs ??= this.nowMs;
    const boundMs = this.leaseTiming.ttlMs + this.limits.leaderBoundMs;
    if (this.nowMs - Math.max(this.leaderlessSinceMs, this.lastDisturbanceMs) > boundMs) this.fail(`no console instance has led for over ${boundMs} ms (lease TTL ${this.leaseTiming.ttlMs} ms + ${this.limits.leaderBoundMs} ms)`);
  }

  /** Maintenance past its expiry is over (the console ends it on its first step from then on). */
  private expireMaintenance(): void {
    for (const [pairId, m] of this.maintenance) if (m.untilMs !== null && this.nowMs >= m.untilMs) this.endMaintenance(pairId);
  }

  private checkInvariants(): void {
    this.expireMaintenance();
    this.checkLease();
    for (const pair of this.pairs) {
      const [a, b] = pair.apps.map((r) => this.servers.get(r.appId)!) as [SimServer, SimServer];
      const alive = (s: SimServer) => s.proc === "running" || s.proc === "hung";
      // Safety: at most one primary per pair per epoch.
      if (alive(a) && alive(b) && a.role === "primary" && b.role === "primary" && a.epoch === b.epoch) {
        this.fail(`${a.app} and ${b.app} are both primary under epoch ${a.epoch}`);
      }
      // Safety: a server claims primary only under an order of that epoch (or as first configured, at epoch 0).
      for (const s of [a, b]) {
        if (!alive(s) && s.proc !== "starting") continue;
        if (s.role !== "primary") continue;
        const ordered = this.primaryOrders.get(`${pair.id}:${s.epoch}`) === s.app;
        const initial = s.epoch === 0 && s.configuredRole === "primary" && s.startedAtMs < 0;
        if (!ordered && !initial) this.fail(`${s.app} claims primary at epoch ${s.epoch} without an order of that epoch`);
      }
      // Liveness is the controller's to keep, and it does not act on a pair in maintenance.
      if (this.maintenance.has(pair.id)) {
        this.splitSinceMs.delete(pair.id);
        this.noPrimarySinceMs.delete(pair.id);
        continue;
      }
      const since = Math.max(this.lastDisturbanceMs, 0);
      // Liveness: split brain between two reachable servers ends within a bound.
      const split = [a, b].every((s) => s.proc === "running" && s.role === "primary" && this.reachable(s));
      if (split) {
        const first = this.splitSinceMs.get(pair.id) ?? this.nowMs;
        this.splitSinceMs.set(pair.id, first);
        if (this.nowMs - Math.max(first, since) > this.limits.splitBrainWithinMs) this.fail(`split brain in ${pair.id} not resolved within ${this.limits.splitBrainWithinMs} ms`);
      } else this.splitSinceMs.delete(pair.id);
      // Liveness: a reachable healthy server becomes primary within a bound.
      const healthy = (s: SimServer) => s.proc === "running" && s.canBind && !s.nicDown && this.reachable(s) && this.hosts.get(s.host)!.sipNicUp && !this.noTraffic.has(pair.id);
      const serving = (s: SimServer) => s.proc === "running" && s.role === "primary" && s.canBind && !s.nicDown && this.hosts.get(s.host)!.sipNicUp && !this.noTraffic.has(pair.id);
      if ((healthy(a) || healthy(b)) && !serving(a) && !serving(b)) {
        const first = this.noPrimarySinceMs.get(pair.id) ?? this.nowMs;
        this.noPrimarySinceMs.set(pair.id, first);
        if (this.nowMs - Math.max(first, since) > this.limits.primaryWithinMs) {
          this.fail(`${pair.id} has a reachable healthy server but no serving primary for over ${this.limits.primaryWithinMs} ms`);
        }
      } else this.noPrimarySinceMs.delete(pair.id);
    }
  }
}

export function runSeed(opts: SimOptions): SimResult {
  const result = new SimWorld(opts).run();
  return { ...result, seed: opts.seed };
}

/** The controller state of a world after a run (tests look inside). */
export function finalState(world: SimWorld): ControllerState | null {
  return world.console?.shell.state ?? null;
}

// ───────────────────────────── trace formatting ─────────────────────────────

function describeFault(f: Fault): string {
  switch (f.kind) {
    case "crash":
    case "slow-restart":
    case "hang":
    case "bind-fail":
    case "nic-self-demotion":
      return `${f.kind} ${f.app} for ${f.durationMs}ms`;
    case "disconnect":
    case "sip-nic":
    case "agent-restart":
      return `${f.kind} ${f.host} for ${f.durationMs}ms`;
    case "no-traffic":
      return `no-traffic ${f.pair} for ${f.durationMs}ms`;
    case "lossy":
      return `lossy network for ${f.durationMs}ms`;
    case "console-restart":
      return `console restart: the leader's process (down ${f.durationMs}ms)`;
    case "console-stall":
      return `console stalled: the leader frozen for ${f.durationMs}ms`;
    case "leader-crash":
      return `leader crash (down ${f.durationMs}ms)`;
    case "leader-pause":
      return `leader paused for ${f.durationMs}ms`;
    case "db-split":
    case "agent-split":
      return `${f.leader ? "the leader" : `console-${f.instance + 1}`} cannot reach ${f.kind === "db-split" ? "the database" : "the agents"} for ${f.durationMs}ms`;
    case "forged":
      return `${f.from} forges reports about ${f.victim}`;
    case "switchover":
      return `operator ${f.force ? "forced " : ""}switchover ${f.pair}`;
    case "burst":
      return `${f.calls} new calls on ${f.pair}`;
    case "maintenance":
      return `maintenance of ${f.pair} for ${f.durationMs}ms${f.expires ? " (expires)" : " (ended by the operator)"}`;
  }
}

function describeWire(c: GatewayCommand): string {
  switch (c.type) {
    case "set-role":
      return `set-role ${c.application} ${c.role} e${c.pairEpoch}`;
    case "run-control-script":
      return `script ${c.application} ${c.action} e${c.pairEpoch}`;
    case "start":
      return `start ${c.application} as ${c.role} e${c.pairEpoch}`;
    case "stop":
      return `stop ${c.application}`;
    case "run-os-command":
      return "os-command";
  }
}

function describeInput(i: Parameters<ControllerShell["handle"]>[0]): string {
  switch (i.kind) {
    case "app-status":
      return `status ${i.msg.application} ${i.msg.status}`;
    case "role-report":
      return `role ${i.msg.application} ${i.msg.role} e${i.msg.epoch}`;
    case "readiness":
      return `ready ${i.msg.application} ${i.msg.report?.readyForSwitchover} ${i.msg.report?.sipListener}`;
    case "command-result":
      return `result ${i.result.commandId} ${i.result.outcome}`;
    case "command-receipt":
      return `receipt ${i.commandId}`;
    case "host-connected":
    case "host-disconnected":
      return `${i.kind} ${i.hostName}`;
    case "resync":
      return `resync ${i.hostName}`;
    case "operator-switchover":
      return `operator-switchover ${i.pairId}${i.force ? " forced" : ""}`;
    case "operator-maintenance":
      return `operator-maintenance ${i.pairId} ${i.on ? "on" : "off"}`;
    default:
      return i.kind;
  }
}
