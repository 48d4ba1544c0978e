// The controller's runner: the I/O around the shell (shell.ts) and the pure core. One input at a time,
// in arrival order: it steps the shell, persists what the step decided (epochs, intended primaries,
// stopped servers, timeline rows) BEFORE it sends that step's commands, sends them through the agent
// gateway, hands alarms on and logs every decision, command and alarm (so the console's log alone
// tells the story of a night). After a console restart it starts from the persisted epochs and
// rebuilds live state from the agents' resync (the core observes during its recovery grace).
import { retryWhileBusy, type Db } from "../db";
import type { AgentGateway, HostLiveState } from "../agents/gateway";
import { commandSubject, type AppStatusMessage, type CommandResult, type ReadinessReport, type Resync, type RoleReport } from "../../protocol/agent-wire";
import type { CancelAlarmCommand, ControllerState, PairConfig, RaiseAlarmCommand, StepFunction, Timing } from "../controller/core";
import { loadDirectory, type Directory } from "../config/directory";
import { logger, type Logger } from "../log";
import { ControllerShell, type HistoryRow, type OutgoingCommand, type ShellInput, type ShellOutput } from "./shell";
import * as repo from "./runtime.repository";
import type { PlanEnding } from "./plan-endings";

/** A decision waits at most this long for the database's write lock; then it is not persisted, so not sent. */
export const PERSIST_MAX_WAIT_MS = 30_000;
/** The runner works through its queue at most this long (ms) before it lets the thread read its sockets. */
export const DRAIN_SLICE_MS = 20;
/** Maximum inputs waiting for the shell; beyond it the oldest tick is dropped (never a report). */
export const MAX_QUEUED_INPUTS = 10_000;

export interface RunnerDeps {
  db: Db;
  gateway: AgentGateway;
  now?: () => number;
  timing?: Partial<Timing>;
  step?: StepFunction;
  /** Called after every step that changed something, for live views. */
  onChange?(state: ControllerState, reason: string): void;
  /** Alarm commands from the core (raise/cancel), handed to the alarm engine. */
  onAlarm?(command: RaiseAlarmCommand | CancelAlarmCommand): void;
  /** Plans that ended (completed, abandoned, …), for the web tier's metrics. */
  onPlanEnded?(ending: PlanEnding): void;
  /**
   * Several consoles: whether this one still holds the leadership lease. Nothing is decided, saved or
   * sent once it says no (the console is stepping down); asking it steps down at once when the lease ran out.
   */
  mayCommand?: () => boolean;
  /** Several consoles: the lease check run first in every step's transaction (a deposed leader's decisions are not saved). */
  saveFence?: repo.SaveFence;
  log?: Logger;
}

interface Queued {
  input: ShellInput;
  /** Called with the step's output once it is persisted and its commands sent (with their results to come). */
  done?: (out: ShellOutput, results: Promise<CommandResult>[]) => void;
}

export class ControllerRunner {
  private shell: ControllerShell | null = null;
  private readonly queue: Queued[] = [];
  private draining: Promise<void> | null = null;
  private ticker: NodeJS.Timeout | null = null;
  /** A tick is waiting in the queue (at most one is kept). */
  private tickQueued = false;
  private readonly now: () => number;
  private readonly log: Logger;
  private stopped = false;
  private writes: Promise<void> = Promise.resolve();
  private waitLogged = false;
  /** Timeline rows of steps whose save failed: written with the next save. */
  private readonly unsavedHistory: HistoryRow[] = [];

  constructor(private readonly deps: RunnerDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.log ?? logger("controller");
  }

  get current(): ControllerState | null {
    return this.shell?.state ?? null;
  }

  /** The pairs whose controller state may have changed since the last call (for live views). */
  takeChangedPairs(): Set<string> {
    return this.shell?.takeChangedPairs() ?? new Set();
  }

  /** Inputs waiting for the shell (a backlog here is decisions waiting). */
  get queuedInputs(): number {
    return this.queue.length;
  }

  async start(): Promise<void> {
    const [pairs, directory, persisted] = await Promise.all([repo.loadPairConfigs(this.deps.db), loadDirectory(this.deps.db), repo.loadPersisted(this.deps.db)]);
    this.shell = new ControllerShell({ pairs, directory, persisted, nowMs: this.now(), timing: this.deps.timing, step: this.deps.step });
    // Hosts already connected (the gateway started first) are fed as connections.
    for (const h of this.deps.gateway.hosts()) if (h.state === "connected") this.onHostState(h);
    this.ticker = setInterval(() => this.enqueue({ input: { kind: "tick" } }), this.shell.state.timing.tickIntervalMs);
    this.ticker.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    await this.draining;
    await this.writes;
  }

