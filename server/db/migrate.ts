// Applies the committed migrations (prisma/migrations/NNNN_name/) in name order, each in its own
// transaction, recording what was applied. Run on every start, so a fresh DATABASE_URL is created and
// migrated with nothing to do by hand. We run the SQL ourselves because Prisma's `migrate deploy`
// needs a native engine we cannot download, and its WebAssembly engine fails on PostgreSQL
// (docs/migrations.md). Each migration has its SQL per dialect: migration.sql for SQLite,
// postgresql.sql for PostgreSQL; the same names in the same order on both.
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import Database from "better-sqlite3";
import pg from "pg";
import { sqlitePath } from "./sqlite-url";
import { dialectOf, redactUrl, type Dialect } from "./dialect";

export const migrationsDir = path.resolve(__dirname, "../../prisma/migrations");

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

/** The file holding a migration's SQL for each dialect, in its NNNN_name directory. */
export const migrationFile: Record<Dialect, string> = { sqlite: "migration.sql", postgresql: "postgresql.sql" };

/** The migrations (directories with a migration.sql), in name order, with their SQL for this dialect. */
export function listMigrations(dir = migrationsDir, dialect: Dialect = "sqlite"): { name: string; sql: string; checksum: string }[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, migrationFile.sqlite)))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const file = path.join(dir, name, migrationFile[dialect]);
      if (!fs.existsSync(file)) throw new Error(`migration ${name} has no ${migrationFile[dialect]} (its ${dialect} SQL); see docs/migrations.md`);
      const sql = fs.readFileSync(file, "utf8");
      return { name, sql, checksum: crypto.createHash("sha256").update(sql).digest("hex") };
    });
}

/** Brings the database DATABASE_URL names up to date, whichever dialect it is. */
export async function migrateDatabase(url: string, dir = migrationsDir): Promise<MigrationResult> {
  return dialectOf(url) === "postgresql" ? migratePostgres(url, dir) : migrateSqlite(url, dir);
}

/** Held (session-level) while migrating, so consoles starting together against one database migrate it once. */
const POSTGRES_MIGRATION_LOCK = 0x5357_0002;

export async function migratePostgres(url: string, dir = migrationsDir): Promise<MigrationResult> {
  const migrations = listMigrations(dir, "postgresql");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SELECT pg_advisory_lock(${POSTGRES_MIGRATION_LOCK})`);
    await client.query(`CREATE TABLE IF NOT EXISTS "_switchyard_migrations" (
      "name" TEXT NOT NULL PRIMARY KEY, "checksum" TEXT NOT NULL, "appliedAt" TEXT NOT NULL)`);
    const rows = (await client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM "_switchyard_migrations"`)).rows;
    const done = new Map(rows.map((r) => [r.name, r.checksum]));
    const applied: string[] = [];
    for (const m of migrations) {
      const seen = done.get(m.name);
      if (seen !== undefined) {
        if (seen !== m.checksum) {
          throw new Error(`migration ${m.name} was changed after it was applied to ${redactUrl(url)}; add a new migration instead`);
        }
        continue;
      }
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query(`INSERT INTO "_switchyard_migrations" (name, checksum, "appliedAt") VALUES ($1, $2, $3)`, [m.name, m.checksum, new Date().toISOString()]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${m.name} failed on ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      applied.push(m.name);
    }
    return { applied, alreadyApplied: done.size };
  } finally {
    // Ending the session releases the advisory lock too.
    await client.end();
  }
}

export function migrateSqlite(url: string, dir = migrationsDir): MigrationResult {
  const file = sqlitePath(url);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("foreign_keys = ON");
    db.exec(`CREATE TABLE IF NOT EXISTS "_switchyard_migrations" (
      "name" TEXT NOT NULL PRIMARY KEY, "checksum" TEXT NOT NULL, "appliedAt" TEXT NOT NULL)`);
    const done = new Map(
      (db.prepare(`SELECT name, checksum FROM "_switchyard_migrations"`).all() as { name: string; checksum: string }[]).map(
        (r) => [r.name, r.checksum],
      ),
    );
    const applied: string[] = [];
    for (const m of listMigrations(dir)) {
      const seen = done.get(m.name);
      if (seen !== undefined) {
        if (seen !== m.checksum) {
          throw new Error(`migration ${m.name} was changed after it was applied to ${file}; add a new migration instead`);
        }
        continue;
      }
      db.transaction(() => {
        db.exec(m.sql);
        db.prepare(`INSERT INTO "_switchyard_migrations" (name, checksum, appliedAt) VALUES (?, ?, ?)`).run(
          m.name,
          m.checksum,
          new Date().toISOString(),
        );
      })();
      applied.push(m.name);
    }
    return { applied, alreadyApplied: done.size };
  } finally {
    db.close();
  }
}
