// Many host agents in one process, for benchmarks of the console at scale: each speaks the real wire
// protocol (socket.io namespace /agent, protocol/agent-wire.ts) to the console's agent port with a real
// token — handshake, configuration ack, resync, heartbeats, command receipts and results — but runs no
// processes: its "servers" are a role and an epoch it reports. Not a test double of the agent's logic;
// a load generator that the console cannot tell from agents.
import { io as connect, type Socket } from "socket.io-client";
import {
  AGENT_NAMESPACE,
  AGENT_PROTOCOL_VERSION,
  type AgentCommand,
  type CommandResult,
  type HostConfig,
  type ReadinessReport,
  type Resync,
  type Welcome,
} from "../protocol/agent-wire";
import type { Db } from "../server/db";
import { createAgentToken } from "../server/agent-tokens/agent-tokens.service";
import { systemActor } from "../server/audit/audit.repository";

interface FakeApp {
  name: string;
  role: "primary" | "backup";
  epoch: number;
}

export class FakeAgent {
  readonly socket: Socket;
  private readonly apps = new Map<string, FakeApp>();
  private seq = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly startedAt = new Date().toISOString();
  /** Commands received, by type (a benchmark can check what the controller ordered). */
  readonly received: AgentCommand[] = [];
  /** Called with each command as it arrives (a benchmark times the controller's orders). */
  onCommand: ((cmd: AgentCommand) => void) | null = null;
  /** Heartbeats sent so far (a benchmark checks that this process kept up with the load it offers). */
  heartbeatsSent = 0;

  constructor(
    agentUrl: string,
    readonly hostName: string,
    token: string,
    initialRoles: Record<string, "primary" | "backup">,
    /** Report every server ready for a switchover with its HA link up (as settled servers do), instead of no readiness at all. */
    private readonly opts: { ready?: boolean } = {},
  ) {
    for (const [name, role] of Object.entries(initialRoles)) this.apps.set(name, { name, role, epoch: 0 });
    this.socket = connect(`${agentUrl}${AGENT_NAMESPACE}`, {
      path: "/socket.io",
      transports: ["websocket"],
      forceNew: true,
      auth: { hostName, token, agentVersion: "bench-fake", protocolVersion: AGENT_PROTOCOL_VERSION },
    });
    this.socket.on("welcome", (w: Welcome) => {
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.heartbeat = setInterval(() => {
        this.heartbeatsSent++;
        this.socket.emit("heartbeat", { seq: this.seq++, sentAtMs: Date.now() }, () => {});
      }, w.heartbeatIntervalMs);
    });
    this.socket.on("config", (cfg: HostConfig, ack: (r: unknown) => void) => {
      ack({ revision: cfg.revision, ok: true, errors: [] });
      this.socket.emit("resync", this.snapshot(cfg.revision), () => {});
    });
    this.socket.on("command", (cmd: AgentCommand, ack?: (r: unknown) => void) => {
      ack?.({ commandId: cmd.id });
      this.received.push(cmd);
      this.onCommand?.(cmd);
      this.execute(cmd);
    });
  }

  connected(): boolean {
    return this.socket.connected;
  }

  /** The role and epoch this agent's server holds now (as the console ordered it, or as it started). */
  roleOf(app: string): { role: "primary" | "backup"; epoch: number } | null {
    const a = this.apps.get(app);
    return a ? { role: a.role, epoch: a.epoch } : null;
  }

  /** Reports a role as the server would after a role change it made (or was ordered to make). */
  reportRole(app: string, role: "primary" | "backup", epoch: number): void {
    const a = this.apps.get(app);
    if (!a) throw new Error(`${this.hostName} has no application ${app}`);
    a.role = role;
    a.epoch = epoch;
    this.socket.emit("roleReport", { application: app, role, epoch, time: new Date().toISOString() });
    if (this.opts.ready) this.socket.emit("readiness", this.readiness(a));
  }

  /** Reports a server's process failed with what it wrote (e.g. a benchmark's screenshot of a problem). */
  reportFailed(app: string, detail: string, lastOutput: string): void {
    const time = new Date().toISOString();
    this.socket.emit("appStatus", { application: app, status: "failed", previous: "running", detail, pid: null, exitCode: 2, signal: null, time, restart: null, lastOutput });
  }

  private readiness(a: FakeApp): ReadinessReport {
    const time = new Date().toISOString();
    return {
      application: a.name,
      report: { role: a.role, epoch: a.epoch, status: "running", haLink: "up", haLinkUpSince: this.startedAt, calls: { total: 0, synced: 0, multisite: 0 }, readyForSwitchover: 1, readyForUpgrade: 1, notReadyReasons: [], sipListener: "bound", oosBackoff: 1 },
      error: null,
      time,
    };
  }

