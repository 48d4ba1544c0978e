// The alarm conditions every console ships with (docs/domain.md, the seed's "Monitoring Critical
// Conditions" and "Network Status Monitoring"), created on first start and never deleted (disable them).
import type { ConditionInput } from "./alarms.schema";

const base: Omit<ConditionInput, "severity" | "description"> = {
  scopeKind: "all",
  scopeValues: [],
  cancelEventId: null,
  cancelControllerKind: null,
  autoClearSeconds: null,
  enabled: true,
  eventId: null,
  controllerKind: null,
};

export const builtInConditions: readonly ConditionInput[] = [
  {
    ...base,
    eventId: "00-04200",
    cancelControllerKind: "bind-failed",
    severity: "critical",
    description: "SIP listener bind failure: the server is running but cannot open its SIP port (W7); cleared when it reports its SIP listener bound again",
  },
  { ...base, eventId: "00-52027", cancelEventId: "00-52028", severity: "major", description: "SIP NIC failure (sip-nic-monitoring, W10); cleared by 00-52028" },
  { ...base, eventId: "00-52029", cancelEventId: "00-52030", severity: "major", description: "Virtual IP failure (sip-iptakeover-monitoring, W9); cleared by 00-52030" },
  { ...base, controllerKind: "host-disconnected", severity: "critical", description: "Host disconnected: its agent stopped answering (W3)" },
  { ...base, controllerKind: "application-failed", severity: "critical", description: "Application failed: its process ended or would not start (W2)" },
  { ...base, controllerKind: "split-brain", severity: "critical", description: "Split brain: both servers of a pair are primary (W3, W8)" },
  { ...base, controllerKind: "service-unavailable", severity: "major", description: "Service unavailable: no SIP traffic for the out-of-service timeout (W4)" },
  { ...base, controllerKind: "switchover-failed", severity: "critical", description: "Switchover failed: a role change did not finish in time" },
  { ...base, controllerKind: "double-failure", severity: "major", description: "Double failure: switchover right after the HA link came up, calls may be lost (W12)" },
  { ...base, controllerKind: "control-script-failed", severity: "major", description: "A VIP / NLB control script failed" },
  { ...base, controllerKind: "stale-vip", severity: "minor", description: "Stale VIP: the Virtual IP is still enabled on a host that is no longer primary (W3)" },
  { ...base, controllerKind: "control-plane-stall", severity: "major", autoClearSeconds: 3600, description: "The console's control plane stopped running for a while (a stall of its process); no host was declared lost for it" },
  { ...base, controllerKind: "no-follower", severity: "major", description: "No follower console is alive: if the leading console dies, no pair fails over until a console is back" },
  { ...base, controllerKind: "agents-silent", severity: "critical", description: "Many host agents fell silent at once: more likely the console's own network than the hosts; no failover while it lasts" },
  { ...base, controllerKind: "config-delivery-failed", severity: "major", description: "Configuration not delivered: an option change did not reach a running server (its agent could not write the file or the server refused the reload)" },
  {
    ...base,
    controllerKind: "vip-mismatch",
    severity: "major",
    description:
      "VIP not where it should be: the host agents observe the Virtual IP (or NLB port) missing on the primary's host, or held by a host that is not primary, for more than 10 s outside a switchover; cleared when it is where the controller put it again",
  },
  { ...base, controllerKind: "restart-gave-up", severity: "critical", description: "Restart policy gave up: the application kept failing and stays down until someone starts it" },
  { ...base, controllerKind: "maintenance-too-long", severity: "minor", description: "A pair stayed in maintenance longer than MAINTENANCE_ALARM_AFTER_MINUTES: the controller still does not act on it (no failover); cleared when the maintenance ends" },
  { ...base, controllerKind: "scheduled-switchover-skipped", severity: "major", description: "A scheduled switchover was skipped at its time because the pair was not ready for it (the reason is in the alarm); nothing was switched" },
  // Off by default: the server's own 00-04200 event already raises the bind-failure alarm.
  { ...base, controllerKind: "bind-failed", severity: "critical", enabled: false, description: "Bind failure seen by the controller (duplicates 00-04200; enable when servers do not log it)" },
];
