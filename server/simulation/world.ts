// Deterministic simulation of the failover controller: simulated SIP servers, host agents, network,
// agent gateway, runner and clock around the real pure core, driven by a seeded fault schedule, with
// the safety and liveness invariants checked after every step. One seed = one short run.
import {
  createControllerState,
  persistedView,
  step as realStep,
  type ControllerCommand,
  type ControllerEvent,
  type ControllerState,
  type HaType,
  type PairConfig,
  type PersistedPairState,
  type Role,
  type RunControlScriptCommand,
  type SetRoleCommand,
  type StepFunction,
  type Timing,
} from "../core";
import { Prng } from "./prng";

// ───────────────────────────── limits of the simulated world ─────────────────────────────

export interface SimLimits {
  /** Faults start within this window; everything heals by its end. */
  faultWindowMs: number;
  /** Calm time after the fault window, during which the system must converge. */
  quietMs: number;
  agentCycleMs: number;
  /** Every this many agent cycles the agent re-sends all reports even if unchanged (recovers lost ones). */
  fullReportEveryCycles: number;
  serverStartMs: number;
  /** W13 readiness: HA link up for this long (60 s in SIP Server; shortened so runs stay short). */
  readyAfterMs: number;
  /** W6 effective out-of-service timeout before back-off (shortened). */
  oosTimeoutMs: number;
  /** Liveness: a reachable healthy server is primary within this long after the last disturbance. */
  primaryWithinMs: number;
  /** Split brain between two reachable servers ends within this long after the last disturbance. */
  splitBrainWithinMs: number;
}

export const DEFAULT_SIM_LIMITS: Readonly<SimLimits> = Object.freeze({
  faultWindowMs: 15_000,
  quietMs: 20_000,
  agentCycleMs: 500,
  fullReportEveryCycles: 4,
  serverStartMs: 300,
  readyAfterMs: 3_000,
  oosTimeoutMs: 2_000,
  primaryWithinMs: 15_000,
  splitBrainWithinMs: 6_000,
});

export interface SimOptions {
  seed: number;
  /** The core under test; tests inject deliberately broken variants. */
  step?: StepFunction;
  trace?: boolean;
  limits?: Partial<SimLimits>;
  timing?: Partial<Timing>;
}

export interface SimResult {
  seed: number;
  violation: string | null;
  /** One line per step (only when tracing). */
  trace: string[];
  steps: number;
  faults: string[];
  roleOrders: number;
}

// ───────────────────────────── simulated entities ─────────────────────────────

interface SimServer {
  appId: string;
  pairId: string;
  hostId: string;
  configuredRole: Role;
  proc: "running" | "starting" | "failed" | "hung";
  role: Role;
  epoch: number;
  canBind: boolean;
  status: "running" | "service-unavailable";
  noTrafficSinceMs: number | null;
  oosBackoff: number;
  runningSinceMs: number;
}

interface SimHost {
  id: string;
  linkUp: boolean;
  sipNicUp: boolean;
  /** The agent's socket session; equals the gateway's when connected. 0 = none. */
  session: number;
  /** W9-style fencing of control scripts: highest epoch seen per pair. */
  scriptEpoch: Record<string, number>;
  vip: Record<string, boolean>;
  cycles: number;
  stamps: Record<string, number>;
  lastSent: Record<string, string>;
}

type AgentEvent = Exclude<ControllerEvent, { type: "config-loaded" | "tick" | "operator-switchover" | "agent-connected" | "agent-disconnected" }>;
type UpPayload = { kind: "heartbeat" } | { kind: "event"; event: DistributiveOmit<AgentEvent, "atMs"> };
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

type Fault =
  | { kind: "crash"; appId: string; durationMs: number }
  | { kind: "hang"; appId: string; durationMs: number }
  | { kind: "disconnect"; hostId: string; durationMs: number }
  | { kind: "sip-nic"; hostId: string; durationMs: number }
  | { kind: "bind-fail"; appId: string; durationMs: number }
  | { kind: "no-traffic"; pairId: string; durationMs: number }
  | { kind: "lossy"; durationMs: number }
  | { kind: "console-restart"; durationMs: number }
  | { kind: "switchover"; pairId: string; force: boolean; durationMs: 0 };

