// The VIP watch rule: where the agents observe a pair's VIP against where the controller wants it, per
// host — a match, a VIP missing on the intended primary's host, one held where it should not be (a
// duplicate), nothing judged during a switchover or for a disconnected host, and the settle time
// before a contradiction becomes the vip-mismatch alarm (time is an argument here, never waited for).
import { describe, expect, it } from "vitest";
import { stepVipWatch, vipVerdicts, VIP_MISMATCH_SETTLE_MS, type VipCheckHost, type VipCheckPair, type VipWatchState } from "./vip-watch";

const SETTLE = VIP_MISMATCH_SETTLE_MS;

function pair(h1: Partial<VipCheckHost>, h2: Partial<VipCheckHost>, over: Partial<VipCheckPair> = {}): VipCheckPair {
  return {
    pairId: "p1",
    pairName: "pair-a",
    haType: "ip-takeover",
    planInProgress: false,
    intendedHost: "host-1",
    hosts: [
      { hostName: "host-1", appName: "sip-1", connected: true, stale: false, observed: true, ...h1 },
      { hostName: "host-2", appName: "sip-2", connected: true, stale: false, observed: false, ...h2 },
    ],
    ...over,
  };
}

/** Runs the watch over a sequence of (time, pairs) and returns every step. */
function run(steps: [number, VipCheckPair[]][], start: VipWatchState = new Map()) {
  let state: VipWatchState = start;
  return steps.map(([t, pairs]) => {
    const r = stepVipWatch(state, pairs, t);
    state = r.state;
    return r;
  });
}

/** A state in which every host of the pair was already judged as intended (no start-up cancels). */
function quietState(p: VipCheckPair): VipWatchState {
  return new Map(p.hosts.map((h) => [`${p.pairId}|${h.hostName}`, "quiet" as const]));
}

const raises = (r: ReturnType<typeof stepVipWatch>) => r.alarms.filter((a) => a.raise).map((a) => a.hostName);
const cancels = (r: ReturnType<typeof stepVipWatch>) => r.alarms.filter((a) => !a.raise).map((a) => a.hostName);

describe("vipVerdicts: one host's observation against the intention", () => {
  it("match: the VIP on the intended primary's host only", () => {
    expect([...vipVerdicts(pair({}, {})).values()]).toEqual([{ kind: "match" }, { kind: "match" }]);
  });

  it("missing: the intended primary's host does not hold it", () => {
    expect(vipVerdicts(pair({ observed: false }, {})).get("host-1")).toEqual({ kind: "missing" });
  });

  it("duplicate: the other host holds it too", () => {
    const v = vipVerdicts(pair({}, { observed: true }));
    expect(v.get("host-1")).toEqual({ kind: "match" });
    expect(v.get("host-2")).toEqual({ kind: "unexpected" });
  });

  it("nothing is judged during a switchover", () => {
    const v = vipVerdicts(pair({ observed: false }, { observed: true }, { planInProgress: true }));
    expect([...v.values()].map((x) => x.kind)).toEqual(["unknown", "unknown"]);
  });

  it("a disconnected host is unknown (its observation is only the last known one)", () => {
    expect(vipVerdicts(pair({ connected: false, observed: false }, {})).get("host-1")).toEqual({ kind: "unknown", why: "host host-1 is disconnected (last known only)" });
  });

  it("a stale VIP host is unknown: the controller is disabling it (W3)", () => {
    expect(vipVerdicts(pair({}, { stale: true, observed: true })).get("host-2")?.kind).toBe("unknown");
  });

  it("a driver that cannot tell, or no report yet, is unknown", () => {
    const v = vipVerdicts(pair({ observed: null }, { observed: undefined }));
    expect(v.get("host-1")).toEqual({ kind: "unknown", why: "the agent on host-1 cannot tell" });
    expect(v.get("host-2")).toEqual({ kind: "unknown", why: "the agent on host-2 has not reported it yet" });
  });

  it("with no intended primary only two holders at once are wrong", () => {
    expect([...vipVerdicts(pair({}, {}, { intendedHost: null })).values()].map((x) => x.kind)).toEqual(["unknown", "match"]);
    expect([...vipVerdicts(pair({}, { observed: true }, { intendedHost: null })).values()].map((x) => x.kind)).toEqual(["unexpected", "unexpected"]);
  });

  it("a single-host pair has no VIP to judge", () => {
    expect(vipVerdicts(pair({ observed: false }, {}, { haType: "single-host" })).size).toBe(0);
  });
});

