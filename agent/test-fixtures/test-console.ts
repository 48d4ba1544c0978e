// A small console for agent integration tests: a socket.io Server on loopback with the real agent
// gateway, an in-memory token map and configuration, everything the gateway reports recorded, and
// helpers to spawn real agent processes and to clean up the keepers and applications they leave
// (applications outlive their agents by design).
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import type { AddressInfo } from "node:net";
import { Server, type Socket as ServerSocket } from "socket.io";
import { attachAgentGateway, type AgentGateway, type HostLiveState } from "../../server/agents/gateway";
import type {
  AgentCommandInput,
  AppStatusMessage,
  CommandResult,
  ConfigDeliveryMessage,
  HostConfigInput,
  LogEventsMessage,
  ReadinessReport,
  Resync,
  RoleReport,
  RunningConfigMessage,
  ScriptRunMessage,
  VipPresenceMessage,
} from "../../protocol/agent-wire";
import { findKeepers } from "../keeper-client";
import { livenessOf } from "../proc";

export const REPO_ROOT = path.resolve(__dirname, "../..");

export interface Recorded {
  hostStates: HostLiveState[];
  resyncs: { host: string; snap: Resync }[];
  statuses: { host: string; msg: AppStatusMessage }[];
  roles: { host: string; msg: RoleReport }[];
  readiness: { host: string; msg: ReadinessReport }[];
  logEvents: { host: string; msg: LogEventsMessage }[];
  scriptRuns: { host: string; msg: ScriptRunMessage }[];
  results: { host: string; result: CommandResult }[];
  vipPresence: { host: string; msg: VipPresenceMessage }[];
  runningConfigs: { host: string; msg: RunningConfigMessage }[];
  configDeliveries: { host: string; msg: ConfigDeliveryMessage }[];
  warnings: string[];
}

export interface TestConsole {
  url: string;
  io: Server;
  gateway: AgentGateway;
  rec: Recorded;
  tokens: Map<string, string>;
  configs: Map<string, HostConfigInput>;
  close(): Promise<void>;
}

