// The leadership lease's decisions, pure (no clock, no database): what one console instance does given
// the time and what the database answered. Several consoles share one database; exactly one leads —
// runs the agent gateway and the failover controller — by holding a lease row (holder, term, expiry)
// that it renews well inside its TTL. The database judges expiry by its own clock, so consoles whose
// clocks disagree cannot both believe they lead; each console judges its own validity by its own
// monotonic clock from the moment it *sent* the renewal that succeeded (the database's expiry is at
// least that late), and stops commanding a margin before even that. The shell (lease-keeper.ts) runs
// these decisions against the real database; the simulation runs them against its simulated one.
//
// The term only grows: every acquisition takes term + 1. Agents remember the highest term they have
// seen and refuse commands of older ones, so a leader that was paused past its lease and wakes up
// cannot order anything even in the instant before it notices (protocol/agent-wire.ts).

export interface LeaseTiming {
  /** How long a lease lasts after the renewal that set it (judged by the database's clock). */
  ttlMs: number;
  /** How often the leader renews and a follower tries to acquire. */
  renewIntervalMs: number;
  /** The leader stops commanding this long before its lease can have expired (clock rate, messages in flight). */
  safetyMarginMs: number;
}

/**
 * 5 s: a dead leader is replaced within about TTL + one attempt + the agents' resync. Shorter trades
 * leadership flaps on a slow database or a long pause of the leader's control-plane thread for a faster
 * takeover; longer the reverse. Renewals every second leave four tries before the margin.
 */
export const DEFAULT_LEASE_TIMING: Readonly<LeaseTiming> = Object.freeze({ ttlMs: 5_000, renewIntervalMs: 1_000, safetyMarginMs: 1_000 });

/** A lease timing that cannot work is refused with the reason (server/env.ts shows it). */
export function leaseTimingProblem(t: LeaseTiming): string | null {
  if (t.renewIntervalMs <= 0 || t.ttlMs <= 0 || t.safetyMarginMs < 0) return "lease times must be positive";
  if (t.safetyMarginMs + 2 * t.renewIntervalMs > t.ttlMs) {
    return `the lease TTL (${t.ttlMs} ms) must leave at least two renewals (${t.renewIntervalMs} ms each) before its safety margin (${t.safetyMarginMs} ms)`;
  }
  return null;
}

/** What the database holds after an attempt. */
export interface LeaseHolder {
  holder: string | null;
  term: number;
}

export type LeaseState =
  | {
      role: "follower";
      /** When the attempt in flight was sent (null: none). */
      inFlightSentAtMs: number | null;
      nextAttemptAtMs: number;
      /** Who held the lease at the last answer (null: nobody or not known yet). */
      knownHolder: string | null;
      knownTerm: number;
      /** No attempt of this instance has been answered yet: it may take back a lease held under its own id by its previous run. */
      firstAttempt: boolean;
    }
  | {
      role: "leader";
      term: number;
      /** By this instance's monotonic clock: it commands only before this. */
      validUntilMs: number;
      inFlightSentAtMs: number | null;
      nextAttemptAtMs: number;
      /** When this instance took the lease (for the dashboard). */
      sinceMs: number;
    };

export type LeaseInput =
  | { kind: "tick"; nowMs: number }
  /** The database answered the attempt sent at sentAtMs: won (acquired or renewed) or not, and who holds the lease now. */
  | { kind: "answer"; nowMs: number; sentAtMs: number; won: boolean; lease: LeaseHolder }
  /** The attempt sent at sentAtMs failed (the database could not be reached, a query error). */
  | { kind: "failed"; nowMs: number; sentAtMs: number; error: string };

export type LeaseAction =
  /** Try to take the lease (when it has expired, nobody holds it, or — on the first attempt — this instance's own id holds it). */
  | { kind: "acquire"; sentAtMs: number; takeOwn: boolean }
  /** Extend the lease this instance holds at `term`. */
  | { kind: "renew"; sentAtMs: number; term: number }
  /** This instance now leads at `term`: start the control plane. */
  | { kind: "lead"; term: number }
  /** This instance must stop commanding at once (it lost the lease or could not renew in time). */
  | { kind: "step-down"; term: number; reason: string };

export interface LeaseStep {
  state: LeaseState;
  actions: LeaseAction[];
}

