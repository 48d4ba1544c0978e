// Starts the console with the demo lab (real agents, simulated SIP Servers on loopback): shared by
// `npm run demo` and the browser tests' server (scripts/e2e-lab.ts).
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { startConsole, type RunningConsole } from "../server/console";
import { importConfig } from "../server/transfer/transfer.service";
import { systemActor } from "../server/audit/audit.repository";
import { findUserByName } from "../server/auth/auth.repository";
import { Lab, labConfigText } from "../server/lab/lab";

export const root = path.resolve(__dirname, "..");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the pages when there is no production build or the sources are newer than it. */
export function ensureBuild(): void {
  const buildId = path.join(root, ".next", "BUILD_ID");
  const built = fs.existsSync(buildId) ? fs.statSync(buildId).mtimeMs : 0;
  const sources = Math.max(...["app", "components", "lib"].map((d) => newestMtime(path.join(root, d))));
  if (built >= sources) return;
  console.log("Building the web pages (first run or sources changed; about a minute)…");
  execFileSync(process.execPath, [require.resolve("next/dist/bin/next"), "build"], { cwd: root, stdio: "inherit" });
}

export interface LabConsoleOptions {
  databaseUrl: string;
  port: string;
  labDir: string;
  admin: { username: string; password: string };
  /** Extra environment for every simulated server (lab knobs such as SWITCHYARD_LAB_READINESS_SETTLE_MS). */
  serverEnv?: Record<string, string>;
  /** Second octet of every lab address (127.<block>.x.y); see labConfigText. */
  addressBlock?: number;
  env?: NodeJS.ProcessEnv;
}

export interface LabConsole {
  running: RunningConsole;
  lab: Lab;
  stop(): Promise<void>;
}

export async function startLabConsole(opts: LabConsoleOptions): Promise<LabConsole> {
  const running = await startConsole({
    env: {
      ...process.env,
      ...opts.env,
      NODE_ENV: "production",
      DATABASE_URL: opts.databaseUrl,
      PORT: opts.port,
      SWITCHYARD_ADMIN_USER: opts.admin.username,
      SWITCHYARD_ADMIN_PASSWORD: opts.admin.password,
      SWITCHYARD_LAB_STATE_DIR: path.join(opts.labDir, "vip"),
    },
    dev: false,
  });
  const { db, auth } = running.services;
  const admin = await findUserByName(db, opts.admin.username);
  if (admin) await auth.updateUser(systemActor, admin.id, { password: opts.admin.password, disabled: false, role: "admin" });
  if ((await db.host.count()) === 0) {
    // A fresh database: tokens of an earlier lab are unknown to it.
    fs.rmSync(opts.labDir, { recursive: true, force: true });
    let text = labConfigText(root, opts.addressBlock ?? 0);
    const extra = Object.entries(opts.serverEnv ?? {}).map(([k, v]) => `${k}: "${v}"`).join(", ");
    if (extra) text = text.replaceAll('SWITCHYARD_LAB_FAULTS: "1",', `SWITCHYARD_LAB_FAULTS: "1", ${extra},`);
    const plan = await importConfig(db, systemActor, text, { replace: false, dryRun: false });
    console.log(`Seeded the lab configuration: ${plan.hosts.created.length} hosts, ${plan.applications.created.length} applications, ${plan.pairs.created.length} pairs.`);
    await running.live?.configChanged();
  }
  const lab = new Lab({ db, consoleUrl: running.url, rootDir: root, stateDir: opts.labDir, output: "ignore" });
  running.services.lab = lab;
  await lab.startAgents();
  let stopped = false;
  return {
    running,
    lab,
    async stop() {
      if (stopped) return;
      stopped = true;
      await lab.stopAll();
      await running.stop();
    },
  };
}

/** Stops the lab cleanly on SIGINT/SIGTERM (agents stop their servers). */
export function stopOnSignals(lab: LabConsole): void {
  const stop = async () => {
    console.log("Stopping the lab and the console…");
    await lab.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}
