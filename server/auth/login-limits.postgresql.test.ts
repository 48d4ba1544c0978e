// PostgreSQL only (the "postgresql" vitest project): two consoles on one database share the failed-login
// limits (server/auth/login-limits.ts). Kept per console in memory, a guesser whose attempts a load
// balancer spread over two consoles had twice LOGIN_MAX_FAILURES; now the database counts every attempt
// once, whichever console it reached, also when they arrive all at once.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startConsole, type RunningConsole } from "../console";
import { createTestDatabase, type TestDatabase } from "../test-database";
import { ApiClient } from "../security/hostile-support";

const admin = { username: "root", password: "shared-limits-password-1" };
let dir: string;
let database: TestDatabase;
const consoles: RunningConsole[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-pg-login-limits-"));
  database = await createTestDatabase(dir, { dialect: "postgresql", migrate: false });
  for (const name of ["console-a", "console-b"]) {
    consoles.push(
      await startConsole({
        withPages: false,
        env: {
          NODE_ENV: "test",
          HOST: "127.0.0.1",
          PORT: "0",
          LOG_LEVEL: "error",
          DATABASE_URL: database.url,
          SWITCHYARD_CONTROLLER: "false",
          SWITCHYARD_INSTANCE_ID: name,
          SWITCHYARD_ADMIN_USER: admin.username,
          SWITCHYARD_ADMIN_PASSWORD: admin.password,
        },
      }),
    );
  }
});
afterAll(async () => {
  for (const c of consoles) await c.stop();
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

it("#13.1 two consoles on one PostgreSQL share the login limit: of 100 concurrent wrong passwords spread over both, only LOGIN_MAX_FAILURES are checked", async () => {
  const [a, b] = consoles as [RunningConsole, RunningConsole];
  const maxFailures = a.env.LOGIN_MAX_FAILURES;
  const clients = [new ApiClient(a.url), new ApiClient(b.url)];
  const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => clients[i % 2]!.login(admin.username, `wrong-password-${i}`)));
  const codes = replies.map((r) => r.code);
  expect(codes.filter((code) => code === "UNAUTHORIZED")).toHaveLength(maxFailures);
  expect(codes.filter((code) => code === "TOO_MANY_REQUESTS")).toHaveLength(100 - maxFailures);
  expect(await a.services.db.auditEntry.count({ where: { action: "user.login-failed", actorName: admin.username } })).toBe(maxFailures);
  // Locked out on both consoles, for the right password too.
  for (const client of clients) expect((await client.login(admin.username, admin.password)).code).toBe("TOO_MANY_REQUESTS");
});

it("#13.1 a failure on one console counts on the other, and a right password's refund is seen by both", async () => {
  const [a, b] = consoles as [RunningConsole, RunningConsole];
  const maxFailures = a.env.LOGIN_MAX_FAILURES;
  await a.services.auth.createUser({ id: null, name: "test" }, { username: "spread", password: "spread-password-1", role: "viewer" });
  const onA = new ApiClient(a.url);
  const onB = new ApiClient(b.url);
  for (let i = 0; i < maxFailures - 1; i++) expect((await (i % 2 ? onB : onA).login("spread", "wrong-password")).code).toBe("UNAUTHORIZED");
  // A right password on B gets its reservation back: A still has the last failure to give.
  expect((await onB.login("spread", "spread-password-1")).code).toBeNull();
  expect((await onA.login("spread", "wrong-password")).code).toBe("UNAUTHORIZED");
  expect((await onB.login("spread", "wrong-password")).code).toBe("TOO_MANY_REQUESTS");
  expect((await onA.login("spread", "spread-password-1")).code).toBe("TOO_MANY_REQUESTS");
});
