// A console killed (kill -9) in the middle of a large import leaves the configuration as it was or as
// the file says, never half of it: the import writes in one SQLite transaction, and SQLite's journal
// undoes an uncommitted one when the next process opens the file. Kill points spread over the import's
// own duration (measured first), most of them late, where the writes are.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { startConsoleProcess, type ConsoleProcess } from "../../harness/console-process";
import { freePort } from "../../harness/lab-stack";
import { largeConfig } from "../../bench/import/run";
import { ApiClient } from "./hostile-support";

const HOSTS = 300;
const OPTIONS_PER_APP = 60;
const admin = { username: "admin", password: "import-kill-password-1" };
const dirs: string[] = [];
let current: ConsoleProcess | null = null;

afterAll(async () => {
  await current?.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function start(dbFile: string): Promise<ConsoleProcess> {
  current = await startConsoleProcess({
    PORT: String(await freePort("127.0.0.1")),
    AGENT_PORT: String(await freePort("127.0.0.1")),
    DATABASE_URL: `file:${dbFile}`,
    SWITCHYARD_ADMIN_USER: admin.username,
    SWITCHYARD_ADMIN_PASSWORD: admin.password,
    SWITCHYARD_CONTROLLER: "false",
    LOG_LEVEL: "warn",
  });
  return current;
}

async function adminClient(url: string): Promise<ApiClient> {
  const client = new ApiClient(url);
  const r = await client.login(admin.username, admin.password);
  if (r.code !== null) throw new Error(`login failed: ${r.code} ${r.message}`);
  return client;
}

/** What the file holds now (the console is not running: read it directly). */
function counts(dbFile: string) {
  const db = new Database(dbFile, { readonly: true });
  try {
    const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      hosts: n(`SELECT count(*) AS n FROM "Host"`),
      applications: n(`SELECT count(*) AS n FROM "Application"`),
      options: n(`SELECT count(*) AS n FROM "OptionValue"`),
      pairs: n(`SELECT count(*) AS n FROM "HaPair"`),
      importAudits: n(`SELECT count(*) AS n FROM "AuditEntry" WHERE "action" = 'config.import'`),
    };
  } finally {
    db.close();
  }
}

describe("import under kill -9", () => {
  it("#13 a console killed at any point of a large import leaves all of it or none of it", async () => {
    const text = largeConfig(HOSTS, OPTIONS_PER_APP);
    const all = { hosts: HOSTS, applications: HOSTS, options: HOSTS * OPTIONS_PER_APP, pairs: HOSTS / 2, importAudits: 1 };
    const none = { hosts: 0, applications: 0, options: 0, pairs: 0, importAudits: 0 };

    // How long the import takes here, on a database of its own.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-import-kill-"));
    dirs.push(dir);
    let c = await start(path.join(dir, "measure.db"));
    const t0 = Date.now();
    const measured = await (await adminClient(c.url)).mutation("config.import", { text, dryRun: false, replace: false });
    const importMs = Date.now() - t0;
    expect(measured.code, measured.message).toBeNull();
    await c.stop();
    expect(counts(path.join(dir, "measure.db"))).toEqual(all);

    const dbFile = path.join(dir, "killed.db");
    const outcomes: string[] = [];
    for (const fraction of [0.3, 0.6, 0.8, 0.9, 0.95, 1.05]) {
      c = await start(dbFile);
      const client = await adminClient(c.url);
      const pending = client.mutation("config.import", { text, dryRun: false, replace: false }).catch(() => null);
      await new Promise((r) => setTimeout(r, Math.round(importMs * fraction)));
      c.signal("SIGKILL");
      await c.stop();
      void pending;
      const after = counts(dbFile);
      outcomes.push(`${fraction}: ${JSON.stringify(after)}`);
      expect([none, all], `killed at ${Math.round(importMs * fraction)} ms of ${importMs} ms: ${JSON.stringify(after)}`).toContainEqual(after);
      if (after.hosts === HOSTS) break; // it committed before the kill: nothing left to probe
    }
    // The database still opens and migrates in a console afterwards.
    c = await start(dbFile);
    const r = await (await adminClient(c.url)).query("hosts.list");
    expect(r.code, outcomes.join("\n")).toBeNull();
    await c.stop();
  }, 300_000);
});
