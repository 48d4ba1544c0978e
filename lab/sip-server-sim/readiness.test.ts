// W13 readiness, step by step on an injected clock (pure computeReadiness).
import { describe, expect, it } from "vitest";
import { computeReadiness, primaryLinkSettleMs, type ReadinessInput } from "./readiness";

const linkUpAtMs = 1_000_000;

function primary(overrides: Partial<ReadinessInput>): ReadinessInput {
  return {
    role: "primary",
    nowMs: linkUpAtMs,
    haLinkUpSinceMs: linkUpAtMs,
    nonMultisiteCalls: 0,
    nonMultisiteCallsSynced: 0,
    multisiteCallsPredatingLink: 0,
    backupSyncComplete: false,
    ...overrides,
  };
}

describe("W13 readiness for switchover and upgrade", () => {
  it("W13 primary: link down → not ready, with the reason in words", () => {
    const readiness = computeReadiness(primary({ haLinkUpSinceMs: null }));
    expect(readiness.readyForSwitchover).toBe(0);
    expect(readiness.notReadyReasons).toContain("HA link to the other server is down");
  });

  it("W13 primary: becomes ready exactly 60 s after the HA link came up, not a millisecond before", () => {
    const at = (offsetMs: number) => computeReadiness(primary({ nowMs: linkUpAtMs + offsetMs }));
    expect(at(0).readyForSwitchover).toBe(0);
    expect(at(12_000).notReadyReasons).toContain("HA link up for 12 s of the 60 s needed");
    expect(at(primaryLinkSettleMs - 1).readyForSwitchover).toBe(0);
    expect(at(primaryLinkSettleMs).readyForSwitchover).toBe(1);
    expect(at(primaryLinkSettleMs).notReadyReasons).toEqual([]);
  });

  it("W13 primary: unsynced non-multisite calls keep it not ready until all are synced", () => {
    const later = linkUpAtMs + 90_000;
    const partial = computeReadiness(primary({ nowMs: later, nonMultisiteCalls: 2000, nonMultisiteCallsSynced: 1500 }));
    expect(partial.readyForSwitchover).toBe(0);
    expect(partial.notReadyReasons).toContain("500 of 2000 non-multisite calls not yet synchronised to the backup");
    const all = computeReadiness(primary({ nowMs: later, nonMultisiteCalls: 2000, nonMultisiteCallsSynced: 2000 }));
    expect(all.readyForSwitchover).toBe(1);
  });

  it("W13 primary: multisite calls that predate the link must end first", () => {
    const later = linkUpAtMs + 90_000;
    const waiting = computeReadiness(primary({ nowMs: later, multisiteCallsPredatingLink: 3 }));
    expect(waiting.readyForSwitchover).toBe(0);
    expect(waiting.notReadyReasons).toContain("3 multisite calls from before the HA link came up have not ended");
    expect(computeReadiness(primary({ nowMs: later, multisiteCallsPredatingLink: 0 })).readyForSwitchover).toBe(1);
  });

  it("W13 upgrade: the primary is never ready for upgrade, the backup always is", () => {
    expect(computeReadiness(primary({ nowMs: linkUpAtMs + 600_000 })).readyForUpgrade).toBe(0);
    const backupDown = computeReadiness({ ...primary({}), role: "backup", haLinkUpSinceMs: null });
    expect(backupDown.readyForUpgrade).toBe(1);
    expect(backupDown.readyForSwitchover).toBe(0);
  });

  it("W13 backup: ready as soon as the link is up and the sync is complete (no 60 s wait)", () => {
    const backup = (backupSyncComplete: boolean) =>
      computeReadiness({ ...primary({}), role: "backup", nowMs: linkUpAtMs + 1, backupSyncComplete });
    expect(backup(false).readyForSwitchover).toBe(0);
    expect(backup(false).notReadyReasons).toEqual(["call synchronisation from the primary is not complete"]);
    expect(computeReadiness({ ...primary({}), role: "backup", nowMs: linkUpAtMs + 1, backupSyncComplete: false, backupCalls: { expected: 14_000, held: 6_500 } }).notReadyReasons).toEqual([
      "call synchronisation from the primary is not complete: 7500 of 14000 calls not yet received",
    ]);
    expect(backup(true).readyForSwitchover).toBe(1);
    expect(backup(true).notReadyReasons).toEqual([]);
  });

  it("W13 lab knob: a shorter link settle time (tests only) makes the primary ready sooner, with the reason naming it", () => {
    const at = (offsetMs: number) => computeReadiness(primary({ nowMs: linkUpAtMs + offsetMs, linkSettleMs: 2000 }));
    expect(at(1999).readyForSwitchover).toBe(0);
    expect(at(1000).notReadyReasons).toContain("HA link up for 1 s of the 2 s needed");
    expect(at(2000).readyForSwitchover).toBe(1);
  });
});
