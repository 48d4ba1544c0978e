import { describe, expect, it } from "vitest";
import { DEFAULT_LEASE_TIMING, initialLeaseState, mayCommand, stepLease } from "./lease-core";
import { applyLeaseAttempt, EMPTY_LEASE_ROW, leaseInForce, type LeaseRow } from "./lease-row";

const ttlMs = DEFAULT_LEASE_TIMING.ttlMs;
const acquire = (holder: string, incarnation: string, takeOwn = false) => ({ kind: "acquire" as const, holder, incarnation, takeOwn, ttlMs });
const renew = (holder: string, incarnation: string, term: number) => ({ kind: "renew" as const, holder, incarnation, term, ttlMs });

describe("the lease row's update rules (issue 17)", () => {
  it("an empty row is taken at term 1, expiring a TTL later by the database's clock", () => {
    const r = applyLeaseAttempt(EMPTY_LEASE_ROW, acquire("a", "a1"), 1_000);
    expect(r).toEqual({ won: true, lease: { holder: "a", term: 1 }, row: { holder: "a", incarnation: "a1", term: 1, expiresAtMs: 1_000 + ttlMs } });
    expect(leaseInForce(r.row, 1_000 + ttlMs)).toBe(true);
    expect(leaseInForce(r.row, 1_001 + ttlMs)).toBe(false);
  });

  it("a lease in force is not taken by another console, and is once it has expired (strictly)", () => {
    const row: LeaseRow = { holder: "a", incarnation: "a1", term: 3, expiresAtMs: 5_000 };
    expect(applyLeaseAttempt(row, acquire("b", "b1", true), 5_000)).toEqual({ row, won: false, lease: { holder: "a", term: 3 } });
    expect(applyLeaseAttempt(row, acquire("b", "b1"), 5_001)).toMatchObject({ won: true, lease: { holder: "b", term: 4 } });
  });

  it("a restarted console takes back its own id's lease only on its first attempt (takeOwn)", () => {
    const row: LeaseRow = { holder: "a", incarnation: "a1", term: 3, expiresAtMs: 5_000 };
    expect(applyLeaseAttempt(row, acquire("a", "a2"), 1_000).won).toBe(false);
    expect(applyLeaseAttempt(row, acquire("a", "a2", true), 1_000)).toMatchObject({ won: true, row: { holder: "a", incarnation: "a2", term: 4 } });
    // Not the same run while its lease is in force: a late acquire of the run that already leads again
    // would raise the term under it. After expiry it is taken like anyone's.
    expect(applyLeaseAttempt(row, acquire("a", "a1"), 1_000)).toMatchObject({ won: false, lease: { holder: "a", term: 3 } });
    expect(applyLeaseAttempt(row, acquire("a", "a1"), 6_000)).toMatchObject({ won: true, lease: { holder: "a", term: 4 } });
  });

  it("a renewal extends only the same run's lease at its term, even past expiry; anything else is refused", () => {
    const row: LeaseRow = { holder: "a", incarnation: "a1", term: 3, expiresAtMs: 5_000 };
    expect(applyLeaseAttempt(row, renew("a", "a1", 3), 4_000)).toEqual({ won: true, lease: { holder: "a", term: 3 }, row: { ...row, expiresAtMs: 4_000 + ttlMs } });
    // Nobody took it yet: the row is still this run's at this term, so it is renewed (the core decides whether to lead on it).
    expect(applyLeaseAttempt(row, renew("a", "a1", 3), 9_000).won).toBe(true);
    expect(applyLeaseAttempt(row, renew("a", "a1", 2), 4_000).won).toBe(false);
    expect(applyLeaseAttempt(row, renew("a", "a2", 3), 4_000).won).toBe(false);
    expect(applyLeaseAttempt(row, renew("b", "b1", 3), 4_000)).toEqual({ row, won: false, lease: { holder: "a", term: 3 } });
  });

  it("with the lease core: the holder stops commanding before the row can be taken, whatever the answer's delay", () => {
    // Console a sends its attempt at its own time 100 (database time 10_100); the database runs it 30 ms later.
    let state = stepLease(initialLeaseState(100), { kind: "tick", nowMs: 100 }).state;
    const { row, won, lease } = applyLeaseAttempt(EMPTY_LEASE_ROW, acquire("a", "a1"), 10_130);
    state = stepLease(state, { kind: "answer", nowMs: 160, sentAtMs: 100, won, lease }).state;
    expect(state.role).toBe("leader");
    for (let elapsed = 0; elapsed < 2 * ttlMs; elapsed += 10) {
      const takenByB = applyLeaseAttempt(row, acquire("b", "b1"), 10_100 + elapsed).won;
      if (takenByB) expect(mayCommand(state, 100 + elapsed)).toBe(false);
    }
  });
});
