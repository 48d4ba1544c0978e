// The narrow interface between the web tier (the console's main thread: pages, tRPC, browsers' sockets,
// the alarm engine) and the control plane (its own worker thread: the agent gateway and the failover
// controller). Only these messages cross; both sides are built from this one map, so a request and its
// answer cannot drift apart. Messages travel by structured clone inside one process of one build, so
// they are typed here rather than re-validated (every byte that came from outside — agents, browsers —
// was validated with zod where it entered).
import type { AgentCommandInput, CommandResult, LogReadReply, LogReadRequestInput } from "../../protocol/agent-wire";
import type { CancelAlarmCommand, ControllerState, RaiseAlarmCommand } from "../controller/core";
import type { HostLiveState } from "../agents/gateway";
import type { PairView } from "../runtime/live-view";
import type { MaintenanceOutcome, SwitchoverOutcome } from "../runtime/runner";
import type { PlanEnding } from "../runtime/plan-endings";
import type { AppRuntimeChanges, RuntimeAlarm } from "../runtime/app-runtime";
import type { Env } from "../env";
import type { ConsoleAlarmKind } from "../../protocol/vocabulary";

/** Requests the web tier makes, each answered once: `in` is what is sent, `out` what comes back. */
export interface ControlPlaneRequests {
  /** W1/W12: an operator's switchover (forced only with a reason); answered with the controller's sentence and whether it was ordered. */
  switchover: { in: { pairId: string; operator: string; force: boolean; reason: string }; out: SwitchoverOutcome };
  /** Puts a pair in maintenance (reason required; untilMs: its end, or null) or ends it; answered with the controller's sentence. */
  maintenance: { in: { pairId: string; operator: string; on: boolean; reason: string; untilMs: number | null }; out: MaintenanceOutcome };
  /** A row for a pair's timeline from a guided procedure of the web tier (the worker writes the timeline). */
  note: { in: { pairId: string; text: string }; out: void };
  /** Start or stop a server through its host's agent (the controller picks the epoch; a start is always as backup). */
  applicationCommand: { in: { appId: string; action: "start" | "stop"; operator: string }; out: CommandResult };
  /** A command for the host itself (an alarm reaction's OS command); application commands are refused. */
  hostCommand: { in: { hostName: string; command: AgentCommandInput }; out: CommandResult };
  /** After a configuration change committed: push host configurations, reload the controller's pairs. */
  configChanged: { in: Record<string, never>; out: void };
  /** An application's log (its tail, or the lines matching a search) read by its host's agent. */
  readLog: { in: { hostName: string; request: LogReadRequestInput }; out: LogReadReply };
  /** Close a host's agent session (its token was revoked); true when one was open. */
  dropHost: { in: { hostName: string; reason: string }; out: boolean };
  /** A copy of the controller's state, for tests and benchmarks (null before the first load). */
  controllerState: { in: Record<string, never>; out: ControllerState | null };
  /** The control plane's own health for /metrics: its event loop's delay, its queue, its heap. */
  metrics: { in: Record<string, never>; out: ControlPlaneMetrics };
  /** Stop accepting agents, finish the controller's writes, close the database. */
  stop: { in: Record<string, never>; out: void };
}
export type ControlPlaneRequestName = keyof ControlPlaneRequests;

export type RequestMessage = {
  [K in ControlPlaneRequestName]: { kind: "request"; id: number; name: K; input: ControlPlaneRequests[K]["in"] };
}[ControlPlaneRequestName];

export type ReplyMessage = { kind: "reply"; id: number; ok: true; output: unknown } | { kind: "reply"; id: number; ok: false; error: { message: string; code: string | null } };