  /** Re-reads the pairs and the name directory after a configuration change. */
  async reloadConfig(): Promise<void> {
    const [pairs, directory] = await Promise.all([repo.loadPairConfigs(this.deps.db), loadDirectory(this.deps.db)]);
    this.enqueue({ input: { kind: "config", pairs, directory } });
  }

  /** W1/W12: an operator's switchover; resolves with the controller's sentence about it. */
  async operatorSwitchover(pairId: string, operator: string, force: boolean, reason: string): Promise<string> {
    return (await this.operatorSwitchoverOutcome(pairId, operator, force, reason)).sentence;
  }

  /** The same, and whether the controller ordered it (a new plan of the operator's at a new epoch) or refused it. */
  async operatorSwitchoverOutcome(pairId: string, operator: string, force: boolean, reason: string): Promise<SwitchoverOutcome> {
    const epochBefore = this.shell?.state.pairStates[pairId]?.epoch ?? null;
    const { out } = await this.enqueueAndWait({ kind: "operator-switchover", pairId, operator, force, reason });
    const ps = this.shell?.state.pairStates[pairId];
    const plan = ps?.plan ?? null;
    const ordered = epochBefore !== null && plan !== null && plan.cause === "operator" && plan.epoch > epochBefore;
    return { sentence: out.decisions.filter((d) => d.pairId === pairId).map((d) => d.sentence).join("; ") || out.reason, ordered, epoch: ps?.epoch ?? 0 };
  }

  /** Puts a pair in maintenance or ends it (the core decides; the sentence says what it did or why not). */
  async operatorMaintenance(pairId: string, operator: string, on: boolean, reason: string, untilMs: number | null): Promise<MaintenanceOutcome> {
    const before = this.shell?.state.pairStates[pairId]?.maintenance ?? null;
    const { out } = await this.enqueueAndWait({ kind: "operator-maintenance", pairId, operator, on, reason, untilMs });
    const after = this.shell?.state.pairStates[pairId]?.maintenance ?? null;
    const accepted = on ? after !== null && after.by === operator && after.reason === reason.trim() && after.untilMs === untilMs : before !== null && after === null;
    return { sentence: out.decisions.filter((d) => d.pairId === pairId).map((d) => d.sentence).join("; ") || out.reason, accepted };
  }

  /** A row for the pair's timeline from a guided procedure (W14 upgrade, scheduled switchover); resolves once it is saved. */
  async note(pairId: string, text: string): Promise<void> {
    const { out } = await this.enqueueAndWait({ kind: "note", pairId, text });
    if (out.reason.startsWith("not done:")) throw new Error(out.reason);
  }

  /**
   * An operator's start or stop of a server. A server of a pair goes through the controller (it starts
   * as backup at the current epoch; a stop is remembered); an application in no pair is sent directly.
   * Resolves with the agent's result.
   */
  async operatorApplication(appId: string, action: "start" | "stop", operator: string, directory: Directory): Promise<CommandResult> {
    const inPair = this.shell?.state.apps[appId] !== undefined;
    if (!inPair) {
      const app = directory.appsById.get(appId);
      if (!app) throw new Error(`application ${appId} does not exist`);
      const deadline = new Date(this.now() + 30_000).toISOString();
      const base = { id: `${action}:${appId}:${this.now()}`, application: app.name, pairEpoch: 0, deadline };
      return this.deps.gateway.sendCommand(app.hostName, action === "start" ? { ...base, type: "start", role: null } : { ...base, type: "stop" });
    }
    const { out, results } = await this.enqueueAndWait({ kind: "operator-application", appId, action, operator });
    const i = out.send.findIndex((s) => s.appId === appId && s.origin === (action === "start" ? "start-application" : "stop-application"));
    if (i < 0) throw new Error(out.reason);
    return results[i]!;
  }

  // ---- gateway callbacks → inputs ------------------------------------------------------------

