// The one wire protocol between the console and its host agents (socket.io namespace /agent): typed
// event maps plus a zod schema for every message. The console gateway (server/agents/) and the
// agent (agent/) both import this module and nothing else from each other. Every payload is
// validated on arrival with these schemas; wire objects are .strict() so an unknown field is an
// error, not silently carried.
//
// Connection sequence (the agent authenticates in the socket.io handshake, so an unauthenticated
// socket never reaches a message handler):
//   agent  → handshake auth = agentHelloSchema (host, token, agent version, protocol version)
//   console→ refuses with a connect_error { message, data: refusalSchema } on a bad token, a
//            protocol mismatch, or because it is not the leader (a follower of a highly available
//            console: `not-leader`, with the leader's agent URL when it knows it), or accepts and sends
//            `welcome` (with its leadership term), then `config`
//   agent  → refuses a welcome whose term is older than the highest it has seen (a deposed leader)
//   agent  → acks `config`, sends `resync` (full status), then resends results not yet acknowledged
//   both   → `heartbeat` every heartbeatIntervalMs, acknowledged by the console
//   console→ `command` (start | stop | set-role | run-control-script for an application, run-os-command
//            for the host itself); retried with the same id
//   agent  → `commandResult` (acknowledged; resent after a reconnect until acknowledged)
//   agent  → acknowledges each `command` at once on receipt (socket.io ack with a commandReceipt), so
//            the console knows it arrived and does not send it again while it runs
//   agent  → `appStatus`, `roleReport`, `readiness`, `logEvents`, `scriptRun` as things happen
//   agent  → `vipPresence` (the VIP / NLB port as observed on this host: on change and every
//            vipCheckIntervalMs), `runningConfig` (what a server runs with, after a start or a
//            reload), `configDelivery` (how an option change reached a running server)
//   console→ `readLog` (the tail of an application's log file, or the lines matching a search),
//            answered in its acknowledgement with a `logReadReply`; bounded both ways
import { z } from "zod";
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_HEARTBEAT_TIMEOUT_MS,
  haTypes,
  reportedProcessStatuses,
  scriptPlaceholders,
  type HaType,
  type ReportedProcessStatus,
} from "./vocabulary";
import {
  boundedString,
  environmentSchema,
  HEARTBEAT_INTERVAL_MAX_MS,
  HEARTBEAT_INTERVAL_MIN_MS,
  HEARTBEAT_TIMEOUT_MAX_MS,
  HEARTBEAT_TIMEOUT_MIN_MS,
  heartbeatProblem,
  OPTION_NAME_MAX_CHARS,
  OPTION_VALUE_MAX_CHARS,
  SCRIPT_TEMPLATE_MAX_CHARS,
} from "./limits";
import { appRoles, logEventSchema, sipServerStatusSchema, controlScriptResultSchema, appConfigSchema, runningConfigSchema } from "./app-contract";

/**
 * Bumped on any incompatible change to this file; both sides refuse a peer that speaks another.
 * 2: the host command run-os-command (a version-1 agent would refuse it as malformed, and a
 *    version-1 console would refuse its result, whose application and pairEpoch are null).
 * 3: `start` carries the role to start in; commands are acknowledged on receipt; the reports
 *    vipPresence, runningConfig and configDelivery; restart state and last output in appStatus;
 *    startup timeout and a restart policy with back-off in the application configuration.
 * 4: `readLog` (console → agent, answered in its ack): an application's log tail or search;
 *    `set-role` may carry `thenEnable` (the agent enables the pair's VIP / NLB port as soon as its
 *    server confirms primary, under that command's id and epoch); the host configuration carries the
 *    host's own heartbeat interval and timeout.
 * 5: console high availability: the refusal code `not-leader` (a follower console refuses every agent,
 *    with `leaderUrl` when it knows the leader's agent URL); the welcome and every command carry the
 *    leadership `term` of the console that sends them; the result outcome `stale-term` (a command
 *    whose term is older than the highest the agent has seen is not run).
 */
export const AGENT_PROTOCOL_VERSION = 5;
export const AGENT_NAMESPACE = "/agent";
export { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_HEARTBEAT_TIMEOUT_MS };

const hostNameSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "host names are letters, digits, '.', '_' and '-'");
const appNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "application names are letters, digits, '.', '_' and '-'");
const isoTimeSchema = z.string().datetime({ offset: true });
const commandIdSchema = z.string().min(1).max(128);
const epochSchema = z.number().int().min(0);
/**
 * The leadership term of a highly available console: raised every time a console instance takes the
 * leadership lease, never reused. An agent refuses a welcome or a command whose term is older than the
 * highest it has seen (a deposed leader).
 */
const termSchema = z.number().int().min(1);

// ---------------------------------------------------------------------------------------------
// 1. Handshake
// ---------------------------------------------------------------------------------------------

export const agentHelloSchema = z
  .object({
    hostName: hostNameSchema,
    token: z.string().min(16).max(512),
    agentVersion: z.string().min(1).max(64),
    protocolVersion: z.number().int().min(1),
  })
  .strict();
export type AgentHello = z.infer<typeof agentHelloSchema>;

export const refusalCodes = ["malformed-hello", "protocol-mismatch", "bad-token", "internal-error", "not-leader"] as const;
export type RefusalCode = (typeof refusalCodes)[number];
/** Carried in the connect_error's `data` when the console refuses an agent. */
export const refusalSchema = z
  .object({
    code: z.enum(refusalCodes),
    message: z.string(),
    /**
     * With `not-leader`: the leader's agent URL, when the refusing console knows it. The agent follows
     * it only when it is one of the console URLs it was given (agent/DECISIONS.md).
     */
    leaderUrl: z.string().url().nullable().optional(),
  })
  .strict();
export type Refusal = z.infer<typeof refusalSchema>;

/** A host's heartbeat interval and timeout, bounded as the console's configuration bounds them. */
export const heartbeatSettingsSchema = z
  .object({
    intervalMs: z.number().int().min(HEARTBEAT_INTERVAL_MIN_MS).max(HEARTBEAT_INTERVAL_MAX_MS),
    timeoutMs: z.number().int().min(HEARTBEAT_TIMEOUT_MIN_MS).max(HEARTBEAT_TIMEOUT_MAX_MS),
  })
  .strict()
  .superRefine((h, ctx) => {
    const problem = heartbeatProblem(h.intervalMs, h.timeoutMs);
    if (problem) ctx.addIssue({ code: "custom", path: ["timeoutMs"], message: problem });
  });
export type HeartbeatSettings = z.infer<typeof heartbeatSettingsSchema>;

export const welcomeSchema = z
  .object({
    protocolVersion: z.number().int().min(1),
    hostName: hostNameSchema,
    consoleVersion: z.string(),
    heartbeatIntervalMs: z.number().int().min(HEARTBEAT_INTERVAL_MIN_MS).max(HEARTBEAT_INTERVAL_MAX_MS),
    heartbeatTimeoutMs: z.number().int().min(HEARTBEAT_TIMEOUT_MIN_MS).max(HEARTBEAT_TIMEOUT_MAX_MS),
    /** The console's clock (ms since epoch) so the agent can judge deadlines despite clock skew. */
    consoleTimeMs: z.number().int(),
    /** The leadership term of the console that welcomes the agent. */
    term: termSchema,
  })
  .strict();
export type Welcome = z.infer<typeof welcomeSchema>;

// ---------------------------------------------------------------------------------------------
// 2. Host configuration (console → agent)
// ---------------------------------------------------------------------------------------------

export { haTypes, type HaType };

/**
 * Script templates: split into argv first, then placeholders are replaced inside each argument,
 * so a value can never become a second argument or a shell command. Placeholders:
 * {vip} {prefix} {interface} {cluster} {port} {host} {application} {pair}.
 */
export const scriptTemplateSchema = boundedString(SCRIPT_TEMPLATE_MAX_CHARS).min(1);
export const TEMPLATE_PLACEHOLDERS = scriptPlaceholders;

/**
 * Splits a command line into argv the way a POSIX shell would for plain words and '…' / "…" quotes
 * (no expansion, no escapes but \" and \\ in double quotes). Here, not in the agent, because both
 * sides need the same reading: the agent for script templates, the console for an alarm reaction's
 * OS command, which travels as argv.
 */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let current = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) {
        quote = null;
      } else if (quote === '"' && ch === "\\" && (line[i + 1] === '"' || line[i + 1] === "\\")) {
        current += line[++i];
      } else {
        current += ch;
      }
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(current);
      current = "";
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`command line has an unclosed ${quote} quote: ${line}`);
  if (inWord) out.push(current);
  return out;
}