/** term: the leadership term this console's gateway holds (1 unless a test plays several consoles). */
export async function startTestConsole(opts: { heartbeatTimeoutMs?: number; term?: number } = {}): Promise<TestConsole> {
  const server = http.createServer();
  const io = new Server(server, { path: "/socket.io", serveClient: false });
  const tokens = new Map<string, string>();
  const configs = new Map<string, HostConfigInput>();
  const rec: Recorded = {
    hostStates: [],
    resyncs: [],
    statuses: [],
    roles: [],
    readiness: [],
    logEvents: [],
    scriptRuns: [],
    results: [],
    vipPresence: [],
    runningConfigs: [],
    configDeliveries: [],
    warnings: [],
  };
  const gateway = attachAgentGateway(io, {
    term: opts.term ?? 1,
    verifyToken: async (host, token) => tokens.get(host) === token,
    configForHost: async (host) => configs.get(host) ?? null,
    onHostState: (s) => rec.hostStates.push(s),
    onResync: (host, snap) => rec.resyncs.push({ host, snap }),
    onAppStatus: (host, msg) => rec.statuses.push({ host, msg }),
    onRoleReport: (host, msg) => rec.roles.push({ host, msg }),
    onReadiness: (host, msg) => rec.readiness.push({ host, msg }),
    onLogEvents: (host, msg) => rec.logEvents.push({ host, msg }),
    onScriptRun: (host, msg) => rec.scriptRuns.push({ host, msg }),
    onCommandResult: (host, result) => rec.results.push({ host, result }),
    onVipPresence: (host, msg) => rec.vipPresence.push({ host, msg }),
    onRunningConfig: (host, msg) => rec.runningConfigs.push({ host, msg }),
    onConfigDelivery: (host, msg) => rec.configDeliveries.push({ host, msg }),
    logger: {
      info: () => {},
      debug: () => {},
      warn: (m, fields) => void rec.warnings.push(fields ? `${m} ${JSON.stringify(fields)}` : m),
      error: (m, fields) => void rec.warnings.push(fields ? `${m} ${JSON.stringify(fields)}` : m),
    },
    heartbeatTimeoutMs: opts.heartbeatTimeoutMs,
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    io,
    gateway,
    rec,
    tokens,
    configs,
    close: () =>
      new Promise<void>((resolve) => {
        gateway.close();
        io.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Polls a condition (no timing assertion: the limit only keeps a broken test from hanging). */
export async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, limitMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() - start > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface AgentProcess {
  child: ChildProcess;
  output: () => string;
  stateDir: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Starts a real agent process. ownProcessGroup puts it in a group of its own, so a test can kill the
 * whole group the way systemd kills a service's processes.
 */
export function spawnAgent(opts: { consoleUrl: string; host: string; token: string; stateDir: string; extraArgs?: string[]; ownProcessGroup?: boolean }): AgentProcess {
  fs.mkdirSync(opts.stateDir, { recursive: true });
  const tokenFile = path.join(opts.stateDir, "..", `${opts.host}-${path.basename(opts.stateDir)}.token`);
  fs.writeFileSync(tokenFile, `${opts.token}\n`, { mode: 0o600 });
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(REPO_ROOT, "agent/main.ts"),
      "--console",
      opts.consoleUrl,
      "--host",
      opts.host,
      "--token-file",
      tokenFile,
      "--state-dir",
      opts.stateDir,
      "--initial-backoff-ms",
      "50",
      "--max-backoff-ms",
      "400",
      ...(opts.extraArgs ?? []),
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], detached: opts.ownProcessGroup === true },
  );
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on("exit", (code, signal) => r({ code, signal })));
  return { child, output: () => out, stateDir: opts.stateDir, exited };
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = http.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The keepers (and their applications) recorded in an agent's state directory, as the tests see them. */
export function keepersIn(stateDir: string) {
  return findKeepers(stateDir).map((k) => ({ dir: k.dir, application: k.spec?.application ?? null, keeper: k.state?.keeper ?? null, app: k.state?.app ?? null }));
}

/**
 * Kills every keeper and application an agent's state directory records (pid checked with its start
 * time first, so nothing else is hit). Applications outlive their agents by design, so tests clean up.
 */
export function killKeepersIn(stateDir: string): void {
  for (const k of keepersIn(stateDir)) {
    for (const identity of [k.app, k.keeper]) {
      if (identity && livenessOf(identity) === "alive") {
        try {
          process.kill(identity.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  }
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return (await res.json()) as T;
}

/** The console's socket of a connected agent, to send it raw (even malformed) messages. */
export function agentSocketOf(consoleSrv: TestConsole, host: string): ServerSocket {
  for (const s of consoleSrv.io.of("/agent").sockets.values()) if (s.data.hostName === host) return s;
  throw new Error(`no socket for ${host}`);
}

/** The next result the agent sends on this console socket for command `commandId` (sent raw by a test, so the gateway does not record it). */
export function nextResultOf(socket: ServerSocket, commandId: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const listener = (r: CommandResult) => {
      if (r.commandId !== commandId) return;
      socket.off("commandResult", listener);
      resolve(r);
    };
    socket.on("commandResult", listener);
  });
}

export type CommandBody = AgentCommandInput extends infer C ? (C extends AgentCommandInput ? Omit<C, "id" | "deadline"> & { id?: string } : never) : never;
let commandSeq = 0;

/** Sends a command through the real gateway with a fresh id (unless given) and a 20 s deadline. */
export function sendCommand(consoleSrv: TestConsole, host: string, c: CommandBody): Promise<CommandResult> {
  commandSeq += 1;
  return consoleSrv.gateway.sendCommand(host, { id: c.id ?? `cmd-${process.pid}-${commandSeq}`, deadline: new Date(Date.now() + 20_000).toISOString(), ...c } as AgentCommandInput);
}
