// The `switchyard-agent` command: reads flags and environment, validates them with clear errors,
// runs the agent until SIGTERM/SIGINT, or checks another agent's health file (--check-health).
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { Agent, AGENT_VERSION, HEALTH_REFRESH_MS } from "./agent";
import { configureLogging, logFormats, logger, logLevels, type LogFormat, type LogLevel } from "../protocol/log";

const HELP = `switchyard-agent ${AGENT_VERSION}: the Switchyard host agent (supervises applications,
sets their role and runs VIP / NLB control scripts for the console)

Usage: switchyard-agent --console URL[,URL...] --host NAME --token-file FILE [options]

Required (flag or environment):
  --console URL[,URL...]  console agent port, e.g. https://console.example:3001  SWITCHYARD_CONSOLE_URL
                          (a highly available console: every instance's, comma-separated; the
                          agent finds the leader and follows a follower's redirect only inside this list)
  --host NAME             this host's name as configured in the console         SWITCHYARD_HOST
  --token-file FILE       file holding this host's agent token                  SWITCHYARD_TOKEN_FILE

Options:
  --state-dir DIR         command ledger, keepers, app configs, health file (default ${defaultStateDir()})   SWITCHYARD_STATE_DIR
  --log-dir DIR           application stdout/stderr logs (default STATE_DIR/logs)                   SWITCHYARD_LOG_DIR
  --health-file FILE      health JSON rewritten every ${HEALTH_REFRESH_MS / 1000} s (default STATE_DIR/health.json)
  --local-port PORT       port of the local application contract on 127.0.0.1 (default 0: any free port)  SWITCHYARD_LOCAL_PORT
  --stop-apps-on-exit     on SIGTERM also stop the applications (default: leave them running under
                          their keepers; the next agent re-attaches to them)
  --metrics-port PORT     serve Prometheus metrics (connection, commands, script durations, process)
                          on GET /metrics at this port (default: none)                  SWITCHYARD_METRICS_PORT
  --metrics-host ADDR     address of the metrics port (default 127.0.0.1; 0.0.0.0 for a remote
                          Prometheus: it has no authentication, so firewall it)         SWITCHYARD_METRICS_HOST
  --allow-os-commands     run OS commands the console sends (alarm reactions); off by default, because
                          then a console administrator can run any program here as this agent's user
  --initial-backoff-ms N  first reconnect delay (default 250)
  --max-backoff-ms N      longest reconnect delay (default 10000)
  --log-max-file-bytes N  size of one application log file before rotation (default 10485760)
  --log-max-files N       rotated log files kept per application (default 5)
  --check-health          exit 0 if the agent using this state dir / health file is connected, 1 if not
  --help                  this text
  --version               print the version

Environment only:
  LOG_LEVEL               fatal, error, warn, info (default), debug, trace or silent
  LOG_FORMAT              text (default: one readable line per event) or json (for log shippers);
                          text from outside (a server's output, the console's refusals) is escaped
`;

function defaultStateDir(): string {
  return process.platform === "win32"
    ? path.join(process.env.ProgramData ?? "C:\\ProgramData", "switchyard-agent")
    : "/var/lib/switchyard-agent";
}

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const consoleUrlSchema = z
  .string()
  .url("--console must be a URL such as http://console:3001 (the console's agent port), or several separated by commas")
  .refine((u) => /^https?:\/\//.test(u), "--console must start with http:// or https://");

const cliSchema = z.object({
  console: z
    .string({ error: "--console (or SWITCHYARD_CONSOLE_URL) is required" })
    .transform((v) => v.split(",").map((u) => u.trim()).filter((u) => u !== ""))
    .pipe(
      z
        .array(consoleUrlSchema)
        .min(1, "--console (or SWITCHYARD_CONSOLE_URL) is required")
        .superRefine((urls, ctx) => {
          const seen = new Set<string>();
          for (const u of urls) {
            const origin = new URL(u).origin;
            if (seen.has(origin)) ctx.addIssue({ code: "custom", message: `--console names ${origin} twice` });
            seen.add(origin);
          }
        }),
    ),
  host: z
    .string({ error: "--host (or SWITCHYARD_HOST) is required" })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "--host must be letters, digits, '.', '_' and '-'"),
  tokenFile: z.string({ error: "--token-file (or SWITCHYARD_TOKEN_FILE) is required" }).min(1),
  stateDir: z.string().min(1),
  logDir: z.string().min(1).optional(),
  healthFile: z.string().min(1).optional(),
  localPort: intFrom(0, 65535),
  metricsPort: intFrom(0, 65535).optional(),
  metricsHost: z.string().min(1),
  initialBackoffMs: intFrom(10, 60_000),
  maxBackoffMs: intFrom(100, 600_000),
  logMaxFileBytes: intFrom(1024, 1024 ** 3),
  logMaxFiles: intFrom(0, 100),
  stopAppsOnExit: z.boolean(),
  allowOsCommands: z.boolean(),
});

function fail(message: string): never {
  process.stderr.write(`switchyard-agent: ${message}\nRun switchyard-agent --help for usage.\n`);
  process.exit(2);
}

