// Unit tests (*.test.ts) and integration tests (*.integration.test.ts) beside the code; browser
// tests live in e2e/ and run with Playwright, not here.
//
// Two projects: "sqlite" runs every test file (SQLite is the embedded default); "postgresql" runs the
// database-facing files again against a real PostgreSQL that the run starts itself from Debian's
// packages (harness/postgres-global-setup.ts; server/test-database.ts picks the database).
// `npx vitest run --project postgresql` runs only those. Files named *.postgresql.test.ts are about
// PostgreSQL itself (sessions, connections) and run in that project only.
import { defineConfig } from "vitest/config";

/** The test files that run on PostgreSQL too: migrations, and every service that reads and writes the database. */
const POSTGRES_TESTS = [
  "server/db/database.integration.test.ts",
  // About PostgreSQL itself (connections, sessions, the server's view of transactions): this project only.
  "**/*.postgresql.test.ts",
  "server/auth/auth.integration.test.ts",
  "server/config/config.integration.test.ts",
  "server/config/servers-config.integration.test.ts",
  "server/transfer/transfer.integration.test.ts",
  "server/alarms/alarms.integration.test.ts",
  "server/alarms/command-reaction.integration.test.ts",
  "server/agent-tokens/agent-tokens.integration.test.ts",
  "server/runtime/runner.integration.test.ts",
  "server/schedule/schedule.integration.test.ts",
  "server/upgrade/upgrade.service.integration.test.ts",
  // The console with its control-plane thread and lab agents: controller state, a 40,000-option import.
  "server/control-plane/control-plane.integration.test.ts",
  // The workflows end to end, among them a console restart that rebuilds roles from the database and the agents.
  "server/runtime/workflows.integration.test.ts",
  // The leadership lease row (issue 17): one holder, a growing term, expiry by the database's clock.
  "server/leader/lease-store.integration.test.ts",
  "server/leader/leader-mirror.integration.test.ts",
  // Three console processes on one PostgreSQL with lab agents: takeover, fencing, followers (this project only).
  "server/leader/console-ha.postgresql.test.ts",
];

const EXCLUDE = ["node_modules/**", "e2e/**", ".next/**", "generated/**"];

export default defineConfig({
  test: {
    exclude: EXCLUDE,
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "sqlite", include: ["**/*.test.ts"], exclude: [...EXCLUDE, "**/*.postgresql.test.ts"] } },
      {
        extends: true,
        test: { name: "postgresql", include: POSTGRES_TESTS, env: { SWITCHYARD_TEST_DATABASE: "postgresql" }, globalSetup: ["harness/postgres-global-setup.ts"] },
      },
    ],
  },
});
