// Several console processes on one PostgreSQL database with lab agents given every console's agent URL
// and simulated SIP servers (issue 17): for the console-HA integration test and the takeover benchmark.
// Each console is its own process (`tsx server/main.ts`), so a test can kill -9 or SIGSTOP one.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { fetchLabState, freePort, prepareLabConfig, waitFor, type LabPairName } from "./lab-stack";
import { startConsoleProcess, type ConsoleProcess } from "./console-process";
import { createDb, type Db } from "../server/db";
import { importConfig } from "../server/transfer/transfer.service";
import { systemActor } from "../server/audit/audit.repository";
import { ApiTokenService } from "../server/api-tokens/api-tokens.service";
import { Lab } from "../server/lab/lab";
import type { ClusterView } from "../server/control-plane/cluster-view";
import type { PairView } from "../server/runtime/live-view";

export const CLUSTER_ADMIN = { username: "admin", password: "ha-admin-password-1" };
const rootDir = path.resolve(__dirname, "..");

export interface ClusterConsole {
  port: number;
  agentPort: number;
  proc: ConsoleProcess | null;
  url: string;
}

export interface ConsoleCluster {
  db: Db;
  consoles: ClusterConsole[];
  /** An operator API token. */
  token: string;
  lab: Lab;
  /** Starts (again) a console of the cluster on its ports (a restarted one takes its own lease back only if it held it). */
  start(c: ClusterConsole): Promise<void>;
  health(c: ClusterConsole): Promise<ClusterView | null>;
  /** The one console that says it leads and every other live console agrees on (undefined: none yet, or they disagree). */
  agreedLeader(): Promise<ClusterConsole | undefined>;
  api<T>(c: ClusterConsole, method: "GET" | "POST", route: string, body?: unknown): Promise<{ status: number; json: T }>;
  pair(c: ClusterConsole, name: string): Promise<PairView>;
  /** A simulated server's own view of itself. */
  labState(app: string): Promise<{ role: string }>;
  /** Every console's /healthz and the last lines of the pair's timeline, for failure messages. */
  describe(): Promise<string>;
  stop(): Promise<void>;
}

export const primaryOf = (v: PairView) => v.servers.find((s) => s.role === "primary")?.name ?? null;
/** No plan in progress, both hosts connected, exactly one primary, no split brain. */
export const settled = (v: PairView) => v.plan === null && v.servers.every((s) => s.hostConnection === "connected") && v.servers.filter((s) => s.role === "primary").length === 1 && !v.splitBrain;
/** Settled, and nothing stands in the way of a switchover (both servers ready, HA link up). */
export const switchable = (v: PairView) => settled(v) && v.switchoverBlockers.length === 0;

