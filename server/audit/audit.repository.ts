// Writes and reads audit entries. `recordAudit` takes the transaction of the change it records, so a
// change and its audit row commit together or not at all.
import { randomUUID } from "node:crypto";
import type { DbTx } from "../db";
import { bulkInsert, sqliteDateTime } from "../db/bulk-insert";
import type { Prisma } from "../../generated/prisma/client";

export interface Actor {
  id: string | null;
  name: string;
}

export const systemActor: Actor = { id: null, name: "system" };

export interface AuditRecord {
  action: string;
  objectType: string;
  objectId?: string | null;
  objectName?: string;
  before?: unknown;
  after?: unknown;
  detail?: string;
}

const json = (v: unknown) => (v === undefined || v === null ? undefined : (JSON.parse(JSON.stringify(v)) as Prisma.InputJsonValue));

function auditRow(actor: Actor, record: AuditRecord) {
  return {
    actorId: actor.id,
    actorName: actor.name,
    action: record.action,
    objectType: record.objectType,
    objectId: record.objectId ?? null,
    objectName: record.objectName ?? "",
    before: json(record.before),
    after: json(record.after),
    detail: record.detail ?? "",
  };
}

export async function recordAudit(tx: DbTx, actor: Actor, record: AuditRecord): Promise<void> {
  await tx.auditEntry.create({ data: auditRow(actor, record) });
}

/** Many entries in a few statements (a large import), in the order given. */
export async function recordAudits(tx: DbTx, actor: Actor, records: AuditRecord[]): Promise<void> {
  const at = sqliteDateTime(new Date());
  const text = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
  await bulkInsert(
    tx,
    "AuditEntry",
    ["id", "at", "actorId", "actorName", "action", "objectType", "objectId", "objectName", "before", "after", "detail"],
    records.map((r) => [randomUUID(), at, actor.id, actor.name, r.action, r.objectType, r.objectId ?? null, r.objectName ?? "", text(r.before), text(r.after), r.detail ?? ""]),
  );
}

export interface AuditFilter {
  actorName?: string;
  action?: string;
  objectType?: string;
  objectName?: string;
  from?: Date;
  to?: Date;
  cursor?: string;
  limit: number;
}

function auditWhere(f: Omit<AuditFilter, "cursor" | "limit">): Prisma.AuditEntryWhereInput {
  return {
    actorName: f.actorName ? { contains: f.actorName } : undefined,
    action: f.action ? { startsWith: f.action } : undefined,
    objectType: f.objectType || undefined,
    objectName: f.objectName ? { contains: f.objectName } : undefined,
    at: f.from || f.to ? { gte: f.from, lte: f.to } : undefined,
  };
}

/** Every entry the filter matches, newest first (an export: the caller bounds it with countAuditEntries first). */
export function allAuditEntries(db: DbTx, f: Omit<AuditFilter, "cursor" | "limit">, max: number) {
  return db.auditEntry.findMany({ where: auditWhere(f), orderBy: [{ at: "desc" }, { id: "desc" }], take: max });
}

export function countAuditEntries(db: DbTx, f: Omit<AuditFilter, "cursor" | "limit">) {
  return db.auditEntry.count({ where: auditWhere(f) });
}

export async function findAuditEntries(db: DbTx, f: AuditFilter) {
  const rows = await db.auditEntry.findMany({
    where: auditWhere(f),
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: f.limit + 1,
    ...(f.cursor ? { cursor: { id: f.cursor }, skip: 1 } : {}),
  });
  const more = rows.length > f.limit;
  const items = more ? rows.slice(0, f.limit) : rows;
  return { items, nextCursor: more ? items[items.length - 1]!.id : null };
}
