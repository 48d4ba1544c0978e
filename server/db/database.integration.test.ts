// The database layer on the run's dialect (SQLite in the "sqlite" vitest project, a real PostgreSQL in
// "postgresql"; server/test-database.ts): the committed migrations build from empty exactly the schema
// prisma/schema.prisma describes, apply once, refuse an edited migration; raw bulk inserts read back
// through Prisma; and transactions run one at a time, as the code written for SQLite expects.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../db";
import { listMigrations, migrateDatabase, migrationFile, migrationsDir } from "./migrate";
import { bulkInsert, sqliteDateTime } from "./bulk-insert";
import { sqlitePath } from "./sqlite-url";
import { createTestDatabase, testDialect, type TestDatabase } from "../test-database";
import { toPostgresSchema } from "../../scripts/postgres-schema";

const root = path.resolve(__dirname, "../..");
let dir: string;
const databases: TestDatabase[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-database-"));
});
afterAll(async () => {
  for (const d of databases) await d.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function fresh(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const d = await createTestDatabase(dir, opts);
  databases.push(d);
  return d;
}

/** Runs SQL on the database directly (not through Prisma): statements, or one query's rows. */
async function onDatabase<T>(url: string, fn: (q: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
  if (testDialect === "sqlite") {
    const db = new Database(sqlitePath(url));
    try {
      // One query (SELECT, PRAGMA) returns its rows; anything else is run as a script.
      return await fn(async (sql) => (/^\s*(SELECT|PRAGMA)\b/i.test(sql) ? (db.prepare(sql).all() as Record<string, unknown>[]) : (db.exec(sql), [])));
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(async (sql) => (await client.query(sql)).rows as Record<string, unknown>[]);
  } finally {
    await client.end();
  }
}

/** Tables, columns (type, nullability, default), indexes and foreign keys, sorted: what to compare. */
async function catalog(url: string): Promise<string[]> {
  return onDatabase(url, async (q) => {
    const lines: string[] = [];
    if (testDialect === "sqlite") {
      const tables = (await q(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_switchyard_migrations'`)).map((r) => String(r.name));
      for (const t of tables) {
        for (const c of await q(`PRAGMA table_info("${t}")`)) lines.push(`column ${t}.${String(c.name)} ${String(c.type)} notnull=${String(c.notnull)} default=${String(c.dflt_value)} pk=${String(c.pk)}`);
        for (const i of await q(`PRAGMA index_list("${t}")`)) {
          const cols = (await q(`PRAGMA index_info("${String(i.name)}")`)).map((c) => String(c.name)).join(",");
          lines.push(`index ${t}.${String(i.name)} unique=${String(i.unique)} (${cols})`);
        }
        for (const f of await q(`PRAGMA foreign_key_list("${t}")`)) lines.push(`fk ${t}.${String(f.from)} -> ${String(f.table)}.${String(f.to)} delete=${String(f.on_delete)} update=${String(f.on_update)}`);
      }
    } else {
      for (const c of await q(`SELECT table_name, column_name, data_type, is_nullable, column_default, datetime_precision FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_switchyard_migrations'`)) {
        lines.push(`column ${String(c.table_name)}.${String(c.column_name)} ${String(c.data_type)}(${String(c.datetime_precision)}) nullable=${String(c.is_nullable)} default=${String(c.column_default)}`);
      }
      for (const i of await q(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_switchyard_migrations'`)) lines.push(`index ${String(i.indexdef)}`);
      for (const f of await q(`SELECT conrelid::regclass AS t, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`)) {
        lines.push(`fk ${String(f.t)}.${String(f.conname)} ${String(f.def)}`);
      }
    }
    return lines.sort();
  });
}

/** The SQL that creates prisma/schema.prisma's tables from nothing, for this dialect, from Prisma's CLI. */
function schemaFromEmptySql(): string {
  let schema = path.join(root, "prisma", "schema.prisma");
  if (testDialect === "postgresql") {
    const file = path.join(dir, "schema.postgresql.prisma");
    fs.writeFileSync(file, toPostgresSchema(fs.readFileSync(schema, "utf8")));
    schema = file;
  }
  return execFileSync(path.join(root, "node_modules", ".bin", "prisma"), ["migrate", "diff", "--from-empty", "--to-schema-datamodel", schema, "--script"], {
    cwd: root,
    encoding: "utf8",
    // The CLI opens DATABASE_URL through prisma.config.ts even to diff two schemas: an existing folder.
    env: { ...process.env, DATABASE_URL: `file:${path.join(dir, "cli.db")}` },
    stdio: ["ignore", "pipe", "pipe"],
  })
    .split("\n")
    .filter((l) => !l.startsWith("Loaded Prisma config"))
    .join("\n");
}

/** Test files under server/ (recursively). */
function testFiles(folder: string): string[] {
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(folder, e.name);
    return e.isDirectory() ? testFiles(full) : e.name.endsWith(".test.ts") ? [path.relative(root, full)] : [];
  });
}

it("every test file on a test console's or a test database runs on PostgreSQL too (vitest.config.mts, POSTGRES_TESTS)", () => {
  const config = fs.readFileSync(path.join(root, "vitest.config.mts"), "utf8");
  const onTestDatabase = testFiles(path.join(root, "server")).filter((f) => /\b(createTestConsole|createTestDatabase)\(/.test(fs.readFileSync(path.join(root, f), "utf8")));
  expect(onTestDatabase.length).toBeGreaterThan(5);
  // *.postgresql.test.ts files are in the project by their name ("**/*.postgresql.test.ts").
  expect(config).toContain(`"**/*.postgresql.test.ts"`);
  expect(onTestDatabase.filter((f) => !f.endsWith(".postgresql.test.ts") && !config.includes(`"${f}"`))).toEqual([]);
});

describe(`migrations (${testDialect})`, () => {
  it("every migration has its SQL for both dialects, under the same names in the same order", () => {
    const names = listMigrations(migrationsDir, "sqlite").map((m) => m.name);
    expect(names.length).toBeGreaterThan(0);
    expect(listMigrations(migrationsDir, "postgresql").map((m) => m.name)).toEqual(names);
    for (const name of names) expect(fs.existsSync(path.join(migrationsDir, name, migrationFile.postgresql)), name).toBe(true);
  });

  it("build an empty database up to exactly the schema prisma/schema.prisma describes, and apply once", async () => {
    const migrated = await fresh({ migrate: false });
    const first = await migrateDatabase(migrated.url);
    expect(first).toEqual({ applied: listMigrations(migrationsDir, testDialect).map((m) => m.name), alreadyApplied: 0 });
    expect(await migrateDatabase(migrated.url)).toEqual({ applied: [], alreadyApplied: first.applied.length });

    const direct = await fresh({ migrate: false });
    const sql = schemaFromEmptySql();
    await onDatabase(direct.url, async (q) => void (await q(sql)));
    const expected = await catalog(direct.url);
    expect(expected.length).toBeGreaterThan(50);
    expect(await catalog(migrated.url)).toEqual(expected);
  });

  it("0005 and 0008 (hand-written on both dialects) keep existing rows and fill their new columns", async () => {
    const migrations = path.join(dir, "upgrade");
    const copy = (names: string[]) => {
      for (const name of names) fs.cpSync(path.join(migrationsDir, name), path.join(migrations, name), { recursive: true });
    };
    const all = listMigrations(migrationsDir, testDialect).map((m) => m.name);
    copy(all.filter((n) => n < "0005"));
    const d = await fresh({ migrate: false });
    await migrateDatabase(d.url, migrations);
    const builtIn = testDialect === "sqlite" ? "1" : "true";
    await onDatabase(d.url, (q) =>
      q(`INSERT INTO "Host" (id, name, "updatedAt") VALUES ('h1', 'host-1', '2024-01-01');
        INSERT INTO "Application" (id, name, type, "hostId", "startArgs", environment, "updatedAt") VALUES
          ('a1', 'sip-1', 'sip-server', 'h1', '[]', '{}', '2024-01-01'), ('a2', 'sip-2', 'sip-server', 'h1', '[]', '{}', '2024-01-01');
        INSERT INTO "OptionValue" (id, "applicationId", section, name, value, "updatedAt") VALUES ('o1', 'a1', 'TServer', 'http-port', '8080', '2024-01-01');
        INSERT INTO "HaPair" (id, name, "haType", "primaryAppId", "backupAppId", "controlDriver", "updatedAt") VALUES ('p1', 'pair-1', 'single-host', 'a1', 'a2', 'none', '2024-01-01');
        INSERT INTO "AlarmCondition" (id, "eventId", "scopeKind", "scopeValues", severity, description, "builtIn", "updatedAt") VALUES
          ('c1', '00-04200', 'any', '[]', 'critical', 'old text', ${builtIn}, '2024-01-01');`),
    );
    copy(all);
    expect((await migrateDatabase(d.url, migrations)).applied).toEqual(all.filter((n) => n >= "0005"));
    const [option, app, pair, condition] = await onDatabase(d.url, async (q) => [
      await q(`SELECT name, value FROM "OptionValue"`),
      await q(`SELECT "restartEnabled", "restartMaxRestarts", "restartBackoffMultiplier", "startupTimeoutMs" FROM "Application" WHERE id = 'a1'`),
      await q(`SELECT "haSecret", "failoverHoldMs" FROM "HaPair" WHERE id = 'p1'`),
      await q(`SELECT "cancelControllerKind" FROM "AlarmCondition" WHERE id = 'c1'`),
    ]);
    expect(option).toEqual([{ name: "http-port", value: "8080" }]);
    expect({ ...app[0], restartEnabled: Boolean(app[0]!.restartEnabled) }).toEqual({ restartEnabled: true, restartMaxRestarts: 5, restartBackoffMultiplier: 2, startupTimeoutMs: 60_000 });
    expect(pair[0]!.haSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(pair[0]!.failoverHoldMs).toBe(30_000);
    expect(condition).toEqual([{ cancelControllerKind: "bind-failed" }]);
  });

  it("refuse to run when an applied migration was edited, and roll back a failing one entirely", async () => {
    const migrations = path.join(dir, "edited");
    const write = (name: string, sql: string) => {
      fs.mkdirSync(path.join(migrations, name), { recursive: true });
      for (const file of Object.values(migrationFile)) fs.writeFileSync(path.join(migrations, name, file), sql);
    };
    write("0001_a", 'CREATE TABLE "A" ("id" TEXT);');
    const d = await fresh({ migrate: false });
    await migrateDatabase(d.url, migrations);
    write("0001_a", 'CREATE TABLE "A" ("id" TEXT, "b" TEXT);');
    await expect(migrateDatabase(d.url, migrations)).rejects.toThrow(/migration 0001_a was changed after it was applied/);

    write("0001_a", 'CREATE TABLE "A" ("id" TEXT);');
    write("0002_b", 'CREATE TABLE "B" ("id" TEXT); INSERT INTO "NoSuchTable" VALUES (1);');
    await expect(migrateDatabase(d.url, migrations)).rejects.toThrow(/NoSuchTable/);
    const tables = await onDatabase(d.url, (q) =>
      testDialect === "sqlite" ? q(`SELECT name FROM sqlite_master WHERE name = 'B'`) : q(`SELECT table_name FROM information_schema.tables WHERE table_name = 'B'`),
    );
    expect(tables).toEqual([]);
  });
});

describe(`the Prisma client (${testDialect})`, () => {
  let db: Db;
  beforeAll(async () => {
    db = createDb((await fresh()).url);
  });
  afterAll(async () => {
    await db?.$disconnect();
  });

  it("reads back rows written by bulkInsert (dates, JSON, nulls) in Prisma's order", async () => {
    const older = new Date("2026-01-01T10:00:00.123Z");
    await db.auditEntry.create({ data: { at: new Date("2026-01-01T11:00:00.000Z"), actorName: "prisma", action: "x.create", objectType: "x", objectName: "by-prisma" } });
    await db.$transaction(async (tx) => {
      await bulkInsert(
        tx,
        "AuditEntry",
        ["id", "at", "actorId", "actorName", "action", "objectType", "objectId", "objectName", "before", "after", "detail"],
        [
          ["raw-1", sqliteDateTime(older), null, "raw", "x.update", "x", "o1", "by-raw", JSON.stringify({ a: 1 }), null, "d"],
          ["raw-2", sqliteDateTime(new Date("2026-01-01T12:00:00.000Z")), null, "raw", "x.delete", "x", null, "by-raw-2", null, JSON.stringify(["b"]), ""],
        ],
      );
    });
    const rows = await db.auditEntry.findMany({ orderBy: { at: "asc" } });
    expect(rows.map((r) => r.objectName)).toEqual(["by-raw", "by-prisma", "by-raw-2"]);
    expect(rows[0]).toMatchObject({ id: "raw-1", at: older, actorId: null, before: { a: 1 }, after: null, detail: "d" });
    expect(rows[2]).toMatchObject({ objectId: null, before: null, after: ["b"] });
    expect(await db.auditEntry.count({ where: { at: { gt: older } } })).toBe(2);
  });

  it("reads a time the database fills in itself (DEFAULT CURRENT_TIMESTAMP) as the time it was written", async () => {
    const before = Date.now();
    await db.$executeRaw`INSERT INTO "Host" ("id", "name", "updatedAt") VALUES ('db-default-time', 'db-default-time', ${sqliteDateTime(new Date())})`;
    const after = Date.now();
    const { createdAt } = await db.host.findUniqueOrThrow({ where: { id: "db-default-time" } });
    // SQLite's CURRENT_TIMESTAMP has whole seconds; a session outside UTC would be hours off.
    expect(createdAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(createdAt.getTime()).toBeLessThanOrEqual(after);
  });

  it("runs transactions one at a time: concurrent read-then-write transactions lose no update", async () => {
    const host = await db.host.create({ data: { name: "counter", description: "0" } });
    const increments = 12;
    await Promise.all(
      Array.from({ length: increments }, () =>
        db.$transaction(async (tx) => {
          const { description } = await tx.host.findUniqueOrThrow({ where: { id: host.id } });
          await new Promise((r) => setTimeout(r, 5));
          await tx.host.update({ where: { id: host.id }, data: { description: String(Number(description) + 1) } });
        }),
      ),
    );
    expect((await db.host.findUniqueOrThrow({ where: { id: host.id } })).description).toBe(String(increments));
  });

  it("rolls a failing transaction back, and the next one runs", async () => {
    await expect(
      db.$transaction(async (tx) => {
        await tx.host.create({ data: { name: "rolled-back" } });
        await tx.host.create({ data: { name: "rolled-back" } });
      }),
    ).rejects.toThrow(/Unique constraint/);
    expect(await db.host.count({ where: { name: "rolled-back" } })).toBe(0);
    await db.$transaction(async (tx) => void (await tx.host.create({ data: { name: "after" } })));
    expect(await db.host.count({ where: { name: "after" } })).toBe(1);
  });
});
