// The whole live stack for full-stack workflow tests and the failover benchmark: a console (temporary
// SQLite file, controller on in its own thread, lab VIP driver) seeded with the demo lab's pairs, one
// real host agent process per lab host and the simulated SIP Servers those agents start — moved to a
// loopback block and ports of their own so it never meets the demo or another run on this machine.
// The stack owns the lab's agents (not the console), so a console restart leaves them running.
import fs from "node:fs";
import net from "node:net";
import dgram from "node:dgram";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { startConsole, type RunningConsole } from "../server/console";
import { importConfig } from "../server/transfer/transfer.service";
import { systemActor } from "../server/audit/audit.repository";
import { findUserByName } from "../server/auth/auth.repository";
import { createCaller } from "../server/api/root";
import { Lab, labConfigText } from "../server/lab/lab";
import { labVipFile } from "../protocol/lab-vip";
import type { PairView, ServerView } from "../server/runtime/live-view";

export const labPairNames = ["pair-a-iptakeover", "pair-b-nlb", "pair-c-single"] as const;
export type LabPairName = (typeof labPairNames)[number];

/** The demo configuration file's shape, as far as the stack rewrites it. */
interface LabConfigFile {
  hosts: { name: string; nics: { address: string }[] }[];
  applications: {
    name: string;
    host: string;
    sipPort: number;
    haPort: number;
    environment: Record<string, string>;
    options: Record<string, Record<string, string>>;
    dns?: Record<string, Record<string, Record<string, string>>>;
    /** The agent's restart policy for this server (the import's format); the default when absent. */
    restartPolicy?: { enabled: boolean; maxRestarts: number; restartWindowMs: number; restartDelayMs: number; restartDelayMaxMs: number; backoffMultiplier: number };
    startupTimeoutMs?: number;
  }[];
  pairs: { name: string; haType: string; primary: string; backup: string; failoverHoldMs?: number }[];
}

export interface LabStackOptions {
  /** Which of the demo pairs to run (fewer pairs, fewer processes). */
  pairs: readonly LabPairName[];
  /** Extra environment for every simulated server of a pair (lab knobs such as SWITCHYARD_LAB_READINESS_SETTLE_MS). */
  appEnv?: Partial<Record<LabPairName, Record<string, string>>>;
  /**
   * Keep the demo's monitors as the demo configuration sets them: pair A watches its SIP traffic (W4:
   * sip-pass-check on, service DN 7001 pinged every 2 s at the SIP gateway the lab then starts) and its
   * console connection (W8: control-vip-scripts), pair B its application NIC (W10: tlib-nic-monitoring).
   * Off by default: those options are off and no gateway runs, so a test's servers fail over only for the fault it causes.
   */
  demoMonitors?: boolean;
  /** Last chance to change the configuration file (options, DNs) before it is imported. */
  customize?: (config: LabConfigFile, net: { address(labAddress: string): string }) => void | Promise<void>;
  /** Console HEARTBEAT_TIMEOUT_MS; the console's default when absent. */
  heartbeatTimeoutMs?: number;
  /** Console and agent output: quiet unless SWITCHYARD_STACK_VERBOSE=1. */
  verbose?: boolean;
  /** The console's DATABASE_URL (an empty database; the console migrates it); a SQLite file in the stack's folder when absent. */
  databaseUrl?: string;
}

export interface LabStack {
  running: RunningConsole;
  lab: Lab;
  dir: string;
  /** Where the lab VIP driver keeps its presence files. */
  vipDir: string;
  config: LabConfigFile;
  /** Maps a demo address (127.0.h.n) to this stack's own loopback block. */
  address(labAddress: string): string;
  /** tRPC caller acting as the seeded admin (an operator and more). */
  caller(): ReturnType<typeof createCaller>;
  views(): Promise<PairView[]>;
  view(pair: string): Promise<PairView>;
  /** True / false from the lab VIP file of this pair on this host; null when no file was ever written. */
  vipFile(pair: string, host: string): boolean | null;
  history(pair: string): Promise<{ epoch: number; kind: string; text: string; at: Date }[]>;
  pairId(pair: string): Promise<string>;
  /** Starts an application through its host's agent (after a crash), as an operator would. */
  startApp(appName: string): Promise<string>;
  /** Stops an application through its host's agent, as an operator would. */
  stopApp(appName: string): Promise<string>;
  /** The simulator's own view of itself (GET /lab/v1/state): calls, HA syncs with their batch sizes, faults. */
  labState(appName: string): Promise<{ role: string; calls: number; haSync: { syncId: number; batchSizes: number[]; done: boolean }[] } & Record<string, unknown>>;
  /** A copy of the controller's state (its clock, grace periods) from the control plane. */
  controllerState(): Promise<import("../server/controller/core").ControllerState | null>;
  /** Stops the console and starts a new one on the same database and port; agents and servers keep running. `whileDown` runs in between. */
  restartConsole(whileDown?: () => Promise<void> | void): Promise<void>;
  stop(): Promise<void>;
}

