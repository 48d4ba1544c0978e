// Failed-login limits, in memory (one console process; a Redis store fits rate-limiter-flexible later).
//
// Two limits lock out: LOGIN_MAX_FAILURES per (client address, user name) and four times that per user
// name from anywhere (a guesser spread over many addresses). The third, four times LOGIN_MAX_FAILURES per
// address across user names, only slows down: behind a proxy without TRUSTED_PROXIES every user shares
// one address, and a guesser trying random names must not lock the admin out of a right password.
//
// An attempt reserves its failure on every limit *before* the password is checked and gets it back when
// the password was right: checking first and counting after let 100 concurrent guesses all through a
// limit of 5, because each was checked before any had failed.
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { AppError } from "../errors";

export interface LoginLimitSettings {
  loginMaxFailures: number;
  loginWindowSeconds: number;
}

/** A reserved failure: refund() gives it back (the password was right). */
export interface LoginReservation {
  refund(): Promise<void>;
}

interface Limit {
  limiter: RateLimiterMemory;
  key: string;
}

/** How many times LOGIN_MAX_FAILURES a user name (from anywhere) and an address (for any name) may fail. */
export const LOGIN_SPREAD_FACTOR = 4;
/**
 * Once an address used up its failures across user names, each further attempt from it waits this
 * long before its password is checked: a name sprayer is slowed down, a right password still gets in.
 */
export const LOGIN_SLOWDOWN_MS = 1_000;

export class LoginLimits {
  private readonly perAddressUser: RateLimiterMemory;
  private readonly perUser: RateLimiterMemory;
  private readonly perAddress: RateLimiterMemory;

  constructor(
    settings: LoginLimitSettings,
    /** Injected so tests see the slow-down without waiting for it. */
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    const duration = settings.loginWindowSeconds;
    this.perAddressUser = new RateLimiterMemory({ points: settings.loginMaxFailures, duration });
    this.perUser = new RateLimiterMemory({ points: settings.loginMaxFailures * LOGIN_SPREAD_FACTOR, duration });
    this.perAddress = new RateLimiterMemory({ points: settings.loginMaxFailures * LOGIN_SPREAD_FACTOR, duration });
  }

  /**
   * Reserves one failure for this attempt on every limit; throws RATE_LIMITED when a locking limit is
   * used up, and waits LOGIN_SLOWDOWN_MS when only the address's is. Consuming is synchronous in the
   * memory store, so concurrent attempts cannot all pass the check.
   */
  async reserve(address: string, username: string): Promise<LoginReservation> {
    const locking: Limit[] = [
      { limiter: this.perAddressUser, key: `${address}|${username}` },
      { limiter: this.perUser, key: username },
    ];
    const slowing: Limit = { limiter: this.perAddress, key: address };
    const all = [...locking, slowing];
    const over = (await Promise.allSettled(all.map((l) => l.limiter.consume(l.key, 1)))).map((o) => {
      if (o.status === "fulfilled") return null;
      if (o.reason instanceof RateLimiterRes) return o.reason;
      throw o.reason; // the memory store failed: not a limit, a bug
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
