// The migration runner: creates a fresh database, is idempotent, and refuses an edited migration.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { listMigrations, migrateSqlite } from "./migrate";

describe("migrateSqlite", () => {
  it("creates and migrates a new file (and its folder), then does nothing the second time", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-migrate-"));
    const url = `file:${path.join(dir, "nested", "x.db")}`;
    const first = migrateSqlite(url);
    expect(first.applied).toEqual(listMigrations().map((m) => m.name));
    expect(migrateSqlite(url)).toEqual({ applied: [], alreadyApplied: first.applied.length });
    const db = new Database(path.join(dir, "nested", "x.db"));
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type='table'").all() as { name: string }[];
    db.close();
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["User", "Host", "Application", "HaPair", "AuditEntry", "OptionValue"]));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses to run when an applied migration was edited", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-migrate-"));
    const migrations = path.join(dir, "migrations");
    fs.mkdirSync(path.join(migrations, "0001_a"), { recursive: true });
    fs.writeFileSync(path.join(migrations, "0001_a", "migration.sql"), 'CREATE TABLE "A" ("id" TEXT);');
    const url = `file:${path.join(dir, "x.db")}`;
    migrateSqlite(url, migrations);
    fs.writeFileSync(path.join(migrations, "0001_a", "migration.sql"), 'CREATE TABLE "A" ("id" TEXT, "b" TEXT);');
    expect(() => migrateSqlite(url, migrations)).toThrow(/migration 0001_a was changed after it was applied/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
