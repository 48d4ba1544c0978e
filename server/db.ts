// The Prisma client (Rust-free, over a driver adapter). Only repositories import it. DATABASE_URL picks
// the database (server/db/dialect.ts): SQLite through better-sqlite3, the embedded default, or
// PostgreSQL through `pg` (below, createPostgresDb). Both clients come from the one schema and have the
// same models and queries; the rest of the code sees one type, Db.
//
// SQLite: two threads write the one file: the web tier (configuration, audit, alarms) and the control plane
// (epochs, timeline). SQLite has one writer at a time (WAL lets readers go on), so every transaction
// starts with BEGIN IMMEDIATE — it takes the write lock at once, instead of failing with "database is
// locked" when a read transaction tries to become a write — and waits for the lock asynchronously. A
// single statement outside a transaction waits busyTimeoutMs inside SQLite: the web tier lets it
// (5 s); the control plane does not block its thread (0 ms) and retries with retryWhileBusy(), so
// heartbeats keep being handled while the web tier writes.
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client";
import { PrismaClient as PostgresPrismaClient } from "../generated/prisma-pg/client";
import { dialectOf } from "./db/dialect";

export type Db = PrismaClient;
/** A client or the client of an open transaction: what repositories accept. */
export type DbTx = Omit<PrismaClient, "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends">;

/** How long the web tier's connection waits for the write lock before "database is locked". */
export const WEB_BUSY_TIMEOUT_MS = 5_000;
/** How long a transaction may wait for the write lock (asynchronously) before it fails. */
export const WRITE_LOCK_MAX_WAIT_MS = 30_000;
/** How long an interactive transaction may run (a large configuration import is the longest). */
export const TRANSACTION_TIMEOUT_MS = 60_000;

interface SqliteStatement {
  run(): unknown;
}
interface SqliteHandle {
  prepare(sql: string): SqliteStatement;
}
interface Transaction {
  commit(): Promise<void>;
  rollback(): Promise<void>;
}
interface Adapter {
  startTransaction(isolationLevel?: string): Promise<Transaction>;
}

/**
 * Transactions on this connection begin with BEGIN IMMEDIATE, taken by us before the adapter's own
 * (deferred) BEGIN, which becomes a no-op: while another connection holds the write lock we wait
 * asynchronously and try again, and a BEGIN that fails can never leave the adapter's transaction
 * mutex locked (its own BEGIN failing did, and every later transaction on the connection hung).
 */
function immediateTransactions(adapter: Adapter, client: SqliteHandle): void {
  const prepare = client.prepare.bind(client);
  let adapterBeginIsNoOp = false;
  client.prepare = (sql: string) => {
    if (sql === "BEGIN" && adapterBeginIsNoOp) {
      adapterBeginIsNoOp = false;
      return { run: () => ({ changes: 0 }) };
    }
    return prepare(sql);
  };
  // One transaction at a time on this connection: the next waits for the previous to commit or roll back.
  let previous: Promise<void> = Promise.resolve();
  const start = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel?: string) => {
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const before = previous;
    previous = before.then(() => mine);
    await before;
    try {
      await retryWhileBusy(async () => void prepare("BEGIN IMMEDIATE").run(), { maxWaitMs: WRITE_LOCK_MAX_WAIT_MS });
    } catch (err) {
      release();
      throw err;
    }
    adapterBeginIsNoOp = true;
    let tx: Transaction;
    try {
      tx = await start(isolationLevel);
    } catch (err) {
      adapterBeginIsNoOp = false;
      try {
        prepare("ROLLBACK").run();
      } catch {
        // nothing was begun after all
      }
      release();
      throw err;
    }
    const commit = tx.commit.bind(tx);
    const rollback = tx.rollback.bind(tx);
    tx.commit = () => commit().finally(release);
    tx.rollback = () => rollback().finally(release);
    return tx;
  };
}

export function createDb(url: string, opts: { busyTimeoutMs?: number } = {}): Db {
  return dialectOf(url) === "postgresql" ? createPostgresDb(url) : createSqliteDb(url, opts);
}

function createSqliteDb(url: string, opts: { busyTimeoutMs?: number }): Db {
  const factory = new PrismaBetterSQLite3({ url, timeout: opts.busyTimeoutMs ?? WEB_BUSY_TIMEOUT_MS });
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    immediateTransactions(adapter as unknown as Adapter, (adapter as unknown as { client: SqliteHandle }).client);
    return adapter;
  };
  return new PrismaClient({ adapter: factory, transactionOptions: { maxWait: WRITE_LOCK_MAX_WAIT_MS + 1_000, timeout: TRANSACTION_TIMEOUT_MS } });
}

