// The demo lab and the full-stack tests' harness: one real host agent process per lab host (each with
// its own token and state directory), the simulated SIP Servers those agents start, and fault
// injection the way an operator would cause it: crash a server, cut a host off (its agent is frozen,
// so heartbeats stop while its servers keep running — W3), unplug the SIP NIC, fail the bind, and put
// a lab VIP on a host or take it off behind the controller's back (the vip-mismatch alarm). It also runs
// the SIP gateways the servers' service DNs point at (lab/sip-gateway/main.ts, one process per contact),
// so the Active-OOS check of W4 has someone to ping.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import type { Db } from "../db";
import { createAgentToken } from "../agent-tokens/agent-tokens.service";
import { loadSnapshot } from "../config/config.repository";
import { systemActor } from "../audit/audit.repository";
import { AppError } from "../errors";
import { importConfig } from "../transfer/transfer.service";
import { labVipFile, type LabVipState } from "../../protocol/lab-vip";
import { labGatewayTargets, w4Readiness, type W4Readiness } from "./service-dns";

export { labFaults, type LabFault } from "../../protocol/vocabulary";
import { labFaults, type LabFault } from "../../protocol/vocabulary";

/** A lab server's faults as it reports them (GET /lab/v1/state); unreachable when it did not answer. */
export interface LabServerFaults {
  application: string;
  reachable: boolean;
  faults: LabFault[];
  /** Whether unplugging its SIP NIC can switch its pair over (W4), from its configured options. */
  w4: W4Readiness;
}

/** A lab SIP gateway (the device behind service DNs) and the OPTIONS pings it answered. */
export interface LabGatewayStatus {
  contact: string;
  /** The lab servers whose service DN points here (when the lab started). */
  servers: string[];
  running: boolean;
  answered: number;
  /** Where the last ping came from (the primary's SIP address; the VIP on an ip-takeover pair). */
  lastFrom: string | null;
  lastAnsweredAt: string | null;
}

/** What the Lab page may do: the demo lab's fault controls. */
export interface LabControls {
  /** False on a console that runs no lab; every control then refuses with a clear message. */
  readonly enabled: boolean;
  hosts(): { host: string; running: boolean; frozen: boolean }[];
  /** The SIP gateways behind the lab's service DNs. */
  gateways(): LabGatewayStatus[];
  /** Which faults each lab server has on now. */
  servers(): Promise<LabServerFaults[]>;
  fault(appName: string, kind: LabFault, on?: boolean): Promise<void>;
  disconnectHost(host: string): void;
  reconnectHost(host: string): void;
  createCalls(appName: string, count: number): Promise<void>;
  /**
   * Puts the lab VIP (or NLB port) of a pair on one of its hosts, or takes it off, without the
   * controller — as someone with a shell on the host would. The host's agent observes it at its next
   * check; the controller does not move it back.
   */
  setVip(pair: string, host: string, present: boolean): Promise<void>;
}

function noLabHere(): never {
  throw new AppError("CONFLICT", "this console does not run the demo lab (start it with npm run demo)");
}

/** The Lab page's controls on a console without a lab. */
export const noLab: LabControls = {
  enabled: false,
  hosts: () => [],
  gateways: () => [],
  servers: async () => [],
  fault: async () => noLabHere(),
  disconnectHost: () => noLabHere(),
  reconnectHost: () => noLabHere(),
  createCalls: async () => noLabHere(),
  setVip: async () => noLabHere(),
};

export interface LabOptions {
  db: Db;
  /** Where the lab's agents connect: the console's agent port (the control plane's, not the web port). */
  agentUrl: () => string | null;
  /** Checkout root (agent and simulator sources). */
  rootDir: string;
  /** Where agents keep tokens, state and logs: <stateDir>/hosts/<host>/. */
  stateDir: string;
  /** Agent stdout/stderr: "inherit" for the demo, "ignore" for tests, or an open file descriptor (benchmarks read the agents' log lines). */
  output?: "inherit" | "ignore" | number;
  /**
   * What a host's agent command is run under, e.g. ["ip", "netns", "exec", "<namespace>"] for the lab on a
   * real network (harness/net-lab.ts): that program must exec the agent, so the child's pid is the agent's
   * and freezing or stopping it reaches the agent itself.
   */
  agentPrefix?: (host: string) => string[];
  /** The lab VIP driver's directory (SWITCHYARD_LAB_STATE_DIR); null when the pairs move real addresses (the net lab). */
  vipStateDir?: string | null;
}

