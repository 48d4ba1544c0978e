// W4, W8 and W10 as the demo shows them from the Lab page alone, with the demo configuration's monitors.
// W4: pair A watches its SIP traffic (sip-pass-check, service DN 7001 pinged at the lab's SIP gateway), so
// unplugging the primary's SIP NIC (the sip-silent lab fault) makes it report SERVICE_UNAVAILABLE and the
// controller switches the pair over; plugging it back leaves the pair healthy on the other server.
// W8: pair A's servers watch their console connection (control-vip-scripts): with the primary's host cut
// off and both servers primary, the cut-off one demotes itself. W10: pair B's servers watch their
// application NIC (tlib-nic-monitoring): the primary's NIC down, it gives the role up and its partner is
// promoted. Real processes on loopback: the console, one agent per lab host, the simulated servers and
// the gateway process the lab starts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLabStack, waitFor, type LabStack } from "../../harness/lab-stack";
import { labChecks } from "../../harness/lab-checks";

const A = "pair-a-iptakeover";
const B = "pair-b-nlb";
/** Generous: the machine is shared and every process here is a tsx-compiled node. Never a timing assertion. */
const WAIT_MS = 40_000;

let stack: LabStack;
const { server, describePair, healthy, primaryOf, vipOn, historySince } = labChecks(() => stack, WAIT_MS);

const gateway = () => {
  const gateways = stack.lab.gateways();
  expect(gateways).toHaveLength(1);
  return gateways[0]!;
};

