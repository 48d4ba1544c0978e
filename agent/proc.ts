// Process identity that survives an agent restart: a pid alone can be reused by an unrelated process
// once the original exits, so a recorded process is (pid, start time in clock ticks since boot from
// /proc/<pid>/stat field 22, boot id). Only when all three match is it the same process. Linux only;
// elsewhere the identity cannot be checked and callers must treat the process as unknown.
import fs from "node:fs";

export interface ProcessIdentity {
  pid: number;
  /** /proc/<pid>/stat field 22 (starttime), clock ticks since boot; null where /proc is unavailable. */
  startTimeTicks: number | null;
  /** /proc/sys/kernel/random/boot_id: a start time from another boot means nothing. */
  bootId: string | null;
}

export interface ProcStat {
  state: string;
  startTimeTicks: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) sits in parentheses and may itself contain
 * spaces and parentheses, so fields are counted after the LAST ')'.
 */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  const rest = text.slice(close + 1).trim().split(/\s+/);
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  const state = rest[0];
  const start = Number(rest[19]);
  if (!state || !Number.isSafeInteger(start) || start < 0) return null;
  return { state, startTimeTicks: start };
}

export function readProcStat(pid: number): ProcStat | null {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null; // no such process, or no /proc
  }
}

let bootIdCache: string | null | undefined;
export function currentBootId(): string | null {
  if (bootIdCache !== undefined) return bootIdCache;
  try {
    bootIdCache = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    bootIdCache = null;
  }
  return bootIdCache;
}

/** The identity of a process running now (start time null where /proc is unavailable). */
export function identityOf(pid: number): ProcessIdentity {
  return { pid, startTimeTicks: readProcStat(pid)?.startTimeTicks ?? null, bootId: currentBootId() };
}

export type Liveness =
  /** pid, start time and boot id match a live process. */
  | "alive"
  /** Nothing with that identity runs (exited, a zombie, or the pid now belongs to another process). */
  | "gone"
  /** Cannot be told (no /proc, or no start time recorded). */
  | "unknown";

/**
 * Is the recorded process still the one running under its pid? A zombie counts as gone: it has
 * exited and only waits for its parent to collect the status.
 */
export function livenessOf(recorded: ProcessIdentity, read: (pid: number) => ProcStat | null = readProcStat, bootId: string | null = currentBootId()): Liveness {
  if (recorded.startTimeTicks === null || recorded.bootId === null || bootId === null) return "unknown";
  if (recorded.bootId !== bootId) return "gone";
  const stat = read(recorded.pid);
  if (!stat) return "gone";
  if (stat.startTimeTicks !== recorded.startTimeTicks) return "gone"; // pid reused
  if (stat.state === "Z" || stat.state === "X") return "gone";
  return "alive";
}

/**
 * Signals a recorded process only if it is still the same process (the start time is checked
 * right before the kill; a reuse between the check and the signal is the remaining race that a
 * pidfd would close, which Node does not offer).
 */
export function signalIfSame(recorded: ProcessIdentity, signal: NodeJS.Signals): boolean {
  if (livenessOf(recorded) !== "alive") return false;
  try {
    process.kill(recorded.pid, signal);
    return true;
  } catch {
    return false;
  }
}
