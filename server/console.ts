// The composition root: the one place that builds the console, in order, handing each part what it
// needs — environment → database (created and migrated) → authentication → configuration events →
// control plane (agent gateway and failover controller in their own thread) → operations service →
// alarm engine → HTTP (pages, tRPC, browsers' sockets) → start of the control plane → demo lab (when
// asked). No part reaches for another at call time; nothing is filled in later. Used by `npm start`,
// `npm run dev`, the demo and the tests' harness.
import path from "node:path";
import { parseEnv, type Env } from "./env";
import { configureLogging, logger } from "./log";
import { createDb } from "./db";
import { migrateDatabase } from "./db/migrate";
import { AuthService } from "./auth/auth.service";
import { loginLimitsFor } from "./auth/login-limits";
import { ApiTokenService } from "./api-tokens/api-tokens.service";
import { ConfigEvents } from "./config/config-events";
import { createControlPlane } from "./control-plane/control-plane";
import { OperationsService } from "./runtime/operations.service";
import { createAlarmEngine } from "./alarms/engine";
import { Lab, noLab, seedLabConfig } from "./lab/lab";
import { startHttpServer, type ConsoleServer } from "./http";
import { ConsoleMetrics } from "./metrics/metrics";
import { CONSOLE_VERSION } from "./version";
import { encodeLivePairs } from "../lib/ui-events";
import { metricsHandler, startMetricsServer } from "./metrics/endpoint";
import { UpgradeRunner } from "./upgrade/upgrade.runner";
import { UpgradeService } from "./upgrade/upgrade.service";
import { ScheduleService } from "./schedule/schedule.service";
import { LeaderDuties } from "./leader/leader-duties";
import type { ConsoleServices } from "./api/trpc";

const log = logger("console");

/** The demo lab this console runs beside itself (demo, browser tests, workflow tests). */
export interface LabSetup {
  /** Checkout root (agent and simulator sources, scripts/demo-config.yaml). */
  rootDir: string;
  /** Agents' tokens, state and logs: <stateDir>/hosts/<host>/. */
  stateDir: string;
  /** Second octet of every lab address (127.<block>.x.y), so several labs never share addresses. */
  addressBlock: number;
  /** Extra environment for every simulated server (lab knobs such as SWITCHYARD_LAB_READINESS_SETTLE_MS). */
  serverEnv?: Record<string, string>;
  /** Agent output: "inherit" for the demo, "ignore" for tests, a file descriptor for benchmarks. */
  output?: "inherit" | "ignore" | number;
  /** Start the lab's agents with the console (default true). */
  startAgents?: boolean;
  /** Another lab configuration (YAML in the import format) instead of scripts/demo-config.yaml: the lab on a real network. */
  configText?: string;
  /** What each host's agent runs under (e.g. `ip netns exec <namespace>`); see LabOptions.agentPrefix. */
  agentPrefix?: (host: string) => string[];
}

export interface ConsoleOptions {
  env?: NodeJS.ProcessEnv;
  withPages?: boolean;
  dev?: boolean;
  lab?: LabSetup;
}

export interface RunningConsole extends ConsoleServer {
  services: ConsoleServices;
  env: Env;
  /** Where host agents connect (the control plane's port); null when the controller is off. */
  agentUrl: string | null;
  /** One-time link to create the first admin, when no user exists and none was given in the environment. */
  setupUrl: string | null;
  /** The demo lab, when this console runs one. */
  lab: Lab | null;
  /** Where /metrics is served: the web port's URL, or METRICS_PORT's. */
  metricsUrl: string;
  stop(): Promise<void>;
}

/** "running, started by alice" — what a scheduled switchover says when it is skipped for an upgrade. */
function describeActiveUpgrade(runner: UpgradeRunner, pairId: string): string | null {
  const run = runner.activeRunOf(pairId);
  return run ? `${run.state.status}, started by ${run.state.startedBy}` : null;
}

