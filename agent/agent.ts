// The host agent (LCA role) put together: the console connection, the command ledger (idempotency
// and fencing), process supervision, control-script drivers, readiness polling, the local
// application contract and the health file. Commands are data; each is admitted by the ledger, then
// executed in order per pair, and its result kept until the console acknowledges it.
import fs from "node:fs";
import path from "node:path";
import {
  setRoleResponseSchema,
  sipServerStatusSchema,
  staleEpochResponseSchema,
  type AppRole,
  type ControlScriptResult,
  type LogEvent,
} from "../protocol/app-contract";
import {
  OS_COMMAND_MAX_OUTPUT_CHARS,
  describeZodError,
  isHostCommand,
  type AgentCommand,
  type ApplicationCommand,
  type AgentLogEvent,
  type ApplicationConfig,
  type CommandResult,
  type HostCommand,
  type HostConfig,
  type ReadinessReport,
  type Resync,
  type ScriptRun,
} from "../protocol/agent-wire";
import { CommandLedger } from "./command-ledger";
import { ConsoleConnection, type ConnectionState } from "./connection";
import { createDriver, driverProblems, type ControlDriver } from "./drivers";
import { startLocalServer, type LocalServer } from "./local-server";
import { runArgv } from "./run-script";
import { Supervisor } from "./supervisor";

export const AGENT_VERSION = "0.1.0";
/** Log events kept while the console is away; the oldest are dropped beyond this (and counted). */
export const MAX_QUEUED_LOG_EVENTS = 5000;
/** Wait for the console to acknowledge a result or a batch before trying again on the next flush. */
export const ACK_TIMEOUT_MS = 5000;
/** A readiness poll or a role request to an application gives up after this. */
export const APP_HTTP_TIMEOUT_MS = 2000;
/** How often the health file is rewritten even without changes, so a reader can see the agent is alive. */
export const HEALTH_REFRESH_MS = 5000;
/**
 * The queue OS commands share: one runs at a time, so an alarm storm cannot fork without bound, and
 * they never wait behind (or hold up) a pair's commands.
 */
const OS_COMMAND_QUEUE = "host:os-commands";

export interface AgentOptions {
  consoleUrl: string;
  hostName: string;
  token: string;
  stateDir: string;
  logDir: string;
  healthFile: string;
  localPort: number;
  /** On SIGTERM, stop the applications this agent started (default) or leave them running. */
  stopAppsOnExit: boolean;
  initialBackoffMs: number;
  maxBackoffMs: number;
  logMaxFileBytes: number;
  logMaxRotatedFiles: number;
  /**
   * Run `run-os-command` commands from the console (--allow-os-commands). Off by default: with it, a
   * console administrator can run any program on this host as the agent's user.
   */
  allowOsCommands: boolean;
  log?: (line: string) => void;
}

interface AppLive {
  role: AppRole | null;
  roleEpoch: number | null;
  readiness: ReadinessReport | null;
  readinessKey: string;
}

