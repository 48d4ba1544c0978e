// Reads and validates what the simulator runs with: the environment (contract variables and lab
// knobs) and the configuration file (appConfigSchema), turned into typed settings with units.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { appConfigSchema, type AppConfig } from "../../protocol/app-contract";
import { primaryLinkSettleMs } from "./readiness";
import { haSyncBatchDefault, haSyncBatchMax, haSyncBatchMin, haSyncPauseDefaultMs } from "./call-sync";
import type { OosDevice } from "./traffic-monitor";

const flagSchema = z
  .enum(["0", "1", "true", "false"])
  .optional()
  .transform((value) => value === "1" || value === "true");

const optionalMsSchema = (defaultMs: number) =>
  z.coerce.number().int().min(0).max(3_600_000).optional().transform((value) => value ?? defaultMs);

/** Long enough for the agent to confirm a promotion and put the VIP on the interface, short enough to be seen as W7. */
export const vipBindWaitDefaultMs = 10_000;
export const simVersionDefault = "1.0.0-sim";

export const simEnvSchema = z.object({
  SWITCHYARD_APP_NAME: z.string().min(1).optional(),
  SWITCHYARD_AGENT_URL: z.url().optional(),
  SWITCHYARD_APP_SECRET: z.string().min(1).optional(),
  SWITCHYARD_CONFIG_FILE: z.string().min(1).optional(),
  /** Enables POST /lab/v1/* (fault injection, bulk calls). Off unless set: never in production. */
  SWITCHYARD_LAB_FAULTS: flagSchema,
  /** Pause between call-sync batches; the seed's 1 s unless a test shortens it. */
  SWITCHYARD_LAB_HA_SYNC_PAUSE_MS: optionalMsSchema(haSyncPauseDefaultMs),
  /** How often a server whose SIP port could not be bound tries again (W7). */
  SWITCHYARD_LAB_BIND_RETRY_MS: optionalMsSchema(5000),
  /** How often the dialling side of the HA link retries after it went down. */
  SWITCHYARD_LAB_HA_RECONNECT_MS: optionalMsSchema(1000),
  /**
   * Where the SIP listener binds instead of the configuration's sipListenAddress (e.g. 0.0.0.0 for an NLB
   * cluster address that is local on every host, as the lab on a real network emulates NLB).
   */
  SWITCHYARD_LAB_SIP_LISTEN_ADDRESS: z.union([z.ipv4(), z.ipv6()]).optional(),
  /** Address of the HTTP interface; the contract says loopback. */
  SWITCHYARD_LAB_HTTP_ADDRESS: z.union([z.ipv4(), z.ipv6()]).default("127.0.0.1"),
  /** How often monitors (W8, W9, W10) run. */
  SWITCHYARD_LAB_MONITOR_INTERVAL_MS: optionalMsSchema(2000),
  /** How long the HA link must be up before the primary is ready for switchover (W13: 60 s); tests shorten it. */
  SWITCHYARD_LAB_READINESS_SETTLE_MS: optionalMsSchema(primaryLinkSettleMs),
  /**
   * How long a new primary waits for its VIP to appear on an interface (EADDRNOTAVAIL, retried every
   * few tens of ms) before that counts as a bind failure (W7).
   */
  SWITCHYARD_LAB_VIP_BIND_WAIT_MS: optionalMsSchema(vipBindWaitDefaultMs),
  /** The version the server reports (GET /switchyard/v1/running, Server header): a rolling upgrade changes it (W14). */
  SWITCHYARD_LAB_VERSION: z.string().trim().min(1).max(64).default(simVersionDefault),
  /**
   * The lab's "installed software" (W14): when `<dir>/<application name>` exists, the version in it is
   * the one this server runs and reports (lab/install-version.mjs, the lab's install command, writes it).
   */
  SWITCHYARD_LAB_VERSION_DIR: z.string().min(1).optional(),
});
export type SimEnv = z.infer<typeof simEnvSchema>;

