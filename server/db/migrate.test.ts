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

  it("0005 keeps every option of existing applications, gives them the default restart policy and each existing pair its own HA secret", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-migrate-"));
    const migrations = path.join(dir, "migrations");
    const all = listMigrations();
    const upTo0004 = all.filter((m) => m.name < "0005");
    for (const m of upTo0004) {
      fs.mkdirSync(path.join(migrations, m.name), { recursive: true });
      fs.writeFileSync(path.join(migrations, m.name, "migration.sql"), m.sql);
    }
    const file = path.join(dir, "x.db");
    migrateSqlite(`file:${file}`, migrations);
    const db = new Database(file);
    db.exec(`INSERT INTO "Host" (id, name, updatedAt) VALUES ('h1', 'host-1', '2024-01-01');
      INSERT INTO "Application" (id, name, type, hostId, startArgs, environment, updatedAt) VALUES
        ('a1', 'sip-1', 'sip-server', 'h1', '[]', '{}', '2024-01-01'), ('a2', 'sip-2', 'sip-server', 'h1', '[]', '{}', '2024-01-01');
      INSERT INTO "OptionValue" (id, applicationId, section, name, value, updatedAt) VALUES ('o1', 'a1', 'TServer', 'http-port', '8080', '2024-01-01');
      INSERT INTO "HaPair" (id, name, haType, primaryAppId, backupAppId, controlDriver, updatedAt) VALUES ('p1', 'pair-1', 'single-host', 'a1', 'a2', 'none', '2024-01-01');`);
    db.close();

    const m0005 = all.find((m) => m.name.startsWith("0005"))!;
    fs.mkdirSync(path.join(migrations, m0005.name));
    fs.writeFileSync(path.join(migrations, m0005.name, "migration.sql"), m0005.sql);
    expect(migrateSqlite(`file:${file}`, migrations).applied).toEqual([m0005.name]);
    const after = new Database(file);
    expect(after.prepare(`SELECT name, value FROM "OptionValue"`).all()).toEqual([{ name: "http-port", value: "8080" }]);
    expect(after.prepare(`SELECT restartEnabled, restartMaxRestarts, restartWindowMs, restartDelayMs, restartDelayMaxMs, restartBackoffMultiplier, startupTimeoutMs FROM "Application" WHERE id = 'a1'`).get()).toEqual({
      restartEnabled: 1,
      restartMaxRestarts: 5,
      restartWindowMs: 600_000,
      restartDelayMs: 1000,
      restartDelayMaxMs: 60_000,
      restartBackoffMultiplier: 2,
      startupTimeoutMs: 60_000,
    });
    const { haSecret } = after.prepare(`SELECT haSecret FROM "HaPair" WHERE id = 'p1'`).get() as { haSecret: string };
    after.close();
    expect(haSecret).toMatch(/^[0-9a-f]{64}$/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
