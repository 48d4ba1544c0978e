// The host agent (LCA role) put together: the console connection, the command ledger (idempotency
// and fencing), process supervision through keepers (applications outlive the agent; a restarted
// agent re-attaches), control-script drivers and VIP presence, readiness polling, option delivery,
// the local application contract and the health file. Commands are data; each is acknowledged on
// receipt, admitted by the ledger, then executed in order per pair, and its result kept until the
// console acknowledges it.
import fs from "node:fs";
import path from "node:path";
import type { AppRole, ControlScriptResult, LogEvent } from "../protocol/app-contract";
import {
  OS_COMMAND_MAX_OUTPUT_CHARS,
  isHostCommand,
  type AgentCommand,
  type AgentLogEvent,
  type AppStatusMessage,
  type ApplicationCommand,
  type ApplicationConfig,
  type CommandResult,
  type HostCommand,
  type HostConfig,
  type LogReadReply,
  type LogReadRequest,
  type ReadinessReport,
  type Resync,
  type RunningConfigMessage,
  type ScriptRun,
} from "../protocol/agent-wire";
import { fetchRunningConfig, notifyConsoleConnection, pollReadiness, requestReload, requestRole } from "./app-client";
import { CommandLedger } from "./command-ledger";
import { AgentMetrics } from "./metrics";
import { ConsoleConnection, type ConnectionState } from "./connection";
import { TermStore } from "./term-store";
import { createDriver, driverProblems, type ControlDriver } from "./drivers";
import { startLocalServer, type LocalServer } from "./local-server";
import { readApplicationLog } from "./log-reader";
import { identityOf, livenessOf, type ProcessIdentity } from "./proc";
import { runArgv } from "./run-script";
import { Supervisor, httpPortOf, type AppState } from "./supervisor";
import { VipMonitor } from "./vip-monitor";
import { logger } from "../protocol/log";
import { aliveProcessStatuses } from "../protocol/vocabulary";
export const AGENT_VERSION = "0.2.0";
/** Log events kept while the console is away; the oldest are dropped beyond this (and counted). */
export const MAX_QUEUED_LOG_EVENTS = 5000;
/** Wait for the console to acknowledge a result or a batch before trying again on the next flush. */
export const ACK_TIMEOUT_MS = 5000;
/** How often the health file is rewritten even without changes, so a reader can see the agent is alive. */
export const HEALTH_REFRESH_MS = 5000;
/** Exits seen before the first resync (re-attachment) are replayed to the console; at most this many. */
export const MAX_HELD_STATUS_REPORTS = 256;
/**
 * The queue OS commands share: one runs at a time, so an alarm storm cannot fork without bound, and
 * they never wait behind (or hold up) a pair's commands.
 */
const OS_COMMAND_QUEUE = "host:os-commands";
const RUNNING_LIKE = new Set<string>(aliveProcessStatuses);

export interface AgentOptions {
  /** Every console instance's agent URL (a highly available console has several), tried in order. */
  consoleUrls: string[];
  hostName: string;
  token: string;
  stateDir: string;
  logDir: string;
  healthFile: string;
  /** 0: any free port, but the one the previous agent used first (re-attached applications know that URL). */
  localPort: number;
  /**
   * On SIGTERM, stop the applications (--stop-apps-on-exit). Off by default: an agent restart or
   * upgrade leaves its servers running and the next agent re-attaches to them.
   */
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
  /** Serve Prometheus metrics on this host:port (--metrics-host, --metrics-port); null: none. */
  metrics?: { host: string; port: number } | null;
  log?: (line: string) => void;
}

interface AppLive {
  role: AppRole | null;
  roleEpoch: number | null;
  readiness: ReadinessReport | null;
  readinessKey: string;
  running: RunningConfigMessage | null;
  /** The current process answered 404 to GET /switchyard/v1/running: not asked again. */
  runningUnsupported: boolean;
  /** …and that was said once in a delivery detail. */
  runningUnsupportedSaid: boolean;
  /** A configuration revision written while the application was starting: reloaded once it answers. */
  pendingDelivery: string | null;
  /** The running-config fetch after the latest start, so the first resync can wait for it. */
  afterStart: Promise<void> | null;
  /** haLinkUpSince of the last readiness answer: a new value means the HA link (re)established. */
  haLinkUpSince: string | null;
  /** Readiness polls started. Polls overlap when the server is slow to answer (each waits up to 2 s). */
  pollsStarted: number;
  /**
   * The newest poll whose answer counts: an answer to an older poll describes the server before that
   * one did, and must not overwrite it (a slow "HA link up for 0 s" after "ready", or a role the server
   * had before a set-role). Moved past every running poll when the role changes by command.
   */
  pollsSettled: number;
}

