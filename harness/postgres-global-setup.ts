// vitest globalSetup of the "postgresql" project: one PostgreSQL server for the whole run, from
// Debian's packages (harness/postgres-server.ts), stopped when the run ends. Test files get its URL
// through inject("postgresAdminUrl") and make their own database in it (server/test-database.ts).
// If it cannot start (no postgresql package), the run fails here saying what to install.
import type { TestProject } from "vitest/node";
import { startPostgresServer } from "./postgres-server";

export default async function setup(project: TestProject): Promise<() => void> {
  const server = await startPostgresServer();
  project.provide("postgresAdminUrl", server.adminUrl);
  return () => server.stop();
}
