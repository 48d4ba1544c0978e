// Turns a Prisma-style SQLite URL (file:./data/x.db) into a filesystem path.
import path from "node:path";

export function sqlitePath(url: string): string {
  if (!url.startsWith("file:")) throw new Error(`DATABASE_URL ${url} is not a SQLite file URL (file:...)`);
  const raw = url.slice("file:".length).split("?")[0]!;
  return path.resolve(raw);
}