const ipLikeSchema = z.string().regex(/^[0-9A-Fa-f:.]+$/, "must be an IPv4 or IPv6 address");
const interfaceSchema = z.string().regex(/^[A-Za-z0-9._@:-]{1,64}$/, "must be an interface name");

export const controlDriverSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("linux-ip"),
      vip: ipLikeSchema,
      prefix: z.number().int().min(1).max(128),
      interface: interfaceSchema,
      /** Send gratuitous ARP after enabling (IPv4 only). */
      gratuitousArp: z.boolean().default(true),
      arpCount: z.number().int().min(1).max(10).default(2),
    })
    .strict(),
  z
    .object({
      kind: z.literal("nlb"),
      vip: ipLikeSchema,
      port: z.number().int().min(0).max(65535),
      cluster: z.string().max(253).default(""),
      enable: scriptTemplateSchema.default("nlb.exe enable {vip}:{port}"),
      disable: scriptTemplateSchema.default("nlb.exe disable {vip}:{port}"),
      /** Optional presence check: exit code 0 means the port is enabled on this node. */
      presence: scriptTemplateSchema.nullable().default(null),
    })
    .strict(),
  z
    .object({
      kind: z.literal("command"),
      vip: z.string().max(64).default(""),
      prefix: z.number().int().min(0).max(128).default(0),
      interface: z.string().max(64).default(""),
      cluster: z.string().max(253).default(""),
      port: z.number().int().min(0).max(65535).default(0),
      enable: scriptTemplateSchema,
      disable: scriptTemplateSchema,
      presence: scriptTemplateSchema.nullable().default(null),
    })
    .strict(),
  z.object({ kind: z.literal("none") }).strict(),
  z
    .object({
      kind: z.literal("lab"),
      vip: z.string().max(64),
      /** Directory shared by the lab's agents; one file per pair and host records VIP presence. */
      stateDir: z.string().min(1).max(1000).nullable().default(null),
    })
    .strict(),
]);
export type ControlDriverConfig = z.infer<typeof controlDriverSchema>;
export type ControlDriverKind = ControlDriverConfig["kind"];

export const pairConfigSchema = z
  .object({
    name: appNameSchema,
    haType: z.enum(haTypes),
    /** The role the configuration gives this application (primary application of the pair or backup). */
    configuredRole: z.enum(appRoles),
    driver: controlDriverSchema,
    scriptTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  })
  .strict();
/** The pair an application belongs to, as its agent sees it (the controller's PairConfig is the console's view). */
export type AgentPairConfig = z.infer<typeof pairConfigSchema>;

/**
 * What the agent does when an application exits without being asked to (LCA / SCS autorestart):
 * restart it after restartDelayMs, each further restart waiting backoffMultiplier times longer (up to
 * restartDelayMaxMs); after maxRestarts inside restartWindowMs it gives up and the application stays
 * failed (appStatus.restart.gaveUp, which the console raises as an alarm). A restarted server always
 * starts as backup at the newest epoch the agent holds for its pair; the controller promotes it if
 * it should be primary.
 */
export const restartPolicySchema = z
  .object({
    enabled: z.boolean(),
    maxRestarts: z.number().int().min(0).max(100).default(5),
    restartWindowMs: z.number().int().min(1000).max(86_400_000).default(600_000),
    restartDelayMs: z.number().int().min(0).max(600_000).default(1000),
    restartDelayMaxMs: z.number().int().min(0).max(3_600_000).default(60_000),
    backoffMultiplier: z.number().min(1).max(10).default(2),
  })
  .strict();
export type RestartPolicy = z.infer<typeof restartPolicySchema>;
export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({
  enabled: true,
  maxRestarts: 5,
  restartWindowMs: 600_000,
  restartDelayMs: 1000,
  restartDelayMaxMs: 60_000,
  backoffMultiplier: 2,
});
/** A started application that has not answered on its contract (or, without http-port, not stayed up) by then has failed to start. */
export const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;

