// The controller's runner (the thin shell around the pure core): turns agent gateway reports and timer
// ticks into core events, one at a time; persists each step's decisions (epoch, intended primary,
// history rows) BEFORE sending its commands; executes set-role and control-script commands through
// the agents and feeds their results back as events. After a console restart it starts from the
// persisted epochs and rebuilds live state from the agents' resync (the core observes during its
// recovery grace, so roles do not flap).
import { retryWhileBusy, type Db } from "../db";
import type { AgentGateway, HostLiveState } from "../agents/gateway";
import type { AppStatusMessage, CommandResult, ReadinessReport, Resync, RoleReport } from "../../protocol/agent-wire";
import {
  createControllerState,
  persistedView,
  step as coreStep,
  type ControllerCommand,
  type ControllerEvent,
  type ControllerState,
  type PairConfig,
  type PersistedPairState,
  type RunControlScriptCommand,
  type SetRoleCommand,
  type StepFunction,
  type Timing,
} from "../controller/core";
import * as repo from "./runtime.repository";
import { startRoleFor } from "../controller/predicates";

export interface RunnerDeps {
  db: Db;
  gateway: AgentGateway;
  now?: () => number;
  timing?: Partial<Timing>;
  step?: StepFunction;
  /** Called after every step that changed something, for live views. */
  onChange?(state: ControllerState, reason: string): void;
  /** Alarm commands from the core (raise/cancel), handed to the alarm engine. */
  onAlarm?(command: Extract<ControllerCommand, { type: "raise-alarm" | "cancel-alarm" }>): void;
  log?: (line: string) => void;
}

interface Names {
  hostIdByName: Map<string, string>;
  hostNameById: Map<string, string>;
  appIdByName: Map<string, string>;
  appById: Map<string, { name: string; hostId: string; pairId: string }>;
}

/** A configured backup is started at the latest this long after its agent asked, even if its partner never reported. */
export const BACKUP_START_WAIT_MS = 30_000;

/** A decision waits at most this long for the database's write lock; then it is not persisted, so not sent. */
export const PERSIST_MAX_WAIT_MS = 30_000;

/** Maximum events waiting for the core; beyond it the oldest tick is dropped (never a report). */
export const MAX_QUEUED_EVENTS = 10_000;

export class ControllerRunner {
  private state: ControllerState | null = null;
  private names: Names = { hostIdByName: new Map(), hostNameById: new Map(), appIdByName: new Map(), appById: new Map() };
  private queue: ControllerEvent[] = [];
  private draining: Promise<void> | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private readonly sent = new Map<string, SetRoleCommand | RunControlScriptCommand>();
  private readonly now: () => number;
  private readonly step: StepFunction;
  private stopped = false;
  private lastPersisted: Record<string, PersistedPairState> = {};

  constructor(private readonly deps: RunnerDeps) {
    this.now = deps.now ?? Date.now;
    this.step = deps.step ?? coreStep;
  }

  get current(): ControllerState | null {
    return this.state;
  }

  hostIdOf(hostName: string): string | undefined {
    return this.names.hostIdByName.get(hostName);
  }

  /** Where a start or stop of this application goes, at which epoch, and the role a start must take. */
  applicationTarget(appId: string): { appName: string; hostName: string; epoch: number; startRole: "primary" | "backup" } | null {
    const app = this.names.appById.get(appId);
    const hostName = app ? this.names.hostNameById.get(app.hostId) : undefined;
    if (!app || !hostName || !this.state?.apps[appId]) return null;
    return { appName: app.name, hostName, epoch: this.state.pairStates[app.pairId]?.epoch ?? 0, startRole: startRoleFor(this.state, appId) };
  }

  async start(): Promise<void> {
    const pairs = await this.loadPairs();
    this.lastPersisted = await repo.loadPersisted(this.deps.db);
    this.state = createControllerState({ nowMs: this.now(), pairs, persisted: this.lastPersisted, timing: this.deps.timing });
    // Hosts already connected (gateway started first) are fed as connections.
    for (const h of this.deps.gateway.hosts()) this.onHostState(h);
    this.ticker = setInterval(() => this.enqueue({ type: "tick", atMs: this.now() }), this.state.timing.tickIntervalMs);
    this.ticker.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    await this.draining;
    await this.writes;
  }

