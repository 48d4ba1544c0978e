// `npm run demo`: the whole lab on loopback, one command. The console (embedded SQLite in
// data/demo.db, a new random admin password printed on every start), one real host agent per lab
// host, and the simulated SIP Servers those agents start: three pairs — ip-takeover (lab VIP driver),
// nlb-cluster, single-host. The Lab page (or its API) injects faults so every workflow can be watched.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { startConsole } from "../server/console";
import { importConfig } from "../server/transfer/transfer.service";
import { systemActor } from "../server/audit/audit.repository";
import { findUserByName } from "../server/auth/auth.repository";
import { Lab, labConfigText } from "../server/lab/lab";

const root = path.resolve(__dirname, "..");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the pages when there is no production build or the sources are newer than it. */
function ensureBuild() {
  const buildId = path.join(root, ".next", "BUILD_ID");
  const built = fs.existsSync(buildId) ? fs.statSync(buildId).mtimeMs : 0;
  const sources = Math.max(...["app", "components", "lib"].map((d) => newestMtime(path.join(root, d))));
  if (built >= sources) return;
  console.log("Building the web pages (first run or sources changed; about a minute)…");
  execFileSync(process.execPath, [require.resolve("next/dist/bin/next"), "build"], { cwd: root, stdio: "inherit" });
}

async function main() {
  ensureBuild();
  const labDir = path.join(root, "data", "lab");
  const password = crypto.randomBytes(12).toString("base64url");
  const env = {
    ...process.env,
    NODE_ENV: "production" as const,
    DATABASE_URL: process.env.DATABASE_URL ?? `file:${path.join(root, "data", "demo.db")}`,
    PORT: process.env.PORT ?? "3000",
    SWITCHYARD_ADMIN_USER: "admin",
    SWITCHYARD_ADMIN_PASSWORD: password,
    SWITCHYARD_LAB_STATE_DIR: path.join(labDir, "vip"),
  };
  const running = await startConsole({ env, dev: false });
  const { db, auth } = running.services;
  const admin = await findUserByName(db, "admin");
  if (admin) await auth.updateUser(systemActor, admin.id, { password, disabled: false, role: "admin" });
  if ((await db.host.count()) === 0) {
    // A fresh database: tokens of an earlier lab are unknown to it.
    fs.rmSync(labDir, { recursive: true, force: true });
    const plan = await importConfig(db, systemActor, labConfigText(root), { replace: false, dryRun: false });
    console.log(`Seeded the lab configuration: ${plan.hosts.created.length} hosts, ${plan.applications.created.length} applications, ${plan.pairs.created.length} pairs.`);
    await running.live?.configChanged();
  }
  const lab = new Lab({ db, consoleUrl: running.url, rootDir: root, stateDir: labDir, output: "ignore" });
  running.services.lab = lab;
  await lab.startAgents();

  console.log("");
  console.log(`  Switchyard demo:  ${running.url}`);
  console.log(`  Log in as:        admin / ${password}   (new password on every start)`);
  console.log(`  Lab:              ${lab.hosts().length} host agents starting their simulated SIP Servers; inject faults on the Lab page`);
  console.log(`  Database:         ${env.DATABASE_URL}`);
  console.log("");
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log("Stopping the lab and the console…");
    await lab.stopAll();
    await running.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