export const applicationConfigSchema = z
  .object({
    name: appNameSchema,
    type: z.string().min(1).max(64),
    start: z
      .object({
        command: z.string().min(1).max(4096),
        args: z.array(z.string().max(4096)).max(256).default([]),
        env: environmentSchema.default({}),
        workingDir: z.string().max(4096).nullable().default(null),
      })
      .strict(),
    stop: z
      .object({
        /** Optional stop command (argv template); without it the agent sends SIGTERM. */
        command: scriptTemplateSchema.nullable().default(null),
        /** After this, a process that has not exited is killed. */
        timeoutMs: z.number().int().min(100).max(600_000).default(10_000),
      })
      .strict()
      .default({ command: null, timeoutMs: 10_000 }),
    restart: restartPolicySchema.default(DEFAULT_RESTART_POLICY),
    /**
     * From spawn until the application first answers on its local contract (a status report or a
     * readiness poll) it is `starting`; past this it is killed and reported failed (then the restart
     * policy applies). Applications without http-port count as running once spawned.
     */
    startupTimeoutMs: z.number().int().min(1000).max(3_600_000).default(DEFAULT_STARTUP_TIMEOUT_MS),
    /** Options by name (e.g. http-port, sip-pass-check); http-port enables readiness polling and set-role. */
    options: z.record(boundedString(OPTION_NAME_MAX_CHARS), boundedString(OPTION_VALUE_MAX_CHARS)).default({}),
    /** Address of the application's HTTP interface (loopback unless the lab binds 127.0.0.x). */
    httpHost: z.string().max(255).default("127.0.0.1"),
    /** Written to SWITCHYARD_CONFIG_FILE for applications that implement the local contract. */
    appConfig: appConfigSchema.nullable().default(null),
    pair: pairConfigSchema.nullable(),
  })
  .strict();
export type ApplicationConfig = z.infer<typeof applicationConfigSchema>;

export const hostConfigSchema = z
  .object({
    hostName: hostNameSchema,
    /** Opaque revision so logs and acks can say which configuration is applied. */
    revision: z.string().min(1).max(128),
    readinessPollMs: z.number().int().min(100).max(60_000).default(1000),
    /** How often the agent checks where the VIP / NLB port really is (besides after every script). */
    vipCheckIntervalMs: z.number().int().min(100).max(600_000).default(2000),
    /**
     * This host's heartbeat (its own setting, or the console's default): the agent sends every
     * intervalMs from now on, and counts the console lost after timeoutMs without an acknowledgement.
     * The welcome carries the same values; this follows a change without a reconnect.
     */
    heartbeat: heartbeatSettingsSchema.optional(),
    applications: z.array(applicationConfigSchema).max(256),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    for (const [i, app] of cfg.applications.entries()) {
      if (seen.has(app.name)) {
        ctx.addIssue({ code: "custom", path: ["applications", i, "name"], message: `application ${app.name} appears twice` });
      }
      seen.add(app.name);
    }
  });
export type HostConfig = z.infer<typeof hostConfigSchema>;
/** What the console hands to the gateway (defaults may be left out). */
export type HostConfigInput = z.input<typeof hostConfigSchema>;

export const configAckSchema = z
  .object({ revision: z.string(), ok: z.boolean(), errors: z.array(z.string()) })
  .strict();
export type ConfigAck = z.infer<typeof configAckSchema>;

// ---------------------------------------------------------------------------------------------
// 3. Commands (console → agent) and their results (agent → console)
// ---------------------------------------------------------------------------------------------

/** Commands addressed to one application on the host, fenced by its pair's epoch. */
export const applicationCommandTypes = ["start", "stop", "set-role", "run-control-script"] as const;
/**
 * Commands addressed to the host itself. They carry no application and no pair epoch: no pair's
 * fencing applies to them, and a made-up application name or epoch would be a lie the agent has to
 * know to ignore. Idempotency by id and the deadline still apply.
 */
export const hostCommandTypes = ["run-os-command"] as const;
export const commandTypes = [...applicationCommandTypes, ...hostCommandTypes] as const;
export type CommandType = (typeof commandTypes)[number];

/** Limits of run-os-command (the agent also needs --allow-os-commands to run one at all). */
export const OS_COMMAND_MAX_ARGS = 64;
export const OS_COMMAND_MAX_ARG_CHARS = 4096;
export const OS_COMMAND_MIN_TIMEOUT_MS = 100;
export const OS_COMMAND_MAX_TIMEOUT_MS = 600_000;
export const OS_COMMAND_DEFAULT_TIMEOUT_MS = 30_000;
/** stdout and stderr of an OS command are each cut to this in its result (kept in the agent's ledger, so small). */
export const OS_COMMAND_MAX_OUTPUT_CHARS = 16 * 1024;

const hostCommandBase = {
  id: commandIdSchema,
  /** After this (console clock, ISO time) the agent refuses to start executing the command. */
  deadline: isoTimeSchema,
  /** The leadership term of the console that sends it (the gateway stamps it; callers do not know it). */
  term: termSchema,
};