  /** Re-reads pairs after a configuration change. */
  async reloadConfig(): Promise<void> {
    const pairs = await this.loadPairs();
    this.enqueue({ type: "config-loaded", atMs: this.now(), pairs });
  }

  operatorSwitchover(pairId: string, operator: string, force: boolean, reason: string): Promise<string> {
    return this.enqueueAndWait({ type: "operator-switchover", atMs: this.now(), pairId, operator, force, reason });
  }

  // ---- gateway callbacks → events ------------------------------------------------------------

  onHostState(h: HostLiveState): void {
    const hostId = this.names.hostIdByName.get(h.hostName);
    if (!hostId) return;
    if (h.state === "connected") this.enqueue({ type: "agent-connected", atMs: this.now(), hostId });
    else this.enqueue({ type: "agent-disconnected", atMs: this.now(), hostId, detail: h.reason });
  }

  onResync(hostName: string, snapshot: Resync): void {
    this.autostart(hostName, snapshot);
    for (const app of snapshot.applications) {
      const ids = this.appIds(hostName, app.application);
      if (!ids) continue;
      // The resync is the agent's picture as of now, newer than anything it sent on the old
      // connection, but it carries old stamps (the status's "since"). The core forgets what the app
      // said when its host reconnects and ignores reports not newer than the last one it took, so
      // with those stamps the returning primary's role was dropped and a W3 split brain went unseen.
      const fresh = (kinds: ControllerEvent["type"][], agentStampMs: number) =>
        new Date(Math.max(agentStampMs, ...kinds.map((k) => (this.lastStamps.get(`${ids.appId}|${k}`) ?? -Infinity) + 1))).toISOString();
      const since = Date.parse(app.since);
      this.onAppStatus(hostName, { application: app.application, status: app.status, previous: null, detail: app.detail, pid: app.pid, exitCode: null, signal: null, time: fresh(["application-status"], since), restart: app.restart, lastOutput: app.lastOutput });
      if (app.role !== null && app.roleEpoch !== null) {
        this.onRoleReport(hostName, { application: app.application, role: app.role, epoch: app.roleEpoch, time: fresh(["role-report"], since) });
      }
      if (app.readiness) this.onReadiness(hostName, { ...app.readiness, time: fresh(["readiness-report", "application-status"], Date.parse(app.readiness.time)) });
    }
  }

  onAppStatus(hostName: string, msg: AppStatusMessage): void {
    const ids = this.appIds(hostName, msg.application);
    if (!ids) return;
    this.enqueue({ type: "application-status", atMs: this.now(), ...ids, status: msg.status, detail: msg.detail, sentAtMs: Date.parse(msg.time) });
  }

  onRoleReport(hostName: string, msg: RoleReport): void {
    const ids = this.appIds(hostName, msg.application);
    if (!ids) return;
    this.enqueue({ type: "role-report", atMs: this.now(), ...ids, role: msg.role, epoch: msg.epoch, sentAtMs: Date.parse(msg.time) });
  }

  onReadiness(hostName: string, msg: ReadinessReport): void {
    const ids = this.appIds(hostName, msg.application);
    if (!ids) return;
    const r = msg.report;
    this.enqueue({
      type: "readiness-report",
      atMs: this.now(),
      ...ids,
      readyForSwitchover: r ? r.readyForSwitchover : 0,
      notReadyReasons: r ? r.notReadyReasons : [`readiness unknown: ${msg.error ?? "no report"}`],
      haLink: r ? r.haLink : "unknown",
      sipListener: r ? r.sipListener : "unknown",
      sentAtMs: Date.parse(msg.time),
    });
    // The server's own status and back-off arrive with readiness too (W4/W5 visibility).
    if (r) {
      this.enqueue({
        type: "application-status",
        atMs: this.now(),
        ...ids,
        status: r.status === "service-unavailable" ? "service-unavailable" : "running",
        oosBackoff: r.oosBackoff,
        detail: r.status === "service-unavailable" ? "the server reports SERVICE_UNAVAILABLE" : "",
        sentAtMs: Date.parse(msg.time),
      });
    }
  }