/** A port free on this address for both TCP and UDP (SIP is UDP, the HA link and HTTP are TCP). */
export async function freePort(address: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer();
      s.once("error", reject);
      s.listen(0, address, () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = dgram.createSocket("udp4");
      u.once("error", () => resolve(false));
      u.bind(port, address, () => u.close(() => resolve(true)));
    });
    if (udpFree && !taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error(`no free port on ${address}`);
}
/** Ports handed out by this process, so two picks before either is bound never collide. */
const taken = new Set<number>();

/** Polls `probe` until it returns a value (not undefined/false) or the deadline passes; the error names what was awaited and what was last seen. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, opts: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<string> | string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const seen = opts.describe ? await opts.describe() : "";
      throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ""}${seen ? `\nlast seen:\n${seen}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

/** One line per server: role, epoch, status, readiness, VIP — for failure messages. */
export function describeView(v: PairView): string {
  const s = (x: ServerView) => `${x.name}@${x.hostName} ${x.role}/e${x.roleEpoch ?? "-"} ${x.status} ready=${x.readyForSwitchover} ha=${x.haLink} sip=${x.sipListener} vip=${x.vip} host=${x.hostConnection}`;
  return `${v.name} epoch ${v.epoch}: ${v.situation}\n  ${v.servers.map(s).join("\n  ")}${v.plan ? `\n  switchover: ${v.plan.steps.map((st) => `${st.label}=${st.status}`).join(", ")}` : ""}`;
}

const rootDir = path.resolve(__dirname, "..");

/**
 * The lab configuration of the chosen pairs, moved to a loopback block of its own (127.B.h.n; the demo
 * uses block 0, the browser tests block 2) — random, so test files and the benchmark running side by
 * side do not meet — with free ports, as a file to import.
 */
/** The demo configuration's monitor options (W4, W8, W10), off in a stack unless it asks for demoMonitors. */
const DEMO_MONITOR_OPTIONS = ["sip-pass-check", "control-vip-scripts", "tlib-nic-monitoring"] as const;

/** A simulated server's own view of itself (its lab endpoint), by application name in a lab configuration. */
export async function fetchLabState(config: LabConfigFile, appName: string, timeoutMs?: number): Promise<Awaited<ReturnType<LabStack["labState"]>>> {
  const app = config.applications.find((a) => a.name === appName);
  if (!app) throw new Error(`no application ${appName} in this lab`);
  const res = await fetch(`http://${app.environment.SWITCHYARD_LAB_HTTP_ADDRESS ?? "127.0.0.1"}:${app.options.TServer!["http-port"]}/lab/v1/state`, timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {});
  if (!res.ok) throw new Error(`lab state of ${appName}: ${res.status}`);
  return (await res.json()) as Awaited<ReturnType<LabStack["labState"]>>;
}

export async function prepareLabConfig(opts: Pick<LabStackOptions, "pairs" | "appEnv" | "customize" | "demoMonitors">): Promise<{ config: LabConfigFile; address(labAddress: string): string }> {
  const block = 20 + Math.floor(Math.random() * 230);
  const address = (labAddress: string) => labAddress.replace(/^127\.0\./, `127.${block}.`);

  const config = parse(labConfigText(rootDir, block)) as LabConfigFile;
  config.pairs = config.pairs.filter((p) => (opts.pairs as readonly string[]).includes(p.name));
  const appNames = new Set(config.pairs.flatMap((p) => [p.primary, p.backup]));
  config.applications = config.applications.filter((a) => appNames.has(a.name));
  const hostNames = new Set(config.applications.map((a) => a.host));
  config.hosts = config.hosts.filter((h) => hostNames.has(h.name));
  for (const app of config.applications) {
    const host = config.hosts.find((h) => h.name === app.host)!;
    const sipAddress = host.nics[host.nics.length - 1]!.address;
    app.sipPort = await freePort(sipAddress);
    app.haPort = await freePort(sipAddress);
    app.options.TServer = { ...app.options.TServer, "http-port": String(await freePort(app.environment.SWITCHYARD_LAB_HTTP_ADDRESS ?? "127.0.0.1")) };
    const pair = config.pairs.find((p) => p.primary === app.name || p.backup === app.name)!;
    // Quicker HA reconnects and bind retries keep waits short; W13's 60 s stays unless a test says.
    app.environment = { ...app.environment, SWITCHYARD_LAB_HA_RECONNECT_MS: "200", SWITCHYARD_LAB_BIND_RETRY_MS: "300", ...opts.appEnv?.[pair.name as LabPairName] };
    // The demo's monitors (W4, W8, W10) only for a test that asks; a test's customize may still turn one on.
    if (!opts.demoMonitors) {
      for (const option of DEMO_MONITOR_OPTIONS) {
        if (app.options.TServer?.[option] !== undefined) app.options.TServer = { ...app.options.TServer, [option]: "false" };
      }
    }
  }
  await opts.customize?.(config, { address });
  return { config, address };
}

