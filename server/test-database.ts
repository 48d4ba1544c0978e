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
    db = { url: url.toString(), dialect, drop: () => onAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => {}) };
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
