// The leadership lease in the database: one row (ConsoleLease "controller"), taken and renewed with
// single atomic UPDATEs whose expiry is the DATABASE's clock, so console hosts whose clocks disagree
// cannot both believe they lead. The one place with dialect-specific SQL (the database's time in
// milliseconds); values are bound as parameters by Prisma's SQL template. The decisions (when to try,
// when to step down) are the pure core's (lease-core.ts); this only carries them out.
import crypto from "node:crypto";
import { Prisma } from "../../generated/prisma/client";
import { retryWhileBusy, type Db } from "../db";
import type { Dialect } from "../db/dialect";
import type { LeaseHolder } from "./lease-core";

const LEASE_ID = "controller";

/** The database's clock, in milliseconds since the epoch. */
function dbNowMs(dialect: Dialect): Prisma.Sql {
  return dialect === "postgresql" ? Prisma.raw("CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)") : Prisma.raw("CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)");
}

/** Who this console instance is: its id (stable across its restarts) and this run's incarnation. */
export interface InstanceIdentity {
  id: string;
  incarnation: string;
  webUrl: string;
  agentUrl: string;
}

export interface LeaseRow extends LeaseHolder {
  incarnation: string | null;
  expiresAtMs: number;
  acquiredAtMs: number;
  renewedAtMs: number;
  agentUrl: string | null;
  webUrl: string | null;
  /** The database's clock when the row was read. */
  dbNowMs: number;
}

export interface InstanceRow {
  id: string;
  incarnation: string;
  role: string;
  webUrl: string;
  agentUrl: string;
  startedAtMs: number;
  seenAtMs: number;
}

export interface AttemptAnswer {
  won: boolean;
  lease: LeaseRow;
}

type RawLease = { [K in keyof LeaseRow]: unknown };

function toLease(r: RawLease): LeaseRow {
  return {
    holder: (r.holder as string | null) ?? null,
    incarnation: (r.incarnation as string | null) ?? null,
    term: Number(r.term),
    expiresAtMs: Number(r.expiresAtMs),
    acquiredAtMs: Number(r.acquiredAtMs),
    renewedAtMs: Number(r.renewedAtMs),
    agentUrl: (r.agentUrl as string | null) ?? null,
    webUrl: (r.webUrl as string | null) ?? null,
    dbNowMs: Number(r.dbNowMs),
  };
}

/** How long a bookkeeping write (heartbeat, pruning) on SQLite waits for the web tier's write lock. */
const BOOKKEEPING_MAX_WAIT_MS = 10_000;

