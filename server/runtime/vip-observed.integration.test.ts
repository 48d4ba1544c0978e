// The observed VIP on the live lab (console, real host agents, simulated SIP Servers, the lab VIP driver's
// files): the pair view shows where each host's agent observes the VIP beside where the controller wants
// it; a VIP file changed behind the controller's back — taken off the primary's host, or put on the
// backup's too — is observed, shown as a mismatch on the pair's card and raises the major vip-mismatch
// alarm once it outlasts the settle time; putting it right clears both. A disconnected host's
// observation stays in the view as its last known one.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLabStack, waitFor, type LabStack } from "../../harness/lab-stack";
import { labChecks } from "../../harness/lab-checks";
import { labVipFile } from "../../protocol/lab-vip";
import { listActiveAlarms } from "../alarms/alarms.repository";

const A = "pair-a-iptakeover";
/** Generous: the machine is shared and every process here is a tsx-compiled node. Never a timing assertion. */
const WAIT_MS = 60_000;

let stack: LabStack;
const { server, describePair, healthy } = labChecks(() => stack, WAIT_MS);

beforeAll(async () => {
  stack = await startLabStack({ pairs: [A] });
  await healthy(A, "sip-a1");
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

/** Writes a lab VIP file as someone with a shell on the host would (not through the agent). */
function writeVipFile(host: string, present: boolean | null): void {
  const file = labVipFile(stack.vipDir, A, host);
  if (present === null) {
    fs.rmSync(file, { force: true });
    return;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ present, vip: "by hand", host, updatedAt: new Date().toISOString() }));
}

async function vipAlarms() {
  return (await listActiveAlarms(stack.running.services.db)).filter((a) => a.source === "vip-mismatch");
}

/** Both hosts' observations as the pair view shows them, e.g. { "lab-host-1": true, "lab-host-2": false }. */
async function observed(): Promise<Record<string, boolean | null | undefined>> {
  const v = await stack.view(A);
  return Object.fromEntries(v.servers.map((s) => [s.hostName, s.vipObserved?.present]));
}

async function observedAs(want: Record<string, boolean>): Promise<void> {
  await waitFor(`the pair view to show the VIP observed as ${JSON.stringify(want)}`, async () => JSON.stringify(await observed()) === JSON.stringify(want), {
    timeoutMs: WAIT_MS,
    describe: async () => `${await describePair(A)}\n  observed: ${JSON.stringify(await observed())}`,
  });
}

/** The mismatch on the pair's card and its vip-mismatch alarm, once raised. */
async function mismatchRaised() {
  const mismatch = await waitFor("the mismatch on the pair's card", async () => (await stack.view(A)).vipMismatch ?? undefined, { timeoutMs: WAIT_MS, describe: () => describePair(A) });
  const alarms = await waitFor("the vip-mismatch alarm", async () => ((await vipAlarms()).length ? vipAlarms() : undefined), { timeoutMs: WAIT_MS });
  return { mismatch, alarm: alarms[0]! };
}

async function mismatchCleared(): Promise<void> {
  await waitFor("the mismatch gone from the card and the alarm cleared", async () => (await stack.view(A)).vipMismatch === null && (await vipAlarms()).length === 0, {
    timeoutMs: WAIT_MS,
    describe: () => describePair(A),
  });
}

