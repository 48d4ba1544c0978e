// Unit tests of the table view's order and VIP column: rows sorted by any column with ties by name
// (p2 before p10), the worst first for "problems", the rows sorted again from the last ones after a
// push, and where the VIP or NLB port is in words.
import { describe, expect, it } from "vitest";
import { pairSortKeys, resortPairs, sortPairs, vipText } from "./pair-order";
import type { PairView, ServerView } from "../../lib/ui-events";

function server(name: string, role: ServerView["role"], vip: ServerView["vip"], ready: 0 | 1 | null = 1): ServerView {
  return { name, hostName: `${name}-host`, role, vip, readyForSwitchover: ready } as ServerView;
}
function pair(name: string, severity: number, servers: ServerView[], haType: PairView["haType"] = "ip-takeover"): PairView {
  return { id: name, name, haType, severity, situation: `${name} is fine`, activeAlarms: [], servers } as unknown as PairView;
}

const p2 = pair("p2", 0, [server("s4", "primary", "present"), server("s5", "backup", "absent")]);
const p10 = pair("p10", 2, [server("s20", "backup", "stale", 0), server("s21", "primary", "present", 0)], "nlb-cluster");
const p3 = pair("p3", 2, [server("s6", "unknown", "absent", null), server("s7", "unknown", "absent", null)]);

describe("the table's order", () => {
  it("sorts names as people read them, either way", () => {
    expect(sortPairs([p10, p3, p2], { key: "name", descending: false }).map((p) => p.name)).toEqual(["p2", "p3", "p10"]);
    expect(sortPairs([p10, p3, p2], { key: "name", descending: true }).map((p) => p.name)).toEqual(["p10", "p3", "p2"]);
  });

  it("puts the worst first for problems, ties by name; by readiness counts the ready servers", () => {
    expect(sortPairs([p2, p10, p3], { key: "problems", descending: true }).map((p) => p.name)).toEqual(["p3", "p10", "p2"]);
    expect(sortPairs([p2, p10, p3], { key: "ready", descending: false }).map((p) => p.name)).toEqual(["p3", "p10", "p2"]);
  });

  it("sorts by the primary's name (s4 before s21), pairs without a primary last", () => {
    expect(sortPairs([p3, p10, p2], { key: "primary", descending: false }).map((p) => p.name)).toEqual(["p2", "p10", "p3"]);
  });
});

describe("the rows again after pairs changed", () => {
  it("a change that keeps the order is put in place, the other rows the same objects", () => {
    const sort = { key: "name", descending: false } as const;
    const before = sortPairs([p2, p3, p10], sort);
    const p3b = pair("p3", 4, [server("s6", "primary", "present"), server("s7", "backup", "absent")]);
    const after = resortPairs(before, [p2, p3b, p10], sort);
    expect(after).toEqual([p2, p3b, p10]);
    expect(after[0]).toBe(p2);
  });

  it("gives what sorting everything gives, for every column and either way", () => {
    let seed = 11;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const roles = ["primary", "backup", "unknown"] as const;
    const vips = ["present", "absent", "stale"] as const;
    const random = (name: string) =>
      pair(name, rnd(4), [server(`s${rnd(30)}`, roles[rnd(3)]!, vips[rnd(3)]!, rnd(2) as 0 | 1), server(`s${rnd(30)}`, roles[rnd(3)]!, vips[rnd(3)]!, rnd(2) as 0 | 1)], rnd(2) ? "ip-takeover" : "nlb-cluster");
    for (const key of pairSortKeys) {
      for (const descending of [false, true]) {
        const sort = { key, descending };
        let pairs = Array.from({ length: 30 }, (_, i) => random(`p${i}`));
        let rows = sortPairs(pairs, sort);
        for (let round = 0; round < 40; round++) {
          pairs = pairs.map((p) => (rnd(10) === 0 ? random(p.name) : p));
          if (rnd(8) === 0) pairs = pairs.slice(1);
          rows = resortPairs(rows, pairs, sort);
          expect(rows).toEqual(sortPairs(pairs, sort));
        }
      }
    }
  });
});

describe("the VIP column", () => {
  it("names the host with the VIP or NLB port and any stale copy", () => {
    expect(vipText(p2)).toBe("VIP on s4-host");
    expect(vipText(p10)).toBe("NLB port on s21-host; stale on s20-host");
    expect(vipText(p3)).toBe("VIP on no host");
    expect(vipText(pair("single", 0, [server("a", "primary", "none")], "single-host"))).toBe("—");
  });
});