const commandBase = {
  ...hostCommandBase,
  application: appNameSchema,
  /** The pair's epoch (the application's own fencing key when it is in no pair). */
  pairEpoch: epochSchema,
};

export const agentCommandSchema = z.discriminatedUnion("type", [
  z
    .object({
      ...commandBase,
      type: z.literal("start"),
      /**
       * The role to start in, at pairEpoch (written to the application's config file as initialRole /
       * initialEpoch before it is spawned); null for an application in no pair.
       */
      role: z.enum(appRoles).nullable(),
    })
    .strict(),
  z.object({ ...commandBase, type: z.literal("stop") }).strict(),
  z
    .object({
      ...commandBase,
      type: z.literal("set-role"),
      role: z.enum(appRoles),
      /**
       * The pair's enable step on this host, when the console's plan has one after this promotion: the
       * agent runs it (as `run-control-script enable` with this id, at this command's epoch, fenced by
       * the same ledger) right after the server confirms primary, instead of waiting for the console to
       * order it. The console still orders it with this id once it has seen the promotion; the agent
       * answers that with the result it already has (agent/DECISIONS.md, server/controller/DECISIONS.md).
       */
      thenEnable: z.object({ id: commandIdSchema, reason: z.string().max(500).default("") }).strict().optional(),
    })
    .strict(),
  z
    .object({
      ...commandBase,
      type: z.literal("run-control-script"),
      action: z.enum(["enable", "disable"]),
      reason: z.string().max(500).default(""),
    })
    .strict(),
  z
    .object({
      ...hostCommandBase,
      type: z.literal("run-os-command"),
      /** Run as is, without a shell: argv[0] is the program, no expansion, no `;` or pipes. */
      argv: z
        .array(z.string().max(OS_COMMAND_MAX_ARG_CHARS))
        .min(1)
        .max(OS_COMMAND_MAX_ARGS)
        .refine((argv) => argv[0] !== "", "argv[0] must name the program to run"),
      /** The agent kills the command (with its process group on POSIX) after this. */
      timeoutMs: z.number().int().min(OS_COMMAND_MIN_TIMEOUT_MS).max(OS_COMMAND_MAX_TIMEOUT_MS).default(OS_COMMAND_DEFAULT_TIMEOUT_MS),
      /** Why it is run (e.g. the alarm), for the agent's log. */
      reason: z.string().max(500).default(""),
    })
    .strict(),
]);
export type AgentCommand = z.infer<typeof agentCommandSchema>;
type WithoutTerm<T> = T extends unknown ? Omit<T, "term"> : never;
/**
 * A command as the console's controller and alarm reactions build it: without the term, which the
 * agent gateway stamps on every command it sends (it knows the term it leads; its callers do not).
 */
export type GatewayCommand = WithoutTerm<AgentCommand>;
/** What the gateway's sendCommand takes (defaults may be left out; no term). */
export type AgentCommandInput = WithoutTerm<z.input<typeof agentCommandSchema>>;
export type HostCommand = Extract<AgentCommand, { type: (typeof hostCommandTypes)[number] }>;
export type ApplicationCommand = Exclude<AgentCommand, HostCommand>;

export function isHostCommand<C extends GatewayCommand>(command: C): command is Extract<C, { type: (typeof hostCommandTypes)[number] }> {
  return (hostCommandTypes as readonly string[]).includes(command.type);
}

/** The application and pair epoch a result reports: null for host commands. */
export function commandSubject(command: GatewayCommand): { application: string | null; pairEpoch: number | null } {
  return "application" in command ? { application: command.application, pairEpoch: command.pairEpoch } : { application: null, pairEpoch: null };
}

export const commandOutcomes = [
  "ok",
  /** Tried and failed (script exit code, process would not start, application refused the role…). */
  "failed",
  /** Fencing: the command's epoch is older than one already applied for the pair. */
  "stale-epoch",
  /** Fencing: the command's leadership term is older than the highest the agent has seen (a deposed console's). */
  "stale-term",
  /** Arrived after its deadline; not executed. */
  "expired",
  /** Not executable here: unknown application, no pair for a script, no configuration yet, OS commands not allowed. */
  "rejected",
  /** Made by the gateway, not the agent: no result from the agent by the deadline. */
  "no-answer",
] as const;
export type CommandOutcome = (typeof commandOutcomes)[number];

