// What the agents report about each application beyond what the controller decides on: the option values
// the server runs with (runningConfig), how the last option change reached it (configDelivery), where its
// restart policy stands and what a failed process last wrote (appStatus, resync), and where each pair's
// VIP was observed (vipPresence). One small store in the control plane's worker keeps the latest of each
// and pushes every change to the web tier, which keeps a mirror for pages (control-plane.ts). It also
// decides the two alarms these reports carry: a delivery that failed and a restart policy that gave up
// (raised on the change, cancelled when it is over) — the alarm engine records them.
import type { AppStatusMessage, ConfigDeliveryMessage, RestartState, Resync, RunningConfigMessage, VipPresenceMessage } from "../../protocol/agent-wire";
import type { ReportedProcessStatus } from "../../protocol/vocabulary";
import type { AgentGatewayDeps } from "../agents/gateway";
import type { ControllerAlarmKind } from "../../protocol/vocabulary";

export interface AppRuntime {
  application: string;
  hostName: string;
  status: ReportedProcessStatus | null;
  statusDetail: string;
  /** When the status was reported (agent clock, ISO). */
  statusAt: string | null;
  restart: RestartState | null;
  /** The tail of what a failed or stopped process wrote (empty otherwise). */
  lastOutput: string;
  /** What the server last said it runs with; null until it answered GET /switchyard/v1/running. */
  running: RunningConfigMessage | null;
  /** How the last configuration change reached it; null until one was delivered since the agent connected. */
  delivery: ConfigDeliveryMessage | null;
}

/** The VIP (or NLB port) of a pair as one host's agent observed it. */
export interface VipObservation {
  pair: string;
  hostName: string;
  /** null: the driver cannot tell. */
  present: boolean | null;
  address: string;
  detail: string;
  checkedAt: string;
}

/**
 * Alarm kinds of the shared vocabulary (protocol/vocabulary.ts), so built-in conditions match them.
 * vip-mismatch is about the pair's server on the host whose observed VIP contradicts the controller; it
 * is decided by the VIP watch (vip-watch.ts), not by this store, and travels the same way.
 */
export const runtimeAlarmKinds = ["config-delivery-failed", "restart-gave-up", "vip-mismatch"] as const satisfies readonly ControllerAlarmKind[];
export type RuntimeAlarmKind = (typeof runtimeAlarmKinds)[number];

/** An alarm about one application (and so its host and pair), raised or cancelled on a change of what its agent reports. */
export interface RuntimeAlarm {
  raise: boolean;
  kind: RuntimeAlarmKind;
  application: string;
  hostName: string;
  text: string;
}

export interface AppRuntimeChanges {
  applications: AppRuntime[];
  vip: VipObservation[];
}

export interface AppRuntimeStoreDeps {
  onChange(changes: AppRuntimeChanges): void;
  onAlarm(alarm: RuntimeAlarm): void;
}

const empty = (application: string, hostName: string): AppRuntime => ({
  application,
  hostName,
  status: null,
  statusDetail: "",
  statusAt: null,
  restart: null,
  lastOutput: "",
  running: null,
  delivery: null,
});

export class AppRuntimeStore {
  private readonly apps = new Map<string, AppRuntime>();
  private readonly vips = new Map<string, VipObservation>();

  constructor(private readonly deps: AppRuntimeStoreDeps) {}

  /** What is known of one application, or undefined when its agent has reported nothing yet. */
  get(application: string): AppRuntime | undefined {
    return this.apps.get(application);
  }

  /** The version the application last reported running, or null. */
  version(application: string): string | null {
    return this.apps.get(application)?.running?.version ?? null;
  }

  /** Everything known now (a web tier that starts after the plane asks for it). */
  all(): AppRuntimeChanges {
    return { applications: [...this.apps.values()], vip: [...this.vips.values()] };
  }

  /** Where each pair's VIP was last observed, one entry per pair and host. */
  vipObservations(): VipObservation[] {
    return [...this.vips.values()];
  }

  onAppStatus(hostName: string, msg: AppStatusMessage): void {
    this.update(hostName, msg.application, (a) => ({
      ...a,
      status: msg.status,
      statusDetail: msg.detail,
      statusAt: msg.time,
      restart: msg.restart,
      lastOutput: msg.lastOutput,
    }));
  }