export async function startConsole(opts: ConsoleOptions = {}): Promise<RunningConsole> {
  const env = parseEnv(opts.env ?? process.env);
  configureLogging({ level: env.LOG_LEVEL, format: env.LOG_FORMAT });
  const migration = await migrateDatabase(env.DATABASE_URL);
  if (migration.applied.length) log.info("applied database migrations", { migrations: migration.applied });
  const db = createDb(env.DATABASE_URL);
  const loginLimits = loginLimitsFor(env.DATABASE_URL, { loginMaxFailures: env.LOGIN_MAX_FAILURES, loginWindowSeconds: env.LOGIN_WINDOW_SECONDS });
  const auth = new AuthService(db, {
    sessionTtlHours: env.SESSION_TTL_HOURS,
    loginMaxFailures: env.LOGIN_MAX_FAILURES,
    loginWindowSeconds: env.LOGIN_WINDOW_SECONDS,
    limits: loginLimits.limits,
  });
  const boot = await auth.bootstrap({ username: env.SWITCHYARD_ADMIN_USER, password: env.SWITCHYARD_ADMIN_PASSWORD });
  if (boot.kind === "created") log.info("created the first admin from SWITCHYARD_ADMIN_USER", { user: boot.username });
  if (opts.lab && (await seedLabConfig(db, opts.lab.rootDir, { addressBlock: opts.lab.addressBlock, serverEnv: opts.lab.serverEnv, configText: opts.lab.configText }))) {
    log.info("seeded the lab configuration (hosts, applications and pairs of scripts/demo-config.yaml)");
  }

  const configEvents = new ConfigEvents();
  const controlPlane = createControlPlane(db, env);
  const operations = new OperationsService(db, controlPlane);
  const alarms = createAlarmEngine({
    db,
    retentionDays: env.ALARM_LOG_RETENTION_DAYS,
    configEvents,
    ports: { switchover: controlPlane.enabled ? operations : null, agents: controlPlane.enabled ? controlPlane : null },
    leads: () => controlPlane.cluster()?.role !== "follower",
  });
  // The lab's agents connect to the control plane's port, known once it listens (they start after it).
  const lab = opts.lab
    ? new Lab({ db, agentUrl: () => controlPlane.agentUrl(), rootDir: opts.lab.rootDir, stateDir: opts.lab.stateDir, output: opts.lab.output ?? "ignore", agentPrefix: opts.lab.agentPrefix, vipStateDir: env.SWITCHYARD_LAB_STATE_DIR ?? null })
    : null;
  const apiTokens = new ApiTokenService(db, { loginMaxFailures: env.LOGIN_MAX_FAILURES, loginWindowSeconds: env.LOGIN_WINDOW_SECONDS });
  const upgradeRunner = new UpgradeRunner({ db, controlPlane, operations });
  const upgrades = new UpgradeService(db, upgradeRunner);
  const schedules = new ScheduleService({ db, controlPlane, operations, alarms, upgradeOf: (pairId) => describeActiveUpgrade(upgradeRunner, pairId) });
  const services: ConsoleServices = { db, env, auth, apiTokens, configEvents, controlPlane, operations, alarms, lab: lab ?? noLab, upgrades, schedules };

  let pages: ((req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => Promise<void>) | undefined;
  const dev = opts.dev ?? env.NODE_ENV === "development";
  if (opts.withPages ?? env.SWITCHYARD_WEB_PAGES === "true") {
    const { default: next } = await import("next");
    const app = next({ dev, dir: path.resolve(__dirname, ".."), hostname: env.HOST, port: env.PORT });
    await app.prepare();
    const handle = app.getRequestHandler();
    pages = (req, res) => handle(req, res);
  }
  const metrics = new ConsoleMetrics({ db, controlPlane, version: CONSOLE_VERSION });
  const scrape = metricsHandler(services, metrics);
  const separateMetrics = env.METRICS_PORT !== undefined;
  const http = await startHttpServer(services, { host: env.HOST, port: env.PORT, pages, dev, metrics: separateMetrics ? undefined : scrape });
  const metricsServer = separateMetrics ? await startMetricsServer(scrape, env.METRICS_HOST ?? env.HOST, env.METRICS_PORT!).catch(async (err: unknown) => {
    await http.close();
    throw err;
  }) : null;
  const ui = http.ui;
  // Live sockets follow their session: the AuthService says which sessions ended, the web tier drops them.
  auth.subscribe({ sessionsEnded: (ended) => http.endSessions(ended) });
  // Guided upgrades and scheduled switchovers are carried out by the console that leads, while it does.
  const leaderDuties = new LeaderDuties(
    [
      { name: "guided upgrades", start: () => upgradeRunner.start(), stop: () => upgradeRunner.stop() },
      { name: "scheduled switchovers", start: () => schedules.start(), stop: () => schedules.stop() },
    ],
    log,
  );
  const clusterKey = (c: { role: string; leader: { id: string; term: number } | null; instances: { id: string }[] }) => `${c.role}|${c.leader?.id}|${c.leader?.term}|${c.instances.map((i) => i.id).join(",")}`;
  let lastClusterKey = "";
  let lastRole: "leader" | "follower" | null = null;
  const stopAll = async () => {
    await leaderDuties.close();
    await lab?.stopAll();
    await controlPlane.stop();
    await alarms.stop();
    await metricsServer?.close();
    await http.close();
    await loginLimits.close();
    await db.$disconnect();
  };
  try {
    // Wiring the control plane's notices to their listeners, before it starts (nothing is missed).
    configEvents.subscribe(() => void controlPlane.configChanged().catch((err: unknown) => log.error("pushing a configuration change to the control plane failed", { error: String(err) })));
    controlPlane.subscribe({
      onLive: (changed, removed) => {
        // Each console sends its own browsers what its mirror holds (a follower's mirrors the leader's):
        // local, not through the cross-console adapter, so no browser gets a change twice or before its
        // console can answer the refetch it causes.
        if (changed.length || removed.length) ui.local.emit("live:pairs", encodeLivePairs({ changed, removed }));
        ui.local.emit("live:changed");
      },
      onLogEvents: (hostName, events) => alarms.onLogEvents(hostName, { events }),
      onControllerAlarm: (command) => alarms.onControllerAlarm(command),
      onControlPlaneAlarm: (alarm) => alarms.onConsoleAlarm(alarm),
      onAppRuntime: (applications, vipChanged) => ui.local.emit("live:applications", { applications, vipChanged }),
      onCluster: (status) => {
        // Leadership moved (or this console's role did): pages showing it refetch; and the procedures the leader carries start here.
        leaderDuties.follow(status.role);
        // Leading from now on: the alarm engine goes on from the database, not from what it read as a follower.
        if (status.role === "leader" && lastRole === "follower") void alarms.reload().catch((err: unknown) => log.error("reading the alarms again on taking over failed", { error: String(err) }));
        lastRole = status.role;
        if (clusterKey(status) !== lastClusterKey) {
          lastClusterKey = clusterKey(status);
          ui.local.emit("live:changed");
        }
      },
      onAppAlarm: (alarm) => alarms.onApplicationAlarm(alarm),
      onPlanEnded: (ending) => metrics.onPlanEnded(ending),
    });
    alarms.onChange(() => ui.emit("alarms:changed"));
    // Several consoles: an operator's change to alarms on one console is read again by the others'
    // engines (the leader's matcher must not go on from an alarm a follower cleared).
    const others = http.otherConsoles;
    if (others) {
      alarms.onOperatorChange(() => others.emit("alarms:reload"));
      others.on("alarms:reload", () => void alarms.reload().catch((err: unknown) => log.error("reading the alarms again after another console changed them failed", { error: String(err) })));
    }
    // A guided procedure changed: its page refetches it, and the pair's timeline (its notes).
    const proceduresChanged = () => {
      ui.emit("procedures:changed");
      ui.emit("live:changed");
    };
    upgradeRunner.onChange(proceduresChanged);
    schedules.onChange(proceduresChanged);
    await alarms.start();
    await controlPlane.start({ webUrl: env.PUBLIC_URL ?? http.url });
    // After the control plane: runs observe the pairs' live views and write their timeline through it.
    if (controlPlane.enabled && controlPlane.cluster()?.role === "leader") leaderDuties.follow("leader");
    await leaderDuties.settled();
    if (lab && opts.lab?.startAgents !== false) {
      // The gateways first: a primary's first Active-OOS ping (W4) finds its service DN answering.
      await lab.startGateways();
      await lab.startAgents();
    }
  } catch (err) {
    // Nothing half-started is left behind (a lab agent would keep knocking with a token of a dead console).
    await stopAll().catch(() => undefined);
    throw err;
  }

  const base = env.PUBLIC_URL ?? http.url;
  let stopped = false;
  return {
    ...http,
    services,
    env,
    agentUrl: controlPlane.agentUrl(),
    metricsUrl: `${metricsServer?.url ?? http.url}/metrics`,
    setupUrl: boot.kind === "setup" ? `${base}/setup?token=${boot.token}` : null,
    lab,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
}
