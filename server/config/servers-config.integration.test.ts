// What reaches the servers, checked where it is saved (real SQLite file, the real procedures): a change
// the agents would refuse is refused by the save and the import with the wire schema's message; the
// restart policy and startup timeout are stored, validated, exported and imported; each pair's HA-link
// secret is made at creation, kept by an import, and never exported, audited or listed.
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHostConfig } from "../runtime/host-config";
import { loadSnapshot } from "./config.repository";
import { createTestConsole, sipServerInput, twoNicHost, type TestConsole } from "../test-support";

let t: TestConsole;
let h1: string;
let h2: string;
const appIds: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestConsole();
  const admin = t.callerAs("admin");
  h1 = await admin.hosts.create(twoNicHost("host-1", "10.0.0.1", "10.0.1.1"));
  h2 = await admin.hosts.create(twoNicHost("host-2", "10.0.0.2", "10.0.1.2"));
  for (const [name, hostId] of [["sip-1", h1], ["sip-2", h2]] as const) {
    appIds[name] = await admin.applications.create({ ...sipServerInput(name, hostId, 5060), startCommand: "/opt/sip/sip_server" });
  }
});
afterAll(() => t.close());

async function refusal(p: Promise<unknown>): Promise<{ message: string; problems: { path: string; message: string }[] }> {
  try {
    await p;
  } catch (e) {
    const cause = (e as { cause?: { problems?: { path: string; message: string }[]; issues?: { path: PropertyKey[]; message: string }[] } }).cause;
    // An input refused by a procedure's zod schema reads in the browser as the error formatter joins it.
    if (cause?.issues) return { message: cause.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "), problems: [] };
    return { message: (e as Error).message, problems: cause?.problems ?? [] };
  }
  throw new Error("expected a refusal");
}

const pairInput = (over: Record<string, unknown> = {}) => ({
  name: "pair-1",
  haType: "ip-takeover" as const,
  primaryAppId: appIds["sip-1"]!,
  backupAppId: appIds["sip-2"]!,
  vipAddress: "10.0.1.100",
  vipPrefixLength: 24,
  vipInterface: "eth1",
  nlbClusterName: "",
  nlbPort: null,
  controlDriver: "linux-ip" as const,
  enableScript: "",
  disableScript: "",
  scriptTimeoutMs: 10_000,
  ...over,
});

describe("a configuration the agents would refuse is refused when saved", () => {
  it("a pair whose VIP interface the wire refuses: refused with the wire's character set, naming the field; nothing stored", async () => {
    const r = await refusal(t.callerAs("admin").pairs.create(pairInput({ vipInterface: "eth 1" })));
    expect(r.message).toBe("vipInterface: may only contain letters, digits, '.', '_', '@', ':' and '-'");
    expect(await t.callerAs("admin").pairs.list()).toEqual([]);
  });

  it("a command-driver script template longer than the agents take is refused", async () => {
    const long = `/usr/local/bin/vip-up ${"x".repeat(2100)} {vip}`;
    const r = await refusal(t.callerAs("admin").pairs.create(pairInput({ controlDriver: "command", enableScript: long, disableScript: "/usr/local/bin/vip-down {vip}" })));
    expect(r.message).toMatch(/^enableScript: .*2000/);
    expect(await t.callerAs("admin").pairs.list()).toEqual([]);
  });

  it("an environment the agent would refuse (an HTTP address longer than a host name can be) is refused; the stored application is unchanged", async () => {
    const admin = t.callerAs("admin");
    const app = (await admin.applications.get({ id: appIds["sip-1"]! }))!;
    const r = await refusal(
      admin.applications.update({
        id: appIds["sip-1"]!,
        application: { ...sipServerInput("sip-1", h1, 5060), startCommand: "/opt/sip/sip_server", environment: { SWITCHYARD_LAB_HTTP_ADDRESS: "a".repeat(300) } },
      }),
    );
    expect(r.message).toContain("the agent on host host-1 would refuse application sip-1: environment.SWITCHYARD_LAB_HTTP_ADDRESS");
    expect((await admin.applications.get({ id: appIds["sip-1"]! })).environment).toEqual(app.environment);
  });

  it("an import carrying such a pair is refused with the pair's path in the file, and changes nothing", async () => {
    const admin = t.callerAs("admin");
    const text = `version: 1\npairs:\n  - { name: pair-imp, haType: ip-takeover, primary: sip-1, backup: sip-2, vipAddress: 10.0.1.100, vipPrefixLength: 24, vipInterface: "eth/1", controlDriver: linux-ip }\n`;
    const r = await refusal(admin.config.import({ text, replace: false, dryRun: false }));
    expect(r.problems).toContainEqual({
      path: "pairs[0].vipInterface",
      message: "pairs[0].vipInterface: may only contain letters, digits, '.', '_', '@', ':' and '-' (line 3)",
    });
    expect(await admin.pairs.list()).toEqual([]);
  });

  it("a deliverable pair is saved", async () => {
    await t.callerAs("admin").pairs.create(pairInput());
    expect((await t.callerAs("admin").pairs.list()).map((p) => p.name)).toEqual(["pair-1"]);
  });
});

describe("restart policy and startup timeout", () => {
  it("default on (5 restarts in 10 min, 1 s doubling to 60 s; startup 60 s) and pushed to the agent as stored", async () => {
    const snapshot = await loadSnapshot(t.services.db);
    const app = buildHostConfig(snapshot, "host-1", "r1")!.applications.find((a) => a.name === "sip-1")!;
    expect(app.restart).toEqual({ enabled: true, maxRestarts: 5, restartWindowMs: 600_000, restartDelayMs: 1000, restartDelayMaxMs: 60_000, backoffMultiplier: 2 });
    expect(app.startupTimeoutMs).toBe(60_000);
  });

  it("an application's own policy is stored, audited and pushed", async () => {
    const admin = t.callerAs("admin");
    const restartPolicy = { enabled: true, maxRestarts: 2, restartWindowMs: 60_000, restartDelayMs: 250, restartDelayMaxMs: 5000, backoffMultiplier: 1.5 };
    await admin.applications.update({ id: appIds["sip-2"]!, application: { ...sipServerInput("sip-2", h2, 5060), startCommand: "/opt/sip/sip_server", restartPolicy, startupTimeoutMs: 20_000 } });
    const stored = await admin.applications.get({ id: appIds["sip-2"]! });
    expect([stored.restartMaxRestarts, stored.restartBackoffMultiplier, stored.startupTimeoutMs]).toEqual([2, 1.5, 20_000]);
    const pushed = buildHostConfig(await loadSnapshot(t.services.db), "host-2", "r2")!.applications[0]!;
    expect(pushed.restart).toEqual(restartPolicy);
    expect(pushed.startupTimeoutMs).toBe(20_000);
    const audit = await admin.audit.list({ limit: 10 });
    expect(audit.items.find((e) => e.action === "application.update" && e.objectName === "sip-2")?.after).toMatchObject({ restartPolicy, startupTimeoutMs: 20_000 });
  });

  it("refuses out-of-range values naming the field, the value and the allowed range", async () => {
    const admin = t.callerAs("admin");
    const bad = (restartPolicy: Record<string, unknown>, startupTimeoutMs = 60_000) =>
      refusal(admin.applications.update({ id: appIds["sip-2"]!, application: { ...sipServerInput("sip-2", h2, 5060), restartPolicy: restartPolicy as never, startupTimeoutMs } }));
    const base = { enabled: true, maxRestarts: 5, restartWindowMs: 600_000, restartDelayMs: 1000, restartDelayMaxMs: 60_000, backoffMultiplier: 2 };
    expect((await bad({ ...base, maxRestarts: 500 })).message).toBe("application.restartPolicy.maxRestarts: 500 is above the allowed 0–100 restarts");
    expect((await bad({ ...base, backoffMultiplier: 0.5 })).message).toBe("application.restartPolicy.backoffMultiplier: 0.5 is below the allowed 1–10");
    expect((await bad(base, 10)).message).toBe("application.startupTimeoutMs: 10 is below the allowed 1000–3600000 ms");
    expect((await bad({ ...base, restartDelayMs: 5000, restartDelayMaxMs: 1000 })).message).toBe(
      "restart policy of sip-2: the longest delay (restartDelayMaxMs 1000 ms) is shorter than the first (restartDelayMs 5000 ms)",
    );
  });

  it("is exported and imported; a bad value in a file is refused with its path and line", async () => {
    const admin = t.callerAs("admin");
    const exported = parse(await admin.config.export()) as { applications: { name: string; restartPolicy: unknown; startupTimeoutMs: number }[] };
    expect(exported.applications.find((a) => a.name === "sip-2")).toMatchObject({ restartPolicy: { maxRestarts: 2, backoffMultiplier: 1.5 }, startupTimeoutMs: 20_000 });
    const text = [
      "version: 1",
      "applications:",
      "  - name: sip-3",
      "    type: sip-server",
      "    host: host-1",
      "    sipPort: 7060",
      "    restartPolicy: { enabled: true, maxRestarts: -1, restartWindowMs: 600000, restartDelayMs: 1000, restartDelayMaxMs: 60000, backoffMultiplier: 2 }",
      "",
    ].join("\n");
    const r = await refusal(admin.config.import({ text, replace: false, dryRun: false }));
    expect(r.problems).toContainEqual({
      path: "applications[0].restartPolicy.maxRestarts",
      message: "applications[0].restartPolicy.maxRestarts: -1 is below the allowed 0–100 restarts (line 7)",
    });
  });

  it("an import sets it: a file naming only what differs (automatic restarts off) is stored with the rest at their defaults and pushed to the agent", async () => {
    const admin = t.callerAs("admin");
    const text = [
      "version: 1",
      "applications:",
      "  - name: sip-r1",
      "    type: sip-server",
      "    host: host-1",
      "    sipPort: 7070",
      "    startCommand: /opt/sip/sip_server",
      "    restartPolicy: { enabled: false }",
      "  - name: sip-r2",
      "    type: sip-server",
      "    host: host-1",
      "    sipPort: 7080",
      "    startCommand: /opt/sip/sip_server",
      "    restartPolicy: { maxRestarts: 1, restartDelayMs: 3000 }",
      "",
    ].join("\n");
    await admin.config.import({ text, replace: false, dryRun: false });
    const pushed = buildHostConfig(await loadSnapshot(t.services.db), "host-1", "r4")!.applications;
    expect(pushed.find((a) => a.name === "sip-r1")!.restart).toEqual({ enabled: false, maxRestarts: 5, restartWindowMs: 600_000, restartDelayMs: 1000, restartDelayMaxMs: 60_000, backoffMultiplier: 2 });
    expect(pushed.find((a) => a.name === "sip-r2")!.restart).toEqual({ enabled: true, maxRestarts: 1, restartWindowMs: 600_000, restartDelayMs: 3000, restartDelayMaxMs: 60_000, backoffMultiplier: 2 });
    const exported = parse(await admin.config.export()) as { applications: { name: string; restartPolicy: { enabled: boolean } }[] };
    expect(exported.applications.find((a) => a.name === "sip-r1")!.restartPolicy.enabled).toBe(false);
  });
});

describe("a host's own heartbeat", () => {
  const consoleDefault = { intervalMs: 500, timeoutMs: 2000 };

  it("without one a host gets the console's; with one it is stored, audited, listed and pushed", async () => {
    const admin = t.callerAs("admin");
    expect(buildHostConfig(await loadSnapshot(t.services.db), "host-2", "r", { heartbeat: consoleDefault })!.heartbeat).toEqual(consoleDefault);
    await admin.hosts.update({ id: h2, host: { ...twoNicHost("host-2", "10.0.0.2", "10.0.1.2"), heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600 } });
    expect((await admin.hosts.list()).find((h) => h.name === "host-2")).toMatchObject({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600 });
    expect(buildHostConfig(await loadSnapshot(t.services.db), "host-2", "r", { heartbeat: consoleDefault })!.heartbeat).toEqual({ intervalMs: 100, timeoutMs: 600 });
    expect(buildHostConfig(await loadSnapshot(t.services.db), "host-1", "r", { heartbeat: consoleDefault })!.heartbeat).toEqual(consoleDefault);
    const audit = await admin.audit.list({ limit: 10 });
    expect(audit.items.find((e) => e.action === "host.update" && e.objectName === "host-2")?.after).toMatchObject({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600 });
  });

  it("refuses half a setting, a timeout shorter than three intervals, and values out of range, naming the field", async () => {
    const admin = t.callerAs("admin");
    const bad = (heartbeat: { heartbeatIntervalMs?: number | null; heartbeatTimeoutMs?: number | null }) =>
      refusal(admin.hosts.update({ id: h2, host: { ...twoNicHost("host-2", "10.0.0.2", "10.0.1.2"), ...heartbeat } }));
    expect((await bad({ heartbeatIntervalMs: 100 })).problems).toContainEqual({
      path: "heartbeatTimeoutMs",
      message: "host host-2: set both the heartbeat interval and the heartbeat timeout, or neither (then the console's apply)",
    });
    expect((await bad({ heartbeatIntervalMs: 300, heartbeatTimeoutMs: 600 })).problems).toContainEqual({
      path: "heartbeatTimeoutMs",
      message: "host host-2: the heartbeat timeout 600 ms must be at least 3 heartbeat intervals (900 ms), so one late heartbeat is not a lost host",
    });
    expect((await bad({ heartbeatIntervalMs: 10, heartbeatTimeoutMs: 600 })).message).toBe("host.heartbeatIntervalMs: 10 is below the allowed 50–60000 ms");
    expect((await admin.hosts.list()).find((h) => h.name === "host-2")).toMatchObject({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600 });
  });

  it("is exported and imported; a file may set it or leave it to the console", async () => {
    const admin = t.callerAs("admin");
    const exported = parse(await admin.config.export()) as { hosts: { name: string; heartbeatIntervalMs: number | null; heartbeatTimeoutMs: number | null }[] };
    expect(exported.hosts.find((h) => h.name === "host-2")).toMatchObject({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600 });
    const text = [
      "version: 1",
      "hosts:",
      "  - { name: host-2, nics: [{ name: eth0, address: 10.0.0.2, carriesManagement: true, carriesSip: false }, { name: eth1, address: 10.0.1.2, carriesManagement: false, carriesSip: true }] }",
      "",
    ].join("\n");
    await admin.config.import({ text, replace: false, dryRun: false });
    expect((await admin.hosts.list()).find((h) => h.name === "host-2")).toMatchObject({ heartbeatIntervalMs: null, heartbeatTimeoutMs: null });
    const r = await refusal(admin.config.import({ text: text.replace("}] }", "}], heartbeatIntervalMs: 200, heartbeatTimeoutMs: 400 }"), replace: false, dryRun: false }));
    expect(r.problems.map((p) => p.path)).toEqual(["hosts[0].heartbeatTimeoutMs"]);
  });
});

describe("the pair's HA-link secret", () => {
  it("is made at creation, the same for both servers, and never in an export, the audit log or the pair list", async () => {
    const admin = t.callerAs("admin");
    const snapshot = await loadSnapshot(t.services.db);
    const secret = snapshot.pairSecrets.get("pair-1")!;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const ends = ["host-1", "host-2"].map((h) => buildHostConfig(snapshot, h, "r")!.applications[0]!.appConfig!.haSecret);
    expect(ends).toEqual([secret, secret]);
    expect(await admin.config.export()).not.toContain(secret);
    expect(JSON.stringify(await admin.pairs.list())).not.toContain(secret);
    expect(JSON.stringify(await admin.audit.list({ limit: 500 }))).not.toContain(secret);
  });

  it("is kept when an import updates the pair (the pair is re-created with its stored secret)", async () => {
    const admin = t.callerAs("admin");
    const before = (await loadSnapshot(t.services.db)).pairSecrets.get("pair-1");
    const file = parse(await admin.config.export()) as { pairs: { scriptTimeoutMs: number }[] };
    file.pairs[0]!.scriptTimeoutMs = 20_000;
    const { stringify } = await import("yaml");
    const plan = await admin.config.import({ text: stringify(file), replace: false, dryRun: false });
    expect(plan.pairs.updated).toEqual(["pair-1"]);
    expect((await loadSnapshot(t.services.db)).pairSecrets.get("pair-1")).toBe(before);
  });

  it("differs between pairs", async () => {
    const admin = t.callerAs("admin");
    const a = await admin.applications.create({ ...sipServerInput("sip-5", h1, 8060), startCommand: "/opt/sip/sip_server" });
    const b = await admin.applications.create({ ...sipServerInput("sip-6", h2, 8060), startCommand: "/opt/sip/sip_server" });
    await admin.pairs.create(pairInput({ name: "pair-2", primaryAppId: a, backupAppId: b, vipAddress: "10.0.1.101" }));
    const secrets = (await loadSnapshot(t.services.db)).pairSecrets;
    expect(secrets.get("pair-2")).toMatch(/^[0-9a-f]{64}$/);
    expect(secrets.get("pair-2")).not.toBe(secrets.get("pair-1"));
  });
});