export async function startLabStack(opts: LabStackOptions): Promise<LabStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-stack-"));
  const vipDir = path.join(dir, "vip");
  const verbose = opts.verbose ?? process.env.SWITCHYARD_STACK_VERBOSE === "1";
  const { config, address } = await prepareLabConfig(opts);

  const quiet = verbose ? null : silenceConsole();
  // Agents reconnect to the same address after a console restart: the agent port is fixed up front.
  const agentPort = await freePort("127.0.0.1");
  let running: RunningConsole | null = null;
  let lab: Lab | null = null;
  const stop = async () => {
    await lab?.stopAll().catch(() => {});
    await running?.stop().catch(() => {});
    quiet?.restore();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const consoleEnv = {
    NODE_ENV: "test" as const,
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: opts.databaseUrl ?? `file:${path.join(dir, "stack.db")}`,
    SWITCHYARD_ADMIN_USER: "admin",
    SWITCHYARD_ADMIN_PASSWORD: "stack-admin-password-1",
    SWITCHYARD_LAB_STATE_DIR: vipDir,
    SWITCHYARD_CONTROLLER: "true",
    AGENT_PORT: String(agentPort),
    LOG_LEVEL: verbose ? "info" : "silent",
    ...(opts.heartbeatTimeoutMs ? { HEARTBEAT_TIMEOUT_MS: String(opts.heartbeatTimeoutMs) } : {}),
  };
  try {
    running = await startConsole({ withPages: false, env: consoleEnv });
    const db = running.services.db;
    await importConfig(db, systemActor, stringify(config), { replace: false, dryRun: false });
    // The console started before the pairs existed: tell its parts (the alarm engine's directory names
    // alarm subjects), and wait for the controller to manage them.
    running.services.configEvents.changed();
    await running.services.controlPlane.configChanged();
    // No VIP is set up here: when the controller adopts the primary it enables the VIP (or NLB port)
    // on that host and disables it on the partner's, which the tests check.
    const agentUrl = `http://127.0.0.1:${agentPort}`;
    lab = new Lab({ db, agentUrl: () => agentUrl, rootDir, stateDir: path.join(dir, "lab"), output: verbose ? "inherit" : "ignore", vipStateDir: vipDir });
    if (opts.demoMonitors) await lab.startGateways();
    await lab.startAgents();
  } catch (err) {
    await stop();
    throw err;
  }
  // The console of this stack; restartConsole() replaces it (agents reconnect to the same URL).
  let r = running;
  const admin = (await findUserByName(r.services.db, "admin"))!;
  const pairIds = new Map((await r.services.db.haPair.findMany({ select: { id: true, name: true } })).map((p) => [p.name, p.id]));
  const pairId = async (pair: string) => {
    const id = pairIds.get(pair);
    if (!id) throw new Error(`no pair ${pair} in this stack`);
    return id;
  };
  const views = () => r.services.controlPlane.pairViews();
  const appCommand = async (appName: string, action: "start" | "stop") => {
    const app = await r.services.db.application.findUnique({ where: { name: appName }, select: { id: true } });
    if (!app) throw new Error(`no application ${appName} in this stack`);
    const result = await r.services.controlPlane.applicationCommand(app.id, action, "workflow test");
    return `${result.outcome}: ${result.reason}`;
  };
  const stack: LabStack = {
    running: r,
    lab: lab!,
    dir,
    vipDir,
    config,
    address,
    caller: () =>
      createCaller({
        services: r.services,
        user: { id: admin.id, username: admin.username, role: "admin" },
        sessionId: null,
        ip: "127.0.0.1",
        userAgent: "workflow-test",
        cookies: { setSession: () => {}, clearSession: () => {} },
      }),
    views,
    async view(pair) {
      const v = (await views()).find((x) => x.name === pair);
      if (!v) throw new Error(`no pair ${pair} in the live view`);
      return v;
    },
    vipFile(pair, host) {
      try {
        return (JSON.parse(fs.readFileSync(labVipFile(vipDir, pair, host), "utf8")) as { present?: unknown }).present === true;
      } catch {
        return null;
      }
    },
    async history(pair) {
      return r.services.db.pairHistory.findMany({ where: { pairId: await pairId(pair) }, orderBy: [{ at: "asc" }, { id: "asc" }], select: { epoch: true, kind: true, text: true, at: true } });
    },
    pairId,
    startApp: (appName) => appCommand(appName, "start"),
    stopApp: (appName) => appCommand(appName, "stop"),
    labState: (appName) => fetchLabState(config, appName),
    controllerState: () => r.services.controlPlane.controllerState(),
    async restartConsole(whileDown) {
      const port = new URL(r.url).port;
      await r.stop();
      await whileDown?.();
      r = await startConsole({ withPages: false, env: { ...consoleEnv, PORT: port } });
      running = r;
      stack.running = r;
    },
    stop,
  };
  return stack;
}

/**
 * The console logs every connection, command and decision on stdout; a test run with three stacks
 * would bury its report. Silenced while a stack runs, restored on stop.
 */
function silenceConsole(): { restore(): void } {
  const saved = { log: console.log, warn: console.warn, info: console.info };
  console.log = () => {};
  console.info = () => {};
  console.warn = () => {};
  return {
    restore() {
      Object.assign(console, saved);
    },
  };
}
