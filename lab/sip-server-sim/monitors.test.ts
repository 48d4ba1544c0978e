// W8 both-primary rule, W9 VIP check, W10 SIP NIC state (pure monitor decisions).
import { describe, expect, it } from "vitest";
import { checkVip, shouldDemoteForBothPrimary, sipNicUp } from "./monitors";

describe("W8 SCS connection monitoring", () => {
  it("W8 exactly one of two primaries demotes itself, and only without the console", () => {
    const a = { name: "SIP_Server_1", role: "primary" as const, epoch: 3 };
    const b = { name: "SIP_Server_2", role: "primary" as const, epoch: 3 };
    const onA = shouldDemoteForBothPrimary({ consoleConnected: false, self: a, peer: b });
    const onB = shouldDemoteForBothPrimary({ consoleConnected: false, self: b, peer: a });
    expect([onA.demote, onB.demote]).toEqual([false, true]);
    expect(onB.reason).toContain("demoted self because SIP_Server_2 sorts after SIP_Server_1");
    expect(shouldDemoteForBothPrimary({ consoleConnected: true, self: b, peer: a }).demote).toBe(false);
    // A newer epoch wins whatever the names.
    const newer = { ...b, epoch: 4 };
    expect(shouldDemoteForBothPrimary({ consoleConnected: false, self: a, peer: newer }).demote).toBe(true);
    expect(shouldDemoteForBothPrimary({ consoleConnected: false, self: newer, peer: a }).demote).toBe(false);
  });
});

describe("W9 VIP monitoring", () => {
  it("W9 a missing VIP on the primary logs 00-52029 once, runs enable, then SERVICE_UNAVAILABLE if it persists; 00-52030 on success", () => {
    const vip = { present: false, address: "10.0.0.5" };
    const first = checkVip({ consecutiveMismatches: 0, failing: false }, "primary", vip);
    expect(first.event?.id).toBe("00-52029");
    expect(first.runScript).toBe("enable");
    expect(first.serviceUnavailable).toBe(false);
    const second = checkVip(first.state, "primary", vip);
    expect(second.event).toBeNull();
    expect(second.serviceUnavailable).toBe(true);
    const fixed = checkVip(second.state, "primary", { ...vip, present: true });
    expect(fixed.event?.id).toBe("00-52030");
    expect(fixed.serviceUnavailable).toBe(false);
    expect(checkVip({ consecutiveMismatches: 0, failing: false }, "backup", { ...vip, present: true }).runScript).toBe("disable");
  });
});

describe("W10 NIC monitoring", () => {
  it("W10 the SIP NIC is down when unplugged (lab fault) or when its address is on no interface", () => {
    expect(sipNicUp({ address: "127.0.0.2", interfaceAddresses: [], unplugged: false })).toBe(true);
    expect(sipNicUp({ address: "127.0.0.2", interfaceAddresses: [], unplugged: true })).toBe(false);
    expect(sipNicUp({ address: "192.0.2.10", interfaceAddresses: ["192.0.2.10"], unplugged: false })).toBe(true);
    expect(sipNicUp({ address: "192.0.2.10", interfaceAddresses: ["192.0.2.11"], unplugged: false })).toBe(false);
  });
});
