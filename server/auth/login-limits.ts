// Failed-login limits, in memory (one console process; a Redis store fits rate-limiter-flexible later).
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

export class LoginLimits {
  private readonly perAddressUser: RateLimiterMemory;
  private readonly perAddress: RateLimiterMemory;

  constructor(settings: LoginLimitSettings) {
    const duration = settings.loginWindowSeconds;
    this.perAddressUser = new RateLimiterMemory({ points: settings.loginMaxFailures, duration });
    this.perAddress = new RateLimiterMemory({ points: settings.loginMaxFailures * 4, duration });
  }

  /**
   * Reserves one failure for this attempt on every limit, or throws RATE_LIMITED when one is used up.
   * Consuming is synchronous in the memory store, so concurrent attempts cannot all pass the check.
   */
  async reserve(address: string, username: string): Promise<LoginReservation> {
    const limits: Limit[] = [
      { limiter: this.perAddressUser, key: `${address}|${username}` },
      { limiter: this.perAddress, key: address },
    ];
    const outcomes = await Promise.allSettled(limits.map((l) => l.limiter.consume(l.key, 1)));
    const refund = () => Promise.all(limits.filter((_, i) => outcomes[i]!.status === "fulfilled").map((l) => l.limiter.reward(l.key, 1))).then(() => undefined);
    const refusals = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as unknown] : []));
    if (refusals.length) {
      // The attempt is not made: what it reserved on the other limits is given back.
      await refund();
      const unexpected = refusals.find((r) => !(r instanceof RateLimiterRes));
      if (unexpected) throw unexpected;
      const waitMs = Math.max(...refusals.map((r) => (r as RateLimiterRes).msBeforeNext));
      throw new AppError("RATE_LIMITED", `too many failed logins; try again in ${Math.ceil(waitMs / 1000)} s`);
    }
    return { refund };
  }
}
