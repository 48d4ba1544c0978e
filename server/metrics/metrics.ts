// Prometheus metrics of the console (GET /metrics), with prom-client, the maintained Node client:
// what an operations team alerts on and graphs beside node exporters, Patroni and Pacemaker.
//
// Two kinds of source:
// - State, read at scrape time from what the web tier already holds (the control plane's mirror of
//   pair views, host connections and observed VIPs; the alarms table): roles, epochs, readiness, HA
//   link, VIP (intended, observed, mismatch), maintenance, agents' connection and heartbeat age, active alarms. Gauges are cleared and set again on
//   each scrape, so a deleted pair or host disappears.
// - Events, counted as they happen: each controller plan that ends reaches the web tier as a
//   `plan-ended` notice from the control plane's thread (server/control-plane/protocol.ts), with its
//   kind, cause, outcome and start and end on the controller's clock. The worker reports them rather
//   than the web tier guessing them from pair views, because views are coalesced (one push per 50 ms):
//   a plan that starts and ends within one push would never be seen, its outcome (completed or
//   abandoned) is not in a view, and its timing would be the push's, not the decision's.
// Counters live in the web tier, so a restart of the control plane's thread does not reset them.
//
// The control plane thread's own event-loop delay and queue come from a `metrics` request at scrape
// time; the web tier's thread and the process are prom-client's default metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Db } from "../db";
import type { ControlPlane } from "../control-plane/control-plane";
import { activeAlarmCounts } from "../alarms/alarms.service";
import { severities } from "../alarms/alarms.schema";
import type { PlanEnding } from "../runtime/plan-endings";

/** Seconds from a plan's decision to its end: fast switchovers are ~100 ms, the controller gives up at 60 s (switchoverTimeoutMs). */
export const ROLE_CHANGE_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];

const serverRoles = ["primary", "backup", "unknown"] as const;
const vipStates = ["present", "absent", "stale", "none"] as const;
/** Causes of automatic role changes (server/controller/types.ts PlanCause less operator and the VIP-only plans). */
const failoverCauses = ["primary-failed", "host-disconnected", "no-primary", "service-unavailable", "bind-failure", "split-brain", "self-demotion"] as const;

export class ConsoleMetrics {
  readonly registry = new Registry();
  private readonly pairInfo: Gauge;
  private readonly pairEpoch: Gauge;
  private readonly splitBrain: Gauge;
  private readonly inProgress: Gauge;
  private readonly held: Gauge;
  private readonly maintenance: Gauge;
  private readonly switchoverSafe: Gauge;
  private readonly serverRole: Gauge;
  private readonly serverReady: Gauge;
  private readonly serverRunning: Gauge;
  private readonly haLink: Gauge;
  private readonly serverVip: Gauge;
  private readonly vipObserved: Gauge;
  private readonly vipMismatch: Gauge;
  private readonly agentConnected: Gauge;
  private readonly heartbeatAge: Gauge;
  private readonly alarmsActive: Gauge;
  private readonly alarmsUnacknowledged: Gauge;
  private readonly controlPlaneUp: Gauge;
  private readonly cpLoopDelayP99: Gauge;
  private readonly cpLoopDelayMax: Gauge;
  private readonly cpQueued: Gauge;
  private readonly cpHeap: Gauge;
  private readonly switchovers: Counter;
  private readonly failovers: Counter;
  private readonly vipPlans: Counter;
  private readonly roleChangeDuration: Histogram;
  private readonly consoleLeader: Gauge;
  private readonly consoleTerm: Gauge;
  private readonly consoleFollowers: Gauge;

