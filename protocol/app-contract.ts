// The local application contract: how a host agent and an application on the same host talk, over
// HTTP on loopback. Real SIP Server adapters and the lab simulator (lab/) implement the application
// side; the host agent (agent/) implements the agent side. Neither imports anything else from the
// other. Every body is JSON and validated with these schemas on arrival (.strict(): unknown fields
// are refused). Documented for operators in README.md ("Local application contract").
//
// Environment the agent gives an application it starts:
//   SWITCHYARD_APP_NAME      the application's name in the configuration
//   SWITCHYARD_AGENT_URL     http://127.0.0.1:<port> of the agent's local endpoint
//   SWITCHYARD_APP_SECRET    per-start secret; the app sends it as `Authorization: Bearer <secret>`
//                            to the agent, and the agent sends it to the app, so no other local
//                            process can forge a role change or a status report
//   SWITCHYARD_CONFIG_FILE   path of a JSON file matching appConfigSchema (rewritten by the agent
//                            when options change, followed by POST /switchyard/v1/reload)
//
// Agent → application, on the application's `http-port` (loopback):
//   GET  /server?sipServer          readiness report (sipServerStatusSchema), as SIP Server does
//   POST /switchyard/v1/role        setRoleRequestSchema  → 200 setRoleResponseSchema
//                                                          → 409 staleEpochResponseSchema (fencing)
//   POST /switchyard/v1/console     consoleConnectionSchema: the agent tells whether it is connected to
//                                   the console (for control-vip-scripts, W8) → 204
//   POST /switchyard/v1/reload      re-read SWITCHYARD_CONFIG_FILE and apply what takes effect
//                                   immediately → 204 (the rest waits for its moment: the HA link's
//                                   next establishment, or a restart)
//   GET  /switchyard/v1/running     runningConfigSchema: the option values the server runs with now,
//                                   its version and the configuration revision it last read
//
// Application → agent, on SWITCHYARD_AGENT_URL:
//   POST /v1/apps/:name/status      appStatusReportSchema (running | service-unavailable, role, epoch)
//   POST /v1/apps/:name/events      logEventsSchema (log events, e.g. 00-04200)
//   POST /v1/apps/:name/control-script  controlScriptRequestSchema → controlScriptResultSchema
//                                   (the server asks its agent to run the VIP/NLB script, W9)
//   GET  /v1/apps/:name/vip         → vipPresenceSchema (is the pair's VIP enabled on this host, W9)
import { z } from "zod";
import { appRoles, servingProcessStatuses, type AppRole } from "./vocabulary";
import { boundedString, LOG_EVENT_TEXT_MAX_CHARS } from "./limits";

export const APP_CONTRACT_VERSION = 1;

export { appRoles, type AppRole };

export const setRoleRequestSchema = z
  .object({
    role: z.enum(appRoles),
    /** The pair's epoch; an application refuses an epoch lower than the one it holds. */
    epoch: z.number().int().min(0),
    commandId: z.string().min(1).max(128),
  })
  .strict();
export type SetRoleRequest = z.infer<typeof setRoleRequestSchema>;

export const setRoleResponseSchema = z.object({ role: z.enum(appRoles), epoch: z.number().int().min(0) }).strict();
export const staleEpochResponseSchema = z
  .object({ error: z.literal("stale-epoch"), epoch: z.number().int().min(0), message: z.string() })
  .strict();

export const consoleConnectionSchema = z.object({ connected: z.boolean() }).strict();

/** What a server reports of itself: it is serving, with SIP traffic or without (SERVICE_UNAVAILABLE). */
export const appStatuses = servingProcessStatuses;
export const appStatusReportSchema = z
  .object({
    status: z.enum(appStatuses),
    role: z.enum(appRoles),
    epoch: z.number().int().min(0),
    /** Why, in words (e.g. "no SIP traffic for 10 s; back-off 2x"). */
    detail: z.string().max(1000).default(""),
    /** Current out-of-service back-off multiplier (1, 2 or 4), W5. */
    oosBackoff: z.number().int().min(1).max(4).optional(),
  })
  .strict();
export type AppStatusReport = z.infer<typeof appStatusReportSchema>;

export const logEventSchema = z
  .object({
    /** Genesys-style event id, e.g. 00-04200, 00-52027. */
    id: z.string().regex(/^\d{2}-\d{5}$/, "must look like 00-04200"),
    text: boundedString(LOG_EVENT_TEXT_MAX_CHARS),
    time: z.string().datetime({ offset: true }),
    level: z.enum(["standard", "alarm", "interaction", "trace", "debug"]).default("standard"),
  })
  .strict();
