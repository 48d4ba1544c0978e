// A host agent restarted or upgraded under a live pair (console + agents + simulated SIP Servers): its
// servers outlive it under their keepers, the restarted agent re-attaches and resyncs, and the
// controller sees no change for a healthy pair; a server that died while its agent was down is handled
// as W2 the moment the agent is back, and its restart policy starts it again as backup.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLabStack, waitFor, type LabStack } from "../../harness/lab-stack";
import { labChecks } from "../../harness/lab-checks";

const A = "pair-a-iptakeover";
/** Generous: the machine is shared and every process here is a tsx-compiled node. Never a timing assertion. */
const WAIT_MS = 60_000;

let stack: LabStack;

beforeAll(async () => {
  stack = await startLabStack({
    pairs: [A],
    appEnv: { [A]: { SWITCHYARD_LAB_READINESS_SETTLE_MS: "2000" } },
    // Longer than an agent's restart on a loaded machine: the host is not lost while its agent restarts.
    heartbeatTimeoutMs: 20_000,
  });
  await healthy(A, "sip-a1");
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

const { server, describePair, healthy, historySince } = labChecks(() => stack, WAIT_MS);

const roleChanges = (rows: string[]) => rows.filter((r) => /promoted|demoted|set-role/.test(r));

describe("host agent restarts under a live pair", () => {
  it("W2 agent kill -9 and restart: the servers keep running, the agent re-attaches, no role change, no alarm", async () => {
    const before = await healthy(A, "sip-a1");
    const serverEpochBefore = (await stack.labState("sip-a1")).epoch;
    const since = new Date();
    await stack.lab.stopAgent("lab-host-1", "SIGKILL");
    // The server outlives its agent.
    expect((await stack.labState("sip-a1")).role).toBe("primary");
    await stack.lab.startAgent("lab-host-1");
    await waitFor(
      "lab-host-1's agent back and its servers resynced",
      async () => {
        const h = stack.running.services.controlPlane.hosts().find((x) => x.hostName === "lab-host-1");
        const v = await stack.view(A);
        return h?.state === "connected" && server(v, "sip-a1").role === "primary" && server(v, "sip-a1").status === "running" && v.plan === null ? v : undefined;
      },
      { timeoutMs: WAIT_MS, describe: () => describePair(A) },
    );
    const after = await healthy(A, "sip-a1");
    expect(after.epoch).toBe(before.epoch);
    expect((await stack.labState("sip-a1")).epoch).toBe(serverEpochBefore);
    expect(roleChanges(await historySince(A, since))).toEqual([]);
    const alarms = (await stack.caller().alarms.active()).filter((a) => a.pair === A || a.host === "lab-host-1");
    expect(alarms.map((a) => `${a.source} ${a.application || a.host}`)).toEqual([]);
  }, 180_000);

  it("W2 a server that died while its agent was down: failed over when the agent returns, and started again as backup by its policy", async () => {
    await healthy(A, "sip-a1");
    const since = new Date();
    await stack.lab.stopAgent("lab-host-1", "SIGKILL");
    await stack.lab.fault("sip-a1", "crash");
    await waitFor("sip-a1's process gone", async () => (await stack.labState("sip-a1").then(() => false).catch(() => true)) || undefined, { timeoutMs: WAIT_MS });
    await stack.lab.startAgent("lab-host-1");
    await waitFor(
      "sip-a2 primary and sip-a1 running again as backup",
      async () => {
        const v = await stack.view(A);
        return server(v, "sip-a2").role === "primary" && server(v, "sip-a1").role === "backup" && server(v, "sip-a1").status === "running" && v.plan === null ? v : undefined;
      },
      { timeoutMs: WAIT_MS, describe: () => describePair(A) },
    );
    const rows = (await historySince(A, since)).join("\n");
    expect(rows).toMatch(/sip-a2 promoted to primary because sip-a1's process failed/);
    // Started again as backup, never claiming primary on its own.
    expect(rows).not.toMatch(/both .* are primary/);
  }, 180_000);
});
