// Process supervision: starts and stops the applications configured on this host with
// child_process, learns of an exit from the 'exit' event the moment it happens (no polling), reports
// every status transition, captures stdout/stderr to rotating files, and restarts nothing on its
// own unless the application's restart policy says so (bounded per window).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { AppStatusMessage, ApplicationConfig, ProcessStatus } from "../protocol/agent-wire";
import { RotatingLog } from "./rotating-log";
import { renderTemplate } from "./template";
import { runArgv } from "./run-script";

/** After SIGKILL, how long to wait for the 'exit' event before declaring the process gone anyway. */
export const KILL_GRACE_MS = 5000;

export interface SupervisorOptions {
  hostName: string;
  logDir: string;
  logMaxFileBytes: number;
  logMaxRotatedFiles: number;
  /** Where SWITCHYARD_CONFIG_FILE files are written. */
  stateDir: string;
  agentUrl: () => string;
  onStatus: (msg: AppStatusMessage) => void;
  log: (line: string) => void;
}

export interface AppState {
  name: string;
  status: ProcessStatus;
  detail: string;
  pid: number | null;
  since: Date;
  secret: string | null;
}

interface Supervised extends AppState {
  config: ApplicationConfig;
  child: ChildProcess | null;
  logFile: RotatingLog | null;
  restartTimesMs: number[];
  restartTimer: NodeJS.Timeout | null;
  exited: Promise<void> | null;
}

export interface ActionResult {
  ok: boolean;
  reason: string;
}

const RUNNING_LIKE: ProcessStatus[] = ["starting", "running", "service-unavailable"];

export class Supervisor {
  private readonly apps = new Map<string, Supervised>();

  constructor(private readonly opts: SupervisorOptions) {}

  /** New applications are added as stopped; a running process keeps its old start settings until restarted. */
  setConfig(configs: ApplicationConfig[]): void {
    for (const config of configs) {
      const existing = this.apps.get(config.name);
      if (existing) {
        existing.config = config;
        this.writeAppConfig(existing);
        continue;
      }
      this.apps.set(config.name, {
        name: config.name,
        status: "stopped",
        detail: "not started by this agent",
        pid: null,
        since: new Date(),
        secret: null,
        config,
        child: null,
        logFile: null,
        restartTimesMs: [],
        restartTimer: null,
        exited: null,
      });
    }
    // Applications removed from the configuration are forgotten once they are not running.
    const names = new Set(configs.map((c) => c.name));
    for (const [name, app] of this.apps) {
      if (!names.has(name) && !RUNNING_LIKE.includes(app.status) && app.status !== "stopping") this.apps.delete(name);
    }
  }

  has(name: string): boolean {
    return this.apps.has(name);
  }

  state(name: string): AppState | null {
    const a = this.apps.get(name);
    return a ? { name: a.name, status: a.status, detail: a.detail, pid: a.pid, since: a.since, secret: a.secret } : null;
  }

  states(): AppState[] {
    return [...this.apps.keys()].map((n) => this.state(n)!);
  }

  /** Resolves once the process has spawned (running) or failed to. */
  start(name: string, why: string): Promise<ActionResult> {
    const app = this.apps.get(name);
    if (!app) return Promise.resolve({ ok: false, reason: `application ${name} is not configured on this host` });
    if (RUNNING_LIKE.includes(app.status)) return Promise.resolve({ ok: true, reason: `${name} is already ${app.status} (pid ${app.pid})` });
    if (app.status === "stopping") return Promise.resolve({ ok: false, reason: `${name} is stopping; start it again once it has stopped` });
    if (app.restartTimer) clearTimeout(app.restartTimer);
    app.restartTimer = null;
    return this.spawnApp(app, why);
  }

