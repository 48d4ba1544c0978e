// The one error family services throw. Each code maps to one tRPC code in one middleware
// (server/api/trpc.ts); messages name the object, the value and the rule that was broken.
export const appErrorCodes = [
  "NOT_FOUND",
  "CONFLICT",
  "INVALID",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "RATE_LIMITED",
] as const;
export type AppErrorCode = (typeof appErrorCodes)[number];

export interface Problem {
  /** Where the problem is: a form field, or a path in an imported file (e.g. applications[2].options.http-port). */
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly problems: Problem[];

  constructor(code: AppErrorCode, message: string, problems: Problem[] = []) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.problems = problems;
  }
}

export const notFound = (what: string) => new AppError("NOT_FOUND", `${what} does not exist`);
export const invalid = (message: string, problems: Problem[] = []) => new AppError("INVALID", message, problems);
export const conflict = (message: string, problems: Problem[] = []) => new AppError("CONFLICT", message, problems);

/** Throws one INVALID error listing every problem, or returns when there are none. */
export function throwIfProblems(problems: Problem[], summary: string): void {
  if (problems.length === 0) return;
  const first = problems[0]!.message;
  const message = problems.length === 1 ? first : `${summary}: ${problems.length} problems, first: ${first}`;
  throw new AppError("INVALID", message, problems);
}
