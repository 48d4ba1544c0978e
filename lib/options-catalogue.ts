// The option catalogue: every option Switchyard knows (docs/domain.md), as data, with the one function
// that validates a write. Shared by the console (every write goes through validateOption) and the
// browser (the editor shows default, valid values and meaning beside each field). Adding an option is
// adding a row here (see CONTRIBUTING.md). Unknown options are accepted and flagged, never dropped.
import { isIP } from "./ip";

export const optionLevels = ["application", "dn"] as const;
export type OptionLevel = (typeof optionLevels)[number];

export const optionTypes = ["int", "port", "bool", "seconds", "ip", "sip-uri"] as const;
export type OptionType = (typeof optionTypes)[number];

export const takesEffectValues = ["immediately", "after restart", "when the HA connection is established"] as const;
export type TakesEffect = (typeof takesEffectValues)[number];

export const DEFAULT_SECTION = "TServer";

export interface OptionSpec {
  name: string;
  section: string;
  level: OptionLevel;
  type: OptionType;
  /** Default as text, or null when the option has no default (must be set to be used). */
  default: string | null;
  min?: number;
  max?: number;
  takesEffect: TakesEffect;
  meaning: string;
  /** Another option that must be set when this one is true. */
  requires?: string;
}

export const optionCatalogue: readonly OptionSpec[] = [
  {
    name: "ha-max-calls-sync-at-once",
    section: "TServer",
    level: "application",
    type: "int",
    default: "500",
    min: 200,
    max: 1000,
    takesEffect: "when the HA connection is established",
    meaning: "Calls synced to the backup per batch, with 1 s between batches; only calls missing on the backup.",
  },
  {
    name: "http-port",
    section: "TServer",
    level: "application",
    type: "port",
    default: null,
    min: 1,
    max: 65535,
    takesEffect: "after restart",
    meaning: "Port of the HTTP interface /server?sipServer that reports readiness for switchover and upgrade.",
  },
  {
    name: "backup-init-check",
    section: "TServer",
    level: "application",
    type: "bool",
    default: "false",
    takesEffect: "after restart",
    meaning: "A backup whose internal components did not initialise in time reports SERVICE_UNAVAILABLE (W16; the lab simulator keeps it but does not simulate the check).",
  },
  {
    name: "backup-sip-port-check",
    section: "TServer",
    level: "application",
    type: "bool",
    default: "false",
    takesEffect: "after restart",
    meaning: "At start a backup opens and closes its SIP port; if it cannot, it reports SERVICE_UNAVAILABLE (W16; the lab simulator keeps it but does not simulate the check).",
  },
  {
    name: "sip-pass-check",
    section: "TServer",
    level: "application",
    type: "bool",
    default: "false",
    takesEffect: "immediately",
    meaning: "Monitor incoming SIP traffic; report SERVICE_UNAVAILABLE when none arrives for the out-of-service timeout.",
  },
  {
    name: "oos-check",
    section: "TServer",
    level: "dn",
    type: "seconds",
    default: "0",
    min: 0,
    takesEffect: "immediately",
    meaning: "Active Out-Of-Service check period of this service device (SIP OPTIONS ping), in seconds.",
  },
  {
    name: "oos-force",
    section: "TServer",
    level: "dn",
    type: "seconds",
    default: "0",
    min: 0,
    takesEffect: "immediately",
    meaning: "Seconds before a silent device is out of service; values below 5 count as 5.",
  },
  {
    name: "contact",
    section: "TServer",
    level: "dn",
    type: "sip-uri",
    default: null,
    takesEffect: "immediately",
    meaning: "SIP address of the service device, where Active Out-Of-Service OPTIONS pings are sent.",
  },
  {
    name: "control-vip-scripts",
    section: "TServer",
    level: "application",
    type: "bool",
    default: "false",
    takesEffect: "immediately",
    meaning: "Console (SCS) connection monitoring: when it is lost and both servers are primary, one demotes itself.",
  },
  {
    name: "sip-iptakeover-monitoring",
    section: "TServer",
    level: "application",
    type: "bool",
    default: "false",
    takesEffect: "immediately",
    meaning: "Primary checks the VIP is present on its host, backup that it is absent; logs 00-52029 / 00-52030.",
  },
  {
    name: "tlib-nic-monitoring",
    section: "TServer",
    level: "application",
    type: "bool",
    default: "false",
    takesEffect: "immediately",
    meaning: "Monitor the application's NIC; on NIC failure the server switches to backup.",
  },
  {
    name: "sip-nic-monitoring",
    section: "TServer",
    level: "application",
    type: "bool",
    default: "false",
    takesEffect: "immediately",
    meaning: "Monitor the SIP NIC (needs sip-nic-address); SERVICE_UNAVAILABLE on failure, logs 00-52027 / 00-52028.",
    requires: "sip-nic-address",
  },
  {
    name: "sip-nic-address",
    section: "TServer",
    level: "application",
    type: "ip",
    default: null,
    takesEffect: "immediately",
    meaning: "IP address of the SIP NIC watched by sip-nic-monitoring.",
  },
];