export class Agent {
  private readonly log: (line: string) => void;
  private readonly ledger: CommandLedger;
  private readonly supervisor: Supervisor;
  private readonly connection: ConsoleConnection;
  private local: LocalServer | null = null;
  private config: HostConfig | null = null;
  private readonly drivers = new Map<string, ControlDriver>();
  private readonly live = new Map<string, AppLive>();
  /** One promise chain per fencing key so commands for a pair run in arrival order. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private logQueue: AgentLogEvent[] = [];
  private droppedLogEvents = 0;
  private flushingLogs = false;
  private flushingResults = false;
  private readinessTimer: NodeJS.Timeout | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private readonly startedAt = new Date();
  private stopping = false;

  constructor(private readonly opts: AgentOptions) {
    this.log = opts.log ?? ((line) => console.log(`${new Date().toISOString()} [agent ${opts.hostName}] ${line}`));
    fs.mkdirSync(opts.stateDir, { recursive: true });
    this.ledger = new CommandLedger(path.join(opts.stateDir, "commands.json"));
    this.supervisor = new Supervisor({
      hostName: opts.hostName,
      logDir: opts.logDir,
      logMaxFileBytes: opts.logMaxFileBytes,
      logMaxRotatedFiles: opts.logMaxRotatedFiles,
      stateDir: opts.stateDir,
      agentUrl: () => this.local?.url ?? "",
      log: this.log,
      onStatus: (msg) => {
        this.log(`${msg.application}: ${msg.previous ?? "?"} → ${msg.status} (${msg.detail})`);
        if (msg.status === "stopped" || msg.status === "failed") this.forgetProcessState(msg.application);
        this.connection.send("appStatus", msg);
        this.writeHealth();
      },
    });
    this.connection = new ConsoleConnection({
      consoleUrl: opts.consoleUrl,
      hello: { hostName: opts.hostName, token: opts.token, agentVersion: AGENT_VERSION },
      initialBackoffMs: opts.initialBackoffMs,
      maxBackoffMs: opts.maxBackoffMs,
      log: this.log,
      onStateChange: () => this.writeHealth(),
      onConnected: () => {
        void this.sendResync().then(() => this.flushResults());
        void this.flushLogs();
        this.tellApplicationsConsole(true);
      },
      onDisconnected: () => this.tellApplicationsConsole(false),
      handlers: {
        config: (cfg, ack) => ack?.(this.applyConfig(cfg)),
        command: (cmd) => void this.onCommand(cmd),
        protocolError: (msg) => this.log(`the console refused our ${msg.event}: ${msg.reason}`),
      },
    });
  }

  async start(): Promise<void> {
    this.local = await startLocalServer(this.opts.localPort, {
      secretOf: (app) => {
        const s = this.supervisor.state(app);
        return s && s.status !== "stopped" && s.status !== "failed" ? s.secret : null;
      },
      status: (app, report) => {
        this.supervisor.reportFromApplication(app, report.status, report.detail);
        this.noteRole(app, report.role, report.epoch);
      },
      events: (app, events) => this.queueLogEvents(app, events),
      controlScript: (app, action, reason) => this.controlScriptForApplication(app, action, reason),
      vip: async (app) => {
        const found = this.driverFor(app);
        if ("error" in found) return found;
        const p = await found.driver.presence(found.pairTimeoutMs);
        return { present: p.present === true, address: p.address };
      },
      health: () => this.health(),
      log: this.log,
    });
    this.log(`local application contract on ${this.local.url}`);
    if (this.opts.allowOsCommands) this.log("--allow-os-commands: OS commands sent by the console will be run");
    this.healthTimer = setInterval(() => this.writeHealth(), HEALTH_REFRESH_MS);
    this.healthTimer.unref();
    this.connection.start();
    this.writeHealth();
  }

  /** Clean shutdown (SIGTERM): close the connection, stop applications if so configured, write the health file. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log(`stopping (${this.opts.stopAppsOnExit ? "stopping supervised applications" : "leaving applications running"})`);
    if (this.readinessTimer) clearInterval(this.readinessTimer);
    if (this.healthTimer) clearInterval(this.healthTimer);
    if (this.opts.stopAppsOnExit) await this.supervisor.stopAll("agent shutting down");
    this.connection.stop();
    await this.local?.close();
    this.writeHealth();
  }

  // --- configuration ------------------------------------------------------------------------

  private applyConfig(cfg: HostConfig): { revision: string; ok: boolean; errors: string[] } {
    const errors: string[] = [];
    if (cfg.hostName !== this.opts.hostName) {
      errors.push(`configuration is for host ${cfg.hostName}, this agent is ${this.opts.hostName}`);
      return { revision: cfg.revision, ok: false, errors };
    }
    for (const app of cfg.applications) {
      if (app.pair) errors.push(...driverProblems(this.driverContext(app, app.pair)));
    }
    if (errors.length > 0) return { revision: cfg.revision, ok: false, errors };
    this.config = cfg;
    this.supervisor.setConfig(cfg.applications);
    this.drivers.clear();
    for (const app of cfg.applications) {
      if (app.pair) this.drivers.set(app.name, createDriver(this.driverContext(app, app.pair)));
      if (!this.live.has(app.name)) this.live.set(app.name, { role: null, roleEpoch: null, readiness: null, readinessKey: "" });
    }
    if (this.readinessTimer) clearInterval(this.readinessTimer);
    this.readinessTimer = setInterval(() => void this.pollReadiness(), cfg.readinessPollMs);
    this.readinessTimer.unref();
    this.log(`configuration ${cfg.revision} applied: ${cfg.applications.map((a) => a.name).join(", ") || "no applications"}`);
    void this.sendResync();
    return { revision: cfg.revision, ok: true, errors: [] };
  }

  private driverContext(app: ApplicationConfig, pair: NonNullable<ApplicationConfig["pair"]>) {
    return { hostName: this.opts.hostName, application: app.name, pair, stateDir: this.opts.stateDir };
  }

  private appConfig(name: string): ApplicationConfig | null {
    return this.config?.applications.find((a) => a.name === name) ?? null;
  }

  private driverFor(app: string): { driver: ControlDriver; pairTimeoutMs: number; pair: string } | { error: string } {
    const cfg = this.appConfig(app);
    if (!cfg) return { error: `application ${app} is not configured on host ${this.opts.hostName}` };
    if (!cfg.pair) return { error: `application ${app} is in no HA pair, so it has no control script` };
    const driver = this.drivers.get(app);
    if (!driver) return { error: `no control driver for ${app}` };
    return { driver, pairTimeoutMs: cfg.pair.scriptTimeoutMs, pair: cfg.pair.name };
  }

  private fencingKey(app: string): string {
    return this.appConfig(app)?.pair?.name ?? `app:${app}`;
  }

  private serialise<T>(key: string, work: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev.then(work, work);
    const tail = next.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return next;
  }

  // --- commands -----------------------------------------------------------------------------

  private async onCommand(command: AgentCommand): Promise<void> {
    const key = isHostCommand(command) ? OS_COMMAND_QUEUE : this.fencingKey(command.application);
    const admission = this.ledger.admit(command, key, this.connection.consoleNowMs());
    switch (admission.kind) {
      case "duplicate-running":
        this.log(`command ${command.id} repeated while running; its result will follow`);
        return;
      case "duplicate-done":
        this.log(`command ${command.id} repeated; answering with its first result (${admission.result.outcome})`);
        void this.sendResult(admission.result);
        return;
      case "refuse":
        this.log(admission.result.reason);
        void this.sendResult(admission.result);
        return;
      case "execute":
        break;
    }
    const result = await this.serialise(key, () => this.execute(command)).catch((err: unknown) =>
      this.ledger.finish(command, "failed", `command ${command.id} failed inside the agent: ${err instanceof Error ? err.message : String(err)}`),
    );
    this.log(`command ${command.id} ${command.type} ${isHostCommand(command) ? "(host)" : command.application}: ${result.outcome}: ${result.reason}`);
    void this.sendResult(result);
  }

  /** Handlers keyed by command type; each returns the finished result. */
  private readonly commandHandlers: { [K in ApplicationCommand["type"]]: (cmd: Extract<ApplicationCommand, { type: K }>, app: ApplicationConfig) => Promise<CommandResult> } = {
    start: async (cmd, app) => {
      const r = await this.supervisor.start(app.name, `command ${cmd.id}`);
      return this.ledger.finish(cmd, r.ok ? "ok" : "failed", r.reason);
    },
    stop: async (cmd, app) => {
      const r = await this.supervisor.stop(app.name, `command ${cmd.id}`);
      return this.ledger.finish(cmd, r.ok ? "ok" : "failed", r.reason);
    },
    "set-role": async (cmd, app) => {
      const r = await this.setRole(app, cmd.role, cmd.pairEpoch, cmd.id);
      return this.ledger.finish(cmd, r.outcome, r.reason);
    },
    "run-control-script": async (cmd, app) => {
      const found = this.driverFor(app.name);
      if ("error" in found) return this.ledger.finish(cmd, "rejected", found.error);
      const run = await found.driver.run(cmd.action, found.pairTimeoutMs);
      this.connection.send("scriptRun", {
        application: app.name,
        pair: found.pair,
        action: cmd.action,
        requestedBy: "console",
        reason: cmd.reason,
        ok: run.ok,
        steps: run.steps.slice(0, 16),
        vipPresent: run.present,
        time: new Date().toISOString(),
      });
      return this.ledger.finish(cmd, run.ok ? "ok" : "failed", run.summary, run.steps.slice(0, 16));
    },
  };

