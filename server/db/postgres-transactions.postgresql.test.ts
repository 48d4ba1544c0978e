// PostgreSQL only (the "postgresql" vitest project; the "sqlite" project leaves *.postgresql.test.ts
// out): every interactive transaction ends on the server and gives its pooled connection back,
// whatever happens to it — its callback throws, it times out, its connection is killed, or the client
// disconnects while it waits for the transaction lock (server/db.ts, createPostgresDb). A transaction
// left behind kept the advisory lock "idle in transaction" and $disconnect waited for it forever.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { createDb, POSTGRES_TRANSACTION_LOCK, type Db } from "../db";
import { createTestDatabase, type TestDatabase } from "../test-database";

let dir: string;
let admin: pg.Client;
const databases: TestDatabase[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-pg-tx-"));
  admin = new pg.Client({ connectionString: inject("postgresAdminUrl") });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
  for (const d of databases) await d.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function fresh(): Promise<{ url: string; name: string }> {
  const d = await createTestDatabase(dir, { dialect: "postgresql" });
  databases.push(d);
  return { url: d.url, name: new URL(d.url).pathname.slice(1) };
}

interface Session {
  pid: number;
  state: string | null;
  query: string;
  waiting: boolean;
}

/** The sessions connected to a database (seen from the admin connection). */
async function sessions(database: string): Promise<Session[]> {
  const { rows } = await admin.query<Session>(
    "SELECT pid, state, query, wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    [database],
  );
  return rows;
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((r) => setTimeout(r, 20));
}

/** Backends of a closed pool leave pg_stat_activity shortly after their connection closed. */
async function noSessionsLeft(database: string): Promise<void> {
  await until(async () => (await sessions(database)).length === 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A transaction that runs past its timeout: it queries until Prisma has rolled it back. */
function timingOut(db: Db, name: string): Promise<unknown> {
  return db.$transaction(
    async (tx) => {
      await tx.host.create({ data: { name } });
      for (;;) {
        await sleep(20);
        await tx.host.count();
      }
    },
    { timeout: 100 },
  );
}

it("transactions that throw, time out or succeed, then a disconnect while others wait for the lock: all end, the disconnect completes", async () => {
  const { url, name } = await fresh();
  const db = createDb(url);
  const outcomes: Promise<unknown>[] = [];
  for (let round = 0; round < 3; round++) {
    outcomes.push(
      db.$transaction(async (tx) => {
        await tx.host.create({ data: { name: `throws-${round}` } });
        throw new Error("the callback failed");
      }),
      timingOut(db, `times-out-${round}`),
      db.$transaction(async (tx) => void (await tx.host.create({ data: { name: `commits-${round}` } }))),
      // A failing statement inside the transaction.
      db.$transaction(async (tx) => {
        await tx.host.create({ data: { name: `duplicate-${round}` } });
        await tx.host.create({ data: { name: `duplicate-${round}` } });
      }),
    );
  }
  const settled = await Promise.allSettled(outcomes);
  expect(settled.map((s) => s.status)).toEqual(Array.from({ length: 3 }, () => ["rejected", "rejected", "fulfilled", "rejected"]).flat());
  expect((await db.host.findMany({ orderBy: { name: "asc" } })).map((h) => h.name)).toEqual(["commits-0", "commits-1", "commits-2"]);

  // One transaction holds the lock; five more wait for it on the server when the client disconnects.
  let holding!: () => void;
  const held = new Promise<void>((r) => (holding = r));
  let letGo!: () => void;
  const goOn = new Promise<void>((r) => (letGo = r));
  const holder = db.$transaction(async (tx) => {
    await tx.host.create({ data: { name: "holder" } });
    holding();
    await goOn;
    await tx.host.count();
  });
  await held;
  const waiters = Array.from({ length: 5 }, (_, i) => db.$transaction(async (tx) => void (await tx.host.create({ data: { name: `waiter-${i}` } }))));
  await until(async () => (await sessions(name)).filter((s) => s.waiting && s.query.includes(`pg_advisory_xact_lock(${POSTGRES_TRANSACTION_LOCK})`)).length === 5);
  const ended = Promise.allSettled([holder, ...waiters]);
  const disconnected = db.$disconnect();
  letGo();
  await disconnected;
  expect((await ended).map((s) => s.status)).toEqual(Array(6).fill("rejected"));
  await noSessionsLeft(name);

  // Nothing the disconnect cut short was committed.
  const after = createDb(url);
  try {
    expect((await after.host.findMany({ orderBy: { name: "asc" } })).map((h) => h.name)).toEqual(["commits-0", "commits-1", "commits-2"]);
  } finally {
    await after.$disconnect();
  }
});

it("a transaction whose connection is killed gives its pooled connection back: more of them than the pool holds, then transactions still run", async () => {
  const { url, name } = await fresh();
  const db = createDb(url);
  // The pool holds 10 connections (pg's default); each kill used to keep one for good.
  for (let i = 0; i < 12; i++) {
    await expect(
      db.$transaction(async (tx) => {
        const [row] = await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
        await admin.query("SELECT pg_terminate_backend($1)", [row!.pid]);
        await tx.host.count();
      }),
    ).rejects.toThrow();
  }
  await db.$transaction(async (tx) => void (await tx.host.create({ data: { name: "after-kills" } })));
  expect(await db.host.count()).toBe(1);
  expect((await sessions(name)).filter((s) => s.state === "idle in transaction")).toEqual([]);
  await db.$disconnect();
  await noSessionsLeft(name);
});