  onCommandResult(_hostName: string, result: CommandResult): void {
    // Results still arriving while the console shuts down have nobody to feed and no database to write to.
    if (this.stopped) return;
    const cmd = this.sent.get(result.commandId);
    if (!cmd) return;
    this.sent.delete(result.commandId);
    const ok = result.outcome === "ok";
    const atMs = this.now();
    if (cmd.type === "run-control-script") {
      this.enqueue({ type: "control-script-result", atMs, commandId: cmd.commandId, pairId: cmd.pairId, hostId: cmd.hostId, action: cmd.action, ok, detail: result.reason });
    }
    if (result.outcome === "no-answer") this.enqueue({ type: "command-timeout", atMs, commandId: cmd.commandId });
    else this.enqueue({ type: "command-result", atMs, commandId: cmd.commandId, ok, detail: `${result.outcome}: ${result.reason}` });
    // A set-role the server acknowledged is also the server's report of its new role (the core counts
    // a role step done on the role report, DECISIONS.md).
    if (cmd.type === "set-role" && ok) {
      this.enqueue({ type: "role-report", atMs, hostId: cmd.hostId, appId: cmd.appId, role: cmd.role, epoch: cmd.epoch, sentAtMs: Date.parse(result.finishedAt) });
    }
    void this.serializedWrite(() => repo.appendHistory(this.deps.db, [
      { pairId: cmd.pairId, epoch: cmd.epoch, kind: "command-result", text: `${describeCommand(cmd, this.names)}: ${result.outcome} — ${result.reason}`, data: { commandId: cmd.commandId, outcome: result.outcome, scripts: result.scripts } },
    ])).catch((err) => this.log(`history write failed: ${String(err)}`));
  }

  /**
   * One database write at a time, in the order they were asked for. Overlapping interactive
   * transactions on the one SQLite connection rolled each other back (seen in the workflow tests:
   * "Transaction already closed"), losing history rows; the queue also keeps the timeline in order.
   */
  private writes: Promise<void> = Promise.resolve();
  private waitLogged = false;
  private serializedWrite(write: () => Promise<void>): Promise<void> {
    // The web tier may hold the write lock (an import): wait for it without blocking this thread.
    const next = this.writes.then(() =>
      retryWhileBusy(write, {
        maxWaitMs: PERSIST_MAX_WAIT_MS,
        onWait: (waitedMs) => {
          if (waitedMs > 1_000 && !this.waitLogged) {
            this.waitLogged = true;
            this.log(`waiting for the database's write lock (held by the web tier) to persist a decision; ${waitedMs} ms so far`);
          }
        },
      }).finally(() => (this.waitLogged = false)),
    );
    this.writes = next.catch(() => {});
    return next;
  }

  // ---- the loop ------------------------------------------------------------------------------

  private waiters = new Map<ControllerEvent, (reason: string) => void>();

  private enqueueAndWait(event: ControllerEvent): Promise<string> {
    return new Promise((resolve) => {
      this.waiters.set(event, resolve);
      this.enqueue(event);
    });
  }

  /** Newest agent stamp taken per `appId|event type`, so a resync can be stamped newer (onResync). */
  private readonly lastStamps = new Map<string, number>();

  private enqueue(event: ControllerEvent): void {
    if (this.stopped || !this.state) return;
    if ("sentAtMs" in event && "appId" in event) {
      const key = `${event.appId}|${event.type}`;
      this.lastStamps.set(key, Math.max(event.sentAtMs, this.lastStamps.get(key) ?? -Infinity));
    }
    if (this.queue.length >= MAX_QUEUED_EVENTS) {
      const tick = this.queue.findIndex((e) => e.type === "tick");
      if (tick >= 0) this.queue.splice(tick, 1);
    }
    this.queue.push(event);
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
    while (this.queue.length && this.state) {
      const event = this.queue.shift()!;
      const result = this.step(this.state, event);
      this.state = result.state;
      const waiter = this.waiters.get(event);
      this.waiters.delete(event);
      try {
        await this.persist(result.commands, result.decisions, event);
      } catch (err) {
        // Not persisted → not sent: fencing must never run ahead of the database.
        this.log(`could not persist a decision, its commands are not sent: ${String(err)}`);
        waiter?.(`not done: the decision could not be saved (${String(err)})`);
        continue;
      }
      waiter?.(result.reason);
      this.execute(result.commands);
      if (this.deferredStarts.size) this.releaseStarts();
      if (result.commands.length || result.decisions.length || event.type !== "tick") this.deps.onChange?.(this.state, result.reason);
    }
  }