type Item =
  | { kind: "up"; hostId: string; session: number; payload: UpPayload }
  | { kind: "down"; hostId: string; session: number; command: SetRoleCommand | RunControlScriptCommand }
  | { kind: "tick"; incarnation: number }
  | { kind: "agent-cycle"; hostId: string }
  | { kind: "fault"; fault: Fault }
  | { kind: "heal"; fault: Fault }
  | { kind: "console-up"; incarnation: number }
  | { kind: "started"; appId: string };

interface Queued {
  atMs: number;
  seq: number;
  item: Item;
}

class Violation extends Error {}

// ───────────────────────────── the world ─────────────────────────────

export class SimWorld {
  readonly rng: Prng;
  readonly limits: SimLimits;
  readonly stepFn: StepFunction;
  readonly tracing: boolean;
  readonly trace: string[] = [];
  readonly faults: string[] = [];
  readonly timing: Partial<Timing>;
  nowMs = 0;
  steps = 0;
  roleOrders = 0;

  pairs: PairConfig[] = [];
  servers = new Map<string, SimServer>();
  hosts = new Map<string, SimHost>();
  noTraffic = new Set<string>();
  lossy = 0;

  // Runner and gateway.
  core: ControllerState | null = null;
  persisted: Record<string, PersistedPairState> = {};
  gatewaySession = new Map<string, number>();
  lastHeardMs = new Map<string, number>();
  nextSession = 1;
  /** Console process incarnation; ticks of a previous one are dropped. */
  incarnation = 0;

  // Invariant bookkeeping.
  primaryOrders = new Map<string, string>();
  historyEpochs = new Map<string, Set<number>>();
  /** The newest readiness report (by the agent's stamp) delivered to the current console incarnation. */
  deliveredReadiness = new Map<string, { sentAtMs: number; ready: 0 | 1 }>();
  lastDisturbanceMs = 0;
  splitSinceMs = new Map<string, number>();
  noPrimarySinceMs = new Map<string, number>();

  private queue: Queued[] = [];
  private seq = 0;

  constructor(opts: SimOptions) {
    this.rng = new Prng(opts.seed);
    this.limits = { ...DEFAULT_SIM_LIMITS, ...opts.limits };
    this.stepFn = opts.step ?? realStep;
    this.tracing = opts.trace ?? false;
    this.timing = opts.timing ?? {};
    this.build();
  }

  // ── scenario ──

  private build(): void {
    const rng = this.rng;
    const pairCount = rng.int(1, 2);
    const types: HaType[] = ["ip-takeover", "nlb-cluster", "single-host"];
    for (let p = 1; p <= pairCount; p++) {
      const haType = rng.pick(types);
      const h1 = `host-${p}a`;
      const h2 = haType === "single-host" ? h1 : `host-${p}b`;
      const pair: PairConfig = {
        id: `pair-${p}`,
        name: `pair-${p}`,
        haType,
        apps: [
          { appId: `sip-${p}a`, appName: `sip-${p}a`, hostId: h1, hostName: h1 },
          { appId: `sip-${p}b`, appName: `sip-${p}b`, hostId: h2, hostName: h2 },
        ],
      };
      this.pairs.push(pair);
      for (const [i, ref] of pair.apps.entries()) {
        const role: Role = i === 0 ? "primary" : "backup";
        this.servers.set(ref.appId, {
          appId: ref.appId,
          pairId: pair.id,
          hostId: ref.hostId,
          configuredRole: role,
          proc: "running",
          role,
          epoch: 0,
          canBind: true,
          status: "running",
          noTrafficSinceMs: null,
          oosBackoff: 1,
          // Readiness already earned at the start of the run.
          runningSinceMs: -this.limits.readyAfterMs,
        });
        if (!this.hosts.has(ref.hostId)) {
          this.hosts.set(ref.hostId, { id: ref.hostId, linkUp: true, sipNicUp: true, session: 0, scriptEpoch: {}, vip: {}, cycles: 0, stamps: {}, lastSent: {} });
        }
        this.hosts.get(ref.hostId)!.vip[pair.id] = i === 0;
      }
    }
    this.startConsole();
    for (const [i, h] of [...this.hosts.keys()].entries()) this.schedule(1 + i * 37, { kind: "agent-cycle", hostId: h });

    const faultCount = rng.int(2, 6);
    const apps = [...this.servers.keys()];
    const hostIds = [...this.hosts.keys()];
    for (let i = 0; i < faultCount; i++) {
      const at = rng.int(500, this.limits.faultWindowMs - 1_000);
      const maxDur = this.limits.faultWindowMs - at;
      const dur = rng.int(200, Math.max(300, Math.min(maxDur, 8_000)));
      const kind = rng.int(0, 9);
      let fault: Fault;
      switch (kind) {
        case 0:
          fault = { kind: "crash", appId: rng.pick(apps), durationMs: dur };
          break;
        case 1:
          fault = { kind: "hang", appId: rng.pick(apps), durationMs: dur };
          break;
        case 2:
          fault = { kind: "disconnect", hostId: rng.pick(hostIds), durationMs: dur };
          break;
        case 3:
          fault = { kind: "sip-nic", hostId: rng.pick(hostIds), durationMs: dur };
          break;
        case 4:
          fault = { kind: "bind-fail", appId: rng.pick(apps), durationMs: dur };
          break;
        case 5:
          fault = { kind: "no-traffic", pairId: rng.pick(this.pairs).id, durationMs: dur };
          break;
        case 6:
          fault = { kind: "lossy", durationMs: dur };
          break;
        case 7:
          fault = { kind: "console-restart", durationMs: rng.int(100, 2_000) };
          break;
        default:
          fault = { kind: "switchover", pairId: rng.pick(this.pairs).id, force: rng.chance(0.3), durationMs: 0 };
      }
      this.faults.push(`${at}ms ${describeFault(fault)}`);
      this.schedule(at, { kind: "fault", fault });
    }
  }

