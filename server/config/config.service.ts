// Configuration changes: hosts, applications, options and HA pairs. Each change loads the current
// snapshot inside one transaction, applies the change in memory, checks it with the shared rules
// (rules.ts), writes it and records the audit entry in the same transaction: nothing half-written,
// nothing unaudited.
import type { Db, DbTx } from "../db";
import { AppError, conflict, notFound, throwIfProblems, type Problem } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.repository";
import * as repo from "./config.repository";
import { applicationProblems, hostProblems, hostUsers, pairProblems } from "./rules";
import { deliveryProblems, touchedHosts, type ChangedObjects } from "./delivery-check";
import { defaultRestartPolicy, type ApplicationShape, type ConfigSnapshot, type HostShape, type PairShape } from "./config.schema";
import { DEFAULT_STARTUP_TIMEOUT_MS } from "../../protocol/agent-wire";
import { validateOption } from "../../lib/options-catalogue";
import { withArticle } from "../../lib/words";

type Tx = DbTx;

async function inTransaction<T>(db: Db, fn: (tx: Tx, snap: repo.IdentifiedSnapshot) => Promise<T>): Promise<T> {
  return db.$transaction(async (tx) => fn(tx, await repo.loadSnapshot(tx)));
}

function nameOf(byId: ReadonlyMap<string, { name: string }>, id: string, what: string): string {
  const entry = byId.get(id);
  if (!entry) throw notFound(`${what} ${id}`);
  return entry.name;
}

/**
 * After the rules: refuses a change whose host configuration the agents would refuse (the wire schema's
 * message), so it is never stored only to be logged later as "not pushed".
 */
function throwIfUndeliverable(next: ConfigSnapshot, changed: ChangedObjects, summary: string): void {
  throwIfProblems(deliveryProblems(next, touchedHosts(next, changed)), summary);
}

function nameTaken(kind: string, name: string, byName: ReadonlyMap<string, { id: string }>, selfId: string | null): Problem[] {
  const existing = byName.get(name)?.id;
  return existing !== undefined && existing !== selfId ? [{ path: "name", message: `${withArticle(kind)} named ${name} already exists` }] : [];
}

// ---- hosts ----------------------------------------------------------------------------------

export async function saveHost(db: Db, actor: Actor, id: string | null, host: HostShape): Promise<string> {
  return inTransaction(db, async (tx, snap) => {
    const before = id === null ? undefined : snap.hosts.find((h) => h.name === nameOf(snap.directory.hostsById, id, "host"));
    throwIfProblems([...nameTaken("host", host.name, snap.directory.hostsByName, id), ...hostProblems(host)], `host ${host.name}`);
    const renamed = (name: string) => (before && name === before.name ? host.name : name);
    const next: ConfigSnapshot = {
      ...snap,
      hosts: [...snap.hosts.filter((h) => h.name !== before?.name), host],
      applications: snap.applications.map((a) => ({ ...a, host: renamed(a.host) })),
    };
    throwIfUndeliverable(next, { hosts: [host.name] }, `host ${host.name}`);
    const savedId = await repo.writeHost(tx, id, host);
    await recordAudit(tx, actor, {
      action: id === null ? "host.create" : "host.update",
      objectType: "host",
      objectId: savedId,
      objectName: host.name,
      before,
      after: host,
    });
    return savedId;
  });
}

export async function deleteHost(db: Db, actor: Actor, id: string): Promise<void> {
  await inTransaction(db, async (tx, snap) => {
    const name = nameOf(snap.directory.hostsById, id, "host");
    const users = hostUsers(name, snap);
    if (users.length) throw conflict(`host ${name} is in use by ${users.join(", ")}; move or delete them first`);
    await repo.deleteHost(tx, id);
    await recordAudit(tx, actor, { action: "host.delete", objectType: "host", objectId: id, objectName: name, before: snap.hosts.find((h) => h.name === name) });
  });
}

// ---- applications ---------------------------------------------------------------------------

/** An application as the UI, the API and tests give it; a missing restart policy or startup timeout takes the default. */
export type ApplicationInput = Omit<ApplicationShape, "host" | "restartPolicy" | "startupTimeoutMs"> & {
  hostId: string;
  restartPolicy?: ApplicationShape["restartPolicy"];
  startupTimeoutMs?: number;
};

