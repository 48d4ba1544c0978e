// SIP traffic monitoring with sip-pass-check (W4, W5, W6) as a pure state machine: the effective
// out-of-service timeout, Active-OOS device state, SERVICE_UNAVAILABLE and the double-switchover
// back-off. Time arrives in events (nowMs) so tests drive it with an injected clock.
import type { AppRole } from "../../protocol/app-contract";

/** A service DN configured for Active Out-Of-Service checks (oos-check > 0). */
export interface OosDevice {
  dn: string;
  oosCheckSec: number;
  oosForceSec: number;
}

/** oos-force values below 5 count as 5 (seed: "if oos-force is less than 5, 5 is used"). */
export const minOosForceSec = 5;
export const maxOosBackoff = 4;
export type OosBackoff = 1 | 2 | 4;

export function deviceTimeoutMs(device: OosDevice): number {
  return (device.oosCheckSec + Math.max(device.oosForceSec, minOosForceSec)) * 1000;
}

/** W6: the maximum over service DNs of oos-check + max(oos-force, 5); null without any device. */
export function effectiveOosTimeoutMs(devices: readonly OosDevice[]): number | null {
  if (devices.length === 0) return null;
  return Math.max(...devices.map(deviceTimeoutMs));
}

export interface TrafficMonitorConfig {
  sipPassCheck: boolean;
  devices: readonly OosDevice[];
}

export interface TrafficMonitorState {
  role: AppRole;
  backoff: OosBackoff;
  /** Last SIP message of any kind (requests, responses, answers to our OPTIONS pings). */
  lastSipMessageAtMs: number;
  /** Per DN: last answer to an OPTIONS ping, and when we last sent one. */
  deviceLastAnswerAtMs: Record<string, number>;
  deviceLastPingAtMs: Record<string, number>;
  serviceUnavailable: boolean;
  /**
   * It reported SERVICE_UNAVAILABLE, was switched to backup, and has seen no SIP traffic since: being
   * made primary again in that state is a "double switchover" (W5).
   */
  demotedWithoutTraffic: boolean;
}

export type TrafficMonitorEvent =
  | { type: "sip-message"; nowMs: number; answeringDn?: string }
  | { type: "role"; role: AppRole; nowMs: number }
  | { type: "ping-sent"; dn: string; nowMs: number }
  | { type: "tick"; nowMs: number };

export interface TrafficMonitorResult {
  state: TrafficMonitorState;
  /** Set when the reported status or the back-off changed; `reason` is the log line and the status detail. */
  statusChange?: { serviceUnavailable: boolean; backoff: OosBackoff; reason: string };
}

export function initialTrafficMonitorState(role: AppRole, nowMs: number, config: TrafficMonitorConfig): TrafficMonitorState {
  const everyDevice = (value: number): Record<string, number> =>
    Object.fromEntries(config.devices.map((device) => [device.dn, value]));
  return {
    role,
    backoff: 1,
    lastSipMessageAtMs: nowMs,
    deviceLastAnswerAtMs: everyDevice(nowMs),
    // Never pinged: the first ping is due at once.
    deviceLastPingAtMs: everyDevice(Number.NEGATIVE_INFINITY),
    serviceUnavailable: false,
    demotedWithoutTraffic: false,
  };
}

/** Whether this server watches its traffic at all: only the primary, only with sip-pass-check and devices. */
export function isMonitoring(state: TrafficMonitorState, config: TrafficMonitorConfig): boolean {
  return state.role === "primary" && config.sipPassCheck && config.devices.length > 0;
}

export function stepTrafficMonitor(
  state: TrafficMonitorState,
  event: TrafficMonitorEvent,
  config: TrafficMonitorConfig,
): TrafficMonitorResult {
  switch (event.type) {
    case "sip-message":
      return onSipMessage(state, event.nowMs, event.answeringDn);
    case "role":
      return onRole(state, event.role, event.nowMs, config);
    case "ping-sent":
      return { state: { ...state, deviceLastPingAtMs: { ...state.deviceLastPingAtMs, [event.dn]: event.nowMs } } };
    case "tick":
      return onTick(state, event.nowMs, config);
  }
}