/** What the control plane tells the web tier as it happens. */
export type Notice =
  /** Listening for agents on this URL, as this instance; its first lease attempt was answered (when it won, the controller has loaded the pairs). */
  | { kind: "ready"; agentUrl: string; instanceId: string }
  /** Who leads, at which term, and which console instances are alive (on a change of leader and every few seconds). */
  | { kind: "cluster"; status: ClusterStatus }
  /**
   * Pair views that changed (computed once here, with observed VIPs and mismatches; pushed to every
   * browser) and the hosts whose state changed — every host when `hostsComplete` (the first push of a
   * control plane), which replaces what the web tier held.
   */
  | { kind: "live"; changed: PairView[]; removed: string[]; hosts: HostLiveState[]; hostsComplete: boolean }
  /** When each host heard from since the last such notice was last heard (its lastHeartbeatAt), as parallel lists. */
  | { kind: "heard"; hostNames: string[]; atMs: number[] }
  /** Log events an agent sent about its own host's applications (already attributed and rate-limited). */
  | { kind: "log-events"; hostName: string; events: unknown[] }
  /** An alarm the controller raises or cancels (the alarm engine records it and runs reactions). */
  | { kind: "controller-alarm"; command: RaiseAlarmCommand | CancelAlarmCommand }
  /** The control plane's own condition, not a pair's: a stall it survived, hosts held silent at once. */
  | { kind: "control-plane-alarm"; raise: boolean; key: ConsoleAlarmKind; text: string }
  /** What agents reported about applications changed: running options, deliveries, restart state, observed VIPs. */
  | { kind: "app-runtime"; changes: AppRuntimeChanges }
  /**
   * An application's delivery failed or its restart policy gave up, or the VIP its host's agent observes
   * contradicts the controller (vip-mismatch, from the VIP watch) — or that is over: for the alarm engine.
   */
  | { kind: "app-alarm"; alarm: RuntimeAlarm }
  /** A controller plan ended (completed, abandoned, superseded, cancelled): counted and timed by /metrics in the web tier. */
  | { kind: "plan-ended"; ending: PlanEnding };

/** The worker thread's own health, measured where it runs (the web tier's are process metrics of its own thread). */
export interface ControlPlaneMetrics {
  /** Event-loop delay of the control plane's thread since the previous answer (perf_hooks.monitorEventLoopDelay), in seconds. */
  eventLoopDelay: { meanSeconds: number; p99Seconds: number; maxSeconds: number };
  /** Inputs waiting for the controller (ticks, agents' reports). */
  queuedInputs: number;
  heapUsedBytes: number;
}

/** How the web tier starts the control plane: the validated environment (the worker parses nothing itself) and where browsers reach this console. */
export interface ControlPlaneStart {
  env: Env;
  webUrl: string | null;
}

/** One console instance as the shared database last heard of it. */
export interface ConsoleInstanceStatus {
  id: string;
  role: "leader" | "follower";
  webUrl: string;
  agentUrl: string;
  startedAtMs: number;
  /** How long ago it last said it is alive (by the database's clock). */
  seenAgoMs: number;
}

/** The consoles sharing this database, as this instance sees them (dashboard, /healthz, CLI). */
export interface ClusterStatus {
  /** This instance. */
  instanceId: string;
  role: "leader" | "follower";
  /** The term this instance leads at, or the last term it saw. */
  term: number;
  /** Who holds an unexpired lease (null: nobody leads right now — a takeover is under way). */
  leader: { id: string; webUrl: string | null; agentUrl: string | null; term: number; sinceMs: number } | null;
  /** When this instance started leading (its own clock), or null. */
  leadingSinceMs: number | null;
  /** Instances alive (heard within a few lease intervals), this one included. */
  instances: ConsoleInstanceStatus[];
  /** SWITCHYARD_CONSOLES: how many the site runs (no-follower is raised when it is 2 or more and none is alive). */
  expectedConsoles: number;
  /** What followers show the leader's control plane (peer.ts); never leaves the console process. */
  peerSecret: string | null;
}

export type MainToWorker = RequestMessage;
export type WorkerToMain =
  | ReplyMessage
  | { kind: "notice"; notice: Notice }
  | { kind: "fatal"; message: string }
  /** This thread lost the lease (or could not renew it in time) and ends now; the web tier starts a follower's thread. */
  | { kind: "stepped-down"; term: number; reason: string };
