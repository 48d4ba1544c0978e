// Failed-login limits: in memory on SQLite (one console), in the database on PostgreSQL, where several
// consoles share the counts — with the limits kept per console, a guesser spreading attempts over three
// consoles behind one load balancer had three times LOGIN_MAX_FAILURES.
//
// Two limits lock out: LOGIN_MAX_FAILURES per (client address, user name) and four times that per user
// name from anywhere (a guesser spread over many addresses). The third, four times LOGIN_MAX_FAILURES per
// address across user names, only slows down: behind a proxy without TRUSTED_PROXIES every user shares
// one address, and a guesser trying random names must not lock the admin out of a right password.
//
// An attempt reserves its failure on every limit *before* the password is checked and gets it back when
// the password was right: checking first and counting after let 100 concurrent guesses all through a
// limit of 5, because each was checked before any had failed. The memory store consumes synchronously;
// the PostgreSQL store in one INSERT … ON CONFLICT DO UPDATE … RETURNING per limit, so concurrent
// attempts on any console are counted one after the other by the database.
import pg from "pg";
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { AppError } from "../errors";
import { dialectOf } from "../db/dialect";
import { logger } from "../log";

const log = logger("auth");

export interface LoginLimitSettings {
  loginMaxFailures: number;
  loginWindowSeconds: number;
}

/** A reserved failure: refund() gives it back (the password was right). */
export interface LoginReservation {
  refund(): Promise<void>;
}

interface Limit {
  limiter: RateLimiterAbstract;
  key: string;
}

/** Where the counts live: this process's memory, or a table shared by every console on one PostgreSQL. */
export type LoginLimitStore = { kind: "memory" } | { kind: "postgresql"; pool: pg.Pool };

/** The table the consoles on one PostgreSQL share (rate-limiter-flexible's layout; made on first use, like socket.io's). */
export const LOGIN_LIMITS_TABLE = "login_failure_counts";

/** How many times LOGIN_MAX_FAILURES a user name (from anywhere) and an address (for any name) may fail. */
export const LOGIN_SPREAD_FACTOR = 4;
/**
 * Once an address used up its failures across user names, each further attempt from it waits this
 * long before its password is checked: a name sprayer is slowed down, a right password still gets in.
 */
export const LOGIN_SLOWDOWN_MS = 1_000;

export class LoginLimits {
  private readonly perAddressUser: RateLimiterAbstract;
  private readonly perUser: RateLimiterAbstract;
  private readonly perAddress: RateLimiterAbstract;
  /** Resolves once the store can count (PostgreSQL: its table exists). */
  private readonly ready: Promise<void>;

  constructor(
    settings: LoginLimitSettings,
    /** Injected so tests see the slow-down without waiting for it. */
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    store: LoginLimitStore = { kind: "memory" },
  ) {
    const duration = settings.loginWindowSeconds;
    const limiter = (keyPrefix: string, points: number): RateLimiterAbstract =>
      store.kind === "memory"
        ? new RateLimiterMemory({ keyPrefix, points, duration })
        : new RateLimiterPostgres({ storeClient: store.pool, storeType: "pool", tableName: LOGIN_LIMITS_TABLE, tableCreated: true, keyPrefix, points, duration });
    this.perAddressUser = limiter("login-address-user", settings.loginMaxFailures);
    this.perUser = limiter("login-user", settings.loginMaxFailures * LOGIN_SPREAD_FACTOR);
    this.perAddress = limiter("login-address", settings.loginMaxFailures * LOGIN_SPREAD_FACTOR);
    this.ready = store.kind === "memory" ? Promise.resolve() : createSharedTable(store.pool);
    // A failure here is reported by the first login that waits for it.
    this.ready.catch(() => undefined);
  }

  /**
   * Reserves one failure for this attempt on every limit; throws RATE_LIMITED when a locking limit is
   * used up, and waits LOGIN_SLOWDOWN_MS when only the address's is. Consuming is synchronous in the
   * memory store, so concurrent attempts cannot all pass the check.
   */
  async reserve(address: string, username: string): Promise<LoginReservation> {
    await this.ready;
    const locking: Limit[] = [
      { limiter: this.perAddressUser, key: `${address}|${username}` },
      { limiter: this.perUser, key: username },
    ];
    const slowing: Limit = { limiter: this.perAddress, key: address };
    const all = [...locking, slowing];
    const over = (await Promise.allSettled(all.map((l) => l.limiter.consume(l.key, 1)))).map((o) => {
      if (o.status === "fulfilled") return null;
      if (o.reason instanceof RateLimiterRes) return o.reason;
      throw o.reason; // the store failed (the database is unreachable): not a limit
    });
    // Every limit counted the attempt (a refused consume counts too); one point back on each undoes it.
    const refund = () => Promise.all(all.map((l) => l.limiter.reward(l.key, 1))).then(() => undefined);
    const refusals = over.slice(0, locking.length).filter((r): r is RateLimiterRes => r !== null);
    if (refusals.length) {
      // The attempt is not made, so it is not counted on the limits that still had room.
      await refund();
      const waitMs = Math.max(...refusals.map((r) => r.msBeforeNext));
      throw new AppError("RATE_LIMITED", `too many failed logins; try again in ${Math.ceil(waitMs / 1000)} s`);
    }
    if (over[locking.length]) await this.sleep(LOGIN_SLOWDOWN_MS);
    return { refund };
  }
}

/** Makes the shared table if no console made it yet (two consoles starting at once may both try). */
async function createSharedTable(pool: pg.Pool): Promise<void> {
  try {
    await pool.query(`CREATE TABLE IF NOT EXISTS "${LOGIN_LIMITS_TABLE}" (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`);
  } catch (err) {
    // PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against itself: the loser sees a duplicate type.
    if ((err as { code?: string }).code !== "23505") throw err;
  }
}

/** A console's login limits for its database, and what to close when it stops. */
export function loginLimitsFor(databaseUrl: string, settings: LoginLimitSettings): { limits: LoginLimits; close(): Promise<void> } {
  if (dialectOf(databaseUrl) !== "postgresql") return { limits: new LoginLimits(settings), close: async () => undefined };
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on("error", (err) => log.warn("a connection of the shared login limits failed", { error: err.message }));
  return { limits: new LoginLimits(settings, undefined, { kind: "postgresql", pool }), close: () => pool.end() };
}