function onSipMessage(state: TrafficMonitorState, nowMs: number, answeringDn: string | undefined): TrafficMonitorResult {
  const next: TrafficMonitorState = {
    ...state,
    lastSipMessageAtMs: nowMs,
    deviceLastAnswerAtMs:
      answeringDn === undefined ? state.deviceLastAnswerAtMs : { ...state.deviceLastAnswerAtMs, [answeringDn]: nowMs },
    demotedWithoutTraffic: false,
    // Traffic proves the SIP NIC works: the server that sees it stays (or becomes again) in service.
    serviceUnavailable: false,
    backoff: 1,
  };
  if (state.serviceUnavailable) {
    return { state: next, statusChange: { serviceUnavailable: false, backoff: 1, reason: "SIP traffic seen again; service available" } };
  }
  if (state.backoff !== 1) {
    return {
      state: next,
      statusChange: { serviceUnavailable: false, backoff: 1, reason: `SIP traffic seen; out-of-service back-off reset from ${state.backoff}x to 1x` },
    };
  }
  return { state: next };
}

function onRole(state: TrafficMonitorState, role: AppRole, nowMs: number, config: TrafficMonitorConfig): TrafficMonitorResult {
  if (role === state.role) return { state };
  if (role === "backup") {
    // The seed: after the switch to backup the server reports SERVICE_RUNNING again.
    const next: TrafficMonitorState = {
      ...state,
      role,
      serviceUnavailable: false,
      demotedWithoutTraffic: state.serviceUnavailable || state.demotedWithoutTraffic,
    };
    if (state.serviceUnavailable) {
      return { state: next, statusChange: { serviceUnavailable: false, backoff: state.backoff, reason: "switched to backup; service running" } };
    }
    return { state: next };
  }
  // Becoming primary: a full timeout starts now, for the server and for every device.
  const fresh = initialTrafficMonitorState(role, nowMs, config);
  const next: TrafficMonitorState = { ...fresh, backoff: state.backoff, demotedWithoutTraffic: false };
  if (state.demotedWithoutTraffic && config.sipPassCheck) {
    const backoff = Math.min(maxOosBackoff, state.backoff * 2) as OosBackoff;
    const base = effectiveOosTimeoutMs(config.devices);
    return {
      state: { ...next, backoff },
      statusChange: {
        serviceUnavailable: false,
        backoff,
        reason:
          `double switchover without SIP traffic: out-of-service back-off ${state.backoff}x → ${backoff}x` +
          (base === null ? "" : ` (timeout ${(base * backoff) / 1000} s)`),
      },
    };
  }
  return { state: next };
}

function onTick(state: TrafficMonitorState, nowMs: number, config: TrafficMonitorConfig): TrafficMonitorResult {
  if (!isMonitoring(state, config) || state.serviceUnavailable) return { state };
  const baseMs = effectiveOosTimeoutMs(config.devices);
  if (baseMs === null) return { state };
  const timeoutMs = baseMs * state.backoff;
  const silentMs = nowMs - state.lastSipMessageAtMs;
  const failed = failedDevices(state, nowMs, config);
  if (silentMs < timeoutMs || failed.length < config.devices.length) return { state };
  return {
    state: { ...state, serviceUnavailable: true },
    statusChange: {
      serviceUnavailable: true,
      backoff: state.backoff,
      reason:
        `no SIP message for ${Math.floor(silentMs / 1000)} s ` +
        `(effective out-of-service timeout ${baseMs / 1000} s × back-off ${state.backoff}) ` +
        `and all ${config.devices.length} Active-OOS devices failed`,
    },
  };
}

/** Devices that have not answered an OPTIONS ping within oos-check + max(oos-force, 5). */
export function failedDevices(state: TrafficMonitorState, nowMs: number, config: TrafficMonitorConfig): string[] {
  return config.devices
    .filter((device) => nowMs - (state.deviceLastAnswerAtMs[device.dn] ?? Number.NEGATIVE_INFINITY) >= deviceTimeoutMs(device))
    .map((device) => device.dn);
}

/** DNs whose oos-check period has elapsed since their last ping (only while monitoring). */
export function duePings(state: TrafficMonitorState, nowMs: number, config: TrafficMonitorConfig): string[] {
  if (state.role !== "primary" || config.devices.length === 0) return [];
  return config.devices
    .filter((device) => nowMs - (state.deviceLastPingAtMs[device.dn] ?? Number.NEGATIVE_INFINITY) >= device.oosCheckSec * 1000)
    .map((device) => device.dn);
}