  private async execute(command: AgentCommand): Promise<CommandResult> {
    if (isHostCommand(command)) return this.runOsCommand(command);
    const app = this.appConfig(command.application);
    if (!app) {
      const why = this.config ? `application ${command.application} is not configured on host ${this.opts.hostName}` : `host ${this.opts.hostName} has no configuration yet`;
      return this.ledger.finish(command, "rejected", why);
    }
    const handler = this.commandHandlers[command.type] as (c: ApplicationCommand, a: ApplicationConfig) => Promise<CommandResult>;
    return handler(command, app);
  }

  /** run-os-command: refused unless the operator of this host opted in; no shell; killed at its timeout. */
  private async runOsCommand(cmd: HostCommand): Promise<CommandResult> {
    const program = cmd.argv[0]!;
    if (!this.opts.allowOsCommands) {
      return this.ledger.finish(cmd, "rejected", `host ${this.opts.hostName} does not run OS commands: its agent was started without --allow-os-commands; ${program} was not run`);
    }
    // Commands wait in one queue; one that waited past its deadline is no longer wanted by the console.
    if (Date.parse(cmd.deadline) <= this.connection.consoleNowMs()) {
      return this.ledger.finish(cmd, "expired", `command ${cmd.id} waited past its deadline ${cmd.deadline} behind other OS commands; ${program} was not run`);
    }
    this.log(`command ${cmd.id}: running OS command ${JSON.stringify(cmd.argv)} (timeout ${cmd.timeoutMs} ms${cmd.reason ? `; ${cmd.reason}` : ""})`);
    const run = await runArgv(cmd.argv, { timeoutMs: cmd.timeoutMs, driver: "os-command" });
    const cut = (text: string) => (text.length > OS_COMMAND_MAX_OUTPUT_CHARS ? `${text.slice(0, OS_COMMAND_MAX_OUTPUT_CHARS)}\n[output truncated]` : text);
    const step = { ...run, stdout: cut(run.stdout), stderr: cut(run.stderr) };
    const reason = run.timedOut
      ? `${program} was killed after its timeout of ${cmd.timeoutMs} ms`
      : run.exitCode === null
        ? `${program} failed: ${run.stderr.trim().split("\n").at(-1) || "no exit code"}`
        : `${program} exited with code ${run.exitCode} after ${Math.round(run.durationMs)} ms`;
    return this.ledger.finish(cmd, run.ok ? "ok" : "failed", reason, [step]);
  }