export const scriptRunSchema = controlScriptResultSchema
  .extend({ argv: z.array(z.string()).max(64), driver: z.string() })
  .strict();
export type ScriptRun = z.infer<typeof scriptRunSchema>;

export const commandResultSchema = z
  .object({
    commandId: commandIdSchema,
    type: z.enum(commandTypes),
    /** null for host commands (run-os-command). */
    application: appNameSchema.nullable(),
    outcome: z.enum(commandOutcomes),
    /** One sentence, shown to people and asserted in tests. */
    reason: z.string().max(2000),
    /** null for host commands (run-os-command). */
    pairEpoch: epochSchema.nullable(),
    finishedAt: isoTimeSchema,
    /** Steps of a control-script run (linux-ip runs several); the one run of an OS command. */
    scripts: z.array(scriptRunSchema).max(16).default([]),
    /** Outcome stale-epoch: the newer epoch the application (or the pair on this host) holds, when known. */
    heldEpoch: epochSchema.nullable().default(null),
  })
  .strict();
export type CommandResult = z.infer<typeof commandResultSchema>;

/** The agent's answer to a `command` event, sent on receipt (before it runs): it arrived. */
export const commandReceiptSchema = z.object({ commandId: commandIdSchema }).strict();
export type CommandReceipt = z.infer<typeof commandReceiptSchema>;

// ---------------------------------------------------------------------------------------------
// 4. Reports (agent → console)
// ---------------------------------------------------------------------------------------------


export const heartbeatSchema = z.object({ seq: z.number().int().min(0), sentAtMs: z.number().int() }).strict();
export type Heartbeat = z.infer<typeof heartbeatSchema>;
export const heartbeatAckSchema = z.object({ seq: z.number().int().min(0), consoleTimeMs: z.number().int() }).strict();
export type HeartbeatAck = z.infer<typeof heartbeatAckSchema>;

/** Where an application stands with its restart policy. */
export const restartStateSchema = z
  .object({
    /** Automatic restarts inside the current window. */
    attempts: z.number().int().min(0),
    maxRestarts: z.number().int().min(0),
    /** When the next automatic restart is due, or null when none is planned. */
    nextAttemptAt: isoTimeSchema.nullable(),
    /** The policy gave up: no more automatic restarts until someone starts it. */
    gaveUp: z.boolean(),
  })
  .strict();
export type RestartState = z.infer<typeof restartStateSchema>;

/** The last lines an application wrote (stdout and stderr), kept with a failure so its cause is visible. */
export const LAST_OUTPUT_MAX_CHARS = 4000;

export const appStatusMessageSchema = z
  .object({
    application: appNameSchema,
    status: z.enum(reportedProcessStatuses),
    previous: z.enum(reportedProcessStatuses).nullable(),
    detail: z.string().max(2000),
    pid: z.number().int().nullable(),
    exitCode: z.number().int().nullable(),
    signal: z.string().nullable(),
    time: isoTimeSchema,
    restart: restartStateSchema.nullable().default(null),
    /** On failed/stopped: the tail of what the process wrote before it exited (empty otherwise). */
    lastOutput: z.string().max(LAST_OUTPUT_MAX_CHARS).default(""),
  })
  .strict();
export type AppStatusMessage = z.infer<typeof appStatusMessageSchema>;

export const roleReportSchema = z
  .object({ application: appNameSchema, role: z.enum(appRoles), epoch: epochSchema, time: isoTimeSchema })
  .strict();
export type RoleReport = z.infer<typeof roleReportSchema>;

export const readinessReportSchema = z
  .object({
    application: appNameSchema,
    /** null when the poll failed; `error` then says why. */
    report: sipServerStatusSchema.nullable(),
    error: z.string().max(1000).nullable(),
    time: isoTimeSchema,
  })
  .strict();
export type ReadinessReport = z.infer<typeof readinessReportSchema>;

export const agentLogEventSchema = logEventSchema.extend({ application: appNameSchema }).strict();
export type AgentLogEvent = z.infer<typeof agentLogEventSchema>;
export const logEventsMessageSchema = z.object({ events: z.array(agentLogEventSchema).min(1).max(1000) }).strict();
export type LogEventsMessage = z.infer<typeof logEventsMessageSchema>;