  // ── event queue ──

  private schedule(atMs: number, item: Item): void {
    this.queue.push({ atMs, seq: this.seq++, item });
  }

  private popNext(): Queued | undefined {
    let best = -1;
    for (let i = 0; i < this.queue.length; i++) {
      const q = this.queue[i]!;
      const b = best < 0 ? undefined : this.queue[best]!;
      if (!b || q.atMs < b.atMs || (q.atMs === b.atMs && q.seq < b.seq)) best = i;
    }
    if (best < 0) return undefined;
    const [q] = this.queue.splice(best, 1);
    return q;
  }

  run(): SimResult {
    const endMs = this.limits.faultWindowMs + this.limits.quietMs;
    let violation: string | null = null;
    try {
      for (;;) {
        const q = this.popNext();
        if (!q || q.atMs > endMs) break;
        this.nowMs = q.atMs;
        this.steps++;
        this.process(q.item);
        this.checkInvariants();
      }
    } catch (e) {
      if (e instanceof Violation) violation = e.message;
      else throw e;
    }
    return { seed: 0, violation, trace: this.trace, steps: this.steps, faults: this.faults, roleOrders: this.roleOrders };
  }

  private log(line: string): void {
    if (this.tracing) this.trace.push(`t=${this.nowMs} ${line}`);
  }

  private disturbed(): void {
    this.lastDisturbanceMs = this.nowMs;
  }

  // ── processing one item ──

  private process(item: Item): void {
    switch (item.kind) {
      case "tick":
        if (item.incarnation !== this.incarnation) return;
        return this.runnerTick();
      case "agent-cycle":
        return this.agentCycle(item.hostId);
      case "up":
        return this.deliverUp(item.hostId, item.session, item.payload);
      case "down":
        return this.deliverDown(item.hostId, item.session, item.command);
      case "fault":
        return this.applyFault(item.fault);
      case "heal":
        return this.healFault(item.fault);
      case "console-up":
        if (item.incarnation !== this.incarnation) return;
        this.log("console up: core rebuilt from persisted epochs and agents' resync");
        return this.startConsole();
      case "started": {
        const srv = this.servers.get(item.appId)!;
        if (srv.proc !== "starting") return;
        srv.proc = "running";
        // A restarted server comes up in its configured role at epoch 0 (it holds nothing in memory).
        srv.role = srv.configuredRole;
        srv.epoch = 0;
        srv.status = "running";
        srv.noTrafficSinceMs = null;
        srv.oosBackoff = 1;
        srv.runningSinceMs = this.nowMs;
        this.log(`${srv.appId} started as ${srv.role} e0`);
        return;
      }
    }
  }

