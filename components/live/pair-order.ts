// The table view's order and VIP column as pure functions (unit-tested without a browser): rows sorted by
// any column with ties by name as people read them (p2 before p10), the worst first for "problems".
import type { PairView } from "../../lib/ui-events";

export const pairSortKeys = ["problems", "name", "type", "primary", "backup", "vip", "ready", "alarms", "situation"] as const;
export type PairSortKey = (typeof pairSortKeys)[number];
export interface PairSort {
  key: PairSortKey;
  /** Ascending, except "problems", which puts the worst first. */
  descending: boolean;
}

export const primariesOf = (p: PairView) => p.servers.filter((s) => s.role === "primary");
export const backupsOf = (p: PairView) => p.servers.filter((s) => s.role !== "primary");
export const readyCount = (p: PairView) => p.servers.filter((s) => s.readyForSwitchover === 1).length;

/** Where the VIP (NLB port) is, as the pair's servers say: the host that holds it and any stale copy. */
export function vipText(p: PairView): string {
  if (p.haType === "single-host") return "—";
  const word = p.haType === "nlb-cluster" ? "NLB port" : "VIP";
  const here = p.servers.filter((s) => s.vip === "present").map((s) => s.hostName);
  const stale = p.servers.filter((s) => s.vip === "stale").map((s) => s.hostName);
  const parts = [here.length ? `${word} on ${here.join(", ")}` : `${word} on no host`, ...stale.map((h) => `stale on ${h}`)];
  return parts.join("; ");
}

const sortValue: Record<Exclude<PairSortKey, "problems">, (p: PairView) => string | number> = {
  name: (p) => p.name,
  type: (p) => p.haType,
  primary: (p) => primariesOf(p).map((s) => s.name).join(",") || "\uffff",
  backup: (p) => backupsOf(p).map((s) => s.name).join(","),
  vip: (p) => vipText(p),
  ready: (p) => readyCount(p),
  alarms: (p) => p.activeAlarms.length,
  situation: (p) => p.situation,
};

/** Names and texts compare as people read them (p2 before p10); one collator for thousands of comparisons. */
const collator = new Intl.Collator("en", { numeric: true });

/** The rows in the order asked for; ties by name, so the order is stable while pairs change. */
export function sortPairs(pairs: readonly PairView[], sort: PairSort): PairView[] {
  const byName = (a: PairView, b: PairView) => collator.compare(a.name, b.name);
  if (sort.key === "problems") {
    const dir = sort.descending ? 1 : -1;
    return [...pairs].sort((a, b) => dir * (b.severity - a.severity) || byName(a, b));
  }
  // Each row's key once, not once per comparison.
  const value = sortValue[sort.key];
  const dir = sort.descending ? -1 : 1;
  const keyed = pairs.map((p) => ({ p, k: value(p) }));
  keyed.sort((a, b) => {
    const c = typeof a.k === "number" && typeof b.k === "number" ? a.k - b.k : collator.compare(String(a.k), String(b.k));
    return dir * c || byName(a.p, b.p);
  });
  return keyed.map((x) => x.p);
}
