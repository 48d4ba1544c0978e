// Types of the pure failover core: the events it is fed, the commands it returns as data, its state
// and its timing limits. The runner (persistence, agent gateway, timers) and the UI are written
// against these; see DECISIONS.md for the contract around them.

export { haTypes, processStatuses, type HaType, type ProcessStatus } from "../../protocol/vocabulary";
import { appRoles, DEFAULT_HEARTBEAT_TIMEOUT_MS, type AppRole, type ControllerAlarmKind, type HaType, type ProcessStatus } from "../../protocol/vocabulary";

export type Role = AppRole;
export const roles = appRoles;

export type SipListener = "bound" | "bind-failed" | "unknown";
export type HaLink = "up" | "down" | "unknown";

// ───────────────────────────── configuration ─────────────────────────────

export interface AppRef {
  appId: string;
  /** Shown in sentences ("sip-1"). */
  appName: string;
  hostId: string;
  hostName: string;
  /** A server still `starting` this long after it was started has failed to start (the agent kills it). */
  startupTimeoutMs: number;
}

export interface PairConfig {
  id: string;
  name: string;
  haType: HaType;
  /** apps[0] is the application configured as primary, apps[1] the one configured as backup. */
  apps: readonly [AppRef, AppRef];
  /** How long the pair's VIP / NLB control script may run (its result is awaited that long, plus a margin). */
  scriptTimeoutMs: number;
  /**
   * How long an automatic failover whose cause lets the primary keep its established calls (W4
   * SERVICE_UNAVAILABLE, W7 bind failure, W10 NIC self-demotion) waits for a backup that is still
   * synchronising calls to become ready; 0 = never wait. DEFAULT_FAILOVER_HOLD_MS when not configured.
   */
  failoverHoldMs: number;
}

/**
 * 30 s: at SIP Server's default sync pace (ha-max-calls-sync-at-once 500 calls, then a 1 s pause) a
 * backup catches up on about 15,000 calls in that time, which covers a resync after a restart on a
 * busy pair; for longer, new calls refused by a primary that cannot take them cost more than the
 * established calls a failover would drop.
 */
export const DEFAULT_FAILOVER_HOLD_MS = 30_000;

/** Limits, all with units. Defaults in DEFAULT_TIMING; the runner may override per installation. */
export interface Timing {
  /** The runner declares a host disconnected when no message arrived for this long (W3). */
  heartbeatTimeoutMs: number;
  /** How often the runner feeds a `tick` event. */
  tickIntervalMs: number;
  /** A command the agent has not confirmed receiving is re-sent (same id, same epoch) after this long. */
  commandRetryIntervalMs: number;
  /** Re-sends after the first send before the controller gives up on a command. */
  commandRetryLimit: number;
  /**
   * A role order the agent received but has not answered in this long is sent again (the agent answers
   * a repeat with the first result, or runs it if it never started). Scripts wait their own timeout plus
   * scriptResultMarginMs instead.
   */
  commandResultTimeoutMs: number;
  scriptResultMarginMs: number;
  /** A role change not finished in this long is abandoned and decided again. */
  switchoverTimeoutMs: number;
  /** After the controller starts it only observes, until every host has reported or this passes. */
  recoveryGraceMs: number;
  /** After a host (re)connects, wait this long for its resync before deciding without it. */
  resyncTimeoutMs: number;
  /** W3/W4: how often a disable script is re-ordered for a stale VIP on a connected host. */
  staleVipRetryIntervalMs: number;
  /**
   * W7 and W10: how long a primary that cannot serve (it cannot bind its SIP port, or it gave the role
   * up by itself) keeps it before the role alternates; doubled at each alternation up to the maximum,
   * so two servers that both cannot serve do not swap the role every few seconds forever.
   */
  bindAlternationIntervalMs: number;
  alternationMaxIntervalMs: number;
  /**
   * A server whose readiness polls have failed for this long counts as hung: not serving, so a hung
   * primary is failed over (its process is alive, so the agent still reports it running).
   */
  unansweredPollTimeoutMs: number;
  /** A pair in maintenance this long raises the maintenance-too-long alarm (MAINTENANCE_ALARM_AFTER_MINUTES). */
  maintenanceAlarmAfterMs: number;
}

