// What the dashboard, /healthz and the API say about the consoles sharing the database: who leads,
// since when, at which term, and the followers alive — without the peer secret the status carries
// inside the process.
import type { ClusterStatus } from "./protocol";

export interface ClusterView {
  /** This console instance and its role. */
  instance: string;
  role: "leader" | "follower";
  term: number;
  /** Who leads (null: nobody right now, a takeover is under way). */
  leader: { id: string; webUrl: string | null; term: number; since: Date } | null;
  /** The other instances alive, with their role (a second leader would be a bug, shown as it is). */
  followers: { id: string; webUrl: string; seenAgoMs: number }[];
  /** How many consoles the site runs (SWITCHYARD_CONSOLES). */
  expected: number;
}

/** null: a console without the controller (SWITCHYARD_CONTROLLER=false), or before its first lease answer. */
export function clusterView(status: ClusterStatus | null): ClusterView | null {
  if (!status) return null;
  const leaderId = status.leader?.id ?? null;
  return {
    instance: status.instanceId,
    role: status.role,
    term: status.term,
    leader: status.leader ? { id: status.leader.id, webUrl: status.leader.webUrl, term: status.leader.term, since: new Date(status.leader.sinceMs) } : null,
    followers: status.instances.filter((i) => i.id !== leaderId).map((i) => ({ id: i.id, webUrl: i.webUrl, seenAgoMs: i.seenAgoMs })),
    expected: status.expectedConsoles,
  };
}
