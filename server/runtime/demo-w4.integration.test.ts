// W4 as the demo shows it from the Lab page alone: pair A of the demo configuration watches its SIP
// traffic (sip-pass-check, service DN 7001 pinged at the lab's SIP gateway), so unplugging the primary's
// SIP NIC (the sip-silent lab fault) makes it report SERVICE_UNAVAILABLE and the controller switches the
// pair over; plugging it back leaves the pair healthy on the other server. Real processes on loopback:
// the console, one agent per lab host, the simulated servers and the gateway process the lab starts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLabStack, waitFor, type LabStack } from "../../harness/lab-stack";
import { labChecks } from "../../harness/lab-checks";

const A = "pair-a-iptakeover";
/** Generous: the machine is shared and every process here is a tsx-compiled node. Never a timing assertion. */
const WAIT_MS = 40_000;

let stack: LabStack;
const { server, describePair, healthy, vipOn, historySince } = labChecks(() => stack, WAIT_MS);

const gateway = () => {
  const gateways = stack.lab.gateways();
  expect(gateways).toHaveLength(1);
  return gateways[0]!;
};

beforeAll(async () => {
  // The demo's W4 set-up as it is (no customize); W13's 60 s readiness settle shortened (lab knob).
  stack = await startLabStack({ pairs: [A], serviceDnGateways: true, appEnv: { [A]: { SWITCHYARD_LAB_READINESS_SETTLE_MS: "2000" } } });
  await healthy(A, "sip-a1");
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe("the demo lab's W4 on pair A (Lab page: Unplug SIP NIC)", () => {
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
});