/**
 * 4 hours: a maintenance window (a host's patching, a network change) is planned in hours; a pair that
 * is still unprotected by the controller after half a working day was most likely forgotten.
 */
export const DEFAULT_MAINTENANCE_ALARM_AFTER_MS = 4 * 3600_000;

export const DEFAULT_TIMING: Readonly<Timing> = Object.freeze({
  heartbeatTimeoutMs: DEFAULT_HEARTBEAT_TIMEOUT_MS,
  tickIntervalMs: 100,
  commandRetryIntervalMs: 500,
  commandRetryLimit: 3,
  commandResultTimeoutMs: 5_000,
  scriptResultMarginMs: 3_000,
  switchoverTimeoutMs: 10_000,
  recoveryGraceMs: 5_000,
  resyncTimeoutMs: 10_000,
  bindAlternationIntervalMs: 2_000,
  alternationMaxIntervalMs: 60_000,
  staleVipRetryIntervalMs: 5_000,
  unansweredPollTimeoutMs: 5_000,
  maintenanceAlarmAfterMs: DEFAULT_MAINTENANCE_ALARM_AFTER_MS,
});

// ───────────────────────────── events ─────────────────────────────
// Every event carries `atMs`: the controller's clock when the runner received it. The core never
// reads a clock. Events from agents also carry `sentAtMs`, the agent's clock when it sent the report,
// strictly increasing per application and report kind; the core ignores a report older than the
// last one it applied (message reordering, duplicates).

interface EventBase {
  atMs: number;
}

export interface ConfigLoadedEvent extends EventBase {
  type: "config-loaded";
  pairs: PairConfig[];
}
export interface AgentConnectedEvent extends EventBase {
  type: "agent-connected";
  hostId: string;
}
/** A host's agent sent its full picture (after every connection); its incarnation is when that agent process started. */
export interface HostResyncEvent extends EventBase {
  type: "host-resync";
  hostId: string;
  agentIncarnation: string;
}
export interface AgentDisconnectedEvent extends EventBase {
  type: "agent-disconnected";
  hostId: string;
  /** Why, for the sentence ("heartbeat timeout after 3000 ms", "socket closed"). */
  detail?: string;
}
export interface ApplicationStatusEvent extends EventBase {
  type: "application-status";
  hostId: string;
  appId: string;
  status: ProcessStatus;
  /** W5: the server's current out-of-service back-off multiplier (1, 2 or 4). */
  oosBackoff?: number;
  detail?: string;
  sentAtMs: number;
}
export interface RoleReportEvent extends EventBase {
  type: "role-report";
  hostId: string;
  appId: string;
  role: Role;
  /** The epoch the server holds. */
  epoch: number;
  sentAtMs: number;
}
export interface ReadinessReportEvent extends EventBase {
  type: "readiness-report";
  hostId: string;
  appId: string;
  readyForSwitchover: 0 | 1;
  /** W13/W14: readiness for upgrade as the server reports it (a backup 1, a primary 0); absent when unknown. */
  readyForUpgrade?: 0 | 1;
  /** Plain reasons readiness is 0 (empty when ready). */
  notReadyReasons: string[];
  /**
   * Calls the server reports not yet synchronised between the two (a backup: its primary's calls it
   * does not hold yet; a primary: its calls the backup has not confirmed); null when not reported.
   */
  unsyncedCalls: number | null;
  /** The agent could not get a readiness answer from the server (its poll failed or timed out). */
  pollFailed?: boolean;
  haLink: HaLink;
  sipListener: SipListener;
  sentAtMs: number;
}
export interface ControlScriptResultEvent extends EventBase {
  type: "control-script-result";
  commandId: string;
  pairId: string;
  hostId: string;
  action: "enable" | "disable";
  ok: boolean;
  detail?: string;
}
export interface CommandResultEvent extends EventBase {
  type: "command-result";
  commandId: string;
  ok: boolean;
  /** When a server refused a set-role as stale: the epoch it holds. */
  heldEpoch?: number;
  detail?: string;
}
export interface CommandTimeoutEvent extends EventBase {
  type: "command-timeout";
  commandId: string;
}
/** The agent confirmed it received the command (it runs it now; its result follows). */
export interface CommandDeliveredEvent extends EventBase {
  type: "command-delivered";
  commandId: string;
}
/** An operator starts or stops a server (an explicit stop is remembered: it is not started again automatically). */
export interface OperatorApplicationEvent extends EventBase {
  type: "operator-application";
  appId: string;
  action: "start" | "stop";
  operator: string;
}
export interface OperatorSwitchoverEvent extends EventBase {
  type: "operator-switchover";
  pairId: string;
  operator: string;
  force: boolean;
  /** Required in words when forcing (W12); shown in history. */
  reason: string;
}
/**
 * An operator puts a pair in maintenance (the controller observes it but takes no decision of its own
 * on it, Patroni's pause) or ends it. `untilMs`: when it ends by itself (null: until someone ends it).
 */