/** How long the Lab page waits for a server's fault state (a hung server still answers its lab routes). */
const LAB_STATE_TIMEOUT_MS = 1_000;

interface AgentProcess {
  host: string;
  child: ChildProcess;
  frozen: boolean;
}

interface GatewayProcess {
  status: Omit<LabGatewayStatus, "running">;
  child: ChildProcess;
}

/** How long a gateway process may take to bind (it compiles with tsx first). */
const GATEWAY_START_TIMEOUT_MS = 30_000;

export class Lab implements LabControls {
  readonly enabled = true;
  private readonly agents = new Map<string, AgentProcess>();
  private readonly gatewayProcesses: GatewayProcess[] = [];

  constructor(private readonly opts: LabOptions) {}

  hosts(): { host: string; running: boolean; frozen: boolean }[] {
    return [...this.agents.values()].map((a) => ({ host: a.host, running: a.child.exitCode === null && a.child.signalCode === null, frozen: a.frozen }));
  }

  async servers(): Promise<LabServerFaults[]> {
    const snapshot = await loadSnapshot(this.opts.db);
    const labApps = snapshot.applications.filter((a) => a.environment.SWITCHYARD_LAB_FAULTS === "1");
    return Promise.all(
      labApps.map(async (app): Promise<LabServerFaults> => {
        try {
          const res = await fetch(`${await this.labUrl(app.name)}/lab/v1/state`, { signal: AbortSignal.timeout(LAB_STATE_TIMEOUT_MS) });
          const state = (await res.json()) as { faults?: Record<string, boolean> };
          const faults = Object.entries(state.faults ?? {})
            .filter(([kind, on]) => on && (labFaults as readonly string[]).includes(kind))
            .map(([kind]) => kind as LabFault);
          return { application: app.name, reachable: res.ok, faults, w4: w4Readiness(app) };
        } catch {
          return { application: app.name, reachable: false, faults: [], w4: w4Readiness(app) };
        }
      }),
    );
  }

  gateways(): LabGatewayStatus[] {
    return this.gatewayProcesses.map((g) => ({ ...g.status, running: g.child.exitCode === null && g.child.signalCode === null }));
  }

  /**
   * Starts a SIP gateway for every loopback contact that the lab servers with W4 armed (sip-pass-check
   * and a service DN with oos-check) ping — one per pair in the demo — and waits until each is bound.
   * A gateway that cannot bind fails the start with its reason.
   */
  async startGateways(): Promise<void> {
    const snapshot = await loadSnapshot(this.opts.db);
    const labApps = snapshot.applications.filter((a) => a.environment.SWITCHYARD_LAB_FAULTS === "1");
    for (const target of labGatewayTargets(labApps)) await this.startGateway(target);
  }

