// Reads the whole configuration as a snapshot (what the rules check) and writes single objects.
// Only this file and other repositories touch Prisma for configuration.
import crypto, { randomUUID } from "node:crypto";
import type { DbTx } from "../db";
import { bulkInsert, sqliteDateTime } from "../db/bulk-insert";
import type { Prisma } from "../../generated/prisma/client";
import type { ApplicationShape, ConfigSnapshot, HostShape, PairShape } from "./config.schema";
import { directoryOf, type Directory } from "./directory";

export interface IdentifiedSnapshot extends ConfigSnapshot {
  /** Names ↔ ids of the snapshot's hosts, applications and pairs (the one directory, server/config/directory.ts). */
  directory: Directory;
  /**
   * Pair name -> the HA link's shared secret. Kept apart from PairShape so it never reaches an export,
   * an audit row or a page; only the host configuration pushed to agents carries it.
   */
  pairSecrets: Map<string, string>;
}

/** A new pair's HA-link secret: 256 random bits as hex (the simulator's HMAC key). */
export function newHaSecret(): string {
  return crypto.randomBytes(32).toString("hex");
}

const hostSelect = {
  id: true,
  name: true,
  description: true,
  heartbeatIntervalMs: true,
  heartbeatTimeoutMs: true,
  nics: { select: { name: true, address: true, carriesManagement: true, carriesSip: true }, orderBy: { position: "asc" } },
} satisfies Prisma.HostSelect;

const appSelect = {
  id: true,
  name: true,
  type: true,
  host: { select: { id: true, name: true } },
  sipPort: true,
  haPort: true,
  startCommand: true,
  startArgs: true,
  workingDirectory: true,
  environment: true,
  stopCommand: true,
  stopTimeoutMs: true,
  restartEnabled: true,
  restartMaxRestarts: true,
  restartWindowMs: true,
  restartDelayMs: true,
  restartDelayMaxMs: true,
  restartBackoffMultiplier: true,
  startupTimeoutMs: true,
  options: { select: { dn: true, section: true, name: true, value: true }, orderBy: [{ dn: "asc" }, { section: "asc" }, { name: "asc" }] },
} satisfies Prisma.ApplicationSelect;

const pairSelect = {
  id: true,
  name: true,
  haType: true,
  primaryApp: { select: { name: true } },
  backupApp: { select: { name: true } },
  primaryAppId: true,
  backupAppId: true,
  vipAddress: true,
  vipPrefixLength: true,
  vipInterface: true,
  nlbClusterName: true,
  nlbPort: true,
  controlDriver: true,
  enableScript: true,
  disableScript: true,
  scriptTimeoutMs: true,
  failoverHoldMs: true,
} satisfies Prisma.HaPairSelect;

type HostRow = Prisma.HostGetPayload<{ select: typeof hostSelect }>;
type AppRow = Prisma.ApplicationGetPayload<{ select: typeof appSelect }>;
type PairRow = Prisma.HaPairGetPayload<{ select: typeof pairSelect }>;

export function toHostShape(h: HostRow): HostShape {
  return { name: h.name, description: h.description, nics: h.nics, heartbeatIntervalMs: h.heartbeatIntervalMs, heartbeatTimeoutMs: h.heartbeatTimeoutMs };
}

/** The restart policy columns as the shape's object. */
export function restartPolicyOf(a: Pick<AppRow, "restartEnabled" | "restartMaxRestarts" | "restartWindowMs" | "restartDelayMs" | "restartDelayMaxMs" | "restartBackoffMultiplier">): ApplicationShape["restartPolicy"] {
  return {
    enabled: a.restartEnabled,
    maxRestarts: a.restartMaxRestarts,
    restartWindowMs: a.restartWindowMs,
    restartDelayMs: a.restartDelayMs,
    restartDelayMaxMs: a.restartDelayMaxMs,
    backoffMultiplier: a.restartBackoffMultiplier,
  };
}

export function toApplicationShape(a: AppRow): ApplicationShape {
  return {
    name: a.name,
    type: a.type as ApplicationShape["type"],
    host: a.host.name,
    sipPort: a.sipPort,
    haPort: a.haPort,
    startCommand: a.startCommand,
    startArgs: (a.startArgs ?? []) as string[],
    workingDirectory: a.workingDirectory,
    environment: (a.environment ?? {}) as Record<string, string>,
    stopCommand: a.stopCommand,
    stopTimeoutMs: a.stopTimeoutMs,
    restartPolicy: restartPolicyOf(a),
    startupTimeoutMs: a.startupTimeoutMs,
    options: a.options,
  };
}