export function initialLeaseState(nowMs: number): LeaseState {
  return { role: "follower", inFlightSentAtMs: null, nextAttemptAtMs: nowMs, knownHolder: null, knownTerm: 0, firstAttempt: true };
}

/** Whether this instance may send a command now (the gateway asks before every command). */
export function mayCommand(state: LeaseState, nowMs: number): boolean {
  return state.role === "leader" && nowMs < state.validUntilMs;
}

/** An attempt that has not been answered within the TTL is given up (its late answer is ignored). */
function attemptLost(sentAtMs: number | null, nowMs: number, t: LeaseTiming): boolean {
  return sentAtMs !== null && nowMs - sentAtMs > t.ttlMs;
}

function stepDown(term: number, reason: string, nowMs: number, t: LeaseTiming, holder: LeaseHolder | null): LeaseStep {
  return {
    state: { role: "follower", inFlightSentAtMs: null, nextAttemptAtMs: nowMs + t.renewIntervalMs, knownHolder: holder?.holder ?? null, knownTerm: holder?.term ?? term, firstAttempt: false },
    actions: [{ kind: "step-down", term, reason }],
  };
}

export function stepLease(state: LeaseState, input: LeaseInput, t: LeaseTiming = DEFAULT_LEASE_TIMING): LeaseStep {
  const now = input.nowMs;
  if (input.kind === "tick") {
    if (state.role === "leader") {
      if (now >= state.validUntilMs) {
        return stepDown(state.term, `could not renew the leadership lease in time (valid until ${state.validUntilMs - now} ms ago by this console's clock)`, now, t, null);
      }
      const inFlight = attemptLost(state.inFlightSentAtMs, now, t) ? null : state.inFlightSentAtMs;
      if (inFlight === null && now >= state.nextAttemptAtMs) {
        return { state: { ...state, inFlightSentAtMs: now, nextAttemptAtMs: now + t.renewIntervalMs }, actions: [{ kind: "renew", sentAtMs: now, term: state.term }] };
      }
      return { state: inFlight === state.inFlightSentAtMs ? state : { ...state, inFlightSentAtMs: inFlight }, actions: [] };
    }
    const inFlight = attemptLost(state.inFlightSentAtMs, now, t) ? null : state.inFlightSentAtMs;
    if (inFlight === null && now >= state.nextAttemptAtMs) {
      return { state: { ...state, inFlightSentAtMs: now, nextAttemptAtMs: now + t.renewIntervalMs }, actions: [{ kind: "acquire", sentAtMs: now, takeOwn: state.firstAttempt }] };
    }
    return { state: inFlight === state.inFlightSentAtMs ? state : { ...state, inFlightSentAtMs: inFlight }, actions: [] };
  }

  // An answer to an attempt other than the one in flight (given up, or of an earlier role) changes nothing.
  if (input.sentAtMs !== state.inFlightSentAtMs) return { state, actions: [] };

  if (input.kind === "failed") {
    // The leader keeps its deadline (the tick steps it down when that passes); both try again next interval.
    return { state: { ...state, inFlightSentAtMs: null }, actions: [] };
  }

  const validUntilMs = input.sentAtMs + t.ttlMs - t.safetyMarginMs;
  if (state.role === "leader") {
    if (!input.won) return stepDown(state.term, `the leadership lease is held by ${input.lease.holder ?? "nobody"} at term ${input.lease.term}`, now, t, input.lease);
    if (now >= validUntilMs) {
      // Renewed, but the answer came so late that the lease may be over by the time anything is sent.
      return stepDown(state.term, `renewing the leadership lease took ${now - input.sentAtMs} ms (TTL ${t.ttlMs} ms)`, now, t, input.lease);
    }
    return { state: { ...state, inFlightSentAtMs: null, validUntilMs: Math.max(state.validUntilMs, validUntilMs) }, actions: [] };
  }

  if (!input.won || now >= validUntilMs) {
    return { state: { ...state, inFlightSentAtMs: null, knownHolder: input.lease.holder, knownTerm: input.lease.term, firstAttempt: false }, actions: [] };
  }
  return {
    state: { role: "leader", term: input.lease.term, validUntilMs, inFlightSentAtMs: null, nextAttemptAtMs: input.sentAtMs + t.renewIntervalMs, sinceMs: now },
    actions: [{ kind: "lead", term: input.lease.term }],
  };
}
