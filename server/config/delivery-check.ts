// Refuses at save time a configuration the host agents would refuse: for each host a change touches it
// builds the host configuration the console would push (buildHostConfig) and checks it with the wire
// schema (hostConfigSchema), inside the save's transaction and before it commits. Without this, such a
// change was stored with success and only logged later as "was not pushed", leaving the agents on the
// old configuration. Messages use the console's field names and name the host, the object and the value.
import type { z } from "zod";
import { hostConfigSchema } from "../../protocol/agent-wire";
import { buildHostConfig, type DeliverableSnapshot } from "../runtime/host-config";
import type { Problem } from "../errors";
import type { ConfigSnapshot } from "./config.schema";

/** What a save changed, by name; the hosts whose pushed configuration can change follow from it. */
export interface ChangedObjects {
  hosts?: readonly string[];
  applications?: readonly string[];
  pairs?: readonly string[];
}

/** Hosts whose pushed configuration may change: the changed hosts, the hosts of changed applications and of their partners, and of changed pairs' applications. */
export function touchedHosts(snapshot: ConfigSnapshot, changed: ChangedObjects): string[] {
  const hosts = new Set(changed.hosts ?? []);
  const apps = new Set(changed.applications ?? []);
  for (const pair of snapshot.pairs) {
    if ((changed.pairs ?? []).includes(pair.name) || apps.has(pair.primary) || apps.has(pair.backup)) {
      apps.add(pair.primary);
      apps.add(pair.backup);
    }
  }
  for (const app of snapshot.applications) if (apps.has(app.name)) hosts.add(app.host);
  return [...hosts].filter((h) => snapshot.hosts.some((x) => x.name === h)).sort();
}

/** Wire field → the console's field and whether it belongs to the pair or the application. */
const fieldNames: [RegExp, "application" | "pair", string][] = [
  [/^start\.command$/, "application", "startCommand"],
  [/^start\.args/, "application", "startArgs"],
  [/^start\.env/, "application", "environment"],
  [/^start\.workingDir$/, "application", "workingDirectory"],
  [/^stop\.command$/, "application", "stopCommand"],
  [/^stop\.timeoutMs$/, "application", "stopTimeoutMs"],
  [/^restart\./, "application", "restartPolicy"],
  [/^startupTimeoutMs$/, "application", "startupTimeoutMs"],
  [/^options/, "application", "options"],
  [/^name$/, "application", "name"],
  [/^type$/, "application", "type"],
  [/^httpHost$/, "application", "environment.SWITCHYARD_LAB_HTTP_ADDRESS"],
  [/^appConfig\./, "application", "configuration file"],
  [/^pair\.driver\.interface$/, "pair", "vipInterface"],
  [/^pair\.driver\.(vip|prefix)$/, "pair", "vipAddress"],
  [/^pair\.driver\.enable$/, "pair", "enableScript"],
  [/^pair\.driver\.disable$/, "pair", "disableScript"],
  [/^pair\.driver\.cluster$/, "pair", "nlbClusterName"],
  [/^pair\.driver\.port$/, "pair", "nlbPort"],
  [/^pair\.scriptTimeoutMs$/, "pair", "scriptTimeoutMs"],
  [/^pair\.name$/, "pair", "name"],
  [/^pair/, "pair", "settings"],
];

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function shown(value: unknown): string {
  if (value === undefined) return "";
  const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return ` ${text.length > 80 ? `${text.slice(0, 77)}…` : text}`;
}

/** A refusal, with the object it is about (for import paths) and the field as `path`. */
export interface DeliveryProblem extends Problem {
  owner: "host" | "application" | "pair";
  name: string;
}

function describeIssue(hostName: string, config: unknown, issue: z.core.$ZodIssue): DeliveryProblem {
  const [first, index, ...rest] = issue.path;
  const value = valueAt(config, issue.path);
  if (first !== "applications" || typeof index !== "number") {
    const where = issue.path.join(".") || "(root)";
    return { owner: "host", name: hostName, path: where, message: `the agent on host ${hostName} would refuse its configuration: ${where}${shown(value)}: ${issue.message}` };
  }
  const app = valueAt(config, ["applications", index]) as { name?: string; pair?: { name?: string } | null } | undefined;
  const wireField = rest.map(String).join(".");
  const [, owner, field] = fieldNames.find(([re]) => re.test(wireField)) ?? [null, "application" as const, wireField];
  const name = (owner === "pair" ? app?.pair?.name : app?.name) ?? "?";
  return {
    owner,
    name,
    path: field,
    message: `the agent on host ${hostName} would refuse ${owner} ${name}: ${field}${shown(value)}: ${issue.message}`,
  };
}

/** Every reason an agent of `hostNames` would refuse the configuration built from `snapshot` (empty: it would take it). */
export function deliveryProblems(snapshot: DeliverableSnapshot, hostNames: readonly string[]): DeliveryProblem[] {
  const problems: DeliveryProblem[] = [];
  for (const hostName of hostNames) {
    // Real drivers, not the lab's: what a production console would push is what must be deliverable.
    const config = buildHostConfig(snapshot, hostName, "save-check", { labStateDir: null });
    if (!config) continue;
    const parsed = hostConfigSchema.safeParse(config);
    if (parsed.success) continue;
    for (const issue of parsed.error.issues) problems.push(describeIssue(hostName, config, issue));
  }
  return problems;
}