  constructor(
    private readonly deps: { db: Db; controlPlane: ControlPlane; version: string; now?: () => number },
  ) {
    const r = [this.registry];
    const g = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: r });
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: "switchyard_build_info", help: "Always 1; the console's version in a label.", labelNames: ["version"], registers: r }).set({ version: deps.version }, 1);
    this.pairInfo = g("switchyard_pair_info", "Always 1 per configured pair; its HA type in a label.", ["pair", "ha_type"]);
    this.pairEpoch = g("switchyard_pair_epoch", "The pair's epoch: every role change takes the next one.", ["pair"]);
    this.splitBrain = g("switchyard_pair_split_brain", "1 while both servers of the pair act as primary.", ["pair"]);
    this.inProgress = g("switchyard_pair_plan_in_progress", "1 while the controller carries out a plan for the pair (switchover, failover, VIP repair).", ["pair"]);
    this.held = g("switchyard_pair_failover_held", "1 while a failover waits for its target to synchronise calls (readiness-aware failover).", ["pair"]);
    this.maintenance = g("switchyard_pair_maintenance", "1 while the pair is in maintenance: the controller observes it and decides nothing of its own (no failover).", ["pair"]);
    this.switchoverSafe = g("switchyard_pair_switchover_safe", "1 when a switchover may be made now (nothing blocks it: both hosts connected, both servers ready, HA link up).", ["pair"]);
    this.serverRole = g("switchyard_server_role", "1 for the server's current role, 0 for the others (primary, backup, unknown).", ["pair", "server", "host", "role"]);
    this.serverReady = g("switchyard_server_ready", "1: the server reports ready for switchover; 0: not ready. Absent while unknown (not running, not reported yet).", ["pair", "server", "host"]);
    this.serverRunning = g("switchyard_server_running", "1 when the server's process runs (running or service-unavailable), 0 otherwise.", ["pair", "server", "host"]);
    this.haLink = g("switchyard_server_ha_link_up", "1 when the server reports its HA link to its partner up, 0 otherwise (down or unknown).", ["pair", "server", "host"]);
    this.serverVip = g("switchyard_server_vip", "Where the controller holds the pair's VIP or NLB port for this server: 1 for the state (present, absent, stale, none).", ["pair", "server", "host", "state"]);
    this.vipObserved = g("switchyard_vip_observed", "The VIP or NLB port as the host's agent last observed it: 1 present, 0 absent (absent while the driver cannot tell).", ["pair", "host"]);
    this.vipMismatch = g("switchyard_pair_vip_mismatch", "1 while a host's observed VIP or NLB port contradicts where the controller wants it for longer than the settle time (the vip-mismatch alarm).", ["pair"]);
    this.agentConnected = g("switchyard_agent_connected", "1 when the host's agent is connected to the control plane, 0 otherwise (disconnected or never connected).", ["host"]);
    this.heartbeatAge = g("switchyard_agent_heartbeat_age_seconds", "Seconds since the host's agent's last heartbeat (absent before the first one).", ["host"]);
    this.alarmsActive = g("switchyard_alarms_active", "Active alarms by severity.", ["severity"]);
    this.alarmsUnacknowledged = g("switchyard_alarms_unacknowledged", "Active alarms nobody acknowledged.");
    this.controlPlaneUp = g("switchyard_control_plane_up", "1 when the control plane's thread (agent gateway and controller) answers, 0 when it is restarting or the controller is off.");
    this.cpLoopDelayP99 = g("switchyard_control_plane_event_loop_delay_p99_seconds", "99th percentile of the control plane thread's event-loop delay since the previous scrape.");
    this.cpLoopDelayMax = g("switchyard_control_plane_event_loop_delay_max_seconds", "Largest event-loop delay of the control plane's thread since the previous scrape.");
    this.cpQueued = g("switchyard_controller_queued_inputs", "Inputs (agents' reports, ticks) waiting for the controller.");
    this.cpHeap = g("switchyard_control_plane_heap_used_bytes", "V8 heap used by the control plane's thread.");
    this.consoleLeader = g("switchyard_console_leader", "1 while this console instance leads (runs the controller and talks to agents), 0 while it follows; absent without a controller. Across instances the sum should be 1.");
    this.consoleTerm = g("switchyard_console_term", "The leadership term this console leads at, or the last it saw (it grows by one at every takeover).");
    this.consoleFollowers = g("switchyard_console_peers", "Other console instances alive, as this one sees them (on the leader: its followers; 0 there with SWITCHYARD_CONSOLES >= 2 is the no-follower alarm).");
    this.switchovers = new Counter({ name: "switchyard_switchovers_total", help: "Switchovers an operator asked for (W1/W12) that ended, by outcome (completed, abandoned, superseded, cancelled).", labelNames: ["pair", "forced", "outcome"], registers: r });
    this.failovers = new Counter({ name: "switchyard_failovers_total", help: "Role changes the controller made by itself that ended, by cause (primary-failed, host-disconnected, …) and outcome.", labelNames: ["pair", "cause", "outcome"], registers: r });
    this.vipPlans = new Counter({ name: "switchyard_vip_repairs_total", help: "Plans that only moved or disabled a VIP (stale VIP, adoption), by cause and outcome.", labelNames: ["pair", "cause", "outcome"], registers: r });
    this.roleChangeDuration = new Histogram({
      name: "switchyard_role_change_duration_seconds",
      help: "Switchovers and failovers from the controller's decision to their end (plan start → every order confirmed), by kind and outcome.",
      labelNames: ["kind", "outcome"],
      buckets: ROLE_CHANGE_BUCKETS_SECONDS,
      registers: r,
    });
    for (const kind of ["switchover", "failover"]) this.roleChangeDuration.zero({ kind, outcome: "completed" });
  }

  /** A plan ended (the control plane's notice): counted, and timed when it changed roles. */
  onPlanEnded(e: PlanEnding): void {
    if (e.kind === "switchover") this.switchovers.inc({ pair: e.pairName, forced: String(e.forced), outcome: e.outcome });
    else if (e.kind === "failover") this.failovers.inc({ pair: e.pairName, cause: e.cause, outcome: e.outcome });
    else this.vipPlans.inc({ pair: e.pairName, cause: e.cause, outcome: e.outcome });
    if (e.kind !== "vip" && e.outcome !== "cancelled") this.roleChangeDuration.observe({ kind: e.kind, outcome: e.outcome }, Math.max(0, e.endedAtMs - e.startedAtMs) / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text, with the state gauges read now. */
  async render(): Promise<string> {
    await this.refresh();
    return this.registry.metrics();
  }

  private async refresh(): Promise<void> {
    const now = (this.deps.now ?? Date.now)();
    const { controlPlane } = this.deps;
    const [views, counts, cp] = await Promise.all([controlPlane.pairViews(), activeAlarmCounts(this.deps.db), controlPlane.metrics()]);
    const hosts = controlPlane.hosts();
    for (const m of [this.pairInfo, this.pairEpoch, this.splitBrain, this.inProgress, this.held, this.maintenance, this.switchoverSafe, this.serverRole, this.serverReady, this.serverRunning, this.haLink, this.serverVip, this.vipObserved, this.vipMismatch, this.agentConnected, this.heartbeatAge]) m.reset();
    const hostNames = new Set(hosts.map((h) => h.hostName));
    for (const p of views) {
      const pair = p.name;
      this.pairInfo.set({ pair, ha_type: p.haType }, 1);
      this.pairEpoch.set({ pair }, p.epoch);
      this.splitBrain.set({ pair }, p.splitBrain ? 1 : 0);
      this.inProgress.set({ pair }, p.plan ? 1 : 0);
      this.held.set({ pair }, p.hold ? 1 : 0);
      this.maintenance.set({ pair }, p.maintenance ? 1 : 0);
      this.switchoverSafe.set({ pair }, p.switchoverBlockers.length === 0 ? 1 : 0);
      this.vipMismatch.set({ pair }, p.vipMismatch ? 1 : 0);
      for (const s of p.servers) {
        const labels = { pair, server: s.name, host: s.hostName };
        hostNames.add(s.hostName);
        for (const role of serverRoles) this.serverRole.set({ ...labels, role }, s.role === role ? 1 : 0);
        if (s.readyForSwitchover !== null) this.serverReady.set(labels, s.readyForSwitchover);
        this.serverRunning.set(labels, s.status === "running" || s.status === "service-unavailable" ? 1 : 0);
        this.haLink.set(labels, s.haLink === "up" ? 1 : 0);
        for (const state of vipStates) this.serverVip.set({ ...labels, state }, s.vip === state ? 1 : 0);
      }
      for (const outcome of ["completed", "abandoned"]) this.switchovers.inc({ pair, forced: "false", outcome }, 0);
      for (const cause of failoverCauses) this.failovers.inc({ pair, cause, outcome: "completed" }, 0);
    }
    for (const v of controlPlane.vipObservations()) if (v.present !== null) this.vipObserved.set({ pair: v.pair, host: v.hostName }, v.present ? 1 : 0);
    for (const name of hostNames) {
      const h = hosts.find((x) => x.hostName === name);
      this.agentConnected.set({ host: name }, h?.state === "connected" ? 1 : 0);
      if (h?.lastHeartbeatAt) this.heartbeatAge.set({ host: name }, Math.max(0, (now - new Date(h.lastHeartbeatAt).getTime()) / 1000));
    }
    for (const severity of severities) this.alarmsActive.set({ severity }, counts[severity]);
    this.alarmsUnacknowledged.set(counts.unacknowledged);
    this.controlPlaneUp.set(cp ? 1 : 0);
    const cluster = controlPlane.cluster();
    for (const m of [this.consoleLeader, this.consoleTerm, this.consoleFollowers]) m.reset();
    if (cluster) {
      this.consoleLeader.set(cluster.role === "leader" ? 1 : 0);
      this.consoleTerm.set(cluster.term);
      this.consoleFollowers.set(cluster.instances.filter((i) => i.id !== cluster.instanceId).length);
    }
    if (cp) {
      this.cpLoopDelayP99.set(cp.eventLoopDelay.p99Seconds);
      this.cpLoopDelayMax.set(cp.eventLoopDelay.maxSeconds);
      this.cpQueued.set(cp.queuedInputs);
      this.cpHeap.set(cp.heapUsedBytes);
    }
  }
}
