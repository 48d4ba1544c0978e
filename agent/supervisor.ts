// Process supervision through keepers: every application runs as the child of its own keeper
// (agent/keeper/main.ts), so the agent can restart or be upgraded without touching it. The supervisor
// starts keepers, learns of exits as events from them (also exits that happened while the agent was
// down: the keeper holds them), re-attaches to the keepers an earlier agent left, and falls back to
// checking pid + start time when a keeper itself died. It owns each application's status (starting
// until it first answers, startup timeout), its restart policy with back-off and its last output.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { AppRole } from "../protocol/app-contract";
import { LAST_OUTPUT_MAX_CHARS, type AppStatusMessage, type ApplicationConfig, type RestartState } from "../protocol/agent-wire";
import { aliveProcessStatuses, type ReportedProcessStatus } from "../protocol/vocabulary";
import { connectKeeper, findKeepers, readKeeperDir, readTail, startKeeper, type FoundKeeper, type KeeperLink, type KeeperLinkHandlers } from "./keeper-client";
import { keeperPaths, type ExitRecord } from "./keeper/protocol";
import { livenessOf, signalIfSame, type ProcessIdentity } from "./proc";
import { decideRestart, restartStateOf } from "./restart-policy";
import { runArgv } from "./run-script";
import { renderTemplate } from "./template";

/** After SIGKILL, how long to wait for the exit before declaring the stop failed. */
export const KILL_GRACE_MS = 5000;
/** A process whose keeper died is checked (pid + start time) this often: no events without a keeper. */
export const ORPHAN_CHECK_INTERVAL_MS = 1000;

export interface SupervisorOptions {
  hostName: string;
  logDir: string;
  logMaxFileBytes: number;
  logMaxRotatedFiles: number;
  /** Keeper directories and SWITCHYARD_CONFIG_FILE files live here. */
  stateDir: string;
  agentUrl: () => string;
  onStatus: (msg: AppStatusMessage) => void;
  /** The newest epoch the agent holds for the application's pair (command ledger): automatic restarts start there. */
  heldEpoch: (config: ApplicationConfig) => number;
  log: (line: string) => void;
}

export interface AppState {
  name: string;
  status: ReportedProcessStatus;
  detail: string;
  pid: number | null;
  since: Date;
  secret: string | null;
  config: ApplicationConfig;
  /** The role and epoch its current (or last) process was started in. */
  startedRole: AppRole | null;
  startedEpoch: number | null;
  /** A role the agent recorded for it (kept by its keeper across agent restarts). */
  recordedRole: { role: AppRole; epoch: number } | null;
  restart: RestartState;
  /** The tail of what its last process wrote (reported with failed / stopped). */
  lastOutput: string;
  /** How its exit is learnt: from its keeper (events), by checking pid + start time, or not at all. */
  supervisedBy: "keeper" | "pid-check" | null;
}

export interface ActionResult {
  ok: boolean;
  reason: string;
}

export interface StartOptions {
  role: AppRole | null;
  epoch: number;
  /** An explicit start (a command) resets the restart policy's count and its give-up. */
  explicit: boolean;
}

/** How the supervisor reaches one running process: its keeper, or (keeper gone) pid checks. */
interface AppHandle {
  readonly kind: "keeper" | "pid-check";
  identity: ProcessIdentity | null;
  signal(signal: "SIGTERM" | "SIGKILL"): boolean;
  recordRole(role: AppRole, epoch: number): void;
  /** The exit has been taken over: the keeper may clean up. */
  ackExit(): void;
  /** The agent is leaving: drop the connection, leave the process alone. */
  detach(): Promise<void>;
}

interface Supervised extends Omit<AppState, "restart" | "supervisedBy"> {
  handle: AppHandle | null;
  /** How it is supervised when that is out of the ordinary (its keeper is gone), appended to details. */
  supervisionNote: string;
  keeperDir: string | null;
  launching: Promise<ActionResult> | null;
  spawnedAtMs: number | null;
  answered: boolean;
  startupTimer: NodeJS.Timeout | null;
  /** Why the agent itself is ending the process (so its exit is not "unexpected"). */
  killedFor: "startup-timeout" | null;
  restartTimesMs: number[];
  restartTimer: NodeJS.Timeout | null;
  nextAttemptAtMs: number | null;
  gaveUp: boolean;
  exited: Promise<void>;
  resolveExited: () => void;
}

