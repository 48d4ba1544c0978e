// The web tier's mirror of its own control plane when the console leads (issue 17): the plane's first
// push (every pair's view) comes before the notice that says this console leads, and must survive it —
// before, that notice emptied the mirror and the pages fell back to configuration-only views ("the
// controller is not running") until each pair happened to change.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, expect, it } from "vitest";
import { prepareLabConfig, waitFor } from "../../harness/lab-stack";
import { startConsole, type RunningConsole } from "../console";
import { createDb } from "../db";
import { createTestDatabase, type TestDatabase } from "../test-database";
import { importConfig } from "../transfer/transfer.service";
import { systemActor } from "../audit/audit.repository";

let dir: string;
let database: TestDatabase;
let running: RunningConsole | null = null;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-mirror-"));
  database = await createTestDatabase(dir);
  const db = createDb(database.url);
  const { config } = await prepareLabConfig({ pairs: ["pair-a-iptakeover"] });
  await importConfig(db, systemActor, stringify(config), { replace: false, dryRun: false });
  await db.$disconnect();
  // No agents: nothing will change any pair after the controller's first push.
  running = await startConsole({ withPages: false, env: { NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", AGENT_PORT: "0", DATABASE_URL: database.url, LOG_LEVEL: "silent", SWITCHYARD_CONTROLLER: "true" } });
});

afterAll(async () => {
  await running?.stop();
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

it("a console that leads shows its controller's view of every pair, although nothing changed since the first push", async () => {
  const cp = running!.services.controlPlane;
  await waitFor("this console leading", () => cp.cluster()?.role === "leader" || undefined, { timeoutMs: 30_000 });
  // Longer than a cluster refresh: any later notice that empties the mirror would have come.
  await new Promise((r) => setTimeout(r, 2_500));
  const views = await cp.pairViews();
  expect(views.map((v) => v.name)).toEqual(["pair-a-iptakeover"]);
  // The controller's own state: it waits for the hosts' agents (recovery), not the configuration-only stand-in.
  expect(views[0]!.situation).toBe("waiting for the first reports");
});
