// The control plane (agent gateway and controller: what the console runs in its control-plane thread)
// in a process of its own, for benchmarks that load it with fake agents from another process and
// measure it undisturbed by them: its event-loop delay, its memory, its log (in a file).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createDb } from "../../server/db";
import { parseEnv } from "../../server/env";
import { configureLogging } from "../../server/log";
import { listenForAgents, startPlane } from "../../server/control-plane/plane";

export interface LoopFigures {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  rssMiB: number;
  heapMiB: number;
}

type ToPlane = { kind: "measure-start" } | { kind: "measure-stop" };
type FromPlane = { kind: "ready"; agentUrl: string } | { kind: "figures"; figures: LoopFigures };

/** The child's side: the plane from the environment, the event-loop delay measured on request. */
async function childMain(): Promise<void> {
  const env = parseEnv(process.env);
  configureLogging({ level: env.LOG_LEVEL, format: env.LOG_FORMAT });
  const db = createDb(env.DATABASE_URL, { busyTimeoutMs: 0 });
  // Each notice is serialised as the worker thread's postMessage to the web tier would (the same structured clone).
  // The only console of its database: it leads at term 1 without a lease keeper.
  const listener = await listenForAgents(env);
  const plane = await startPlane(db, env, (notice) => void structuredClone(notice), { listener, term: 1, mayCommand: () => true });
  // 1 ms resolution: every figure includes the 1 ms sampler.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const send = (m: FromPlane) => process.send!(m);
  process.on("message", (m: ToPlane) => {
    if (m.kind === "measure-start") {
      delay.reset();
      delay.enable();
      return;
    }
    delay.disable();
    const mem = process.memoryUsage();
    send({ kind: "figures", figures: { p50Ms: delay.percentile(50) / 1e6, p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6, rssMiB: mem.rss / 2 ** 20, heapMiB: mem.heapUsed / 2 ** 20 } });
  });
  process.on("disconnect", () => {
    // The bench is gone (finished or died): stop, and exit even when stopping hangs.
    setTimeout(() => process.exit(0), 10_000).unref();
    void plane
      .handle("stop", {})
      .then(() => listener.close())
      .finally(() => process.exit(0));
  });
  send({ kind: "ready", agentUrl: plane.agentUrl });
}

export interface PlaneProcess {
  agentUrl: string;
  logFile: string;
  measureStart(): void;
  measureStop(): Promise<LoopFigures>;
  /** The log so far (LOG_FORMAT=text lines). */
  log(): string;
  stop(): Promise<void>;
}

/** Starts the plane on an existing (migrated, configured) database; its log goes to logFile. */
export async function startPlaneProcess(opts: { databaseUrl: string; logFile: string; env?: Record<string, string> }): Promise<PlaneProcess> {
  const log = fs.openSync(opts.logFile, "a");
  // PLANE_NODE_ARGS: Node options for the control plane's process only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
  const nodeArgs = (process.env.PLANE_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, "--import", "tsx", __filename], {
    cwd: path.resolve(__dirname, "..", ".."),
    env: { ...process.env, NODE_ENV: "production", DATABASE_URL: opts.databaseUrl, HOST: "127.0.0.1", AGENT_PORT: "0", LOG_LEVEL: "info", LOG_FORMAT: "text", ...opts.env },
    stdio: ["ignore", log, log, "ipc"],
  });
  fs.closeSync(log);
  const next = <K extends FromPlane["kind"]>(kind: K) =>
    new Promise<Extract<FromPlane, { kind: K }>>((resolve, reject) => {
      const onExit = () => reject(new Error(`the control plane exited; its log: ${opts.logFile}`));
      const on = (m: FromPlane) => {
        if (m.kind !== kind) return;
        child.off("message", on);
        child.off("exit", onExit);
        resolve(m as Extract<FromPlane, { kind: K }>);
      };
      child.once("exit", onExit);
      child.on("message", on);
    });
  const ready = await next("ready");
  const send = (m: ToPlane) => child.send(m);
  return {
    agentUrl: ready.agentUrl,
    logFile: opts.logFile,
    measureStart: () => send({ kind: "measure-start" }),
    async measureStop() {
      const figures = next("figures");
      send({ kind: "measure-stop" });
      return (await figures).figures;
    },
    log: () => fs.readFileSync(opts.logFile, "utf8"),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.disconnect();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

if (require.main === module) {
  childMain().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
