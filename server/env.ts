// Typed environment of the console, validated once at start: a bad value stops the process with a
// message naming the variable, instead of failing later in the middle of an operation.
import { z } from "zod";
import { logFormats, logLevels } from "./log";
import { parseProxyEntry } from "./client-address";
import { dialectOf, isDatabaseUrl } from "./db/dialect";
import { HEARTBEAT_INTERVAL_MAX_MS, HEARTBEAT_INTERVAL_MIN_MS, HEARTBEAT_TIMEOUT_MAX_MS, HEARTBEAT_TIMEOUT_MIN_MS, heartbeatProblem } from "../protocol/limits";
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_HEARTBEAT_TIMEOUT_MS } from "../protocol/vocabulary";
import { DEFAULT_LEASE_TIMING, leaseTimingProblem } from "./leader/lease-core";

const booleanish = z.enum(["auto", "true", "false"]);

export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * Host agents connect here (socket.io namespace /agent), served by the control plane's own thread so
   * the web tier cannot starve it. 0 picks a free port (tests). Defaults: HOST and 3001.
   */
  AGENT_HOST: z.string().min(1).optional(),
  AGENT_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  /**
   * Prometheus metrics (GET /metrics): on the web port by default, or only on this port (on
   * METRICS_HOST, default HOST) when set — a scrape network apart from the operators' one.
   */
  METRICS_HOST: z.string().min(1).optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** token: /metrics needs an API token (any role) as Authorization: Bearer; none: open to whoever reaches the port. */
  METRICS_AUTH: z.enum(["token", "none"]).default("token"),
  /** Largest HTTP request body the console reads (API calls, configuration imports); larger ones get 413 before they are read. */
  MAX_REQUEST_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(16 * 1024 * 1024),
  /** file:./path.db: SQLite (the embedded default); postgresql://user:password@host:5432/db: PostgreSQL (server/db/dialect.ts). */
  DATABASE_URL: z
    .string()
    .refine((url) => isDatabaseUrl(url), "a SQLite file URL (file:./path.db) or a PostgreSQL URL (postgresql://user:password@host:5432/db)")
    .default("file:./data/switchyard.db"),
  /** Public base URL used in printed links (setup link); defaults to http://HOST:PORT. */
  PUBLIC_URL: z.string().url().optional(),
  /** First admin, created on first start when no user exists. Never defaulted. */
  SWITCHYARD_ADMIN_USER: z.string().min(1).max(64).optional(),
  SWITCHYARD_ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
  SESSION_TTL_HOURS: z.coerce.number().positive().max(24 * 30).default(12),
  /** auto: Secure cookies when the request arrived over HTTPS (or X-Forwarded-Proto from a TRUSTED_PROXIES peer says so). */
  SECURE_COOKIES: booleanish.default("auto"),
  /**
   * Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (addresses or CIDR blocks,
   * comma-separated). Empty: the socket's peer is the client, and both headers are ignored.
   */
  TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((text, ctx) => {
      const entries = text.split(",").map((e) => e.trim()).filter((e) => e !== "");
      for (const entry of entries) {
        if (!parseProxyEntry(entry)) ctx.addIssue({ code: "custom", message: `${entry} is not an address or CIDR block (e.g. 10.0.0.5 or 10.0.0.0/24)` });
      }
      return entries;
    }),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(15 * 60),
  /**
   * The site's heartbeat profile, for hosts without their own (a host's settings override it): agents
   * send a heartbeat every HEARTBEAT_INTERVAL_MS; a host whose agent sent nothing for
   * HEARTBEAT_TIMEOUT_MS is reported disconnected (W3). README, "Heartbeat profiles".
   */
  HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(HEARTBEAT_INTERVAL_MIN_MS).max(HEARTBEAT_INTERVAL_MAX_MS).default(DEFAULT_HEARTBEAT_INTERVAL_MS),
  HEARTBEAT_TIMEOUT_MS: z.coerce.number().int().min(HEARTBEAT_TIMEOUT_MIN_MS).max(HEARTBEAT_TIMEOUT_MAX_MS).default(DEFAULT_HEARTBEAT_TIMEOUT_MS),
  /** A pair left in maintenance (no failover) this long raises the maintenance-too-long alarm; 1 minute to 30 days. */
  MAINTENANCE_ALARM_AFTER_MINUTES: z.coerce.number().int().min(1).max(43_200).default(240),
  /** Lab mode: every pair uses the lab VIP driver with this shared directory (demo and tests only). */
  SWITCHYARD_LAB_STATE_DIR: z.string().min(1).optional(),
  /** Set to "false" to serve only the API and sockets, without the web pages (no production build needed). */
  SWITCHYARD_WEB_PAGES: z.enum(["true", "false"]).default("true"),
  /** Set to "false" to run the console without the agent gateway and controller (configuration only). */
  SWITCHYARD_CONTROLLER: z.enum(["true", "false"]).default("true"),
  /** Least level written to the console's log (silent: nothing). */
  LOG_LEVEL: z.enum(logLevels).default("info"),
  /** text: one readable line per event; json: one JSON object per line, for log shippers. */
  LOG_FORMAT: z.enum(logFormats).default("text"),
  /** Log events older than this are pruned by the alarm engine (alarms themselves are kept). */
  ALARM_LOG_RETENTION_DAYS: z.coerce.number().positive().max(3650).default(30),
  /**
   * Several consoles on one PostgreSQL (README, "Several consoles"): this instance's name, unique among
   * them and stable across its restarts (default: the host name, plus the web port on PostgreSQL).
   */
  SWITCHYARD_INSTANCE_ID: z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, "letters, digits, '.', '_', ':' and '-'").optional(),
  /** How many console instances this site runs: with 2 or more, the leader raises no-follower when none is alive. */
  SWITCHYARD_CONSOLES: z.coerce.number().int().min(1).max(9).default(1),
  /**
   * The leadership lease: its TTL, how often it is renewed, and how long before its end the leader stops
   * commanding (server/leader/lease-core.ts). The TTL defaults to 5 s on PostgreSQL (a dead leader is
   * replaced that fast) and 60 s on SQLite, where one console runs alone and a long write of the web
   * tier (an import) holds the file's write lock the renewals need.
   */
  LEASE_TTL_MS: z.coerce.number().int().min(500).max(600_000).optional(),
  LEASE_RENEW_MS: z.coerce.number().int().min(100).max(60_000).default(DEFAULT_LEASE_TIMING.renewIntervalMs),
  LEASE_MARGIN_MS: z.coerce.number().int().min(0).max(60_000).default(DEFAULT_LEASE_TIMING.safetyMarginMs),
  /** Where agents reach this console's agent port, when not http://AGENT_HOST:AGENT_PORT (followers tell agents the leader's). */
  AGENT_PUBLIC_URL: z.string().url().optional(),
});

