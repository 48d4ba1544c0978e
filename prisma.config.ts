// Prisma CLI configuration: the WebAssembly schema engine and the better-sqlite3 adapter, so that
// nothing is downloaded (see docs/migrations.md).
import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";

// The CLI resolves native engine paths before it reads `engine`; placeholders stop the download attempt.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= "/bin/false";
process.env.PRISMA_QUERY_ENGINE_LIBRARY ??= "/bin/false";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  async adapter() {
    // The CLI is used here to generate clients and compute migrations (docs/migrations.md), which the
    // SQLite adapter does for both dialects; a PostgreSQL DATABASE_URL is the console's, not the CLI's.
    const url = process.env.DATABASE_URL?.startsWith("file:") ? process.env.DATABASE_URL : "file:./data/switchyard.db";
    return new PrismaBetterSQLite3({ url });
  },
});
