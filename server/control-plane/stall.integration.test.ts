// The console's own stall is not read as host loss: the whole console process is frozen with SIGSTOP
// for 5 s (its control plane thread too) while its agents and servers keep running; when it runs again
// no pair fails over, no host is declared disconnected, and the stall is reported as the console's.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort, prepareLabConfig, waitFor } from "../../harness/lab-stack";
import { startConsoleProcess, type ConsoleProcess } from "../../harness/console-process";
import { createDb, type Db } from "../db";
import { migrateSqlite } from "../db/migrate";
import { importConfig } from "../transfer/transfer.service";
import { systemActor } from "../audit/audit.repository";
import { Lab } from "../lab/lab";

const A = "pair-a-iptakeover";
const STALL_MS = 5_000;
const WAIT_MS = 60_000;
const rootDir = path.resolve(__dirname, "..", "..");

let dir: string;
let db: Db;
let consoleProcess: ConsoleProcess | null = null;
let lab: Lab | null = null;

async function rows(since: Date) {
  const pair = await db.haPair.findUniqueOrThrow({ where: { name: A }, select: { id: true } });
  return db.pairHistory.findMany({ where: { pairId: pair.id, at: { gte: since } }, orderBy: [{ at: "asc" }, { id: "asc" }], select: { kind: true, text: true, epoch: true } });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-stall-"));
  const url = `file:${path.join(dir, "console.db")}`;
  migrateSqlite(url);
  db = createDb(url);
  const { config } = await prepareLabConfig({ pairs: [A] });
  await importConfig(db, systemActor, stringify(config), { replace: false, dryRun: false });
  const [port, agentPort] = [await freePort("127.0.0.1"), await freePort("127.0.0.1")];
  consoleProcess = await startConsoleProcess({
    DATABASE_URL: url,
    PORT: String(port),
    AGENT_PORT: String(agentPort),
    SWITCHYARD_ADMIN_USER: "admin",
    SWITCHYARD_ADMIN_PASSWORD: "stall-admin-password-1",
    SWITCHYARD_LAB_STATE_DIR: path.join(dir, "vip"),
    LOG_FORMAT: "json",
  });
  lab = new Lab({ db, agentUrl: () => `http://127.0.0.1:${agentPort}`, rootDir, stateDir: path.join(dir, "lab") });
  await lab.startAgents();
  // Healthy: the controller adopted a primary and put the VIP with it, and that plan completed.
  await waitFor("the pair adopted and its VIP plan complete", async () => (await rows(new Date(0))).some((r) => /complete: .*VIP enabled on/.test(r.text)) || undefined, {
    timeoutMs: WAIT_MS,
    describe: async () => `${(await rows(new Date(0))).map((r) => `${r.kind}: ${r.text}`).join("\n")}\n${consoleProcess?.output().slice(-3000)}`,
  });
}, 120_000);

afterAll(async () => {
  await lab?.stopAll();
  await consoleProcess?.stop();
  await db?.$disconnect();
  fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

it(`a console frozen for ${STALL_MS / 1000} s (SIGSTOP) fails nothing over and declares no host lost; the stall is an alarm of the console`, async () => {
  const before = await db.pairRuntime.findFirstOrThrow({ select: { epoch: true, intendedPrimaryAppId: true } });
  const since = new Date();
  consoleProcess!.signal("SIGSTOP");
  await new Promise((r) => setTimeout(r, STALL_MS));
  consoleProcess!.signal("SIGCONT");
  // It noticed its own stall (and said so), then went on as before.
  await waitFor("the control-plane-stall alarm", async () => (await db.alarm.findFirst({ where: { source: "control-plane-stall", firstSeen: { gte: since } } })) ?? undefined, {
    timeoutMs: WAIT_MS,
    describe: () => consoleProcess!.output().slice(-4000),
  });
  // Longer than a heartbeat timeout more, for a careless controller to act.
  await new Promise((r) => setTimeout(r, 5_000));
  const after = await db.pairRuntime.findFirstOrThrow({ select: { epoch: true, intendedPrimaryAppId: true } });
  expect(after).toEqual(before);
  const during = (await rows(since)).map((r) => `${r.kind}: ${r.text}`);
  expect(during.filter((r) => /set-role|promoted|demoted|disconnected/.test(r))).toEqual([]);
  const hostAlarms = await db.alarm.findMany({ where: { source: "host-disconnected", firstSeen: { gte: since } }, select: { host: true } });
  expect(hostAlarms).toEqual([]);
  expect(consoleProcess!.output()).toMatch(/the control plane was stalled; every host gets a fresh heartbeat timeout/);
}, 120_000);
