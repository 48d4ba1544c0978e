// Reads the pairs the controller manages and writes its decisions: per-pair epoch, intended primary,
// stopped servers and maintenance (upserted) and timeline rows, in one transaction per step.
import type { Db } from "../db";
import type { PairConfig, PersistedPairState } from "../controller/core";
import type { ControllerAlarmKind } from "../../protocol/vocabulary";
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

/** The controller's condition alarms (raised and cancelled with their condition, core alarms.ts), as the alarm log names them. */
const CONDITION_ALARM_KINDS = ["host-disconnected", "application-failed", "service-unavailable", "bind-failed", "split-brain", "stale-vip", "maintenance-too-long"] as const satisfies readonly ControllerAlarmKind[];
const HOST_SUBJECT_KINDS: ReadonlySet<string> = new Set(["host-disconnected", "stale-vip"]);
const PAIR_SUBJECT_KINDS: ReadonlySet<string> = new Set(["split-brain", "maintenance-too-long"]);

/**
 * Per pair, the condition alarms the alarm log holds active, as the core's keys (kind:subject id), so
 * a controller that starts (a console restart, a takeover by another console) cancels those whose
 * condition ended while no controller watched, instead of leaving them active for good.
 */
async function activeConditionAlarms(db: Db): Promise<Map<string, string[]>> {
  const [alarms, pairs] = await Promise.all([
    db.alarm.findMany({ where: { state: "active", source: { in: [...CONDITION_ALARM_KINDS] }, pair: { not: "" } }, select: { source: true, application: true, host: true, pair: true } }),
    db.haPair.findMany({ select: { id: true, name: true, primaryApp: { select: { id: true, name: true, host: { select: { id: true, name: true } } } }, backupApp: { select: { id: true, name: true, host: { select: { id: true, name: true } } } } } }),
  ]);
  const byName = new Map(pairs.map((p) => [p.name, p]));
  const out = new Map<string, string[]>();
  for (const a of alarms) {
    const pair = byName.get(a.pair);
    if (!pair) continue;
    const apps = [pair.primaryApp, pair.backupApp];
    const subject = HOST_SUBJECT_KINDS.has(a.source)
      ? apps.find((x) => x.host.name === a.host)?.host.id
      : PAIR_SUBJECT_KINDS.has(a.source)
        ? pair.id
        : apps.find((x) => x.name === a.application)?.id;
    if (!subject) continue;
    out.set(pair.id, [...(out.get(pair.id) ?? []), `${a.source}:${subject}`]);
  }
  return out;
}

export async function loadPersisted(db: Db): Promise<Record<string, PersistedPairState>> {
  const [rows, alarms] = await Promise.all([
    db.pairRuntime.findMany({
      select: { pairId: true, epoch: true, intendedPrimaryAppId: true, stoppedAppIds: true, maintenanceBy: true, maintenanceReason: true, maintenanceSince: true, maintenanceUntil: true },
    }),
    activeConditionAlarms(db),
  ]);
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
        activeAlarms: [...new Set(alarms.get(r.pairId) ?? [])],
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
