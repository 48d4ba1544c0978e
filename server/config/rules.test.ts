// Unit tests of the pure configuration rules (pairs, hosts, ports), independent of the database.
import { describe, expect, it } from "vitest";
import { hostProblems, hostUsers, pairProblems, snapshotProblems } from "./rules";
import { defaultRestartPolicy, type ApplicationShape, type ConfigSnapshot, type HostShape, type PairShape } from "./config.schema";

const host = (name: string, heartbeat: Partial<Pick<HostShape, "heartbeatIntervalMs" | "heartbeatTimeoutMs">> = {}): HostShape => ({
  name,
  description: "",
  nics: [{ name: "eth0", address: "10.0.0.1", carriesManagement: true, carriesSip: true }],
  heartbeatIntervalMs: null,
  heartbeatTimeoutMs: null,
  ...heartbeat,
});
const app = (name: string, hostName: string, extra: Partial<ApplicationShape> = {}): ApplicationShape => ({
  name,
  type: "sip-server",
  host: hostName,
  sipPort: 5060,
  haPort: null,
  startCommand: "",
  startArgs: [],
  workingDirectory: "",
  environment: {},
  stopCommand: "",
  stopTimeoutMs: 10000,
  restartPolicy: defaultRestartPolicy,
  startupTimeoutMs: 60_000,
  options: [],
  ...extra,
});
const pair = (extra: Partial<PairShape>): PairShape => ({
  name: "p",
  haType: "ip-takeover",
  primary: "a1",
  backup: "a2",
  vipAddress: "10.0.1.100",
  vipPrefixLength: 24,
  vipInterface: "eth1",
  nlbClusterName: "",
  nlbPort: null,
  controlDriver: "linux-ip",
  enableScript: "",
  disableScript: "",
  scriptTimeoutMs: 10000,
  failoverHoldMs: 30000,
  ...extra,
});
const snap = (s: Partial<ConfigSnapshot>): ConfigSnapshot => ({ hosts: [host("h1"), host("h2")], applications: [app("a1", "h1"), app("a2", "h2")], pairs: [], ...s });

describe("pair rules", () => {
  it("accepts a valid ip-takeover pair", () => {
    expect(pairProblems(pair({}), snap({}))).toEqual([]);
  });

  it("refuses applications of different types", () => {
    const s = snap({ applications: [app("a1", "h1"), app("a2", "h2", { type: "generic" })] });
    expect(pairProblems(pair({}), s).map((p) => p.message)).toEqual([
      "a pair's applications must be of the same type: a1 is sip-server, a2 is generic",
    ]);
  });

  it("W15 single-host needs one host and no VIP; the driver must be none", () => {
    const s = snap({ applications: [app("a1", "h1"), app("a2", "h1", { sipPort: 5070 })] });
    expect(pairProblems(pair({ haType: "single-host", controlDriver: "none", vipAddress: "" }), s)).toEqual([]);
    const messages = pairProblems(pair({ haType: "single-host", controlDriver: "linux-ip" }), s).map((p) => p.message);
    expect(messages).toContain("control driver linux-ip does not fit a single-host pair (use none)");
    expect(messages).toContain("a single-host pair has no Virtual IP (no VIP scripts run)");
  });

  it("nlb-cluster needs the NLB port and an nlb or command driver", () => {
    const messages = pairProblems(pair({ haType: "nlb-cluster", controlDriver: "linux-ip", nlbPort: null }), snap({})).map((p) => p.message);
    expect(messages).toContain("an nlb-cluster pair needs the Virtual IP port the NLB enables and disables");
    expect(messages).toContain("control driver linux-ip does not fit an nlb-cluster pair (use nlb or command)");
  });

  it("refuses unknown placeholders in script templates", () => {
    const p = pair({ controlDriver: "command", enableScript: "vip-up {vip} {oops}", disableScript: "vip-down {vip}" });
    expect(pairProblems(p, snap({})).map((x) => x.message)).toEqual([
      "enableScript uses unknown placeholder {oops}; known: {vip} {prefix} {interface} {cluster} {port} {host} {application} {pair}",
    ]);
  });

  it("refuses an application that is already in another pair, in either role", () => {
    const s = snap({ applications: [app("a1", "h1"), app("a2", "h2"), app("a3", "h2", { sipPort: 5070 })], pairs: [pair({ name: "first" })] });
    const messages = pairProblems(pair({ name: "second", primary: "a3", backup: "a1" }), s).map((p) => p.message);
    expect(messages).toEqual(["application a1 already belongs to pair first"]);
  });

  it("refuses a VIP that is not an IP address and a prefix too long for IPv4", () => {
    const messages = pairProblems(pair({ vipAddress: "10.0.1.300" }), snap({})).map((p) => p.message);
    expect(messages).toContain("VIP 10.0.1.300 is not an IPv4 or IPv6 address");
    expect(pairProblems(pair({ vipPrefixLength: 33 }), snap({})).map((p) => p.message)).toContain("prefix length /33 is too long for 10.0.1.100");
  });
});

describe("host rules", () => {
  it("a host's own heartbeat: both or neither, and a timeout of at least three intervals", () => {
    expect(hostProblems(host("h"))).toEqual([]);
    expect(hostProblems(host("h", { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600 }))).toEqual([]);
    expect(hostProblems(host("h", { heartbeatIntervalMs: 100 }))).toEqual([
      { path: "heartbeatTimeoutMs", message: "host h: set both the heartbeat interval and the heartbeat timeout, or neither (then the console's apply)" },
    ]);
    expect(hostProblems(host("h", { heartbeatTimeoutMs: 600 })).map((p) => p.path)).toEqual(["heartbeatIntervalMs"]);
    expect(hostProblems(host("h", { heartbeatIntervalMs: 250, heartbeatTimeoutMs: 600 }))).toEqual([
      { path: "heartbeatTimeoutMs", message: "host h: the heartbeat timeout 600 ms must be at least 3 heartbeat intervals (750 ms), so one late heartbeat is not a lost host" },
    ]);
  });

  it("two-NIC layout: one management and one SIP NIC", () => {
    const h: HostShape = {
      name: "h",
      description: "",
      heartbeatIntervalMs: null,
      heartbeatTimeoutMs: null,
      nics: [
        { name: "eth0", address: "10.0.0.1", carriesManagement: true, carriesSip: false },
        { name: "eth1", address: "10.0.1.1", carriesManagement: false, carriesSip: true },
      ],
    };
    expect(hostProblems(h)).toEqual([]);
    expect(hostProblems({ ...h, nics: h.nics.map((n) => ({ ...n, carriesSip: true })) }).map((p) => p.message)).toEqual([
      "host h needs exactly one SIP NIC (has 2)",
    ]);
  });

  it("lists what uses a host", () => {
    expect(hostUsers("h1", snap({ pairs: [pair({})] }))).toEqual(["application a1", "pair p"]);
  });
});

describe("whole snapshot", () => {
  it("reports duplicates and port clashes with paths", () => {
    const s = snap({ applications: [app("a1", "h1"), app("a1", "h2"), app("a3", "h1")] });
    const problems = snapshotProblems(s);
    expect(problems).toContainEqual({ path: "applications[1].name", message: "a1 is defined twice (also applications[0])" });
    expect(problems).toContainEqual({ path: "applications[2].sipPort", message: "port 5060 on host h1 is already used by a1 (sipPort)" });
  });
});
