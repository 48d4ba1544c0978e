// Configured against running, option by option: what the console stores for an application beside what
// the server says it runs with (runningConfig), and for each difference why it is there — the option
// takes effect at a restart, it waits for the HA link's next establishment, or the change did not reach
// the server. Pure (the application page's service feeds it); the reasons are the catalogue's
// "takes effect" column, so what the editor promises is what this shows.
import { optionCatalogue, findOption, type OptionEntry, type TakesEffect } from "../../lib/options-catalogue";
import type { ConfigDeliveryMessage } from "../../protocol/agent-wire";
import type { RunningConfig } from "../../protocol/app-contract";

export const optionDeliveryStates = ["in-effect", "restart-needed", "waits-for-ha-link", "not-delivered", "no-report"] as const;
export type OptionDeliveryState = (typeof optionDeliveryStates)[number];

export interface OptionDeliveryRow {
  /** "" for an application-level option, else the service DN. */
  dn: string;
  name: string;
  /** The stored value; null when none is stored (the default applies). */
  configured: string | null;
  /** What the server runs with; null when it runs without the option (its default) or did not report. */
  running: string | null;
  /** The catalogue default; null when the option has none or the catalogue does not know it. */
  default: string | null;
  takesEffect: TakesEffect | null;
  state: OptionDeliveryState;
  /** The state in the operator's words (asserted by tests and shown beside the values). */
  why: string;
}

export const RESTART_NEEDED = "takes effect at restart — restart needed";
export const WAITS_FOR_HA_LINK = "waits for the HA link to re-establish";
export const NOT_DELIVERED = "not delivered";
export const NO_REPORT = "the server has not reported what it runs with";

function row(dn: string, name: string, configured: string | null, running: RunningConfig | null, delivery: ConfigDeliveryMessage | null): OptionDeliveryRow {
  const spec = findOption(name);
  const known = spec && spec.level === (dn === "" ? "application" : "dn") ? spec : undefined;
  const base = { dn, name, configured, default: known?.default ?? null, takesEffect: known?.takesEffect ?? null };
  if (!running) return { ...base, running: null, state: "no-report", why: NO_REPORT };
  const runningValue = (dn === "" ? running.options[name] : running.dns[dn]?.[name]) ?? null;
  const out = { ...base, running: runningValue };
  if (runningValue === configured) return { ...out, state: "in-effect", why: "in effect" };
  if (known?.takesEffect === "after restart") return { ...out, state: "restart-needed", why: RESTART_NEEDED };
  if (known?.takesEffect === "when the HA connection is established") return { ...out, state: "waits-for-ha-link", why: WAITS_FOR_HA_LINK };
  const failed = delivery?.outcome === "failed" ? `: the last delivery (revision ${delivery.revision}) failed: ${delivery.detail}` : "";
  return { ...out, state: "not-delivered", why: `${NOT_DELIVERED}${failed}` };
}

/** Catalogue options first (catalogue order), then the others by name. */
function names(level: "application" | "dn", extra: Iterable<string>): string[] {
  const catalogue = optionCatalogue.filter((o) => o.level === level).map((o) => o.name);
  const others = [...new Set(extra)].filter((n) => !catalogue.includes(n)).sort();
  return [...catalogue, ...others];
}

export interface OptionDelivery {
  options: OptionDeliveryRow[];
  dns: { dn: string; options: OptionDeliveryRow[] }[];
  /** Rows whose running value differs from the configured one. */
  differences: number;
}

/**
 * Compares stored options with what the server reports. Every catalogue option has a row (with no
 * value on either side it runs with its default: in effect); so has every option stored or reported.
 */
export function compareOptions(stored: readonly OptionEntry[], running: RunningConfig | null, delivery: ConfigDeliveryMessage | null): OptionDelivery {
  const configured = (dn: string, name: string) => stored.find((o) => o.dn === dn && o.name === name)?.value ?? null;
  const appNames = names("application", [...stored.filter((o) => o.dn === "").map((o) => o.name), ...Object.keys(running?.options ?? {})]);
  const options = appNames.map((n) => row("", n, configured("", n), running, delivery));
  const dnList = [...new Set([...stored.filter((o) => o.dn !== "").map((o) => o.dn), ...Object.keys(running?.dns ?? {})])].sort();
  const dns = dnList.map((dn) => ({
    dn,
    options: names("dn", [...stored.filter((o) => o.dn === dn).map((o) => o.name), ...Object.keys(running?.dns[dn] ?? {})]).map((n) => row(dn, n, configured(dn, n), running, delivery)),
  }));
  const all = [...options, ...dns.flatMap((d) => d.options)];
  return { options, dns, differences: all.filter((r) => r.state !== "in-effect" && r.state !== "no-report").length };
}
