// Integration tests of the configuration procedures against a real SQLite file: rules, role checks
// and audit rows written in the same transaction as the change.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { parse, stringify } from "yaml";
import { createTestConsole, sipServerInput, twoNicHost, type TestConsole } from "../test-support";
import { loadPairConfigs } from "../runtime/runtime.repository";

let t: TestConsole;
let h1: string;
let h2: string;

beforeAll(async () => {
  t = await createTestConsole();
  const admin = t.callerAs("admin");
  h1 = await admin.hosts.create(twoNicHost("host-1", "10.0.0.1", "10.0.1.1"));
  h2 = await admin.hosts.create(twoNicHost("host-2", "10.0.0.2", "10.0.1.2"));
});
afterAll(() => t.close());

async function problemsOf(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
    return [];
  } catch (e) {
    const cause = (e as { cause?: { problems?: { message: string }[] } }).cause;
    return (cause?.problems ?? []).map((x) => x.message);
  }
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (e) {
    return e instanceof TRPCError ? e.code : String(e);
  }
}

describe("roles on configuration procedures", () => {
  it("refuses an anonymous caller, a viewer and an operator on a config mutation; allows an admin", async () => {
    const host = twoNicHost("host-roles", "10.9.0.1", "10.9.1.1");
    expect(await codeOf(t.callerAs(null).hosts.create(host))).toBe("UNAUTHORIZED");
    expect(await codeOf(t.callerAs("viewer").hosts.create(host))).toBe("FORBIDDEN");
    expect(await codeOf(t.callerAs("operator").hosts.create(host))).toBe("FORBIDDEN");
    expect(await codeOf(t.callerAs("admin").hosts.create(host))).toBe("OK");
  });

  it("lets a viewer read", async () => {
    const hosts = await t.callerAs("viewer").hosts.list();
    expect(hosts.map((h) => h.name)).toContain("host-1");
  });

  it("writes nothing when a viewer is refused", async () => {
    await codeOf(t.callerAs("viewer").hosts.create(twoNicHost("host-viewer", "10.8.0.1", "10.8.1.1")));
    expect((await t.callerAs("admin").hosts.list()).some((h) => h.name === "host-viewer")).toBe(false);
  });
});

describe("hosts", () => {
  it("refuses a host without a management NIC, naming the rule", async () => {
    const bad = { name: "bad", description: "", nics: [{ name: "eth0", address: "10.1.1.1", carriesManagement: false, carriesSip: true }] };
    await expect(t.callerAs("admin").hosts.create(bad)).rejects.toThrow(/exactly one management NIC/);
  });

  it("refuses a NIC address that is not an IP address", async () => {
    const bad = twoNicHost("bad2", "10.1.1.300", "10.1.2.1");
    await expect(t.callerAs("admin").hosts.create(bad)).rejects.toThrow(/10\.1\.1\.300 is not an IPv4 or IPv6 address/);
  });

  it("refuses deleting a host in use and lists what uses it", async () => {
    const admin = t.callerAs("admin");
    const hostId = await admin.hosts.create(twoNicHost("host-used", "10.2.0.1", "10.2.1.1"));
    await admin.applications.create(sipServerInput("app-on-used", hostId, 6000));
    await expect(admin.hosts.delete({ id: hostId })).rejects.toThrow(/host host-used is in use by application app-on-used/);
  });
});

describe("applications and ports", () => {
  it("refuses a port already used on the same host, naming both applications", async () => {
    const admin = t.callerAs("admin");
    await admin.applications.create(sipServerInput("sip-a", h1, 5060));
    await expect(admin.applications.create(sipServerInput("sip-b", h1, 5060))).rejects.toThrow(
      /port 5060 on host host-1 is already used by sip-a/,
    );
    // The same port on another host is fine.
    expect(await codeOf(admin.applications.create(sipServerInput("sip-b", h2, 5060)))).toBe("OK");
  });
});