export class LeaseStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async read(): Promise<LeaseRow> {
    const rows = await this.db.$queryRaw<RawLease[]>(
      Prisma.sql`SELECT "holder", "incarnation", "term", "expiresAtMs", "acquiredAtMs", "renewedAtMs", "agentUrl", "webUrl", ${dbNowMs(this.dialect)} AS "dbNowMs" FROM "ConsoleLease" WHERE "id" = ${LEASE_ID}`,
    );
    if (!rows[0]) throw new Error("the ConsoleLease row is missing (migration 0012 creates it)");
    return toLease(rows[0]);
  }

  /**
   * Takes the lease at term + 1 when it has expired or nobody holds it — or, with `takeOwn` on its first
   * attempt, when this instance's id holds it (the previous run of this instance is gone, so a console
   * restart does not wait a TTL). Not when this very run holds it: an attempt that arrives late, after
   * a later one of this run won, must not raise the term under its own leader (lease-row.ts).
   */
  async acquire(me: InstanceIdentity, ttlMs: number, takeOwn: boolean): Promise<AttemptAnswer> {
    const now = dbNowMs(this.dialect);
    const changed = await this.db.$executeRaw(Prisma.sql`
      UPDATE "ConsoleLease" SET "holder" = ${me.id}, "incarnation" = ${me.incarnation}, "term" = "term" + 1,
        "expiresAtMs" = ${now} + ${ttlMs}, "acquiredAtMs" = ${now}, "renewedAtMs" = ${now},
        "agentUrl" = ${me.agentUrl}, "webUrl" = ${me.webUrl}, "peerSecret" = COALESCE("peerSecret", ${crypto.randomBytes(32).toString("base64url")})
      WHERE "id" = ${LEASE_ID} AND ("holder" IS NULL OR "expiresAtMs" < ${now} OR ("holder" = ${me.id} AND ${takeOwn ? 1 : 0} = 1))`);
    const lease = await this.read();
    return { won: changed === 1 && lease.holder === me.id && lease.incarnation === me.incarnation, lease };
  }

  /** Extends the lease this instance holds at `term`; refused (won false) when it no longer does. */
  async renew(me: InstanceIdentity, term: number, ttlMs: number): Promise<AttemptAnswer> {
    const now = dbNowMs(this.dialect);
    const changed = await this.db.$executeRaw(Prisma.sql`
      UPDATE "ConsoleLease" SET "expiresAtMs" = ${now} + ${ttlMs}, "renewedAtMs" = ${now}
      WHERE "id" = ${LEASE_ID} AND "holder" = ${me.id} AND "incarnation" = ${me.incarnation} AND "term" = ${term}`);
    if (changed === 1) {
      // The common case answers without a second query: the row is known.
      return { won: true, lease: await this.read() };
    }
    return { won: false, lease: await this.read() };
  }

  /** Gives the lease up at once (a clean stop): a follower takes it at its next attempt instead of after the TTL. */
  async release(me: InstanceIdentity, term: number): Promise<void> {
    await this.db.$executeRaw(Prisma.sql`
      UPDATE "ConsoleLease" SET "expiresAtMs" = 0
      WHERE "id" = ${LEASE_ID} AND "holder" = ${me.id} AND "incarnation" = ${me.incarnation} AND "term" = ${term}`);
  }

  /**
   * The statement a leader runs first in each transaction that saves its decisions: it fails (division
   * by zero) unless this instance still holds the lease at `term`, unexpired by the database's clock,
   * and on PostgreSQL it locks the lease row until the transaction ends — a follower's acquisition waits
   * for the save and loads the state after it, never before. SQLite runs one transaction at a time (the
   * lease's UPDATE needs the same write lock), and has no error to raise from a plain SELECT: there the
   * runner's own mayCommand() check before each step is the fence; null.
   */
  saveFence(me: InstanceIdentity, term: number): ((db: Db) => Prisma.PrismaPromise<unknown>) | null {
    if (this.dialect !== "postgresql") return null;
    const now = dbNowMs(this.dialect);
    return (db) =>
      db.$queryRaw(Prisma.sql`
        SELECT 1 / COUNT(*) AS "held" FROM (
          SELECT 1 FROM "ConsoleLease"
          WHERE "id" = ${LEASE_ID} AND "holder" = ${me.id} AND "incarnation" = ${me.incarnation} AND "term" = ${term} AND "expiresAtMs" > ${now}
          FOR SHARE
        ) AS "lease"`);
  }

  /** The secret followers show the leader's control plane (null before anyone ever led). */
  async peerSecret(): Promise<string | null> {
    const row = await this.db.consoleLease.findUnique({ where: { id: LEASE_ID }, select: { peerSecret: true } });
    return row?.peerSecret ?? null;
  }

  /**
   * A bookkeeping write (not the lease itself): on SQLite the control plane's connection does not wait
   * for the write lock, so while the web tier writes (an import) it is tried again for a while instead
   * of failing with SQLITE_BUSY (db.ts). The lease's own writes are not: the keeper tries them again at
   * its next interval, and a late answer must not be taken for a fresh one.
   */
  private bookkeeping(write: () => Promise<unknown>): Promise<unknown> {
    return this.dialect === "sqlite" ? retryWhileBusy(write, { maxWaitMs: BOOKKEEPING_MAX_WAIT_MS }) : write();
  }

  /** This instance is alive, in this role (every lease interval). */
  async heartbeat(me: InstanceIdentity, role: "leader" | "follower", startedAtMs: number): Promise<void> {
    const now = dbNowMs(this.dialect);
    await this.bookkeeping(() => this.db.$executeRaw(Prisma.sql`
      INSERT INTO "ConsoleInstance" ("id", "incarnation", "role", "webUrl", "agentUrl", "startedAtMs", "seenAtMs")
      VALUES (${me.id}, ${me.incarnation}, ${role}, ${me.webUrl}, ${me.agentUrl}, ${startedAtMs}, ${now})
      ON CONFLICT ("id") DO UPDATE SET "incarnation" = ${me.incarnation}, "role" = ${role}, "webUrl" = ${me.webUrl}, "agentUrl" = ${me.agentUrl}, "startedAtMs" = ${startedAtMs}, "seenAtMs" = ${now}`));
  }

  /** Every instance that said something within `withinMs` by the database's clock, and that clock. */
  async instances(withinMs: number): Promise<{ instances: InstanceRow[]; dbNowMs: number }> {
    const now = dbNowMs(this.dialect);
    const rows = await this.db.$queryRaw<Record<string, unknown>[]>(
      Prisma.sql`SELECT "id", "incarnation", "role", "webUrl", "agentUrl", "startedAtMs", "seenAtMs", ${now} AS "dbNowMs" FROM "ConsoleInstance" WHERE "seenAtMs" > ${now} - ${withinMs} ORDER BY "id"`,
    );
    const dbNow = rows[0] ? Number(rows[0].dbNowMs) : (await this.read()).dbNowMs;
    return {
      dbNowMs: dbNow,
      instances: rows.map((r) => ({
        id: String(r.id),
        incarnation: String(r.incarnation),
        role: String(r.role),
        webUrl: String(r.webUrl),
        agentUrl: String(r.agentUrl),
        startedAtMs: Number(r.startedAtMs),
        seenAtMs: Number(r.seenAtMs),
      })),
    };
  }

  /** Forgets instances not seen for `olderThanMs` (a console that was moved or renamed). */
  async pruneInstances(olderThanMs: number): Promise<void> {
    const now = dbNowMs(this.dialect);
    await this.bookkeeping(() => this.db.$executeRaw(Prisma.sql`DELETE FROM "ConsoleInstance" WHERE "seenAtMs" < ${now} - ${olderThanMs}`));
  }
}