export interface SimSettings {
  config: AppConfig;
  /** The environment these settings were made with (a reload derives new settings with it). */
  env: SimEnv;
  /** The host's own SIP NIC address: the HA link and monitoring use it. */
  sipAddress: string;
  /** Where the SIP listener binds: the VIP for an ip-takeover pair, else sipAddress. */
  sipListenAddress: string;
  /** What goes into Via/Contact of what this server sends. */
  sipAdvertisedAddress: string;
  /**
   * The listener is the pair's VIP (ip-takeover): held only while primary, and its address may appear on
   * an interface only after the promotion. Inferred: the listen address is neither the host's own
   * address nor a wildcard (the configuration does not carry the HA type).
   */
  listensOnVip: boolean;
  vipBindWaitMs: number;
  version: string;
  sipPort: number | null;
  httpPort: number;
  haPort: number | null;
  haSyncBatchSize: number;
  haSyncPauseMs: number;
  bindRetryMs: number;
  haReconnectMs: number;
  monitorIntervalMs: number;
  readinessSettleMs: number;
  sipPassCheck: boolean;
  oosDevices: OosDevice[];
  /** DN → where to send its OPTIONS pings (the DN's `contact` option). */
  oosContacts: Record<string, string>;
  controlVipScripts: boolean;
  sipIptakeoverMonitoring: boolean;
  tlibNicMonitoring: boolean;
  sipNicMonitoring: boolean;
  sipNicAddress: string | null;
  labEndpoints: boolean;
  /** Warnings about options that were out of range and replaced by their default. */
  warnings: string[];
}

const portSchema = z.coerce.number().int().min(1).max(65535);
const boolOptionSchema = z.enum(["true", "false", "1", "0", "yes", "no"]);
const secondsSchema = z.coerce.number().int().min(0).max(86_400);

function boolOption(options: Record<string, string>, name: string, warnings: string[]): boolean {
  const raw = options[name];
  if (raw === undefined) return false;
  const parsed = boolOptionSchema.safeParse(raw.trim().toLowerCase());
  if (!parsed.success) {
    warnings.push(`option ${name}="${raw}" is not true/false; using false`);
    return false;
  }
  return parsed.data === "true" || parsed.data === "1" || parsed.data === "yes";
}

export class SettingsError extends Error {}

function isIpAddress(value: string): boolean {
  return z.union([z.ipv4(), z.ipv6()]).safeParse(value).success;
}