const byName = new Map(optionCatalogue.map((o) => [o.name, o]));

export function findOption(name: string): OptionSpec | undefined {
  return byName.get(name);
}

/** The valid values of an option in words, as shown in the editor and in error messages. */
export function validValuesText(spec: OptionSpec): string {
  switch (spec.type) {
    case "int":
    case "port":
      return `${spec.min}–${spec.max}`;
    case "seconds":
      return spec.max === undefined ? `≥ ${spec.min ?? 0} seconds` : `${spec.min}–${spec.max} seconds`;
    case "bool":
      return "true or false";
    case "ip":
      return "an IPv4 or IPv6 address";
    case "sip-uri":
      return "sip:host[:port]";
  }
}

export type OptionCheck =
  | { ok: true; value: string; known: true; spec: OptionSpec }
  | { ok: true; value: string; known: false }
  | { ok: false; message: string };

const SIP_URI = /^sips?:([^@\s]+@)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?(;[^\s]*)?$/;

/**
 * Validates one option write. Returns the normalised value (trimmed, booleans lower-cased, numbers
 * without leading zeros) or a message naming option, value and rule.
 */
export function validateOption(name: string, rawValue: string, level: OptionLevel): OptionCheck {
  const value = rawValue.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    return { ok: false, message: `option name "${name}" may only contain letters, digits, '.', '_' and '-'` };
  }
  const spec = byName.get(name);
  if (!spec) return { ok: true, value, known: false };
  const shown = `${name}=${rawValue}`;
  if (spec.level !== level) {
    const where = spec.level === "dn" ? "a service DN" : "the application";
    return { ok: false, message: `${name} is a ${spec.level === "dn" ? "DN" : "application"}-level option: set it on ${where}` };
  }
  if (value === "") return { ok: false, message: `${name} needs a value (${validValuesText(spec)})` };
  switch (spec.type) {
    case "int":
    case "port":
    case "seconds": {
      if (!/^[+-]?\d+$/.test(value)) {
        return { ok: false, message: `${shown} is not a whole number (valid ${validValuesText(spec)})` };
      }
      const n = Number.parseInt(value, 10);
      const below = spec.min !== undefined && n < spec.min;
      const above = spec.max !== undefined && n > spec.max;
      if (below || above) return { ok: false, message: `${shown} is out of range ${validValuesText(spec)}` };
      return { ok: true, value: String(n), known: true, spec };
    }
    case "bool": {
      const v = value.toLowerCase();
      if (v !== "true" && v !== "false") return { ok: false, message: `${shown} is not true or false` };
      return { ok: true, value: v, known: true, spec };
    }
    case "ip":
      if (!isIP(value)) return { ok: false, message: `${shown} is not an IPv4 or IPv6 address` };
      return { ok: true, value, known: true, spec };
    case "sip-uri":
      if (!SIP_URI.test(value)) return { ok: false, message: `${shown} is not a SIP address (sip:host[:port])` };
      return { ok: true, value, known: true, spec };
  }
}

export interface OptionEntry {
  dn: string;
  section: string;
  name: string;
  value: string;
}

/** Rules across options of one application (e.g. sip-nic-monitoring needs sip-nic-address). */
export function crossOptionProblems(options: readonly OptionEntry[]): { name: string; message: string }[] {
  const appLevel = new Map(options.filter((o) => o.dn === "").map((o) => [o.name, o.value]));
  const problems: { name: string; message: string }[] = [];
  for (const spec of optionCatalogue) {
    if (!spec.requires || spec.level !== "application") continue;
    if (appLevel.get(spec.name) === "true" && !appLevel.get(spec.requires)) {
      problems.push({ name: spec.name, message: `${spec.name}=true needs ${spec.requires} to be set` });
    }
  }
  return problems;
}

/** The effective value of an application-level option: the stored value or the catalogue default. */
export function effectiveOption(options: readonly OptionEntry[], name: string): string | null {
  const stored = options.find((o) => o.dn === "" && o.name === name);
  return stored ? stored.value : (byName.get(name)?.default ?? null);
}
