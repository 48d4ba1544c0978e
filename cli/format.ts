// How the CLI prints: plain aligned tables (like `crm_mon` and `patronictl list`, readable in a terminal
// and by `awk`), ages in words, and the types of the REST API's answers as JSON delivers them.
import type { z } from "zod";
import type * as api from "../server/api/rest-schemas";

/** A REST answer as JSON carries it: dates are ISO strings. */
export type Json<T> = T extends Date ? string : T extends (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

export type Status = Json<z.infer<typeof api.statusSchema>>;
export type PairView = Json<z.infer<typeof api.pairViewSchema>>;
export type HostState = Json<z.infer<typeof api.hostLiveStateSchema>>;
export type Alarm = Json<z.infer<typeof api.alarmSchema>>;
export type SwitchoverOutcome = z.infer<typeof api.switchoverOutcomeSchema>;
export type TimelineEntry = Json<z.infer<typeof api.timelineEntrySchema>>;
export type ImportPlan = z.infer<typeof api.importPlanSchema>;

/** Columns padded to their widest cell; the last column is not padded (no trailing blanks). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

export function age(iso: string | null, nowMs = Date.now()): string {
  if (!iso) return "-";
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (s < 90) return `${s}s ago`;
  if (s < 5400) return `${Math.round(s / 60)}m ago`;
  if (s < 172_800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
}

const readyWord = (r: 0 | 1 | null) => (r === 1 ? "yes" : r === 0 ? "no" : "-");

/** One row per server, the pair's name, type and epoch on its first row (as `patronictl list` groups a cluster). */
export function pairRows(pairs: PairView[]): string[][] {
  const rows: string[][] = [];
  for (const p of pairs) {
    p.servers.forEach((s, i) => {
      rows.push([
        i === 0 ? p.name : "",
        i === 0 ? p.haType : "",
        i === 0 ? String(p.epoch) : "",
        s.name,
        s.hostName,
        s.role,
        s.status,
        readyWord(s.readyForSwitchover),
        s.haLink,
        s.vip,
        s.hostConnection,
      ]);
    });
  }
  return rows;
}

export const PAIR_HEADER = ["PAIR", "TYPE", "EPOCH", "SERVER", "HOST", "ROLE", "STATUS", "READY", "HA LINK", "VIP", "AGENT"];

/** What needs saying about a pair beyond its table rows: maintenance, a plan in progress, a held failover, split brain, alarms. */
export function pairNotes(p: PairView): string[] {
  const notes: string[] = [];
  if (p.splitBrain) notes.push(`${p.name}: SPLIT BRAIN — both servers act as primary`);
  if (p.maintenance) notes.push(`${p.name}: IN MAINTENANCE since ${p.maintenance.since} by ${p.maintenance.by}${p.maintenance.until ? ` until ${p.maintenance.until}` : ""} (${p.maintenance.reason}): the controller decides nothing of its own`);
  if (p.plan) notes.push(`${p.name}: ${p.plan.title} in progress: ${p.plan.steps.map((s) => `${s.label} [${s.status}]`).join(", ")}`);
  if (p.hold) notes.push(`${p.name}: failover held — ${p.hold.to} synchronising${p.hold.unsyncedCalls !== null ? ` ${p.hold.unsyncedCalls} calls` : ""}, at most until ${p.hold.until}`);
  if (p.activeAlarms.length) notes.push(`${p.name}: alarms: ${p.activeAlarms.join("; ")}`);
  return notes;
}

export function renderStatus(s: Status, url: string, nowMs = Date.now()): string {
  const connected = s.hosts.filter((h) => h.state === "connected").length;
  const hostNames = new Set([...s.hosts.map((h) => h.hostName), ...s.pairs.flatMap((p) => p.servers.map((x) => x.hostName))]);
  const a = s.alarms;
  const head = [
    `Switchyard at ${url} — ${new Date(nowMs).toISOString().replace(/\.\d+Z$/, "Z")}`,
    `${s.pairs.length} pair${s.pairs.length === 1 ? "" : "s"}, ${hostNames.size} host${hostNames.size === 1 ? "" : "s"} (${connected} agent${connected === 1 ? "" : "s"} connected), ` +
      `alarms: ${a.critical} critical, ${a.major} major, ${a.minor} minor (${a.unacknowledged} unacknowledged)`,
  ];
  const c = s.console;
  // Several consoles: who leads and who follows (like `patronictl list`'s leader line).
  if (c && (c.expected >= 2 || c.followers.length > 0)) {
    const followers = c.followers.length ? c.followers.map((f) => f.id).join(", ") : "NONE";
    head.push(c.leader ? `consoles: ${c.leader.id} leads (term ${c.leader.term}, since ${c.leader.since}); followers: ${followers}; answered by ${c.instance}` : `consoles: NO LEADER right now (a takeover is under way); answered by ${c.instance}`);
  }
  const notes = s.pairs.flatMap(pairNotes);
  return [...head, "", table(PAIR_HEADER, pairRows(s.pairs)), ...(notes.length ? ["", ...notes] : [])].join("\n");
}
