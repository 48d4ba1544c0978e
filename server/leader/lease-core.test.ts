import { describe, expect, it } from "vitest";
import { DEFAULT_LEASE_TIMING, initialLeaseState, leaseTimingProblem, mayCommand, stepLease, type LeaseAction, type LeaseState } from "./lease-core";

const t = DEFAULT_LEASE_TIMING;

function run(state: LeaseState, inputs: Parameters<typeof stepLease>[1][]): { state: LeaseState; actions: LeaseAction[] } {
  const actions: LeaseAction[] = [];
  for (const input of inputs) {
    const s = stepLease(state, input, t);
    state = s.state;
    actions.push(...s.actions);
  }
  return { state, actions };
}

describe("leadership lease decisions (issue 17)", () => {
  it("a follower tries to acquire, and leads at the term the database gave it", () => {
    const first = stepLease(initialLeaseState(0), { kind: "tick", nowMs: 0 }, t);
    expect(first.actions).toEqual([{ kind: "acquire", sentAtMs: 0, takeOwn: true }]);
    const won = stepLease(first.state, { kind: "answer", nowMs: 20, sentAtMs: 0, won: true, lease: { holder: "a", term: 7 } }, t);
    expect(won.actions).toEqual([{ kind: "lead", term: 7 }]);
    expect(mayCommand(won.state, 20)).toBe(true);
    // Valid from the moment the attempt was sent, a margin before the TTL.
    expect(mayCommand(won.state, t.ttlMs - t.safetyMarginMs - 1)).toBe(true);
    expect(mayCommand(won.state, t.ttlMs - t.safetyMarginMs)).toBe(false);
  });

  it("a follower that lost waits for the next interval and no longer claims its own id's lease", () => {
    const { state, actions } = run(initialLeaseState(0), [
      { kind: "tick", nowMs: 0 },
      { kind: "answer", nowMs: 5, sentAtMs: 0, won: false, lease: { holder: "b", term: 3 } },
      { kind: "tick", nowMs: 500 },
      { kind: "tick", nowMs: 1_000 },
    ]);
    expect(actions).toEqual([
      { kind: "acquire", sentAtMs: 0, takeOwn: true },
      { kind: "acquire", sentAtMs: 1_000, takeOwn: false },
    ]);
    expect(state.role === "follower" && state.knownHolder).toBe("b");
    expect(mayCommand(state, 1_000)).toBe(false);
  });

  it("the leader renews every interval and extends its validity from each renewal's sending time", () => {
    const { state, actions } = run(initialLeaseState(0), [
      { kind: "tick", nowMs: 0 },
      { kind: "answer", nowMs: 10, sentAtMs: 0, won: true, lease: { holder: "a", term: 1 } },
      { kind: "tick", nowMs: 1_000 },
      { kind: "answer", nowMs: 1_010, sentAtMs: 1_000, won: true, lease: { holder: "a", term: 1 } },
    ]);
    expect(actions.map((a) => a.kind)).toEqual(["acquire", "lead", "renew"]);
    expect(mayCommand(state, 1_000 + t.ttlMs - t.safetyMarginMs - 1)).toBe(true);
  });

  it("a leader whose renewals go unanswered steps down before its lease can expire", () => {
    let state = run(initialLeaseState(0), [
      { kind: "tick", nowMs: 0 },
      { kind: "answer", nowMs: 10, sentAtMs: 0, won: true, lease: { holder: "a", term: 1 } },
    ]).state;
    const actions: LeaseAction[] = [];
    for (let now = 100; now <= t.ttlMs; now += 100) {
      const s = stepLease(state, { kind: "tick", nowMs: now }, t);
      state = s.state;
      actions.push(...s.actions);
      if (s.actions.some((a) => a.kind === "step-down")) {
        // Stepped down strictly before the database could give the lease to someone else.
        expect(now).toBeLessThan(t.ttlMs);
        break;
      }
    }
    expect(actions.at(-1)).toMatchObject({ kind: "step-down", term: 1 });
    expect(mayCommand(state, t.ttlMs - t.safetyMarginMs)).toBe(false);
  });

  it("a paused leader that wakes after its TTL steps down on its first tick, before anything else", () => {
    const leading = run(initialLeaseState(0), [
      { kind: "tick", nowMs: 0 },
      { kind: "answer", nowMs: 10, sentAtMs: 0, won: true, lease: { holder: "a", term: 4 } },
    ]).state;
    expect(mayCommand(leading, 60_000)).toBe(false);
    const woke = stepLease(leading, { kind: "tick", nowMs: 60_000 }, t);
    expect(woke.actions).toEqual([expect.objectContaining({ kind: "step-down", term: 4 })]);
    expect(woke.state.role).toBe("follower");
  });

  it("a renewal refused because another console took the lease steps down at once", () => {
    const { actions } = run(initialLeaseState(0), [
      { kind: "tick", nowMs: 0 },
      { kind: "answer", nowMs: 10, sentAtMs: 0, won: true, lease: { holder: "a", term: 1 } },
      { kind: "tick", nowMs: 1_000 },
      { kind: "answer", nowMs: 1_005, sentAtMs: 1_000, won: false, lease: { holder: "b", term: 2 } },
    ]);
    expect(actions.at(-1)).toEqual({ kind: "step-down", term: 1, reason: "the leadership lease is held by b at term 2" });
  });

  it("an answer that arrives after the attempt was given up changes nothing, and a late win is not taken", () => {
    const s0 = stepLease(initialLeaseState(0), { kind: "tick", nowMs: 0 }, t).state;
    // Given up after the TTL; a new attempt goes out.
    const s1 = stepLease(s0, { kind: "tick", nowMs: t.ttlMs + 1 }, t);
    expect(s1.actions).toEqual([{ kind: "acquire", sentAtMs: t.ttlMs + 1, takeOwn: true }]);
    const stale = stepLease(s1.state, { kind: "answer", nowMs: t.ttlMs + 2, sentAtMs: 0, won: true, lease: { holder: "a", term: 1 } }, t);
    expect(stale.actions).toEqual([]);
    expect(stale.state).toBe(s1.state);
    // A win whose answer took longer than TTL − margin is not led on.
    const late = stepLease(s1.state, { kind: "answer", nowMs: 2 * t.ttlMs, sentAtMs: t.ttlMs + 1, won: true, lease: { holder: "a", term: 2 } }, t);
    expect(late.actions).toEqual([]);
    expect(late.state.role).toBe("follower");
  });

  it("a failed attempt is tried again at the next interval; the leader's deadline still runs", () => {
    const { state, actions } = run(initialLeaseState(0), [
      { kind: "tick", nowMs: 0 },
      { kind: "answer", nowMs: 10, sentAtMs: 0, won: true, lease: { holder: "a", term: 1 } },
      { kind: "tick", nowMs: 1_000 },
      { kind: "failed", nowMs: 1_020, sentAtMs: 1_000, error: "connection refused" },
      { kind: "tick", nowMs: 2_000 },
    ]);
    expect(actions.map((a) => a.kind)).toEqual(["acquire", "lead", "renew", "renew"]);
    expect(state.role).toBe("leader");
    expect(mayCommand(state, t.ttlMs - t.safetyMarginMs)).toBe(false);
  });

  it("refuses a timing that leaves no room to renew", () => {
    expect(leaseTimingProblem(DEFAULT_LEASE_TIMING)).toBeNull();
    expect(leaseTimingProblem({ ttlMs: 2_000, renewIntervalMs: 1_000, safetyMarginMs: 500 })).toMatch(/at least two renewals/);
  });
});
