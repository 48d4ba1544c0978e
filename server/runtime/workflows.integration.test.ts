// The workflows of docs/workflows.md end to end with real processes on loopback: the console (controller,
// agent gateway, tRPC) in this process, one host agent process per lab host, and the simulated SIP
// Servers those agents start. Each test injects the fault an operator would meet and asserts roles,
// where the VIP (lab VIP files) is, what the live view shows and the pair's history rows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLabStack, waitFor, type LabStack } from "../../harness/lab-stack";
import { labChecks } from "../../harness/lab-checks";
import type { PairView } from "./live-view";
import { startSipGateway, type SipGateway } from "../../harness/sip-gateway";
import { createTestDatabase, testDialect, type TestDatabase } from "../test-database";

const A = "pair-a-iptakeover";
const B = "pair-b-nlb";
const C = "pair-c-single";
/** Generous: the machine is shared and every process here is a tsx-compiled node. Never a timing assertion. */
const WAIT_MS = 40_000;

let stack: LabStack;
/** In the "postgresql" project the console runs on a database of its own there (it migrates it itself). */
let database: TestDatabase | null = null;
/** Answers the W4 service DN's OPTIONS pings, standing for the SIP gateway behind it. */
let gateway: SipGateway;

beforeAll(async () => {
  database = testDialect === "postgresql" ? await createTestDatabase("", { migrate: false }) : null;
  stack = await startLabStack({
    databaseUrl: database?.url,
    pairs: [A, B, C],
    appEnv: {
      // W13's 60 s shortened (lab knob) so W1 can wait for readiness 1.
      [A]: { SWITCHYARD_LAB_READINESS_SETTLE_MS: "2000" },
      [B]: { SWITCHYARD_LAB_READINESS_SETTLE_MS: "2000" },
      // Pair C's primary is never ready within the run: W12's refusal does not race the clock.
      [C]: { SWITCHYARD_LAB_READINESS_SETTLE_MS: "3600000" },
    },
    customize: async (config, net) => {
      // The "gateway" behind pair B's service DN: a real UDP SIP endpoint that answers OPTIONS with 200.
      gateway = await startSipGateway(net.address("127.0.9.1"));
      const contact = gateway.contact;
      // W4/W6: one service DN with the shortest Active-OOS check: timeout (1 + max(0, 5)) s = 6 s.
      for (const app of config.applications.filter((a) => a.name === "sip-b1" || a.name === "sip-b2")) {
        app.options.TServer = { ...app.options.TServer, "sip-pass-check": "true" };
        app.dns = { "7001": { TServer: { "oos-check": "1", "oos-force": "0", contact } } };
      }
    },
  });
  await Promise.all([healthy(A, "sip-a1"), healthy(B, "sip-b1"), healthy(C, "sip-c1")]);
}, 120_000);

afterAll(async () => {
  gateway?.close();
  await stack?.stop();
  await database?.drop();
}, 60_000);

// ---- helpers ---------------------------------------------------------------------------------

const { server, other, describePair, primaryOf, healthy, vipOn, historySince, historyMatching } = labChecks(() => stack, WAIT_MS);

/**
 * A crashed server comes back: its restart policy restarts it (as backup) about a second after the crash,
 * or the operator's "start" does (an agent answers ok when it runs already); the controller keeps the
 * other primary. The failed status may be over before a poll sees it, so the policy's count counts too.
 */
async function restart(pair: string, app: string, primary: string): Promise<void> {
  await waitFor(
    `${app} reported failed (or already restarted by its policy)`,
    async () => server(await stack.view(pair), app).status === "failed" || (stack.running.services.controlPlane.applicationRuntime(app)?.restart?.attempts ?? 0) > 0,
    { timeoutMs: WAIT_MS, describe: () => describePair(pair) },
  );
  expect(await stack.startApp(app)).toMatch(/^ok/);
  await healthy(pair, primary);
}

// ---- workflows -------------------------------------------------------------------------------