  onHostState(h: HostLiveState): void {
    this.enqueue({ input: h.state === "connected" ? { kind: "host-connected", hostName: h.hostName } : { kind: "host-disconnected", hostName: h.hostName, detail: h.reason } });
  }
  onResync(hostName: string, snapshot: Resync): void {
    this.enqueue({ input: { kind: "resync", hostName, snapshot } });
  }
  onAppStatus(hostName: string, msg: AppStatusMessage): void {
    this.enqueue({ input: { kind: "app-status", hostName, msg } });
  }
  onRoleReport(hostName: string, msg: RoleReport): void {
    this.enqueue({ input: { kind: "role-report", hostName, msg } });
  }
  onReadiness(hostName: string, msg: ReadinessReport): void {
    this.enqueue({ input: { kind: "readiness", hostName, msg } });
  }
  onCommandReceipt(hostName: string, commandId: string): void {
    this.enqueue({ input: { kind: "command-receipt", hostName, commandId } });
  }
  onCommandResult(hostName: string, result: CommandResult): void {
    // Results still arriving while the console shuts down have nobody to feed and nowhere to be written.
    if (this.stopped) return;
    this.enqueue({ input: { kind: "command-result", hostName, result } });
  }

  // ---- the loop ------------------------------------------------------------------------------

  private enqueueAndWait(input: ShellInput): Promise<{ out: ShellOutput; results: Promise<CommandResult>[] }> {
    if (this.stopped || !this.shell) return Promise.reject(new Error("the controller is not running"));
    return new Promise((resolve) => this.enqueue({ input, done: (out, results) => resolve({ out, results }) }));
  }