export function toPairShape(p: PairRow): PairShape {
  return {
    name: p.name,
    haType: p.haType as PairShape["haType"],
    primary: p.primaryApp.name,
    backup: p.backupApp.name,
    vipAddress: p.vipAddress,
    vipPrefixLength: p.vipPrefixLength,
    vipInterface: p.vipInterface,
    nlbClusterName: p.nlbClusterName,
    nlbPort: p.nlbPort,
    controlDriver: p.controlDriver as PairShape["controlDriver"],
    enableScript: p.enableScript,
    disableScript: p.disableScript,
    scriptTimeoutMs: p.scriptTimeoutMs,
    failoverHoldMs: p.failoverHoldMs,
  };
}

/** One application as the rules see it, or null. */
export async function findApplicationShape(db: DbTx, id: string): Promise<ApplicationShape | null> {
  const row = await db.application.findUnique({ where: { id }, select: appSelect });
  return row ? toApplicationShape(row) : null;
}

export async function loadSnapshot(db: DbTx): Promise<IdentifiedSnapshot> {
  const [hosts, apps, pairs] = await Promise.all([
    db.host.findMany({ select: hostSelect, orderBy: { name: "asc" } }),
    db.application.findMany({ select: appSelect, orderBy: { name: "asc" } }),
    db.haPair.findMany({ select: { ...pairSelect, haSecret: true }, orderBy: { name: "asc" } }),
  ]);
  return {
    hosts: hosts.map(toHostShape),
    applications: apps.map(toApplicationShape),
    pairs: pairs.map(toPairShape),
    directory: directoryOf({ hosts, apps, pairs }),
    pairSecrets: new Map(pairs.map((p) => [p.name, p.haSecret])),
  };
}

/** Names and ids of every host, application and pair, sorted: a cheap fingerprint of what exists. */
export async function loadIdentity(db: DbTx): Promise<string> {
  const [hosts, apps, pairs] = await Promise.all([
    db.host.findMany({ select: { id: true, name: true, updatedAt: true }, orderBy: { name: "asc" } }),
    db.application.findMany({ select: { id: true, name: true, updatedAt: true }, orderBy: { name: "asc" } }),
    db.haPair.findMany({ select: { id: true, name: true, updatedAt: true }, orderBy: { name: "asc" } }),
  ]);
  return JSON.stringify([hosts, apps, pairs]);
}

function hostData(host: HostShape) {
  return { name: host.name, description: host.description, heartbeatIntervalMs: host.heartbeatIntervalMs ?? null, heartbeatTimeoutMs: host.heartbeatTimeoutMs ?? null };
}

export async function writeHost(db: DbTx, id: string | null, host: HostShape): Promise<string> {
  const nics = host.nics.map((n, position) => ({ ...n, position }));
  if (id === null) {
    const created = await db.host.create({ data: { ...hostData(host), nics: { create: nics } }, select: { id: true } });
    return created.id;
  }
  await db.nic.deleteMany({ where: { hostId: id } });
  await db.host.update({ where: { id }, data: { ...hostData(host), nics: { create: nics } } });
  return id;
}

function appData(app: ApplicationShape, hostId: string) {
  return {
    name: app.name,
    type: app.type,
    hostId,
    sipPort: app.sipPort,
    haPort: app.haPort,
    startCommand: app.startCommand,
    startArgs: app.startArgs,
    workingDirectory: app.workingDirectory,
    environment: app.environment,
    stopCommand: app.stopCommand,
    stopTimeoutMs: app.stopTimeoutMs,
    restartEnabled: app.restartPolicy.enabled,
    restartMaxRestarts: app.restartPolicy.maxRestarts,
    restartWindowMs: app.restartPolicy.restartWindowMs,
    restartDelayMs: app.restartPolicy.restartDelayMs,
    restartDelayMaxMs: app.restartPolicy.restartDelayMaxMs,
    restartBackoffMultiplier: app.restartPolicy.backoffMultiplier,
    startupTimeoutMs: app.startupTimeoutMs,
  };
}

/** Writes an application and replaces its options with `app.options`. */
export async function writeApplication(db: DbTx, id: string | null, app: ApplicationShape, hostId: string): Promise<string> {
  const data = appData(app, hostId);
  const appId = id === null ? (await db.application.create({ data, select: { id: true } })).id : id;
  if (id !== null) await db.application.update({ where: { id }, data });
  await writeOptions(db, appId, app.options);
  return appId;
}

export async function writeOptions(db: DbTx, applicationId: string, options: ApplicationShape["options"]): Promise<void> {
  await db.optionValue.deleteMany({ where: { applicationId } });
  if (options.length) await db.optionValue.createMany({ data: options.map((o) => ({ ...o, applicationId })) });
}

/**
 * Creates many new hosts, applications (with their options) and pairs in a few statements — a large
 * import holds SQLite's write lock for a short time this way (one statement per row took tens of
 * seconds for 400 applications). Returns the new ids by name.
 */
