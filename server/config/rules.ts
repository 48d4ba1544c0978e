// The configuration rules, pure: each function checks one object against a snapshot of the whole
// configuration and returns every problem with its path (relative to the object). The console's
// edit services and config import call the same functions, so a file is validated exactly as the UI.
import { crossOptionProblems, validateOption, type OptionLevel } from "../../lib/options-catalogue";
import { isIP, isIPv4 } from "../../lib/ip";
import type { Problem } from "../errors";
import { withArticle } from "../../lib/words";
import { heartbeatProblem } from "../../protocol/limits";
import {
  scriptPlaceholders,
  type ApplicationShape,
  type ConfigSnapshot,
  type HostShape,
  type PairShape,
} from "./config.schema";

/** Seats above which a single-host pair is outside what the vendor supports (docs/domain.md). */
export const SINGLE_HOST_MAX_SEATS = 100;

export function hostProblems(host: HostShape): Problem[] {
  const problems: Problem[] = [];
  const names = new Set<string>();
  const addresses = new Set<string>();
  host.nics.forEach((nic, i) => {
    if (names.has(nic.name)) problems.push({ path: `nics[${i}].name`, message: `NIC name ${nic.name} is used twice on host ${host.name}` });
    names.add(nic.name);
    if (!isIP(nic.address)) {
      problems.push({ path: `nics[${i}].address`, message: `NIC ${nic.name} address ${nic.address} is not an IPv4 or IPv6 address` });
    } else if (addresses.has(nic.address)) {
      problems.push({ path: `nics[${i}].address`, message: `address ${nic.address} is used by two NICs of host ${host.name}` });
    }
    addresses.add(nic.address);
  });
  const management = host.nics.filter((n) => n.carriesManagement).length;
  const sip = host.nics.filter((n) => n.carriesSip).length;
  if (management !== 1) {
    problems.push({ path: "nics", message: `host ${host.name} needs exactly one management NIC (has ${management})` });
  }
  if (sip !== 1) problems.push({ path: "nics", message: `host ${host.name} needs exactly one SIP NIC (has ${sip})` });
  const interval = host.heartbeatIntervalMs ?? null;
  const timeout = host.heartbeatTimeoutMs ?? null;
  if ((interval === null) !== (timeout === null)) {
    problems.push({
      path: interval === null ? "heartbeatIntervalMs" : "heartbeatTimeoutMs",
      message: `host ${host.name}: set both the heartbeat interval and the heartbeat timeout, or neither (then the console's apply)`,
    });
  } else if (interval !== null && timeout !== null) {
    const problem = heartbeatProblem(interval, timeout);
    if (problem) problems.push({ path: "heartbeatTimeoutMs", message: `host ${host.name}: ${problem}` });
  }
  return problems;
}

function optionLevel(dn: string): OptionLevel {
  return dn === "" ? "application" : "dn";
}

/** The ports an application listens on, with the field each comes from. */
export function applicationPorts(app: ApplicationShape): { field: string; port: number }[] {
  const ports: { field: string; port: number }[] = [];
  if (app.sipPort !== null) ports.push({ field: "sipPort", port: app.sipPort });
  if (app.haPort !== null) ports.push({ field: "haPort", port: app.haPort });
  const http = app.options.find((o) => o.dn === "" && o.name === "http-port");
  if (http && /^\d+$/.test(http.value.trim())) ports.push({ field: "options.http-port", port: Number(http.value) });
  return ports;
}

export function optionProblems(app: ApplicationShape): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  app.options.forEach((o, i) => {
    const key = `${o.dn}\u0000${o.section}\u0000${o.name}`;
    const where = o.dn ? `DN ${o.dn} ` : "";
    if (seen.has(key)) problems.push({ path: `options[${i}]`, message: `option ${where}${o.section}/${o.name} is set twice` });
    seen.add(key);
    const check = validateOption(o.name, o.value, optionLevel(o.dn));
    if (!check.ok) problems.push({ path: `options[${i}]`, message: check.message });
    else if (check.known && o.section !== check.spec.section) {
      problems.push({ path: `options[${i}]`, message: `${o.name} belongs in section ${check.spec.section}, not ${o.section}` });
    }
  });
  for (const p of crossOptionProblems(app.options)) {
    const i = app.options.findIndex((o) => o.dn === "" && o.name === p.name);
    problems.push({ path: `options[${i}]`, message: p.message });
  }
  return problems;
}

