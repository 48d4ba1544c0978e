// The shapes of configuration objects as the rules see them, with zod schemas used by the tRPC
// inputs and by import. References between objects are by name, so a snapshot from the database
// and a snapshot from an imported file are checked by the same rules (server/config/rules.ts).
import { z } from "zod";
import { DEFAULT_RESTART_POLICY, DEFAULT_STARTUP_TIMEOUT_MS } from "../../protocol/agent-wire";

export const applicationTypes = ["sip-server", "generic"] as const;
export { haTypes, controlDrivers } from "../../protocol/vocabulary";
import { haTypes, controlDrivers, scriptPlaceholders } from "../../protocol/vocabulary";
import {
  ADDRESS_MAX_CHARS,
  ARGS_MAX_COUNT,
  boundedArray,
  boundedString,
  COMMAND_MAX_CHARS,
  DESCRIPTION_MAX_CHARS,
  environmentSchema,
  HEARTBEAT_INTERVAL_MAX_MS,
  HEARTBEAT_INTERVAL_MIN_MS,
  HEARTBEAT_TIMEOUT_MAX_MS,
  HEARTBEAT_TIMEOUT_MIN_MS,
  INTERFACE_NAME_MAX_CHARS,
  INTERFACE_NAME_PATTERN,
  NICS_MAX_COUNT,
  NLB_CLUSTER_NAME_MAX_CHARS,
  OBJECT_NAME_MAX_CHARS,
  OPTION_DN_MAX_CHARS,
  OPTION_NAME_MAX_CHARS,
  OPTION_SECTION_MAX_CHARS,
  OPTION_VALUE_MAX_CHARS,
  OPTIONS_MAX_COUNT,
  SCRIPT_TEMPLATE_MAX_CHARS,
} from "../../protocol/limits";
export type ApplicationType = (typeof applicationTypes)[number];
export type HaType = (typeof haTypes)[number];
export type ControlDriver = (typeof controlDrivers)[number];

export const objectName = z
  .string()
  .trim()
  .min(1, "is required")
  .max(OBJECT_NAME_MAX_CHARS, `is longer than ${OBJECT_NAME_MAX_CHARS} characters`)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "may only contain letters, digits, '.', '_' and '-' and must start with a letter or digit");

const port = z.number().int("must be a whole number").min(1, "must be 1–65535").max(65535, "must be 1–65535");

/** Why a number field was refused: empty (a cleared form field arrives as NaN) or not a number. */
function notANumber(input: unknown, range: string): string {
  const missing = input === undefined || input === null || (typeof input === "number" && Number.isNaN(input));
  return missing ? `is required (allowed ${range})` : `${JSON.stringify(input)} is not a number (allowed ${range})`;
}

/** A whole number in [min, max] whose refusal names the value, the allowed range and the unit. */
function boundedInt(min: number, max: number, unit: string) {
  const range = `${min}–${max}${unit ? ` ${unit}` : ""}`;
  return z
    .number({ error: (iss) => notANumber(iss.input, range) })
    .int({ error: (iss) => `${String(iss.input)} is not a whole number (allowed ${range})` })
    .min(min, { error: (iss) => `${String(iss.input)} is below the allowed ${range}` })
    .max(max, { error: (iss) => `${String(iss.input)} is above the allowed ${range}` });
}

export const nicSchema = z
  .object({
    name: boundedString(INTERFACE_NAME_MAX_CHARS).trim().min(1, "is required"),
    address: boundedString(ADDRESS_MAX_CHARS).trim().min(1, "is required"),
    carriesManagement: z.boolean(),
    carriesSip: z.boolean(),
  })
  .strict();

export const hostShapeSchema = z
  .object({
    name: objectName,
    description: boundedString(DESCRIPTION_MAX_CHARS).default(""),
    nics: boundedArray(nicSchema, NICS_MAX_COUNT, "NICs").min(1, "a host needs at least one NIC"),
    /**
     * This host's own heartbeat (README, "Heartbeat profiles"): its agent sends one every interval, and
     * the host is lost (W3) after the timeout without one. Both null: the console's HEARTBEAT_INTERVAL_MS
     * and HEARTBEAT_TIMEOUT_MS. Set both or neither (hostProblems).
     */
    heartbeatIntervalMs: boundedInt(HEARTBEAT_INTERVAL_MIN_MS, HEARTBEAT_INTERVAL_MAX_MS, "ms").nullable().default(null),
    heartbeatTimeoutMs: boundedInt(HEARTBEAT_TIMEOUT_MIN_MS, HEARTBEAT_TIMEOUT_MAX_MS, "ms").nullable().default(null),
  })
  .strict();
export type HostShape = z.infer<typeof hostShapeSchema>;

export const optionEntrySchema = z
  .object({
    dn: boundedString(OPTION_DN_MAX_CHARS).trim().default(""),
    section: boundedString(OPTION_SECTION_MAX_CHARS).trim().min(1).default("TServer"),
    name: boundedString(OPTION_NAME_MAX_CHARS).trim().min(1, "is required"),
    value: boundedString(OPTION_VALUE_MAX_CHARS),
  })
  .strict();