  /** Every application's role again, as it stands (load: what an agent sends after a role change). */
  repeatReports(): void {
    for (const a of this.apps.values()) this.socket.emit("roleReport", { application: a.name, role: a.role, epoch: a.epoch, time: new Date().toISOString() });
  }

  /** Reports a process status change as the agent's process keeper would (e.g. "failed" after a crash). */
  reportStatus(app: string, status: "running" | "failed" | "starting", previous: "running" | "failed" | "starting" | null, detail: string): void {
    this.socket.emit("appStatus", { application: app, status, previous, detail, pid: status === "failed" ? null : 1, exitCode: null, signal: status === "failed" ? "SIGKILL" : null, time: new Date().toISOString(), restart: null, lastOutput: "" });
  }

  /** The server came back after a crash, as the agent restarts it: backup at the pair's current epoch. */
  restartedAsBackup(app: string, epoch: number): void {
    const a = this.apps.get(app);
    if (!a) throw new Error(`${this.hostName} has no application ${app}`);
    a.role = "backup";
    a.epoch = epoch;
    this.reportStatus(app, "running", "starting", "restarted (fake agent)");
    this.reportRole(app, "backup", epoch);
  }

  close(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.socket.close();
  }

  private execute(cmd: AgentCommand): void {
    const finishedAt = new Date().toISOString();
    const result = (outcome: CommandResult["outcome"], reason: string): CommandResult => ({
      commandId: cmd.id,
      type: cmd.type,
      application: cmd.type === "run-os-command" ? null : cmd.application,
      pairEpoch: cmd.type === "run-os-command" ? null : cmd.pairEpoch,
      outcome,
      reason,
      finishedAt,
      scripts: [],
      heldEpoch: outcome === "stale-epoch" ? (this.apps.get(cmd.type === "run-os-command" ? "" : cmd.application)?.epoch ?? null) : null,
    });
    if (cmd.type === "set-role") {
      const a = this.apps.get(cmd.application);
      if (!a) return void this.socket.emit("commandResult", result("rejected", "unknown application"), () => {});
      if (cmd.pairEpoch < a.epoch) return void this.socket.emit("commandResult", result("stale-epoch", `holds epoch ${a.epoch}`), () => {});
      a.role = cmd.role;
      a.epoch = cmd.pairEpoch;
      this.socket.emit("commandResult", result("ok", `${a.name} is now ${a.role} at epoch ${a.epoch}`), () => {});
      this.socket.emit("roleReport", { application: a.name, role: a.role, epoch: a.epoch, time: finishedAt });
      if (this.opts.ready) this.socket.emit("readiness", this.readiness(a));
      return;
    }
    this.socket.emit("commandResult", result("ok", `${cmd.type} done (fake agent)`), () => {});
  }

  private snapshot(revision: string): Resync {
    const now = new Date().toISOString();
    return {
      agentVersion: "bench-fake",
      agentStartedAt: this.startedAt,
      configRevision: revision,
      applications: [...this.apps.values()].map((a) => ({
        application: a.name,
        status: "running",
        detail: "fake",
        pid: 1,
        since: now,
        role: a.role,
        roleEpoch: a.epoch,
        readiness: this.opts.ready ? this.readiness(a) : null,
        restart: null,
        lastOutput: "",
        running: null,
      })),
      epochs: {},
      vip: {},
      inFlightCommandIds: [],
    };
  }
}

type FakeHost = { hostName: string; roles: Record<string, "primary" | "backup"> };

/** Creates a token for each host (in the console's database): what its fake agent connects with. */
export async function createFakeAgentTokens(db: Db, hosts: FakeHost[]): Promise<(FakeHost & { token: string })[]> {
  const out: (FakeHost & { token: string })[] = [];
  for (const h of hosts) {
    const host = await db.host.findUniqueOrThrow({ where: { name: h.hostName }, select: { id: true } });
    const { token } = await createAgentToken(db, systemActor, host.id, "bench");
    out.push({ ...h, token });
  }
  return out;
}

/** Creates a token for each host (in the console's database) and connects a fake agent for it. */
export async function connectFakeAgents(db: Db, agentUrl: string, hosts: FakeHost[], opts: { ready?: boolean } = {}): Promise<FakeAgent[]> {
  return (await createFakeAgentTokens(db, hosts)).map((h) => new FakeAgent(agentUrl, h.hostName, h.token, h.roles, opts));
}
