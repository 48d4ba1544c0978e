// Reads and writes log events, alarm conditions, alarms, reactions and reaction runs. Only this file
// touches Prisma for the alarm slice; the rules live in alarms.service.ts and the engine.
import type { DbTx } from "../db";
import type { Prisma } from "../../generated/prisma/client";
import type { ConditionInput, LogEventSearch, AlarmHistoryFilter, ReactionKind, ScopeKind, Severity, ClearedHow } from "./alarms.schema";
import type { MatchCondition } from "./matcher";

const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as Prisma.InputJsonValue;
const stringList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

// ---- log events -------------------------------------------------------------------------------

export interface LogEventRow {
  application: string;
  host: string;
  eventId: string;
  text: string;
  time: Date;
  level: string;
  receivedAt: Date;
}

export async function insertLogEvents(db: DbTx, rows: LogEventRow[]): Promise<void> {
  if (rows.length) await db.logEvent.createMany({ data: rows });
}

export async function pruneLogEvents(db: DbTx, receivedBefore: Date): Promise<number> {
  return (await db.logEvent.deleteMany({ where: { receivedAt: { lt: receivedBefore } } })).count;
}

export async function searchLogEvents(db: DbTx, f: LogEventSearch) {
  const rows = await db.logEvent.findMany({
    where: {
      eventId: f.eventId ? { startsWith: f.eventId } : undefined,
      application: f.application ? { contains: f.application } : undefined,
      host: f.host ? { contains: f.host } : undefined,
      text: f.text ? { contains: f.text } : undefined,
      time: f.from || f.to ? { gte: f.from, lte: f.to } : undefined,
    },
    orderBy: [{ time: "desc" }, { id: "desc" }],
    take: f.limit + 1,
    ...(f.cursor ? { cursor: { id: f.cursor }, skip: 1 } : {}),
  });
  const more = rows.length > f.limit;
  const items = more ? rows.slice(0, f.limit) : rows;
  return { items, nextCursor: more ? items[items.length - 1]!.id : null };
}

// ---- conditions and reactions -------------------------------------------------------------------

const conditionSelect = {
  id: true,
  eventId: true,
  controllerKind: true,
  scopeKind: true,
  scopeValues: true,
  severity: true,
  cancelEventId: true,
  cancelControllerKind: true,
  autoClearSeconds: true,
  description: true,
  enabled: true,
  builtIn: true,
  createdAt: true,
  updatedAt: true,
} satisfies Prisma.AlarmConditionSelect;
type ConditionRow = Prisma.AlarmConditionGetPayload<{ select: typeof conditionSelect }>;

export interface ConditionView extends MatchCondition {
  builtIn: boolean;
  createdAt: Date;
  updatedAt: Date;
}

function toCondition(r: ConditionRow): ConditionView {
  return { ...r, scopeKind: r.scopeKind as ScopeKind, severity: r.severity as Severity, scopeValues: stringList(r.scopeValues) };
}

export async function listConditions(db: DbTx): Promise<ConditionView[]> {
  const rows = await db.alarmCondition.findMany({ select: conditionSelect, orderBy: [{ builtIn: "desc" }, { eventId: "asc" }, { controllerKind: "asc" }, { createdAt: "asc" }] });
  return rows.map(toCondition);
}

export async function findCondition(db: DbTx, id: string): Promise<ConditionView | null> {
  const row = await db.alarmCondition.findUnique({ where: { id }, select: conditionSelect });
  return row ? toCondition(row) : null;
}

export async function createCondition(db: DbTx, input: ConditionInput, builtIn = false): Promise<string> {
  const row = await db.alarmCondition.create({ data: { ...input, scopeValues: json(input.scopeValues), builtIn }, select: { id: true } });
  return row.id;
}

export async function updateCondition(db: DbTx, id: string, input: ConditionInput): Promise<void> {
  await db.alarmCondition.update({ where: { id }, data: { ...input, scopeValues: json(input.scopeValues) } });
}

export async function deleteCondition(db: DbTx, id: string): Promise<void> {
  await db.alarmCondition.delete({ where: { id } });
}