  private async setRole(app: ApplicationConfig, role: AppRole, epoch: number, commandId: string): Promise<{ outcome: CommandResult["outcome"]; reason: string }> {
    const state = this.supervisor.state(app.name);
    if (!state || (state.status !== "running" && state.status !== "service-unavailable")) {
      return { outcome: "failed", reason: `${app.name} is ${state?.status ?? "unknown"}, so it cannot take the ${role} role` };
    }
    const port = app.options["http-port"];
    if (!port) {
      // A generic process has no role interface: the agent records the role so the console sees it.
      this.noteRole(app.name, role, epoch);
      return { outcome: "ok", reason: `${app.name} has no http-port; role ${role} at epoch ${epoch} recorded by the agent` };
    }
    let res: Response;
    try {
      res = await fetch(`http://${app.httpHost}:${port}/switchyard/v1/role`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${state.secret ?? ""}` },
        body: JSON.stringify({ role, epoch, commandId }),
        signal: AbortSignal.timeout(APP_HTTP_TIMEOUT_MS),
      });
    } catch (err) {
      return { outcome: "failed", reason: `${app.name} did not take the ${role} role: ${err instanceof Error ? err.message : String(err)}` };
    }
    const body: unknown = await res.json().catch(() => null);
    if (res.status === 409) {
      const stale = staleEpochResponseSchema.safeParse(body);
      return { outcome: "stale-epoch", reason: stale.success ? `${app.name} refused: ${stale.data.message}` : `${app.name} refused epoch ${epoch} as stale` };
    }
    const ok = setRoleResponseSchema.safeParse(body);
    if (res.status !== 200 || !ok.success) {
      return { outcome: "failed", reason: `${app.name} answered the role request with HTTP ${res.status}${ok.success ? "" : `: ${ok.error ? describeZodError(ok.error) : ""}`}` };
    }
    this.noteRole(app.name, ok.data.role, ok.data.epoch);
    return { outcome: "ok", reason: `${app.name} is now ${ok.data.role} at epoch ${ok.data.epoch}` };
  }

  private noteRole(app: string, role: AppRole, epoch: number): void {
    const live = this.live.get(app);
    if (!live || (live.role === role && live.roleEpoch === epoch)) return;
    live.role = role;
    live.roleEpoch = epoch;
    this.connection.send("roleReport", { application: app, role, epoch, time: new Date().toISOString() });
  }

  private async controlScriptForApplication(app: string, action: "enable" | "disable", reason: string): Promise<ControlScriptResult | { error: string }> {
    const found = this.driverFor(app);
    if ("error" in found) return found;
    const run = await this.serialise(found.pair, () => found.driver.run(action, found.pairTimeoutMs));
    this.connection.send("scriptRun", {
      application: app,
      pair: found.pair,
      action,
      requestedBy: "application",
      reason,
      ok: run.ok,
      steps: run.steps.slice(0, 16),
      vipPresent: run.present,
      time: new Date().toISOString(),
    });
    return combineSteps(run.ok, run.steps);
  }

  // --- outbound queues ----------------------------------------------------------------------

  private async sendResult(result: CommandResult): Promise<void> {
    const ack = await this.connection.sendWithAck("commandResult", result, ACK_TIMEOUT_MS);
    if (ack?.ok) this.ledger.acknowledged(result.commandId);
  }

  /** After a reconnect: every result the console has not acknowledged, oldest first. */
  private async flushResults(): Promise<void> {
    if (this.flushingResults) return;
    this.flushingResults = true;
    try {
      for (const result of this.ledger.unackedResults()) {
        if (!this.connection.isConnected()) break;
        await this.sendResult(result);
      }
    } finally {
      this.flushingResults = false;
    }
  }

  private queueLogEvents(app: string, events: LogEvent[]): void {
    for (const e of events) this.logQueue.push({ ...e, application: app });
    if (this.logQueue.length > MAX_QUEUED_LOG_EVENTS) {
      const drop = this.logQueue.length - MAX_QUEUED_LOG_EVENTS;
      this.logQueue.splice(0, drop);
      this.droppedLogEvents += drop;
      this.log(`log event queue full: dropped ${drop} oldest events (${this.droppedLogEvents} in total)`);
    }
    void this.flushLogs();
  }

  private async flushLogs(): Promise<void> {
    if (this.flushingLogs) return;
    this.flushingLogs = true;
    try {
      while (this.logQueue.length > 0 && this.connection.isConnected()) {
        const batch = this.logQueue.slice(0, 1000);
        const ack = await this.connection.sendWithAck("logEvents", { events: batch }, ACK_TIMEOUT_MS);
        if (!ack?.ok) break;
        // Only what was sent is removed: events queued meanwhile stay.
        this.logQueue.splice(0, batch.length);
      }
    } finally {
      this.flushingLogs = false;
    }
  }

  private async snapshot(): Promise<Resync> {
    const vip: Record<string, boolean | null> = {};
    for (const [app, driver] of this.drivers) {
      const pair = this.appConfig(app)?.pair;
      if (!pair || pair.name in vip) continue;
      vip[pair.name] = (await driver.presence(Math.min(pair.scriptTimeoutMs, 5000)).catch(() => ({ present: null }))).present;
    }
    return {
      agentVersion: AGENT_VERSION,
      agentStartedAt: this.startedAt.toISOString(),
      configRevision: this.config?.revision ?? null,
      applications: this.supervisor.states().map((s) => {
        const live = this.live.get(s.name);
        return {
          application: s.name,
          status: s.status,
          detail: s.detail.slice(0, 2000),
          pid: s.pid,
          since: s.since.toISOString(),
          role: live?.role ?? null,
          roleEpoch: live?.roleEpoch ?? null,
          readiness: live?.readiness ?? null,
          restart: null,
          lastOutput: "",
          running: null,
        };
      }),
      epochs: this.ledger.epochsSnapshot(),
      vip,
      inFlightCommandIds: this.ledger.runningIds(),
    };
  }

  private async sendResync(): Promise<void> {
    if (!this.connection.isConnected()) return;
    const snap = await this.snapshot();
    const ack = await this.connection.sendWithAck("resync", snap, ACK_TIMEOUT_MS);
    if (!ack?.ok) this.log(`resync not acknowledged${ack?.error ? `: ${ack.error}` : ""}`);
  }

  // --- readiness ----------------------------------------------------------------------------

  private forgetProcessState(app: string): void {
    const live = this.live.get(app);
    if (live) {
      live.readiness = null;
      live.readinessKey = "";
      // The process is gone and so is its role: the console wipes it too, so the restarted process's
      // first report (often the same role and epoch 0 again) must not be deduplicated away.
      live.role = null;
      live.roleEpoch = null;
    }
  }

  private async pollReadiness(): Promise<void> {
    await Promise.all(
      (this.config?.applications ?? []).map(async (app) => {
        const port = app.options["http-port"];
        const state = this.supervisor.state(app.name);
        const live = this.live.get(app.name);
        if (!port || !live || !state || (state.status !== "running" && state.status !== "service-unavailable")) return;
        let report: ReadinessReport;
        try {
          const res = await fetch(`http://${app.httpHost}:${port}/server?sipServer`, { signal: AbortSignal.timeout(APP_HTTP_TIMEOUT_MS) });
          const parsed = sipServerStatusSchema.safeParse(await res.json());
          report = parsed.success
            ? { application: app.name, report: parsed.data, error: null, time: new Date().toISOString() }
            : { application: app.name, report: null, error: `malformed readiness: ${describeZodError(parsed.error)}`.slice(0, 1000), time: new Date().toISOString() };
        } catch (err) {
          report = { application: app.name, report: null, error: `readiness poll failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000), time: new Date().toISOString() };
        }
        // Only changes travel; the resync carries the latest anyway.
        const key = JSON.stringify([report.report, report.error]);
        if (key === live.readinessKey) return;
        live.readinessKey = key;
        live.readiness = report;
        if (report.report) this.noteRole(app.name, report.report.role, report.report.epoch);
        this.connection.send("readiness", report);
      }),
    );
  }

  /** W8: applications with an HTTP interface learn whether their agent reaches the console. */
  private tellApplicationsConsole(connected: boolean): void {
    for (const app of this.config?.applications ?? []) {
      const port = app.options["http-port"];
      const state = this.supervisor.state(app.name);
      if (!port || !state || (state.status !== "running" && state.status !== "service-unavailable")) continue;
      fetch(`http://${app.httpHost}:${port}/switchyard/v1/console`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${state.secret ?? ""}` },
        body: JSON.stringify({ connected }),
        signal: AbortSignal.timeout(APP_HTTP_TIMEOUT_MS),
      }).catch(() => {
        // best effort: the application may not implement it or may be starting
      });
    }
  }