beforeAll(async () => {
  // The demo's monitors as they are (no customize); W13's 60 s readiness settle shortened (lab knob).
  const settle = { SWITCHYARD_LAB_READINESS_SETTLE_MS: "2000" };
  stack = await startLabStack({ pairs: [A, B], demoMonitors: true, appEnv: { [A]: settle, [B]: settle } });
  await Promise.all([healthy(A, "sip-a1"), healthy(B, "sip-b1")]);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe("the demo lab's monitors (Lab page: Unplug SIP NIC, Disconnect host, Application NIC down)", () => {
  it("W4 the lab runs one SIP gateway for pair A's service DN and the primary's pings reach it", async () => {
    expect(gateway()).toMatchObject({ contact: `sip:gw@${stack.address("127.0.9.1")}:25060`, servers: ["sip-a1", "sip-a2"], running: true });
    // Pings every 2 s: five answered span 8 s, more than the 7 s out-of-service timeout — the answers
    // are SIP traffic, so the primary that hears them stays in service.
    const since = new Date();
    const first = gateway().answered;
    await waitFor("the gateway to answer five of sip-a1's OPTIONS pings", () => gateway().answered >= first + 5, { timeoutMs: WAIT_MS });
    expect(server(await stack.view(A), "sip-a1").role).toBe("primary");
    expect((await historySince(A, since)).filter((r) => /SERVICE_UNAVAILABLE/.test(r))).toEqual([]);
    // The servers are armed for W4 (what the Lab page shows beside the button).
    const faults = await stack.lab.servers();
    expect(faults.map((s) => [s.application, s.w4.armed])).toEqual([
      ["sip-a1", true],
      ["sip-a2", true],
      ["sip-b1", false],
      ["sip-b2", false],
    ]);
  }, 60_000);

  it("W4 unplugging sip-a1's SIP NIC switches pair A to sip-a2 and moves the VIP; plugging it back leaves the pair healthy", async () => {
    await healthy(A, "sip-a1", { ready: true });
    const since = new Date();
    await stack.lab.fault("sip-a1", "sip-silent", true);
    try {
      await waitFor("sip-a2 primary after sip-a1 reported SERVICE_UNAVAILABLE", async () => {
        const v = await stack.view(A);
        return server(v, "sip-a2").role === "primary" && server(v, "sip-a1").role === "backup" && v.plan === null ? v : undefined;
      }, { timeoutMs: WAIT_MS, describe: () => describePair(A) });
      await vipOn(A, "lab-host-2", "lab-host-1");
      const rows = (await historySince(A, since)).join("\n");
      expect(rows).toMatch(/sip-a2 promoted to primary and sip-a1 demoted because sip-a1 reported SERVICE_UNAVAILABLE/);
      expect(rows).toMatch(/command-result: enable VIP on lab-host-2 .*: ok/);
      // The new primary hears the gateway: its pings are answered after the switchover.
      const answered = gateway().answered;
      await waitFor("the gateway to answer the new primary's pings", () => gateway().answered > answered, { timeoutMs: WAIT_MS });
    } finally {
      await stack.lab.fault("sip-a1", "sip-silent", false);
    }
    const v = await healthy(A, "sip-a2");
    expect(v.servers.map((s) => s.status)).toEqual(["running", "running"]);
    expect((await stack.lab.servers()).find((s) => s.application === "sip-a1")?.faults).toEqual([]);
    // sip-a2 stays primary: nothing switched back after the fault was lifted.
    const after = await historySince(A, since);
    expect(after.filter((r) => /promoted to primary/.test(r))).toHaveLength(1);
  }, 120_000);

  it("W8 pair A's primary host cut off: the other server is promoted, and the cut-off one, primary too and without its console, demotes itself (control-vip-scripts)", async () => {
    // Whichever server is primary now (W4 above switched the pair): cut its host off. The lab freezes
    // that host's agent, so the server's "console lost" comes from the Lab page's W8 button (the
    // console-lost fault), as a real agent that lost its console would tell it.
    const before = await healthy(A, await primaryOf(A), { ready: true });
    const cut = before.servers.find((s) => s.role === "primary")!;
    const other = before.servers.find((s) => s !== cut)!;
    const since = new Date();
    stack.lab.disconnectHost(cut.hostName);
    try {
      await waitFor(`${other.name} promoted while ${cut.hostName} is cut off`, async () => server(await stack.view(A), other.name).role === "primary" || undefined, {
        timeoutMs: WAIT_MS,
        describe: () => describePair(A),
      });
      expect((await stack.labState(cut.name)).role).toBe("primary");
      await stack.lab.fault(cut.name, "console-lost", true);
      // Over the HA link it learns that its partner is primary at a newer epoch and gives the role up
      // itself: nobody could have ordered it to.
      await waitFor(`${cut.name} backup by itself while its host is cut off`, async () => ((await stack.labState(cut.name)).role === "backup" ? true : undefined), {
        timeoutMs: WAIT_MS,
        describe: async () => `${cut.name}: ${JSON.stringify(await stack.labState(cut.name))}`,
      });
    } finally {
      stack.lab.reconnectHost(cut.hostName);
      await stack.lab.fault(cut.name, "console-lost", false).catch(() => {});
    }
    await healthy(A, other.name);
    const rows = (await historySince(A, since)).join("\n");
    expect(rows).toMatch(new RegExp(`${other.name} promoted to primary because ${cut.hostName} is disconnected`));
    // Back, it already reports backup: the controller never had to demote it.
    expect(rows).not.toMatch(new RegExp(`set-role ${cut.name} → backup`));
  }, 120_000);

  it("W10 pair B's primary loses its application NIC: sip-b1 gives the role up (tlib-nic-monitoring) and sip-b2 is promoted; the NIC back, sip-b2 stays primary", async () => {
    await healthy(B, "sip-b1", { ready: true });
    const since = new Date();
    await stack.lab.fault("sip-b1", "tlib-nic-down", true);
    try {
      await waitFor("sip-b2 primary after sip-b1 gave the role up", async () => {
        const v = await stack.view(B);
        return server(v, "sip-b2").role === "primary" && server(v, "sip-b1").role === "backup" && v.plan === null ? v : undefined;
      }, { timeoutMs: WAIT_MS, describe: () => describePair(B) });
      expect((await historySince(B, since)).join("\n")).toMatch(/sip-b2 promoted to primary because sip-b1 gave up the primary role by itself/);
    } finally {
      await stack.lab.fault("sip-b1", "tlib-nic-down", false);
    }
    await healthy(B, "sip-b2");
    expect((await historySince(B, since)).filter((r) => /promoted to primary/.test(r))).toHaveLength(1);
  }, 120_000);
});
