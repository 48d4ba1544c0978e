// W4, W5, W6 traffic monitoring on an injected clock (pure stepTrafficMonitor).
import { describe, expect, it } from "vitest";
import {
  duePings,
  effectiveOosTimeoutMs,
  initialTrafficMonitorState,
  stepTrafficMonitor,
  type TrafficMonitorConfig,
  type TrafficMonitorEvent,
  type TrafficMonitorState,
} from "./traffic-monitor";

// gw1: 10 + max(2, 5) = 15 s; gw2: 4 + 8 = 12 s → effective 15 s.
const config: TrafficMonitorConfig = {
  sipPassCheck: true,
  devices: [
    { dn: "gw1", oosCheckSec: 10, oosForceSec: 2 },
    { dn: "gw2", oosCheckSec: 4, oosForceSec: 8 },
  ],
};
const baseMs = 15_000;

function run(state: TrafficMonitorState, events: TrafficMonitorEvent[]) {
  const reasons: string[] = [];
  for (const event of events) {
    const result = stepTrafficMonitor(state, event, config);
    state = result.state;
    if (result.statusChange) reasons.push(result.statusChange.reason);
  }
  return { state, reasons };
}

describe("W6 effective out-of-service timeout", () => {
  it("W6 is the max over service DNs of oos-check + max(oos-force, 5)", () => {
    expect(effectiveOosTimeoutMs(config.devices)).toBe(baseMs);
    expect(effectiveOosTimeoutMs([{ dn: "a", oosCheckSec: 1, oosForceSec: 0 }])).toBe(6000);
    expect(effectiveOosTimeoutMs([])).toBeNull();
  });

  it("W6 pings each DN every oos-check seconds while primary", () => {
    let state = initialTrafficMonitorState("primary", 0, config);
    expect(duePings(state, 0, config)).toEqual(["gw1", "gw2"]);
    state = run(state, [{ type: "ping-sent", dn: "gw1", nowMs: 0 }, { type: "ping-sent", dn: "gw2", nowMs: 0 }]).state;
    expect(duePings(state, 3_999, config)).toEqual([]);
    expect(duePings(state, 4_000, config)).toEqual(["gw2"]);
    expect(duePings(state, 10_000, config)).toEqual(["gw1", "gw2"]);
    expect(duePings(initialTrafficMonitorState("backup", 0, config), 0, config)).toEqual([]);
  });
});

describe("W4 SERVICE_UNAVAILABLE on traffic loss", () => {
  it("W4 reports SERVICE_UNAVAILABLE when no SIP message arrives for the effective timeout", () => {
    const start = initialTrafficMonitorState("primary", 0, config);
    const before = run(start, [{ type: "tick", nowMs: baseMs - 1 }]);
    expect(before.state.serviceUnavailable).toBe(false);
    const after = run(start, [{ type: "tick", nowMs: baseMs }]);
    expect(after.state.serviceUnavailable).toBe(true);
    expect(after.reasons[0]).toContain("no SIP message for 15 s");
    expect(after.reasons[0]).toContain("all 2 Active-OOS devices failed");
  });

  it("W4 any other SIP message in the period keeps the server available", () => {
    const start = initialTrafficMonitorState("primary", 0, config);
    const { state } = run(start, [{ type: "sip-message", nowMs: 10_000 }, { type: "tick", nowMs: 20_000 }]);
    expect(state.serviceUnavailable).toBe(false);
    expect(run(state, [{ type: "tick", nowMs: 25_000 }]).state.serviceUnavailable).toBe(true);
  });

  it("W4 needs all Active-OOS devices failed: a DN that answered recently prevents it", () => {
    const start = initialTrafficMonitorState("primary", 0, config);
    // gw2 answered at 14 s; at 20 s the server is silent for only 6 s, so wait until silence is long enough.
    const { state } = run(start, [{ type: "sip-message", nowMs: 14_000, answeringDn: "gw2" }, { type: "tick", nowMs: 28_999 }]);
    expect(state.serviceUnavailable).toBe(false);
    expect(run(state, [{ type: "tick", nowMs: 29_000 }]).state.serviceUnavailable).toBe(true);
  });

  it("W4 the backup does not monitor, and SIP traffic again clears SERVICE_UNAVAILABLE", () => {
    const backup = run(initialTrafficMonitorState("backup", 0, config), [{ type: "tick", nowMs: 100_000 }]);
    expect(backup.state.serviceUnavailable).toBe(false);
    const down = run(initialTrafficMonitorState("primary", 0, config), [{ type: "tick", nowMs: baseMs }]);
    const back = run(down.state, [{ type: "sip-message", nowMs: baseMs + 1 }]);
    expect(back.state.serviceUnavailable).toBe(false);
    expect(back.reasons).toEqual(["SIP traffic seen again; service available"]);
  });

  it("W4 without sip-pass-check nothing is ever reported", () => {
    const off = { ...config, sipPassCheck: false };
    const result = stepTrafficMonitor(initialTrafficMonitorState("primary", 0, off), { type: "tick", nowMs: 1_000_000 }, off);
    expect(result.state.serviceUnavailable).toBe(false);
  });
});

