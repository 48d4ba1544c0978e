// Every Switchyard process's log (console threads, host agents): one line per event with a level, the part that wrote it and its fields (pino).
// Text that came from outside (an agent's refusal reason, a host name, a browser's input) goes into
// fields, which are JSON-encoded, so a newline in it cannot forge a log line. LOG_FORMAT=json is for log
// shippers; the default "text" writes the same event as one readable line (fields JSON-encoded too).
// Each thread configures its own root once (the composition root, the control plane's worker).
import pino from "pino";

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];
export const logFormats = ["text", "json"] as const;
export type LogFormat = (typeof logFormats)[number];

/** What parts of the console log with: a sentence, and the facts as fields (never pasted into the sentence). */
export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

let root: pino.Logger | null = null;

function textLine(line: string): string {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, component, msg, pid: _pid, hostname: _hostname, ...fields } = event;
  const when = typeof time === "number" ? new Date(time).toISOString() : "";
  const name = typeof level === "number" ? (pino.levels.labels[level] ?? String(level)) : String(level);
  const extra = Object.entries(fields)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(" ");
  return `${when} ${name.toUpperCase().padEnd(5)} [${String(component ?? "console")}] ${JSON.stringify(String(msg ?? "")).slice(1, -1)}${extra ? ` ${extra}` : ""}\n`;
}

/** Sets this thread's log level and format (called once by the thread's entry; later calls replace it). */
export function configureLogging(opts: { level: LogLevel; format: LogFormat; write?: (line: string) => void }): void {
  const base = { level: opts.level, base: undefined, timestamp: pino.stdTimeFunctions.epochTime };
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  root = opts.format === "json" ? (opts.write ? pino(base, { write }) : pino(base)) : pino(base, { write: (line: string) => write(textLine(line)) });
}

function currentRoot(): pino.Logger {
  root ??= pino({ level: process.env.LOG_LEVEL && (logLevels as readonly string[]).includes(process.env.LOG_LEVEL) ? process.env.LOG_LEVEL : "info", base: undefined });
  return root;
}

/**
 * A logger for one part of the console ("controller", "agents", "alarms"…). It follows this thread's
 * configuration even when made before configureLogging ran (modules make theirs at load).
 */
export function logger(component: string): Logger {
  let cached: { root: pino.Logger; child: pino.Logger } | null = null;
  const get = (): pino.Logger => {
    const r = currentRoot();
    if (cached?.root !== r) cached = { root: r, child: r.child({ component }) };
    return cached.child;
  };
  return {
    error: (msg, fields) => get().error(fields ?? {}, msg),
    warn: (msg, fields) => get().warn(fields ?? {}, msg),
    info: (msg, fields) => get().info(fields ?? {}, msg),
    debug: (msg, fields) => get().debug(fields ?? {}, msg),
  };
}