export function settingsFromConfig(config: AppConfig, env: SimEnv): SimSettings {
  const warnings: string[] = [];
  const options = config.options;

  const httpPortRaw = options["http-port"];
  const httpPort = portSchema.safeParse(httpPortRaw);
  if (!httpPort.success) {
    throw new SettingsError(`option http-port="${httpPortRaw ?? ""}" must be a port number 1-65535 (the readiness interface needs it)`);
  }

  let haSyncBatchSize = haSyncBatchDefault;
  const batchRaw = options["ha-max-calls-sync-at-once"];
  if (batchRaw !== undefined) {
    const parsed = z.coerce.number().int().min(haSyncBatchMin).max(haSyncBatchMax).safeParse(batchRaw);
    if (parsed.success) haSyncBatchSize = parsed.data;
    else warnings.push(`option ha-max-calls-sync-at-once="${batchRaw}" is outside ${haSyncBatchMin}-${haSyncBatchMax}; using ${haSyncBatchDefault}`);
  }

  const oosDevices: OosDevice[] = [];
  const oosContacts: Record<string, string> = {};
  for (const [dn, dnOptions] of Object.entries(config.dns)) {
    const check = secondsSchema.safeParse(dnOptions["oos-check"] ?? "0");
    const force = secondsSchema.safeParse(dnOptions["oos-force"] ?? "0");
    if (!check.success || !force.success) {
      warnings.push(`DN ${dn}: oos-check/oos-force must be whole seconds ≥ 0; DN not monitored`);
      continue;
    }
    // oos-check 0 (the default) means the DN has no Active Out-Of-Service check.
    if (check.data === 0) continue;
    oosDevices.push({ dn, oosCheckSec: check.data, oosForceSec: force.data });
    const contact = dnOptions["contact"];
    if (contact !== undefined && contact !== "") oosContacts[dn] = contact;
    else warnings.push(`DN ${dn}: oos-check is set but it has no contact to ping; it will count as failed`);
  }

  const sipListenAddress = env.SWITCHYARD_LAB_SIP_LISTEN_ADDRESS ?? config.sipListenAddress;
  if (!isIpAddress(sipListenAddress)) {
    throw new SettingsError(`sipListenAddress "${sipListenAddress}" must be an IPv4 or IPv6 address (the SIP listener binds it)`);
  }
  if (!/^\S+$/.test(config.sipAdvertisedAddress)) {
    throw new SettingsError(`sipAdvertisedAddress "${config.sipAdvertisedAddress}" must be an address or host name without spaces (it goes into Via and Contact)`);
  }
  const wildcard = sipListenAddress === "0.0.0.0" || sipListenAddress === "::";

  const sipNicAddressRaw = options["sip-nic-address"];
  const sipNicAddress = sipNicAddressRaw === undefined || sipNicAddressRaw === "" ? null : sipNicAddressRaw;
  const sipNicMonitoring = boolOption(options, "sip-nic-monitoring", warnings);
  if (sipNicMonitoring && sipNicAddress === null) warnings.push("sip-nic-monitoring is on but sip-nic-address is not set; SIP NIC not monitored");
  if (sipNicAddress !== null && !isIpAddress(sipNicAddress)) {
    warnings.push(`option sip-nic-address="${sipNicAddress}" is not an IP address`);
  }

  return {
    config,
    env,
    sipAddress: config.sipAddress,
    sipListenAddress,
    sipAdvertisedAddress: config.sipAdvertisedAddress,
    listensOnVip: sipListenAddress !== config.sipAddress && !wildcard,
    vipBindWaitMs: env.SWITCHYARD_LAB_VIP_BIND_WAIT_MS,
    version: env.SWITCHYARD_LAB_VERSION,
    sipPort: config.sipPort,
    httpPort: httpPort.data,
    haPort: config.haPort,
    haSyncBatchSize,
    haSyncPauseMs: env.SWITCHYARD_LAB_HA_SYNC_PAUSE_MS,
    bindRetryMs: Math.max(50, env.SWITCHYARD_LAB_BIND_RETRY_MS),
    haReconnectMs: Math.max(50, env.SWITCHYARD_LAB_HA_RECONNECT_MS),
    monitorIntervalMs: Math.max(50, env.SWITCHYARD_LAB_MONITOR_INTERVAL_MS),
    readinessSettleMs: env.SWITCHYARD_LAB_READINESS_SETTLE_MS,
    sipPassCheck: boolOption(options, "sip-pass-check", warnings),
    oosDevices,
    oosContacts,
    controlVipScripts: boolOption(options, "control-vip-scripts", warnings),
    sipIptakeoverMonitoring: boolOption(options, "sip-iptakeover-monitoring", warnings),
    tlibNicMonitoring: boolOption(options, "tlib-nic-monitoring", warnings),
    sipNicMonitoring: sipNicMonitoring && sipNicAddress !== null,
    sipNicAddress,
    labEndpoints: env.SWITCHYARD_LAB_FAULTS,
    warnings,
  };
}

/** A version an install put in place: 1–64 characters without spaces. */
export const installedVersionSchema = z.string().trim().regex(/^\S{1,64}$/, "must be 1–64 characters without spaces");

/**
 * The environment with SWITCHYARD_LAB_VERSION set to the version installed for this server, when the
 * lab's version directory holds one (read once, at start: a new version runs after a restart, as an
 * upgraded binary does). A file that is not a version is an error, not silently ignored.
 */
export function withInstalledVersion(env: SimEnv, appName: string, read: (path: string) => string | null): SimEnv {
  if (!env.SWITCHYARD_LAB_VERSION_DIR) return env;
  const path = `${env.SWITCHYARD_LAB_VERSION_DIR}/${appName}`;
  const text = read(path);
  if (text === null) return env;
  const parsed = installedVersionSchema.safeParse(text);
  if (!parsed.success) throw new SettingsError(`installed version file ${path}: ${parsed.error.issues[0]?.message ?? "not a version"}`);
  return { ...env, SWITCHYARD_LAB_VERSION: parsed.data };
}

export function loadConfigFile(path: string): AppConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new SettingsError(`cannot read configuration file ${path}: ${String(error)}`);
  }
  const parsed = appConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new SettingsError(`configuration file ${path} is invalid: ${details}`);
  }
  return parsed.data;
}