describe("stepVipWatch: the vip-mismatch alarm", () => {
  it("a match raises nothing, however long it lasts", () => {
    const p = pair({}, {});
    const steps = run([[0, [p]], [SETTLE * 10, [p]]], quietState(p));
    expect(steps.flatMap((s) => s.alarms)).toEqual([]);
    expect(steps.map((s) => s.mismatches.size)).toEqual([0, 0]);
  });

  it("missing on the primary's host: raised once the settle time has passed, not before; cancelled when it is back", () => {
    const ok = pair({}, {});
    const missing = pair({ observed: false }, {});
    const [before, almost, due, later, back, after] = run(
      [
        [0, [missing]],
        [SETTLE - 1, [missing]],
        [SETTLE, [missing]],
        [SETTLE * 3, [missing]],
        [SETTLE * 4, [ok]],
        [SETTLE * 5, [ok]],
      ],
      quietState(ok),
    );
    expect(before!.alarms).toEqual([]);
    expect(almost!.alarms).toEqual([]);
    expect(almost!.mismatches.size).toBe(0);
    expect(due!.alarms).toEqual([
      { raise: true, pairId: "p1", pairName: "pair-a", hostName: "host-1", appName: "sip-1", text: "the VIP of pair-a is not on host-1, where the intended primary sip-1 runs: its agent observes it absent" },
    ]);
    expect(due!.mismatches.get("p1")).toEqual({
      sinceMs: 0,
      expectedHost: "host-1",
      hosts: [{ hostName: "host-1", server: "sip-1", expected: true, observed: false, lastKnown: false }],
      text: "the VIP of pair-a is not on host-1, where the intended primary sip-1 runs: its agent observes it absent",
    });
    expect(later!.alarms).toEqual([]); // raised once
    expect(later!.mismatches.get("p1")?.sinceMs).toBe(0);
    expect(back!.alarms).toEqual([{ raise: false, pairId: "p1", pairName: "pair-a", hostName: "host-1", appName: "sip-1", text: "the VIP of pair-a is as intended again: held by host-1" }]);
    expect(back!.mismatches.size).toBe(0);
    expect(after!.alarms).toEqual([]);
  });

  it("a mismatch that ends within the settle time raises nothing", () => {
    const ok = pair({}, {});
    const steps = run([[0, [pair({ observed: false }, {})]], [SETTLE - 1, [ok]], [SETTLE * 2, [ok]]], quietState(ok));
    expect(steps.flatMap((s) => s.alarms)).toEqual([]);
  });

  it("duplicate: the backup's host holds it too; the alarm is about that host and names where it belongs", () => {
    const dup = pair({}, { observed: true });
    const [, due] = run([[0, [dup]], [SETTLE, [dup]]], quietState(dup));
    expect(raises(due!)).toEqual(["host-2"]);
    expect(due!.alarms[0]!.text).toBe("the VIP of pair-a is observed on host-2 as well as on host-1, though sip-2 there is not the intended primary (it belongs on host-1 with sip-1)");
    expect(due!.mismatches.get("p1")?.hosts).toEqual([{ hostName: "host-2", server: "sip-2", expected: false, observed: true, lastKnown: false }]);
  });

  it("the VIP on the wrong host: both the missing and the unexpected host are raised", () => {
    const wrong = pair({ observed: false }, { observed: true }, { haType: "nlb-cluster" });
    const [, due] = run([[0, [wrong]], [SETTLE, [wrong]]], quietState(wrong));
    expect(raises(due!)).toEqual(["host-1", "host-2"]);
    expect(due!.alarms[1]!.text).toBe("the NLB port of pair-a is observed on host-2, though sip-2 there is not the intended primary (it belongs on host-1 with sip-1)");
  });

  it("during a switchover nothing is judged: a pending mismatch is forgotten and its settle time starts again after the plan", () => {
    const missing = pair({ observed: false }, {});
    const moving = pair({ observed: false }, {}, { planInProgress: true });
    const steps = run(
      [
        [0, [missing]],
        [SETTLE - 1, [moving]],
        [SETTLE * 2, [moving]],
        [SETTLE * 3, [missing]],
        [SETTLE * 4 - 1, [missing]],
        [SETTLE * 4, [missing]],
      ],
      quietState(missing),
    );
    expect(steps.slice(0, 5).flatMap((s) => s.alarms)).toEqual([]);
    expect(raises(steps[5]!)).toEqual(["host-1"]);
    expect(steps[5]!.mismatches.get("p1")?.sinceMs).toBe(SETTLE * 3);
  });

  it("a raised alarm stands through a switchover and is cancelled when the plan put the VIP right", () => {
    const missing = pair({ observed: false }, {});
    const [, due, moving, done] = run(
      [
        [0, [missing]],
        [SETTLE, [missing]],
        [SETTLE * 2, [pair({ observed: false }, {}, { planInProgress: true })]],
        [SETTLE * 3, [pair({}, {})]],
      ],
      quietState(missing),
    );
    expect(raises(due!)).toEqual(["host-1"]);
    expect(moving!.alarms).toEqual([]);
    expect(moving!.mismatches.get("p1")?.hosts[0]?.lastKnown).toBe(true);
    expect(cancels(done!)).toEqual(["host-1"]);
  });

  it("a disconnected host is unknown: no alarm for it, a pending one is forgotten, a raised one stays as last known", () => {
    const gone = pair({ connected: false, observed: false }, {});
    expect(run([[0, [gone]], [SETTLE * 5, [gone]]], quietState(gone)).flatMap((s) => s.alarms)).toEqual([]);

    const missing = pair({ observed: false }, {});
    const [, due, away, returned] = run(
      [
        [0, [missing]],
        [SETTLE, [missing]],
        [SETTLE * 2, [gone]],
        [SETTLE * 3, [missing]],
      ],
      quietState(missing),
    );
    expect(raises(due!)).toEqual(["host-1"]);
    expect(away!.alarms).toEqual([]);
    expect(away!.mismatches.get("p1")?.hosts).toEqual([{ hostName: "host-1", server: "sip-1", expected: true, observed: false, lastKnown: true }]);
    // Back and still missing: the same alarm, not a second one.
    expect(returned!.alarms).toEqual([]);
    expect(returned!.mismatches.get("p1")?.hosts[0]?.lastKnown).toBe(false);
  });

  it("the first time a host is judged as intended, whatever alarm an earlier run left active is cancelled (once)", () => {
    const ok = pair({}, {});
    const [first, second] = run([[0, [ok]], [1, [ok]]]);
    expect(cancels(first!)).toEqual(["host-1", "host-2"]);
    expect(second!.alarms).toEqual([]);
  });

  it("with no primary intended yet, one holder is fine and two holders are raised", () => {
    const one = pair({}, {}, { intendedHost: null });
    expect(run([[0, [one]], [SETTLE, [one]]], quietState(one)).flatMap((s) => s.alarms)).toEqual([]);
    const two = pair({}, { observed: true }, { intendedHost: null });
    const [, due] = run([[0, [two]], [SETTLE, [two]]], quietState(two));
    expect(raises(due!)).toEqual(["host-1", "host-2"]);
    expect(due!.mismatches.get("p1")?.expectedHost).toBeNull();
  });

  it("a pair no longer configured cancels its raised alarms", () => {
    const missing = pair({ observed: false }, {});
    const [, due, removed] = run([[0, [missing]], [SETTLE, [missing]], [SETTLE * 2, []]], quietState(missing));
    expect(raises(due!)).toEqual(["host-1"]);
    expect(removed!.alarms).toEqual([expect.objectContaining({ raise: false, hostName: "host-1", appName: "sip-1" })]);
    expect(removed!.state.size).toBe(0);
  });
});