describe("workflows on the live lab: console + host agents + simulated SIP Servers", () => {
  it("W2 primary server failure: the crashed primary's backup becomes primary and the VIP moves to host 2", async () => {
    await healthy(A, "sip-a1");
    expect(stack.vipFile(A, "lab-host-1")).toBe(true);
    // On adoption the controller put the VIP on the primary's host and took it off the backup's.
    expect(stack.vipFile(A, "lab-host-2")).not.toBe(true);
    const since = new Date();
    await stack.lab.fault("sip-a1", "crash");

    const v = await waitFor(
      "sip-a2 primary after sip-a1 crashed",
      async () => {
        const x = await stack.view(A);
        return server(x, "sip-a2").role === "primary" && server(x, "sip-a1").status === "failed" && x.plan === null ? x : undefined;
      },
      { timeoutMs: WAIT_MS, describe: () => describePair(A) },
    );
    expect(server(v, "sip-a2").role).toBe("primary");
    await vipOn(A, "lab-host-2", "lab-host-1");
    const after = await stack.view(A);
    expect(server(after, "sip-a2").vip).toBe("present");
    expect(server(after, "sip-a1").vip).toBe("absent");

    await historyMatching(A, since, [
      /sip-a2 promoted to primary because/,
      /command-result: set-role sip-a2 → primary .* on lab-host-2: ok/,
      /command-result: enable VIP on lab-host-2 .*: ok/,
      /command-result: disable VIP on lab-host-1 .*: ok/,
      /complete: sip-a2 is primary/,
    ]);

    // Reset for the next workflow: the crashed server returns as backup; sip-a2 stays primary.
    await restart(A, "sip-a1", "sip-a2");
  }, 120_000);

  it("W1 manual switchover (ip-takeover): primary → backup, backup → primary, VIP disabled on host 1 and enabled on host 2", async () => {
    // After W2, sip-a2 is primary on lab-host-2; switching over moves everything to sip-a1 on lab-host-1.
    await healthy(A, "sip-a2", { ready: true });
    const since = new Date();
    const outcome = await stack.caller().live.switchover({ pairId: await stack.pairId(A) });
    expect(outcome.sentence).toMatch(/switchover/i);
    expect(outcome.accepted).toBe(true);

    await healthy(A, "sip-a1");
    await vipOn(A, "lab-host-1", "lab-host-2");
    const v = await stack.view(A);
    expect(server(v, "sip-a1").vip).toBe("present");
    expect(server(v, "sip-a2").vip).toBe("absent");

    const text = await historyMatching(A, since, [/complete: sip-a1 is primary, sip-a2 is backup/, /command-result: enable VIP on lab-host-1 .*: ok/, /command-result: disable VIP on lab-host-2 .*: ok/]);
    const rows = text.split("\n");
    expect(text).toMatch(/operator: admin asked for a switchover/);
    // The demotion is sent, and confirmed, before the promotion is sent (W1 order). The console writes its
    // own sends in the order it makes them; the two results come from two hosts, and the demotion may be
    // confirmed by sip-a2's role report before its result arrives — so under load sip-a1's result was
    // seen first (the order of the results is no part of W1; core.test.ts checks the promotion waits).
    const demotionSent = rows.findIndex((r) => /command: sent set-role sip-a2 → backup /.test(r));
    const promotionSent = rows.findIndex((r) => /command: sent set-role sip-a1 → primary /.test(r));
    expect(demotionSent).toBeGreaterThanOrEqual(0);
    expect(promotionSent).toBeGreaterThan(demotionSent);
    expect(rows.some((r) => /command-result: set-role sip-a2 → backup .*: ok/.test(r))).toBe(true);
    expect(rows.some((r) => /command-result: set-role sip-a1 → primary .*: ok/.test(r))).toBe(true);
  }, 120_000);

  it("W1 manual switchover (nlb-cluster): the NLB port is disabled on host 3 and enabled on host 4", async () => {
    await healthy(B, "sip-b1", { ready: true });
    const since = new Date();
    await stack.caller().live.switchover({ pairId: await stack.pairId(B) });

    await healthy(B, "sip-b2");
    await vipOn(B, "lab-host-4", "lab-host-3");
    const text = await historyMatching(B, since, [/complete: sip-b2 is primary, sip-b1 is backup/, /command-result: disable NLB port on lab-host-3 .*: ok/, /command-result: enable NLB port on lab-host-4 .*: ok/]);
    expect(text).toMatch(/operator: admin asked for a switchover/);

    // Back to sip-b1 so W4 starts from the configured layout.
    await healthy(B, "sip-b2", { ready: true });
    await stack.caller().live.switchover({ pairId: await stack.pairId(B) });
    await healthy(B, "sip-b1");
    await vipOn(B, "lab-host-3", "lab-host-4");
  }, 120_000);

  it("W3 primary host disconnected: backup goes primary, stale VIP on host 1; on return host 1's server is demoted and its VIP disabled", async () => {
    await healthy(A, "sip-a1");
    await vipOn(A, "lab-host-1", "lab-host-2");
    const since = new Date();
    stack.lab.disconnectHost("lab-host-1");
    try {
      await waitFor(
        "sip-a2 primary while lab-host-1 is disconnected, with a stale VIP on lab-host-1",
        async () => {
          const v = await stack.view(A);
          return server(v, "sip-a2").role === "primary" && server(v, "sip-a1").hostConnection === "disconnected" && server(v, "sip-a1").vip === "stale" ? v : undefined;
        },
        { timeoutMs: WAIT_MS, describe: () => describePair(A) },
      );
      await waitFor("VIP enabled on lab-host-2", () => stack.vipFile(A, "lab-host-2") === true, { timeoutMs: WAIT_MS, describe: () => describePair(A) });
      // Host 1's script could not run: its VIP is still up there (both files say present).
      expect(stack.vipFile(A, "lab-host-1")).toBe(true);
      await historyMatching(A, since, [/sip-a2 promoted to primary because/, /alarm raised \(stale-vip\)/]);
    } finally {
      stack.lab.reconnectHost("lab-host-1");
    }

    // Host 1 returns still primary (at the old epoch): both primary → the returning server is demoted.
    await healthy(A, "sip-a2");
    await vipOn(A, "lab-host-2", "lab-host-1");
    const v = await stack.view(A);
    expect(server(v, "sip-a1").vip).toBe("absent");
    // The agents' results are written after the VIP file changes: wait for the rows, do not read them once.
    await waitFor(
      "the demotion and the VIP disable on lab-host-1 reported ok in the history",
      async () => {
        const rows = (await historySince(A, since)).join("\n");
        return /command-result: set-role sip-a1 → backup .*: ok/.test(rows) && /command-result: disable VIP on lab-host-1 .*: ok/.test(rows);
      },
      { timeoutMs: WAIT_MS, describe: () => describePair(A) },
    );
  }, 120_000);

  it("W12 switchover while readiness is 0 is refused with the double-failure warning, then forced with a reason (history and audit)", async () => {
    const v = await healthy(C, "sip-c1");
    expect(server(v, "sip-c1").readyForSwitchover).toBe(0);
    expect(v.switchoverBlockers.join("; ")).toMatch(/sip-c1 is not ready/);
    const since = new Date();
    const pairId = await stack.pairId(C);

    const refused = await stack.caller().live.switchover({ pairId });
    expect(refused.sentence).toMatch(/double failure/);
    expect(refused.accepted).toBe(false);
    // Nothing moved.
    const still = await stack.view(C);
    expect(server(still, "sip-c1").role).toBe("primary");
    expect(still.epoch).toBe(v.epoch);

    // A forced switchover without a reason is rejected by validation.
    await expect(stack.caller().live.switchover({ pairId, force: true })).rejects.toThrow(/reason/);
    const forced = await stack.caller().live.switchover({ pairId, force: true, reason: "W12 test: calls are known to be synced" });
    expect(forced.sentence).not.toMatch(/refused/);
    expect(forced.accepted).toBe(true);
    await healthy(C, "sip-c2");

    // The plan's last rows are saved a moment after the view shows it done: wait for them too.
    const rows = await historyMatching(C, since, [/alarm raised \(double-failure\)/, /complete: sip-c2 is primary, sip-c1 is backup/]);
    expect(rows).toMatch(/operator: admin asked for a switchover: .*double failure/);
    expect(rows).toMatch(/operator: admin asked for a forced switchover \(W12 test: calls are known to be synced\)/);
    expect(rows).toMatch(/alarm raised \(double-failure\)/);
    expect(rows).toMatch(/complete: sip-c2 is primary, sip-c1 is backup/);
    const audit = await stack.running.services.db.auditEntry.findMany({ where: { objectId: pairId, at: { gte: since } }, select: { action: true, detail: true }, orderBy: { at: "asc" } });
    expect(audit.map((a) => a.action)).toEqual(["pair.switchover-refused", "pair.switchover-forced"]);
    expect(audit[1]!.detail).toMatch(/reason: W12 test/);
  }, 120_000);

  it("W15 single-host HA: a crashed primary's partner on the same host takes over, with no VIP scripts and no VIP files", async () => {
    await healthy(C, "sip-c2");
    const since = new Date();
    await stack.lab.fault("sip-c2", "crash");
    await waitFor("sip-c1 primary after sip-c2 crashed", async () => {
      const v = await stack.view(C);
      return server(v, "sip-c1").role === "primary" && server(v, "sip-c2").status === "failed" && v.plan === null ? v : undefined;
    }, { timeoutMs: WAIT_MS, describe: () => describePair(C) });
    const v = await stack.view(C);
    expect(v.servers.map((s) => s.vip)).toEqual(["none", "none"]);
    expect(stack.vipFile(C, "lab-host-5")).toBeNull();
    const rows = (await historyMatching(C, since, [/sip-c1 promoted to primary because/])).split("\n");
    expect(rows.filter((r) => /VIP|NLB/.test(r))).toEqual([]);
    await restart(C, "sip-c2", "sip-c1");
    expect(stack.vipFile(C, "lab-host-5")).toBeNull();
  }, 120_000);

  it("W4 SIP NIC unplugged with sip-pass-check: no SIP traffic → SERVICE_UNAVAILABLE → switch, NLB port moves to host 4", async () => {
    await healthy(B, "sip-b1");
    await waitFor("the service DN gateway answers pings", () => gateway.answered() > 0, { timeoutMs: WAIT_MS });
    const since = new Date();
    await stack.lab.fault("sip-b1", "sip-silent", true);
    try {
      await waitFor("sip-b2 primary after sip-b1 reported SERVICE_UNAVAILABLE", async () => {
        const v = await stack.view(B);
        return server(v, "sip-b2").role === "primary" && server(v, "sip-b1").role === "backup" && v.plan === null ? v : undefined;
      }, { timeoutMs: WAIT_MS, describe: () => describePair(B) });
      await vipOn(B, "lab-host-4", "lab-host-3");
      await historyMatching(B, since, [/sip-b2 promoted to primary and sip-b1 demoted because sip-b1 reported SERVICE_UNAVAILABLE/, /command-result: enable NLB port on lab-host-4 .*: ok/]);
      // sip-b2 hears the gateway: it stays primary and running.
      const v = await stack.view(B);
      expect(server(v, "sip-b2").status).toBe("running");
    } finally {
      await stack.lab.fault("sip-b1", "sip-silent", false);
    }
  }, 120_000);

  it("W7 both servers cannot bind their SIP port: the primary role alternates until one binds, and service resumes there", async () => {
    await healthy(A, "sip-a2");
    const since = new Date();
    await stack.lab.fault("sip-a1", "bind-fail", true);
    await stack.lab.fault("sip-a2", "bind-fail", true);
    try {
      // At least two alternations: away from sip-a2 and back again.
      await waitFor("two bind-failure alternations", async () => (await historySince(A, since)).filter((r) => /the primary role alternates until one can/.test(r)).length >= 2, {
        timeoutMs: WAIT_MS,
        describe: () => describePair(A),
      });
      // The dashboard's situation says how long the role is kept before the next alternation, and that the
      // wait is capped (each window is twice the last: one of them is seen however slow the machine).
      await waitFor(
        "the pair's situation to show the alternation back-off and its cap",
        async () => /keeps the primary role \d+ s more before it alternates to sip-a\d \(alternation \d+: each waits twice as long as the last, up to 60 s\)/.test((await stack.view(A)).situation) || undefined,
        { timeoutMs: WAIT_MS, describe: () => describePair(A) },
      );
      await stack.lab.fault("sip-a1", "bind-fail", false);
      await waitFor("sip-a1 primary with its SIP port bound", async () => {
        const v = await stack.view(A);
        return server(v, "sip-a1").role === "primary" && server(v, "sip-a1").sipListener === "bound" && v.plan === null ? v : undefined;
      }, { timeoutMs: WAIT_MS, describe: () => describePair(A) });
      await vipOn(A, "lab-host-1", "lab-host-2");
      await waitFor("the alternation stops", async () => (await historySince(A, since)).some((r) => /sip-a1 serves as primary with its SIP port open; the alternation stops/.test(r)), {
        timeoutMs: WAIT_MS,
        describe: () => describePair(A),
      });
      await historyMatching(A, since, [/alarm raised \(bind-failed\)/]);
    } finally {
      await stack.lab.fault("sip-a1", "bind-fail", false).catch(() => {});
      await stack.lab.fault("sip-a2", "bind-fail", false).catch(() => {});
    }
  }, 120_000);

  it("console restart: roles are rebuilt from the agents' resync and nothing is switched (no flapping)", async () => {
    const before = await healthy(B, await primaryOf(B));
    const primaryName = before.servers.find((s) => s.role === "primary")!.name;
    const primaryHost = before.servers.find((s) => s.role === "primary")!.hostName;
    const rowsBefore = (await stack.history(B)).length;
    await stack.restartConsole();
    // The new console knows nothing live until the agents reconnect and resync; it only observes
    // during its recovery grace, so look again once that (and the resync wait) is over: that is when
    // a careless controller would start switching.
    await healthy(B, primaryName);
    await waitFor("the new controller to be past its recovery grace", async () => {
      const st = (await stack.controllerState())!;
      return st.nowMs > st.startedAtMs + st.timing.recoveryGraceMs + st.timing.resyncTimeoutMs ? true : undefined;
    }, { timeoutMs: WAIT_MS });
    const after = await healthy(B, primaryName);
    expect(after.epoch).toBe(before.epoch);
    expect(stack.vipFile(B, primaryHost)).toBe(true);
    const newRows = (await stack.history(B)).slice(rowsBefore);
    expect(newRows.filter((h) => h.kind === "command" || h.kind === "operator").map((h) => h.text)).toEqual([]);
    expect(newRows.every((h) => h.epoch === before.epoch)).toBe(true);
  });
});
