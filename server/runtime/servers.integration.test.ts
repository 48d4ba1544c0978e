// What reaches the servers, end to end on the loopback lab (console + real agents + simulated SIP
// Servers): an option set in the console changes the running server without a restart (sip-pass-check
// turns traffic monitoring on at once; ha-max-calls-sync-at-once sizes the call sync at the next HA link
// establishment), an after-restart option shows "restart needed" until the restart, configured and
// running values match after delivery, a delivery that fails is shown and raises an alarm, and a crashed
// server is restarted by its restart policy until it gives up, with an alarm.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeView, startLabStack, waitFor, type LabStack } from "../../harness/lab-stack";
import { startSipGateway, type SipGateway } from "../../harness/sip-gateway";
import { RESTART_NEEDED, WAITS_FOR_HA_LINK } from "./option-delivery";
import type { ApplicationRuntimeView } from "./app-runtime.service";

const A = "pair-a-iptakeover";
/** Generous give-up limits for a shared, busy machine; never a timing assertion. */
const WAIT_MS = 60_000;

let stack: LabStack;
let gateway: SipGateway;
const ids: Record<string, string> = {};

beforeAll(async () => {
  stack = await startLabStack({
    pairs: [A],
    // Short pauses between call-sync batches keep the W12 sync quick (lab knob; the batch size is the option's).
    appEnv: { [A]: { SWITCHYARD_LAB_HA_SYNC_PAUSE_MS: "50" } },
    customize: async (config, net) => {
      // The gateway behind service DN 7001: answers the OPTIONS pings of traffic monitoring.
      gateway = await startSipGateway(net.address("127.0.9.1"));
      const contact = gateway.contact;
      for (const app of config.applications) {
        app.options.TServer = { ...app.options.TServer, "sip-pass-check": "false", "ha-max-calls-sync-at-once": "500" };
        app.dns = { "7001": { TServer: { "oos-check": "1", "oos-force": "5", contact } } };
      }
      // The backup's own policy: quick restarts, and it gives up after two within ten minutes.
      config.applications.find((a) => a.name === "sip-a2")!.restartPolicy = {
        enabled: true,
        maxRestarts: 2,
        restartWindowMs: 600_000,
        restartDelayMs: 200,
        restartDelayMaxMs: 1000,
        backoffMultiplier: 2,
      };
    },
  });
  for (const a of await stack.running.services.db.application.findMany({ select: { id: true, name: true } })) ids[a.name] = a.id;
  await healthy();
}, 120_000);

afterAll(async () => {
  gateway?.close();
  await stack?.stop();
}, 60_000);

const runtime = (app: string): Promise<ApplicationRuntimeView> => stack.caller().live.applicationRuntime({ appId: ids[app]! });
const row = (v: ApplicationRuntimeView, name: string) => v.options.find((o) => o.name === name)!;

async function describeApp(app: string): Promise<string> {
  const v = await runtime(app);
  const rows = [...v.options, ...v.dns.flatMap((d) => d.options)].filter((o) => o.state !== "in-effect").map((o) => `${o.dn ? `${o.dn}/` : ""}${o.name}: ${o.configured} vs ${o.running} (${o.why})`);
  return `${app}: ${JSON.stringify(v.process)}\n  running: ${JSON.stringify(v.running)}\n  delivery: ${JSON.stringify(v.delivery)}\n  ${rows.join("\n  ")}\n${describeView(await stack.view(A))}`;
}

function until<T>(app: string, what: string, probe: (v: ApplicationRuntimeView) => T | undefined | false): Promise<T> {
  return waitFor(`${app}: ${what}`, async () => probe(await runtime(app)), { timeoutMs: WAIT_MS, describe: () => describeApp(app) });
}

/** sip-a1 primary, sip-a2 backup, both running with the HA link up and no switchover in progress. */
async function healthy(): Promise<void> {
  await waitFor(
    "pair A healthy with sip-a1 primary",
    async () => {
      const v = await stack.view(A);
      const [p, b] = ["sip-a1", "sip-a2"].map((n) => v.servers.find((s) => s.name === n)!);
      return p!.role === "primary" && b!.role === "backup" && [p!, b!].every((s) => s.status === "running" && s.haLink === "up") && v.plan === null;
    },
    { timeoutMs: WAIT_MS, describe: async () => describeView(await stack.view(A)) },
  );
}

async function setOption(app: string, name: string, value: string | null): Promise<void> {
  await stack.caller().options.set({ applicationId: ids[app]!, changes: [{ dn: "", section: "TServer", name, value }] });
}