export class Agent {
  private readonly log: (line: string) => void;
  private readonly ledger: CommandLedger;
  /** The highest leadership term seen (STATE_DIR/term.json): fences welcomes and commands of a deposed console. */
  private readonly terms: TermStore;
  private readonly supervisor: Supervisor;
  private readonly connection: ConsoleConnection;
  private readonly vipMonitor: VipMonitor;
  private local: LocalServer | null = null;
  private readonly metrics: AgentMetrics;
  private metricsServer: { url: string; close(): Promise<void> } | null = null;
  private config: HostConfig | null = null;
  private readonly drivers = new Map<string, ControlDriver>();
  private readonly live = new Map<string, AppLive>();
  /** One promise chain per fencing key so commands for a pair run in arrival order. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Enables running with their promotion, by command id: `asked` once the console ordered the same id. */
  private readonly ownRuns = new Map<string, { asked: boolean }>();
  private logQueue: AgentLogEvent[] = [];
  private droppedLogEvents = 0;
  private flushingLogs = false;
  private flushingResults = false;
  private readinessTimer: NodeJS.Timeout | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private readonly startedAt = new Date();
  private stopping = false;
  /** Re-attachment and the first readiness poll of re-attached applications; commands and resyncs wait for it. */
  private ready: Promise<void> = Promise.resolve();
  private firstResyncSent = false;
  private heldStatusReports: AppStatusMessage[] = [];

  constructor(private readonly opts: AgentOptions) {
    // The same line format as the console's (protocol/log.ts): text from outside (a server's output, a
    // console's refusal) is escaped, so it cannot forge a log line; LOG_FORMAT=json for log shippers.
    const log = logger("agent");
    this.log = opts.log ?? ((line) => log.info(line, { host: opts.hostName }));
    fs.mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    this.terms = new TermStore(path.join(opts.stateDir, "term.json"), this.log);
    this.ledger = new CommandLedger(path.join(opts.stateDir, "commands.json"), this.terms);
    this.supervisor = new Supervisor({
      hostName: opts.hostName,
      logDir: opts.logDir,
      logMaxFileBytes: opts.logMaxFileBytes,
      logMaxRotatedFiles: opts.logMaxRotatedFiles,
      stateDir: opts.stateDir,
      agentUrl: () => this.local?.url ?? "",
      heldEpoch: (app) => this.ledger.epochsSnapshot()[this.fencingKeyOf(app)] ?? 0,
      log: this.log,
      onStatus: (msg) => this.onAppStatus(msg),
    });
    this.metrics = new AgentMetrics({ connectionState: () => this.connection.state, applications: () => this.supervisor.states().map((s) => ({ name: s.name, status: s.status })) }, AGENT_VERSION, opts.hostName);
    this.vipMonitor = new VipMonitor({ send: (msg) => this.connection.send("vipPresence", msg), log: this.log });
    this.connection = new ConsoleConnection({
      consoleUrls: opts.consoleUrls,
      terms: this.terms,
      hello: { hostName: opts.hostName, token: opts.token, agentVersion: AGENT_VERSION },
      initialBackoffMs: opts.initialBackoffMs,
      maxBackoffMs: opts.maxBackoffMs,
      log: this.log,
      onStateChange: () => this.writeHealth(),
      onConnected: () => {
        this.metrics.connected();
        void this.sendResync().then(() => this.flushResults());
        void this.flushLogs();
        // After re-attachment, so servers an earlier agent left hear it too (W8).
        void this.ready.then(() => this.tellApplicationsConsole(this.connection.isConnected()));
      },
      onDisconnected: () => this.tellApplicationsConsole(false),
      handlers: {
        config: (cfg, ack) => ack?.(this.applyConfig(cfg)),
        command: (cmd, ack) => {
          // Receipt first, before anything runs: the console stops re-sending a command that arrived.
          ack?.({ commandId: cmd.id });
          void this.onCommand(cmd);
        },
        readLog: (req, ack) => void this.readLog(req).then((reply) => ack?.(reply)),
        protocolError: (msg) => this.log(`the console refused our ${msg.event}: ${msg.reason}`),
      },
    });
  }

  async start(): Promise<void> {
    this.claimStateDir();
    this.local = await this.openLocalServer();
    this.log(`local application contract on ${this.local.url}`);
    if (this.opts.metrics) {
      this.metricsServer = await this.metrics.serve(this.opts.metrics.host, this.opts.metrics.port);
      this.log(`Prometheus metrics on ${this.metricsServer.url}`);
    }
    if (this.opts.allowOsCommands) this.log("--allow-os-commands: OS commands sent by the console will be run");
    this.ready = this.reattach();
    this.healthTimer = setInterval(() => this.writeHealth(), HEALTH_REFRESH_MS);
    this.healthTimer.unref();
    this.connection.start();
    this.writeHealth();
  }

