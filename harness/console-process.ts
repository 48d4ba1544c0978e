// The console as its own process (`tsx server/main.ts`), for tests that must stop or freeze the whole
// console — SIGSTOP, kill -9 — which they cannot do to a console running inside the test's process.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { waitFor } from "./lab-stack";

export interface ConsoleProcess {
  url: string;
  child: ChildProcess;
  /** Everything the console wrote (stdout and stderr), for failure messages. */
  output(): string;
  signal(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

const rootDir = path.resolve(__dirname, "..");

export async function startConsoleProcess(env: Record<string, string>): Promise<ConsoleProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(rootDir, "server", "main.ts")], {
    cwd: rootDir,
    env: { ...process.env, NODE_ENV: "production", HOST: "127.0.0.1", SWITCHYARD_WEB_PAGES: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (c: Buffer) => {
    output = (output + c.toString()).slice(-200_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${env.PORT}`;
  await waitFor(
    "the console process to answer /healthz",
    async () => {
      if (child.exitCode !== null) throw new Error(`the console exited (${child.exitCode}):\n${output}`);
      const res = await fetch(`${url}/healthz`).catch(() => null);
      return res?.ok ? true : undefined;
    },
    { timeoutMs: 60_000, describe: () => output.slice(-4000) },
  );
  return {
    url,
    child,
    output: () => output,
    signal: (signal) => child.kill(signal),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