  private applyFault(f: Fault): void {
    this.log(`FAULT ${describeFault(f)}`);
    this.disturbed();
    switch (f.kind) {
      case "crash": {
        const srv = this.servers.get(f.appId)!;
        if (srv.proc === "running" || srv.proc === "hung") srv.proc = "failed";
        break;
      }
      case "hang": {
        const srv = this.servers.get(f.appId)!;
        if (srv.proc === "running") srv.proc = "hung";
        break;
      }
      case "disconnect":
        this.hosts.get(f.hostId)!.linkUp = false;
        break;
      case "sip-nic":
        this.hosts.get(f.hostId)!.sipNicUp = false;
        break;
      case "bind-fail":
        this.servers.get(f.appId)!.canBind = false;
        break;
      case "no-traffic":
        this.noTraffic.add(f.pairId);
        break;
      case "lossy":
        this.lossy++;
        break;
      case "console-restart":
        this.core = null;
        this.incarnation++;
        for (const h of this.hosts.keys()) this.gatewaySession.set(h, 0);
        this.schedule(this.nowMs + f.durationMs, { kind: "console-up", incarnation: this.incarnation });
        return;
      case "switchover":
        this.feed({ type: "operator-switchover", atMs: this.nowMs, pairId: f.pairId, operator: "sim-operator", force: f.force, reason: f.force ? "simulated forced switchover" : "" });
        return;
    }
    this.schedule(this.nowMs + f.durationMs, { kind: "heal", fault: f });
  }

  private healFault(f: Fault): void {
    this.log(`HEAL ${describeFault(f)}`);
    this.disturbed();
    switch (f.kind) {
      case "crash": {
        const srv = this.servers.get(f.appId)!;
        if (srv.proc === "failed") {
          srv.proc = "starting";
          this.schedule(this.nowMs + this.limits.serverStartMs, { kind: "started", appId: f.appId });
        }
        break;
      }
      case "hang": {
        const srv = this.servers.get(f.appId)!;
        if (srv.proc === "hung") srv.proc = "running";
        break;
      }
      case "disconnect":
        this.hosts.get(f.hostId)!.linkUp = true;
        break;
      case "sip-nic":
        this.hosts.get(f.hostId)!.sipNicUp = true;
        break;
      case "bind-fail":
        this.servers.get(f.appId)!.canBind = true;
        break;
      case "no-traffic":
        this.noTraffic.delete(f.pairId);
        break;
      case "lossy":
        this.lossy--;
        break;
      default:
        break;
    }
  }

  // ── the runner: feeds the core, persists, sends ──

  private startConsole(): void {
    this.core = createControllerState({ nowMs: this.nowMs, pairs: this.pairs, persisted: this.persisted, timing: this.timing });
    this.incarnation++;
    // A new console process has no sockets: every agent reconnects and resyncs.
    for (const h of this.hosts.keys()) this.gatewaySession.set(h, 0);
    this.deliveredReadiness.clear();
    this.disturbed();
    this.schedule(this.nowMs + this.core.timing.tickIntervalMs, { kind: "tick", incarnation: this.incarnation });
  }

  private runnerTick(): void {
    if (!this.core) return;
    const timeoutMs = this.core.timing.heartbeatTimeoutMs;
    for (const [h, session] of this.gatewaySession) {
      if (session !== 0 && this.nowMs - (this.lastHeardMs.get(h) ?? 0) > timeoutMs) {
        this.gatewaySession.set(h, 0);
        this.feed({ type: "agent-disconnected", atMs: this.nowMs, hostId: h, detail: `heartbeat timeout after ${timeoutMs} ms` });
      }
    }
    this.feed({ type: "tick", atMs: this.nowMs });
    if (this.core) this.schedule(this.nowMs + this.core.timing.tickIntervalMs, { kind: "tick", incarnation: this.incarnation });
  }