  private enqueue(item: Queued): void {
    if (this.stopped || !this.shell) return;
    // A tick is only a reading of the clock: one waiting is enough. When steps take longer than the tick
    // interval (thousands of pairs on a busy machine) ticks would otherwise fill the queue and every
    // report would wait behind them.
    if (item.input.kind === "tick") {
      if (this.tickQueued) return;
      this.tickQueued = true;
    }
    if (this.queue.length >= MAX_QUEUED_INPUTS) {
      const tick = this.queue.findIndex((q) => q.input.kind === "tick");
      if (tick >= 0) {
        this.queue.splice(tick, 1);
        this.tickQueued = item.input.kind === "tick";
      }
    }
    this.queue.push(item);
    this.kick();
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.queue.length && !this.stopped) this.kick();
    });
  }

  private async drain(): Promise<void> {
    let sliceStartMs = performance.now();
    while (this.queue.length && this.shell) {
      // Each step looks at every pair: with thousands of pairs a long queue (hundreds of agents
      // connecting at once) would hold this thread for many seconds, and no agent's connection, report
      // or command result would be read meanwhile. Let them in every few tens of milliseconds; they only
      // join the queue, whose order stays.
      if (performance.now() - sliceStartMs > DRAIN_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStartMs = performance.now();
        if (!this.shell) return;
      }
      // A console that no longer leads decides nothing more: the lease keeper is ending its thread.
      if (this.deps.mayCommand && !this.deps.mayCommand()) return;
      const item = this.queue.shift()!;
      if (item.input.kind === "tick") this.tickQueued = false;
      const out = this.shell.handle(item.input, this.now());
      if (out.refused) this.log.warn("input refused", { input: item.input.kind, reason: out.refused });
      // What happened happened, saved or not: the state has moved on either way.
      for (const ending of out.planEnds) this.deps.onPlanEnded?.(ending);
      if (out.persist) {
        try {
          await this.persist(out.persist);
          this.shell.confirmPersisted(out.persist.pairs);
        } catch (err) {
          // Not persisted → not sent: fencing must never run ahead of the database. The core re-sends
          // on a later tick, and that step persists the epoch (its diff still holds it) before sending.
          // Its timeline rows are kept for the next save, and its alarms still go out: they report
          // conditions, they order nothing (and the core will not raise them again).
          this.unsavedHistory.push(...out.persist.history);
          this.log.error("a decision could not be saved; its commands are not sent", { error: String(err), reason: out.reason });
          this.tell({ ...out, send: [] });
          this.withdraw(out);
          for (const a of out.alarms) this.deps.onAlarm?.(a);
          item.done?.({ ...out, send: [], reason: `not done: the decision could not be saved (${String(err)})` }, []);
          continue;
        }
      }
      this.tell(out);
      this.withdraw(out);
      const results = out.send.map((c) => this.send(c));
      for (const a of out.alarms) this.deps.onAlarm?.(a);
      item.done?.(out, results);
      if (out.changed) this.deps.onChange?.(this.shell.state, out.reason);
    }
  }

  /**
   * Every decision, command, command result and alarm goes to the console's log, one line each, with the
   * pair, its epoch and the reason: a decision's line is its sentence; a command's reason is the pair's
   * decision in this step (or, for a repeat or a plan's next step, the pair's situation); an alarm's is
   * its text; a result's line says what the host answered.
   */
  private tell(out: ShellOutput): void {
    const state = this.shell!.state;
    const pairName = (id: string | null) => (id ? (state.pairs[id]?.name ?? id) : null);
    const epochOf = (id: string | null) => (id ? state.pairStates[id]?.epoch : undefined);
    for (const d of out.decisions) this.log.info(d.sentence, { pair: pairName(d.pairId), epoch: epochOf(d.pairId) });
    for (const c of out.send) {
      const decided = out.decisions.filter((d) => d.pairId === c.pairId).map((d) => d.sentence);
      const reason = decided.length > 0 ? decided.join("; ") : (state.pairStates[c.pairId]?.situation ?? "");
      const { application, pairEpoch } = commandSubject(c.command);
      this.log.info(`sent ${c.text}`, { pair: pairName(c.pairId), epoch: pairEpoch, host: c.hostName, application, command: c.command.id, reason });
    }
    for (const row of out.persist?.history ?? []) {
      if (row.kind === "command-result") this.log.info(row.text, { pair: pairName(row.pairId), epoch: row.epoch });
    }
    for (const a of out.alarms) {
      const fields = { pair: pairName(a.pairId), epoch: epochOf(a.pairId), kind: a.kind, reason: a.text };
      if (a.type === "raise-alarm") this.log.warn(`alarm raised: ${a.text}`, fields);
      else this.log.info(`alarm cleared: ${a.text}`, fields);
    }
  }

  /** Commands of plans that ended unfinished and never went out stay unsent (ShellOutput.withdraw). */
  private withdraw(out: ShellOutput): void {
    for (const w of out.withdraw) {
      if (this.deps.gateway.withdrawCommand(w.hostName, w.commandId, w.why)) this.log.info(`withdrawn ${w.commandId}: never sent, and ${w.why}`, { host: w.hostName });
    }
  }

  private send(c: OutgoingCommand): Promise<CommandResult> {
    // The gateway delivers (and sends a repeat of a pending id again); every result — late ones and its
    // own no-answer results too — also comes back through onCommandResult.
    const result = this.deps.gateway.sendCommand(c.hostName, c.command);
    result.catch((err: unknown) => this.log.error("sending a command failed", { host: c.hostName, command: c.command.id, error: String(err) }));
    return result;
  }

  /**
   * One database write at a time, in order (overlapping transactions on one SQLite connection rolled
   * each other back). The web tier may hold the write lock (an import): wait for it without blocking
   * this thread.
   */
  private persist(p: NonNullable<ShellOutput["persist"]>): Promise<void> {
    // Rows of a step whose save failed go first, in their order, with this step's.
    const history = this.unsavedHistory.length ? [...this.unsavedHistory, ...p.history] : p.history;
    const next = this.writes.then(() =>
      retryWhileBusy(() => repo.saveStep(this.deps.db, p.pairs, history, this.deps.saveFence), {
        maxWaitMs: PERSIST_MAX_WAIT_MS,
        onWait: (waitedMs) => {
          if (waitedMs > 1_000 && !this.waitLogged) {
            this.waitLogged = true;
            this.log.warn("waiting for the database's write lock (held by the web tier) to save a decision", { waitedMs });
          }
        },
      })
        .then(() => {
          if (history !== p.history) this.unsavedHistory.splice(0, history.length - p.history.length);
        })
        .finally(() => (this.waitLogged = false)),
    );
    this.writes = next.catch(() => {});
    return next;
  }
}

export type { PairConfig };

/** What became of an operator's maintenance request: the controller's sentence, and whether it took it. */
export interface MaintenanceOutcome {
  sentence: string;
  accepted: boolean;
}

/** What became of an operator's switchover: the controller's sentence, and whether it ordered the role change. */
export interface SwitchoverOutcome {
  sentence: string;
  ordered: boolean;
  /** The pair's epoch after the request (the new plan's epoch when ordered): automation follows the plan by it. */
  epoch: number;
}