describe("HA pairs", () => {
  const pairBase = {
    vipPrefixLength: 24,
    vipInterface: "eth1",
    nlbClusterName: "",
    nlbPort: null,
    enableScript: "",
    disableScript: "",
    scriptTimeoutMs: 5000,
  };
  let appIds: Record<string, string>;

  beforeAll(async () => {
    const apps = await t.callerAs("admin").applications.list();
    appIds = Object.fromEntries(apps.map((a) => [a.name, a.id]));
  });

  it("refuses a pair of one application with itself", async () => {
    const admin = t.callerAs("admin");
    const p = { ...pairBase, name: "p-self", haType: "ip-takeover" as const, controlDriver: "linux-ip" as const, vipAddress: "10.0.1.100", primaryAppId: appIds["sip-a"]!, backupAppId: appIds["sip-a"]! };
    await expect(admin.pairs.create(p)).rejects.toThrow(/two distinct applications/);
  });

  it("refuses an ip-takeover pair on one host and a single-host pair on two hosts", async () => {
    const admin = t.callerAs("admin");
    const sameHost = await admin.applications.create(sipServerInput("sip-c", h1, 5070));
    await expect(
      admin.pairs.create({ ...pairBase, name: "p-same", haType: "ip-takeover", controlDriver: "linux-ip", vipAddress: "10.0.1.100", primaryAppId: appIds["sip-a"]!, backupAppId: sameHost }),
    ).rejects.toThrow(/needs its applications on two different hosts/);
    await expect(
      admin.pairs.create({ ...pairBase, name: "p-single", haType: "single-host", controlDriver: "none", vipAddress: "", primaryAppId: appIds["sip-a"]!, backupAppId: appIds["sip-b"]! }),
    ).rejects.toThrow(/single-host pair needs both applications on one host/);
  });

  it("creates a valid ip-takeover pair, audits it, and refuses a second pair for one of its applications", async () => {
    const admin = t.callerAs("admin");
    const id = await admin.pairs.create({ ...pairBase, name: "p-ok", haType: "ip-takeover", controlDriver: "linux-ip", vipAddress: "10.0.1.100", primaryAppId: appIds["sip-a"]!, backupAppId: appIds["sip-b"]! });
    const audit = await admin.audit.list({ objectType: "pair", limit: 10 });
    const row = audit.items.find((e) => e.objectId === id);
    expect(row?.action).toBe("pair.create");
    expect(row?.actorName).toBe("admin1");
    expect((row?.after as { vipAddress: string }).vipAddress).toBe("10.0.1.100");

    const other = await admin.applications.create(sipServerInput("sip-d", h2, 5080));
    await expect(
      admin.pairs.create({ ...pairBase, name: "p-dup", haType: "ip-takeover", controlDriver: "linux-ip", vipAddress: "10.0.1.101", primaryAppId: other, backupAppId: appIds["sip-a"]! }),
    ).rejects.toThrow(/sip-a already belongs to pair p-ok/);
  });

  it("refuses moving a paired application onto its partner's host", async () => {
    const admin = t.callerAs("admin");
    const input = { ...sipServerInput("sip-b", h1, 5090), options: [] };
    const problems = await problemsOf(admin.applications.update({ id: appIds["sip-b"]!, application: input }));
    expect(problems).toContainEqual(expect.stringMatching(/two different hosts.*\(pair p-ok\)/));
  });

  it("refuses deleting an application that belongs to a pair", async () => {
    await expect(t.callerAs("admin").applications.delete({ id: appIds["sip-a"]! })).rejects.toThrow(/belongs to pair p-ok/);
  });

  it("#18 the pair's failover hold: 30 s unless set, set and changed through the API and an import, refused out of 0–600000 ms, exported, and what the controller loads", async () => {
    const admin = t.callerAs("admin");
    const [pOk] = (await admin.pairs.list()).filter((p) => p.name === "p-ok");
    expect(pOk!.failoverHoldMs).toBe(30_000);
    const pair = { ...pairBase, name: "p-ok", haType: "ip-takeover" as const, controlDriver: "linux-ip" as const, vipAddress: "10.0.1.100", primaryAppId: appIds["sip-a"]!, backupAppId: appIds["sip-b"]! };
    await admin.pairs.update({ id: pOk!.id, pair: { ...pair, failoverHoldMs: 90_000 } });
    const hold = async () => (await loadPairConfigs(t.services.db)).find((p) => p.name === "p-ok")!.failoverHoldMs;
    expect(await hold()).toBe(90_000);
    await expect(admin.pairs.update({ id: pOk!.id, pair: { ...pair, failoverHoldMs: 600_001 } })).rejects.toThrow(/failover hold is at most 600000 ms/);
    await expect(admin.pairs.update({ id: pOk!.id, pair: { ...pair, failoverHoldMs: -1 } })).rejects.toThrow(/failover hold cannot be negative/);
    expect(await hold()).toBe(90_000);

    const file = parse(await admin.config.export()) as { pairs: { name: string; failoverHoldMs: number }[] };
    const exported = file.pairs.find((p) => p.name === "p-ok")!;
    expect(exported.failoverHoldMs).toBe(90_000);
    exported.failoverHoldMs = 0;
    const plan = await admin.config.import({ text: stringify(file), replace: false, dryRun: false });
    expect(plan.pairs.updated).toContain("p-ok");
    expect(await hold()).toBe(0);
  });
});