/** A control script run, whoever asked (the console by command, or the application itself, W9). */
export const scriptRunMessageSchema = z
  .object({
    application: appNameSchema,
    pair: appNameSchema,
    action: z.enum(["enable", "disable"]),
    requestedBy: z.enum(["console", "application"]),
    reason: z.string().max(500),
    ok: z.boolean(),
    steps: z.array(scriptRunSchema).max(16),
    vipPresent: z.boolean().nullable(),
    time: isoTimeSchema,
  })
  .strict();
export type ScriptRunMessage = z.infer<typeof scriptRunMessageSchema>;

/** VIP / NLB port presence as the agent observed it on its host (`ip -o addr show`, the presence script). */
export const vipPresenceMessageSchema = z
  .object({
    pair: appNameSchema,
    /** null when the driver cannot tell (no presence check configured, or the check failed). */
    present: z.boolean().nullable(),
    address: z.string().max(255),
    /** Why it is unknown, or what was seen, in words. */
    detail: z.string().max(500),
    checkedAt: isoTimeSchema,
  })
  .strict();
export type VipPresenceMessage = z.infer<typeof vipPresenceMessageSchema>;

/** What a server runs with (GET /switchyard/v1/running), after a start or a reload. */
export const runningConfigMessageSchema = runningConfigSchema
  .extend({ application: appNameSchema, time: isoTimeSchema })
  .strict();
export type RunningConfigMessage = z.infer<typeof runningConfigMessageSchema>;

export const configDeliveryOutcomes = [
  /** The file was rewritten and the running server re-read it (POST /switchyard/v1/reload answered). */
  "reloaded",
  /** The file was rewritten; the application is not running, so it reads it at its next start. */
  "written",
  /** The file could not be written, or the running server did not accept the reload. */
  "failed",
] as const;
/** How a configuration revision reached one application (sent for every application whose config file changed). */
export const configDeliveryMessageSchema = z
  .object({
    application: appNameSchema,
    revision: z.string().max(128),
    outcome: z.enum(configDeliveryOutcomes),
    detail: z.string().max(1000),
    time: isoTimeSchema,
  })
  .strict();
export type ConfigDeliveryMessage = z.infer<typeof configDeliveryMessageSchema>;

export const appSnapshotSchema = z
  .object({
    application: appNameSchema,
    status: z.enum(reportedProcessStatuses),
    detail: z.string().max(2000),
    pid: z.number().int().nullable(),
    since: isoTimeSchema,
    role: z.enum(appRoles).nullable(),
    roleEpoch: epochSchema.nullable(),
    readiness: readinessReportSchema.nullable(),
    restart: restartStateSchema.nullable().default(null),
    lastOutput: z.string().max(LAST_OUTPUT_MAX_CHARS).default(""),
    running: runningConfigMessageSchema.nullable().default(null),
  })
  .strict();
export type AppSnapshot = z.infer<typeof appSnapshotSchema>;

/** Everything the console needs to rebuild its live view of this host after a (re)connect. */
export const resyncSchema = z
  .object({
    agentVersion: z.string(),
    agentStartedAt: isoTimeSchema,
    configRevision: z.string().nullable(),
    applications: z.array(appSnapshotSchema).max(256),
    /** Highest epoch applied per fencing key (pair name). */
    epochs: z.record(z.string(), epochSchema),
    /** VIP presence per pair on this host, null when the driver cannot tell. */
    vip: z.record(z.string(), z.boolean().nullable()),
    /** Commands still executing; their results will follow. */
    inFlightCommandIds: z.array(commandIdSchema).max(1000),
  })
  .strict();
export type Resync = z.infer<typeof resyncSchema>;

// ---------------------------------------------------------------------------------------------
// 5. An application's log (console → agent `readLog`, answered in its acknowledgement)
// ---------------------------------------------------------------------------------------------

/** Most log text one read returns (bytes of the file); the console page reads again to follow the log. */
export const LOG_READ_MAX_BYTES = 256 * 1024;
export const LOG_READ_DEFAULT_BYTES = 64 * 1024;
/**
 * Most of the log one search reads: the live file, then its rotated copies, newest first (the agent's
 * default rotation keeps 5 × 10 MiB; a search past this says so with `truncated`).
 */
export const LOG_SEARCH_MAX_BYTES = 64 * 1024 * 1024;
export const LOG_SEARCH_MAX_CHARS = 200;