  /**
   * One agent per state directory: two would both act on the same keepers and ledger. The claim is
   * the agent's identity (pid + start time), so a stale file of a dead agent is simply taken over.
   */
  private claimStateDir(): void {
    const file = path.join(this.opts.stateDir, "agent.pid");
    try {
      const other = JSON.parse(fs.readFileSync(file, "utf8")) as ProcessIdentity;
      if (other.pid !== process.pid && livenessOf(other) === "alive") {
        throw new Error(`another agent (pid ${other.pid}) uses the state directory ${this.opts.stateDir}; stop it first`);
      }
    } catch (err) {
      if (err instanceof Error && err.message.startsWith("another agent")) throw err;
      // no claim, or an unreadable one: ours replaces it
    }
    fs.writeFileSync(file, JSON.stringify(identityOf(process.pid)), { mode: 0o600 });
  }

  private releaseStateDir(): void {
    const file = path.join(this.opts.stateDir, "agent.pid");
    try {
      if ((JSON.parse(fs.readFileSync(file, "utf8")) as ProcessIdentity).pid === process.pid) fs.rmSync(file, { force: true });
    } catch {
      // nothing to release
    }
  }

  /**
   * Applications started by an earlier agent keep SWITCHYARD_AGENT_URL from their start, so the
   * contract port is kept across restarts: the port given, else the one used last, else any.
   */
  private async openLocalServer(): Promise<LocalServer> {
    const portFile = path.join(this.opts.stateDir, "local-port");
    const handlers = {
      secretOf: (app: string) => {
        const s = this.supervisor.state(app);
        return s && RUNNING_LIKE.has(s.status) ? s.secret : null;
      },
      status: (app: string, report: { status: "running" | "service-unavailable"; role: AppRole; epoch: number; detail: string }) => {
        this.supervisor.reportFromApplication(app, report.status, report.detail);
        this.noteRole(app, report.role, report.epoch);
      },
      events: (app: string, events: LogEvent[]) => this.queueLogEvents(app, events),
      controlScript: (app: string, action: "enable" | "disable", reason: string) => this.controlScriptForApplication(app, action, reason),
      vip: async (app: string) => {
        const found = this.driverFor(app);
        if ("error" in found) return found;
        // Through the monitor: its check for the pair, never a second one beside it.
        await this.vipMonitor.check(found.pair);
        const p = this.vipMonitor.latest(found.pair);
        return { present: p?.present === true, address: p?.address ?? "" };
      },
      log: this.log,
    };
    let previousPort = 0;
    try {
      previousPort = Number(fs.readFileSync(portFile, "utf8").trim()) || 0;
    } catch {
      previousPort = 0;
    }
    let server: LocalServer;
    if (this.opts.localPort === 0 && previousPort > 0) {
      try {
        server = await startLocalServer(previousPort, handlers);
      } catch (err) {
        this.log(
          `the local contract port ${previousPort} of the previous agent is taken (${err instanceof Error ? err.message : String(err)}); using another. Applications started before cannot reach this agent until they are restarted.`,
        );
        server = await startLocalServer(0, handlers);
      }
    } else {
      server = await startLocalServer(this.opts.localPort, handlers);
    }
    try {
      fs.writeFileSync(portFile, `${server.port}\n`);
    } catch (err) {
      this.log(`cannot remember the local contract port in ${portFile}: ${String(err)}`);
    }
    return server;
  }

