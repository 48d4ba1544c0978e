// Unit tests (*.test.ts) and integration tests (*.integration.test.ts) beside the code; browser
// tests live in e2e/ and run with Playwright, not here.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", "e2e/**", ".next/**", "generated/**"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
