// W14 upgrade runs (the procedure's state as JSON, with status and starter as columns) and the install
// command configured per application. A run's change and its audit rows are written in one transaction.
import type { Db, DbTx } from "../db";
import type { Prisma } from "../../generated/prisma/client";
import { recordAudit, recordAudits, type Actor, type AuditRecord } from "../audit/audit.repository";
import { activeRunStatuses, type UpgradeState } from "./procedure";

export interface RunRow {
  id: string;
  pairId: string;
  status: string;
  startedBy: string;
  startedAt: Date;
  endedAt: Date | null;
  state: UpgradeState;
}

const runSelect = { id: true, pairId: true, status: true, startedBy: true, startedAt: true, endedAt: true, state: true } as const;
const asJson = (state: UpgradeState) => JSON.parse(JSON.stringify(state)) as Prisma.InputJsonValue;
const toRow = (r: { id: string; pairId: string; status: string; startedBy: string; startedAt: Date; endedAt: Date | null; state: unknown }): RunRow => ({ ...r, state: r.state as UpgradeState });

export async function createRun(db: Db, state: UpgradeState, actor: Actor, audits: AuditRecord[]): Promise<RunRow> {
  return db.$transaction(async (tx) => {
    const row = await tx.upgradeRun.create({ data: { pairId: state.pairId, status: state.status, startedBy: state.startedBy, startedAt: new Date(state.startedAtMs), state: asJson(state) }, select: runSelect });
    if (audits.length) await recordAudits(tx, actor, audits.map((a) => ({ ...a, objectId: a.objectId ?? row.id })));
    return toRow(row);
  });
}

/** Saves a run's new state with the audit rows of what changed it (each with who it was). */
export async function saveRun(db: Db, id: string, state: UpgradeState, audits: { actor: Actor; record: AuditRecord }[]): Promise<void> {
  await db.$transaction(async (tx: DbTx) => {
    await tx.upgradeRun.update({ where: { id }, data: { status: state.status, endedAt: state.endedAtMs !== null ? new Date(state.endedAtMs) : null, state: asJson(state) } });
    for (const a of audits) await recordAudit(tx, a.actor, a.record);
  });
}

/** Runs that still act or may act again (running, paused, aborting), oldest first. */
export async function activeRuns(db: Db): Promise<RunRow[]> {
  const rows = await db.upgradeRun.findMany({ where: { status: { in: [...activeRunStatuses] } }, orderBy: { startedAt: "asc" }, select: runSelect });
  return rows.map(toRow);
}

export async function runsOfPair(db: Db, pairId: string, limit: number): Promise<RunRow[]> {
  const rows = await db.upgradeRun.findMany({ where: { pairId }, orderBy: [{ startedAt: "desc" }, { id: "desc" }], take: limit, select: runSelect });
  return rows.map(toRow);
}

export async function findRun(db: Db, id: string): Promise<RunRow | null> {
  const row = await db.upgradeRun.findUnique({ where: { id }, select: runSelect });
  return row ? toRow(row) : null;
}

// ───────────────────────────── install commands ─────────────────────────────

export interface InstallCommandRow {
  applicationId: string;
  command: string;
  timeoutMs: number;
  updatedBy: string;
  updatedAt: Date;
}

const commandSelect = { applicationId: true, command: true, timeoutMs: true, updatedBy: true, updatedAt: true } as const;

export async function installCommands(db: Db, applicationIds: string[]): Promise<InstallCommandRow[]> {
  return db.installCommand.findMany({ where: { applicationId: { in: applicationIds } }, select: commandSelect });
}

export async function installCommand(db: Db, applicationId: string): Promise<InstallCommandRow | null> {
  return db.installCommand.findUnique({ where: { applicationId }, select: commandSelect });
}

export async function setInstallCommand(tx: DbTx, applicationId: string, command: string | null, timeoutMs: number, updatedBy: string): Promise<void> {
  if (command === null) {
    await tx.installCommand.deleteMany({ where: { applicationId } });
    return;
  }
  await tx.installCommand.upsert({ where: { applicationId }, create: { applicationId, command, timeoutMs, updatedBy }, update: { command, timeoutMs, updatedBy } });
}
