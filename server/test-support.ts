// Helpers for integration tests: a fresh migrated SQLite file per test file, services over it, and
// tRPC callers acting as a user of a given role (through the real procedures and middleware).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDb } from "./db";
import { migrateSqlite } from "./db/migrate";
import { parseEnv } from "./env";
import { createServices, type Services } from "./services";
import { createCaller } from "./api/root";
import type { Role } from "./auth/roles";

export interface TestConsole {
  services: Services;
  dir: string;
  callerAs(role: Role | null): ReturnType<typeof createCaller>;
  userIds: Record<Role, string>;
  close(): Promise<void>;
}

export async function createTestConsole(envOverrides: Record<string, string> = {}): Promise<TestConsole> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-test-"));
  const url = `file:${path.join(dir, "test.db")}`;
  migrateSqlite(url);
  const env = parseEnv({ NODE_ENV: "test", DATABASE_URL: url, ...envOverrides });
  const db = createDb(url);
  const services = createServices(db, env);
  const userIds = {} as Record<Role, string>;
  for (const role of ["viewer", "operator", "admin"] as const) {
    const u = await services.auth.createUser({ id: null, name: "test" }, { username: `${role}1`, password: `${role}-password-123`, role });
    userIds[role] = u.id;
  }
  const callerAs = (role: Role | null) =>
    createCaller({
      services,
      user: role ? { id: userIds[role], username: `${role}1`, role } : null,
      sessionId: null,
      ip: "127.0.0.1",
      userAgent: "vitest",
      cookies: { setSession: () => {}, clearSession: () => {} },
    });
  return {
    services,
    dir,
    callerAs,
    userIds,
    async close() {
      await db.$disconnect();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A small valid configuration: two hosts, two SIP Servers, usable to build pairs in tests. */
export function twoNicHost(name: string, mgmt: string, sip: string) {
  return {
    name,
    description: "",
    nics: [
      { name: "eth0", address: mgmt, carriesManagement: true, carriesSip: false },
      { name: "eth1", address: sip, carriesManagement: false, carriesSip: true },
    ],
  };
}

export function sipServerInput(name: string, hostId: string, port: number) {
  return {
    name,
    type: "sip-server" as const,
    hostId,
    sipPort: port,
    haPort: port + 1,
    startCommand: "",
    startArgs: [],
    workingDirectory: "",
    environment: {},
    stopCommand: "",
    stopTimeoutMs: 10_000,
    options: [{ dn: "", section: "TServer", name: "http-port", value: String(port + 2) }],
  };
}
