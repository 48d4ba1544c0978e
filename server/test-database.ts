// The database a test runs against. The vitest project "sqlite" (every test file) uses a fresh SQLite
// file; the project "postgresql" (the database-facing files, vitest.config.mts) sets
// SWITCHYARD_TEST_DATABASE=postgresql and starts one PostgreSQL server for the run
// (harness/postgres-global-setup.ts), in which each test database is a fresh database of its own.
import path from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import type { Dialect } from "./db/dialect";
import { migrateDatabase } from "./db/migrate";

export const testDialect: Dialect = process.env.SWITCHYARD_TEST_DATABASE === "postgresql" ? "postgresql" : "sqlite";

export interface TestDatabase {
  url: string;
  dialect: Dialect;
  /** Removes the database (PostgreSQL: drops it; SQLite: the caller removes its directory). */
  drop(): Promise<void>;
}

/** The PostgreSQL server the run started: its maintenance database's URL. */
function postgresAdminUrl(): string {
  const url = inject("postgresAdminUrl");
  if (!url) throw new Error("SWITCHYARD_TEST_DATABASE=postgresql but no test PostgreSQL was started: run the tests through vitest.config.mts (project \"postgresql\")");
  return url;
}

async function onAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresAdminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** How long a drop waits for the test's own connections to end before it ends them itself. */
const DROP_WAIT_MS = 10_000;

/**
 * Drops a test database once the connections to it have ended. A connection the server ends (DROP …
 * WITH (FORCE)) errors in whatever process holds it, and a client there without an error listener would
 * fail the run although every test passed: the test's consoles and clients close theirs in their
 * afterAll, which the server sees a moment later. Connections still open after DROP_WAIT_MS are a leak:
 * they are named on stderr, then ended.
 */
async function dropWhenIdle(c: pg.Client, name: string): Promise<void> {
  const deadline = Date.now() + DROP_WAIT_MS;
  for (;;) {
    const { rows } = await c.query<{ application_name: string; state: string | null; query: string }>(
      "SELECT application_name, state, query FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [name],
    );
    if (rows.length === 0) break;
    if (Date.now() > deadline) {
      const what = rows.map((r) => `${r.application_name || "(no name)"} ${r.state ?? "?"}: ${r.query.slice(0, 80)}`).join("; ");
      process.stderr.write(`test database ${name}: ${rows.length} connection(s) still open ${DROP_WAIT_MS} ms after the test ended; ending them: ${what}\n`);
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/**
 * A fresh, empty database of the run's dialect (SQLite: a file in `dir`), migrated unless
 * `migrate: false` (for a console that migrates it itself when it starts).
 */
export async function createTestDatabase(dir: string, opts: { migrate?: boolean; dialect?: Dialect } = {}): Promise<TestDatabase> {
  const dialect = opts.dialect ?? testDialect;
  let db: TestDatabase;
  if (dialect === "sqlite") {
    db = { url: `file:${path.join(dir, `test-${randomBytes(4).toString("hex")}.db`)}`, dialect, drop: async () => {} };
  } else {
    const name = `switchyard_test_${randomBytes(6).toString("hex")}`;
    await onAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
    const url = new URL(postgresAdminUrl());
    url.pathname = `/${name}`;
    db = { url: url.toString(), dialect, drop: () => onAdmin((c) => dropWhenIdle(c, name)) };
  }
  if (opts.migrate ?? true) await migrateDatabase(db.url);
  return db;
}

declare module "vitest" {
  export interface ProvidedContext {
    /** Set by harness/postgres-global-setup.ts in the "postgresql" project. */
    postgresAdminUrl: string;
  }
}
