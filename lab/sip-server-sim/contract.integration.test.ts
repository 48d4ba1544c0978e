// The local contract's start and configuration endpoints on real processes: a server starts in the role
// and epoch it is given; POST /switchyard/v1/reload applies each option when the catalogue says (W4
// sip-pass-check at once, W12 ha-max-calls-sync-at-once at the next HA link, restart options never
// before a restart); a bad file is refused; GET /switchyard/v1/running shows what is in effect.
import * as dgram from "node:dgram";
import { describe, expect, it } from "vitest";
import { runningConfigSchema, sipServerStatusSchema, type AppConfig, type RunningConfig } from "../../protocol/app-contract";
import { freePort, simConfig, startSim, startSimWithAgent, stopAfterEach, waitFor, writeConfigFile, type SimProcess } from "./testing";

const track = stopAfterEach();
const appSecret = "per-start-secret";

async function status(sim: SimProcess) {
  return sipServerStatusSchema.parse((await sim.http("/server?sipServer")).body);
}
async function running(sim: SimProcess): Promise<RunningConfig> {
  const answer = await sim.http("/switchyard/v1/running");
  expect(answer.status).toBe(200);
  return runningConfigSchema.parse(answer.body);
}
/** What the agent does after an option change: rewrite the file, then ask the server to re-read it. */
async function rewriteAndReload(sim: SimProcess, config: AppConfig | string): Promise<{ status: number; body: unknown }> {
  writeConfigFile(sim.configFile, config);
  return sim.http("/switchyard/v1/reload", { method: "POST" });
}
async function labState(sim: SimProcess): Promise<{ haSync: Array<{ batchSizes: number[]; done: boolean }>; trafficMonitor: { lastSipMessageAt: string } }> {
  return (await sim.http("/lab/v1/state")).body as { haSync: Array<{ batchSizes: number[]; done: boolean }>; trafficMonitor: { lastSipMessageAt: string } };
}

describe("start in the role and epoch given", () => {
  it("a server starts as initialRole at initialEpoch, reports that epoch and refuses older orders", async () => {
    const config = simConfig({ name: "SIP_E", sipPort: await freePort(), httpPort: await freePort(), initialRole: "backup", initialEpoch: 7 });
    const { sim, agent } = await startSimWithAgent(track, config, { SWITCHYARD_APP_SECRET: appSecret });
    expect(await status(sim)).toMatchObject({ role: "backup", epoch: 7 });
    const report = await waitFor("the start report at the agent", () => agent.statuses[0]);
    expect(report).toMatchObject({ role: "backup", epoch: 7, status: "running" });
    const stale = await sim.http("/switchyard/v1/role", { body: { role: "primary", epoch: 6, commandId: "old" } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ error: "stale-epoch", epoch: 7, message: "refused role primary at epoch 6: this server holds epoch 7" });
    expect((await sim.http("/switchyard/v1/role", { body: { role: "primary", epoch: 7, commandId: "same-epoch" } })).body).toEqual({ role: "primary", epoch: 7 });
  });
});