describe("options reach the running servers", () => {
  it("configured and running values match once the servers reported what they run with", async () => {
    for (const app of ["sip-a1", "sip-a2"]) {
      const v = await until(app, "a running configuration matching the stored one", (v) => v.running !== null && v.differences === 0 && v);
      expect(row(v, "ha-max-calls-sync-at-once")).toMatchObject({ configured: "500", running: "500", state: "in-effect" });
      expect(v.dns[0]!.options.find((o) => o.name === "oos-check")).toMatchObject({ configured: "1", running: "1", state: "in-effect" });
    }
  });

  it("W4 sip-pass-check set in the console turns traffic monitoring on in the running primary, without a restart", async () => {
    const before = await runtime("sip-a1");
    expect(gateway.answered()).toBe(0); // monitoring off: nobody pings the service DN
    await setOption("sip-a1", "sip-pass-check", "true");
    await waitFor("the primary to ping the service DN (traffic monitoring on)", () => gateway.answered() > 0, { timeoutMs: WAIT_MS, describe: () => describeApp("sip-a1") });
    const v = await until("sip-a1", "sip-pass-check=true running", (v) => row(v, "sip-pass-check").running === "true" && v);
    expect(row(v, "sip-pass-check")).toMatchObject({ configured: "true", running: "true", state: "in-effect", why: "in effect" });
    expect(v.delivery).toMatchObject({ outcome: "reloaded" });
    expect(v.differences).toBe(0);
    // Same process: its status was not reported again (no restart).
    expect(v.process).toEqual(before.process);
  });

  it("an after-restart option shows 'restart needed' until the server restarts, then runs", async () => {
    await setOption("sip-a2", "backup-sip-port-check", "true");
    const pending = await until("sip-a2", "backup-sip-port-check restart needed", (v) => v.delivery?.outcome === "reloaded" && row(v, "backup-sip-port-check").state === "restart-needed" && v);
    expect(row(pending, "backup-sip-port-check")).toMatchObject({ configured: "true", running: null, why: RESTART_NEEDED });
    expect(pending.differences).toBe(1);

    expect(await stack.stopApp("sip-a2")).toMatch(/^ok/);
    expect(await stack.startApp("sip-a2")).toMatch(/^ok/);
    const after = await until("sip-a2", "backup-sip-port-check in effect after the restart", (v) => row(v, "backup-sip-port-check").state === "in-effect" && v);
    expect(row(after, "backup-sip-port-check")).toMatchObject({ configured: "true", running: "true" });
    expect(after.differences).toBe(0);
    await healthy();
  });

  it("W12 ha-max-calls-sync-at-once waits for the HA link, then sizes the call sync of the running primary (no restart of it)", async () => {
    const primaryBefore = await runtime("sip-a1");
    await setOption("sip-a1", "ha-max-calls-sync-at-once", "200");
    const waiting = await until("sip-a1", "ha-max-calls-sync-at-once waiting for the HA link", (v) => v.delivery?.outcome === "reloaded" && row(v, "ha-max-calls-sync-at-once").state === "waits-for-ha-link" && v);
    expect(row(waiting, "ha-max-calls-sync-at-once")).toMatchObject({ configured: "200", running: "500", why: WAITS_FOR_HA_LINK });

    await stack.lab.createCalls("sip-a1", 600);
    await waitFor("the backup to hold the 600 calls", async () => (await stack.labState("sip-a2")).calls === 600, { timeoutMs: WAIT_MS });
    const syncsBefore = (await stack.labState("sip-a1")).haSync.length;
    // The HA link re-establishes when the backup comes back: crash it, its restart policy restarts it.
    await stack.lab.fault("sip-a2", "crash");
    const sync = await waitFor(
      "the primary's next call sync to finish",
      async () => {
        const log = (await stack.labState("sip-a1")).haSync;
        const last = log[log.length - 1];
        return log.length > syncsBefore && last?.done && last;
      },
      { timeoutMs: WAIT_MS, describe: () => describeApp("sip-a1") },
    );
    expect(sync.batchSizes).toEqual([200, 200, 200]);
    const now = await until("sip-a1", "ha-max-calls-sync-at-once=200 running", (v) => row(v, "ha-max-calls-sync-at-once").state === "in-effect" && v);
    expect(row(now, "ha-max-calls-sync-at-once")).toMatchObject({ configured: "200", running: "200" });
    expect(now.process).toEqual(primaryBefore.process);
    await healthy();
  });

  it("a delivery that fails is shown on the application and raises an alarm; the next one that works cancels it", async () => {
    await stack.lab.fault("sip-a2", "hang"); // the server stops answering its HTTP interface, reload included
    await setOption("sip-a2", "sip-pass-check", "true");
    const failed = await until("sip-a2", "a failed delivery", (v) => v.delivery?.outcome === "failed" && v);
    expect(row(failed, "sip-pass-check")).toMatchObject({ configured: "true", running: "false", state: "not-delivered" });
    expect(row(failed, "sip-pass-check").why).toMatch(/^not delivered: the last delivery \(revision \d+\) failed: /);
    const alarm = await waitFor("the config-delivery-failed alarm", async () => (await stack.caller().alarms.active()).find((a) => a.source === "config-delivery-failed" && a.application === "sip-a2"), { timeoutMs: WAIT_MS });
    expect(alarm.lastText).toMatch(/^configuration \d+ did not reach sip-a2 on lab-host-2: /);

    await stack.lab.fault("sip-a2", "hang", false);
    await setOption("sip-a2", "sip-pass-check", "false");
    await until("sip-a2", "a delivery that worked", (v) => v.delivery?.outcome === "reloaded" && v.differences === 0);
    await waitFor("the alarm to be cancelled", async () => !(await stack.caller().alarms.active()).some((a) => a.source === "config-delivery-failed" && a.application === "sip-a2"), { timeoutMs: WAIT_MS });
    await healthy();
  });

  it("the Options page's bulk set (one option on both servers at once) reaches both running servers, neither restarted", async () => {
    const before = { a1: await runtime("sip-a1"), a2: await runtime("sip-a2") };
    expect([row(before.a1, "sip-pass-check").running, row(before.a2, "sip-pass-check").running]).toEqual(["true", "false"]);
    const bulk = (value: string) => stack.caller().options.bulkSet({ applicationIds: [ids["sip-a1"]!, ids["sip-a2"]!], change: { dn: "", section: "TServer", name: "sip-pass-check", value } });
    for (const value of ["false", "true"]) {
      expect(await bulk(value)).toBe(2);
      for (const app of ["sip-a1", "sip-a2"] as const) {
        const v = await until(app, `sip-pass-check=${value} running`, (v) => row(v, "sip-pass-check").running === value && v.differences === 0 && v);
        expect(row(v, "sip-pass-check")).toMatchObject({ configured: value, running: value, state: "in-effect" });
        expect(v.delivery).toMatchObject({ outcome: "reloaded" });
        expect(v.process).toEqual(before[app === "sip-a1" ? "a1" : "a2"].process);
      }
    }
    // Monitoring on again in the primary: it pings the service DN's gateway anew.
    const pings = gateway.answered();
    await waitFor("the primary to ping the service DN again", () => gateway.answered() > pings, { timeoutMs: WAIT_MS, describe: () => describeApp("sip-a1") });
  });
});