export interface ExitReport {
  exit: ExitRecord;
  /** How the exit became known, prefixed to the status detail (e.g. "exited while the agent was down"). */
  context: "live" | "while-agent-down" | "keeper-gone";
}

const RUNNING_LIKE: readonly ReportedProcessStatus[] = aliveProcessStatuses;

function settled(): { exited: Promise<void>; resolveExited: () => void } {
  let resolveExited!: () => void;
  const exited = new Promise<void>((r) => (resolveExited = r));
  resolveExited();
  return { exited, resolveExited };
}

export function httpPortOf(config: ApplicationConfig): string | null {
  return config.options["http-port"] ?? null;
}

/** The application's config file as written for one start: the console's appConfig with the start's role and epoch. */
export function appConfigFileBody(config: ApplicationConfig, role: AppRole | null, epoch: number | null): string | null {
  if (!config.appConfig) return null;
  return JSON.stringify({ ...config.appConfig, initialRole: role ?? config.appConfig.initialRole, initialEpoch: epoch ?? config.appConfig.initialEpoch }, null, 2);
}

function describeExit(exit: ExitRecord): string {
  if (exit.spawnError) return `could not be started: ${exit.spawnError}`;
  if (exit.signal) return `killed by ${exit.signal}`;
  return exit.code === null ? "exit code unknown" : `exit code ${exit.code}`;
}

export class Supervisor {
  private readonly apps = new Map<string, Supervised>();
  private detached = false;

  constructor(private readonly opts: SupervisorOptions) {}

  // --- configuration ------------------------------------------------------------------------

  /**
   * New applications are added as stopped. Returns the applications whose config file now differs
   * from what is on disk and was rewritten (or could not be), for config delivery.
   */
  setConfig(configs: ApplicationConfig[]): { name: string; error: string | null }[] {
    const rewritten: { name: string; error: string | null }[] = [];
    for (const config of configs) {
      const existing = this.apps.get(config.name) ?? this.add(config);
      existing.config = config;
      const change = this.refreshConfigFile(existing);
      if (change) rewritten.push({ name: config.name, error: change.error });
    }
    // Applications removed from the configuration are forgotten once they are not running.
    const names = new Set(configs.map((c) => c.name));
    for (const [name, app] of this.apps) {
      if (!names.has(name) && !RUNNING_LIKE.includes(app.status) && app.status !== "stopping" && !app.restartTimer) this.apps.delete(name);
    }
    return rewritten;
  }

  private add(config: ApplicationConfig): Supervised {
    const app: Supervised = {
      name: config.name,
      status: "stopped",
      detail: "not started by this agent",
      pid: null,
      since: new Date(),
      secret: null,
      config,
      startedRole: null,
      startedEpoch: null,
      recordedRole: null,
      handle: null,
      supervisionNote: "",
      keeperDir: null,
      launching: null,
      spawnedAtMs: null,
      answered: false,
      startupTimer: null,
      killedFor: null,
      restartTimesMs: [],
      restartTimer: null,
      nextAttemptAtMs: null,
      gaveUp: false,
      lastOutput: "",
      ...settled(),
    };
    this.apps.set(config.name, app);
    return app;
  }

  configFileOf(name: string): string {
    return path.join(this.opts.stateDir, "app-config", `${name}.json`);
  }

  /** Where a configured application's stdout/stderr go (its keeper writes them), or null when it is not configured here. */
  logFilesOf(name: string): { file: string; rotated: number } | null {
    if (!this.apps.has(name)) return null;
    return { file: this.logFileOf(name), rotated: this.opts.logMaxRotatedFiles };
  }

  private logFileOf(name: string): string {
    return path.join(this.opts.logDir, `${name}.log`);
  }

