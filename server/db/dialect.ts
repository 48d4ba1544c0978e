// Which database a DATABASE_URL names: the one place that decides it. `file:` (or no DATABASE_URL:
// the default file) is SQLite through better-sqlite3, the embedded default; `postgresql://` or
// `postgres://` is PostgreSQL through `pg`. The client (server/db.ts) and the migration runner
// (server/db/migrate.ts) both ask here.
export type Dialect = "sqlite" | "postgresql";

export const dialects: readonly Dialect[] = ["sqlite", "postgresql"];

function dialectOrNull(url: string): Dialect | null {
  if (url.startsWith("file:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(url)) return "postgresql";
  return null;
}

/** True when DATABASE_URL names a database this build can use (server/env.ts validates with it). */
export function isDatabaseUrl(url: string): boolean {
  return dialectOrNull(url) !== null;
}

export function dialectOf(url: string): Dialect {
  const dialect = dialectOrNull(url);
  if (dialect) return dialect;
  throw new Error(`DATABASE_URL must be a SQLite file URL (file:./data/switchyard.db) or a PostgreSQL URL (postgresql://user:password@host:5432/db), not ${redactUrl(url)}`);
}

/** The URL with any password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}
