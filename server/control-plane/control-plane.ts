// The web tier's handle on the control plane. The agent gateway and the failover controller run in a
// worker thread of their own (worker.ts), so a stalled main thread — a big import, a slow page, a GC
// pause of the web heap — cannot delay a heartbeat or read as host loss; this class is the only way in:
// typed requests (protocol.ts) and a mirror of the live views the plane pushes. A worker that dies is
// started again (like a console restart: it rebuilds from the database and the agents' resync).
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { Db } from "../db";
import type { Env } from "../env";
import { AppError } from "../errors";
import type { AgentCommandInput, CommandResult, LogReadReply, LogReadRequestInput } from "../../protocol/agent-wire";
import type { CancelAlarmCommand, ControllerState, RaiseAlarmCommand } from "../controller/core";
import type { HostLiveState } from "../agents/gateway";
import { pairViews, type PairView } from "../runtime/live-view";
import { loadPairConfigs } from "../runtime/runtime.repository";
import type { MaintenanceOutcome, SwitchoverOutcome } from "../runtime/runner";
import type { AppRuntime, RuntimeAlarm, VipObservation } from "../runtime/app-runtime";
import type { ClusterStatus, ControlPlaneMetrics, ControlPlaneRequests, ControlPlaneStart, MainToWorker, Notice, WorkerToMain } from "./protocol";
import { PeerChannel, PeerRequestError } from "./peer";
import type { PlanEnding } from "../runtime/plan-endings";
import type { ConsoleAlarmKind } from "../../protocol/vocabulary";
import { logger, type Logger } from "../log";

/** The dashboard's order of pairs of equal severity (as pairViews sorts them). */
const byName = new Intl.Collator("en");

/** How long a follower waits for the leader to answer a request it passes on (a switchover answers once ordered). */
export const PEER_REQUEST_TIMEOUT_MS = 30_000;

/** A worker that died is started again after this, doubling up to the maximum while it keeps dying. */
export const WORKER_RESTART_DELAY_MS = 1_000;
export const WORKER_RESTART_DELAY_MAX_MS = 30_000;

export interface ControlPlaneListener {
  /** Pair views that changed, already computed; removed pair ids. */
  onLive?(changed: PairView[], removed: string[]): void;
  onLogEvents?(hostName: string, events: unknown[]): void;
  onControllerAlarm?(command: RaiseAlarmCommand | CancelAlarmCommand): void;
  onControlPlaneAlarm?(alarm: { raise: boolean; kind: ConsoleAlarmKind; text: string }): void;
  /** Names of applications whose reported runtime (running options, delivery, restart state) changed; whether observed VIPs changed. */
  onAppRuntime?(applications: string[], vipChanged: boolean): void;
  /** A delivery failed, a restart policy gave up, or an observed VIP contradicts the controller (vip-mismatch) — or that is over. */
  onAppAlarm?(alarm: RuntimeAlarm): void;
  /** A controller plan ended (for metrics). */
  onPlanEnded?(ending: PlanEnding): void;
  /** Who leads and which consoles are alive changed (or was read again). */
  onCluster?(status: ClusterStatus): void;
}