/**
 * Any transaction holds this PostgreSQL advisory lock (pg_advisory_xact_lock, released at commit or
 * rollback) from its start: transactions run one at a time, as SQLite's BEGIN IMMEDIATE makes them
 * run, so code written for SQLite (read, decide, write in one transaction) keeps its meaning under
 * PostgreSQL's default READ COMMITTED. Single statements outside a transaction do not take it.
 */
export const POSTGRES_TRANSACTION_LOCK = 0x5357_0001;

interface PgTransaction {
  executeRaw(query: { sql: string; args: unknown[]; argTypes: unknown[] }): Promise<number>;
}

/**
 * Prisma keeps DateTime in TIMESTAMP(3) columns (no time zone) as UTC; the database's own defaults
 * (DEFAULT CURRENT_TIMESTAMP) follow the session's time zone, so every session is in UTC whatever the
 * server's TimeZone is. A URL that sets `options` itself keeps its own.
 */
export function postgresSessionOptions(url: string): { options?: string } {
  // A transaction left open (its client gone) is ended by the server instead of holding the lock forever.
  return new URL(url).searchParams.has("options") ? {} : { options: `-c TimeZone=UTC -c idle_in_transaction_session_timeout=${TRANSACTION_TIMEOUT_MS * 2}` };
}

function createPostgresDb(url: string): Db {
  const factory = new PrismaPg({ connectionString: url, ...postgresSessionOptions(url) });
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const start = adapter.startTransaction.bind(adapter);
    // Transactions not yet committed or rolled back. Prisma can let go of one whose start resolved as
    // it disconnects; ended here, it does not keep a pooled connection (and the lock) forever.
    const open = new Set<Awaited<ReturnType<typeof start>>>();
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      for (const tx of [...open]) {
        await (tx as unknown as PgTransaction).executeRaw({ sql: "ROLLBACK", args: [], argTypes: [] }).catch(() => {});
        await tx.rollback().catch(() => {});
      }
      await dispose();
    };
    adapter.startTransaction = async (isolationLevel) => {
      const tx = await start(isolationLevel);
      try {
        await (tx as unknown as PgTransaction).executeRaw({ sql: `SELECT pg_advisory_xact_lock(${POSTGRES_TRANSACTION_LOCK})`, args: [], argTypes: [] });
      } catch (err) {
        // The adapter's rollback only returns the connection to the pool: end the transaction first.
        await (tx as unknown as PgTransaction).executeRaw({ sql: "ROLLBACK", args: [], argTypes: [] }).catch(() => {});
        await tx.rollback().catch(() => {});
        throw err;
      }
      open.add(tx);
      const commit = tx.commit.bind(tx);
      const rollback = tx.rollback.bind(tx);
      tx.commit = () => (open.delete(tx), commit());
      tx.rollback = () => (open.delete(tx), rollback());
      return tx;
    };
    return adapter;
  };
  const client = new PostgresPrismaClient({ adapter: factory, transactionOptions: { maxWait: WRITE_LOCK_MAX_WAIT_MS + 1_000, timeout: TRANSACTION_TIMEOUT_MS } });
  // The same models, fields and queries as the SQLite client (one schema): typed as the one Db.
  return client as unknown as Db;
}

/**
 * True for SQLite's "the write lock is held by another connection" (SQLITE_BUSY, which Prisma's
 * adapter reports as a socket timeout: "Operation has timed out").
 */
export function isBusy(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${String((err as { code?: unknown }).code ?? "")} ${JSON.stringify((err as { meta?: unknown }).meta ?? null)}` : String(err);
  return /database is locked|SQLITE_BUSY|Operation has timed out/i.test(text);
}

/**
 * Runs a write, and while another connection holds the write lock, tries again after a short,
 * growing pause (without blocking the thread) until maxWaitMs has passed; then the last error is
 * thrown. Used by the control plane, whose connection does not wait for the lock itself.
 */
export async function retryWhileBusy<T>(write: () => Promise<T>, opts: { maxWaitMs: number; onWait?: (waitedMs: number) => void }): Promise<T> {
  const started = Date.now();
  let pauseMs = 2;
  for (;;) {
    try {
      return await write();
    } catch (err) {
      const waited = Date.now() - started;
      if (!isBusy(err) || waited >= opts.maxWaitMs) throw err;
      opts.onWait?.(waited);
      await new Promise((r) => setTimeout(r, pauseMs));
      pauseMs = Math.min(50, pauseMs * 2);
    }
  }
}
