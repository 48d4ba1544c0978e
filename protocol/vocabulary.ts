// The words Switchyard's parts share, defined once: the console, the browser, the host agent and the
// SIP Server simulator all import them from here (protocol/ depends on nothing else). A new HA type,
// status, alarm kind or lab fault is added here and the type checker shows every place that must handle it.

/** How a pair's two servers share the SIP traffic (docs/domain.md). */
export const haTypes = ["ip-takeover", "nlb-cluster", "single-host"] as const;
export type HaType = (typeof haTypes)[number];

export const appRoles = ["primary", "backup"] as const;
export type AppRole = (typeof appRoles)[number];

/** What a host agent reports about an application's process. */
export const reportedProcessStatuses = ["starting", "running", "stopping", "stopped", "failed", "service-unavailable"] as const;
export type ReportedProcessStatus = (typeof reportedProcessStatuses)[number];
/** The controller's view: a reported status, or "unknown" (nothing heard since the host (re)connected, or the server stopped answering). */
export const processStatuses = [...reportedProcessStatuses, "unknown"] as const;
export type ProcessStatus = (typeof processStatuses)[number];
/** A process that is up and answering its local contract (it may still be without SIP traffic): what a server itself reports. */
export const servingProcessStatuses = ["running", "service-unavailable"] as const satisfies readonly ReportedProcessStatus[];
/** A process that is up: started and not yet ended, answering or not yet. */
export const aliveProcessStatuses = ["starting", ...servingProcessStatuses] as const satisfies readonly ReportedProcessStatus[];

/** How the console moves a pair's VIP or NLB port (the pair's configuration); the lab adds its file driver on the wire. */
export const controlDrivers = ["linux-ip", "nlb", "command", "none"] as const;
export type ControlDriver = (typeof controlDrivers)[number];

/**
 * Placeholders of VIP / NLB script templates. Templates are split into argv first, then placeholders
 * are replaced inside each argument, so a value can never become a second argument.
 */
export const scriptPlaceholders = ["vip", "prefix", "interface", "cluster", "port", "host", "application", "pair"] as const;
export type ScriptPlaceholder = (typeof scriptPlaceholders)[number];

/**
 * Alarms the console raises from what it sees (built-in alarm conditions match them by kind). Condition
 * alarms are raised and cancelled with the condition; event alarms (switchover-failed, double-failure,
 * control-script-failed, control-plane-stall) stay until cleared. The controller raises the first nine;
 * config-delivery-failed and restart-gave-up come from the agents' reports about an application
 * (server/runtime/app-runtime.ts); vip-mismatch compares where the agents observe a pair's VIP with where
 * the controller wants it (server/runtime/vip-watch.ts); control-plane-stall and agents-silent are the
 * console's own, about no pair; maintenance-too-long is the controller's (a condition of the pair);
 * scheduled-switchover-skipped comes from the scheduled switchovers (server/schedule/).
 */
export const controllerAlarmKinds = [
  "host-disconnected",
  "application-failed",
  "split-brain",
  "service-unavailable",
  "bind-failed",
  "switchover-failed",
  "double-failure",
  "control-script-failed",
  "stale-vip",
  "control-plane-stall",
  "agents-silent",
  /** An option change did not reach a running server (the agent's configDelivery said failed); cancelled by the next delivery that worked. */
  "config-delivery-failed",
  /** The restart policy gave up on an application (it stays down); cancelled when it is started again. */
  "restart-gave-up",
  /**
   * Where the agents observe a pair's VIP (or NLB port) is not where the controller wants it — missing on
   * the intended primary's host, or held by the other host too — for longer than a switchover's settle
   * time, with no switchover in progress; cancelled when the observations agree again.
   */
  "vip-mismatch",
  /** A pair stayed in maintenance (the controller does not act on it) longer than MAINTENANCE_ALARM_AFTER_MINUTES; cancelled when it ends. */
  "maintenance-too-long",
  /** A scheduled switchover was skipped at its time (a server not ready, a role change in progress…); an operator clears it. */
  "scheduled-switchover-skipped",
  /** Several consoles are expected (SWITCHYARD_CONSOLES ≥ 2) and the leader sees no follower alive: its death would stop failovers; cancelled when one is back. */
  "no-follower",
] as const;
/** Alarm kinds about the console itself rather than a pair. */
export const consoleAlarmKinds = ["control-plane-stall", "agents-silent", "no-follower"] as const;
export type ConsoleAlarmKind = (typeof consoleAlarmKinds)[number];
export type ControllerAlarmKind = (typeof controllerAlarmKinds)[number];

/**
 * Faults the demo lab injects into a simulated SIP Server (the Lab page, tests): crash (W2), sip-silent
 * (its SIP NIC unplugged, W4), bind-fail (W7), hang (its interfaces stop answering), tlib-nic-down (W10),
 * console-lost (its connection to the console — SCS — is lost whatever its agent says, W8).
 */
export const labFaults = ["crash", "sip-silent", "bind-fail", "hang", "tlib-nic-down", "console-lost"] as const;
export type LabFault = (typeof labFaults)[number];

/** An agent sends a heartbeat this often; the console declares a host disconnected (W3) after the timeout. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 500;
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 2000;