describe("W5 double switchover back-off", () => {
  /** One full cycle for one server: primary, silent for the timeout, unavailable, switched to backup. */
  function failAsPrimary(state: TrafficMonitorState, nowMs: number): { state: TrafficMonitorState; nowMs: number; reasons: string[] } {
    const promoted = run(state, [{ type: "role", role: "primary", nowMs }]);
    const timeoutMs = baseMs * promoted.state.backoff;
    const early = run(promoted.state, [{ type: "tick", nowMs: nowMs + timeoutMs - 1 }]);
    expect(early.state.serviceUnavailable).toBe(false);
    const expired = run(early.state, [{ type: "tick", nowMs: nowMs + timeoutMs }]);
    expect(expired.state.serviceUnavailable).toBe(true);
    const demoted = run(expired.state, [{ type: "role", role: "backup", nowMs: nowMs + timeoutMs }]);
    return { state: demoted.state, nowMs: nowMs + timeoutMs, reasons: [...promoted.reasons, ...expired.reasons, ...demoted.reasons] };
  }

  it("W5 doubles the timeout on each double switchover up to 4x, then resets when traffic is seen", () => {
    // Server A starts primary; neither server sees traffic; each expiry switches.
    let a = initialTrafficMonitorState("backup", 0, config);
    let now = 0;
    const backoffs: number[] = [];
    for (let round = 0; round < 4; round += 1) {
      const cycle = failAsPrimary(a, now);
      backoffs.push(run(a, [{ type: "role", role: "primary", nowMs: now }]).state.backoff);
      a = cycle.state;
      now = cycle.nowMs;
    }
    expect(backoffs).toEqual([1, 2, 4, 4]);
    // A sees traffic while backup: back-off resets and the next promotion is not a double switchover.
    const reset = run(a, [{ type: "sip-message", nowMs: now + 1 }]);
    expect(reset.state.backoff).toBe(1);
    expect(reset.reasons).toEqual(["SIP traffic seen; out-of-service back-off reset from 4x to 1x"]);
    expect(run(reset.state, [{ type: "role", role: "primary", nowMs: now + 2 }]).state.backoff).toBe(1);
  });

  it("W5 a switchover for another reason is not a double switchover", () => {
    const primary = initialTrafficMonitorState("primary", 0, config);
    const demoted = run(primary, [{ type: "role", role: "backup", nowMs: 1000 }]);
    const promoted = run(demoted.state, [{ type: "role", role: "primary", nowMs: 2000 }]);
    expect(promoted.state.backoff).toBe(1);
    expect(promoted.reasons).toEqual([]);
  });

  it("W5 the double switchover says so in words", () => {
    const cycle = failAsPrimary(initialTrafficMonitorState("backup", 0, config), 0);
    const again = run(cycle.state, [{ type: "role", role: "primary", nowMs: cycle.nowMs + 1 }]);
    expect(again.reasons).toEqual(["double switchover without SIP traffic: out-of-service back-off 1x → 2x (timeout 30 s)"]);
  });
});