  /** Rewrites the config file when its content would change; null when nothing changed. */
  private refreshConfigFile(app: Supervised): { error: string | null } | null {
    const running = RUNNING_LIKE.includes(app.status) || app.status === "stopping";
    const body = appConfigFileBody(app.config, running ? app.startedRole : null, running ? app.startedEpoch : null);
    if (body === null) return null;
    const file = this.configFileOf(app.name);
    let onDisk: string | null = null;
    try {
      onDisk = fs.readFileSync(file, "utf8");
    } catch {
      onDisk = null;
    }
    if (onDisk === body) return null;
    try {
      this.writeFileAtomically(file, body);
      return { error: null };
    } catch (err) {
      return { error: `cannot write ${file}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  private writeFileAtomically(file: string, body: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(`${file}.tmp`, body, { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  }

  // --- queries ------------------------------------------------------------------------------

  has(name: string): boolean {
    return this.apps.has(name);
  }

  state(name: string): AppState | null {
    const a = this.apps.get(name);
    if (!a) return null;
    return {
      name: a.name,
      status: a.status,
      detail: a.detail,
      pid: a.pid,
      since: a.since,
      secret: a.secret,
      config: a.config,
      startedRole: a.startedRole,
      startedEpoch: a.startedEpoch,
      recordedRole: a.recordedRole,
      restart: this.restartState(a),
      lastOutput: a.lastOutput,
      supervisedBy: a.handle?.kind ?? null,
    };
  }

  states(): AppState[] {
    return [...this.apps.keys()].map((n) => this.state(n)!);
  }

  private restartState(app: Supervised): RestartState {
    return restartStateOf(app.config.restart, app.restartTimesMs, Date.now(), app.nextAttemptAtMs, app.gaveUp);
  }

  // --- start --------------------------------------------------------------------------------

  /** Resolves once the process has spawned (starting or running) or failed to. */
  async start(name: string, why: string, opts: StartOptions): Promise<ActionResult> {
    const app = this.apps.get(name);
    if (!app) return { ok: false, reason: `application ${name} is not configured on this host` };
    if (app.launching) return app.launching;
    if (RUNNING_LIKE.includes(app.status)) return { ok: true, reason: `${name} is already ${app.status} (pid ${app.pid})` };
    if (app.status === "stopping") return { ok: false, reason: `${name} is stopping; start it again once it has stopped` };
    this.cancelRestart(app);
    if (opts.explicit) {
      app.restartTimesMs = [];
      app.gaveUp = false;
    }
    return this.launch(app, why, opts.role, opts.epoch);
  }

  private launch(app: Supervised, why: string, role: AppRole | null, epoch: number): Promise<ActionResult> {
    const run = this.launchNow(app, why, role, epoch).finally(() => {
      if (app.launching === run) app.launching = null;
    });
    app.launching = run;
    return run;
  }

  private async launchNow(app: Supervised, why: string, role: AppRole | null, epoch: number): Promise<ActionResult> {
    const { config } = app;
    app.secret = randomBytes(24).toString("hex");
    app.startedRole = role;
    app.startedEpoch = epoch;
    app.recordedRole = null;
    app.answered = false;
    app.supervisionNote = "";
    app.killedFor = null;
    app.lastOutput = "";
    app.spawnedAtMs = null;
    ({ exited: app.exited, resolveExited: app.resolveExited } = settledLater());
    const roleText = role ? ` as ${role} at epoch ${epoch}` : "";
    this.transition(app, "starting", `starting (${why})${roleText}: ${config.start.command} ${config.start.args.join(" ")}`.trim(), null, null, null);

    const body = appConfigFileBody(config, role, epoch);
    const configFile = body === null ? null : this.configFileOf(config.name);
    if (body !== null && configFile) {
      try {
        // Written before the spawn: the application reads its initial role and epoch from it.
        this.writeFileAtomically(configFile, body);
      } catch (err) {
        return this.failStart(app, `its config file ${configFile} could not be written: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const handle = this.keeperHandle(app);
    app.handle = handle;
    const started = await startKeeper(
      this.opts.stateDir,
      {
        application: config.name,
        command: config.start.command,
        args: config.start.args,
        env: {
          ...config.start.env,
          SWITCHYARD_APP_NAME: config.name,
          SWITCHYARD_AGENT_URL: this.opts.agentUrl(),
          SWITCHYARD_APP_SECRET: app.secret,
          ...(configFile ? { SWITCHYARD_CONFIG_FILE: configFile } : {}),
        },
        cwd: config.start.workingDir ?? process.cwd(),
        logFile: this.logFileOf(config.name),
        logMaxFileBytes: this.opts.logMaxFileBytes,
        logMaxRotatedFiles: this.opts.logMaxRotatedFiles,
        role,
        epoch,
        secret: app.secret,
        config,
      },
      handle.handlers,
    );
    if (app.handle !== handle) return { ok: false, reason: `${config.name}: start superseded` };
    if ("error" in started) {
      app.handle = null;
      return this.failStart(app, `its keeper did not start: ${started.error}`);
    }
    handle.attach(started.link, started.dir);
    app.keeperDir = started.dir;
    const hello = started.link.hello;
    if (hello.exit) {
      // Spawn failure, or an exit before the agent connected: the keeper holds it either way.
      const reason = hello.exit.spawnError ? `${config.name} could not be started: ${hello.exit.spawnError}` : `${config.name} exited at once (${describeExit(hello.exit)})`;
      this.onExit(app, handle, { exit: hello.exit, context: "live" }, hello.exit.spawnError === null);
      return { ok: false, reason };
    }
    this.adoptRunning(app, handle, hello.app!, Date.parse(hello.startedAt), "started", "spawned");
    return { ok: true, reason: `${config.name} started (pid ${hello.app!.pid})` };
  }

  private failStart(app: Supervised, why: string): ActionResult {
    const reason = `${app.name} could not be started: ${why}`;
    this.transition(app, "failed", reason, null, null, null);
    app.resolveExited();
    return { ok: false, reason };
  }

  /**
   * A process is up: starting until it answers on its contract (if it has one), else running. A
   * re-attached process gets no startup timer here: settleReattached decides after its first poll.
   */
  private adoptRunning(app: Supervised, handle: AppHandle, identity: ProcessIdentity, spawnedAtMs: number, verb: string, how: "spawned" | "reattached", note = ""): void {
    handle.identity = identity;
    app.spawnedAtMs = Number.isFinite(spawnedAtMs) ? spawnedAtMs : Date.now();
    const port = httpPortOf(app.config);
    if (!port || app.answered) {
      const status = app.status === "service-unavailable" ? "service-unavailable" : "running";
      this.transition(app, status, `${verb === "started" ? "" : `${verb}: `}${status} (pid ${identity.pid})${note}`, identity.pid, null, null);
      return;
    }
    this.transition(app, "starting", `${verb} (pid ${identity.pid}); waiting for it to answer on http-port ${port}${note}`, identity.pid, null, null);
    if (how === "spawned") this.armStartupTimer(app);
  }

  /**
   * After the first readiness poll of a re-attached process: one that answered is running already; one
   * that did not is still starting if it is younger than its startup timeout (the timer runs on), or
   * else running but not answering (readiness says why) — a server is not killed for a poll the agent
   * made while coming back.
   */
  settleReattached(name: string, pollError: string | null): void {
    const app = this.apps.get(name);
    if (!app || app.status !== "starting" || app.answered) return;
    const ageMs = Date.now() - (app.spawnedAtMs ?? 0);
    if (ageMs < app.config.startupTimeoutMs) {
      this.armStartupTimer(app);
      return;
    }
    app.answered = true;
    this.transition(app, "running", `re-attached (pid ${app.pid}); it does not answer its readiness poll${pollError ? `: ${pollError}` : ""}${app.supervisionNote}`, app.pid, null, null);
  }

  private armStartupTimer(app: Supervised): void {
    if (app.startupTimer) clearTimeout(app.startupTimer);
    const limitMs = app.config.startupTimeoutMs;
    const remainingMs = Math.max(0, limitMs - (Date.now() - (app.spawnedAtMs ?? Date.now())));
    app.startupTimer = setTimeout(() => {
      app.startupTimer = null;
      if (app.status !== "starting" || app.answered || !app.handle) return;
      this.opts.log(`${app.name} did not answer within ${limitMs / 1000} s of its start; killing it`);
      app.killedFor = "startup-timeout";
      app.handle.signal("SIGKILL");
    }, remainingMs);
    app.startupTimer.unref?.();
  }

  /**
   * The application answered on its contract (a readiness poll, or its own status report): a starting
   * process is up. Only `starting` is ended here; running ↔ service-unavailable is the application's
   * own report (reportFromApplication).
   */
  noteAnswer(name: string, status: "running" | "service-unavailable" = "running", detail = ""): void {
    const app = this.apps.get(name);
    if (!app || app.status !== "starting") return;
    app.answered = true;
    // Before the keeper's hello the pid is not known yet; launchNow finishes the transition then.
    if (app.pid === null) return;
    if (app.startupTimer) clearTimeout(app.startupTimer);
    app.startupTimer = null;
    this.transition(app, status, detail || `${status} (pid ${app.pid})${app.supervisionNote}`, app.pid, null, null);
  }

  /** The application's own report (local contract): running ↔ service-unavailable; the first one ends starting. */
  reportFromApplication(name: string, status: "running" | "service-unavailable", detail: string): void {
    const app = this.apps.get(name);
    if (!app) return;
    if (app.status === "starting") return this.noteAnswer(name, status, detail);
    if ((app.status === "running" || app.status === "service-unavailable") && app.status !== status) {
      this.transition(app, status, detail || status, app.pid, null, null);
    }
  }

  /** A role the agent recorded (no role interface): the keeper keeps it for the next agent. */
  recordRole(name: string, role: AppRole, epoch: number): void {
    const app = this.apps.get(name);
    if (!app) return;
    app.recordedRole = { role, epoch };
    app.handle?.recordRole(role, epoch);
  }

  // --- exits and the restart policy ---------------------------------------------------------

  private onExit(app: Supervised, handle: AppHandle, report: ExitReport, applyPolicy = true): void {
    if (app.handle !== handle) {
      handle.ackExit(); // a superseded process: nothing to report, but its keeper may go
      return;
    }
    app.handle = null;
    if (app.startupTimer) clearTimeout(app.startupTimer);
    app.startupTimer = null;
    const { exit } = report;
    app.lastOutput = exit.lastOutput.slice(-LAST_OUTPUT_MAX_CHARS);
    const how = describeExit(exit);
    const at = new Date(exit.at);
    const when = report.context === "while-agent-down" ? ` at ${Number.isNaN(at.getTime()) ? exit.at : at.toISOString()}, while the agent was down` : "";
    const keeperNote = report.context === "keeper-gone" ? " (its keeper had died, so its exit code is unknown)" : "";
    if (app.status === "stopping") {
      this.transition(app, "stopped", `stopped (${how})`, null, exit.code, exit.signal);
    } else if (exit.spawnError) {
      this.transition(app, "failed", `${app.name} ${how}`, null, null, null);
    } else {
      const what =
        app.killedFor === "startup-timeout"
          ? `did not answer within ${app.config.startupTimeoutMs / 1000} s of its start; killed (${how})`
          : `exited unexpectedly (${how})${when}${keeperNote}`;
      this.failAndMaybeRestart(app, what, exit.code, exit.signal, applyPolicy);
    }
    handle.ackExit();
    app.resolveExited();
  }

  private failAndMaybeRestart(app: Supervised, what: string, exitCode: number | null, signal: string | null, applyPolicy: boolean): void {
    const policy = app.config.restart;
    const decision = applyPolicy ? decideRestart(policy, app.restartTimesMs, Date.now(), app.config.pair ? "backup" : null) : null;
    if (decision?.kind === "give-up") {
      app.gaveUp = true;
      app.restartTimesMs = decision.timesMs;
    }
    if (decision?.kind === "restart") {
      app.restartTimesMs = decision.timesMs;
      app.nextAttemptAtMs = Date.now() + decision.delayMs;
      const attempt = decision.attempt;
      app.restartTimer = setTimeout(() => {
        app.restartTimer = null;
        app.nextAttemptAtMs = null;
        if (this.detached || app.status !== "failed" || app.handle) return;
        // Never primary on the agent's own initiative: backup at the newest epoch held for the pair.
        const role: AppRole | null = app.config.pair ? "backup" : null;
        void this.launch(app, `automatic restart ${attempt} of ${policy.maxRestarts}`, role, this.opts.heldEpoch(app.config));
      }, decision.delayMs);
    }
    const sentence = decision && decision.kind !== "disabled" ? `; ${decision.sentence}` : "";
    this.transition(app, "failed", `${what}${sentence}`, null, exitCode, signal);
  }

  private cancelRestart(app: Supervised): boolean {
    const pending = app.restartTimer !== null;
    if (app.restartTimer) clearTimeout(app.restartTimer);
    app.restartTimer = null;
    app.nextAttemptAtMs = null;
    return pending;
  }

  // --- stop ---------------------------------------------------------------------------------

  /** Resolves once the process has exited (killed after the stop timeout if need be). */
  async stop(name: string, why: string): Promise<ActionResult> {
    const app = this.apps.get(name);
    if (!app) return { ok: false, reason: `application ${name} is not configured on this host` };
    const cancelled = this.cancelRestart(app);
    if (app.launching) await app.launching;
    const handle = app.handle;
    if (!handle || !RUNNING_LIKE.includes(app.status)) {
      if (app.status === "stopping") {
        await app.exited;
        return { ok: true, reason: `${name} stopped` };
      }
      if (cancelled) {
        this.transition(app, "stopped", `stopped (${why}); its pending automatic restart was cancelled`, null, null, null);
        return { ok: true, reason: `${name} was not running; its pending automatic restart was cancelled` };
      }
      return { ok: true, reason: `${name} is already ${app.status}` };
    }
    const exited = app.exited;
    this.transition(app, "stopping", `stopping (${why})`, app.pid, null, null);
    const { timeoutMs, command } = app.config.stop;
    let stopNote = "";
    if (command) {
      try {
        const argv = renderTemplate(command, { application: app.name, host: this.opts.hostName });
        const run = await runArgv(argv, { timeoutMs, driver: "stop-command" });
        if (!run.ok) stopNote = `; stop command failed (${run.timedOut ? "timed out" : `exit ${run.exitCode}`}): ${run.stderr.slice(0, 200)}`;
      } catch (err) {
        stopNote = `; stop command not run: ${err instanceof Error ? err.message : String(err)}`;
      }
    } else {
      handle.signal("SIGTERM");
    }
    const inTime = await Promise.race([exited.then(() => true), delay(timeoutMs).then(() => false)]);
    if (inTime) return { ok: true, reason: `${name} stopped${stopNote}` };
    handle.signal("SIGKILL");
    const gone = await Promise.race([exited.then(() => true), delay(KILL_GRACE_MS).then(() => false)]);
    if (!gone) return { ok: false, reason: `${name} (pid ${app.pid}) did not exit ${KILL_GRACE_MS} ms after SIGKILL${stopNote}` };
    return { ok: true, reason: `${name} killed after its stop timeout of ${timeoutMs} ms${stopNote}` };
  }

  /** Only with --stop-apps-on-exit: stopping applications is never a side effect of an agent exit. */
  async stopAll(why: string): Promise<void> {
    await Promise.all([...this.apps.keys()].map((n) => this.stop(n, why)));
  }

  /** The agent is exiting: drop keeper connections and timers, leave every process running. */
  async detachAll(): Promise<void> {
    this.detached = true;
    const closing: Promise<void>[] = [];
    for (const app of this.apps.values()) {
      this.cancelRestart(app);
      if (app.startupTimer) clearTimeout(app.startupTimer);
      app.startupTimer = null;
      if (app.handle) closing.push(app.handle.detach());
    }
    await Promise.all(closing);
  }

  // --- re-attachment ------------------------------------------------------------------------

  /**
   * Finds the keepers an earlier agent left and takes their applications over. Returns the names of
   * the applications that are running (their readiness is polled before the first resync).
   */
  async reattach(): Promise<string[]> {
    const running: string[] = [];
    const byApp = new Map<string, FoundKeeper[]>();
    for (const k of findKeepers(this.opts.stateDir)) {
      if (k.problem || !k.spec) {
        this.setAsideCorrupt(k);
        continue;
      }
      const list = byApp.get(k.spec.application) ?? [];
      list.push(k);
      byApp.set(k.spec.application, list);
    }
    for (const [name, found] of byApp) {
      // Newest start first: it is the current process; older directories only hold old exits.
      found.sort((a, b) => (b.state?.startedAt ?? b.spec!.requestedAt).localeCompare(a.state?.startedAt ?? a.spec!.requestedAt));
      const [current, ...older] = found;
      for (const old of older) await this.retireOld(old);
      try {
        if (await this.reattachOne(current!)) running.push(name);
      } catch (err) {
        this.opts.log(`re-attaching ${name} failed inside the agent: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      }
    }
    return running;
  }

  private setAsideCorrupt(k: FoundKeeper): void {
    const aside = `${k.dir}.corrupt`;
    try {
      fs.renameSync(k.dir, aside);
    } catch {
      // leave it where it is; the log line below still says what is wrong
    }
    this.opts.log(
      `keeper directory ${k.dir} is unusable (${k.problem ?? "no spec"}); moved to ${aside}. If its keeper still runs (see keeper.log there), its application runs unsupervised: stop it by hand.`,
    );
  }

  /** An older keeper directory of an application that has a newer one: acknowledge its exit or clean it. */
  private async retireOld(k: FoundKeeper): Promise<void> {
    const paths = keeperPaths(k.dir);
    const link = await this.connectQuietly(paths.socket);
    if (link) {
      if (link.hello.exit) {
        this.opts.log(`${k.spec!.application}: an older exit (${describeExit(link.hello.exit)}) held by keeper ${link.hello.keeperPid} acknowledged`);
        link.send({ type: "ack-exit" });
      } else {
        this.opts.log(`${k.spec!.application}: an older process (pid ${link.hello.app?.pid}) still runs under keeper ${link.hello.keeperPid} besides the newest one; left alone, stop it by hand`);
      }
      link.close();
      return;
    }
    if (k.state && livenessOf(k.state.keeper) === "alive") return;
    fs.rmSync(k.dir, { recursive: true, force: true });
  }

  private async connectQuietly(socketPath: string): Promise<KeeperLink | null> {
    const r = await connectKeeper(socketPath, { onMessage: () => {}, onClose: () => {}, log: this.opts.log });
    return "error" in r ? null : r;
  }

  /** True when the application is (still) running. */
  private async reattachOne(k: FoundKeeper): Promise<boolean> {
    const spec = k.spec!;
    const app = this.apps.get(spec.application) ?? this.add(spec.config);
    if (app.handle) {
      this.opts.log(`${app.name} already has a process under this agent; keeper directory ${k.dir} left alone`);
      return false;
    }
    app.secret = spec.secret;
    app.startedRole = spec.role;
    app.startedEpoch = spec.epoch;
    app.keeperDir = k.dir;
    app.answered = false;
    app.supervisionNote = "";
    ({ exited: app.exited, resolveExited: app.resolveExited } = settledLater());
    const handle = this.keeperHandle(app);
    app.handle = handle;
    const link = await connectKeeper(keeperPaths(k.dir).socket, handle.handlers);
    if (!("error" in link)) {
      handle.attach(link, k.dir);
      const hello = link.hello;
      app.recordedRole = hello.recordedRole;
      app.startedRole = hello.role;
      app.startedEpoch = hello.epoch;
      if (hello.exit) {
        this.opts.log(`${app.name}: its keeper ${hello.keeperPid} held an exit from while the agent was down (${describeExit(hello.exit)})`);
        this.onExit(app, handle, { exit: hello.exit, context: "while-agent-down" });
        return false;
      }
      this.opts.log(`${app.name}: re-attached to keeper ${hello.keeperPid} (application pid ${hello.app?.pid})`);
      this.adoptRunning(app, handle, hello.app!, Date.parse(hello.startedAt), "re-attached", "reattached");
      return true;
    }
    app.handle = null;
    if (!k.state) {
      // Its keeper never got as far as starting the application (no state file): nothing ran.
      this.opts.log(`${app.name}: keeper directory ${k.dir} holds no state and nothing answers there (${link.error}); removed`);
      fs.rmSync(k.dir, { recursive: true, force: true });
      app.keeperDir = null;
      app.resolveExited();
      return false;
    }
    // The keeper does not answer: fall back to the recorded pid and its start time.
    this.opts.log(`${app.name}: its keeper (${k.state ? `pid ${k.state.keeper.pid}` : "no state file"}) does not answer: ${link.error}`);
    return this.adoptWithoutKeeper(app, k.dir, k.state?.app ?? null, k.state?.exit ?? null, k.state?.recordedRole ?? null, k.state?.startedAt ?? spec.requestedAt, "reattached");
  }

  /**
   * The keeper is gone (or unusable): if the recorded process is still the one running under its pid
   * (start time and boot id match), keep supervising it by checking; otherwise it has exited, with
   * the code its keeper recorded or, if none, an unknown one.
   */
  private adoptWithoutKeeper(
    app: Supervised,
    dir: string,
    identity: ProcessIdentity | null,
    recordedExit: ExitRecord | null,
    recordedRole: { role: AppRole; epoch: number } | null,
    startedAt: string,
    how: "spawned" | "reattached",
  ): boolean {
    app.recordedRole = recordedRole ?? app.recordedRole;
    const liveness = identity ? livenessOf(identity) : "gone";
    if (identity && liveness === "alive") {
      const handle = this.pidCheckHandle(app, identity, dir);
      app.handle = handle;
      app.keeperDir = dir;
      app.supervisionNote = `; its keeper is gone, so its exit is noticed by checking pid ${identity.pid} with its start time every ${ORPHAN_CHECK_INTERVAL_MS} ms, its output is no longer captured and its exit code will be unknown`;
      const verb = how === "reattached" ? "re-attached without its keeper" : "still running without its keeper";
      this.adoptRunning(app, handle, identity, Date.parse(startedAt), verb, how, app.supervisionNote);
      return true;
    }
    if (identity && liveness === "unknown") {
      // Without /proc the pid cannot be told from a reused one: say so, restart nothing (a second copy would clash).
      this.transition(app, "failed", `its keeper is gone and whether pid ${identity.pid} is still it cannot be told on this system; not restarted automatically`, null, null, null);
      app.resolveExited();
      return false;
    }
    const exit: ExitRecord = recordedExit ?? {
      code: null,
      signal: null,
      at: new Date().toISOString(),
      lastOutput: readTail(this.logFileOf(app.name), LAST_OUTPUT_MAX_CHARS),
      spawnError: null,
    };
    const handle = this.pidCheckHandle(app, identity, dir);
    app.handle = handle;
    const context = recordedExit ? (how === "reattached" ? "while-agent-down" : "live") : "keeper-gone";
    this.onExit(app, handle, { exit, context });
    return false;
  }

  // --- handles ------------------------------------------------------------------------------

  private keeperHandle(app: Supervised): AppHandle & { handlers: KeeperLinkHandlers; attach(link: KeeperLink, dir: string): void } {
    let link: KeeperLink | null = null;
    let detached = false;
    const handle = {
      kind: "keeper" as const,
      identity: null as ProcessIdentity | null,
      handlers: {
        onMessage: (msg) => {
          if (msg.type === "exited") this.onExit(app, handle, { exit: msg.exit, context: "live" });
          else this.opts.log(`the keeper of ${app.name} refused a message: ${msg.message}`);
        },
        onClose: () => {
          if (!detached) this.onKeeperLost(app, handle);
        },
        log: this.opts.log,
      } satisfies KeeperLinkHandlers,
      attach: (l: KeeperLink) => {
        link = l;
      },
      signal: (signal: "SIGTERM" | "SIGKILL") => link?.send({ type: "signal", signal }) ?? false,
      recordRole: (role: AppRole, epoch: number) => void link?.send({ type: "record-role", role, epoch }),
      ackExit: () => {
        link?.send({ type: "ack-exit" });
      },
      detach: async () => {
        detached = true;
        await link?.close();
      },
    };
    return handle;
  }

  /** The keeper's connection closed without an exit: the keeper died. */
  private onKeeperLost(app: Supervised, handle: AppHandle): void {
    if (app.handle !== handle || this.detached) return;
    const dir = app.keeperDir ?? "";
    // It may have recorded the exit in its state file before it died.
    const recordedExit = dir ? (readKeeperDir(dir).state?.exit ?? null) : null;
    this.opts.log(`${app.name}: its keeper died (its connection closed without an exit)`);
    app.handle = null;
    const startedAt = new Date(app.spawnedAtMs ?? Date.now()).toISOString();
    this.adoptWithoutKeeper(app, dir, handle.identity, recordedExit, app.recordedRole, startedAt, "spawned");
  }

  private pidCheckHandle(app: Supervised, identity: ProcessIdentity | null, dir: string): AppHandle {
    let timer: NodeJS.Timeout | null = null;
    const handle: AppHandle = {
      kind: "pid-check",
      identity,
      signal: (signal) => (handle.identity ? signalIfSame(handle.identity, signal) : false),
      recordRole: () => {},
      ackExit: () => {
        if (timer) clearInterval(timer);
        timer = null;
        // The keeper is dead: the directory only held its records.
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
      },
      detach: async () => {
        if (timer) clearInterval(timer);
        timer = null;
      },
    };
    if (identity) {
      timer = setInterval(() => {
        if (livenessOf(identity) === "alive") return;
        const lastOutput = readTail(this.logFileOf(app.name), LAST_OUTPUT_MAX_CHARS);
        this.onExit(app, handle, { exit: { code: null, signal: null, at: new Date().toISOString(), lastOutput, spawnError: null }, context: "keeper-gone" });
      }, ORPHAN_CHECK_INTERVAL_MS);
      timer.unref?.();
    }
    return handle;
  }

  // --- status -------------------------------------------------------------------------------

  private transition(app: Supervised, status: ReportedProcessStatus, detail: string, pid: number | null, exitCode: number | null, signal: string | null): void {
    const previous = app.status;
    app.status = status;
    app.detail = detail;
    app.pid = pid;
    app.since = new Date();
    this.opts.onStatus({
      application: app.name,
      status,
      previous,
      detail: detail.slice(0, 2000),
      pid,
      exitCode,
      signal,
      time: app.since.toISOString(),
      restart: this.restartState(app),
      lastOutput: status === "failed" || status === "stopped" ? app.lastOutput.slice(-LAST_OUTPUT_MAX_CHARS) : "",
    });
  }
}

function settledLater(): { exited: Promise<void>; resolveExited: () => void } {
  let resolveExited!: () => void;
  const exited = new Promise<void>((r) => (resolveExited = r));
  return { exited, resolveExited };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}