export async function startConsoleCluster(opts: { databaseUrl: string; pairs: LabPairName[]; consoles?: number; env?: Record<string, string> }): Promise<ConsoleCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-cluster-"));
  const db = createDb(opts.databaseUrl);
  // W13 readiness after 2 s of HA link instead of SIP Server's 60 s: switchovers can be asked for soon.
  const { config } = await prepareLabConfig({ pairs: opts.pairs, appEnv: Object.fromEntries(opts.pairs.map((p) => [p, { SWITCHYARD_LAB_READINESS_SETTLE_MS: "2000" }])) });
  await importConfig(db, systemActor, stringify(config), { replace: false, dryRun: false });
  const token = (await new ApiTokenService(db, { loginMaxFailures: 5, loginWindowSeconds: 60 }).create(systemActor, { name: "cluster-operator", role: "operator", description: "", expiresInDays: 1 })).token;
  const consoles: ClusterConsole[] = [];
  for (let i = 0; i < (opts.consoles ?? 3); i++) {
    const port = await freePort("127.0.0.1");
    consoles.push({ port, agentPort: await freePort("127.0.0.1"), proc: null, url: `http://127.0.0.1:${port}` });
  }
  const start = async (c: ClusterConsole) => {
    c.proc = await startConsoleProcess({
      DATABASE_URL: opts.databaseUrl,
      PORT: String(c.port),
      AGENT_PORT: String(c.agentPort),
      SWITCHYARD_CONSOLES: String(consoles.length),
      SWITCHYARD_ADMIN_USER: CLUSTER_ADMIN.username,
      SWITCHYARD_ADMIN_PASSWORD: CLUSTER_ADMIN.password,
      SWITCHYARD_LAB_STATE_DIR: path.join(dir, "vip"),
      LOG_FORMAT: "json",
      // The admin-only alarms.injectLogEvent stands in for an agent's log event in tests.
      SWITCHYARD_TEST_HOOKS: "1",
      ...opts.env,
    });
  };
  const health = async (c: ClusterConsole): Promise<ClusterView | null> => {
    if (!c.proc) return null;
    const res = await fetch(`${c.url}/healthz`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
    if (!res?.ok) return null;
    return ((await res.json()) as { console: ClusterView | null }).console;
  };
  const agreedLeader = async () => {
    const views = await Promise.all(consoles.map(async (c) => ({ c, h: await health(c) })));
    const alive = views.filter((v) => v.h !== null);
    const leaders = alive.filter((v) => v.h!.role === "leader");
    if (leaders.length !== 1) return undefined;
    const id = leaders[0]!.h!.instance;
    return alive.every((v) => v.h!.leader?.id === id) ? leaders[0]!.c : undefined;
  };
  const api = async <T>(c: ClusterConsole, method: "GET" | "POST", route: string, body?: unknown) => {
    const res = await fetch(`${c.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: (await res.json()) as T };
  };
  const rows = async (pairName: string) => {
    const pair = await db.haPair.findUnique({ where: { name: pairName }, select: { id: true } });
    if (!pair) return [];
    return (await db.pairHistory.findMany({ where: { pairId: pair.id }, orderBy: [{ at: "desc" }, { id: "desc" }], take: 15, select: { kind: true, text: true } })).reverse().map((r) => `${r.kind}: ${r.text}`);
  };
  const lab = new Lab({ db, agentUrl: () => consoles.map((c) => `http://127.0.0.1:${c.agentPort}`).join(","), rootDir, stateDir: path.join(dir, "lab") });
  const cluster: ConsoleCluster = {
    db,
    consoles,
    token,
    lab,
    start,
    health,
    agreedLeader,
    api,
    pair: async (c, name) => (await api<PairView>(c, "GET", `/api/v1/pairs/${name}`)).json,
    // Bounded: a frozen or killed server must not hang a sampler.
    labState: (appName) => fetchLabState(config, appName, 2_000),
    async describe() {
      const hs = await Promise.all(consoles.map(async (c) => `${c.url}: ${JSON.stringify(await health(c))}`));
      const timelines = await Promise.all(opts.pairs.map(async (p) => `${p}:\n  ${(await rows(p)).join("\n  ")}`));
      return `${hs.join("\n")}\n${timelines.join("\n")}`;
    },
    async stop() {
      await lab.stopAll();
      await Promise.all(consoles.map((c) => c.proc?.stop()));
      await db.$disconnect();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(consoles.map((c) => start(c)));
    await waitFor("one console leading, the others following it", agreedLeader, { timeoutMs: 90_000, describe: () => cluster.describe() });
    // Every agent is given every console's agent port, in the same order: they find the leader themselves.
    await lab.startAgents();
    const leader = (await agreedLeader())!;
    for (const p of opts.pairs) {
      await waitFor(`${p} adopted and settled`, async () => settled(await cluster.pair(leader, p)) || undefined, { timeoutMs: 90_000, describe: () => cluster.describe() });
    }
  } catch (err) {
    await cluster.stop().catch(() => undefined);
    throw err;
  }
  return cluster;
}
