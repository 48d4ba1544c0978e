// Readiness-aware failover on the live lab (console + host agents + simulated SIP Servers), replaying
// the soak that lost 7,500 calls: the primary, holding thousands of calls, crashes; its partner takes
// over; the crashed server comes back as backup and starts its batched resync; during that resync the
// new primary cannot bind its SIP port (W7). The controller must hold the alternation until the backup
// holds every call (no call lost), or — when the pair's hold is too short — switch at its end and raise
// the double-failure alarm naming the calls at risk. Also: the 00-04200 alarm clears when the server
// reports its SIP listener bound again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLabStack, waitFor, type LabStack } from "../../harness/lab-stack";
import { labChecks } from "../../harness/lab-checks";

const A = "pair-a-iptakeover";
const C = "pair-c-single";
/** Generous: the machine is shared and every process here is a tsx-compiled node. Never a timing assertion. */
const WAIT_MS = 60_000;
/** Pair A waits long enough for any resync here; pair C's hold is far shorter than its resync. */
const HOLD_A_MS = 180_000;
const HOLD_C_MS = 1_000;
const CALLS = 8_000;

let stack: LabStack;

beforeAll(async () => {
  stack = await startLabStack({
    pairs: [A, C],
    appEnv: {
      // W13's 60 s shortened; the resync paced so that it is still running when the bind failure
      // arrives, however slow the machine is (8,000 calls in batches of 500, 2 s apart: about 30 s).
      [A]: { SWITCHYARD_LAB_READINESS_SETTLE_MS: "2000", SWITCHYARD_LAB_HA_SYNC_PAUSE_MS: "2000" },
      [C]: { SWITCHYARD_LAB_READINESS_SETTLE_MS: "2000", SWITCHYARD_LAB_HA_SYNC_PAUSE_MS: "3000" },
    },
    customize: (config) => {
      for (const p of config.pairs) {
        if (p.name === A) p.failoverHoldMs = HOLD_A_MS;
        if (p.name === C) p.failoverHoldMs = HOLD_C_MS;
      }
    },
  });
  await Promise.all([healthy(A, "sip-a1", { ready: true }), healthy(C, "sip-c1", { ready: true })]);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

const { server, describePair, healthy, historySince } = labChecks(() => stack, WAIT_MS);

/**
 * The soak's first half: `primary` holds CALLS calls (live-replicated to `backup`), crashes, `backup`
 * takes over, and `primary` comes back as backup and is part-way through its resync.
 */
async function crashAndResync(pair: string, primary: string, backup: string): Promise<void> {
  await stack.lab.createCalls(primary, CALLS);
  await waitFor(`${backup} holds the ${CALLS} calls (live replication)`, async () => (await stack.labState(backup)).calls === CALLS, {
    timeoutMs: WAIT_MS,
    describe: async () => `${backup}: ${JSON.stringify((await stack.labState(backup)).calls)} calls`,
  });
  await stack.lab.fault(primary, "crash");
  await waitFor(`${backup} primary after ${primary} crashed`, async () => server(await stack.view(pair), backup).role === "primary", { timeoutMs: WAIT_MS, describe: () => describePair(pair) });
  // The agent's restart policy starts the crashed server again, as backup; it then resyncs in batches.
  await waitFor(
    `${primary} back as backup and part-way through its resync`,
    async () => {
      const s = await stack.labState(primary).catch(() => null);
      const sync = s?.haSync.at(-1);
      return s !== null && s.role === "backup" && sync !== undefined && !sync.done && sync.batchSizes.length >= 1 && s.calls < CALLS;
    },
    { timeoutMs: WAIT_MS, describe: () => describePair(pair) },
  );
  // …and the console has heard so: its HA link up and not ready (on a loaded machine the readiness poll
  // that says so can come seconds after the resync began, and until then the console knows the link as
  // it was before, down, which rightly means "cannot catch up, do not wait").
  await waitFor(
    `the console to see ${primary} resyncing (HA link up, not ready)`,
    async () => {
      const s = server(await stack.view(pair), primary);
      return s.haLink === "up" && s.readyForSwitchover === 0 ? true : undefined;
    },
    { timeoutMs: WAIT_MS, describe: () => describePair(pair) },
  );
}

describe("readiness-aware failover on the live lab (the soak's lost calls)", () => {
  it("W7 bind failure on the new primary during the restarted backup's resync: the alternation waits for the resync, no call is lost, and 00-04200 clears when the port binds again", async () => {
    const since = new Date();
    await crashAndResync(A, "sip-a1", "sip-a2");
    await stack.lab.fault("sip-a2", "bind-fail", true);
    try {
      // Held, and said so live on the pair's card and in its timeline.
      const held = await waitFor("the failover held for sip-a1's resync", async () => (await stack.view(A)).hold ?? undefined, { timeoutMs: WAIT_MS, describe: () => describePair(A) });
      expect(held).toMatchObject({ cause: "bind-failure", from: "sip-a2", to: "sip-a1" });
      const rows = (await historySince(A, since)).join("\n");
      // sip-a1 may not have reported since its restart when the bind failure is seen: unknown waits too.
      expect(rows).toMatch(/sip-a2 cannot open its SIP listening port \(00-04200\), but sip-a1.*: waiting for sip-a1 to (synchronise [\d,]+ calls|become ready) before switching, at most 180 s/);
      // The card counts the calls still to come as the backup reports them.
      await waitFor("the held failover showing the calls sip-a1 still has to receive", async () => {
        const hold = (await stack.view(A)).hold;
        return hold !== null && hold.unsyncedCalls !== null && hold.unsyncedCalls > 0 ? hold : undefined;
      }, { timeoutMs: WAIT_MS, describe: () => describePair(A) });

      // Once sip-a1 holds every call it takes over.
      await waitFor(
        "sip-a1 primary after its resync",
        async () => {
          const v = await stack.view(A);
          return server(v, "sip-a1").role === "primary" && v.plan === null ? v : undefined;
        },
        { timeoutMs: HOLD_A_MS, describe: () => describePair(A) },
      );
      expect((await historySince(A, since)).join("\n")).toMatch(/sip-a1 promoted to primary and sip-a2 demoted because sip-a2 cannot open its SIP listening port \(00-04200\).*; sip-a1 became ready after \d+ s of waiting/);
      expect((await stack.labState("sip-a1")).calls).toBe(CALLS);
      const active = await stack.caller().alarms.active();
      expect(active.filter((a) => a.source === "double-failure" && a.pair === A)).toEqual([]);
    } finally {
      await stack.lab.fault("sip-a2", "bind-fail", false).catch(() => {});
    }

    // sip-a2, now backup, holds no listener (an ip-takeover backup binds nothing), so its server reports
    // the SIP listener bound — and the 00-04200 alarm it raised as primary clears (maybe already did).
    await waitFor(
      "the 00-04200 alarm of sip-a2 cleared by the bound listener",
      async () => {
        const history = await stack.caller().alarms.history({ application: "sip-a2", limit: 50 });
        return history.items.find((a) => a.source === "00-04200" && a.clearedHow === "cancel-event");
      },
      { timeoutMs: WAIT_MS, describe: async () => JSON.stringify((await stack.caller().alarms.active()).map((a) => [a.source, a.application, a.lastText])) },
    );
    expect((await stack.caller().alarms.active()).filter((a) => a.source === "00-04200" && a.application === "sip-a2")).toEqual([]);
    await waitFor("sip-a2 holds every call again", async () => (await stack.labState("sip-a2")).calls === CALLS, { timeoutMs: WAIT_MS, describe: () => describePair(A) });
  }, 300_000);

  it("W7 the same sequence with a pair hold shorter than the resync: the switch happens at the hold's end with the double-failure alarm naming the calls at risk", async () => {
    const since = new Date();
    await crashAndResync(C, "sip-c1", "sip-c2");
    await stack.lab.fault("sip-c2", "bind-fail", true);
    try {
      await waitFor(
        "sip-c1 promoted at the end of the hold",
        async () => (await historySince(C, since)).find((r) => /sip-c1 promoted to primary and sip-c2 demoted because sip-c2 cannot open its SIP listening port/.test(r)),
        { timeoutMs: WAIT_MS, describe: () => describePair(C) },
      );
      const rows = (await historySince(C, since)).join("\n");
      expect(rows).toMatch(/waiting for sip-c1 to (synchronise [\d,]+ calls|become ready) before switching, at most 1 s/);
      expect(rows).toMatch(/double failure: sip-c1 was still not ready after the 1 s hold .*; [\d,]+ calls not yet synchronised may be lost/);
      const alarm = await waitFor(
        "the double-failure alarm of pair C",
        async () => (await stack.caller().alarms.active()).find((a) => a.source === "double-failure" && a.pair === C),
        { timeoutMs: WAIT_MS, describe: async () => `${await describePair(C)}\n  active alarms: ${JSON.stringify((await stack.caller().alarms.active()).map((a) => [a.source, a.application, a.host, a.pair]))}` },
      );
      expect(alarm.lastText).toMatch(/[\d,]+ calls not yet synchronised may be lost/);
    } finally {
      await stack.lab.fault("sip-c2", "bind-fail", false).catch(() => {});
    }
  }, 300_000);
});
