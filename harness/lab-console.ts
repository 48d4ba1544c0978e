// Starts the console with the demo lab (real agents, simulated SIP Servers on loopback): shared by
// `npm run demo` (scripts/demo.ts) and the browser tests' server (scripts/e2e-lab.ts).
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { startConsole, type RunningConsole } from "../server/console";
import type { Lab } from "../server/lab/lab";

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
  /** Where the lab's agents connect (the control plane's port); PORT + 1 when not given. */
  agentPort?: string;
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
  const databaseFile = opts.databaseUrl.replace(/^file:/, "");
  // A fresh database: tokens of an earlier lab are unknown to it.
  if (!fs.existsSync(databaseFile)) fs.rmSync(opts.labDir, { recursive: true, force: true });
  const running = await startConsole({
    env: {
      ...process.env,
      ...opts.env,
      NODE_ENV: "production",
      DATABASE_URL: opts.databaseUrl,
      PORT: opts.port,
      AGENT_PORT: opts.agentPort ?? String(Number(opts.port) + 1),
      SWITCHYARD_ADMIN_USER: opts.admin.username,
      SWITCHYARD_ADMIN_PASSWORD: opts.admin.password,
      SWITCHYARD_LAB_STATE_DIR: path.join(opts.labDir, "vip"),
    },
    dev: false,
    lab: { rootDir: root, stateDir: opts.labDir, addressBlock: opts.addressBlock ?? 0, serverEnv: opts.serverEnv, output: "ignore" },
  });
  // The lab's admin as the options say, on a database an earlier run left: reset only where it
  // differs. The console is already listening, and a browser test that logged in as soon as /healthz
  // answered lost its fresh session to a needless password reset.
  await running.services.auth.ensureAdmin(opts.admin);
  const lab = running.lab!;
  return { running, lab, stop: () => running.stop() };
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
