// Issue 14 end to end with real processes on loopback (a console, one host agent per lab host, the
// simulated SIP Servers they start): a guided W14 upgrade — install command through the agent for one
// server, an operator's confirmation for the other — an abort midway, a console restart in the middle
// of a run, maintenance holding back a failover, and scheduled switchovers done and skipped.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLabStack, waitFor, type LabStack } from "../../harness/lab-stack";
import { labChecks } from "../../harness/lab-checks";
import type { UpgradeState } from "./procedure";

const A = "pair-a-iptakeover";
const C = "pair-c-single";
/** Generous: the machine is shared and every process here is a tsx-compiled node. Never a timing assertion. */
const WAIT_MS = 60_000;

let stack: LabStack;
const { healthy, describePair } = labChecks(() => stack, WAIT_MS);

beforeAll(async () => {
  stack = await startLabStack({
    pairs: [A, C],
    appEnv: {
      // W13's 60 s shortened (lab knob) so each half of the upgrade waits seconds, not a minute.
      [A]: { SWITCHYARD_LAB_READINESS_SETTLE_MS: "1500" },
      // Pair C's primary is never ready within the run: the scheduled switchover must be skipped.
      [C]: { SWITCHYARD_LAB_READINESS_SETTLE_MS: "3600000" },
    },
  });
  await Promise.all([healthy(A, "sip-a1", { ready: true }), healthy(C, "sip-c1")]);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

async function appId(name: string): Promise<string> {
  return (await stack.running.services.db.application.findUniqueOrThrow({ where: { name }, select: { id: true } })).id;
}

async function latestRun(pair: string): Promise<{ id: string; status: string; state: UpgradeState }> {
  const runs = await stack.caller().upgrade.runs({ pairId: await stack.pairId(pair) });
  return runs[0]!;
}

/** Waits until the pair's latest run satisfies `ok`; failure messages show the run and the pair. */
async function runUntil(pair: string, what: string, ok: (r: { status: string; state: UpgradeState }) => boolean): Promise<{ id: string; status: string; state: UpgradeState }> {
  return waitFor(
    what,
    async () => {
      const r = await latestRun(pair);
      return r && ok(r) ? r : undefined;
    },
    {
      timeoutMs: WAIT_MS * 2,
      describe: async () => {
        const r = await latestRun(pair);
        const s = r?.state;
        return `${s ? `run ${r.status} at step ${s.current + 1} (${s.steps[s.current]?.title ?? "end"}); waiting: ${s.waitingFor}; paused: ${s.pausedReason}` : "no run"}\n${await describePair(pair)}`;
      },
    },
  );
}

const currentStep = (s: UpgradeState) => s.steps[s.current];

describe("W14 rolling upgrade, guided, with real agents and servers", () => {
  it("W14 a full run: the backup first, gates in order, install command through the agent for sip-a2 and an operator's confirmation for sip-a1; versions before and after; timeline and audit", async () => {
    const caller = stack.caller();
    await caller.upgrade.setInstallCommand({ appId: await appId("sip-a2"), command: `${process.execPath} lab/install-version.mjs sip-a2`, timeoutMs: 60_000 });
    const started = await caller.upgrade.start({ pairId: await stack.pairId(A) });
    expect(started.state.servers.map((s) => [s.appName, s.install.mode, s.versionBefore])).toEqual([
      ["sip-a2", "command", "1.0.0-sim"],
      ["sip-a1", "confirm", "1.0.0-sim"],
    ]);
    // The second half waits for an operator at sip-a1's install.
    let run = await runUntil(A, "sip-a1 waiting for its install confirmation", (r) => currentStep(r.state)?.kind === "install" && currentStep(r.state)?.appName === "sip-a1");
    expect(run.status).toBe("running");
    expect(run.state.servers[0].installOutput).toMatch(/installed sip-a2 1\.1\.0-sim \(was 1\.0\.0-sim\)/);
    expect((await stack.view(A)).servers.find((s) => s.name === "sip-a2")).toMatchObject({ role: "primary", version: "1.1.0-sim" });
    await caller.upgrade.confirmInstalled({ runId: run.id, appId: await appId("sip-a1") });
    run = await runUntil(A, "the run done", (r) => r.status === "done");
    expect(run.state.servers.map((s) => [s.appName, s.versionBefore, s.versionAfter])).toEqual([
      ["sip-a2", "1.0.0-sim", "1.1.0-sim"],
      ["sip-a1", "1.0.0-sim", "1.0.0-sim"],
    ]);
    expect(run.state.steps.map((s) => `${s.title}: ${s.status}`)).toEqual([
      "ready for upgrade sip-a2: done",
      "stop sip-a2: done",
      "install sip-a2: done",
      "start sip-a2: done",
      "both ready for switchover (sip-a2 upgraded): done",
      "switch over sip-a2: done",
      "ready for upgrade sip-a1: done",
      "stop sip-a1: done",
      "install sip-a1: done",
      "start sip-a1: done",
      "both ready for switchover (sip-a1 upgraded): done",
      "switch over sip-a1: done",
    ]);
    expect(run.state.steps[8]).toMatchObject({ by: "admin", result: "admin confirmed the new version of sip-a1 is installed" });
    await healthy(A, "sip-a1");
    // The run is saved before its notes reach the timeline (through the control plane): wait for the last one.
    const history = await waitFor(
      "the run's outcome in the timeline",
      async () => {
        const rows = (await stack.history(A)).map((h) => `${h.kind}: ${h.text}`);
        return rows.includes(`procedure: W14 upgrade of ${A} ${run.state.outcome}`) ? rows : undefined;
      },
      { timeoutMs: WAIT_MS, describe: async () => (await stack.history(A)).slice(-10).map((h) => `${h.kind}: ${h.text}`).join("\n") },
    );
    expect(history.some((h) => h.startsWith("decision: admin (W14 upgrade) stopped sip-a2"))).toBe(true);
    const audit = await stack.running.services.db.auditEntry.findMany({ where: { objectType: "upgrade" }, select: { action: true, actorName: true } });
    expect(audit.filter((a) => a.action === "upgrade.start")).toEqual([{ action: "upgrade.start", actorName: "admin" }]);
    expect(audit.filter((a) => a.action === "upgrade.confirm-installed")).toEqual([{ action: "upgrade.confirm-installed", actorName: "admin" }]);
    expect(audit.filter((a) => a.action === "upgrade.step").length).toBeGreaterThan(12);
  }, 300_000);

  it("W14 abort midway (the backup stopped for its install) starts it again and leaves the pair healthy, saying where each server stands", async () => {
    const caller = stack.caller();
    await caller.upgrade.setInstallCommand({ appId: await appId("sip-a2"), command: "" });
    await healthy(A, "sip-a1", { ready: true });
    await caller.upgrade.start({ pairId: await stack.pairId(A) });
    const run = await runUntil(A, "sip-a2 stopped, waiting for its install", (r) => currentStep(r.state)?.kind === "install" && r.state.waitingFor !== null);
    expect((await stack.view(A)).servers.find((s) => s.name === "sip-a2")!.status).toBe("stopped");
    await caller.upgrade.abort({ runId: run.id });
    const aborted = await runUntil(A, "the run aborted", (r) => r.status === "aborted");
    expect(aborted.state.outcome).toMatch(/^aborted by admin at step 3\/12 \(install sip-a2\); sip-a2 is backup, running, version 1\.1\.0-sim \(not upgraded\); sip-a1 is primary, running, version 1\.0\.0-sim \(not upgraded\)$/);
    await healthy(A, "sip-a1");
  }, 300_000);

  it("W14 a console restart in the middle of a run pauses it with the reason; resume goes on from there", async () => {
    const caller = stack.caller();
    await healthy(A, "sip-a1", { ready: true });
    await caller.upgrade.start({ pairId: await stack.pairId(A) });
    await runUntil(A, "waiting for sip-a2's install", (r) => currentStep(r.state)?.kind === "install" && r.state.waitingFor !== null);
    await stack.restartConsole();
    const paused = await runUntil(A, "the run paused by the restart", (r) => r.status === "paused");
    expect(paused.state.pausedReason).toBe("the console restarted during the run: check the pair and resume (an install command that was running is run again)");
    await waitFor("the pair seen again after the restart", async () => (await stack.view(A)).servers.every((s) => s.hostConnection === "connected"), { timeoutMs: WAIT_MS });
    await waitFor("resume accepted", () => stack.caller().upgrade.resume({ runId: paused.id }).then(() => true, () => false), { timeoutMs: WAIT_MS, intervalMs: 1_000 });
    await stack.caller().upgrade.abort({ runId: paused.id });
    await runUntil(A, "the run aborted", (r) => r.status === "aborted");
    await healthy(A, "sip-a1");
  }, 300_000);
});

describe("maintenance and scheduled switchovers with real agents and servers", () => {
  it("maintenance: a crashed primary is not failed over while it lasts, the situation says what the controller would do; ending it fails the pair over", async () => {
    const ops = stack.running.services.operations;
    const actor = { id: null, name: "ops-test" };
    const pairId = await stack.pairId(A);
    await healthy(A, "sip-a1");
    await ops.setMaintenance(actor, pairId, { on: true, reason: "integration test: hands off" });
    await expect(ops.setMaintenance(actor, pairId, { on: true, reason: " " })).rejects.toThrow(`maintenance of ${A} needs a reason`);
    // The primary's agent does not restart it (its policy is off for this test): nothing is primary.
    await stack.running.services.db.application.update({ where: { name: "sip-a1" }, data: { restartEnabled: false } });
    await stack.running.services.controlPlane.configChanged();
    await stack.lab.fault("sip-a1", "crash");
    const v = await waitFor("the card to say why nothing happens", async () => {
      const view = await stack.view(A);
      return view.situation.includes("without the maintenance it would act now: sip-a2 promoted to primary") ? view : undefined;
    }, { timeoutMs: WAIT_MS, describe: () => describePair(A) });
    expect(v.maintenance).toMatchObject({ by: "ops-test", reason: "integration test: hands off", until: null });
    expect(v.servers.map((s) => `${s.name} ${s.role}`)).toEqual(["sip-a1 unknown", "sip-a2 backup"]);
    await ops.setMaintenance(actor, pairId, { on: false });
    await waitFor("sip-a2 promoted once the maintenance ended", async () => (await stack.view(A)).servers.find((s) => s.name === "sip-a2")!.role === "primary", { timeoutMs: WAIT_MS, describe: () => describePair(A) });
    const audit = await stack.running.services.db.auditEntry.findMany({ where: { action: { startsWith: "pair.maintenance" } }, select: { action: true, actorName: true } });
    expect(audit.map((a) => `${a.action} ${a.actorName}`)).toEqual(["pair.maintenance-on ops-test", "pair.maintenance-off ops-test"]);
    await stack.running.services.db.application.update({ where: { name: "sip-a1" }, data: { restartEnabled: true } });
    await stack.running.services.controlPlane.configChanged();
    await stack.startApp("sip-a1");
    await healthy(A, "sip-a2");
  }, 300_000);

  it("scheduled switchover: at its time it is done when both servers are ready, and skipped with an alarm when they are not", async () => {
    const db = stack.running.services.db;
    const schedules = stack.running.services.schedules;
    const due = new Date(Date.now() - 1_000);
    const notReady = await db.scheduledSwitchover.create({ data: { pairId: await stack.pairId(C), at: due, createdBy: "alice" } });
    // Pair A: the test waits for both servers ready in the live view, a mirror of the controller's state
    // that can be a moment behind it (sip-a1 was just started again by the test before). A switchover the
    // controller skips at its time because it saw a server not ready (or the last role change still under
    // way) is right to skip, and said so; the test then schedules again — never more than three times, and
    // only for those reasons — until one is done.
    const skippedBefore: string[] = [];
    let done!: { status: string; outcome: string | null };
    for (let attempt = 1; attempt <= 3; attempt++) {
      await healthy(A, "sip-a2", { ready: true });
      const ready = await db.scheduledSwitchover.create({ data: { pairId: await stack.pairId(A), at: due, createdBy: "alice", reason: "maintenance window" } });
      await schedules.checkNow();
      done = await db.scheduledSwitchover.findUniqueOrThrow({ where: { id: ready.id } });
      if (done.status === "done") break;
      skippedBefore.push(done.outcome ?? "");
      expect(done.outcome, "a scheduled switchover of a pair that looked ready was skipped for another reason").toMatch(/not ready for switchover|a role change is already in progress|cannot take over/);
    }
    // The outcome in the message when it was skipped (it says why).
    expect(done.status, `the scheduled switchover's outcomes: ${[...skippedBefore, done.outcome].join(" | ")}`).toBe("done");
    expect(done.outcome).toMatch(/^sip-a1 ordered to primary and sip-a2 to backup by scheduled switchover by alice's switchover/);
    await healthy(A, "sip-a1");
    const skipped = await db.scheduledSwitchover.findUniqueOrThrow({ where: { id: notReady.id } });
    expect(skipped.status).toBe("skipped");
    expect(skipped.outcome).toMatch(/^the controller did not switch over: switchover of pair-c-single requested by scheduled switchover by alice refused: .*not ready for switchover/);
    await stack.running.services.alarms.idle();
    const alarm = await db.alarm.findFirst({ where: { source: "scheduled-switchover-skipped", pair: C } });
    expect(alarm?.lastText).toMatch(/the switchover of pair-c-single scheduled by alice for .* was skipped: the controller did not switch over/);
    expect((await stack.view(C)).servers.find((s) => s.role === "primary")!.name).toBe("sip-c1");
  }, 120_000);
});