  private feed(event: ControllerEvent): void {
    if (!this.core) return;
    const before = this.core;
    const result = this.stepFn(before, event);
    this.core = result.state;
    // Persist before sending: the epoch and history rows are durable before any order leaves.
    this.persisted = persistedView(result.state);
    for (const c of result.commands) {
      if (c.type === "record-history") {
        let set = this.historyEpochs.get(c.pairId);
        if (!set) this.historyEpochs.set(c.pairId, (set = new Set()));
        set.add(c.epoch);
      }
    }
    this.checkCommands(event, result.commands, before, result.state);
    if (this.tracing && (event.type !== "tick" || result.commands.length > 0)) {
      const cmds = result.commands.filter((c) => c.type === "set-role" || c.type === "run-control-script").map(describeCommand);
      this.log(`ctl<-${describeEvent(event)} | ${result.reason}${cmds.length ? ` | ${cmds.join(", ")}` : ""}`);
    }
    for (const c of result.commands) {
      if (c.type === "set-role" || c.type === "run-control-script") this.sendDown(c);
    }
  }

  private sendDown(c: SetRoleCommand | RunControlScriptCommand): void {
    const session = this.gatewaySession.get(c.hostId) ?? 0;
    if (session === 0) return; // the gateway has no socket to that host: the command is dropped
    this.transmit({ kind: "down", hostId: c.hostId, session, command: c });
  }

