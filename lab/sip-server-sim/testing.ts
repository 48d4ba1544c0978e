// Test helpers for the simulator: free loopback ports, a fake host agent that records what the
// application reports, and spawning real simulator processes that are always cleaned up.
import { spawn, type ChildProcess } from "node:child_process";
import * as dgram from "node:dgram";
import * as http from "node:http";
import * as net from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach } from "vitest";
import type { AppConfig, AppStatusReport, LogEvent } from "../../protocol/app-contract";
import { appStatusReportSchema, logEventsSchema } from "../../protocol/app-contract";

export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const mainScript = join(repoRoot, "lab/sip-server-sim/main.ts");

/** A port free on `address` (127.0.0.1 unless given) for both TCP and UDP at the time of asking. */
export async function freePort(address = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await new Promise<number>((done, fail) => {
      const server = net.createServer();
      server.once("error", fail);
      server.listen(0, address, () => {
        const address = server.address();
        server.close(() => done(typeof address === "object" && address !== null ? address.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((done) => {
      const socket = dgram.createSocket("udp4");
      socket.once("error", () => done(false));
      socket.bind(port, address, () => socket.close(() => done(true)));
    });
    if (udpFree) return port;
  }
  throw new Error(`no free port found on ${address}`);
}

/**
 * Loopback addresses of our own, 127.B.x.y with B random (as the lab stack does), so test files running
 * side by side do not meet: `address(1, 2)` is 127.B.1.2. Linux answers on all of 127.0.0.0/8.
 */
export function loopbackBlock(): { address: (x: number, y: number) => string } {
  const block = 20 + Math.floor(Math.random() * 230);
  return { address: (x, y) => `127.${block}.${x}.${y}` };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

export interface FakeAgent {
  url: string;
  events: LogEvent[];
  statuses: AppStatusReport[];
  /** What GET /v1/apps/:name/vip answers. */
  vip: { present: boolean; address: string };
  scriptRuns: string[];
  close(): Promise<void>;
}

export async function startFakeAgent(): Promise<FakeAgent> {
  const agent: Omit<FakeAgent, "url" | "close"> = { events: [], statuses: [], vip: { present: false, address: "127.0.0.50" }, scriptRuns: [] };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown) : undefined;
      const path = request.url ?? "";
      if (path.endsWith("/events")) agent.events.push(...logEventsSchema.parse(body).events);
      else if (path.endsWith("/status")) agent.statuses.push(appStatusReportSchema.parse(body));
      else if (path.endsWith("/vip")) {
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(agent.vip));
        return;
      } else if (path.endsWith("/control-script")) {
        agent.scriptRuns.push(String((body as { action?: unknown }).action));
        response
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ ok: true, exitCode: 0, stdout: "", stderr: "", durationMs: 1, timedOut: false }));
        return;
      }
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", () => done()));
  const address = server.address() as net.AddressInfo;
  return {
    ...agent,
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  } as FakeAgent;
}

export interface SimProcess {
  name: string;
  httpPort: number;
  sipPort: number;
  /** The configuration file it was started with (SWITCHYARD_CONFIG_FILE); rewrite it, then POST /switchyard/v1/reload. */
  configFile: string;
  proc: ChildProcess;
  output: () => string;
  /** fetch against the simulator's HTTP interface. */
  http: (path: string, init?: { method?: string; body?: unknown; timeoutMs?: number }) => Promise<{ status: number; body: unknown }>;
  exited: Promise<number | null>;
  stop: () => Promise<void>;
}

const tempDirs: string[] = [];
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-sim-"));
  tempDirs.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Call at the top of a test file: returns `track`, and whatever is tracked (servers, agents, sockets) is
 * stopped after each test; temp dirs go after the file.
 */
export function stopAfterEach(): (thing: { stop: () => Promise<void> }) => void {
  const started: Array<{ stop: () => Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((thing) => thing.stop()));
  });
  afterAll(() => removeTempDirs());
  return (thing) => void started.push(thing);
}

export function simConfig(args: {
  name: string;
  sipPort: number;
  httpPort: number;
  haPort?: number | null;
  peer?: AppConfig["peer"];
  initialRole: AppConfig["initialRole"];
  initialEpoch?: number;
  /** The host's own address (127.0.0.1 unless given); listen and advertised default to it. */
  sipAddress?: string;
  /** The VIP of an ip-takeover pair. */
  sipListenAddress?: string;
  sipAdvertisedAddress?: string;
  haSecret?: string | null;
  configRevision?: string;
  options?: Record<string, string>;
  dns?: AppConfig["dns"];
}): AppConfig {
  const sipAddress = args.sipAddress ?? "127.0.0.1";
  return {
    name: args.name,
    type: "SIPServer",
    host: "lab-host",
    configRevision: args.configRevision ?? "test",
    sipAddress,
    sipListenAddress: args.sipListenAddress ?? sipAddress,
    sipAdvertisedAddress: args.sipAdvertisedAddress ?? args.sipListenAddress ?? sipAddress,
    sipPort: args.sipPort,
    haPort: args.haPort ?? null,
    peer: args.peer ?? null,
    initialRole: args.initialRole,
    initialEpoch: args.initialEpoch ?? 0,
    haSecret: args.haSecret ?? null,
    options: { "http-port": String(args.httpPort), ...(args.options ?? {}) },
    dns: args.dns ?? {},
  };
}

