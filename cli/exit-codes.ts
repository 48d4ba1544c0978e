// The `switchyard` command's exit codes, one meaning each, so scripts can branch on them (documented in
// `switchyard --help` and the README).
export const EXIT = {
  /** Done: the command did what it was asked (a switchover completed, an import checked clean). */
  OK: 0,
  /** Refused or not done: the console or the controller said no (409, 400 with problems), a switchover abandoned or not finished in time. */
  REFUSED: 1,
  /** Wrong use of the command: an unknown flag, a missing argument, an unreadable file. */
  USAGE: 2,
  /** No valid token: none given, unknown, revoked or expired (401), or too many failed attempts (429). */
  AUTH: 3,
  /** The token's role is too low for this (403). */
  FORBIDDEN: 4,
  /** The pair, alarm or route does not exist (404). */
  NOT_FOUND: 5,
  /** The console cannot be reached or failed (connection refused, timeout, 5xx). */
  UNAVAILABLE: 6,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_HELP = `Exit codes:
  0  done
  1  refused or not done (the console said no, a switchover was abandoned or did not finish in time)
  2  wrong use (unknown flag, missing argument, unreadable file)
  3  no valid API token (missing, unknown, revoked, expired, or too many failed attempts)
  4  the token's role is too low
  5  no such pair, alarm or route
  6  console unreachable or failing`;
