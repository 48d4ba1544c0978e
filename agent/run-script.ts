// Runs one argv (no shell) with a timeout: output captured up to a bound, exit code and duration
// measured, and a process that outlives its timeout killed (with its process group on POSIX, so a
// script's own children die too) and reported as failed. A command that reads its work from stdin
// (`ip -batch -`) can also be started ahead of need and given its input later (`startArgv`), so the
// process spawn is not paid at the moment the work is wanted (the failover path, agent/DECISIONS.md §11).
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import type { ScriptRun } from "../protocol/agent-wire";

/** Captured output per stream; the rest is dropped with a marker so a chatty script cannot exhaust memory. */
export const MAX_SCRIPT_OUTPUT_CHARS = 64 * 1024;

export interface SpawnOptions {
  driver: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface FeedOptions {
  timeoutMs: number;
  /** Aborting kills the command (with its process group on POSIX), e.g. ARP repeats a disable overtakes. */
  signal?: AbortSignal;
  /** Written to the command's stdin (then closed), e.g. `ip -batch -`; stdin is empty otherwise. */
  input?: string;
}

export type RunOptions = SpawnOptions & FeedOptions;

/** A process started ahead of need, waiting on its stdin for the one input it will be given. */
export interface WaitingProcess {
  readonly pid: number | undefined;
  /** Not yet given its input, and neither exited nor closed: `feed` will run it now. */
  readonly waiting: boolean;
  /** Settles when the process has exited and its pipes closed (whether it was fed or not). */
  readonly exited: Promise<void>;
  /** Gives it its input (stdin is then closed) and resolves with the run; the timeout starts now. */
  feed(opts: FeedOptions): Promise<ScriptRun>;
  /** Kills it (with its process group) unless it was fed; for a process no longer wanted. */
  close(): void;
}

export function startArgv(argv: string[], opts: SpawnOptions): WaitingProcess {
  const [file, ...args] = argv;
  const base = { argv: argv.slice(0, 64), driver: opts.driver };
  let stdout = "";
  let stderr = "";
  let exit: { code: number | null; signal: NodeJS.Signals | null; error: string | null } | null = null;
  let fed = false;
  let closedByUs = false;
  let onExit: () => void = () => {};
  const exited = new Promise<void>((resolve) => (onExit = resolve));
  const posix = process.platform !== "win32";
  if (!file) {
    exit = { code: null, signal: null, error: "empty command" };
    onExit();
  }
  const child = file
    ? spawn(file, args, {
        shell: false,
        windowsHide: true,
        detached: posix, // own process group, so the timeout kills the whole script
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        stdio: ["pipe", "pipe", "pipe"],
      })
    : null;
  const append = (prev: string, chunk: Buffer): string => {
    if (prev.length >= MAX_SCRIPT_OUTPUT_CHARS) return prev;
    const next = prev + chunk.toString("utf8");
    return next.length > MAX_SCRIPT_OUTPUT_CHARS ? `${next.slice(0, MAX_SCRIPT_OUTPUT_CHARS)}\n[output truncated]` : next;
  };
  const killGroup = () => {
    if (!child) return;
    try {
      if (posix && child.pid) process.kill(-child.pid, "SIGKILL");
      else child.kill("SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  };
  if (child) {
    child.stdin?.on("error", () => {}); // a command that exits without reading its input is judged by its exit code
    child.stdout?.on("data", (c: Buffer) => (stdout = append(stdout, c)));
    child.stderr?.on("data", (c: Buffer) => (stderr = append(stderr, c)));
    child.on("error", (err) => {
      if (exit) return;
      exit = { code: null, signal: null, error: `could not run ${file}: ${err.message}` };
      onExit();
    });
    // 'close' (not 'exit') so the output of the last writes is in; a killed group closes its pipes.
    child.on("close", (code, signal) => {
      if (exit) return;
      exit = { code, signal, error: null };
      onExit();
    });
  }

  return {
    pid: child?.pid,
    get waiting() {
      return !fed && !closedByUs && exit === null;
    },
    exited,
    close() {
      if (fed || closedByUs) return;
      closedByUs = true;
      if (exit === null) killGroup();
    },
    feed(feedOpts: FeedOptions): Promise<ScriptRun> {
      if (fed) throw new Error(`${file ?? "command"} was already given its input`);
      fed = true;
      const started = performance.now();
      let timedOut = false;
      const done = (early: boolean): ScriptRun => {
        const e = exit!;
        const why = e.error ?? (timedOut ? `killed after its timeout of ${feedOpts.timeoutMs} ms` : feedOpts.signal?.aborted ? "cancelled" : closedByUs ? "closed before it was given its input" : e.signal ? `terminated by ${e.signal}` : null);
        const extra = early && e.error === null && !closedByUs ? "it exited before it was given its input" : null;
        const err = [stderr, why, extra].filter((s): s is string => Boolean(s)).join("\n");
        return {
          ...base,
          ok: !early && e.code === 0 && !timedOut && e.error === null,
          exitCode: e.error === null ? e.code : null,
          stdout,
          stderr: err,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          timedOut,
        };
      };
      if (exit !== null || closedByUs) {
        // It died while it waited (or was closed): the caller sees why, and nothing was run.
        return exited.then(() => done(true));
      }
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, feedOpts.timeoutMs);
      const onAbort = () => {
        if (exit === null) killGroup();
      };
      feedOpts.signal?.addEventListener("abort", onAbort, { once: true });
      if (feedOpts.signal?.aborted) onAbort();
      child!.stdin?.end(feedOpts.input ?? "");
      return exited.then(() => {
        clearTimeout(timer);
        feedOpts.signal?.removeEventListener("abort", onAbort);
        return done(false);
      });
    },
  };
}

export function runArgv(argv: string[], opts: RunOptions): Promise<ScriptRun> {
  return startArgv(argv, opts).feed(opts);
}
