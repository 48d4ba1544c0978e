// Applies the committed migrations (prisma/migrations/*/migration.sql) in name order, each in its own
// transaction, recording what was applied. Run on every start, so a fresh DATABASE_URL is created and
// migrated with nothing to do by hand. We run the SQL ourselves because Prisma's `migrate deploy`
// needs a native engine we cannot download (docs/migrations.md); the same runner
// shape works for PostgreSQL with `pg` later.
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import Database from "better-sqlite3";
import { sqlitePath } from "./sqlite-url";

export const migrationsDir = path.resolve(__dirname, "../../prisma/migrations");

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

export function listMigrations(dir = migrationsDir): { name: string; sql: string; checksum: string }[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: crypto.createHash("sha256").update(sql).digest("hex") };
    });
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