/** Writes a configuration file as the agent does when options change (the server reads it on reload). */
export function writeConfigFile(path: string, config: AppConfig | string): void {
  writeFileSync(path, typeof config === "string" ? config : JSON.stringify(config, null, 2));
}

export async function startSim(config: AppConfig, env: Record<string, string> = {}, configFile?: string): Promise<SimProcess> {
  if (configFile === undefined) {
    configFile = join(tempDir(), `${config.name}.json`);
    writeConfigFile(configFile, config);
  }
  const childEnv: NodeJS.ProcessEnv = { NODE_ENV: "test", PATH: process.env["PATH"], HOME: process.env["HOME"], SWITCHYARD_LAB_FAULTS: "1", ...env };
  const proc = spawn(process.execPath, ["--import", "tsx", mainScript, configFile], { cwd: repoRoot, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  proc.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const exited = new Promise<number | null>((done) => proc.once("exit", (code) => done(code)));
  const httpPort = Number(config.options["http-port"]);
  // Under an agent every /switchyard/* request carries the per-start secret; so do the tests' requests.
  const secret = env["SWITCHYARD_APP_SECRET"];
  const sim: SimProcess = {
    name: config.name,
    httpPort,
    sipPort: config.sipPort ?? 0,
    configFile,
    proc,
    output: () => output,
    exited,
    http: async (path, init = {}) => {
      const headers: Record<string, string> = init.body === undefined ? {} : { "content-type": "application/json" };
      if (secret !== undefined && path.startsWith("/switchyard/")) headers["authorization"] = `Bearer ${secret}`;
      const response = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
        method: init.method ?? (init.body === undefined ? "GET" : "POST"),
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(init.timeoutMs ?? 5000),
      });
      const text = await response.text();
      return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
    },
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(killer);
    },
  };
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  await waitFor(`${config.name} to start`, () => {
    if (exitedEarly) throw new Error(`${config.name} exited during start:\n${output}`);
    return output.includes(" running as ") ? true : undefined;
  }, 20_000);
  return sim;
}

/** A simulator under a fake host agent (what it reports lands in `agent`); both tracked for cleanup. */
export async function startSimWithAgent(
  track: (thing: { stop: () => Promise<void> }) => void,
  config: AppConfig,
  env: Record<string, string> = {},
): Promise<{ sim: SimProcess; agent: FakeAgent }> {
  const agent = await startFakeAgent();
  track({ stop: () => agent.close() });
  const sim = await startSim(config, { SWITCHYARD_AGENT_URL: agent.url, SWITCHYARD_APP_NAME: config.name, ...env });
  track(sim);
  return { sim, agent };
}

/** Sends one datagram (to 127.0.0.1 unless `address` says) and collects what comes back for a while (no answer → empty list). */
export async function udpExchange(port: number, text: string | Buffer, listenMs = 300, address = "127.0.0.1"): Promise<string[]> {
  const socket = dgram.createSocket("udp4");
  const answers: string[] = [];
  socket.on("message", (data) => answers.push(data.toString("utf8")));
  // An ICMP port unreachable (nobody listens) arrives as an error on the socket: that is "no answer".
  socket.on("error", () => {});
  await new Promise<void>((done) => socket.bind(0, "127.0.0.1", () => done()));
  await new Promise<void>((done) => socket.send(text, port, address, () => done()));
  await new Promise((done) => setTimeout(done, listenMs));
  await new Promise<void>((done) => socket.close(() => done()));
  return answers;
}

export function sipRequest(args: { method: string; port: number; callId: string; cseqMethod?: string; extraHeaders?: string[]; omit?: string[] }): string {
  const headers: Array<[string, string]> = [
    ["Via", "SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-test-" + args.callId],
    ["From", "<sip:tester@127.0.0.1>;tag=t1"],
    ["To", `<sip:sim@127.0.0.1:${args.port}>`],
    ["Call-ID", args.callId],
    ["CSeq", `1 ${args.cseqMethod ?? args.method}`],
    ["Max-Forwards", "70"],
  ];
  const kept = headers.filter(([name]) => !(args.omit ?? []).includes(name)).map(([name, value]) => `${name}: ${value}`);
  return [`${args.method} sip:sim@127.0.0.1:${args.port} SIP/2.0`, ...kept, ...(args.extraHeaders ?? []), "Content-Length: 0", "", ""].join("\r\n");
}

export interface SippResult {
  code: number | null;
  output: string;
}

/**
 * Runs sipp against a simulator and always ends: -m limits the calls, -timeout bounds sipp itself,
 * and a kill after `killAfterMs` covers a sipp that ignores both. Runs in a temp dir so sipp's own
 * files (error traces) land there.
 */
export function runSipp(args: string[], killAfterMs = 20_000): { done: Promise<SippResult>; kill: () => void } {
  const cwd = tempDir();
  const proc = spawn("sipp", [...args, "-nostdin", "-timeout", "15", "-timeout_error", "-trace_err"], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  proc.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const killer = setTimeout(() => proc.kill("SIGKILL"), killAfterMs);
  const done = new Promise<SippResult>((resolveDone) => {
    proc.once("exit", (code) => {
      clearTimeout(killer);
      resolveDone({ code, output: output.slice(-4000) });
    });
  });
  return { done, kill: () => proc.kill("SIGKILL") };
}

export const sippScenarioDir = join(repoRoot, "lab/sipp");