export const logEventsSchema = z.object({ events: z.array(logEventSchema).min(1).max(1000) }).strict();
export type LogEvent = z.infer<typeof logEventSchema>;

export const controlScriptRequestSchema = z
  .object({ action: z.enum(["enable", "disable"]), reason: z.string().max(500).default("") })
  .strict();
export const controlScriptResultSchema = z
  .object({
    ok: z.boolean(),
    exitCode: z.number().int().nullable(),
    stdout: z.string(),
    stderr: z.string(),
    durationMs: z.number().min(0),
    timedOut: z.boolean(),
  })
  .strict();
export type ControlScriptResult = z.infer<typeof controlScriptResultSchema>;

export const vipPresenceSchema = z.object({ present: z.boolean(), address: z.string() }).strict();

/** Readiness and state as SIP Server reports it at GET /server?sipServer (W13). */
export const sipServerStatusSchema = z
  .object({
    role: z.enum(appRoles),
    epoch: z.number().int().min(0),
    status: z.enum(appStatuses),
    haLink: z.enum(["up", "down"]),
    /** When the HA link last came up (ISO time), or null. */
    haLinkUpSince: z.string().nullable(),
    calls: z.object({ total: z.number().int(), synced: z.number().int(), multisite: z.number().int() }).strict(),
    readyForSwitchover: z.union([z.literal(0), z.literal(1)]),
    readyForUpgrade: z.union([z.literal(0), z.literal(1)]),
    /** Plain reasons readiness is 0 (empty when ready), e.g. "HA link up for 12 s of the 60 s needed". */
    notReadyReasons: z.array(z.string()),
    sipListener: z.enum(["bound", "bind-failed"]),
    oosBackoff: z.number().int().min(1).max(4),
  })
  .strict();
export type SipServerStatus = z.infer<typeof sipServerStatusSchema>;

/** What an application is given to run with (SWITCHYARD_CONFIG_FILE). */
export const appConfigSchema = z
  .object({
    name: z.string(),
    type: z.string(),
    host: z.string(),
    /** Which configuration this file is (the console's revision); reported back in runningConfigSchema. */
    configRevision: z.string().max(128).default(""),
    /** The host's own SIP NIC address (127.0.x.y in the lab): monitoring and the HA link use it. */
    sipAddress: z.string(),
    /**
     * The address the SIP listener binds. For an ip-takeover pair this is the VIP: the primary answers
     * SIP there (a SIP Server binds it while it is primary); otherwise the host's SIP NIC address.
     */
    sipListenAddress: z.string(),
    /** The address written into SIP headers (Via, Contact): the VIP for ip-takeover, else sipAddress. */
    sipAdvertisedAddress: z.string(),
    sipPort: z.number().int().nullable(),
    haPort: z.number().int().nullable(),
    /** The other server of the pair, for the HA link; null when not in a pair. */
    peer: z
      .object({ name: z.string(), address: z.string(), haPort: z.number().int() })
      .strict()
      .nullable(),
    /**
     * The role to start in and the epoch that order belongs to. The controller decides it for every
     * start (a server started while its partner serves starts as backup); a server never claims a role
     * at an epoch it was not given.
     */
    initialRole: z.enum(appRoles),
    initialEpoch: z.number().int().min(0).default(0),
    /** The pair's shared secret: both ends of the HA link prove it before exchanging anything. */
    haSecret: z.string().max(256).nullable().default(null),
    /** Options by name (application level, section TServer). */
    options: z.record(z.string(), z.string()),
    /** Service DNs with their options (oos-check, oos-force, contact). */
    dns: z.record(z.string(), z.record(z.string(), z.string())),
  })
  .strict();
export type AppConfig = z.infer<typeof appConfigSchema>;

/** GET /switchyard/v1/running: what the server runs with now (options by name, DN options, version). */
export const runningConfigSchema = z
  .object({
    /** The appConfig configRevision the server last read, or null when it runs without a file. */
    configRevision: z.string().max(128).nullable(),
    /** The server's own version (shown before and after a rolling upgrade, W14). */
    version: z.string().max(64),
    /** Application-level option values in effect now (section TServer). */
    options: z.record(z.string(), z.string()),
    /** Service DN option values in effect now. */
    dns: z.record(z.string(), z.record(z.string(), z.string())),
  })
  .strict();
export type RunningConfig = z.infer<typeof runningConfigSchema>;