  // --- health -------------------------------------------------------------------------------

  connectionState(): ConnectionState {
    return this.connection.state;
  }

  health() {
    return {
      hostName: this.opts.hostName,
      agentVersion: AGENT_VERSION,
      pid: process.pid,
      consoleUrl: this.opts.consoleUrl,
      connection: this.connection.state,
      reason: this.connection.reason,
      lastHeartbeatAckAt: this.connection.lastHeartbeatAckAt?.toISOString() ?? null,
      localContractUrl: this.local?.url ?? null,
      configRevision: this.config?.revision ?? null,
      applications: this.supervisor.states().map((s) => ({ name: s.name, status: s.status, pid: s.pid })),
      allowOsCommands: this.opts.allowOsCommands,
      queuedLogEvents: this.logQueue.length,
      droppedLogEvents: this.droppedLogEvents,
      unacknowledgedResults: this.ledger.unackedResults().length,
      updatedAt: new Date().toISOString(),
    };
  }

  private writeHealth(): void {
    try {
      fs.mkdirSync(path.dirname(this.opts.healthFile), { recursive: true });
      fs.writeFileSync(`${this.opts.healthFile}.tmp`, JSON.stringify(this.health(), null, 2));
      fs.renameSync(`${this.opts.healthFile}.tmp`, this.opts.healthFile);
    } catch (err) {
      this.log(`cannot write the health file ${this.opts.healthFile}: ${String(err)}`);
    }
  }
}

/** The contract reports one result for a script run; linux-ip runs several steps. */
export function combineSteps(ok: boolean, steps: ScriptRun[]): ControlScriptResult {
  const failed = steps.find((s) => !s.ok);
  return {
    ok,
    exitCode: steps.length === 0 ? 0 : (failed ?? steps[steps.length - 1]!).exitCode,
    stdout: steps.map((s) => s.stdout).filter(Boolean).join("\n").slice(0, 64 * 1024),
    stderr: steps.map((s) => s.stderr).filter(Boolean).join("\n").slice(0, 64 * 1024),
    durationMs: steps.reduce((t, s) => t + s.durationMs, 0),
    timedOut: steps.some((s) => s.timedOut),
  };
}
