// Runs one argv (no shell) with a timeout: output captured up to a bound, exit code and duration
// measured, and a process that outlives its timeout killed (with its process group on POSIX, so a
// script's own children die too) and reported as failed.
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import type { ScriptRun } from "../protocol/agent-wire";

/** Captured output per stream; the rest is dropped with a marker so a chatty script cannot exhaust memory. */
export const MAX_SCRIPT_OUTPUT_CHARS = 64 * 1024;

export interface RunOptions {
  timeoutMs: number;
  driver: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Aborting kills the command (with its process group on POSIX), e.g. ARP repeats a disable overtakes. */
  signal?: AbortSignal;
  /** Written to the command's stdin (then closed), e.g. `ip -batch -`; stdin is empty otherwise. */
  input?: string;
}

export function runArgv(argv: string[], opts: RunOptions): Promise<ScriptRun> {
  const started = performance.now();
  const [file, ...args] = argv;
  const base = { argv: argv.slice(0, 64), driver: opts.driver };
  if (!file) {
    return Promise.resolve({ ...base, ok: false, exitCode: null, stdout: "", stderr: "empty command", durationMs: 0, timedOut: false });
  }
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let settled = false;
    const posix = process.platform !== "win32";
    const child = spawn(file, args, {
      shell: false,
      windowsHide: true,
      detached: posix, // own process group, so the timeout kills the whole script
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (opts.input !== undefined) {
      child.stdin?.on("error", () => {}); // a command that exits without reading its input is judged by its exit code
      child.stdin?.end(opts.input);
    }
    const append = (prev: string, chunk: Buffer): string => {
      if (prev.length >= MAX_SCRIPT_OUTPUT_CHARS) return prev;
      const next = prev + chunk.toString("utf8");
      return next.length > MAX_SCRIPT_OUTPUT_CHARS ? `${next.slice(0, MAX_SCRIPT_OUTPUT_CHARS)}\n[output truncated]` : next;
    };
    child.stdout?.on("data", (c: Buffer) => (stdout = append(stdout, c)));
    child.stderr?.on("data", (c: Buffer) => (stderr = append(stderr, c)));
    const finish = (exitCode: number | null, extraErr: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (extraErr) stderr = stderr ? `${stderr}\n${extraErr}` : extraErr;
      resolve({
        ...base,
        ok: exitCode === 0 && !timedOut,
        exitCode,
        stdout,
        stderr,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        timedOut,
      });
    };
    const killGroup = () => {
      try {
        if (posix && child.pid) process.kill(-child.pid, "SIGKILL");
        else child.kill("SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, opts.timeoutMs);
    const onAbort = () => {
      if (!settled) killGroup();
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (err) => finish(null, `could not run ${file}: ${err.message}`));
    // 'close' (not 'exit') so the output of the last writes is in; a killed group closes its pipes.
    child.on("close", (code, signal) =>
      finish(code, timedOut ? `killed after its timeout of ${opts.timeoutMs} ms` : opts.signal?.aborted ? "cancelled" : signal ? `terminated by ${signal}` : null),
    );
  });
}
