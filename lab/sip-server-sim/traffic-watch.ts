// SIP traffic monitoring of one server (W4, W5, W6) wired to time and the wire: feeds the pure traffic
// monitor its events, sends the Active-OOS OPTIONS pings it asks for and matches their answers. The
// rules themselves are in traffic-monitor.ts.
import type { AppRole } from "../../protocol/app-contract";
import {
  duePings,
  initialTrafficMonitorState,
  stepTrafficMonitor,
  type OosDevice,
  type TrafficMonitorConfig,
  type TrafficMonitorEvent,
  type TrafficMonitorState,
} from "./traffic-monitor";

/** Outstanding OPTIONS pings remembered (per DN one at a time in practice). */
const maxOutstandingPings = 1000;

export interface TrafficWatchConfig {
  sipPassCheck: boolean;
  devices: OosDevice[];
  /** DN → where its pings go (the DN's `contact` option). */
  contacts: Record<string, string>;
}

export interface TrafficWatchOptions {
  role: AppRole;
  nowMs: number;
  config: TrafficWatchConfig;
  /** Sends a ping; returns its Call-ID, or null when it could not go out (no contact, no SIP). */
  sendPing: (dn: string, contact: string | undefined, sequence: number) => string | null;
  /** The reported status or the back-off changed; `reason` is the log line and the status detail. */
  onStatusChange: (change: { serviceUnavailable: boolean; backoff: number; reason: string }) => void;
}

export class TrafficWatch {
  private state: TrafficMonitorState;
  private config: TrafficWatchConfig;
  private readonly outstandingPings = new Map<string, string>();
  private pingSequence = 0;

  constructor(private readonly options: TrafficWatchOptions) {
    this.config = options.config;
    this.state = initialTrafficMonitorState(options.role, options.nowMs, this.monitorConfig());
  }

  get serviceUnavailable(): boolean {
    return this.state.serviceUnavailable;
  }

  get backoff(): number {
    return this.state.backoff;
  }

  get lastSipMessageAtMs(): number {
    return this.state.lastSipMessageAtMs;
  }

  roleChanged(role: AppRole, nowMs: number): void {
    this.feed({ type: "role", role, nowMs });
  }

  /** A SIP message arrived; a final response to one of our pings counts as that DN answering. */
  sipMessage(nowMs: number, response?: { callId: string; status: number }): void {
    const dn = response === undefined ? undefined : this.outstandingPings.get(response.callId);
    const answered = dn !== undefined && response !== undefined && response.status >= 200;
    if (answered && response !== undefined) this.outstandingPings.delete(response.callId);
    this.feed(answered ? { type: "sip-message", nowMs, answeringDn: dn } : { type: "sip-message", nowMs });
  }

  /** Timer tick: time-outs and due pings. */
  tick(nowMs: number): void {
    this.feed({ type: "tick", nowMs });
    if (!this.config.sipPassCheck) return;
    for (const dn of duePings(this.state, nowMs, this.monitorConfig())) {
      this.feed({ type: "ping-sent", dn, nowMs });
      this.pingSequence += 1;
      const callId = this.options.sendPing(dn, this.config.contacts[dn], this.pingSequence);
      if (callId === null) continue;
      if (this.outstandingPings.size >= maxOutstandingPings) this.outstandingPings.clear();
      this.outstandingPings.set(callId, dn);
    }
  }

  /**
   * New options (reload): they apply from now. A DN new to monitoring gets a full timeout from now; so does
   * everything when sip-pass-check is switched on, as when a server becomes primary: silence from before
   * the monitoring began does not count.
   */
  setConfig(config: TrafficWatchConfig, nowMs: number): void {
    const switchedOn = config.sipPassCheck && !this.config.sipPassCheck;
    this.config = config;
    const answers = { ...this.state.deviceLastAnswerAtMs };
    const pings = { ...this.state.deviceLastPingAtMs };
    for (const device of config.devices) {
      if (switchedOn) answers[device.dn] = nowMs;
      else answers[device.dn] ??= nowMs;
      pings[device.dn] ??= Number.NEGATIVE_INFINITY;
    }
    const lastSipMessageAtMs = switchedOn ? Math.max(this.state.lastSipMessageAtMs, nowMs) : this.state.lastSipMessageAtMs;
    this.state = { ...this.state, lastSipMessageAtMs, deviceLastAnswerAtMs: answers, deviceLastPingAtMs: pings };
  }

  private monitorConfig(): TrafficMonitorConfig {
    return { sipPassCheck: this.config.sipPassCheck, devices: this.config.devices };
  }

  private feed(event: TrafficMonitorEvent): void {
    const result = stepTrafficMonitor(this.state, event, this.monitorConfig());
    this.state = result.state;
    if (result.statusChange) this.options.onStatusChange(result.statusChange);
  }
}