describe("options", () => {
  it("W12: refuses ha-max-calls-sync-at-once=1001 with the catalogue's message and saves nothing", async () => {
    const admin = t.callerAs("admin");
    const appId = (await admin.applications.list()).find((a) => a.name === "sip-a")!.id;
    const change = { dn: "", section: "TServer", name: "ha-max-calls-sync-at-once", value: "1001" };
    await expect(admin.options.set({ applicationId: appId, changes: [change] })).rejects.toThrow(
      "ha-max-calls-sync-at-once=1001 is out of range 200–1000",
    );
    const app = await admin.applications.get({ id: appId });
    expect(app.options.find((o) => o.name === "ha-max-calls-sync-at-once")).toBeUndefined();
  });

  it("W12: saves ha-max-calls-sync-at-once=800 and writes one audit row with before and after", async () => {
    const admin = t.callerAs("admin");
    const appId = (await admin.applications.list()).find((a) => a.name === "sip-a")!.id;
    await admin.options.set({ applicationId: appId, changes: [{ dn: "", section: "TServer", name: "ha-max-calls-sync-at-once", value: "800" }] });
    const app = await admin.applications.get({ id: appId });
    expect(app.options.find((o) => o.name === "ha-max-calls-sync-at-once")?.value).toBe("800");
    const audit = await admin.audit.list({ action: "option.set", limit: 10 });
    const row = audit.items.find((e) => e.objectId === appId && e.detail === "TServer/ha-max-calls-sync-at-once");
    expect(row?.after).toEqual({ value: "800" });
    expect(row?.before).toBeNull();
  });

  it("keeps an unknown option (to be flagged in the UI) and refuses a DN option at application level", async () => {
    const admin = t.callerAs("admin");
    const appId = (await admin.applications.list()).find((a) => a.name === "sip-a")!.id;
    await admin.options.set({ applicationId: appId, changes: [{ dn: "", section: "TServer", name: "my-custom-option", value: "x" }] });
    expect((await admin.applications.get({ id: appId })).options.some((o) => o.name === "my-custom-option")).toBe(true);
    await expect(
      admin.options.set({ applicationId: appId, changes: [{ dn: "", section: "TServer", name: "oos-check", value: "5" }] }),
    ).rejects.toThrow(/DN-level option/);
    await admin.options.set({ applicationId: appId, changes: [{ dn: "7001", section: "TServer", name: "oos-check", value: "5" }] });
  });

  it("refuses sip-nic-monitoring=true without sip-nic-address", async () => {
    const admin = t.callerAs("admin");
    const appId = (await admin.applications.list()).find((a) => a.name === "sip-a")!.id;
    await expect(
      admin.options.set({ applicationId: appId, changes: [{ dn: "", section: "TServer", name: "sip-nic-monitoring", value: "true" }] }),
    ).rejects.toThrow("sip-nic-monitoring=true needs sip-nic-address to be set");
  });

  it("refuses an http-port that clashes with another application's port on the host", async () => {
    const admin = t.callerAs("admin");
    const appId = (await admin.applications.list()).find((a) => a.name === "sip-a")!.id;
    await expect(
      admin.options.set({ applicationId: appId, changes: [{ dn: "", section: "TServer", name: "http-port", value: "5070" }] }),
    ).rejects.toThrow(/port 5070 on host host-1 is already used by sip-c/);
  });

  it("bulk edit: sets one option on several applications, or on none when one fails", async () => {
    const admin = t.callerAs("admin");
    const apps = await admin.applications.list();
    const ids = apps.filter((a) => a.type === "sip-server").map((a) => a.id);
    expect(await admin.options.bulkSet({ applicationIds: ids, change: { dn: "", section: "TServer", name: "sip-pass-check", value: "TRUE" } })).toBe(ids.length);
    for (const id of ids) expect((await admin.applications.get({ id })).options.find((o) => o.name === "sip-pass-check")?.value).toBe("true");

    const sipA = apps.find((a) => a.name === "sip-a")!.id;
    // http-port 5060 is free for sip-b on host-2's... but clashes with sip-a's own sipPort on host-1: the whole bulk edit is refused.
    await expect(admin.options.bulkSet({ applicationIds: ids, change: { dn: "", section: "TServer", name: "http-port", value: "5060" } })).rejects.toThrow(
      /was not changed on any application/,
    );
    const after = await admin.applications.list();
    for (const a of after.filter((x) => ids.includes(x.id))) {
      expect(a.options.find((o) => o.name === "http-port")?.value).not.toBe("5060");
    }
    expect(sipA).toBeTruthy();
  });

  it("the viewer is refused on option writes", async () => {
    const appId = (await t.callerAs("admin").applications.list())[0]!.id;
    expect(await codeOf(t.callerAs("viewer").options.set({ applicationId: appId, changes: [{ dn: "", section: "TServer", name: "sip-pass-check", value: "true" }] }))).toBe("FORBIDDEN");
  });
});