describe("W2 restart policy", () => {
  it("a crashed server is restarted by its policy, and after the maximum it gives up and stays down with an alarm", async () => {
    // sip-a2 was restarted automatically once above (the crash that re-established the HA link); its policy allows two.
    const before = await runtime("sip-a2");
    expect(before.restartPolicy).toMatchObject({ maxRestarts: 2, restartDelayMs: 200 });
    expect(before.process?.restart).toMatchObject({ attempts: 1, gaveUp: false });

    await stack.lab.fault("sip-a2", "crash");
    const restarted = await until("sip-a2", "restarted by its policy (2 of 2)", (v) => v.process?.status === "running" && v.process.restart?.attempts === 2 && v);
    expect(restarted.process?.restart?.gaveUp).toBe(false);
    await healthy(); // back as backup; the primary kept serving

    await stack.lab.fault("sip-a2", "crash");
    const down = await until("sip-a2", "given up", (v) => v.process?.restart?.gaveUp === true && v);
    expect(down.process?.status).toBe("failed");
    expect(down.process?.detail).toContain("gave up restarting it: 2 automatic restarts within 600 s already (at most 2)");
    const alarm = await waitFor("the restart-gave-up alarm", async () => (await stack.caller().alarms.active()).find((a) => a.source === "restart-gave-up" && a.application === "sip-a2"), { timeoutMs: WAIT_MS });
    expect(alarm).toMatchObject({ severity: "critical", host: "lab-host-2", pair: A });

    // An operator's start resets the policy and ends the alarm.
    expect(await stack.startApp("sip-a2")).toMatch(/^ok/);
    await until("sip-a2", "running with a fresh policy", (v) => v.process?.status === "running" && v.process.restart?.gaveUp === false && v.process.restart.attempts === 0);
    await waitFor("the alarm to be cancelled", async () => !(await stack.caller().alarms.active()).some((a) => a.source === "restart-gave-up" && a.application === "sip-a2"), { timeoutMs: WAIT_MS });
    await healthy();
  });
});