/**
 * What the host agent does when the process exits without being asked to (SCS autorestart): the wire's
 * restartPolicySchema (protocol/agent-wire.ts) with the same bounds, and messages that name the value.
 * Default on: 5 restarts within 10 minutes, 1 s before the first, doubling up to 60 s.
 */
export const restartPolicyShapeSchema = z
  .object({
    // Each field defaults on its own: an import file names only what differs (`restartPolicy: { enabled: false }`).
    enabled: z.boolean({ error: "must be true or false" }).default(DEFAULT_RESTART_POLICY.enabled),
    maxRestarts: boundedInt(0, 100, "restarts").default(DEFAULT_RESTART_POLICY.maxRestarts),
    restartWindowMs: boundedInt(1000, 86_400_000, "ms").default(DEFAULT_RESTART_POLICY.restartWindowMs),
    restartDelayMs: boundedInt(0, 600_000, "ms").default(DEFAULT_RESTART_POLICY.restartDelayMs),
    restartDelayMaxMs: boundedInt(0, 3_600_000, "ms").default(DEFAULT_RESTART_POLICY.restartDelayMaxMs),
    backoffMultiplier: z
      .number({ error: (iss) => notANumber(iss.input, "1–10") })
      .min(1, { error: (iss) => `${String(iss.input)} is below the allowed 1–10` })
      .max(10, { error: (iss) => `${String(iss.input)} is above the allowed 1–10` })
      .default(DEFAULT_RESTART_POLICY.backoffMultiplier),
  })
  .strict();
export type RestartPolicyShape = z.infer<typeof restartPolicyShapeSchema>;
export const defaultRestartPolicy: RestartPolicyShape = { ...DEFAULT_RESTART_POLICY };
/** Bounds of startupTimeoutMs (the wire's applicationConfigSchema has the same). */
export const startupTimeoutMsSchema = boundedInt(1000, 3_600_000, "ms");

export const applicationShapeSchema = z
  .object({
    name: objectName,
    type: z.enum(applicationTypes),
    host: objectName,
    sipPort: port.nullable().default(null),
    haPort: port.nullable().default(null),
    startCommand: boundedString(COMMAND_MAX_CHARS).default(""),
    startArgs: boundedArray(boundedString(COMMAND_MAX_CHARS), ARGS_MAX_COUNT, "arguments").default([]),
    workingDirectory: boundedString(COMMAND_MAX_CHARS).default(""),
    environment: environmentSchema.default({}),
    stopCommand: boundedString(COMMAND_MAX_CHARS).default(""),
    stopTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    restartPolicy: restartPolicyShapeSchema.default(defaultRestartPolicy),
    startupTimeoutMs: startupTimeoutMsSchema.default(DEFAULT_STARTUP_TIMEOUT_MS),
    options: boundedArray(optionEntrySchema, OPTIONS_MAX_COUNT, "options").default([]),
  })
  .strict();
export type ApplicationShape = z.infer<typeof applicationShapeSchema>;

export const pairShapeSchema = z
  .object({
    name: objectName,
    haType: z.enum(haTypes),
    primary: objectName,
    backup: objectName,
    vipAddress: boundedString(ADDRESS_MAX_CHARS).trim().default(""),
    // The agents' drivers take a prefix of 1–128 (a /0 VIP would be every address).
    vipPrefixLength: z.number().int().min(1).max(128).nullable().default(null),
    vipInterface: boundedString(INTERFACE_NAME_MAX_CHARS).trim().regex(INTERFACE_NAME_PATTERN, "may only contain letters, digits, '.', '_', '@', ':' and '-'").default(""),
    nlbClusterName: boundedString(NLB_CLUSTER_NAME_MAX_CHARS).trim().default(""),
    nlbPort: port.nullable().default(null),
    controlDriver: z.enum(controlDrivers),
    enableScript: boundedString(SCRIPT_TEMPLATE_MAX_CHARS).default(""),
    disableScript: boundedString(SCRIPT_TEMPLATE_MAX_CHARS).default(""),
    scriptTimeoutMs: z.number().int().min(100).max(300_000).default(10_000),
    /**
     * How long an automatic failover whose cause lets the primary keep its calls (W4, W7, W10) waits for
     * a backup that is still synchronising calls; 0 = never wait. 30 s by default.
     */
    failoverHoldMs: z
      .number({ error: "failover hold must be a number of milliseconds (0–600000)" })
      .int("failover hold must be whole milliseconds")
      .min(0, "failover hold cannot be negative (0 = never wait)")
      .max(600_000, "failover hold is at most 600000 ms (10 minutes)")
      .default(30_000),
  })
  .strict();
export type PairShape = z.infer<typeof pairShapeSchema>;

export interface ConfigSnapshot {
  hosts: HostShape[];
  applications: ApplicationShape[];
  pairs: PairShape[];
}

/** Placeholders control script templates may use; anything else in braces is refused. */
export { scriptPlaceholders };