  /** Takes over the keepers an earlier agent left, then polls them once so the first resync has their role and epoch. */
  private async reattach(): Promise<void> {
    try {
      const running = await this.supervisor.reattach();
      if (running.length === 0) return;
      this.log(`re-attached: ${running.join(", ")}`);
      const polled = await this.pollReadiness(running);
      for (const name of running) this.supervisor.settleReattached(name, polled.get(name) ?? null);
      await Promise.all(running.map((name) => this.live.get(name)?.afterStart));
    } catch (err) {
      this.log(`re-attachment failed inside the agent: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  }

  /**
   * SIGTERM: close the connection and leave. Applications keep running under their keepers unless
   * the operator asked for --stop-apps-on-exit.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log(`stopping (${this.opts.stopAppsOnExit ? "stopping supervised applications: --stop-apps-on-exit" : "leaving applications running under their keepers"})`);
    if (this.readinessTimer) clearInterval(this.readinessTimer);
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.vipMonitor.stop();
    for (const driver of this.drivers.values()) driver.close?.();
    if (this.opts.stopAppsOnExit) await this.supervisor.stopAll("agent shutting down with --stop-apps-on-exit");
    await this.supervisor.detachAll();
    this.ledger.flush();
    this.connection.stop();
    await this.local?.close();
    await this.metricsServer?.close();
    this.writeHealth();
    this.releaseStateDir();
  }

  // --- application status -------------------------------------------------------------------

  private onAppStatus(msg: AppStatusMessage): void {
    this.log(`${msg.application}: ${msg.previous ?? "?"} → ${msg.status} (${msg.detail})`);
    if (msg.status === "stopped" || msg.status === "failed") this.forgetProcessState(msg.application);
    if (msg.status === "starting" && msg.previous !== "starting") {
      // A new process (perhaps a new version): ask it for its running configuration again.
      const live = this.liveOf(msg.application);
      live.runningUnsupported = false;
      live.runningUnsupportedSaid = false;
    }
    if (this.firstResyncSent) {
      this.connection.send("appStatus", msg);
    } else if ((msg.status === "failed" || msg.status === "stopped") && this.heldStatusReports.length < MAX_HELD_STATUS_REPORTS) {
      // An exit found while re-attaching happened while no console could hear it: replayed before the first resync.
      this.heldStatusReports.push(msg);
    }
    // Anything else before the first resync stays unsent, connected or not: the resync says what holds, and
    // re-attachment's own steps (a re-attached server "starting" until its first poll answers) would reach
    // a console that connected early as a flap of a healthy server.
    if (msg.previous === "starting" && (msg.status === "running" || msg.status === "service-unavailable")) {
      const live = this.liveOf(msg.application);
      live.afterStart = this.afterStart(msg.application).catch((err: unknown) => this.log(`after the start of ${msg.application}: ${err instanceof Error ? err.message : String(err)}`));
    }
    this.writeHealth();
  }

  /** Once a started process answers: deliver a configuration written meanwhile, and learn what it runs with. */
  private async afterStart(name: string): Promise<void> {
    const live = this.liveOf(name);
    const pending = live.pendingDelivery;
    if (pending !== null) {
      live.pendingDelivery = null;
      await this.deliverConfig(name, pending, null);
      return;
    }
    await this.reportRunningConfig(name);
  }

  private liveOf(name: string): AppLive {
    let live = this.live.get(name);
    if (!live) {
      live = {
        role: null,
        roleEpoch: null,
        readiness: null,
        readinessKey: "",
        running: null,
        runningUnsupported: false,
        runningUnsupportedSaid: false,
        pendingDelivery: null,
        afterStart: null,
        haLinkUpSince: null,
        pollsStarted: 0,
        pollsSettled: 0,
      };
      this.live.set(name, live);
    }
    return live;
  }

  // --- logs -------------------------------------------------------------------------------------

  /** The console asks for an application's log (its tail, or a search): only of applications configured here. */
  private async readLog(req: LogReadRequest): Promise<LogReadReply> {
    const files = this.supervisor.logFilesOf(req.application);
    if (!files) {
      return { application: req.application, ok: false, error: `application ${req.application} is not configured on host ${this.opts.hostName}`, file: "", sizeBytes: 0, text: "", truncated: false, matches: null, scannedBytes: 0, readAt: new Date().toISOString() };
    }
    return readApplicationLog(files, req);
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
    if (cfg.heartbeat) {
      this.connection.setHeartbeat(cfg.heartbeat.intervalMs, cfg.heartbeat.timeoutMs);
      this.writeHealth();
    }
    // The supervisor takes it after re-attachment: before that, an application an earlier agent left
    // running would look stopped and its config file be rewritten as if for a new start. Commands and
    // resyncs wait on the same chain, so they see this configuration installed.
    this.ready = this.ready
      .then(() => this.installConfig(cfg))
      .catch((err: unknown) => this.log(`configuration ${cfg.revision} could not be installed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`));
    void this.sendResync();
    return { revision: cfg.revision, ok: true, errors: [] };
  }

  private installConfig(cfg: HostConfig): void {
    if (this.config !== cfg) return; // a newer configuration arrived meanwhile and is installed next
    const rewritten = this.supervisor.setConfig(cfg.applications);
    // The new drivers are made before the old ones close, so what they share (the ARP helper) stays up.
    const previous = [...this.drivers.values()];
    this.drivers.clear();
    const pairs = new Map<string, { driver: ControlDriver; scriptTimeoutMs: number }>();
    for (const app of cfg.applications) {
      this.liveOf(app.name);
      if (!app.pair) continue;
      const driver = createDriver(this.driverContext(app, app.pair));
      this.drivers.set(app.name, driver);
      if (!pairs.has(app.pair.name)) pairs.set(app.pair.name, { driver, scriptTimeoutMs: app.pair.scriptTimeoutMs });
    }
    this.vipMonitor.configure(pairs, cfg.vipCheckIntervalMs);
    for (const driver of previous) driver.close?.();
    if (this.readinessTimer) clearInterval(this.readinessTimer);
    this.readinessTimer = setInterval(() => void this.pollReadiness(), cfg.readinessPollMs);
    this.readinessTimer.unref();
    this.log(`configuration ${cfg.revision} applied: ${cfg.applications.map((a) => a.name).join(", ") || "no applications"}`);
    for (const change of rewritten) void this.deliverConfig(change.name, cfg.revision, change.error);
  }

  /**
   * An application's config file changed: a running server is asked to re-read it (and then what it
   * runs with is read back); one that is not running reads it at its next start. One configDelivery
   * per change says which.
   */
  private async deliverConfig(name: string, revision: string, writeError: string | null): Promise<void> {
    const send = (outcome: "reloaded" | "written" | "failed", detail: string) => {
      this.log(`configuration ${revision} for ${name}: ${outcome}: ${detail}`);
      this.connection.send("configDelivery", { application: name, revision: revision.slice(0, 128), outcome, detail: detail.slice(0, 1000), time: new Date().toISOString() });
    };
    if (writeError) return send("failed", writeError);
    const state = this.supervisor.state(name);
    if (!state || !RUNNING_LIKE.has(state.status)) return send("written", `${name} is not running; it reads ${this.supervisor.configFileOf(name)} at its next start`);
    if (!httpPortOf(state.config)) return send("written", `${name} has no http-port, so it cannot be asked to reload; it reads the file at its next start`);
    if (state.status === "starting") {
      // It may have read the file before this change: it is asked to reload as soon as it answers.
      this.liveOf(name).pendingDelivery = revision;
      return;
    }
    const reload = await requestReload(state.config, state.secret);
    if (!reload.ok) return send("failed", reload.detail);
    const readError = await this.reportRunningConfig(name);
    const live = this.liveOf(name);
    let note = readError ? `; what it runs with could not be read: ${readError}` : "";
    if (live.runningUnsupported && !live.runningUnsupportedSaid) {
      live.runningUnsupportedSaid = true;
      note += "; it does not implement GET /switchyard/v1/running (404), so what it runs with is not shown";
    }
    send("reloaded", `${reload.detail} (revision ${revision})${note}`);
  }

  /**
   * GET /switchyard/v1/running and report it; returns why it could not be read, or null. A server
   * without the endpoint (404) is not asked again while this process runs (its next delivery says so once).
   */
  private async reportRunningConfig(name: string): Promise<string | null> {
    const state = this.supervisor.state(name);
    const live = this.liveOf(name);
    if (!state || !httpPortOf(state.config) || !RUNNING_LIKE.has(state.status) || live.runningUnsupported) return null;
    const answer = await fetchRunningConfig(state.config, state.secret);
    if ("running" in answer) {
      const msg: RunningConfigMessage = { ...answer.running, application: name, time: new Date().toISOString() };
      live.running = msg;
      this.connection.send("runningConfig", msg);
      return null;
    }
    if ("notImplemented" in answer) {
      live.runningUnsupported = true;
      this.log(`${name} does not implement GET /switchyard/v1/running (404); not asked again while this process runs`);
      return null;
    }
    this.log(`${name}: ${answer.error}`);
    return answer.error;
  }

  private driverContext(app: ApplicationConfig, pair: NonNullable<ApplicationConfig["pair"]>) {
    return { hostName: this.opts.hostName, application: app.name, pair, stateDir: this.opts.stateDir, log: this.log };
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

  private fencingKeyOf(app: ApplicationConfig): string {
    return app.pair?.name ?? `app:${app.name}`;
  }

  private fencingKey(app: string): string {
    const cfg = this.appConfig(app) ?? this.supervisor.state(app)?.config;
    return cfg ? this.fencingKeyOf(cfg) : `app:${app}`;
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
    // Not before re-attachment is done: a start must see the process an earlier agent left running.
    await this.ready;
    const key = isHostCommand(command) ? OS_COMMAND_QUEUE : this.fencingKey(command.application);
    const admission = this.ledger.admit(command, key, this.connection.consoleNowMs());
    switch (admission.kind) {
      case "duplicate-running": {
        // An enable this agent runs with a promotion has nobody waiting for its result until now.
        const own = this.ownRuns.get(command.id);
        if (own) own.asked = true;
        this.log(`command ${command.id} repeated while running${own ? " (started with its promotion)" : ""}; its result will follow`);
        return;
      }
      case "duplicate-done":
        this.log(`command ${command.id} repeated; answering with its first result (${admission.result.outcome})`);
        this.ledger.asked(command.id);
        void this.sendResult(admission.result);
        return;
      case "refuse":
        this.log(admission.result.reason);
        void this.sendResult(admission.result);
        return;
      case "execute":
        break;
    }
    const startedMs = performance.now();
    await this.serialise(key, async () => {
      const result = await this.execute(command).catch((err: unknown) =>
        this.ledger.finish(command, "failed", `command ${command.id} failed inside the agent: ${err instanceof Error ? err.message : String(err)}`),
      );
      this.metrics.commandFinished(command.type, result.outcome, (performance.now() - startedMs) / 1000);
      this.log(`command ${command.id} ${command.type} ${isHostCommand(command) ? "(host)" : command.application}: ${result.outcome}: ${result.reason}`);
      void this.sendResult(result);
      // Still in the pair's queue: a later command for the pair waits for the enable, as it would for the console's.
      if (command.type === "set-role" && command.role === "primary" && command.thenEnable && result.outcome === "ok") {
        await this.enableWithPromotion(command, command.thenEnable, key);
      }
    });
  }

  /**
   * The console's plan enables the pair's VIP (or NLB port) here once this promotion is confirmed; the
   * server has just confirmed it, so the agent runs that enable now instead of waiting for the order
   * to come back through the console. It is the console's order all the same: its id and epoch come
   * with the promotion, it is admitted and fenced by the ledger like any command (refused if a newer
   * epoch of the pair arrived meanwhile), and its result is kept for the console, which orders the same
   * id once it has seen the promotion (agent/DECISIONS.md §11, server/controller/DECISIONS.md).
   */
  private async enableWithPromotion(promotion: Extract<ApplicationCommand, { type: "set-role" }>, then: { id: string; reason: string }, key: string): Promise<void> {
    const enable: ApplicationCommand = {
      id: then.id,
      type: "run-control-script",
      application: promotion.application,
      pairEpoch: promotion.pairEpoch,
      action: "enable",
      reason: then.reason,
      deadline: promotion.deadline,
      term: promotion.term,
    };
    const admission = this.ledger.admit(enable, key, this.connection.consoleNowMs(), { unasked: true });
    if (admission.kind !== "execute") {
      const why = admission.kind === "refuse" ? admission.result.reason : admission.kind === "duplicate-done" ? "it already ran" : "it is running";
      this.log(`command ${enable.id}: not enabling with the promotion of ${promotion.application}: ${why}`);
      return;
    }
    const own = { asked: false };
    this.ownRuns.set(enable.id, own);
    this.log(`command ${enable.id}: enabling with the promotion of ${promotion.application} (epoch ${promotion.pairEpoch})`);
    try {
      const app = this.appConfig(enable.application);
      const result = app
        ? await this.commandHandlers["run-control-script"](enable, app, { unasked: () => !own.asked })
        : this.ledger.finish(enable, "rejected", `application ${enable.application} is not configured on host ${this.opts.hostName}`, [], null, { unasked: !own.asked });
      this.log(`command ${enable.id} run-control-script ${enable.application} (with the promotion): ${result.outcome}: ${result.reason}`);
      if (own.asked) void this.sendResult(result);
    } catch (err) {
      const result = this.ledger.finish(enable, "failed", `enable with the promotion failed inside the agent: ${err instanceof Error ? err.message : String(err)}`, [], null, { unasked: !own.asked });
      this.log(`command ${enable.id}: ${result.reason}`);
      if (own.asked) void this.sendResult(result);
    } finally {
      this.ownRuns.delete(enable.id);
    }
  }

  /** Handlers keyed by command type; each returns the finished result (`own.unasked`: a result the console has not asked for yet). */
  private readonly commandHandlers: {
    [K in ApplicationCommand["type"]]: (cmd: Extract<ApplicationCommand, { type: K }>, app: ApplicationConfig, own?: { unasked: () => boolean }) => Promise<CommandResult>;
  } = {
    start: async (cmd, app) => {
      const r = await this.supervisor.start(app.name, `command ${cmd.id}`, { role: cmd.role, epoch: cmd.pairEpoch, explicit: true });
      return this.ledger.finish(cmd, r.ok ? "ok" : "failed", r.reason);
    },
    stop: async (cmd, app) => {
      const r = await this.supervisor.stop(app.name, `command ${cmd.id}`);
      return this.ledger.finish(cmd, r.ok ? "ok" : "failed", r.reason);
    },
    "set-role": async (cmd, app) => {
      const r = await this.setRole(app, cmd.role, cmd.pairEpoch, cmd.id);
      return this.ledger.finish(cmd, r.outcome, r.reason, [], r.heldEpoch ?? null);
    },
    "run-control-script": async (cmd, app, own) => {
      const found = this.driverFor(app.name);
      if ("error" in found) return this.ledger.finish(cmd, "rejected", found.error, [], null, { unasked: own?.unasked() });
      const startedMs = performance.now();
      const run = await found.driver.run(cmd.action, found.pairTimeoutMs);
      this.metrics.scriptRan(cmd.action, "console", run.ok, (performance.now() - startedMs) / 1000);
      void this.vipMonitor.check(found.pair);
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
      return this.ledger.finish(cmd, run.ok ? "ok" : "failed", run.summary, run.steps.slice(0, 16), null, { unasked: own?.unasked() });
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

  private async setRole(app: ApplicationConfig, role: AppRole, epoch: number, commandId: string): Promise<{ outcome: CommandResult["outcome"]; reason: string; heldEpoch?: number }> {
    const state = this.supervisor.state(app.name);
    if (!state || (state.status !== "running" && state.status !== "service-unavailable")) {
      return { outcome: "failed", reason: `${app.name} is ${state?.status ?? "unknown"}, so it cannot take the ${role} role` };
    }
    if (!httpPortOf(app)) {
      // A generic process has no role interface: the agent records the role (its keeper keeps it).
      this.noteRole(app.name, role, epoch);
      this.supervisor.recordRole(app.name, role, epoch);
      return { outcome: "ok", reason: `${app.name} has no http-port; role ${role} at epoch ${epoch} recorded by the agent` };
    }
    const r = await requestRole(app, state.secret, role, epoch, commandId);
    if (r.role && r.epoch !== undefined) {
      // Polls asked before the server took the role answer with the old one: none of them counts now.
      const live = this.liveOf(app.name);
      live.pollsSettled = live.pollsStarted;
      this.noteRole(app.name, r.role, r.epoch);
    }
    return { outcome: r.outcome, reason: r.reason, heldEpoch: r.heldEpoch };
  }

  private noteRole(app: string, role: AppRole, epoch: number): void {
    const live = this.liveOf(app);
    if (live.role === role && live.roleEpoch === epoch) return;
    live.role = role;
    live.roleEpoch = epoch;
    this.connection.send("roleReport", { application: app, role, epoch, time: new Date().toISOString() });
  }

  private async controlScriptForApplication(app: string, action: "enable" | "disable", reason: string): Promise<ControlScriptResult | { error: string }> {
    const found = this.driverFor(app);
    if ("error" in found) return found;
    const run = await this.serialise(found.pair, async () => {
      const startedMs = performance.now();
      const r = await found.driver.run(action, found.pairTimeoutMs);
      this.metrics.scriptRan(action, "application", r.ok, (performance.now() - startedMs) / 1000);
      return r;
    });
    void this.vipMonitor.check(found.pair);
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

  /**
   * The role to report: what the server said (readiness, status, set-role answer); for a process
   * without a role interface, what the agent recorded or started it in (kept by its keeper).
   */
  private reportedRole(s: AppState): { role: AppRole | null; roleEpoch: number | null } {
    const live = this.live.get(s.name);
    if (live?.role) return { role: live.role, roleEpoch: live.roleEpoch };
    if (!RUNNING_LIKE.has(s.status) || httpPortOf(s.config)) return { role: null, roleEpoch: null };
    if (s.recordedRole) return { role: s.recordedRole.role, roleEpoch: s.recordedRole.epoch };
    return s.startedRole ? { role: s.startedRole, roleEpoch: s.startedEpoch } : { role: null, roleEpoch: null };
  }

  private async snapshot(): Promise<Resync> {
    return {
      agentVersion: AGENT_VERSION,
      agentStartedAt: this.startedAt.toISOString(),
      configRevision: this.config?.revision ?? null,
      applications: this.supervisor.states().map((s) => {
        const live = this.live.get(s.name);
        const ended = s.status === "failed" || s.status === "stopped";
        return {
          application: s.name,
          status: s.status,
          detail: s.detail.slice(0, 2000),
          pid: s.pid,
          since: s.since.toISOString(),
          ...this.reportedRole(s),
          readiness: live?.readiness ?? null,
          restart: s.restart,
          lastOutput: ended ? s.lastOutput : "",
          running: ended ? null : (live?.running ?? null),
        };
      }),
      epochs: this.ledger.epochsSnapshot(),
      vip: await this.vipMonitor.snapshot(),
      inFlightCommandIds: this.ledger.runningIds(),
    };
  }

  private async sendResync(): Promise<void> {
    await this.ready;
    if (!this.connection.isConnected()) return;
    if (!this.firstResyncSent) {
      // Exits found while re-attaching come first, with their exit codes; the resync then says what holds now.
      for (const msg of this.heldStatusReports) this.connection.send("appStatus", msg);
      this.heldStatusReports = [];
      this.firstResyncSent = true;
    }
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
      live.running = null;
      live.pendingDelivery = null;
      // The process is gone and so is its role: the console wipes it too, so the restarted process's
      // first report (often the same role and epoch 0 again) must not be deduplicated away.
      live.role = null;
      live.roleEpoch = null;
    }
  }

  /**
   * Polls readiness of every process with an http-port (or only `only`). A first answer ends
   * `starting`. Returns the poll error per polled application (null when it answered).
   */
  private async pollReadiness(only?: string[]): Promise<Map<string, string | null>> {
    const errors = new Map<string, string | null>();
    const targets = this.supervisor.states().filter((s) => (!only || only.includes(s.name)) && httpPortOf(s.config) && RUNNING_LIKE.has(s.status));
    await Promise.all(
      targets.map(async (state) => {
        const poll = ++this.liveOf(state.name).pollsStarted;
        const result = await pollReadiness(state.config);
        const settled = this.liveOf(state.name);
        if (poll <= settled.pollsSettled) return; // a newer poll has answered already
        settled.pollsSettled = poll;
        const time = new Date().toISOString();
        const report: ReadinessReport =
          "report" in result ? { application: state.name, report: result.report, error: null, time } : { application: state.name, report: null, error: result.error.slice(0, 1000), time };
        errors.set(state.name, report.error);
        if (report.report) {
          this.supervisor.noteAnswer(state.name, report.report.status);
          this.noteRole(state.name, report.report.role, report.report.epoch);
          // Options that wait for the HA link (ha-max-calls-sync-at-once) take effect when it
          // (re)establishes: read back what the server runs with then, or the console keeps the old values.
          const upSince = report.report.haLinkUpSince;
          const live = this.liveOf(state.name);
          if (upSince !== null && upSince !== live.haLinkUpSince && state.status !== "starting") void this.reportRunningConfig(state.name);
          live.haLinkUpSince = upSince;
        } else if (state.status === "starting") {
          return; // not answering yet is what starting means; the startup timeout judges it
        }
        // Only changes travel; the resync carries the latest anyway.
        const live = this.liveOf(state.name);
        const key = JSON.stringify([report.report, report.error]);
        if (key === live.readinessKey) return;
        live.readinessKey = key;
        live.readiness = report;
        this.connection.send("readiness", report);
      }),
    );
    return errors;
  }

  /** W8: applications with an HTTP interface learn whether their agent reaches the console. */
  private tellApplicationsConsole(connected: boolean): void {
    for (const s of this.supervisor.states()) {
      if (httpPortOf(s.config) && (s.status === "running" || s.status === "service-unavailable")) notifyConsoleConnection(s.config, s.secret, connected);
    }
  }

  // --- health -------------------------------------------------------------------------------

  connectionState(): ConnectionState {
    return this.connection.state;
  }

  /** The health file's content (readable by the agent's user only); the HTTP /health says only "alive". */
  health() {
    return {
      hostName: this.opts.hostName,
      agentVersion: AGENT_VERSION,
      pid: process.pid,
      /** The console URL connected to (or tried now), and every one given. */
      consoleUrl: this.connection.currentUrl(),
      consoleUrls: this.opts.consoleUrls,
      connection: this.connection.state,
      /** The highest leadership term of a console seen (0: none yet). */
      leadershipTerm: this.terms.highest(),
      reason: this.connection.reason,
      lastHeartbeatAckAt: this.connection.lastHeartbeatAckAt?.toISOString() ?? null,
      /** The heartbeat in force: the host's own (its configuration) or the console's. */
      heartbeat: this.connection.heartbeat(),
      localContractUrl: this.local?.url ?? null,
      configRevision: this.config?.revision ?? null,
      applications: this.supervisor.states().map((s) => ({ name: s.name, status: s.status, pid: s.pid, supervisedBy: s.supervisedBy, restart: s.restart })),
      allowOsCommands: this.opts.allowOsCommands,
      stopAppsOnExit: this.opts.stopAppsOnExit,
      queuedLogEvents: this.logQueue.length,
      droppedLogEvents: this.droppedLogEvents,
      unacknowledgedResults: this.ledger.unackedResults().length,
      updatedAt: new Date().toISOString(),
    };
  }

  private writeHealth(): void {
    try {
      fs.mkdirSync(path.dirname(this.opts.healthFile), { recursive: true });
      fs.writeFileSync(`${this.opts.healthFile}.tmp`, JSON.stringify(this.health(), null, 2), { mode: 0o600 });
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