export interface OperatorMaintenanceEvent extends EventBase {
  type: "operator-maintenance";
  pairId: string;
  operator: string;
  on: boolean;
  /** Why, in words (required to set it; shown on the dashboard). */
  reason: string;
  untilMs: number | null;
}
export interface TickEvent extends EventBase {
  type: "tick";
}
/**
 * The console itself did not run for a while (its ticks stopped: a long GC, a blocked event loop,
 * SIGSTOP). Whatever was waiting for agents (the recovery grace, resyncs) gets that time back: the
 * agents' messages waited in the console's sockets, they were not missing.
 */
export interface ConsoleStalledEvent extends EventBase {
  type: "console-stalled";
  stalledMs: number;
}

export type ControllerEvent =
  | ConfigLoadedEvent
  | AgentConnectedEvent
  | AgentDisconnectedEvent
  | ApplicationStatusEvent
  | RoleReportEvent
  | ReadinessReportEvent
  | ControlScriptResultEvent
  | CommandResultEvent
  | CommandTimeoutEvent
  | CommandDeliveredEvent
  | HostResyncEvent
  | OperatorApplicationEvent
  | OperatorSwitchoverEvent
  | OperatorMaintenanceEvent
  | ConsoleStalledEvent
  | TickEvent;

// ───────────────────────────── commands ─────────────────────────────
// Commands are data. The runner persists the state's PersistedPairState (epoch, intended primary)
// and the record-history rows of a step BEFORE it sends that step's set-role and run-control-script
// commands. Commands with the same `commandId` are the same command (re-sent on retry); agents and
// servers treat them idempotently.

export type AlarmKind = ControllerAlarmKind;

export interface SetRoleCommand {
  type: "set-role";
  commandId: string;
  pairId: string;
  appId: string;
  hostId: string;
  role: Role;
  epoch: number;
  /**
   * A promotion whose plan enables the VIP / NLB port on the same host next: the id of that enable
   * step. The agent runs it as soon as its server confirms primary (same epoch, same fencing); the
   * step is still sent after the promotion is confirmed, and answered from the agent's memory.
   */
  thenEnable?: string;
}
export interface RunControlScriptCommand {
  type: "run-control-script";
  commandId: string;
  pairId: string;
  hostId: string;
  action: "enable" | "disable";
  /** What the script moves: the Virtual IP (ip-takeover) or the NLB Virtual IP port (nlb-cluster). */
  target: "vip" | "nlb-port";
  epoch: number;
}
/**
 * Start a server (autostart of a stopped server on a freshly started agent, or an operator's start).
 * A server always starts as backup, at the pair's current epoch: it never claims primary on its own;
 * the controller promotes it if it should be primary.
 */
export interface StartApplicationCommand {
  type: "start-application";
  commandId: string;
  pairId: string;
  appId: string;
  hostId: string;
  role: "backup";
  epoch: number;
}
export interface StopApplicationCommand {
  type: "stop-application";
  commandId: string;
  pairId: string;
  appId: string;
  hostId: string;
  epoch: number;
}
export interface RaiseAlarmCommand {
  type: "raise-alarm";
  kind: AlarmKind;
  pairId: string;
  appId?: string;
  hostId?: string;
  text: string;
}
export interface CancelAlarmCommand {
  type: "cancel-alarm";
  kind: AlarmKind;
  pairId: string;
  appId?: string;
  hostId?: string;
  text: string;
}
export interface RecordHistoryCommand {
  type: "record-history";
  pairId: string;
  /** The pair's epoch the row belongs to (the new epoch for a role change). */
  epoch: number;
  text: string;
}