function readToken(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8").trim();
  } catch (err) {
    fail(`cannot read the token file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (text.length < 16) fail(`the token file ${file} must hold the host's agent token (at least 16 characters); it holds ${text.length}`);
  if (process.platform !== "win32") {
    const mode = fs.statSync(file).mode & 0o077;
    if (mode !== 0) process.stderr.write(`switchyard-agent: warning: ${file} is readable by group or others; chmod 600 it\n`);
  }
  return text;
}

function main(): void {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        console: { type: "string" },
        host: { type: "string" },
        "token-file": { type: "string" },
        "state-dir": { type: "string" },
        "log-dir": { type: "string" },
        "health-file": { type: "string" },
        "local-port": { type: "string" },
        "metrics-port": { type: "string" },
        "metrics-host": { type: "string" },
        "initial-backoff-ms": { type: "string" },
        "max-backoff-ms": { type: "string" },
        "log-max-file-bytes": { type: "string" },
        "log-max-files": { type: "string" },
        "stop-apps-on-exit": { type: "boolean" },
        "allow-os-commands": { type: "boolean" },
        "check-health": { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.version) {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return;
  }
  const env = process.env;
  const stateDir = (values["state-dir"] as string | undefined) ?? env.SWITCHYARD_STATE_DIR ?? defaultStateDir();

  if (values["check-health"]) {
    const file = (values["health-file"] as string | undefined) ?? path.join(stateDir, "health.json");
    try {
      const h = JSON.parse(fs.readFileSync(file, "utf8")) as { connection?: string; updatedAt?: string };
      const ageMs = Date.now() - Date.parse(h.updatedAt ?? "");
      const fresh = ageMs <= 3 * HEALTH_REFRESH_MS;
      process.stdout.write(`${h.connection ?? "unknown"}, updated ${Math.round(ageMs / 1000)} s ago\n`);
      process.exit(h.connection === "connected" && fresh ? 0 : 1);
    } catch (err) {
      process.stdout.write(`no readable health file at ${file}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    }
  }

  const parsed = cliSchema.safeParse({
    console: values.console ?? env.SWITCHYARD_CONSOLE_URL,
    host: values.host ?? env.SWITCHYARD_HOST,
    tokenFile: values["token-file"] ?? env.SWITCHYARD_TOKEN_FILE,
    stateDir,
    logDir: values["log-dir"] ?? env.SWITCHYARD_LOG_DIR,
    healthFile: values["health-file"],
    localPort: values["local-port"] ?? env.SWITCHYARD_LOCAL_PORT ?? 0,
    metricsPort: values["metrics-port"] ?? env.SWITCHYARD_METRICS_PORT,
    metricsHost: values["metrics-host"] ?? env.SWITCHYARD_METRICS_HOST ?? "127.0.0.1",
    initialBackoffMs: values["initial-backoff-ms"] ?? 250,
    maxBackoffMs: values["max-backoff-ms"] ?? 10_000,
    logMaxFileBytes: values["log-max-file-bytes"] ?? 10 * 1024 * 1024,
    logMaxFiles: values["log-max-files"] ?? 5,
    // Stopping applications is never a side effect of an agent exit unless asked for here.
    stopAppsOnExit: values["stop-apps-on-exit"] === true,
    // A flag only, no environment variable: the opt-in should be visible on the command line.
    allowOsCommands: values["allow-os-commands"] === true,
  });
  if (!parsed.success) {
    fail(`invalid configuration:\n${parsed.error.issues.map((i) => `  - ${i.message}${i.path.length ? ` (${i.path.join(".")})` : ""}`).join("\n")}`);
  }
  const o = parsed.data;
  if (o.maxBackoffMs < o.initialBackoffMs) fail(`--max-backoff-ms ${o.maxBackoffMs} is below --initial-backoff-ms ${o.initialBackoffMs}`);
  const level = process.env.LOG_LEVEL ?? "info";
  const format = process.env.LOG_FORMAT ?? "text";
  if (!(logLevels as readonly string[]).includes(level)) fail(`LOG_LEVEL must be one of ${logLevels.join(", ")} (got ${JSON.stringify(level)})`);
  if (!(logFormats as readonly string[]).includes(format)) fail(`LOG_FORMAT must be one of ${logFormats.join(", ")} (got ${JSON.stringify(format)})`);
  configureLogging({ level: level as LogLevel, format: format as LogFormat });
  const log = logger("agent");
  const agent = new Agent({
    consoleUrls: o.console,
    hostName: o.host,
    token: readToken(o.tokenFile),
    stateDir: o.stateDir,
    logDir: o.logDir ?? path.join(o.stateDir, "logs"),
    healthFile: o.healthFile ?? path.join(o.stateDir, "health.json"),
    localPort: o.localPort,
    stopAppsOnExit: o.stopAppsOnExit,
    initialBackoffMs: o.initialBackoffMs,
    maxBackoffMs: o.maxBackoffMs,
    logMaxFileBytes: o.logMaxFileBytes,
    logMaxRotatedFiles: o.logMaxFiles,
    allowOsCommands: o.allowOsCommands,
    metrics: o.metricsPort === undefined ? null : { host: o.metricsHost, port: o.metricsPort },
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      // A second Ctrl-C is someone at a terminal who wants out now. A second SIGTERM is not: a service
      // manager or a process-group broadcast plus a targeted signal arrive together, and exiting on it
      // would cut the stop short (an application's exit not acknowledged to its keeper).
      if (signal === "SIGINT") {
        process.stderr.write("switchyard-agent: second SIGINT, exiting now\n");
        process.exit(1);
      }
      return;
    }
    stopping = true;
    log.info(`${signal} received, stopping`, { host: o.host });
    agent.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error("error while stopping", { host: o.host, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  agent.start().catch((err: unknown) => fail(`could not start: ${err instanceof Error ? err.message : String(err)}`));
}

main();