export async function saveApplication(db: Db, actor: Actor, id: string | null, input: ApplicationInput): Promise<string> {
  return inTransaction(db, async (tx, snap) => {
    const { hostId, ...rest } = input;
    const hostName = nameOf(snap.directory.hostsById, hostId, "host");
    const before = id === null ? undefined : snap.applications.find((a) => a.name === nameOf(snap.directory.appsById, id, "application"));
    // Options are edited through setOptions; an update keeps the stored ones unless given.
    const app = normaliseOptions({
      ...rest,
      restartPolicy: rest.restartPolicy ?? defaultRestartPolicy,
      startupTimeoutMs: rest.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS,
      host: hostName,
      options: id !== null && input.options.length === 0 ? (before?.options ?? []) : input.options,
    });
    const others = snap.applications.filter((a) => a.name !== before?.name);
    const next = { ...snap, applications: [...others, app], pairs: renamePairRefs(snap.pairs, before?.name, app.name) };
    throwIfProblems([...nameTaken("application", app.name, snap.directory.appsByName, id), ...applicationProblems(app, next)], `application ${app.name}`);
    throwIfUndeliverable(next, { applications: [app.name] }, `application ${app.name}`);
    const savedId = await repo.writeApplication(tx, id, app, hostId);
    await recordAudit(tx, actor, {
      action: id === null ? "application.create" : "application.update",
      objectType: "application",
      objectId: savedId,
      objectName: app.name,
      before,
      after: app,
    });
    return savedId;
  });
}

function renamePairRefs(pairs: PairShape[], from: string | undefined, to: string): PairShape[] {
  if (!from || from === to) return pairs;
  return pairs.map((p) => ({ ...p, primary: p.primary === from ? to : p.primary, backup: p.backup === from ? to : p.backup }));
}

export async function deleteApplication(db: Db, actor: Actor, id: string): Promise<void> {
  await inTransaction(db, async (tx, snap) => {
    const name = nameOf(snap.directory.appsById, id, "application");
    const pair = snap.pairs.find((p) => p.primary === name || p.backup === name);
    if (pair) throw conflict(`application ${name} belongs to pair ${pair.name}; delete the pair first`);
    await repo.deleteApplication(tx, id);
    await recordAudit(tx, actor, {
      action: "application.delete",
      objectType: "application",
      objectId: id,
      objectName: name,
      before: snap.applications.find((a) => a.name === name),
    });
  });
}

export interface OptionChange {
  dn: string;
  section: string;
  name: string;
  /** null removes the option (it falls back to the catalogue default). */
  value: string | null;
}

function applyOptionChanges(app: ApplicationShape, changes: readonly OptionChange[]): ApplicationShape {
  let options = [...app.options];
  for (const c of changes) {
    const same = (o: ApplicationShape["options"][number]) => o.dn === c.dn && o.section === c.section && o.name === c.name;
    options = options.filter((o) => !same(o));
    if (c.value !== null) options.push({ dn: c.dn, section: c.section, name: c.name, value: c.value });
  }
  return { ...app, options };
}

/** Normalised values (booleans lower-cased, numbers trimmed) are what is stored. */
export function normaliseOptions(app: ApplicationShape): ApplicationShape {
  const options = app.options.map((o) => {
    const check = validateOption(o.name, o.value, o.dn === "" ? "application" : "dn");
    return check.ok ? { ...o, value: check.value } : o;
  });
  return { ...app, options };
}