export type ControllerCommand =
  | SetRoleCommand
  | RunControlScriptCommand
  | StartApplicationCommand
  | StopApplicationCommand
  | RaiseAlarmCommand
  | CancelAlarmCommand
  | RecordHistoryCommand;

// ───────────────────────────── state ─────────────────────────────

export interface HostState {
  hostId: string;
  /** "never" = not seen since the controller started (recovery), "connected", "disconnected". */
  connection: "never" | "connected" | "disconnected";
  sinceMs: number;
  /** When the host's agent process started (from its resync); a new value is a new agent: autostart applies again. */
  agentIncarnation: string | null;
}

export interface ReadinessState {
  readyForSwitchover: 0 | 1;
  /** null: the server did not say (or its poll failed). */
  readyForUpgrade: 0 | 1 | null;
  notReadyReasons: string[];
  unsyncedCalls: number | null;
}

export interface AppState {
  appId: string;
  pairId: string;
  hostId: string;
  status: ProcessStatus;
  /** False from a (re)connection of the host until the agent's first status report for the app. */
  statusHeard: boolean;
  statusDetail: string;
  /** Role and epoch from the last role report since the host (re)connected; null = not reported yet. */
  role: Role | null;
  epoch: number | null;
  readiness: ReadinessState | null;
  haLink: HaLink;
  sipListener: SipListener;
  /** W5 back-off the server reported with its last status (1 when none). */
  oosBackoff: number;
  /** Last applied sentAtMs per report kind (ordering, duplicates). */
  lastStatusSentAtMs: number;
  lastRoleSentAtMs: number;
  lastReadinessSentAtMs: number;
  /** Set when the app failed to acknowledge an order within the retry limit; cleared by any newer report. */
  unresponsiveSinceMs: number | null;
  /** Since when the agent's readiness polls of this server fail (a hung process), or null. */
  pollFailingSinceMs: number | null;
  /** When the reported process status last changed (how long a server has been starting). */
  statusSinceMs: number;
  /**
   * W10: when the server gave up the primary role by itself (NIC monitoring); it is not promoted again
   * while its partner can take the role. Cleared when it next confirms an order to primary.
   */
  selfDemotedAtMs: number | null;
  /** An operator stopped it: it is not started again automatically (persisted). */
  stoppedByOperator: boolean;
  /** The agent incarnation of its host it was last autostarted for (once per agent start). */
  autostartedFor: string | null;
}

export type PlanCause =
  | "operator"
  | "primary-failed"
  | "host-disconnected"
  | "no-primary"
  | "service-unavailable"
  | "bind-failure"
  | "split-brain"
  | "stale-vip"
  /** W10: the primary gave the role up by itself (NIC monitoring); its partner takes it. */
  | "self-demotion"
  /** Not a role change: the VIP is put where an adopted primary is. */
  | "adoption";

/** held → sent → delivered (the agent confirmed receipt) → done | failed; or skipped. */
export type OrderStatus = "held" | "sent" | "delivered" | "done" | "failed" | "skipped";

/** One command of a switchover plan, with its delivery bookkeeping (retries within bounds). */
export interface PlannedCommand {
  command: SetRoleCommand | RunControlScriptCommand;
  status: OrderStatus;
  /** Sends so far (first send + re-sends). */
  sends: number;
  lastSentAtMs: number | null;
  /** Why it failed or was skipped, in words. */
  note: string;
}

export interface Plan {
  epoch: number;
  cause: PlanCause;
  /** The app leaving the primary role (demoted first when reachable), or null. */
  fromAppId: string | null;
  /** The app taking the primary role, or null for a demotion only (split brain, stale VIP). */
  toAppId: string | null;
  startedAtMs: number;
  forced: boolean;
  /** Ordered plan: demote → promote → disable script on the old host → enable script on the new. */
  steps: PlannedCommand[];
}