  private transmit(item: Extract<Item, { kind: "up" | "down" }>): void {
    const lossy = this.lossy > 0;
    if (lossy && this.rng.chance(0.1)) return;
    const copies = lossy && this.rng.chance(0.1) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = lossy ? this.rng.int(1, 300) : this.rng.int(1, 10);
      this.schedule(this.nowMs + delay, item);
    }
  }

  // ── the gateway side: messages arriving from agents ──

  private deliverUp(hostId: string, session: number, payload: UpPayload): void {
    const host = this.hosts.get(hostId)!;
    if (!host.linkUp || this.gatewaySession.get(hostId) !== session || !this.core) return;
    this.lastHeardMs.set(hostId, this.nowMs);
    if (payload.kind === "heartbeat") return;
    const event = { ...payload.event, atMs: this.nowMs } as ControllerEvent;
    if (event.type === "readiness-report" && event.sentAtMs > (this.deliveredReadiness.get(event.appId)?.sentAtMs ?? -1)) {
      this.deliveredReadiness.set(event.appId, { sentAtMs: event.sentAtMs, ready: event.readyForSwitchover });
    }
    this.feed(event);
  }

  // ── agents and servers ──

  private sendUp(host: SimHost, payload: UpPayload): void {
    if (!host.linkUp || host.session === 0) return;
    this.transmit({ kind: "up", hostId: host.id, session: host.session, payload });
  }

  private stamp(host: SimHost, key: string): number {
    const t = Math.max(this.nowMs, (host.stamps[key] ?? -1) + 1);
    host.stamps[key] = t;
    return t;
  }

  private agentCycle(hostId: string): void {
    const host = this.hosts.get(hostId)!;
    this.schedule(this.nowMs + this.limits.agentCycleMs, { kind: "agent-cycle", hostId });
    host.cycles++;
    for (const srv of this.servers.values()) if (srv.hostId === hostId) this.serverTimers(srv);
    if (!host.linkUp) return;
    const connected = host.session !== 0 && this.gatewaySession.get(hostId) === host.session;
    let full = host.cycles % this.limits.fullReportEveryCycles === 0;
    if (!connected) {
      if (!this.core) return;
      const session = this.nextSession++;
      host.session = session;
      this.gatewaySession.set(hostId, session);
      this.lastHeardMs.set(hostId, this.nowMs);
      this.feed({ type: "agent-connected", atMs: this.nowMs, hostId });
      full = true;
    }
    this.sendUp(host, { kind: "heartbeat" });
    this.report(host, full);
  }

  /** The agent reports each application's status, and (when it answers) role and readiness. */
  private report(host: SimHost, full: boolean): void {
    for (const srv of this.servers.values()) {
      if (srv.hostId !== host.id) continue;
      const answering = srv.proc === "running";
      const status =
        srv.proc === "failed" ? "failed" : srv.proc === "starting" ? "starting" : srv.proc === "hung" ? "unknown" : srv.status;
      const statusKey = `${status}:${srv.oosBackoff}`;
      if (full || host.lastSent[`${srv.appId}:status`] !== statusKey) {
        host.lastSent[`${srv.appId}:status`] = statusKey;
        this.sendUp(host, {
          kind: "event",
          event: {
            type: "application-status",
            hostId: host.id,
            appId: srv.appId,
            status,
            oosBackoff: srv.oosBackoff,
            detail: srv.proc === "hung" ? "not answering" : status === "service-unavailable" ? "no SIP traffic" : "",
            sentAtMs: this.stamp(host, `${srv.appId}:status`),
          },
        });
      }
      if (!answering) continue;
      this.sendRole(host, srv, full);
      const ready = this.readiness(srv);
      const readyKey = `${ready.ready}:${ready.listener}`;
      if (full || host.lastSent[`${srv.appId}:ready`] !== readyKey) {
        host.lastSent[`${srv.appId}:ready`] = readyKey;
        this.sendUp(host, {
          kind: "event",
          event: {
            type: "readiness-report",
            hostId: host.id,
            appId: srv.appId,
            readyForSwitchover: ready.ready,
            notReadyReasons: ready.reasons,
            haLink: ready.haLink ? "up" : "down",
            sipListener: ready.listener,
            sentAtMs: this.stamp(host, `${srv.appId}:ready`),
          },
        });
      }
    }
  }

  private sendRole(host: SimHost, srv: SimServer, full: boolean): void {
    const roleKey = `${srv.role}:${srv.epoch}`;
    if (!full && host.lastSent[`${srv.appId}:role`] === roleKey) return;
    host.lastSent[`${srv.appId}:role`] = roleKey;
    this.sendUp(host, {
      kind: "event",
      event: { type: "role-report", hostId: host.id, appId: srv.appId, role: srv.role, epoch: srv.epoch, sentAtMs: this.stamp(host, `${srv.appId}:role`) },
    });
  }

  private peerOf(srv: SimServer): SimServer {
    for (const s of this.servers.values()) if (s.pairId === srv.pairId && s.appId !== srv.appId) return s;
    throw new Error(`no peer for ${srv.appId}`);
  }

  private readiness(srv: SimServer): { ready: 0 | 1; reasons: string[]; haLink: boolean; listener: "bound" | "bind-failed" } {
    const peer = this.peerOf(srv);
    const haLink = peer.proc === "running" && srv.proc === "running";
    const upForMs = this.nowMs - Math.max(srv.runningSinceMs, peer.runningSinceMs);
    const reasons: string[] = [];
    if (!haLink) reasons.push("HA link down");
    else if (upForMs < this.limits.readyAfterMs) reasons.push(`HA link up for ${upForMs} ms of the ${this.limits.readyAfterMs} ms needed`);
    const listener = srv.role === "primary" && !srv.canBind ? "bind-failed" : "bound";
    return { ready: reasons.length === 0 ? 1 : 0, reasons, haLink, listener };
  }

  private hasTraffic(srv: SimServer): boolean {
    const host = this.hosts.get(srv.hostId)!;
    const pair = this.pairs.find((p) => p.id === srv.pairId)!;
    if (!host.sipNicUp || this.noTraffic.has(srv.pairId) || !srv.canBind) return false;
    return pair.haType === "single-host" || host.vip[srv.pairId] === true;
  }

  /** SIP traffic monitoring (W4/W5), as the server does it: only a running primary watches traffic. */
  private serverTimers(srv: SimServer): void {
    if (srv.proc !== "running" || srv.role !== "primary") return;
    if (this.hasTraffic(srv)) {
      srv.noTrafficSinceMs = null;
      srv.oosBackoff = 1;
      srv.status = "running";
      return;
    }
    if (srv.status === "service-unavailable") return;
    srv.noTrafficSinceMs ??= this.nowMs;
    if (this.nowMs - srv.noTrafficSinceMs >= this.limits.oosTimeoutMs * srv.oosBackoff) {
      srv.status = "service-unavailable";
      this.log(`${srv.appId} SERVICE_UNAVAILABLE (back-off ${srv.oosBackoff}x)`);
    }
  }

  private deliverDown(hostId: string, session: number, c: SetRoleCommand | RunControlScriptCommand): void {
    const host = this.hosts.get(hostId)!;
    if (!host.linkUp || host.session !== session) return;
    if (c.type === "run-control-script") return this.runScript(host, c);
    const srv = this.servers.get(c.appId)!;
    if (srv.proc === "hung") return; // no answer; the controller's retries decide
    const reply = (ok: boolean, heldEpoch?: number, detail?: string): void =>
      this.sendUp(host, { kind: "event", event: { type: "command-result", commandId: c.commandId, ok, heldEpoch, detail } });
    if (srv.proc !== "running") return reply(false, undefined, `${srv.appId} is ${srv.proc}`);
    // Epoch fencing, as the real servers do it: an order older than the epoch held is refused.
    if (c.epoch < srv.epoch) return reply(false, srv.epoch, "stale epoch");
    const before = srv.role;
    const gaveUpForNoTraffic = srv.status === "service-unavailable";
    srv.role = c.role;
    srv.epoch = c.epoch;
    if (before !== c.role) {
      this.log(`${srv.appId} applies ${c.role} e${c.epoch}`);
      const epochs = this.historyEpochs.get(c.pairId);
      if (!epochs?.has(c.epoch)) this.fail(`${srv.appId} changed role to ${c.role} under epoch ${c.epoch}, which has no history row`);
      if (c.role === "primary") {
        srv.noTrafficSinceMs = null;
      } else {
        srv.status = "running";
        srv.noTrafficSinceMs = null;
        // W5: a server that gave up the role for lack of traffic waits longer next time (up to 4x).
        if (gaveUpForNoTraffic) srv.oosBackoff = Math.min(4, srv.oosBackoff * 2);
      }
    }
    reply(true);
    this.sendRole(host, srv, true);
  }

  private runScript(host: SimHost, c: RunControlScriptCommand): void {
    const reply = (ok: boolean, detail: string): void =>
      this.sendUp(host, { kind: "event", event: { type: "control-script-result", commandId: c.commandId, pairId: c.pairId, hostId: host.id, action: c.action, ok, detail } });
    const held = host.scriptEpoch[c.pairId] ?? 0;
    if (c.epoch < held) return reply(false, `refused: epoch ${c.epoch} is older than ${held}`);
    host.scriptEpoch[c.pairId] = c.epoch;
    if (c.target === "nlb-port" && !host.sipNicUp) return reply(false, "NLB did not react: SIP NIC down");
    host.vip[c.pairId] = c.action === "enable";
    reply(true, "");
  }

  // ── invariants ──

  private fail(message: string): never {
    this.log(`VIOLATION ${message}`);
    throw new Violation(`t=${this.nowMs}: ${message}`);
  }

  private checkCommands(event: ControllerEvent, commands: ControllerCommand[], before: ControllerState, after: ControllerState): void {
    for (const c of commands) {
      if (c.type !== "set-role") continue;
      this.roleOrders++;
      if (!this.historyEpochs.get(c.pairId)?.has(c.epoch)) this.fail(`set-role ${c.appId} ${c.role} e${c.epoch} has no history row for its epoch`);
      if (c.role === "primary") {
        const key = `${c.pairId}:${c.epoch}`;
        const before = this.primaryOrders.get(key);
        if (before !== undefined && before !== c.appId) this.fail(`two primaries ordered under epoch ${c.epoch} of ${c.pairId}: ${before} and ${c.appId}`);
        this.primaryOrders.set(key, c.appId);
      }
    }
    if (event.type === "operator-switchover" && !event.force) {
      // Accepted = this step started an operator plan under a new epoch (re-sends of an older plan do not count).
      const was = before.pairStates[event.pairId];
      const now = after.pairStates[event.pairId];
      const accepted = now?.plan?.cause === "operator" && now.plan.epoch > (was?.epoch ?? 0);
      if (accepted) {
        const pair = this.pairs.find((p) => p.id === event.pairId)!;
        for (const ref of pair.apps) {
          if (this.deliveredReadiness.get(ref.appId)?.ready !== 1) this.fail(`unforced switchover of ${pair.id} ordered while ${ref.appId}'s last delivered readiness is not 1`);
        }
      }
    }
  }

  private reachable(srv: SimServer): boolean {
    const host = this.hosts.get(srv.hostId)!;
    return this.core !== null && host.linkUp && host.session !== 0 && this.gatewaySession.get(srv.hostId) === host.session;
  }

  private checkInvariants(): void {
    for (const pair of this.pairs) {
      const [a, b] = pair.apps.map((r) => this.servers.get(r.appId)!) as [SimServer, SimServer];
      const alive = (s: SimServer) => s.proc === "running" || s.proc === "hung";
      // Safety: at most one primary per pair per epoch.
      if (alive(a) && alive(b) && a.role === "primary" && b.role === "primary" && a.epoch === b.epoch) {
        this.fail(`${a.appId} and ${b.appId} are both primary under epoch ${a.epoch}`);
      }
      const since = Math.max(this.lastDisturbanceMs, 0);
      // Liveness: split brain between two reachable servers ends within a bound.
      const split = [a, b].every((s) => s.proc === "running" && s.role === "primary" && this.reachable(s));
      if (split) {
        const first = this.splitSinceMs.get(pair.id) ?? this.nowMs;
        this.splitSinceMs.set(pair.id, first);
        if (this.nowMs - Math.max(first, since) > this.limits.splitBrainWithinMs) this.fail(`split brain in ${pair.id} not resolved within ${this.limits.splitBrainWithinMs} ms`);
      } else this.splitSinceMs.delete(pair.id);
      // Liveness: a reachable healthy server becomes primary within a bound.
      const healthy = (s: SimServer) => s.proc === "running" && s.canBind && this.reachable(s) && this.hosts.get(s.hostId)!.sipNicUp && !this.noTraffic.has(pair.id);
      const serving = (s: SimServer) => s.proc === "running" && s.role === "primary" && s.canBind && this.hosts.get(s.hostId)!.sipNicUp && !this.noTraffic.has(pair.id);
      if ((healthy(a) || healthy(b)) && !serving(a) && !serving(b)) {
        const first = this.noPrimarySinceMs.get(pair.id) ?? this.nowMs;
        this.noPrimarySinceMs.set(pair.id, first);
        if (this.nowMs - Math.max(first, since) > this.limits.primaryWithinMs) {
          this.fail(`${pair.id} has a reachable healthy server but no serving primary for over ${this.limits.primaryWithinMs} ms`);
        }
      } else this.noPrimarySinceMs.delete(pair.id);
    }
  }
}