export interface ControlPlane {
  /** False on a console run as a configuration store only (SWITCHYARD_CONTROLLER=false). */
  readonly enabled: boolean;
  /** Where host agents connect (socket.io namespace /agent); null before start or when disabled. */
  agentUrl(): string | null;
  /** Starts it; `webUrl` is where browsers reach this console (followers and agents are told the leader's). */
  start(where?: { webUrl: string | null }): Promise<void>;
  /** Who leads, the consoles alive, this instance's role (null before the first answer, or when disabled). */
  cluster(): ClusterStatus | null;
  stop(): Promise<void>;
  subscribe(listener: ControlPlaneListener): () => void;
  switchOver(pairId: string, operator: string, force: boolean, reason: string): Promise<string>;
  /** The same, with whether the controller ordered it (false: refused, the sentence says why). */
  switchOverOutcome(pairId: string, operator: string, force: boolean, reason: string): Promise<SwitchoverOutcome>;
  /** Puts a pair in maintenance or ends it; resolves with the controller's sentence and whether it took it. */
  maintenance(pairId: string, operator: string, on: boolean, reason: string, untilMs: number | null): Promise<MaintenanceOutcome>;
  /** Writes a row to a pair's timeline (from a guided procedure: W14 upgrade, scheduled switchover). */
  note(pairId: string, text: string): Promise<void>;
  applicationCommand(appId: string, action: "start" | "stop", operator: string): Promise<CommandResult>;
  /** A host command (an alarm reaction's OS command); application commands go through the controller. */
  sendCommand(hostName: string, command: AgentCommandInput): Promise<CommandResult>;
  configChanged(): Promise<void>;
  /** An application's log through its host's agent (tail or search); refused with CONFLICT when the host is not connected. */
  readLog(hostName: string, request: LogReadRequestInput): Promise<LogReadReply>;
  dropHost(hostName: string, reason: string): Promise<boolean>;
  pairViews(): Promise<PairView[]>;
  hosts(): HostLiveState[];
  host(hostName: string): HostLiveState | null;
  controllerState(): Promise<ControllerState | null>;
  /** The latest an application's agent reported beyond roles (running options, delivery, restart state); null when nothing yet. */
  applicationRuntime(appName: string): AppRuntime | null;
  /** Where agents last observed each pair's VIP (or NLB port), one entry per pair and host. */
  vipObservations(): VipObservation[];
  /** The control plane thread's own health (null when there is none: disabled, or restarting). */
  metrics(): Promise<ControlPlaneMetrics | null>;
}

function notRunning(): AppError {
  return new AppError("CONFLICT", "the controller is not running on this console (SWITCHYARD_CONTROLLER=false)");
}

/** The control plane of a console that runs without agents and controller: live views from the configuration only. */
export function disabledControlPlane(db: Db): ControlPlane {
  return {
    enabled: false,
    agentUrl: () => null,
    start: async () => {},
    cluster: () => null,
    stop: async () => {},
    subscribe: () => () => {},
    switchOver: () => Promise.reject(notRunning()),
    switchOverOutcome: () => Promise.reject(notRunning()),
    maintenance: () => Promise.reject(notRunning()),
    // Without a controller there is no timeline writer; procedures cannot run there anyway.
    note: async () => {},
    applicationCommand: () => Promise.reject(notRunning()),
    sendCommand: () => Promise.reject(notRunning()),
    configChanged: async () => {},
    readLog: () => Promise.reject(notRunning()),
    dropHost: async () => false,
    pairViews: async () => pairViews(null, await loadPairConfigs(db), []),
    hosts: () => [],
    host: () => null,
    controllerState: async () => null,
    applicationRuntime: () => null,
    vipObservations: () => [],
    metrics: async () => null,
  };
}