/** Rules across the restart policy's fields (each field's own bounds are in its schema). */
export function restartPolicyProblems(app: ApplicationShape): Problem[] {
  const p = app.restartPolicy;
  if (p.restartDelayMaxMs >= p.restartDelayMs) return [];
  return [
    {
      path: "restartPolicy.restartDelayMaxMs",
      message: `restart policy of ${app.name}: the longest delay (restartDelayMaxMs ${p.restartDelayMaxMs} ms) is shorter than the first (restartDelayMs ${p.restartDelayMs} ms)`,
    },
  ];
}

export function applicationProblems(app: ApplicationShape, snapshot: ConfigSnapshot): Problem[] {
  const problems: Problem[] = [...optionProblems(app), ...restartPolicyProblems(app)];
  const host = snapshot.hosts.find((h) => h.name === app.host);
  if (!host) problems.push({ path: "host", message: `host ${app.host} does not exist` });

  const own = applicationPorts(app);
  const ownSeen = new Map<number, string>();
  for (const p of own) {
    const other = ownSeen.get(p.port);
    if (other) problems.push({ path: p.field, message: `port ${p.port} is used twice by ${app.name} (${other} and ${p.field})` });
    ownSeen.set(p.port, p.field);
  }
  for (const other of snapshot.applications) {
    if (other.name === app.name || other.host !== app.host) continue;
    for (const theirs of applicationPorts(other)) {
      const clash = own.find((p) => p.port === theirs.port);
      if (clash) {
        problems.push({
          path: clash.field,
          message: `port ${clash.port} on host ${app.host} is already used by ${other.name} (${theirs.field})`,
        });
      }
    }
  }

  // An application that is in a pair must keep satisfying that pair's rules (type, host layout).
  const pair = snapshot.pairs.find((p) => p.primary === app.name || p.backup === app.name);
  if (pair) {
    const withThis = { ...snapshot, applications: [...snapshot.applications.filter((a) => a.name !== app.name), app] };
    for (const p of pairMembershipProblems(pair, withThis)) {
      problems.push({ path: p.path === "haType" ? "host" : p.path, message: `${p.message} (pair ${pair.name})` });
    }
  }
  return problems;
}

/** Rules about which two applications a pair may join. */
function pairMembershipProblems(pair: PairShape, snapshot: ConfigSnapshot): Problem[] {
  const problems: Problem[] = [];
  const primary = snapshot.applications.find((a) => a.name === pair.primary);
  const backup = snapshot.applications.find((a) => a.name === pair.backup);
  if (!primary) problems.push({ path: "primary", message: `application ${pair.primary} does not exist` });
  if (!backup) problems.push({ path: "backup", message: `application ${pair.backup} does not exist` });
  if (pair.primary === pair.backup) {
    problems.push({ path: "backup", message: `a pair needs two distinct applications; ${pair.primary} is both primary and backup` });
  }
  if (!primary || !backup || pair.primary === pair.backup) return problems;
  if (primary.type !== backup.type) {
    problems.push({
      path: "backup",
      message: `a pair's applications must be of the same type: ${primary.name} is ${primary.type}, ${backup.name} is ${backup.type}`,
    });
  }
  if (pair.haType === "single-host" && primary.host !== backup.host) {
    problems.push({
      path: "haType",
      message: `single-host pair needs both applications on one host: ${primary.name} is on ${primary.host}, ${backup.name} on ${backup.host}`,
    });
  }
  if (pair.haType !== "single-host" && primary.host === backup.host) {
    problems.push({
      path: "haType",
      message: `${pair.haType} pair needs its applications on two different hosts: ${primary.name} and ${backup.name} are both on ${primary.host}`,
    });
  }
  return problems;
}

const driversByType: Record<PairShape["haType"], readonly PairShape["controlDriver"][]> = {
  "ip-takeover": ["linux-ip", "command"],
  "nlb-cluster": ["nlb", "command"],
  "single-host": ["none"],
};

function templateProblems(field: "enableScript" | "disableScript", template: string): Problem[] {
  const problems: Problem[] = [];
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    if (!(scriptPlaceholders as readonly string[]).includes(m[1]!)) {
      problems.push({
        path: field,
        message: `${field} uses unknown placeholder {${m[1]}}; known: ${scriptPlaceholders.map((p) => `{${p}}`).join(" ")}`,
      });
    }
  }
  return problems;
}