  private async persist(commands: ControllerCommand[], decisions: { pairId: string | null; sentence: string }[], event: ControllerEvent): Promise<void> {
    const view = persistedView(this.state!);
    const changed = Object.entries(view).filter(([id, p]) => {
      const before = this.lastPersisted[id];
      return !before || before.epoch !== p.epoch || before.intendedPrimaryAppId !== p.intendedPrimaryAppId;
    });
    const history = commands.flatMap((c): repo.HistoryRow[] => {
      if (c.type === "record-history") return [{ pairId: c.pairId, epoch: c.epoch, kind: "decision", text: c.text, data: null }];
      if (c.type === "raise-alarm" || c.type === "cancel-alarm") {
        return [{ pairId: c.pairId, epoch: this.state!.pairStates[c.pairId]?.epoch ?? 0, kind: "alarm", text: `${c.type === "raise-alarm" ? "alarm raised" : "alarm cancelled"} (${c.kind}): ${c.text}`, data: null }];
      }
      if (c.type === "set-role" || c.type === "run-control-script") {
        return [{ pairId: c.pairId, epoch: c.epoch, kind: "command", text: `sent ${describeCommand(c, this.names)}`, data: { commandId: c.commandId } }];
      }
      return [];
    });
    if (event.type === "operator-switchover") {
      const text = decisions.find((d) => d.pairId === event.pairId)?.sentence ?? `switchover requested by ${event.operator}`;
      history.unshift({ pairId: event.pairId, epoch: this.state!.pairStates[event.pairId]?.epoch ?? 0, kind: "operator", text: `${event.operator} asked for a ${event.force ? "forced " : ""}switchover${event.reason ? ` (${event.reason})` : ""}: ${text}`, data: null });
    }
    if (!changed.length && !history.length) return;
    await this.serializedWrite(() => repo.saveStep(this.deps.db, Object.fromEntries(changed), history));
    for (const [id, p] of changed) this.lastPersisted[id] = p;
  }

  private execute(commands: ControllerCommand[]): void {
    for (const c of commands) {
      switch (c.type) {
        case "set-role":
        case "run-control-script":
          this.send(c);
          break;
        case "raise-alarm":
        case "cancel-alarm":
          this.deps.onAlarm?.(c);
          break;
        case "record-history":
          break; // persisted above
      }
    }
  }

  private send(c: SetRoleCommand | RunControlScriptCommand): void {
    const hostName = this.names.hostNameById.get(c.hostId);
    if (!hostName) return;
    const app =
      c.type === "set-role"
        ? this.names.appById.get(c.appId)
        : [...this.names.appById.values()].find((a) => a.pairId === c.pairId && a.hostId === c.hostId);
    if (!app) return;
    this.sent.set(c.commandId, c);
    const deadline = new Date(this.now() + (this.state?.timing.switchoverTimeoutMs ?? 10_000)).toISOString();
    const base = { id: c.commandId, application: app.name, pairEpoch: c.epoch, deadline };
    const wire =
      c.type === "set-role"
        ? { ...base, type: "set-role" as const, role: c.role }
        : { ...base, type: "run-control-script" as const, action: c.action, reason: `epoch ${c.epoch}` };
    // The gateway retries with the same id; every result (late ones and its own no-answer results
    // too) arrives through onCommandResult, wired by the console.
    this.deps.gateway.sendCommand(hostName, wire).catch((err) => this.log(`sending ${c.commandId} to ${hostName} failed: ${String(err)}`));
  }