/** This console leads, or the lease names it while its plane is starting (never a peer of itself). */
function leadsItself(status: ClusterStatus): boolean {
  return status.role === "leader" || status.leader?.id === status.instanceId;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

class WorkerControlPlane implements ControlPlane {
  readonly enabled = true;
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<ControlPlaneListener>();
  private readonly views = new Map<string, PairView>();
  /** Every host's state, by name, in the control plane's order (live notices carry the changes). */
  private hostStates = new Map<string, HostLiveState>();
  private readonly appRuntime = new Map<string, AppRuntime>();
  private readonly vips = new Map<string, VipObservation>();
  private url: string | null = null;
  private webUrl: string | null = null;
  private clusterStatus: ClusterStatus | null = null;
  /** A follower's connection to the leader's control plane (null while this console leads, or nobody does). */
  private peer: PeerChannel | null = null;
  /** The worker said it lost the lease: its exit is expected and it starts again at once, as a follower. */
  private steppedDown = false;
  private stopping = false;
  private restartDelayMs = WORKER_RESTART_DELAY_MS;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    private readonly env: Env,
    private readonly log: Logger,
  ) {}

  agentUrl(): string | null {
    return this.url;
  }

  cluster(): ClusterStatus | null {
    return this.clusterStatus;
  }

  start(where?: { webUrl: string | null }): Promise<void> {
    if (where) this.webUrl = where.webUrl;
    return new Promise((resolve, reject) => {
      const start: ControlPlaneStart = { env: this.env, webUrl: this.webUrl };
      const worker = new Worker(path.join(__dirname, "boot.cjs"), { workerData: start, name: "switchyard-control-plane" });
      this.worker = worker;
      let ready = false;
      worker.on("message", (message: WorkerToMain) => {
        if (message.kind === "fatal") {
          this.log.error("the control plane failed", { error: message.message });
          if (!ready) reject(new Error(`the control plane could not start: ${message.message.split("\n")[0]}`));
          void worker.terminate();
          return;
        }
        if (message.kind === "stepped-down") {
          this.log.warn("this console stepped down from leading; its control plane starts again as a follower", { term: message.term, reason: message.reason });
          this.steppedDown = true;
          // The operator learns of it (a stall past the lease, a database that did not answer, another console that took over).
          this.emit((l) => l.onControlPlaneAlarm?.({ raise: true, kind: "control-plane-stall", text: `this console stopped leading at term ${message.term}: ${message.reason}; its control plane starts again and leads again only if the lease is free` }));
          return;
        }
        if (message.kind === "notice" && message.notice.kind === "ready") {
          this.url = message.notice.agentUrl;
          // A new worker knows nothing yet; the agents' resyncs fill the mirror again.
          this.appRuntime.clear();
          this.vips.clear();
          this.restartDelayMs = WORKER_RESTART_DELAY_MS;
          if (!ready) {
            ready = true;
            resolve();
          }
          return;
        }
        this.receive(message);
      });
      worker.on("error", (err) => {
        this.log.error("the control plane's thread threw", { error: err.stack ?? err.message });
        if (!ready) reject(err);
      });
      worker.on("exit", (code) => {
        if (this.worker !== worker) return;
        this.worker = null;
        for (const [, p] of this.pending) p.reject(new AppError("CONFLICT", "the control plane restarted before it answered; try again"));
        this.pending.clear();
        if (this.stopping || !ready) return;
        // What this thread led is gone with it: the mirror waits for the next leader's (or its own) views.
        this.follow(null);
        if (this.clusterStatus) {
          // Told at once (not when the next thread first reports): what only the leader does stops now.
          const status: ClusterStatus = { ...this.clusterStatus, role: "follower", leadingSinceMs: null };
          this.clusterStatus = status;
          this.emit((l) => l.onCluster?.(status));
        }
        const delayMs = this.steppedDown ? 0 : this.restartDelayMs;
        if (this.steppedDown) this.steppedDown = false;
        else {
          this.log.error("the control plane's thread exited; starting it again", { code, restartInMs: this.restartDelayMs });
          this.restartDelayMs = Math.min(WORKER_RESTART_DELAY_MAX_MS, this.restartDelayMs * 2);
        }
        this.restartTimer = setTimeout(() => {
          this.restartTimer = null;
          this.start().catch((err: unknown) => this.log.error("restarting the control plane failed", { error: String(err) }));
        }, delayMs);
      });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.peer?.close();
    this.peer = null;
    const worker = this.worker;
    if (!worker) return;
    try {
      await this.request("stop", {});
    } catch (err) {
      this.log.warn("the control plane did not stop cleanly", { error: String(err) });
    }
    this.worker = null;
    await worker.terminate();
  }

  subscribe(listener: ControlPlaneListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async switchOver(pairId: string, operator: string, force: boolean, reason: string): Promise<string> {
    return (await this.request("switchover", { pairId, operator, force, reason })).sentence;
  }

  switchOverOutcome(pairId: string, operator: string, force: boolean, reason: string): Promise<SwitchoverOutcome> {
    return this.request("switchover", { pairId, operator, force, reason });
  }

  maintenance(pairId: string, operator: string, on: boolean, reason: string, untilMs: number | null): Promise<MaintenanceOutcome> {
    return this.request("maintenance", { pairId, operator, on, reason, untilMs });
  }

  note(pairId: string, text: string): Promise<void> {
    return this.request("note", { pairId, text });
  }

  applicationCommand(appId: string, action: "start" | "stop", operator: string): Promise<CommandResult> {
    return this.request("applicationCommand", { appId, action, operator });
  }

  sendCommand(hostName: string, command: AgentCommandInput): Promise<CommandResult> {
    return this.request("hostCommand", { hostName, command });
  }

  configChanged(): Promise<void> {
    return this.request("configChanged", {});
  }

  readLog(hostName: string, request: LogReadRequestInput): Promise<LogReadReply> {
    return this.request("readLog", { hostName, request });
  }

  dropHost(hostName: string, reason: string): Promise<boolean> {
    return this.request("dropHost", { hostName, reason });
  }

  async pairViews(): Promise<PairView[]> {
    if (this.views.size === 0) return pairViews(null, await loadPairConfigs(this.db), [...this.hostStates.values()]);
    // The control plane leaves a connected host's last heartbeat out of its views (live-view.ts): filled in here.
    const heard = (s: PairView["servers"][number]) => (s.lastHeartbeatAt === null && s.hostConnection === "connected" ? { ...s, lastHeartbeatAt: this.hostStates.get(s.hostName)?.lastHeartbeatAt ?? null } : s);
    return [...this.views.values()]
      .sort((a, b) => b.severity - a.severity || byName.compare(a.name, b.name))
      .map((v) => (v.servers.some((s) => s.lastHeartbeatAt === null && s.hostConnection === "connected") ? { ...v, servers: v.servers.map(heard) } : v));
  }

  hosts(): HostLiveState[] {
    return [...this.hostStates.values()].map((h) => ({ ...h }));
  }

  host(hostName: string): HostLiveState | null {
    const h = this.hostStates.get(hostName);
    return h ? { ...h } : null;
  }

  controllerState(): Promise<ControllerState | null> {
    return this.request("controllerState", {});
  }

  applicationRuntime(appName: string): AppRuntime | null {
    return this.appRuntime.get(appName) ?? null;
  }

  vipObservations(): VipObservation[] {
    return [...this.vips.values()];
  }

  metrics(): Promise<ControlPlaneMetrics | null> {
    return this.worker ? this.request("metrics", {}).catch(() => null) : Promise.resolve(null);
  }

  /** Whether this console's own worker runs the plane (or nobody is known to lead: the worker answers why not). */
  private leadsHere(): boolean {
    return this.clusterStatus === null || leadsItself(this.clusterStatus);
  }

  private request<K extends keyof ControlPlaneRequests>(name: K, input: ControlPlaneRequests[K]["in"]): Promise<ControlPlaneRequests[K]["out"]> {
    if (name !== "stop" && name !== "metrics" && !this.leadsHere()) {
      // A follower: the leader carries it out.
      const peer = this.peer;
      if (!peer || !peer.connected) {
        const leader = this.clusterStatus?.leader;
        return Promise.reject(new AppError("CONFLICT", leader ? `this console follows ${leader.id}, which cannot be reached right now; try again in a moment or use ${leader.webUrl ?? "the leading console"}` : "no console leads right now (a takeover is under way); try again in a few seconds"));
      }
      return peer.request(name, input, PEER_REQUEST_TIMEOUT_MS).catch((err: unknown) => {
        if (err instanceof PeerRequestError && err.code) throw new AppError(err.code as "NOT_FOUND" | "CONFLICT" | "INVALID", err.message);
        throw err;
      });
    }
    const worker = this.worker;
    if (!worker) return Promise.reject(new AppError("CONFLICT", "the control plane is not running right now (it is starting again); try again in a moment"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ kind: "request", id, name, input } as MainToWorker);
    });
  }

  private receive(message: Exclude<WorkerToMain, { kind: "fatal" } | { kind: "stepped-down" }>): void {
    if (message.kind === "reply") {
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      if (message.ok) p.resolve(message.output);
      else p.reject(message.error.code ? new AppError(message.error.code as "NOT_FOUND" | "CONFLICT" | "INVALID", message.error.message) : new Error(message.error.message));
      return;
    }
    this.notice(message.notice);
  }

  /** Follows the leader's control plane over its agent port (a follower), or nobody's (leading here, or no leader). */
  private follow(status: ClusterStatus | null): void {
    const target = status && !leadsItself(status) && status.leader?.agentUrl && status.peerSecret ? status.leader.agentUrl : null;
    if (this.peer && this.peer.agentUrl === target) return;
    if (this.peer) {
      this.peer.close();
      this.peer = null;
    }
    // Leading here: the mirror is this console's own plane's, whose first push (every view, every host)
    // came up before the notice that says it leads. Clearing it now would lose the views nothing changes.
    if (status && leadsItself(status)) return;
    // Another source (the leader's plane over the network), or none: what the mirror held is not its.
    this.views.clear();
    this.hostStates = new Map();
    this.appRuntime.clear();
    this.vips.clear();
    this.emit((l) => l.onLive?.([], []));
    if (!target || !status?.peerSecret || this.stopping) return;
    const peer: PeerChannel = new PeerChannel(target, status.peerSecret, {
      notice: (n) => {
        if (this.peer === peer) this.notice(n);
      },
      connected: () => this.log.info("following the leading console", { leader: status.leader?.id, at: target }),
      lost: (reason) => this.log.debug("the connection to the leading console is down", { at: target, reason }),
    });
    this.peer = peer;
  }

  private notice(n: Notice): void {
    switch (n.kind) {
      case "cluster": {
        const before = this.clusterStatus;
        this.clusterStatus = n.status;
        if (before?.role !== n.status.role || before?.leader?.agentUrl !== n.status.leader?.agentUrl || before?.leader?.term !== n.status.leader?.term) this.follow(n.status);
        this.emit((l) => l.onCluster?.(n.status));
        return;
      }
      case "live":
        for (const v of n.changed) this.views.set(v.id, v);
        for (const id of n.removed) this.views.delete(id);
        if (n.hostsComplete) this.hostStates = new Map();
        for (const h of n.hosts) this.hostStates.set(h.hostName, h);
        this.emit((l) => l.onLive?.(n.changed, n.removed));
        return;
      case "heard":
        n.hostNames.forEach((name, i) => {
          const h = this.hostStates.get(name);
          if (h) h.lastHeartbeatAt = new Date(n.atMs[i]!);
        });
        return;
      case "log-events":
        this.emit((l) => l.onLogEvents?.(n.hostName, n.events));
        return;
      case "controller-alarm":
        this.emit((l) => l.onControllerAlarm?.(n.command));
        return;
      case "control-plane-alarm":
        this.emit((l) => l.onControlPlaneAlarm?.({ raise: n.raise, kind: n.key, text: n.text }));
        return;
      case "app-runtime":
        for (const a of n.changes.applications) this.appRuntime.set(a.application, a);
        for (const v of n.changes.vip) this.vips.set(`${v.pair}|${v.hostName}`, v);
        this.emit((l) => l.onAppRuntime?.(n.changes.applications.map((a) => a.application), n.changes.vip.length > 0));
        return;
      case "app-alarm":
        this.emit((l) => l.onAppAlarm?.(n.alarm));
        return;
      case "plan-ended":
        this.emit((l) => l.onPlanEnded?.(n.ending));
        return;
      case "ready":
        return;
    }
  }

  private emit(call: (l: ControlPlaneListener) => void): void {
    for (const l of this.listeners) {
      try {
        call(l);
      } catch (err) {
        this.log.error("a control plane listener threw", { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      }
    }
  }
}

/** The control plane for this console: its worker thread, or the configuration-only stand-in. */
export function createControlPlane(db: Db, env: Env, log: Logger = logger("control-plane")): ControlPlane {
  return env.SWITCHYARD_CONTROLLER === "true" ? new WorkerControlPlane(db, env, log) : disabledControlPlane(db);
}