describe("options applied live: POST /switchyard/v1/reload and GET /switchyard/v1/running", () => {
  it("the contract endpoints need the app secret; /running shows the options, DN options, version and revision in effect", async () => {
    const config = simConfig({
      name: "SIP_R",
      sipPort: await freePort(),
      httpPort: await freePort(),
      initialRole: "primary",
      configRevision: "rev-1",
      options: { "ha-max-calls-sync-at-once": "400" },
      dns: { gw1: { "oos-check": "10", contact: "sip:gw1@127.0.0.1:5090" } },
    });
    const sim = await startSim(config, { SWITCHYARD_APP_SECRET: appSecret, SWITCHYARD_LAB_VERSION: "8.1.103.64-lab" });
    track(sim);
    expect(await running(sim)).toEqual({
      configRevision: "rev-1",
      version: "8.1.103.64-lab",
      options: config.options,
      dns: config.dns,
    });
    for (const [method, path] of [["GET", "/switchyard/v1/running"], ["POST", "/switchyard/v1/reload"]] as const) {
      const response = await fetch(`http://127.0.0.1:${sim.httpPort}${path}`, { method });
      expect(response.status).toBe(401);
    }
  });

  it("W4 sip-pass-check=true by reload turns traffic monitoring on without a restart: SERVICE_UNAVAILABLE without traffic", async () => {
    // A service DN that never answers its OPTIONS pings.
    const dn = dgram.createSocket("udp4");
    let pings = 0;
    dn.on("message", () => (pings += 1));
    await new Promise<void>((done) => dn.bind(0, "127.0.0.1", () => done()));
    track({ stop: () => new Promise<void>((done) => dn.close(() => done())) });
    const dnPort = (dn.address() as { port: number }).port;
    // oos-check 1 + max(oos-force 0, 5) = 6 s effective timeout (W6).
    const config = simConfig({
      name: "SIP_W4",
      sipPort: await freePort(),
      httpPort: await freePort(),
      initialRole: "primary",
      configRevision: "rev-1",
      options: { "sip-pass-check": "false" },
      dns: { gw1: { "oos-check": "1", "oos-force": "0", contact: `sip:gw1@127.0.0.1:${dnPort}` } },
    });
    const { sim, agent } = await startSimWithAgent(track, config, { SWITCHYARD_APP_SECRET: appSecret });

    // Longer than the timeout without any SIP message, and still running: nothing watches the traffic yet.
    await waitFor("7 s without SIP traffic", async () => (Date.now() - Date.parse((await labState(sim)).trafficMonitor.lastSipMessageAt) > 7000 ? true : undefined), 30_000);
    expect((await status(sim)).status).toBe("running");
    expect(pings).toBe(0);

    const reloaded = await rewriteAndReload(sim, { ...config, configRevision: "rev-2", options: { ...config.options, "sip-pass-check": "true" } });
    expect(reloaded.status).toBe(204);
    expect(await running(sim)).toMatchObject({ configRevision: "rev-2", options: { "sip-pass-check": "true" } });
    expect(sim.output()).toContain('reload of configuration revision "rev-2": applied now: sip-pass-check=true; at the next HA link establishment: nothing; at restart: nothing');
    await waitFor("OPTIONS pings to the DN", () => (pings > 0 ? true : undefined));
    const unavailable = await waitFor("SERVICE_UNAVAILABLE at the agent", () => agent.statuses.find((report) => report.status === "service-unavailable"), 30_000);
    expect(unavailable.detail).toContain("effective out-of-service timeout 6 s × back-off 1");
    expect((await status(sim)).status).toBe("service-unavailable");
    // Two real waits of the 6 s timeout (before and after the reload): room for a loaded machine.
  }, 90_000);

  it("W12 ha-max-calls-sync-at-once changed by reload is used by the sync after the HA link re-establishes; /running shows it only then", async () => {
    const [sipA, sipB, httpA, httpB, haA, haB] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    const env = { SWITCHYARD_LAB_HA_SYNC_PAUSE_MS: "20", SWITCHYARD_LAB_HA_RECONNECT_MS: "100", SWITCHYARD_APP_SECRET: appSecret };
    const configA = simConfig({
      name: "SIP_A",
      sipPort: sipA,
      httpPort: httpA,
      haPort: haA,
      peer: { name: "SIP_B", address: "127.0.0.1", haPort: haB },
      initialRole: "primary",
      haSecret: "pair",
      options: { "ha-max-calls-sync-at-once": "500" },
    });
    const configB = simConfig({ name: "SIP_B", sipPort: sipB, httpPort: httpB, haPort: haB, peer: { name: "SIP_A", address: "127.0.0.1", haPort: haA }, initialRole: "backup", haSecret: "pair" });
    const a = await startSim(configA, env);
    track(a);
    expect((await a.http("/lab/v1/calls", { body: { count: 2000 } })).body).toEqual({ created: 2000, total: 2000 });
    let b = await startSim(configB, env);
    track(b);
    const firstSync = await waitFor("the first sync done", async () => (await labState(b)).haSync.find((record) => record.done));
    expect(firstSync.batchSizes).toEqual([500, 500, 500, 500]);

    expect((await rewriteAndReload(a, { ...configA, configRevision: "rev-2", options: { ...configA.options, "ha-max-calls-sync-at-once": "300" } })).status).toBe(204);
    expect(a.output()).toContain("at the next HA link establishment: ha-max-calls-sync-at-once=300;");
    // The link that is up was established before: the old value is still the one in effect.
    expect((await running(a)).options["ha-max-calls-sync-at-once"]).toBe("500");
    expect((await running(a)).configRevision).toBe("rev-2");

    await b.stop();
    await waitFor("SIP_A to see the link down", async () => ((await status(a)).haLink === "down" ? true : undefined));
    expect((await running(a)).options["ha-max-calls-sync-at-once"]).toBe("500");

    b = await startSim(configB, env, b.configFile);
    track(b);
    const secondSync = await waitFor("the sync after the link re-established", async () => (await labState(b)).haSync.find((record) => record.done));
    expect(secondSync.batchSizes).toEqual([300, 300, 300, 300, 300, 300, 200]);
    expect((await running(a)).options["ha-max-calls-sync-at-once"]).toBe("300");
    expect(a.output()).toContain("HA link established: now in effect: ha-max-calls-sync-at-once=300");
  });

  it("restart-only options changed by reload stay as they were in /running; the server still serves on the old http-port", async () => {
    const httpPort = await freePort();
    const config = simConfig({ name: "SIP_X", sipPort: await freePort(), httpPort, initialRole: "primary", options: { "backup-sip-port-check": "true" } });
    const sim = await startSim(config, { SWITCHYARD_APP_SECRET: appSecret });
    track(sim);
    const newPort = String(await freePort());
    const changed = { ...config, options: { ...config.options, "http-port": newPort, "backup-sip-port-check": "false", "backup-init-check": "true" } };
    expect((await rewriteAndReload(sim, changed)).status).toBe(204);
    expect((await running(sim)).options).toEqual(config.options);
    expect(sim.output()).toContain(`at restart: backup-init-check=true, backup-sip-port-check=false, http-port=${newPort}`);
    expect((await status(sim)).role).toBe("primary");
  });

  it("a malformed file is refused with 400 and a clear message; the running settings stay", async () => {
    const config = simConfig({ name: "SIP_M", sipPort: await freePort(), httpPort: await freePort(), initialRole: "primary", configRevision: "rev-1", options: { "sip-pass-check": "false" } });
    const sim = await startSim(config, { SWITCHYARD_APP_SECRET: appSecret });
    track(sim);
    const before = await running(sim);

    const notJson = await rewriteAndReload(sim, '{ "name": "SIP_M", "options": { "sip-pass-check": "true" ');
    expect(notJson.status).toBe(400);
    expect((notJson.body as { error: string }).error).toMatch(/^cannot read configuration file .*SIP_M\.json: SyntaxError.*; the running configuration is unchanged$/);

    const badField = await rewriteAndReload(sim, { ...config, configRevision: "rev-2", sipPort: "5060" as unknown as number, options: { ...config.options, "sip-pass-check": "true" } });
    expect(badField.status).toBe(400);
    expect((badField.body as { error: string }).error).toContain("is invalid: sipPort:");

    const badPort = await rewriteAndReload(sim, { ...config, configRevision: "rev-3", options: { "http-port": "eighty", "sip-pass-check": "true" } });
    expect(badPort.status).toBe(400);
    expect((badPort.body as { error: string }).error).toContain('option http-port="eighty" must be a port number 1-65535');

    const otherServer = await rewriteAndReload(sim, { ...config, name: "SIP_OTHER", configRevision: "rev-4", options: { ...config.options, "sip-pass-check": "true" } });
    expect(otherServer.status).toBe(400);
    expect((otherServer.body as { error: string }).error).toBe("the configuration file is for SIP_OTHER; this server is SIP_M; the running configuration is unchanged");

    expect(await running(sim)).toEqual(before);
    expect(sim.output()).not.toContain("reload of configuration revision");
    expect(sim.proc.exitCode).toBeNull();
  });
});