  private async startGateway(target: { address: string; port: number; servers: string[] }): Promise<void> {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(this.opts.rootDir, "lab", "sip-gateway", "main.ts"), target.address, String(target.port)], {
      cwd: this.opts.rootDir,
      // stdin stays open while the lab runs: the gateway ends when it closes (a killed console leaves none behind).
      stdio: ["pipe", "pipe", "pipe"],
    });
    const gateway: GatewayProcess = { status: { contact: `sip:gw@${target.address}:${target.port}`, servers: target.servers, answered: 0, lastFrom: null, lastAnsweredAt: null }, child };
    this.gatewayProcesses.push(gateway);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-2000);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`lab: the SIP gateway on ${target.address}:${target.port} did not start within ${GATEWAY_START_TIMEOUT_MS / 1000} s`)), GATEWAY_START_TIMEOUT_MS);
      readline.createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.startsWith("listening ")) {
          gateway.status.contact = line.slice("listening ".length);
          clearTimeout(timer);
          resolve();
        } else if (line.startsWith("answered ")) {
          gateway.status.answered += 1;
          gateway.status.lastFrom = line.slice("answered ".length);
          gateway.status.lastAnsweredAt = new Date().toISOString();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`lab: the SIP gateway on ${target.address}:${target.port} exited (${code}): ${stderr.trim() || "no message"}`));
      });
    });
  }

  private async stopGateways(): Promise<void> {
    await Promise.all(
      this.gatewayProcesses.splice(0).map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
          }),
      ),
    );
  }

  /** Starts one agent per host (a fresh token each time; old lab tokens stay valid until revoked). */
  async startAgents(hostNames?: string[]): Promise<void> {
    const snapshot = await loadSnapshot(this.opts.db);
    for (const host of hostNames ?? snapshot.hosts.map((h) => h.name)) await this.startAgent(host);
  }

  /**
   * Starts a host's agent. `opts` are for tests of the agent's own life: `stopAppsOnExit: false` runs it
   * as a production agent does (its servers outlive its SIGTERM; the caller then cleans them up), and
   * `agentRoot` runs the agent from another copy of the code (an upgrade: a newer release unpacked
   * elsewhere, with the same state directory).
   */
  async startAgent(host: string, opts: { stopAppsOnExit?: boolean; agentRoot?: string } = {}): Promise<void> {
    const snapshot = await loadSnapshot(this.opts.db);
    const hostId = snapshot.directory.hostsByName.get(host)?.id;
    if (!hostId) throw new Error(`lab: host ${host} does not exist`);
    const dir = this.agentStateDir(host);
    fs.mkdirSync(dir, { recursive: true });
    const tokenFile = path.join(dir, "agent.token");
    if (!fs.existsSync(tokenFile)) {
      const { token } = await createAgentToken(this.opts.db, systemActor, hostId, "lab");
      fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    }
    const prefix = this.opts.agentPrefix?.(host) ?? [];
    const agentRoot = opts.agentRoot ?? this.opts.rootDir;
    const child = spawn(
      prefix[0] ?? process.execPath,
      [...prefix.slice(1), ...(prefix.length ? [process.execPath] : []), "--import", "tsx", path.join(agentRoot, "agent", "main.ts"), "--console", this.agentUrl(), "--host", host, "--token-file", tokenFile, "--state-dir", dir, "--initial-backoff-ms", "100", "--max-backoff-ms", "1000",
        // The lab owns its servers: stopping the lab stops them. (A production agent leaves its servers
        // running when it stops; stopping them is an explicit command.)
        ...(opts.stopAppsOnExit === false ? [] : ["--stop-apps-on-exit"]),
        // The lab's hosts run what the console sends: alarm reactions' OS commands and a W14 upgrade's
        // install command (lab/install-version.mjs). Off by default for a real agent (agent/README.md).
        "--allow-os-commands"],
      {
        cwd: agentRoot,
        stdio: ["ignore", this.opts.output ?? "ignore", this.opts.output ?? "ignore"],
        // Where the lab's install command puts a server's new version, read by the server when it starts
        // (inherited by the servers through their keepers).
        env: { ...process.env, SWITCHYARD_LAB_VERSION_DIR: labVersionDir(this.opts.stateDir) },
      },
    );
    this.agents.set(host, { host, child, frozen: false });
  }

  /** A host agent's state directory (token, keepers, command ledger), kept across its restarts. */
  agentStateDir(host: string): string {
    return path.join(this.opts.stateDir, "hosts", host);
  }

  /** W3: the host drops off the network — its agent stops answering, its servers keep running. */
  disconnectHost(host: string): void {
    const a = this.agent(host);
    a.child.kill("SIGSTOP");
    a.frozen = true;
  }

  reconnectHost(host: string): void {
    const a = this.agent(host);
    a.child.kill("SIGCONT");
    a.frozen = false;
  }

  /** Stops a host's agent (SIGTERM: the lab's agents stop their servers too, unless started with stopAppsOnExit false) — or SIGKILL, leaving them to their keepers. Resolves with how it exited. */
  async stopAgent(host: string, signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const a = this.agent(host);
    if (a.frozen) a.child.kill("SIGCONT");
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      if (a.child.exitCode !== null || a.child.signalCode !== null) return resolve({ code: a.child.exitCode, signal: a.child.signalCode });
      a.child.once("exit", (code, sig) => resolve({ code, signal: sig }));
      a.child.kill(signal);
    });
    this.agents.delete(host);
    return exit;
  }

  /** Turns a simulator fault on or off through its lab endpoint (crash ends the process, W2). */
  async fault(appName: string, kind: LabFault, on = true): Promise<void> {
    const url = await this.labUrl(appName);
    const res = await fetch(`${url}/lab/v1/fault`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind, on }) }).catch((err: unknown) => {
      if (kind === "crash") return null; // the process may exit before it answers
      throw new Error(`lab: ${appName} did not answer (${String(err)})`);
    });
    if (res && !res.ok && kind !== "crash") throw new Error(`lab: fault ${kind} on ${appName} refused: ${res.status} ${await res.text()}`);
  }

  /** Creates calls on a server (lab endpoint), e.g. to watch the HA sync (W12). */
  async createCalls(appName: string, count: number): Promise<void> {
    const url = await this.labUrl(appName);
    const res = await fetch(`${url}/lab/v1/calls`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ count, multisite: false }) });
    if (!res.ok) throw new Error(`lab: creating calls on ${appName} failed: ${res.status}`);
  }

  async setVip(pairName: string, host: string, present: boolean): Promise<void> {
    const dir = this.opts.vipStateDir;
    if (!dir) throw new AppError("CONFLICT", "this lab's pairs move real addresses (no lab VIP files): use ip addr on the host instead");
    // Names reach a file path: only a configured pair and one of its own hosts.
    const snapshot = await loadSnapshot(this.opts.db);
    const pair = snapshot.pairs.find((p) => p.name === pairName);
    if (!pair) throw new AppError("NOT_FOUND", `lab: pair ${pairName} does not exist`);
    if (pair.haType === "single-host") throw new AppError("INVALID", `lab: pair ${pairName} is single-host and has no VIP`);
    const hosts = snapshot.applications.filter((a) => a.name === pair.primary || a.name === pair.backup).map((a) => a.host);
    if (!hosts.includes(host)) throw new AppError("INVALID", `lab: host ${host} runs no server of pair ${pairName} (its hosts: ${hosts.join(", ")})`);
    const file = labVipFile(dir, pair.name, host);
    const state: LabVipState = { present, vip: pair.vipAddress || `${pair.name}-vip`, host, updatedAt: new Date().toISOString() };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(state));
    fs.renameSync(`${file}.tmp`, file);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.agents.keys()].map((h) => this.stopAgent(h)));
    await this.stopGateways();
  }

  private agentUrl(): string {
    const url = this.opts.agentUrl();
    if (!url) throw new Error("lab: the console's control plane is not running, so agents have nowhere to connect (SWITCHYARD_CONTROLLER=true is needed)");
    return url;
  }

  private agent(host: string): AgentProcess {
    const a = this.agents.get(host);
    if (!a) throw new Error(`lab: no agent runs for host ${host}`);
    return a;
  }

  private async labUrl(appName: string): Promise<string> {
    const snapshot = await loadSnapshot(this.opts.db);
    const app = snapshot.applications.find((a) => a.name === appName);
    if (!app) throw new Error(`lab: application ${appName} does not exist`);
    const port = app.options.find((o) => o.dn === "" && o.name === "http-port")?.value;
    const address = app.environment.SWITCHYARD_LAB_HTTP_ADDRESS ?? "127.0.0.1";
    if (!port) throw new Error(`lab: ${appName} has no http-port`);
    return `http://${address}:${port}`;
  }
}