async function writeOptionChanges(
  tx: Tx,
  actor: Actor,
  snap: repo.IdentifiedSnapshot,
  appName: string,
  changes: readonly OptionChange[],
  pathPrefix: string,
): Promise<Problem[]> {
  const before = snap.applications.find((a) => a.name === appName)!;
  const after = normaliseOptions(applyOptionChanges(before, changes));
  const next = { ...snap, applications: snap.applications.map((a) => (a.name === appName ? after : a)) };
  const problems = applicationProblems(after, next).map((p) => {
    const m = /^options\[(\d+)\]$/.exec(p.path);
    const o = m ? after.options[Number(m[1])] : undefined;
    const path = o ? `${o.dn ? `dns.${o.dn}.` : ""}${o.section}.${o.name}` : p.path;
    return { path: `${pathPrefix}${path}`, message: p.message };
  });
  if (problems.length) return problems;
  const undeliverable = deliveryProblems(next, touchedHosts(next, { applications: [appName] }));
  if (undeliverable.length) return undeliverable.map((p) => ({ path: `${pathPrefix}${p.path}`, message: p.message }));
  const appId = snap.directory.appsByName.get(appName)!.id;
  await repo.writeOptions(tx, appId, after.options);
  for (const c of changes) {
    const old = before.options.find((o) => o.dn === c.dn && o.section === c.section && o.name === c.name);
    if ((old?.value ?? null) === c.value) continue;
    await recordAudit(tx, actor, {
      action: c.value === null ? "option.delete" : "option.set",
      objectType: "application",
      objectId: appId,
      objectName: appName,
      before: old ? { value: old.value } : undefined,
      after: c.value === null ? undefined : { value: c.value },
      detail: `${c.dn ? `DN ${c.dn} ` : ""}${c.section}/${c.name}`,
    });
  }
  snap.applications = next.applications;
  return [];
}

export async function setOptions(db: Db, actor: Actor, applicationId: string, changes: OptionChange[]): Promise<void> {
  await inTransaction(db, async (tx, snap) => {
    const name = nameOf(snap.directory.appsById, applicationId, "application");
    const problems = await writeOptionChanges(tx, actor, snap, name, changes, "");
    throwIfProblems(problems, `options of ${name}`);
  });
}

/** Sets one option on several applications: all of them or none. */
export async function bulkSetOption(db: Db, actor: Actor, applicationIds: string[], change: OptionChange): Promise<number> {
  return inTransaction(db, async (tx, snap) => {
    const problems: Problem[] = [];
    for (const id of applicationIds) {
      const name = nameOf(snap.directory.appsById, id, "application");
      problems.push(...(await writeOptionChanges(tx, actor, snap, name, [change], `${name}: `)));
    }
    if (problems.length) {
      // Throwing rolls back the writes already made for earlier applications.
      throw new AppError("INVALID", `${change.name} was not changed on any application: ${problems[0]!.message}`, problems);
    }
    return applicationIds.length;
  });
}

// ---- pairs ----------------------------------------------------------------------------------

export type PairInput = Omit<PairShape, "primary" | "backup"> & { primaryAppId: string; backupAppId: string };

export async function savePair(db: Db, actor: Actor, id: string | null, input: PairInput): Promise<string> {
  return inTransaction(db, async (tx, snap) => {
    const { primaryAppId, backupAppId, ...rest } = input;
    const pair: PairShape = {
      ...rest,
      primary: nameOf(snap.directory.appsById, primaryAppId, "application"),
      backup: nameOf(snap.directory.appsById, backupAppId, "application"),
    };
    const before = id === null ? undefined : snap.pairs.find((p) => p.name === nameOf(snap.directory.pairsById, id, "pair"));
    const next = { ...snap, pairs: [...snap.pairs.filter((p) => p.name !== before?.name), pair] };
    throwIfProblems([...nameTaken("pair", pair.name, snap.directory.pairsByName, id), ...pairProblems(pair, next)], `pair ${pair.name}`);
    throwIfUndeliverable(next, { pairs: [pair.name] }, `pair ${pair.name}`);
    const savedId = await repo.writePair(tx, id, pair, primaryAppId, backupAppId);
    await recordAudit(tx, actor, {
      action: id === null ? "pair.create" : "pair.update",
      objectType: "pair",
      objectId: savedId,
      objectName: pair.name,
      before,
      after: pair,
    });
    return savedId;
  });
}

export async function deletePair(db: Db, actor: Actor, id: string): Promise<void> {
  await inTransaction(db, async (tx, snap) => {
    const name = nameOf(snap.directory.pairsById, id, "pair");
    await repo.deletePair(tx, id);
    await recordAudit(tx, actor, { action: "pair.delete", objectType: "pair", objectId: id, objectName: name, before: snap.pairs.find((p) => p.name === name) });
  });
}
