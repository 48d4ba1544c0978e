// Helpers for integration tests: a fresh migrated database per test console (SQLite, or PostgreSQL
// in the "postgresql" vitest project: server/test-database.ts), the console's services
// over it (built like the composition root builds them, with the configuration-only control plane and
// no lab), and tRPC callers acting as a user of a given role (through the real procedures and middleware).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDb } from "./db";
import { createTestDatabase } from "./test-database";
import { parseEnv } from "./env";
import { AuthService, type SessionUser } from "./auth/auth.service";
import { ApiTokenService } from "./api-tokens/api-tokens.service";
import { ConfigEvents } from "./config/config-events";
import { disabledControlPlane } from "./control-plane/control-plane";
import { OperationsService } from "./runtime/operations.service";
import { createAlarmEngine, type AlarmEngineOptions } from "./alarms/engine";
import type { ReactionPorts } from "./alarms/dispatcher";
import { noLab } from "./lab/lab";
import { UpgradeRunner } from "./upgrade/upgrade.runner";
import { UpgradeService } from "./upgrade/upgrade.service";
import { ScheduleService } from "./schedule/schedule.service";
import { createCaller } from "./api/root";
import type { ConsoleServices } from "./api/trpc";
import type { Role } from "./auth/roles";
import type { Logger } from "./log";

/** A logger that writes nothing, for parts whose log would only clutter a test's output. */
export const quietLogger: Logger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

export interface TestConsole {
  services: ConsoleServices;
  dir: string;
  callerAs(role: Role | null): ReturnType<typeof createCaller>;
  userIds: Record<Role, string>;
  close(): Promise<void>;
}

export interface TestConsoleOptions {
  /** The alarm engine's options (clock, webhook retries) and what its reactions act through. */
  alarms?: AlarmEngineOptions;
  reactionPorts?: ReactionPorts;
}

export async function createTestConsole(envOverrides: Record<string, string> = {}, opts: TestConsoleOptions = {}): Promise<TestConsole> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-test-"));
  const database = await createTestDatabase(dir);
  const url = database.url;
  const env = parseEnv({ NODE_ENV: "test", DATABASE_URL: url, ...envOverrides });
  const db = createDb(url);
  const auth = new AuthService(db, { sessionTtlHours: env.SESSION_TTL_HOURS, loginMaxFailures: env.LOGIN_MAX_FAILURES, loginWindowSeconds: env.LOGIN_WINDOW_SECONDS });
  const configEvents = new ConfigEvents();
  const controlPlane = disabledControlPlane(db);
  const operations = new OperationsService(db, controlPlane);
  // Not started (no timers) unless a test starts it.
  const alarms = createAlarmEngine(
    { db, retentionDays: env.ALARM_LOG_RETENTION_DAYS, configEvents, ports: opts.reactionPorts ?? { switchover: null, agents: null } },
    { log: quietLogger, ...opts.alarms },
  );
  const apiTokens = new ApiTokenService(db, { loginMaxFailures: env.LOGIN_MAX_FAILURES, loginWindowSeconds: env.LOGIN_WINDOW_SECONDS });
  // Not started (no timers): a configuration-only console runs no procedure.
  const upgradeRunner = new UpgradeRunner({ db, controlPlane, operations, log: quietLogger });
  const schedules = new ScheduleService({ db, controlPlane, operations, alarms, upgradeOf: () => null, log: quietLogger });
  const services: ConsoleServices = { db, env, auth, apiTokens, configEvents, controlPlane, operations, alarms, lab: noLab, upgrades: new UpgradeService(db, upgradeRunner), schedules };
  const userIds = {} as Record<Role, string>;
  for (const role of ["viewer", "operator", "admin"] as const) {
    const u = await services.auth.createUser({ id: null, name: "test" }, { username: `${role}1`, password: `${role}-password-123`, role });
    userIds[role] = u.id;
  }
  const callerAs = (role: Role | null) => callerFor(services, role ? { id: userIds[role], username: `${role}1`, role } : null);
  return {
    services,
    dir,
    callerAs,
    userIds,
    async close() {
      await db.$disconnect();
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A tRPC caller acting as this user (null: anonymous), through the real procedures and middleware. */
export function callerFor(services: ConsoleServices, user: SessionUser | null): ReturnType<typeof createCaller> {
  return createCaller({
    services,
    user,
    sessionId: null,
    credential: user ? "session" : null,
    ip: "127.0.0.1",
    userAgent: "vitest",
    cookies: { setSession: () => {}, clearSession: () => {} },
  });
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

/** pair-a: sip-1 on host-1 (primary) and sip-2 on host-2 (backup), IP takeover on eth1; its ids. */
export async function createIpTakeoverPair(t: TestConsole): Promise<{ pairId: string; primaryAppId: string; backupAppId: string }> {
  const admin = t.callerAs("admin");
  const h1 = await admin.hosts.create(twoNicHost("host-1", "10.0.0.1", "10.0.1.1"));
  const h2 = await admin.hosts.create(twoNicHost("host-2", "10.0.0.2", "10.0.1.2"));
  const primaryAppId = await admin.applications.create(sipServerInput("sip-1", h1, 5060));
  const backupAppId = await admin.applications.create(sipServerInput("sip-2", h2, 5060));
  const pairId = await admin.pairs.create({
    name: "pair-a",
    haType: "ip-takeover",
    controlDriver: "linux-ip",
    vipAddress: "10.0.1.100",
    vipPrefixLength: 24,
    vipInterface: "eth1",
    nlbClusterName: "",
    nlbPort: null,
    enableScript: "",
    disableScript: "",
    scriptTimeoutMs: 5000,
    primaryAppId,
    backupAppId,
  });
  return { pairId, primaryAppId, backupAppId };
}