export const logReadRequestSchema = z
  .object({
    application: appNameSchema,
    /** The newest this many bytes of the log (of the matching lines when searching). */
    maxBytes: z.number().int().min(1024).max(LOG_READ_MAX_BYTES).default(LOG_READ_DEFAULT_BYTES),
    /** Only the lines that contain this text (case-insensitive), from the live file and its rotated copies. */
    search: z.string().min(1).max(LOG_SEARCH_MAX_CHARS).nullable().default(null),
  })
  .strict();
export type LogReadRequest = z.infer<typeof logReadRequestSchema>;
export type LogReadRequestInput = z.input<typeof logReadRequestSchema>;

export const logReadReplySchema = z
  .object({
    application: appNameSchema,
    /** False when the log could not be read at all (`error` says why); an application that wrote nothing yet is ok with empty text. */
    ok: z.boolean(),
    error: z.string().max(1000).nullable(),
    /** Where the log is on the host, for someone who looks there. */
    file: z.string().max(4096),
    /** Size of the live file (bytes). */
    sizeBytes: z.number().int().min(0),
    /** Whole lines, oldest first. */
    text: z.string().max(LOG_READ_MAX_BYTES),
    /** Older output exists that is not in `text` (searching: older matches may, or the read budget ran out). */
    truncated: z.boolean(),
    /** Searching: how many matching lines `text` holds; null otherwise. */
    matches: z.number().int().min(0).nullable(),
    /** Bytes of the log read to answer. */
    scannedBytes: z.number().int().min(0),
    readAt: isoTimeSchema,
  })
  .strict();
export type LogReadReply = z.infer<typeof logReadReplySchema>;

export const ackSchema = z.object({ ok: z.boolean(), error: z.string().optional() }).strict();
export type Ack = z.infer<typeof ackSchema>;

export const protocolErrorSchema = z.object({ event: z.string().max(64), reason: z.string().max(2000) }).strict();
export type ProtocolError = z.infer<typeof protocolErrorSchema>;

// ---------------------------------------------------------------------------------------------
// 6. socket.io event maps (the handler arguments are what the schemas accept; receivers still
//    parse, because the other side may be an older or broken peer)
// ---------------------------------------------------------------------------------------------

export interface ServerToClientEvents {
  welcome: (msg: Welcome) => void;
  config: (msg: HostConfig, ack: (reply: ConfigAck) => void) => void;
  command: (msg: AgentCommand, ack: (receipt: CommandReceipt) => void) => void;
  readLog: (msg: LogReadRequest, ack: (reply: LogReadReply) => void) => void;
  protocolError: (msg: ProtocolError) => void;
}

export interface ClientToServerEvents {
  heartbeat: (msg: Heartbeat, ack: (reply: HeartbeatAck) => void) => void;
  resync: (msg: Resync, ack: (reply: Ack) => void) => void;
  commandResult: (msg: CommandResult, ack: (reply: Ack) => void) => void;
  appStatus: (msg: AppStatusMessage) => void;
  roleReport: (msg: RoleReport) => void;
  readiness: (msg: ReadinessReport) => void;
  logEvents: (msg: LogEventsMessage, ack: (reply: Ack) => void) => void;
  scriptRun: (msg: ScriptRunMessage) => void;
  vipPresence: (msg: VipPresenceMessage) => void;
  runningConfig: (msg: RunningConfigMessage) => void;
  configDelivery: (msg: ConfigDeliveryMessage) => void;
  protocolError: (msg: ProtocolError) => void;
}

/** Schemas of every agent → console event, keyed by event name (the gateway's registry uses it). */
export const clientToServerSchemas = {
  heartbeat: heartbeatSchema,
  resync: resyncSchema,
  commandResult: commandResultSchema,
  appStatus: appStatusMessageSchema,
  roleReport: roleReportSchema,
  readiness: readinessReportSchema,
  logEvents: logEventsMessageSchema,
  scriptRun: scriptRunMessageSchema,
  vipPresence: vipPresenceMessageSchema,
  runningConfig: runningConfigMessageSchema,
  configDelivery: configDeliveryMessageSchema,
  protocolError: protocolErrorSchema,
} as const satisfies Record<keyof ClientToServerEvents, z.ZodType>;

export const serverToClientSchemas = {
  welcome: welcomeSchema,
  config: hostConfigSchema,
  command: agentCommandSchema,
  readLog: logReadRequestSchema,
  protocolError: protocolErrorSchema,
} as const satisfies Record<keyof ServerToClientEvents, z.ZodType>;

/** One readable line from a zod error, for logs and protocolError replies. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
}
