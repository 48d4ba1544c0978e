// Names ↔ ids of hosts, applications and pairs, from one read of the configuration. Agents speak in
// names (a host's name, an application's name), the controller and the database in ids; every part
// that translates uses this one directory (rebuilt after each configuration change).
import type { DbTx } from "../db";

export interface HostEntry {
  id: string;
  name: string;
}
export interface AppEntry {
  id: string;
  name: string;
  type: string;
  hostId: string;
  hostName: string;
  /** The pair the application is in, or null. */
  pairId: string | null;
  pairName: string | null;
}
export interface PairEntry {
  id: string;
  name: string;
}

export class Directory {
  readonly hostsByName = new Map<string, HostEntry>();
  readonly hostsById = new Map<string, HostEntry>();
  readonly appsByName = new Map<string, AppEntry>();
  readonly appsById = new Map<string, AppEntry>();
  readonly pairsByName = new Map<string, PairEntry>();
  readonly pairsById = new Map<string, PairEntry>();

  constructor(rows: { hosts: HostEntry[]; apps: Omit<AppEntry, "pairId" | "pairName">[]; pairs: (PairEntry & { appIds: string[] })[] }) {
    for (const h of rows.hosts) {
      this.hostsByName.set(h.name, h);
      this.hostsById.set(h.id, h);
    }
    const pairOfApp = new Map<string, PairEntry>();
    for (const p of rows.pairs) {
      const entry = { id: p.id, name: p.name };
      this.pairsByName.set(p.name, entry);
      this.pairsById.set(p.id, entry);
      for (const a of p.appIds) pairOfApp.set(a, entry);
    }
    for (const a of rows.apps) {
      const pair = pairOfApp.get(a.id);
      const entry: AppEntry = { ...a, pairId: pair?.id ?? null, pairName: pair?.name ?? null };
      this.appsByName.set(a.name, entry);
      this.appsById.set(a.id, entry);
    }
  }

  /** The application named so, when it runs on the named host (an agent speaks only for its own host). */
  appOnHost(hostName: string, appName: string): AppEntry | null {
    const app = this.appsByName.get(appName);
    return app && app.hostName === hostName ? app : null;
  }
}

export const emptyDirectory = new Directory({ hosts: [], apps: [], pairs: [] });

/** The rows a directory is made of, as the database gives them (loadDirectory reads only these; the configuration snapshot reads more). */
export interface DirectoryRows {
  hosts: { id: string; name: string }[];
  apps: { id: string; name: string; type: string; host: { id: string; name: string } }[];
  pairs: { id: string; name: string; primaryAppId: string; backupAppId: string }[];
}

export function directoryOf(rows: DirectoryRows): Directory {
  return new Directory({
    hosts: rows.hosts.map((h) => ({ id: h.id, name: h.name })),
    apps: rows.apps.map((a) => ({ id: a.id, name: a.name, type: a.type, hostId: a.host.id, hostName: a.host.name })),
    pairs: rows.pairs.map((p) => ({ id: p.id, name: p.name, appIds: [p.primaryAppId, p.backupAppId] })),
  });
}

export async function loadDirectory(db: DbTx): Promise<Directory> {
  const [apps, hosts, pairs] = await Promise.all([
    db.application.findMany({ select: { id: true, name: true, type: true, host: { select: { id: true, name: true } } } }),
    db.host.findMany({ select: { id: true, name: true } }),
    db.haPair.findMany({ select: { id: true, name: true, primaryAppId: true, backupAppId: true } }),
  ]);
  return directoryOf({ hosts, apps, pairs });
}