  /** After a (re)connect: the agent's whole picture of its applications, newer than anything before it. */
  onResync(hostName: string, snapshot: Resync): void {
    for (const s of snapshot.applications) {
      this.update(hostName, s.application, (a) => ({
        ...a,
        status: s.status,
        statusDetail: s.detail,
        statusAt: s.since,
        restart: s.restart,
        lastOutput: s.lastOutput,
        running: s.running ?? a.running,
      }));
    }
    const vip = Object.entries(snapshot.vip).map(([pair, present]): VipObservation => {
      const before = this.vips.get(`${pair}|${hostName}`);
      return { pair, hostName, present, address: before?.address ?? "", detail: "as the agent reported on reconnecting", checkedAt: new Date().toISOString() };
    });
    this.setVips(vip);
  }

  onRunningConfig(hostName: string, msg: RunningConfigMessage): void {
    this.update(hostName, msg.application, (a) => ({ ...a, running: msg }));
  }

  onConfigDelivery(hostName: string, msg: ConfigDeliveryMessage): void {
    this.update(hostName, msg.application, (a) => ({ ...a, delivery: msg }));
  }

  onVipPresence(hostName: string, msg: VipPresenceMessage): void {
    this.setVips([{ pair: msg.pair, hostName, present: msg.present, address: msg.address, detail: msg.detail, checkedAt: msg.checkedAt }]);
  }

  private setVips(list: VipObservation[]): void {
    const changed = list.filter((v) => {
      const key = `${v.pair}|${v.hostName}`;
      const before = this.vips.get(key);
      this.vips.set(key, v);
      return before?.present !== v.present || before.address !== v.address;
    });
    if (changed.length) this.deps.onChange({ applications: [], vip: changed });
  }

  private update(hostName: string, application: string, change: (a: AppRuntime) => AppRuntime): void {
    const before = this.apps.get(application) ?? empty(application, hostName);
    const after = { ...change(before), hostName };
    this.apps.set(application, after);
    for (const alarm of runtimeAlarms(before, after)) this.deps.onAlarm(alarm);
    this.deps.onChange({ applications: [after], vip: [] });
  }
}

/**
 * The alarms a change of one application's reports raises or cancels. Pure: only transitions count, so
 * a repeated report (a resync after a reconnect) neither raises twice nor cancels what still holds.
 */
export function runtimeAlarms(before: AppRuntime, after: AppRuntime): RuntimeAlarm[] {
  const out: RuntimeAlarm[] = [];
  const base = { application: after.application, hostName: after.hostName };
  const d = after.delivery;
  if (d && d !== before.delivery) {
    if (d.outcome === "failed") {
      out.push({ ...base, raise: true, kind: "config-delivery-failed", text: `configuration ${d.revision} did not reach ${after.application} on ${after.hostName}: ${d.detail}` });
    } else if (before.delivery?.outcome === "failed") {
      out.push({ ...base, raise: false, kind: "config-delivery-failed", text: `configuration ${d.revision} reached ${after.application} (${d.outcome})` });
    }
  }
  const gaveUp = after.restart?.gaveUp === true;
  const gaveUpBefore = before.restart?.gaveUp === true;
  if (gaveUp && !gaveUpBefore) {
    out.push({ ...base, raise: true, kind: "restart-gave-up", text: `${after.application} on ${after.hostName} stays down: ${after.statusDetail}` });
  } else if (!gaveUp && gaveUpBefore) {
    out.push({ ...base, raise: false, kind: "restart-gave-up", text: `${after.application} was started again (${after.status ?? "status unknown"})` });
  }
  return out;
}

/**
 * The gateway's callbacks with the reports this store keeps teed off to it: each callback already in
 * `deps` still runs, after the store took its copy. Wrapping keeps the plane's wiring of the gateway to
 * the controller as it is.
 */
export function withAppRuntime(store: AppRuntimeStore, deps: AgentGatewayDeps): AgentGatewayDeps {
  const tee =
    <M>(own: (hostName: string, msg: M) => void, next: ((hostName: string, msg: M) => void) | undefined) =>
    (hostName: string, msg: M) => {
      own(hostName, msg);
      next?.(hostName, msg);
    };
  return {
    ...deps,
    onAppStatus: tee((h, m) => store.onAppStatus(h, m), deps.onAppStatus),
    onResync: tee((h, m) => store.onResync(h, m), deps.onResync),
    onRunningConfig: tee((h, m) => store.onRunningConfig(h, m), deps.onRunningConfig),
    onConfigDelivery: tee((h, m) => store.onConfigDelivery(h, m), deps.onConfigDelivery),
    onVipPresence: tee((h, m) => store.onVipPresence(h, m), deps.onVipPresence),
  };
}
