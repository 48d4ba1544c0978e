// End-to-end tests in Debian's Chromium (never a downloaded browser) against a production build of
// the console on a fresh SQLite file, started by Playwright.
import { defineConfig } from "@playwright/test";

const port = Number(process.env.E2E_PORT ?? 3211);
export const e2eAdmin = { username: "e2e-admin", password: "e2e-admin-password-1" };

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    },
  },
  webServer: {
    // The console with the demo lab (agents + simulated SIP Servers) on a fresh database.
    command: "rm -rf .tmp/e2e && mkdir -p .tmp/e2e && tsx scripts/e2e-lab.ts",
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    // SIGTERM, not the default SIGKILL: the lab stops its agents, which stop their servers; a killed
    // agent would leave its servers running under their keepers (agents outlive nothing, servers do).
    gracefulShutdown: { signal: "SIGTERM", timeout: 20_000 },
    stdout: "pipe",
    stderr: "pipe",
    env: {
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(port),
      SWITCHYARD_ADMIN_USER: e2eAdmin.username,
      SWITCHYARD_ADMIN_PASSWORD: e2eAdmin.password,
      // Enables the admin-only alarms.injectLogEvent the alarm tests create alarms with.
      SWITCHYARD_TEST_HOOKS: "1",
    },
  },
});