export async function createMany(
  db: DbTx,
  rows: { hosts: HostShape[]; applications: ApplicationShape[]; pairs: PairShape[] },
  existing: Directory,
  /** HA secrets to keep, by pair name (a pair an import re-creates); other pairs get a new one. */
  keepSecrets: Map<string, string> = new Map(),
): Promise<{ hostIds: Map<string, string>; appIds: Map<string, string> }> {
  // Ids by name of what exists and of what is created here (new ids are made before the rows).
  const hostIds = new Map([...existing.hostsByName.values()].map((h) => [h.name, h.id]));
  const appIds = new Map([...existing.appsByName.values()].map((a) => [a.name, a.id]));
  for (const h of rows.hosts) hostIds.set(h.name, randomUUID());
  for (const a of rows.applications) appIds.set(a.name, randomUUID());
  if (rows.hosts.length) {
    await db.host.createMany({ data: rows.hosts.map((h) => ({ id: hostIds.get(h.name)!, ...hostData(h) })) });
    const nics = rows.hosts.flatMap((h) => h.nics.map((n, position) => ({ ...n, position, hostId: hostIds.get(h.name)! })));
    if (nics.length) await db.nic.createMany({ data: nics });
  }
  if (rows.applications.length) {
    await db.application.createMany({ data: rows.applications.map((a) => ({ id: appIds.get(a.name)!, ...appData(a, hostIds.get(a.host)!) })) });
    const now = sqliteDateTime(new Date());
    const options = rows.applications.flatMap((a) => a.options.map((o) => [randomUUID(), appIds.get(a.name)!, o.dn, o.section, o.name, o.value, now]));
    await bulkInsert(db, "OptionValue", ["id", "applicationId", "dn", "section", "name", "value", "updatedAt"], options);
  }
  if (rows.pairs.length) {
    await db.haPair.createMany({
      data: rows.pairs.map(({ primary, backup, ...rest }) => ({
        ...rest,
        primaryAppId: appIds.get(primary)!,
        backupAppId: appIds.get(backup)!,
        haSecret: keepSecrets.get(rest.name) || newHaSecret(),
      })),
    });
  }
  return { hostIds, appIds };
}

/**
 * Writes a pair. A new pair gets `haSecret` when given (an import re-creating a stored pair keeps its
 * secret, so the running servers' HA link stays authenticated) or a new random one; an update never
 * touches the secret.
 */
export async function writePair(db: DbTx, id: string | null, pair: PairShape, primaryAppId: string, backupAppId: string, haSecret?: string): Promise<string> {
  const { primary: _p, backup: _b, ...rest } = pair;
  const data = { ...rest, primaryAppId, backupAppId };
  if (id === null) return (await db.haPair.create({ data: { ...data, haSecret: haSecret || newHaSecret() }, select: { id: true } })).id;
  await db.haPair.update({ where: { id }, data });
  return id;
}

export async function deleteHost(db: DbTx, id: string) {
  await db.host.delete({ where: { id } });
}
export async function deleteApplication(db: DbTx, id: string) {
  await db.application.delete({ where: { id } });
}
export async function deletePair(db: DbTx, id: string) {
  await db.haPair.delete({ where: { id } });
}

/** Rows for list pages, with ids and the relations the pages show. */
export async function listHosts(db: DbTx) {
  return db.host.findMany({
    select: { ...hostSelect, updatedAt: true, _count: { select: { applications: true } } },
    orderBy: { name: "asc" },
  });
}

export async function listApplications(db: DbTx) {
  const rows = await db.application.findMany({
    select: {
      ...appSelect,
      hostId: true,
      updatedAt: true,
      primaryOfPair: { select: { id: true, name: true } },
      backupOfPair: { select: { id: true, name: true } },
    },
    orderBy: { name: "asc" },
  });
  return rows.map((row) => ({ ...row, restartPolicy: restartPolicyOf(row) }));
}

export async function listPairs(db: DbTx) {
  return db.haPair.findMany({
    select: {
      ...pairSelect,
      primaryApp: { select: { id: true, name: true, host: { select: { id: true, name: true } } } },
      backupApp: { select: { id: true, name: true, host: { select: { id: true, name: true } } } },
      updatedAt: true,
    },
    orderBy: { name: "asc" },
  });
}

/** A pair's id from its name or its id (the REST API and the CLI name pairs the way people do). */
export async function findPairId(db: DbTx, nameOrId: string): Promise<string | null> {
  const row = await db.haPair.findFirst({ where: { OR: [{ name: nameOrId }, { id: nameOrId }] }, select: { id: true } });
  return row?.id ?? null;
}
