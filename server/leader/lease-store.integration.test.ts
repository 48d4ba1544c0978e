// The lease row against a real database (SQLite here, PostgreSQL in the postgresql project): one holder
// at a time, the term only grows, expiry judged by the database's clock.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../db";
import { createTestDatabase, testDialect, type TestDatabase } from "../test-database";
import { Prng } from "../simulation/prng";
import { LeaseStore, type InstanceIdentity } from "./lease-store";
import { applyLeaseAttempt, type LeaseAttempt, type LeaseRow } from "./lease-row";

let dir: string;
let database: TestDatabase;
let db: Db;
let store: LeaseStore;

const me = (id: string, incarnation = `${id}-1`): InstanceIdentity => ({ id, incarnation, webUrl: `http://${id}:3000`, agentUrl: `http://${id}:3001` });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-lease-"));
  database = await createTestDatabase(dir);
  db = createDb(database.url);
  store = new LeaseStore(db, testDialect);
});

afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe(`leadership lease in the database (${testDialect}, issue 17)`, () => {
  it("one console takes the lease; another cannot while it is valid; the holder renews it at its term", async () => {
    const a = await store.acquire(me("a"), 60_000, false);
    expect(a.won).toBe(true);
    expect(a.lease).toMatchObject({ holder: "a", term: 1, agentUrl: "http://a:3001", webUrl: "http://a:3000" });
    expect(a.lease.expiresAtMs - a.lease.dbNowMs).toBeGreaterThan(50_000);
    const b = await store.acquire(me("b"), 60_000, true);
    expect(b.won).toBe(false);
    expect(b.lease).toMatchObject({ holder: "a", term: 1 });
    expect((await store.renew(me("a"), 1, 60_000)).won).toBe(true);
    // A renewal at another term, or by another incarnation of the same id, is refused.
    expect((await store.renew(me("a"), 2, 60_000)).won).toBe(false);
    expect((await store.renew(me("a", "a-other"), 1, 60_000)).won).toBe(false);
    expect(await store.peerSecret()).toMatch(/^[A-Za-z0-9_-]{40,}$/);
  });

  it("after it expires (by the database's clock) another console takes it at the next term, and the old holder's renewal fails", async () => {
    expect((await store.renew(me("a"), 1, 1)).won).toBe(true);
    await new Promise((r) => setTimeout(r, 30));
    const b = await store.acquire(me("b"), 60_000, false);
    expect(b).toMatchObject({ won: true, lease: { holder: "b", term: 2 } });
    const renew = await store.renew(me("a"), 1, 60_000);
    expect(renew).toMatchObject({ won: false, lease: { holder: "b", term: 2 } });
  });

  it("a restarted console takes back its own id's lease at once only on its first attempt", async () => {
    expect((await store.acquire(me("b", "b-2"), 60_000, false)).won).toBe(false);
    const back = await store.acquire(me("b", "b-2"), 60_000, true);
    expect(back).toMatchObject({ won: true, lease: { holder: "b", term: 3, incarnation: "b-2" } });
    // The previous incarnation can no longer renew.
    expect((await store.renew(me("b"), 2, 60_000)).won).toBe(false);
  });

  it("a released lease is taken at once by a follower", async () => {
    await store.release(me("b", "b-2"), 3);
    const c = await store.acquire(me("c"), 60_000, false);
    expect(c).toMatchObject({ won: true, lease: { holder: "c", term: 4 } });
  });

  it("a save fenced by the lease is applied for its holder and refused, whole, for a deposed one (PostgreSQL; SQLite has no fence statement)", async () => {
    const held = (await store.read()).holder!;
    const lease = await store.read();
    const holder = { ...me(held, lease.incarnation!), webUrl: "", agentUrl: "" };
    const fenceOf = (who: typeof holder, term: number) => store.saveFence(who, term);
    if (testDialect === "sqlite") {
      expect(fenceOf(holder, lease.term)).toBeNull();
      return;
    }
    const write = (name: string) => db.auditEntry.create({ data: { actorName: "test", action: "fence.test", objectType: "test", objectId: name, objectName: name } });
    await db.$transaction([fenceOf(holder, lease.term)!(db), write("by-holder")]);
    await expect(db.$transaction([fenceOf(holder, lease.term - 1)!(db), write("by-deposed")])).rejects.toThrow(/division by zero/);
    const names = (await db.auditEntry.findMany({ where: { action: "fence.test" }, select: { objectName: true } })).map((r) => r.objectName);
    expect(names).toEqual(["by-holder"]);
  });

  it("lists the instances heard lately, by the database's clock", async () => {
    await store.heartbeat(me("c"), "leader", 1_000);
    await store.heartbeat(me("d"), "follower", 2_000);
    const { instances } = await store.instances(10_000);
    expect(instances.map((i) => [i.id, i.role, i.agentUrl])).toEqual([
      ["c", "leader", "http://c:3001"],
      ["d", "follower", "http://d:3001"],
    ]);
    await new Promise((r) => setTimeout(r, 30));
    expect((await store.instances(1)).instances).toEqual([]);
    await store.pruneInstances(1);
    expect((await store.instances(10_000)).instances).toEqual([]);
  });

  it("the instance heartbeat and pruning wait while the web tier holds the write lock, on a connection that does not wait by itself (the control plane's)", async () => {
    // The control plane's connection fails fast on a held SQLite write lock (busy timeout 0, worker.ts);
    // its bookkeeping writes used to fail with SQLITE_BUSY whenever the web tier was writing.
    const planeDb = createDb(database.url, { busyTimeoutMs: 0 });
    const plane = new LeaseStore(planeDb, testDialect);
    try {
      await store.heartbeat(me("e"), "follower", 1_000);
      let locked!: () => void;
      const lockTaken = new Promise<void>((resolve) => (locked = resolve));
      const webWrite = db.$transaction(async (tx) => {
        await tx.consoleInstance.update({ where: { id: "e" }, data: { role: "leader" } });
        locked();
        await new Promise((r) => setTimeout(r, 300));
      });
      await lockTaken;
      const writes = Promise.all([plane.heartbeat(me("e"), "follower", 2_000), plane.pruneInstances(24 * 3_600_000)]);
      await webWrite;
      await writes;
      const e = (await plane.instances(60_000)).instances.find((i) => i.id === "e");
      expect(e?.role).toBe("follower");
      expect(e?.startedAtMs).toBe(2_000);
    } finally {
      await planeDb.$disconnect();
    }
  });

  it("the row's rules as the simulation runs them (lease-row.ts) give the same answers and rows as this SQL", async () => {
    // 300 seeded attempts by three consoles and their restarts. Expiry is unambiguous by the TTLs: a
    // minute (in force throughout) or minus a minute (over at once).
    const rng = new Prng(17);
    const start = await store.read();
    let model: LeaseRow = { holder: start.holder, incarnation: start.incarnation, term: start.term, expiresAtMs: start.expiresAtMs };
    const seen = new Set<string>();
    for (let n = 0; n < 300; n++) {
      const id = rng.pick(["a", "b", "c"]);
      const incarnation = `${id}-${rng.int(1, 2)}`;
      const ttlMs = rng.chance(0.2) ? -60_000 : 60_000;
      const attempt: LeaseAttempt = rng.chance(0.5)
        ? { kind: "acquire", holder: id, incarnation, takeOwn: rng.chance(0.3), ttlMs }
        : { kind: "renew", holder: id, incarnation, term: Math.max(1, model.term - rng.int(0, 1)), ttlMs };
      const real = attempt.kind === "acquire" ? await store.acquire(me(id, incarnation), ttlMs, attempt.takeOwn) : await store.renew(me(id, incarnation), attempt.term, ttlMs);
      const expected = applyLeaseAttempt(model, attempt, real.lease.dbNowMs);
      const what = `attempt ${n}: ${JSON.stringify(attempt)}`;
      expect({ won: real.won, holder: real.lease.holder, incarnation: real.lease.incarnation, term: real.lease.term }, what).toEqual({
        won: expected.won,
        holder: expected.row.holder,
        incarnation: expected.row.incarnation,
        term: expected.row.term,
      });
      expect(real.lease.expiresAtMs < real.lease.dbNowMs, what).toBe(expected.row.expiresAtMs < real.lease.dbNowMs);
      model = { ...expected.row, expiresAtMs: real.lease.expiresAtMs };
      seen.add(`${attempt.kind}:${real.won}`);
    }
    expect(seen).toEqual(new Set(["acquire:true", "acquire:false", "renew:true", "renew:false"]));
  });
});