describe("W9 (console side): where the agents observe the VIP, against where the controller wants it", () => {
  it("the pair view shows the VIP observed on the primary's host only, with when and what the agent saw, and no mismatch", async () => {
    await observedAs({ "lab-host-1": true, "lab-host-2": false });
    expect(stack.vipFile(A, "lab-host-1")).toBe(true);
    expect(stack.vipFile(A, "lab-host-2")).not.toBe(true); // no file: never enabled there
    const v = await stack.view(A);
    expect(server(v, "sip-a1").vip).toBe("present");
    expect(server(v, "sip-a1").vipObserved).toMatchObject({ present: true, detail: expect.stringContaining("says present") });
    expect(server(v, "sip-a1").vipObserved?.at).toBeInstanceOf(Date);
    expect(v.vipMismatch).toBeNull();
    expect(await vipAlarms()).toEqual([]);
  });

  it("the VIP taken off the primary's host behind the controller's back: a mismatch on the card and a major vip-mismatch alarm; put back, both clear", async () => {
    writeVipFile("lab-host-1", null);
    await observedAs({ "lab-host-1": false, "lab-host-2": false });
    const { mismatch: v, alarm } = await mismatchRaised();
    expect(v).toMatchObject({ expectedHost: "lab-host-1", hosts: [{ hostName: "lab-host-1", server: "sip-a1", expected: true, observed: false, lastKnown: false }] });
    expect(v.text).toBe("the VIP of pair-a-iptakeover is not on lab-host-1, where the intended primary sip-a1 runs: its agent observes it absent");
    expect(alarm).toMatchObject({ severity: "major", application: "sip-a1", host: "lab-host-1", pair: A, state: "active", lastText: v.text });
    expect(alarm.description).toContain("VIP not where it should be");
    // The controller does not move it back by itself: the pair stays as it was.
    expect(server(await stack.view(A), "sip-a1").role).toBe("primary");

    writeVipFile("lab-host-1", true);
    await observedAs({ "lab-host-1": true, "lab-host-2": false });
    await mismatchCleared();
  }, 180_000);

  it("the VIP put on the backup's host too (a duplicate): the alarm names that host and says where it belongs; taken off, it clears", async () => {
    writeVipFile("lab-host-2", true);
    await observedAs({ "lab-host-1": true, "lab-host-2": true });
    const { mismatch: v, alarm } = await mismatchRaised();
    expect(v.hosts).toEqual([{ hostName: "lab-host-2", server: "sip-a2", expected: false, observed: true, lastKnown: false }]);
    expect(alarm).toMatchObject({ application: "sip-a2", host: "lab-host-2", pair: A });
    expect(alarm.lastText).toBe(
      "the VIP of pair-a-iptakeover is observed on lab-host-2 as well as on lab-host-1, though sip-a2 there is not the intended primary (it belongs on lab-host-1 with sip-a1)",
    );

    await stack.lab.setVip(A, "lab-host-2", false);
    await observedAs({ "lab-host-1": true, "lab-host-2": false });
    await mismatchCleared();
  }, 180_000);

  it("the lab refuses to put a VIP on a host of no server of the pair", async () => {
    await expect(stack.lab.setVip(A, "lab-host-9", true)).rejects.toThrow("lab: host lab-host-9 runs no server of pair pair-a-iptakeover (its hosts: lab-host-1, lab-host-2)");
    await expect(stack.lab.setVip("no-such-pair", "lab-host-1", true)).rejects.toThrow("lab: pair no-such-pair does not exist");
  });

  it("a disconnected host keeps its last known observation in the view, and is not judged", async () => {
    // The backup's host: cutting it off moves nothing.
    stack.lab.disconnectHost("lab-host-2");
    try {
      const v = await waitFor("lab-host-2 disconnected in the view", async () => {
        const x = await stack.view(A);
        return server(x, "sip-a2").hostConnection === "disconnected" ? x : undefined;
      }, { timeoutMs: WAIT_MS, describe: () => describePair(A) });
      expect(server(v, "sip-a2").vipObserved).toMatchObject({ present: false });
      expect(server(v, "sip-a2").lastHeartbeatAt).toBeInstanceOf(Date);
      // Behind its back its VIP appears; nobody can see it, so nothing is judged.
      writeVipFile("lab-host-2", true);
      expect(server(await stack.view(A), "sip-a2").vipObserved?.present).toBe(false);
    } finally {
      writeVipFile("lab-host-2", false);
      stack.lab.reconnectHost("lab-host-2");
    }
    await healthy(A, "sip-a1");
    await observedAs({ "lab-host-1": true, "lab-host-2": false });
    expect((await stack.view(A)).vipMismatch).toBeNull();
    expect(await vipAlarms()).toEqual([]);
  }, 180_000);
});