export function runSeed(opts: SimOptions): SimResult {
  const result = new SimWorld(opts).run();
  return { ...result, seed: opts.seed };
}

// ───────────────────────────── trace formatting ─────────────────────────────

function describeFault(f: Fault): string {
  switch (f.kind) {
    case "crash":
    case "hang":
    case "bind-fail":
      return `${f.kind} ${f.appId} for ${f.durationMs}ms`;
    case "disconnect":
    case "sip-nic":
      return `${f.kind} ${f.hostId} for ${f.durationMs}ms`;
    case "no-traffic":
      return `no-traffic ${f.pairId} for ${f.durationMs}ms`;
    case "lossy":
      return `lossy network for ${f.durationMs}ms`;
    case "console-restart":
      return `console restart (down ${f.durationMs}ms)`;
    case "switchover":
      return `operator ${f.force ? "forced " : ""}switchover ${f.pairId}`;
  }
}

function describeCommand(c: SetRoleCommand | RunControlScriptCommand): string {
  return c.type === "set-role" ? `set-role ${c.appId} ${c.role} e${c.epoch}` : `script ${c.hostId} ${c.action} e${c.epoch}`;
}

function describeEvent(e: ControllerEvent): string {
  switch (e.type) {
    case "application-status":
      return `status ${e.appId} ${e.status}`;
    case "role-report":
      return `role ${e.appId} ${e.role} e${e.epoch}`;
    case "readiness-report":
      return `ready ${e.appId} ${e.readyForSwitchover} ${e.sipListener}`;
    case "command-result":
      return `result ${e.commandId} ${e.ok ? "ok" : `refused${e.heldEpoch !== undefined ? ` held e${e.heldEpoch}` : ""}`}`;
    case "control-script-result":
      return `script-result ${e.hostId} ${e.action} ${e.ok ? "ok" : "failed"}`;
    case "agent-connected":
    case "agent-disconnected":
      return `${e.type} ${e.hostId}`;
    case "operator-switchover":
      return `operator-switchover ${e.pairId}${e.force ? " forced" : ""}`;
    default:
      return e.type;
  }
}
