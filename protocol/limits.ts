// Limits on what the configuration may hold, defined once: the console's API and its import
// (server/config/config.schema.ts, server/transfer/), the browser's forms (they use the API's schemas)
// and the wire to the host agents (agent-wire.ts) all read them. A value the console accepts must fit
// what its own agents accept, or the whole host's configuration is refused at the agent; and no single
// value may grow an export past what an import reads (a 20 MB environment value once made the export
// impossible to import). Each bound is generous for real use and says why it is that size.
import { z } from "zod";

/** Names of hosts, applications and pairs (also what agents know them by; the wire allows more). */
export const OBJECT_NAME_MAX_CHARS = 64;
/** Free text a person writes: descriptions, alarm notes, reasons. */
export const DESCRIPTION_MAX_CHARS = 500;
/** A comment that closes something (clearing an alarm says what was done). */
export const COMMENT_MAX_CHARS = 1000;
/** Database ids (cuid: 25 characters) with room to spare. */
export const ID_MAX_CHARS = 64;
/** An IPv6 address in text is at most 45 characters. */
export const ADDRESS_MAX_CHARS = 64;
/** NIC and VIP interface names (Linux allows 15; Windows connection names are longer). */
export const INTERFACE_NAME_MAX_CHARS = 32;
/** Interface names as the agents' drivers accept them (agent-wire.ts interfaceSchema): no spaces or shell characters. */
export const INTERFACE_NAME_PATTERN = /^[A-Za-z0-9._@:-]*$/;
export const NICS_MAX_COUNT = 8;
/** An NLB cluster's name (a DNS name; the agents take up to 253). */
export const NLB_CLUSTER_NAME_MAX_CHARS = 128;
/** A start or stop command, a working directory, one start argument. */
export const COMMAND_MAX_CHARS = 1024;
export const ARGS_MAX_COUNT = 64;
/** Environment variables of one application: names, values (certificates in PEM fit) and how many. */
export const ENV_NAME_MAX_CHARS = 128;
export const ENV_VALUE_MAX_CHARS = 4096;
export const ENV_MAX_COUNT = 128;
/** A control script template (VIP / NLB enable and disable), as the agent's drivers accept it. */
export const SCRIPT_TEMPLATE_MAX_CHARS = 2000;
/** Options: the section and service DN they belong to, their name, their value, and how many per application. */
export const OPTION_SECTION_MAX_CHARS = 64;
export const OPTION_DN_MAX_CHARS = 64;
export const OPTION_NAME_MAX_CHARS = 128;
export const OPTION_VALUE_MAX_CHARS = 1024;
export const OPTIONS_MAX_COUNT = 2000;
/**
 * A host's heartbeat (per host, or the console's HEARTBEAT_INTERVAL_MS / HEARTBEAT_TIMEOUT_MS): an agent
 * sends one every interval, and a host silent for the timeout is lost (W3). 50 ms is as often as an agent
 * may send (its message rate is 200/s); beyond a minute between heartbeats a lost host goes unnoticed too
 * long to be of use. The timeout covers at least HEARTBEAT_MIN_INTERVALS_PER_TIMEOUT intervals, so one
 * late heartbeat is never a loss.
 */
export const HEARTBEAT_INTERVAL_MIN_MS = 50;
export const HEARTBEAT_INTERVAL_MAX_MS = 60_000;
export const HEARTBEAT_TIMEOUT_MIN_MS = 200;
export const HEARTBEAT_TIMEOUT_MAX_MS = 600_000;
export const HEARTBEAT_MIN_INTERVALS_PER_TIMEOUT = 3;

/** Why a heartbeat interval and timeout do not fit together, or null when they do. */
export function heartbeatProblem(intervalMs: number, timeoutMs: number): string | null {
  if (timeoutMs < intervalMs * HEARTBEAT_MIN_INTERVALS_PER_TIMEOUT) {
    return `the heartbeat timeout ${timeoutMs} ms must be at least ${HEARTBEAT_MIN_INTERVALS_PER_TIMEOUT} heartbeat intervals (${intervalMs * HEARTBEAT_MIN_INTERVALS_PER_TIMEOUT} ms), so one late heartbeat is not a lost host`;
  }
  return null;
}
/** A log event's text, as applications send it (app-contract.ts) and as a test injects one. */
export const LOG_EVENT_TEXT_MAX_CHARS = 2000;
/** A webhook URL, an e-mail address (RFC 5321 path limit). */
export const URL_MAX_CHARS = 2048;
export const EMAIL_MAX_CHARS = 254;
/** Passwords and one-time tokens typed or pasted by a person (argon2 hashes any length; this bounds the work). */
export const SECRET_MAX_CHARS = 256;

/** "is 20971520 characters long; at most 4096 are allowed": the length, not the value, which may be huge or secret. */
const lengthMessage = (max: number) => (issue: { input?: unknown }) =>
  `is ${typeof issue.input === "string" ? issue.input.length : "too many"} characters long; at most ${max} are allowed`;

/** A string of at most `max` characters, refused with its length and the limit. */
export function boundedString(max: number): z.ZodString {
  return z.string().max(max, { error: lengthMessage(max) });
}

/** A list of at most `max` entries, refused with its size and the limit. */
export function boundedArray<T extends z.ZodType>(item: T, max: number, what = "entries"): z.ZodArray<T> {
  return z.array(item).max(max, { error: (issue) => `has ${Array.isArray(issue.input) ? issue.input.length : "too many"} ${what}; at most ${max} are allowed` });
}

/** Environment variable names: what a POSIX shell accepts, so every platform's process start takes them. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A record key as a message path: a huge key is shown by its start. */
const keyPath = (key: string) => (key.length > 64 ? `${key.slice(0, 64)}…` : key);

/**
 * A record whose keys are checked here rather than by a key schema, which zod reports only as
 * "Invalid key in record": each bad key is refused with its name, its length and the rule.
 */
export function boundedRecord<V extends z.ZodType>(value: V, keys: { maxChars: number; pattern?: RegExp; patternRule?: string; maxCount: number; what: string }) {
  return z.record(z.string(), value).superRefine((record, ctx) => {
    const names = Object.keys(record);
    if (names.length > keys.maxCount) ctx.addIssue({ code: "custom", message: `has ${names.length} ${keys.what}; at most ${keys.maxCount} are allowed` });
    for (const name of names) {
      if (name.length > keys.maxChars) {
        ctx.addIssue({ code: "custom", path: [keyPath(name)], message: `the name is ${name.length} characters long; at most ${keys.maxChars} are allowed` });
      } else if (keys.pattern && !keys.pattern.test(name)) {
        ctx.addIssue({ code: "custom", path: [keyPath(name)], message: `${JSON.stringify(name)} ${keys.patternRule ?? "is not allowed"}` });
      }
    }
  });
}

/** An application's environment, the same on the console's side and on the wire to its agent. */
export const environmentSchema = boundedRecord(boundedString(ENV_VALUE_MAX_CHARS), {
  maxChars: ENV_NAME_MAX_CHARS,
  pattern: ENV_NAME_PATTERN,
  patternRule: "is not a valid variable name (letters, digits and '_', not starting with a digit)",
  maxCount: ENV_MAX_COUNT,
  what: "variables",
});