  private spawnApp(app: Supervised, why: string): Promise<ActionResult> {
    const { config } = app;
    app.secret = randomBytes(24).toString("hex");
    const configFile = this.writeAppConfig(app);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...config.start.env,
      SWITCHYARD_APP_NAME: config.name,
      SWITCHYARD_AGENT_URL: this.opts.agentUrl(),
      SWITCHYARD_APP_SECRET: app.secret,
      ...(configFile ? { SWITCHYARD_CONFIG_FILE: configFile } : {}),
    };
    app.logFile ??= new RotatingLog(path.join(this.opts.logDir, `${config.name}.log`), {
      maxFileBytes: this.opts.logMaxFileBytes,
      maxRotatedFiles: this.opts.logMaxRotatedFiles,
    });
    this.transition(app, "starting", `starting (${why}): ${config.start.command} ${config.start.args.join(" ")}`.trim(), null, null, null);
    return new Promise<ActionResult>((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(config.start.command, config.start.args, {
          cwd: config.start.workingDir ?? undefined,
          env,
          shell: false,
          windowsHide: true,
          // stdin stays an open pipe: a process may watch it to learn the agent is gone
          stdio: ["pipe", "pipe", "pipe"],
        });
      } catch (err) {
        const reason = `${config.name} could not be started: ${err instanceof Error ? err.message : String(err)}`;
        this.transition(app, "failed", reason, null, null, null);
        resolve({ ok: false, reason });
        return;
      }
      app.child = child;
      let spawned = false;
      let resolveExited!: () => void;
      app.exited = new Promise<void>((r) => (resolveExited = r));
      child.stdout?.on("data", (c: Buffer) => this.capture(app, c));
      child.stderr?.on("data", (c: Buffer) => this.capture(app, c));
      child.stdin?.on("error", () => {}); // EPIPE when the app closes stdin is not our failure
      child.on("spawn", () => {
        spawned = true;
        if (app.child !== child) return;
        this.transition(app, "running", `running (pid ${child.pid})`, child.pid ?? null, null, null);
        resolve({ ok: true, reason: `${config.name} started (pid ${child.pid})` });
      });
      child.on("error", (err) => {
        if (spawned) return; // errors after spawn (kill on a dead pid…) are followed by 'exit'
        const reason = `${config.name} could not be started: ${err.message}`;
        if (app.child === child) {
          app.child = null;
          this.transition(app, "failed", reason, null, null, null);
        }
        resolveExited();
        resolve({ ok: false, reason });
      });
      child.on("exit", (code, signal) => {
        resolveExited();
        if (app.child !== child) return;
        app.child = null;
        const how = signal ? `killed by ${signal}` : `exit code ${code}`;
        if (app.status === "stopping") {
          this.transition(app, "stopped", `stopped (${how})`, null, code, signal);
        } else {
          this.transition(app, "failed", `exited unexpectedly (${how})`, null, code, signal);
          this.maybeRestart(app);
        }
      });
    });
  }

  private capture(app: Supervised, chunk: Buffer): void {
    try {
      app.logFile?.write(chunk);
    } catch (err) {
      // A full disk must not take supervision down with it: the output is lost, the process is not.
      this.opts.log(`cannot write the log of ${app.name}: ${String(err)}`);
    }
  }

  private maybeRestart(app: Supervised): void {
    const policy = app.config.restart;
    if (!policy.enabled) return;
    const nowMs = Date.now();
    app.restartTimesMs = app.restartTimesMs.filter((t) => nowMs - t < policy.restartWindowMs);
    if (app.restartTimesMs.length >= policy.maxRestarts) {
      this.transition(app, "failed", `${app.detail}; not restarted: ${policy.maxRestarts} restarts within ${policy.restartWindowMs} ms already`, null, null, null);
      return;
    }
    app.restartTimesMs.push(nowMs);
    app.restartTimer = setTimeout(() => {
      app.restartTimer = null;
      if (app.status === "failed") void this.spawnApp(app, `automatic restart ${app.restartTimesMs.length} of ${policy.maxRestarts}`);
    }, policy.restartDelayMs);
  }

  /** Resolves once the process has exited (killed after the stop timeout if need be). */
  async stop(name: string, why: string): Promise<ActionResult> {
    const app = this.apps.get(name);
    if (!app) return { ok: false, reason: `application ${name} is not configured on this host` };
    if (app.restartTimer) {
      clearTimeout(app.restartTimer);
      app.restartTimer = null;
    }
    const child = app.child;
    if (!child || !RUNNING_LIKE.includes(app.status)) {
      if (app.status === "stopping" && app.exited) {
        await app.exited;
        return { ok: true, reason: `${name} stopped` };
      }
      return { ok: true, reason: `${name} is already ${app.status}` };
    }
    const exited = app.exited!;
    this.transition(app, "stopping", `stopping (${why})`, child.pid ?? null, null, null);
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
      child.kill("SIGTERM");
    }
    const inTime = await Promise.race([exited.then(() => true), delay(timeoutMs).then(() => false)]);
    if (!inTime) {
      child.kill("SIGKILL");
      const gone = await Promise.race([exited.then(() => true), delay(KILL_GRACE_MS).then(() => false)]);
      if (!gone) {
        return { ok: false, reason: `${name} (pid ${child.pid}) did not exit ${KILL_GRACE_MS} ms after SIGKILL${stopNote}` };
      }
      return { ok: true, reason: `${name} killed after its stop timeout of ${timeoutMs} ms${stopNote}` };
    }
    return { ok: true, reason: `${name} stopped${stopNote}` };
  }

  /** Used on agent shutdown when configured to stop applications. */
  async stopAll(why: string): Promise<void> {
    await Promise.all([...this.apps.keys()].map((n) => this.stop(n, why)));
    for (const app of this.apps.values()) app.logFile?.close();
  }

  /** The application's own report (local contract): running ↔ service-unavailable. */
  reportFromApplication(name: string, status: "running" | "service-unavailable", detail: string): void {
    const app = this.apps.get(name);
    if (!app || (app.status !== "running" && app.status !== "service-unavailable")) return;
    if (app.status !== status) this.transition(app, status, detail || status, app.pid, null, null);
  }

  /** Kills without waiting (the agent is exiting and leaves nothing half-managed). */
  killAllNow(): void {
    for (const app of this.apps.values()) app.child?.kill("SIGKILL");
  }

  private writeAppConfig(app: Supervised): string | null {
    if (!app.config.appConfig) return null;
    const dir = path.join(this.opts.stateDir, "app-config");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${app.name}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(app.config.appConfig, null, 2));
    fs.renameSync(`${file}.tmp`, file);
    return file;
  }

  private transition(app: Supervised, status: ProcessStatus, detail: string, pid: number | null, exitCode: number | null, signal: string | null): void {
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
      restart: null,
      lastOutput: "",
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}