/** A failover held until its target is ready for switchover (readiness-aware failover). */
export interface FailoverHold {
  cause: PlanCause;
  fromAppId: string;
  toAppId: string;
  sinceMs: number;
  untilMs: number;
}

/** A pair in maintenance: who set it, why, since when, and when it ends by itself (null: when someone ends it). */
export interface Maintenance {
  by: string;
  reason: string;
  sinceMs: number;
  untilMs: number | null;
}

export interface StaleVip {
  hostId: string;
  sinceMs: number;
  /** When the controller last ordered the disable script for it; retried every staleVipRetryIntervalMs. */
  lastAttemptAtMs: number | null;
}

export interface PairState {
  pairId: string;
  /** Increments on every role change the controller orders; persisted before commands are sent. */
  epoch: number;
  /** The app the controller wants as primary (persisted); null until first decided or adopted. */
  intendedPrimaryAppId: string | null;
  plan: Plan | null;
  /** W3/W4: hosts that may still hold the VIP (or NLB port) because their disable script could not run. */
  staleVips: StaleVip[];
  /**
   * W7/W10: role alternations made because the primary could not serve (bind failure, gave the role
   * up); 0 when not alternating. The wait before the next one doubles with each (alternationDelayMs).
   */
  alternations: number;
  lastRoleChangeAtMs: number | null;
  /** Active alarms this pair raised, by key, so each is raised and cancelled once. */
  activeAlarms: string[];
  /**
   * Of those, the ones an earlier controller raised (the alarm log's, read at start) that this one has
   * not judged yet: kept while it recovers (its hosts may still report), then cancelled if over.
   */
  inheritedAlarms: string[];
  /** An automatic failover waiting for its target to become ready (not persisted: a restart waits anew). */
  hold: FailoverHold | null;
  /** The pair is in maintenance: the controller observes it and takes no decision of its own (persisted). */
  maintenance: Maintenance | null;
  /** The pair's situation in one sentence, for the dashboard ("sip-1 is primary (epoch 4)"). */
  situation: string;
  /**
   * Ticks decide this pair: at its last decision it was waiting on time, or that decision acted (its
   * situation then says what was done, not yet how the pair stands). Set by every decision of the pair
   * (core.ts, waitsOnTime).
   */
  dueOnTick: boolean;
}

export interface ControllerState {
  timing: Timing;
  startedAtMs: number;
  /** Console stalls during the recovery grace, added to it (see ConsoleStalledEvent). */
  recoveryExtendedMs: number;
  /**
   * Some host may still be "never" (not heard of since the start, or added by a configuration): true
   * until a step after the recovery grace has settled them. Lets a step about one pair skip looking at
   * every host.
   */
  hostsNeverSeen: boolean;
  nowMs: number;
  pairs: Record<string, PairConfig>;
  pairStates: Record<string, PairState>;
  apps: Record<string, AppState>;
  hosts: Record<string, HostState>;
}

/** What the runner persists for each pair (before sending the commands of the step that changed it). */
export interface PersistedPairState {
  epoch: number;
  intendedPrimaryAppId: string | null;
  /** Servers an operator stopped (not started again automatically), sorted. */
  stoppedAppIds: string[];
  /** The pair's maintenance, if any (absent in what was persisted before maintenance existed). */
  maintenance?: Maintenance | null;
  /**
   * The condition alarms the alarm log holds active for the pair, as the core's keys (kind:subject id):
   * what an earlier controller (a previous run, or the console that led before) raised. Read at start,
   * never saved by the controller; cancelled once the picture is complete and the condition is over.
   */
  activeAlarms?: string[];
}

export interface Decision {
  pairId: string | null;
  /** One plain sentence: logged, shown in the timeline, asserted in tests. */
  sentence: string;
}

export interface StepResult {
  state: ControllerState;
  commands: ControllerCommand[];
  /** The decisions of this step joined into one line; the event's own observation when nothing was decided. */
  reason: string;
  decisions: Decision[];
  /**
   * The pairs whose state (or whose applications' state) this step may have changed; every other pair's
   * is as it was. Absent means any pair's may have.
   */
  scope?: readonly string[] | "all";
}