export type Env = Omit<z.infer<typeof envSchema>, "LEASE_TTL_MS"> & { LEASE_TTL_MS: number };

/** The lease TTL on SQLite when LEASE_TTL_MS is not set (see LEASE_TTL_MS). */
export const SQLITE_LEASE_TTL_MS = 60_000;

export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join("\n")}`);
  }
  const heartbeat = heartbeatProblem(parsed.data.HEARTBEAT_INTERVAL_MS, parsed.data.HEARTBEAT_TIMEOUT_MS);
  if (heartbeat) throw new Error(`Invalid environment:\n  HEARTBEAT_TIMEOUT_MS: ${heartbeat} (HEARTBEAT_INTERVAL_MS is ${parsed.data.HEARTBEAT_INTERVAL_MS})`);
  const env: Env = { ...parsed.data, LEASE_TTL_MS: parsed.data.LEASE_TTL_MS ?? (dialectOf(parsed.data.DATABASE_URL) === "sqlite" ? SQLITE_LEASE_TTL_MS : DEFAULT_LEASE_TIMING.ttlMs) };
  const lease = leaseTimingProblem({ ttlMs: env.LEASE_TTL_MS, renewIntervalMs: parsed.data.LEASE_RENEW_MS, safetyMarginMs: parsed.data.LEASE_MARGIN_MS });
  if (lease) throw new Error(`Invalid environment:\n  LEASE_TTL_MS: ${lease}`);
  if (parsed.data.SWITCHYARD_ADMIN_USER && !parsed.data.SWITCHYARD_ADMIN_PASSWORD) {
    throw new Error("Invalid environment:\n  SWITCHYARD_ADMIN_PASSWORD: required when SWITCHYARD_ADMIN_USER is set");
  }
  return env;
}
