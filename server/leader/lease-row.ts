// The leadership lease row's update rules, pure: what the database does with one acquire or renew
// attempt (server/leader/lease-core.ts decides when to send them). The console's lease keeper runs them
// as single atomic UPDATEs, judged by the database's clock:
//   acquire: UPDATE lease SET holder=me, incarnation=mine, term=term+1, expires=dbNow+ttl
//            WHERE expires < dbNow OR holder IS NULL OR (holder=me AND takeOwn)
//   renew:   UPDATE lease SET expires=dbNow+ttl WHERE holder=me AND incarnation=mine AND term=myTerm
// and answers whether the row changed plus the (holder, term) now in it. The simulation
// (server/simulation/world.ts) runs its lease row through this function, so the SQL and the
// simulated database can be checked against one statement of the rules (lease-row.test.ts).
import type { LeaseHolder } from "./lease-core";

export interface LeaseRow {
  holder: string | null;
  /** The holder's process incarnation: a restarted console has the same id and a new incarnation. */
  incarnation: string | null;
  term: number;
  /** By the database's clock. */
  expiresAtMs: number;
}

export type LeaseAttempt =
  | { kind: "acquire"; holder: string; incarnation: string; takeOwn: boolean; ttlMs: number }
  | { kind: "renew"; holder: string; incarnation: string; term: number; ttlMs: number };

export interface LeaseAttemptResult {
  row: LeaseRow;
  won: boolean;
  /** What the answer tells the lease core (stepLease's "answer" input). */
  lease: LeaseHolder;
}

export const EMPTY_LEASE_ROW: Readonly<LeaseRow> = Object.freeze({ holder: null, incarnation: null, term: 0, expiresAtMs: 0 });

/** One attempt against the row at the database's time dbNowMs: the new row (the old one when nothing matched) and the answer. */
export function applyLeaseAttempt(row: LeaseRow, attempt: LeaseAttempt, dbNowMs: number): LeaseAttemptResult {
  const mine = row.holder === attempt.holder;
  const sameRun = mine && row.incarnation === attempt.incarnation;
  const matches =
    attempt.kind === "acquire"
      ? // Not "this very run holds it": an acquire that arrives late, after this run took the lease with a
        // later attempt, would raise the term under its own feet (and its next renewal would fail).
        row.expiresAtMs < dbNowMs || row.holder === null || (mine && attempt.takeOwn)
      : sameRun && row.term === attempt.term;
  if (!matches) return { row, won: false, lease: { holder: row.holder, term: row.term } };
  const next: LeaseRow =
    attempt.kind === "acquire"
      ? { holder: attempt.holder, incarnation: attempt.incarnation, term: row.term + 1, expiresAtMs: dbNowMs + attempt.ttlMs }
      : { ...row, expiresAtMs: dbNowMs + attempt.ttlMs };
  return { row: next, won: true, lease: { holder: next.holder, term: next.term } };
}

/** Whether the row's lease is in force at dbNowMs (an acquire by another console would not match). */
export function leaseInForce(row: LeaseRow, dbNowMs: number): boolean {
  return row.holder !== null && !(row.expiresAtMs < dbNowMs);
}