/** Where the lab's install command (lab/install-version.mjs) keeps each server's installed version. */
export function labVersionDir(stateDir: string): string {
  return path.join(stateDir, "versions");
}

/**
 * The demo configuration file with this machine's paths filled in. `addressBlock` (0–255) moves every
 * lab address from 127.0.x.y to 127.<block>.x.y, so several labs (the demo, browser tests, test files
 * running in parallel) never fight over the same addresses and ports.
 */
export function labConfigText(rootDir: string, addressBlock = 0): string {
  if (!Number.isInteger(addressBlock) || addressBlock < 0 || addressBlock > 255) throw new Error(`lab: address block ${addressBlock} is not 0–255`);
  return fs
    .readFileSync(path.join(rootDir, "scripts", "demo-config.yaml"), "utf8")
    .replaceAll("{node}", process.execPath)
    .replaceAll("{root}", rootDir)
    .replaceAll("127.0.", `127.${addressBlock}.`);
}

/**
 * Seeds the lab's configuration into an empty database (hosts, applications and pairs of the demo file,
 * moved to the address block). Returns false when the database already had hosts (nothing changed).
 */
export async function seedLabConfig(db: Db, rootDir: string, opts: { addressBlock: number; serverEnv?: Record<string, string>; configText?: string }): Promise<boolean> {
  if ((await db.host.count()) > 0) return false;
  let text = opts.configText ?? labConfigText(rootDir, opts.addressBlock);
  const extra = Object.entries(opts.serverEnv ?? {}).map(([k, v]) => `${k}: "${v}"`).join(", ");
  if (extra) text = text.replaceAll('SWITCHYARD_LAB_FAULTS: "1",', `SWITCHYARD_LAB_FAULTS: "1", ${extra},`);
  await importConfig(db, systemActor, text, { replace: false, dryRun: false });
  return true;
}
