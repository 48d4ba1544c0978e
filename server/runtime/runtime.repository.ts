// Reads the pairs the controller manages and writes its decisions: per-pair epoch, intended primary,
// stopped servers and maintenance (upserted) and timeline rows, in one transaction per step.
import type { Db } from "../db";
import type { PairConfig, PersistedPairState } from "../controller/core";
import type { Prisma } from "../../generated/prisma/client";
import type { HistoryRow } from "./shell";

export type { HistoryRow };

export async function loadPairConfigs(db: Db): Promise<PairConfig[]> {
  const app = { select: { id: true, name: true, startupTimeoutMs: true, host: { select: { id: true, name: true } } } } as const;
  const rows = await db.haPair.findMany({ select: { id: true, name: true, haType: true, scriptTimeoutMs: true, failoverHoldMs: true, primaryApp: app, backupApp: app }, orderBy: { name: "asc" } });
  const ref = (a: (typeof rows)[number]["primaryApp"]) => ({ appId: a.id, appName: a.name, hostId: a.host.id, hostName: a.host.name, startupTimeoutMs: a.startupTimeoutMs });
  return rows.map((p) => ({
    id: p.id,
    name: p.name,
    haType: p.haType as PairConfig["haType"],
    scriptTimeoutMs: p.scriptTimeoutMs,
    failoverHoldMs: p.failoverHoldMs,
    apps: [ref(p.primaryApp), ref(p.backupApp)] as const,
  }));
}

export async function loadPersisted(db: Db): Promise<Record<string, PersistedPairState>> {
  const rows = await db.pairRuntime.findMany({
    select: { pairId: true, epoch: true, intendedPrimaryAppId: true, stoppedAppIds: true, maintenanceBy: true, maintenanceReason: true, maintenanceSince: true, maintenanceUntil: true },
  });
  return Object.fromEntries(
    rows.map((r) => [
      r.pairId,
      {
        epoch: r.epoch,
        intendedPrimaryAppId: r.intendedPrimaryAppId,
        stoppedAppIds: r.stoppedAppIds ? r.stoppedAppIds.split(",") : [],
        maintenance:
          r.maintenanceBy !== null && r.maintenanceSince !== null
            ? { by: r.maintenanceBy, reason: r.maintenanceReason ?? "", sinceMs: r.maintenanceSince.getTime(), untilMs: r.maintenanceUntil?.getTime() ?? null }
            : null,
      },
    ]),
  );
}

/** The pair's maintenance as columns (all null when it is not in maintenance). */
function maintenanceColumns(p: PersistedPairState) {
  const m = p.maintenance ?? null;
  return {
    maintenanceBy: m?.by ?? null,
    maintenanceReason: m?.reason ?? null,
    maintenanceSince: m ? new Date(m.sinceMs) : null,
    maintenanceUntil: m?.untilMs != null ? new Date(m.untilMs) : null,
  };
}

const json = (v: unknown) => (v === null || v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as Prisma.InputJsonValue));

/**
 * A statement that fails unless this console still holds the leadership lease, run first in a step's
 * transaction (server/leader/lease-store.ts, saveFence): a deposed leader's decision is not saved.
 */
export type SaveFence = (db: Db) => Prisma.PrismaPromise<unknown> | null;

export async function saveStep(db: Db, pairs: Record<string, PersistedPairState>, history: HistoryRow[], fence?: SaveFence): Promise<void> {
  // Only the pairs this step touched (with 2,000 pairs, reading every id on every step cost more than the write).
  const touched = [...new Set([...Object.keys(pairs), ...history.map((h) => h.pairId)])];
  if (touched.length === 0) return;
  const existing = new Set((await db.haPair.findMany({ where: { id: { in: touched } }, select: { id: true } })).map((p) => p.id));
  const upserts = Object.entries(pairs)
    .filter(([pairId]) => existing.has(pairId)) // deleted meanwhile
    .map(([pairId, p]) =>
      db.pairRuntime.upsert({
        where: { pairId },
        create: { pairId, epoch: p.epoch, intendedPrimaryAppId: p.intendedPrimaryAppId, stoppedAppIds: p.stoppedAppIds.join(","), ...maintenanceColumns(p) },
        update: { epoch: p.epoch, intendedPrimaryAppId: p.intendedPrimaryAppId, stoppedAppIds: p.stoppedAppIds.join(","), ...maintenanceColumns(p) },
      }),
    );
  const rows = history.filter((h) => existing.has(h.pairId));
  const inserts = rows.length ? [db.pairHistory.createMany({ data: rows.map((h) => ({ pairId: h.pairId, epoch: h.epoch, kind: h.kind, text: h.text, data: json(h.data) })) })] : [];
  if (!upserts.length && !inserts.length) return;
  // A batch transaction, not an interactive one: an interactive transaction left open across awaits
  // on the single SQLite connection was rolled back under load ("Transaction already closed") and
  // took the step's history rows with it.
  const guard = fence?.(db);
  await db.$transaction([...(guard ? [guard] : []), ...upserts, ...inserts]);
}

export async function pairHistory(db: Db, pairId: string, limit: number) {
  return db.pairHistory.findMany({ where: { pairId }, orderBy: [{ at: "desc" }, { id: "desc" }], take: limit, select: { id: true, at: true, epoch: true, kind: true, text: true, data: true } });
}
