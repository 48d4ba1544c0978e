// The configuration a server runs with, as opposed to the file it last read: each option takes effect
// when the catalogue says (immediately, at the next HA link establishment, or only at a restart), so a
// reload splits a new file into what applies now, what waits for the HA link and what waits for a restart.
// Pure: the server applies the plan and logs it; GET /switchyard/v1/running reports `effective`.
import type { AppConfig, RunningConfig } from "../../protocol/app-contract";

export type TakesEffect = "immediately" | "at-ha-link" | "at-restart";

/**
 * The "takes effect" column of lib/options-catalogue.ts (docs/domain.md) for the application options the
 * simulator knows. lab/ imports only protocol/, so it is repeated here: it belongs in protocol/. DN options
 * (oos-check, oos-force, contact) all take effect immediately; an option not listed is not used by the
 * simulator and is taken as read (nothing waits for it).
 */
export const optionTakesEffect: Readonly<Record<string, TakesEffect>> = {
  "ha-max-calls-sync-at-once": "at-ha-link",
  "http-port": "at-restart",
  "sip-pass-check": "immediately",
  "control-vip-scripts": "immediately",
  "sip-iptakeover-monitoring": "immediately",
  "tlib-nic-monitoring": "immediately",
  "sip-nic-monitoring": "immediately",
  "sip-nic-address": "immediately",
  "backup-init-check": "at-restart",
  "backup-init-check-timeout": "at-restart",
  "backup-sip-port-check": "at-restart",
};

/** Configuration fields only a restart applies: what the server is, where it listens, who its partner is. */
const restartFields = ["type", "host", "sipAddress", "sipListenAddress", "sipAdvertisedAddress", "sipPort", "haPort", "peer"] as const;

export interface LiveConfig {
  /** What the server runs with: restart-only fields and options as at start, the rest as last applied. */
  effective: AppConfig;
  /** Options read but waiting for the next HA link establishment: the new value, or null to remove it. */
  pendingAtHaLink: Record<string, string | null>;
}

export interface ReloadPlan {
  next: LiveConfig;
  /** What changed, as `name=value` (or `name removed`), by when it takes effect. */
  appliedNow: string[];
  atHaLink: string[];
  atRestart: string[];
}

export function liveConfigAtStart(config: AppConfig): LiveConfig {
  return { effective: config, pendingAtHaLink: {} };
}

const describeChange = (name: string, value: string | null) => (value === null ? `${name} removed` : `${name}=${value}`);

export function planReload(current: LiveConfig, file: AppConfig): ReloadPlan {
  const appliedNow: string[] = [];
  const atHaLink: string[] = [];
  const atRestart: string[] = [];
  const options = { ...current.effective.options };
  const pendingAtHaLink = { ...current.pendingAtHaLink };

  const names = new Set([...Object.keys(options), ...Object.keys(file.options), ...Object.keys(pendingAtHaLink)]);
  for (const name of [...names].sort()) {
    const fileValue = file.options[name] ?? null;
    const runningValue = options[name] ?? null;
    const when = optionTakesEffect[name] ?? "immediately";
    if (when === "at-ha-link") {
      // A value changed back before the link re-established cancels what was waiting.
      delete pendingAtHaLink[name];
      if (fileValue === runningValue) continue;
      pendingAtHaLink[name] = fileValue;
      atHaLink.push(describeChange(name, fileValue));
    } else if (fileValue !== runningValue) {
      if (when === "at-restart") {
        atRestart.push(describeChange(name, fileValue));
        continue;
      }
      if (fileValue === null) delete options[name];
      else options[name] = fileValue;
      appliedNow.push(describeChange(name, fileValue));
    }
  }

  const dnNames = new Set([...Object.keys(current.effective.dns), ...Object.keys(file.dns)]);
  for (const dn of [...dnNames].sort()) {
    const before = current.effective.dns[dn] ?? {};
    const after = file.dns[dn] ?? {};
    for (const name of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      if ((before[name] ?? null) !== (after[name] ?? null)) appliedNow.push(`DN ${dn} ${describeChange(name, after[name] ?? null)}`);
    }
  }

  for (const field of restartFields) {
    if (JSON.stringify(file[field]) !== JSON.stringify(current.effective[field])) atRestart.push(`${field}=${JSON.stringify(file[field])}`);
  }
  // The secret is never logged; it is used from the next HA connection (the open link was proved with the old one).
  if (file.haSecret !== current.effective.haSecret) atHaLink.push("haSecret");

  const effective: AppConfig = {
    ...current.effective,
    configRevision: file.configRevision,
    haSecret: file.haSecret,
    options,
    dns: file.dns,
  };
  return { next: { effective, pendingAtHaLink }, appliedNow, atHaLink, atRestart };
}

/** The HA link (re)established: what waited for it takes effect. */
export function applyAtHaLink(current: LiveConfig): { next: LiveConfig; applied: string[] } {
  const pending = Object.entries(current.pendingAtHaLink);
  if (pending.length === 0) return { next: current, applied: [] };
  const options = { ...current.effective.options };
  for (const [name, value] of pending) {
    if (value === null) delete options[name];
    else options[name] = value;
  }
  return {
    next: { effective: { ...current.effective, options }, pendingAtHaLink: {} },
    applied: pending.map(([name, value]) => describeChange(name, value)),
  };
}

/** The reload log line: one, naming all three groups. */
export function reloadSummary(plan: ReloadPlan, revision: string): string {
  const list = (items: string[]) => (items.length === 0 ? "nothing" : items.join(", "));
  return (
    `reload of configuration revision "${revision}": applied now: ${list(plan.appliedNow)}; ` +
    `at the next HA link establishment: ${list(plan.atHaLink)}; at restart: ${list(plan.atRestart)}`
  );
}

export function runningConfig(live: LiveConfig, version: string): RunningConfig {
  return { configRevision: live.effective.configRevision, version, options: { ...live.effective.options }, dns: structuredClone(live.effective.dns) };
}