export function pairProblems(pair: PairShape, snapshot: ConfigSnapshot): Problem[] {
  const problems = pairMembershipProblems(pair, snapshot);
  for (const role of ["primary", "backup"] as const) {
    const appName = pair[role];
    const other = snapshot.pairs.find((p) => p.name !== pair.name && (p.primary === appName || p.backup === appName));
    if (other) problems.push({ path: role, message: `application ${appName} already belongs to pair ${other.name}` });
  }
  const allowed = driversByType[pair.haType];
  if (!allowed.includes(pair.controlDriver)) {
    problems.push({
      path: "controlDriver",
      message: `control driver ${pair.controlDriver} does not fit ${withArticle(pair.haType)} pair (use ${allowed.join(" or ")})`,
    });
  }
  if (pair.haType === "ip-takeover") {
    if (!pair.vipAddress) problems.push({ path: "vipAddress", message: "an ip-takeover pair needs a Virtual IP address" });
    else if (!isIP(pair.vipAddress)) problems.push({ path: "vipAddress", message: `VIP ${pair.vipAddress} is not an IPv4 or IPv6 address` });
    const maxPrefix = pair.vipAddress && isIPv4(pair.vipAddress) ? 32 : 128;
    if (pair.vipPrefixLength !== null && pair.vipPrefixLength > maxPrefix) {
      problems.push({ path: "vipPrefixLength", message: `prefix length /${pair.vipPrefixLength} is too long for ${pair.vipAddress}` });
    }
    if (pair.controlDriver === "linux-ip" && !pair.vipInterface) {
      problems.push({ path: "vipInterface", message: "the linux-ip driver needs the interface the VIP is added to (e.g. eth1)" });
    }
  }
  if (pair.haType === "nlb-cluster") {
    if (pair.nlbPort === null) problems.push({ path: "nlbPort", message: "an nlb-cluster pair needs the Virtual IP port the NLB enables and disables" });
    if (pair.vipAddress && !isIP(pair.vipAddress)) {
      problems.push({ path: "vipAddress", message: `cluster VIP ${pair.vipAddress} is not an IPv4 or IPv6 address` });
    }
  }
  if (pair.haType === "single-host" && pair.vipAddress) {
    problems.push({ path: "vipAddress", message: "a single-host pair has no Virtual IP (no VIP scripts run)" });
  }
  if (pair.controlDriver === "command" || pair.controlDriver === "nlb") {
    if (pair.controlDriver === "command" && !pair.enableScript) {
      problems.push({ path: "enableScript", message: "the command driver needs an enable script template" });
    }
    if (pair.controlDriver === "command" && !pair.disableScript) {
      problems.push({ path: "disableScript", message: "the command driver needs a disable script template" });
    }
  }
  problems.push(...templateProblems("enableScript", pair.enableScript), ...templateProblems("disableScript", pair.disableScript));
  return problems;
}

/** What refers to a host: deleting it is refused while this is not empty. */
export function hostUsers(hostName: string, snapshot: ConfigSnapshot): string[] {
  const apps = snapshot.applications.filter((a) => a.host === hostName).map((a) => a.name);
  const pairs = snapshot.pairs.filter((p) => apps.includes(p.primary) || apps.includes(p.backup)).map((p) => p.name);
  return [...apps.map((a) => `application ${a}`), ...pairs.map((p) => `pair ${p}`)];
}

/** Every problem of a whole snapshot, with paths from its root (used by import). */
export function snapshotProblems(snapshot: ConfigSnapshot): Problem[] {
  const problems: Problem[] = [];
  const dup = (kind: "hosts" | "applications" | "pairs") => {
    const seen = new Map<string, number>();
    snapshot[kind].forEach((o, i) => {
      const first = seen.get(o.name);
      if (first !== undefined) problems.push({ path: `${kind}[${i}].name`, message: `${o.name} is defined twice (also ${kind}[${first}])` });
      else seen.set(o.name, i);
    });
  };
  dup("hosts");
  dup("applications");
  dup("pairs");
  const prefix = (p: string, list: Problem[]) => list.map((x) => ({ path: `${p}.${x.path}`, message: x.message }));
  snapshot.hosts.forEach((h, i) => problems.push(...prefix(`hosts[${i}]`, hostProblems(h))));
  snapshot.applications.forEach((a, i) => problems.push(...prefix(`applications[${i}]`, applicationProblemsStandalone(a, snapshot))));
  snapshot.pairs.forEach((p, i) => problems.push(...prefix(`pairs[${i}]`, pairProblems(p, snapshot))));
  return problems;
}

/** Application rules without re-checking its pair (the pair is checked on its own in a snapshot). */
function applicationProblemsStandalone(app: ApplicationShape, snapshot: ConfigSnapshot): Problem[] {
  const noPairs = { ...snapshot, pairs: [] };
  return applicationProblems(app, noPairs);
}
