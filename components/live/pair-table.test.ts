// Unit tests of the table view's order and VIP column: rows sorted by any column with ties by name
// (p2 before p10), the worst first for "problems", and where the VIP or NLB port is in words.
import { describe, expect, it } from "vitest";
import { sortPairs, vipText } from "./pair-order";
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

describe("the VIP column", () => {
  it("names the host with the VIP or NLB port and any stale copy", () => {
    expect(vipText(p2)).toBe("VIP on s4-host");
    expect(vipText(p10)).toBe("NLB port on s21-host; stale on s20-host");
    expect(vipText(p3)).toBe("VIP on no host");
    expect(vipText(pair("single", 0, [server("a", "primary", "none")], "single-host"))).toBe("—");
  });
});