  /**
   * Like SCS with autostart: applications an agent reports as never started ("stopped") when it
   * (re)connects are started — the configured primary first. A configured backup waits until its
   * partner has reported a role (or is known down, or BACKUP_START_WAIT_MS passed), so a cold start
   * does not race two servers for the primary role. A process that failed is left failed for an
   * operator to look at; the controller moves the primary role away from it instead.
   */
  private autostart(hostName: string, snapshot: Resync): void {
    for (const app of snapshot.applications) {
      // Once per agent start: after an agent restart its applications start again; an operator's stop
      // while the agent runs is not undone by a reconnect.
      const key = `${hostName}/${app.application}/${snapshot.agentStartedAt}`;
      if (app.status !== "stopped" || this.autostarted.has(key)) continue;
      this.autostarted.add(key);
      this.deferredStarts.set(key, { hostName, application: app.application, notAfterMs: this.now() + BACKUP_START_WAIT_MS });
    }
    this.releaseStarts();
  }

  /** Starts the deferred applications whose turn has come (called after every step). */
  private releaseStarts(): void {
    for (const [key, d] of this.deferredStarts) {
      const appId = this.names.appIdByName.get(d.application);
      const pairId = appId ? this.names.appById.get(appId)?.pairId : undefined;
      const pair = pairId ? this.state?.pairs[pairId] : undefined;
      const partnerId = pair && appId === pair.apps[1].appId ? pair.apps[0].appId : null;
      const partner = partnerId ? this.state?.apps[partnerId] : undefined;
      const partnerSettled =
        !partner ||
        partner.role !== null ||
        ["failed", "stopped", "stopping"].includes(partner.status) ||
        this.state?.hosts[partner.hostId]?.connection !== "connected";
      if (!partnerSettled && this.now() < d.notAfterMs) continue;
      this.deferredStarts.delete(key);
      const epoch = (pairId && this.state?.pairStates[pairId]?.epoch) || 0;
      const deadline = new Date(this.now() + 30_000).toISOString();
      this.deps.gateway
        .sendCommand(d.hostName, { id: `autostart-${d.hostName}-${d.application}-${this.now()}`, type: "start", application: d.application, pairEpoch: epoch, role: partnerId ? "backup" : "primary", deadline })
        .then((r) => this.log(`autostart ${d.application} on ${d.hostName}: ${r.outcome} — ${r.reason}`))
        .catch((err) => this.log(`autostart ${d.application} on ${d.hostName} failed: ${String(err)}`));
    }
  }

  /** host/application/agent-start keys already autostarted. */
  private readonly autostarted = new Set<string>();
  private readonly deferredStarts = new Map<string, { hostName: string; application: string; notAfterMs: number }>();

  // ---- helpers -------------------------------------------------------------------------------

  private appIds(hostName: string, appName: string): { hostId: string; appId: string } | null {
    const hostId = this.names.hostIdByName.get(hostName);
    const appId = this.names.appIdByName.get(appName);
    if (!hostId || !appId) return null;
    return { hostId, appId };
  }

  private async loadPairs(): Promise<PairConfig[]> {
    const rows = await repo.loadPairConfigs(this.deps.db);
    const names: Names = { hostIdByName: new Map(), hostNameById: new Map(), appIdByName: new Map(), appById: new Map() };
    for (const p of rows) {
      for (const a of p.apps) {
        names.hostIdByName.set(a.hostName, a.hostId);
        names.hostNameById.set(a.hostId, a.hostName);
        names.appIdByName.set(a.appName, a.appId);
        names.appById.set(a.appId, { name: a.appName, hostId: a.hostId, pairId: p.id });
      }
    }
    this.names = names;
    return rows;
  }

  private log(line: string): void {
    (this.deps.log ?? ((l: string) => console.log(`[controller] ${l}`)))(line);
  }
}

function describeCommand(c: SetRoleCommand | RunControlScriptCommand, names: Names): string {
  const host = names.hostNameById.get(c.hostId) ?? c.hostId;
  if (c.type === "set-role") return `set-role ${names.appById.get(c.appId)?.name ?? c.appId} → ${c.role} (epoch ${c.epoch}) on ${host}`;
  return `${c.action} ${c.target === "vip" ? "VIP" : "NLB port"} on ${host} (epoch ${c.epoch})`;
}