export async function countAlarmsOfCondition(db: DbTx, conditionId: string): Promise<number> {
  return db.alarm.count({ where: { conditionId } });
}

const reactionSelect = { id: true, conditionId: true, kind: true, onClear: true, settings: true, description: true, enabled: true, createdAt: true, updatedAt: true } satisfies Prisma.AlarmReactionSelect;
type ReactionRow = Prisma.AlarmReactionGetPayload<{ select: typeof reactionSelect }>;
export type ReactionView = Omit<ReactionRow, "kind" | "settings"> & { kind: ReactionKind; settings: Record<string, unknown> };

function toReaction(r: ReactionRow): ReactionView {
  const settings = r.settings && typeof r.settings === "object" && !Array.isArray(r.settings) ? (r.settings as Record<string, unknown>) : {};
  return { ...r, kind: r.kind as ReactionKind, settings };
}

export async function listReactions(db: DbTx, conditionId?: string): Promise<ReactionView[]> {
  const rows = await db.alarmReaction.findMany({ where: { conditionId }, select: reactionSelect, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  return rows.map(toReaction);
}

export async function findReaction(db: DbTx, id: string): Promise<ReactionView | null> {
  const row = await db.alarmReaction.findUnique({ where: { id }, select: reactionSelect });
  return row ? toReaction(row) : null;
}

export interface ReactionData {
  conditionId: string;
  kind: ReactionKind;
  onClear: boolean;
  settings: Record<string, unknown>;
  description: string;
  enabled: boolean;
}

export async function createReaction(db: DbTx, data: ReactionData): Promise<string> {
  return (await db.alarmReaction.create({ data: { ...data, settings: json(data.settings) }, select: { id: true } })).id;
}

export async function updateReaction(db: DbTx, id: string, data: ReactionData): Promise<void> {
  await db.alarmReaction.update({ where: { id }, data: { ...data, settings: json(data.settings) } });
}

export async function deleteReaction(db: DbTx, id: string): Promise<void> {
  await db.alarmReaction.delete({ where: { id } });
}

// ---- alarms -----------------------------------------------------------------------------------

const alarmSelect = {
  id: true,
  conditionId: true,
  condition: { select: { description: true } },
  severity: true,
  source: true,
  application: true,
  host: true,
  pair: true,
  activeKey: true,
  state: true,
  count: true,
  firstSeen: true,
  lastSeen: true,
  lastText: true,
  acknowledgedBy: true,
  acknowledgedAt: true,
  acknowledgeNote: true,
  clearedBy: true,
  clearedAt: true,
  clearComment: true,
  clearedHow: true,
  runs: { select: { id: true, reactionId: true, kind: true, trigger: true, at: true, ok: true, detail: true }, orderBy: { at: "asc" }, take: 20 },
} satisfies Prisma.AlarmSelect;
type AlarmRow = Prisma.AlarmGetPayload<{ select: typeof alarmSelect }>;
export type AlarmView = Omit<AlarmRow, "condition" | "severity" | "clearedHow"> & { description: string; severity: Severity; clearedHow: ClearedHow | null };

function toAlarm(r: AlarmRow): AlarmView {
  const { condition, ...rest } = r;
  return { ...rest, description: condition.description, severity: r.severity as Severity, clearedHow: r.clearedHow as ClearedHow | null };
}

const severityRank: Record<string, number> = { critical: 0, major: 1, minor: 2 };

export async function listActiveAlarms(db: DbTx): Promise<AlarmView[]> {
  const rows = await db.alarm.findMany({ where: { state: "active" }, select: alarmSelect, orderBy: [{ lastSeen: "desc" }, { id: "desc" }], take: 1000 });
  return rows.map(toAlarm).sort((a, b) => (severityRank[a.severity] ?? 9) - (severityRank[b.severity] ?? 9));
}

function historyWhere(f: Pick<AlarmHistoryFilter, "severity" | "application">): Prisma.AlarmWhereInput {
  return { state: "cleared", severity: f.severity, application: f.application ? { contains: f.application } : undefined };
}

export function countAlarmHistory(db: DbTx, f: Pick<AlarmHistoryFilter, "severity" | "application">): Promise<number> {
  return db.alarm.count({ where: historyWhere(f) });
}

/** Cleared alarms the filter matches, latest cleared first (an export: bounded by the caller with countAlarmHistory). */
export async function allAlarmHistory(db: DbTx, f: Pick<AlarmHistoryFilter, "severity" | "application">, max: number): Promise<AlarmView[]> {
  const rows = await db.alarm.findMany({ where: historyWhere(f), select: alarmSelect, orderBy: [{ clearedAt: "desc" }, { id: "desc" }], take: max });
  return rows.map(toAlarm);
}

export async function listAlarmHistory(db: DbTx, f: AlarmHistoryFilter) {
  const rows = await db.alarm.findMany({
    where: historyWhere(f),
    select: alarmSelect,
    orderBy: [{ clearedAt: "desc" }, { id: "desc" }],
    take: f.limit + 1,
    ...(f.cursor ? { cursor: { id: f.cursor }, skip: 1 } : {}),
  });
  const more = rows.length > f.limit;
  const items = (more ? rows.slice(0, f.limit) : rows).map(toAlarm);
  return { items, nextCursor: more ? items[items.length - 1]!.id : null };
}

export async function findAlarm(db: DbTx, id: string): Promise<AlarmView | null> {
  const row = await db.alarm.findUnique({ where: { id }, select: alarmSelect });
  return row ? toAlarm(row) : null;
}

export async function findActiveAlarmByKey(db: DbTx, key: string): Promise<AlarmView | null> {
  const row = await db.alarm.findUnique({ where: { activeKey: key }, select: alarmSelect });
  return row ? toAlarm(row) : null;
}

export async function activeAlarmCounts(db: DbTx): Promise<{ severity: string; acknowledged: boolean; count: number }[]> {
  const groups = await db.alarm.groupBy({ by: ["severity", "acknowledgedBy"], where: { state: "active" }, _count: { _all: true } });
  return groups.map((g) => ({ severity: g.severity, acknowledged: g.acknowledgedBy !== null, count: g._count._all }));
}

/** Active alarms as the matcher needs them after a start (subjects without application type: the engine adds it). */
export async function loadActiveForMatcher(db: DbTx) {
  return db.alarm.findMany({
    where: { state: "active", activeKey: { not: null } },
    select: { id: true, conditionId: true, activeKey: true, source: true, application: true, host: true, pair: true, count: true, firstSeen: true, lastSeen: true },
  });
}

export interface NewAlarm {
  conditionId: string;
  severity: string;
  source: string;
  application: string;
  host: string;
  pair: string;
  activeKey: string;
  at: Date;
  text: string;
}

export async function createAlarm(db: DbTx, a: NewAlarm): Promise<string> {
  const { at, text, ...rest } = a;
  const row = await db.alarm.create({ data: { ...rest, state: "active", count: 1, firstSeen: at, lastSeen: at, lastText: text }, select: { id: true } });
  return row.id;
}

export async function updateActiveAlarm(db: DbTx, key: string, count: number, lastSeen: Date, text: string): Promise<void> {
  await db.alarm.updateMany({ where: { activeKey: key }, data: { count, lastSeen, lastText: text } });
}

export async function markCleared(db: DbTx, id: string, how: ClearedHow, by: string, at: Date, comment: string): Promise<void> {
  await db.alarm.update({ where: { id }, data: { state: "cleared", activeKey: null, clearedBy: by, clearedAt: at, clearComment: comment, clearedHow: how } });
}

export async function markAcknowledged(db: DbTx, id: string, by: string, at: Date, note: string): Promise<void> {
  await db.alarm.update({ where: { id }, data: { acknowledgedBy: by, acknowledgedAt: at, acknowledgeNote: note } });
}

export async function recordReactionRun(db: DbTx, run: { alarmId: string; reactionId: string; kind: string; trigger: "raise" | "clear"; ok: boolean; detail: string }): Promise<void> {
  await db.reactionRun.create({ data: { ...run, detail: run.detail.slice(0, 2000) } });
}

// ---- names the engine needs (application type and pair for a log event; names for controller ids) ----
