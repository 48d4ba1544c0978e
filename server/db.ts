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

/** The adapter's transaction (@prisma/adapter-pg's PgTransaction), as far as this file uses it. */
interface PgTransaction extends Transaction {
  executeRaw(query: { sql: string; args: unknown[]; argTypes: unknown[] }): Promise<number>;
  /** The pooled connection (pg.PoolClient) the transaction runs on. */
  client: { release(err?: Error): void };
  /** Removes the adapter's error listener from that connection. */
  cleanup?: () => void;
}
interface PgAdapter {
  startTransaction(isolationLevel?: string): Promise<Transaction>;
  dispose(): Promise<void>;
}

const statement = (sql: string) => ({ sql, args: [], argTypes: [] });

/**
 * Prisma keeps DateTime in TIMESTAMP(3) columns (no time zone) as UTC; the database's own defaults
 * (DEFAULT CURRENT_TIMESTAMP) follow the session's time zone, so every session is in UTC whatever the
 * server's TimeZone is. A URL that sets `options` itself keeps its own.
 */
export function postgresSessionOptions(url: string): { options?: string } {
  // A last guard, should a transaction ever be left open anyway (ownedTransactions): the server ends it
  // instead of it holding the lock forever. Prisma itself rolls back any transaction after TRANSACTION_TIMEOUT_MS.
  return new URL(url).searchParams.has("options") ? {} : { options: `-c TimeZone=UTC -c idle_in_transaction_session_timeout=${TRANSACTION_TIMEOUT_MS * 2}` };
}

/**
 * Every transaction the pg adapter starts ends on the server and gives its pooled connection back,
 * exactly once, whatever Prisma does with it. The adapter's commit() and rollback() only return the
 * connection to the pool (Prisma sends COMMIT or ROLLBACK itself just before), and Prisma lets go of
 * a transaction without either in two cases:
 * - COMMIT or ROLLBACK fails (the connection was killed, the server restarted): Prisma then never
 *   calls commit()/rollback(), the pool counts the connection as in use for good, and once all ten
 *   are, every transaction waits for a connection forever;
 * - $disconnect cancels the transactions it knows, and one still starting (waiting for a connection
 *   or for the lock) is marked rolled back with nothing to roll back yet. When its start resolves,
 *   Prisma throws ("Transaction in invalid state") and drops it: it stayed idle in transaction after
 *   pg_advisory_xact_lock, holding the lock, so the other waiters never got it and pool.end() (the
 *   adapter's dispose) waited for their connections forever.
 * So: a failed COMMIT or ROLLBACK releases the connection with the error (the pool closes it, which
 * ends the transaction on the server); commit() and rollback() release at most once; a start that
 * resolves while the adapter is being disposed of rolls itself back and fails; and dispose() rolls
 * back what is still open and lets every start finish before it ends the pool.
 */
function ownedTransactions(adapter: PgAdapter): void {
  const start = adapter.startTransaction.bind(adapter);
  const dispose = adapter.dispose.bind(adapter);
  /** Started transactions (lock taken) not released yet, each with its way to roll back. */
  const open = new Map<PgTransaction, () => Promise<void>>();
  const starting = new Set<Promise<unknown>>();
  let disposing = false;

  adapter.startTransaction = (isolationLevel) => {
    const started = (async () => {
      const tx = (await start(isolationLevel)) as PgTransaction;
      const executeRaw = tx.executeRaw.bind(tx);
      let released = false;
      const release = (err?: unknown) => {
        if (released) return;
        released = true;
        open.delete(tx);
        tx.cleanup?.();
        // With an error the pool closes the connection instead of reusing it.
        tx.client.release(err === undefined ? undefined : err instanceof Error ? err : new Error(String(err)));
      };
      const rollBack = async () => {
        if (released) return;
        await executeRaw(statement("ROLLBACK")).then(
          () => release(),
          (err: unknown) => release(err),
        );
      };
      tx.executeRaw = async (query) => {
        try {
          return await executeRaw(query);
        } catch (err) {
          if (query.sql === "COMMIT" || query.sql === "ROLLBACK") release(err);
          throw err;
        }
      };
      tx.commit = async () => release();
      tx.rollback = async () => release();
      try {
        if (disposing) throw new Error("The database client is disconnecting");
        await executeRaw(statement(`SELECT pg_advisory_xact_lock(${POSTGRES_TRANSACTION_LOCK})`));
        if (disposing) throw new Error("The database client is disconnecting");
      } catch (err) {
        await rollBack();
        throw err;
      }
      open.set(tx, rollBack);
      return tx;
    })();
    starting.add(started);
    const done = () => void starting.delete(started);
    started.then(done, done);
    return started;
  };

  adapter.dispose = async () => {
    disposing = true;
    // Prisma has ended every transaction it still knew: what is open now it let go of. Ending those
    // frees the lock for the starts still waiting for it, which then roll themselves back.
    await Promise.all([...open.values()].map((rollBack) => rollBack()));
    await Promise.allSettled([...starting]);
    await Promise.all([...open.values()].map((rollBack) => rollBack()));
    await dispose();
  };
}

function createPostgresDb(url: string): Db {
  const factory = new PrismaPg({ connectionString: url, ...postgresSessionOptions(url) });
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    ownedTransactions(adapter as unknown as PgAdapter);
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
