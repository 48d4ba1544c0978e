// A real agent with a token made in the console connects; revoking the token closes its session at
// once and its reconnection is refused (the health file says so).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startConsole, type RunningConsole } from "../console";
import { createCaller } from "../api/root";
import { twoNicHost } from "../test-support";
import { waitFor } from "../../harness/lab-stack";

const root = path.resolve(__dirname, "../..");
let running: RunningConsole;
let dir: string;
let agent: ChildProcess | null = null;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-revoke-"));
  running = await startConsole({
    withPages: false,
    env: { NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", AGENT_PORT: "0", LOG_LEVEL: "warn", DATABASE_URL: `file:${path.join(dir, "c.db")}`, SWITCHYARD_ADMIN_USER: "root", SWITCHYARD_ADMIN_PASSWORD: "root-password-123" },
  });
});
afterAll(async () => {
  if (agent && agent.exitCode === null) {
    const exited = new Promise((r) => agent!.once("exit", r));
    agent.kill("SIGTERM");
    await exited;
  }
  await running.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

it("revoking an agent token drops the agent's live session and its reconnection is refused", async () => {
  const admin = await running.services.db.user.findUniqueOrThrow({ where: { username: "root" } });
  const caller = createCaller({
    services: running.services,
    user: { id: admin.id, username: "root", role: "admin" },
    sessionId: null,
    ip: "127.0.0.1",
    userAgent: "vitest",
    cookies: { setSession: () => {}, clearSession: () => {} },
  });
  const hostId = await caller.hosts.create(twoNicHost("revoke-host", "10.44.0.1", "10.44.1.1"));
  const { id, token } = await caller.agentTokens.create({ hostId, label: "test" });
  const tokenFile = path.join(dir, "agent.token");
  fs.writeFileSync(tokenFile, token, { mode: 0o600 });
  const stateDir = path.join(dir, "agent");
  agent = spawn(process.execPath, ["--import", "tsx", path.join(root, "agent", "main.ts"), "--console", running.agentUrl!, "--host", "revoke-host", "--token-file", tokenFile, "--state-dir", stateDir, "--initial-backoff-ms", "100", "--max-backoff-ms", "500"], { cwd: root, stdio: "ignore" });
  const gateway = running.services.controlPlane;
  await waitFor("the agent to connect", () => gateway.host("revoke-host")?.socketOpen);

  await caller.agentTokens.revoke({ id });
  await waitFor("the session to close", () => gateway.host("revoke-host")?.socketOpen === false);
  const health = await waitFor("the agent to report the refusal", () => {
    try {
      const h = JSON.parse(fs.readFileSync(path.join(stateDir, "health.json"), "utf8")) as { connection: string; reason: string };
      return h.connection === "refused" ? h : undefined;
    } catch {
      return undefined;
    }
  });
  expect(health.reason).toMatch(/unknown or revoked/);
  expect(gateway.host("revoke-host")?.socketOpen).toBe(false);
});
