// `npm run demo`: the console on an embedded SQLite database with the lab's example configuration
// (three SIP Server pairs: ip-takeover, nlb-cluster, single-host), a fresh random admin password
// printed with the URL. The database (data/demo.db) is kept between runs; the configuration is
// re-seeded only when the database is empty.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { startConsole } from "../server/console";
import { importConfig } from "../server/transfer/transfer.service";
import { systemActor } from "../server/audit/audit.repository";
import { findUserByName } from "../server/auth/auth.repository";

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
  const password = crypto.randomBytes(12).toString("base64url");
  const env = {
    ...process.env,
    NODE_ENV: "production" as const,
    DATABASE_URL: process.env.DATABASE_URL ?? `file:${path.join(root, "data", "demo.db")}`,
    PORT: process.env.PORT ?? "3000",
    SWITCHYARD_ADMIN_USER: "admin",
    SWITCHYARD_ADMIN_PASSWORD: password,
  };
  const running = await startConsole({ env, dev: false });
  const { db, auth } = running.services;
  const admin = await findUserByName(db, "admin");
  if (admin) await auth.updateUser(systemActor, admin.id, { password, disabled: false, role: "admin" });
  if ((await db.host.count()) === 0) {
    const plan = await importConfig(db, systemActor, fs.readFileSync(path.join(root, "scripts", "demo-config.yaml"), "utf8"), { replace: false, dryRun: false });
    console.log(`Seeded the lab configuration: ${plan.hosts.created.length} hosts, ${plan.applications.created.length} applications, ${plan.pairs.created.length} pairs.`);
  }
  console.log("");
  console.log(`  Switchyard demo:  ${running.url}`);
  console.log(`  Log in as:        admin / ${password}   (new password on every start)`);
  console.log(`  Database:         ${env.DATABASE_URL}`);
  console.log("");
  const stop = async () => {
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
