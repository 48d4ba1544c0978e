// The W14 rolling upgrade as a pure state machine: every gate, the actions it hands over in order,
// pause / resume / abort, a fault in the middle of a run, a console restart, failed actions.
import { describe, expect, it } from "vitest";
import { startUpgrade, SWITCHOVER_NOT_READY_RETRIES, SWITCHOVER_RETRY_WAIT_MS, upgradeStep, type PairObservation, type ServerObservation, type UpgradeAction, type UpgradeInput, type UpgradeResult, type UpgradeState } from "./procedure";

type Changes = Partial<Record<"sip-1" | "sip-2", Partial<ServerObservation>>> & { pair?: Partial<PairObservation> };

/** sip-1 primary and sip-2 backup, both running, ready for switchover, version 1.0; sip-2 ready for upgrade. */
function healthy(): PairObservation {
  const server = (appId: string, role: "primary" | "backup"): ServerObservation => ({
    appId,
    name: appId,
    role,
    status: "running",
    hostConnected: true,
    readyForSwitchover: 1,
    readyForUpgrade: role === "backup" ? 1 : 0,
    notReadyReasons: [],
    version: "1.0",
  });
  return { epoch: 4, situation: "sip-1 is primary (epoch 4)", maintenance: null, splitBrain: false, plan: null, held: false, servers: [server("sip-1", "primary"), server("sip-2", "backup")] };
}

/** Drives one run: keeps the pair's view, feeds inputs, remembers what each step handed over and said. */
class Run {
  view = healthy();
  state!: UpgradeState;
  last!: UpgradeResult;
  nowMs = 1_000;
  readonly actions: UpgradeAction[] = [];
  readonly notes: string[] = [];

  constructor(opts: { installCommand?: Partial<Record<"sip-1" | "sip-2", string>>; view?: Changes } = {}) {
    if (opts.view) this.change(opts.view);
    const r = startUpgrade({
      pairId: "pair-a",
      pairName: "pair-a",
      by: "alice",
      atMs: this.nowMs,
      view: this.view,
      servers: (["sip-1", "sip-2"] as const).map((id, i) => ({ appId: id, appName: id, hostName: `host-${i + 1}`, installCommand: opts.installCommand?.[id] ?? null })),
    });
    if ("refused" in r) throw new Error(r.refused);
    this.state = r.state;
    this.actions.push(...r.actions);
    this.notes.push(...r.notes);
  }

  change(c: Changes): void {
    const servers = this.view.servers.map((s) => ({ ...s, ...(c[s.appId as "sip-1" | "sip-2"] ?? {}) }));
    this.view = { ...this.view, ...c.pair, servers };
  }

  feed(input: DistributiveOmit<UpgradeInput, "atMs">): UpgradeResult {
    this.nowMs += 100;
    this.last = upgradeStep(this.state, { ...input, atMs: this.nowMs } as UpgradeInput);
    this.state = this.last.state;
    this.actions.push(...this.last.actions);
    this.notes.push(...this.last.notes);
    return this.last;
  }

  observe(c: Changes = {}): UpgradeResult {
    this.change(c);
    return this.feed({ type: "observe", view: this.view });
  }

  result(action: UpgradeAction, ok = true, detail = "ok", extra: { output?: string; ordered?: boolean } = {}): UpgradeResult {
    return this.feed({ type: "action-result", action, ok, detail, ...extra });
  }

  get step() {
    return this.state.steps[this.state.current];
  }

  /** The current step, as "kind server". */
  get at(): string {
    return this.step ? `${this.step.kind} ${this.step.appName}` : "end";
  }

  /** sip-X stops (its stop was ordered and the agent reports it stopped). */
  stopped(appId: "sip-1" | "sip-2"): void {
    this.result({ type: "stop", appId });
    this.observe({ [appId]: { status: "stopped", role: "unknown", readyForSwitchover: null, readyForUpgrade: null }, [other(appId)]: { readyForSwitchover: 0, notReadyReasons: ["HA link down"] } });
  }

  /** sip-X runs again as backup with the new version; its partner's HA link has just come up (not ready yet). */
  started(appId: "sip-1" | "sip-2"): void {
    this.result({ type: "start", appId });
    this.observe({ [appId]: { status: "starting" } });
    this.observe({ [appId]: { status: "running", role: "backup", readyForSwitchover: 0, readyForUpgrade: 1, notReadyReasons: ["call synchronisation from the primary is not complete"], version: "1.1" }, [other(appId)]: { readyForSwitchover: 0, notReadyReasons: ["HA link up for 12 s of the 60 s needed"] } });
  }

  ready(): void {
    this.observe({ "sip-1": { readyForSwitchover: 1, notReadyReasons: [] }, "sip-2": { readyForSwitchover: 1, notReadyReasons: [] } });
  }

  /** sip-X stopped, confirmed installed, started again; both servers ready for switchover. */
  upgradedAndReady(appId: "sip-1" | "sip-2"): void {
    this.stopped(appId);
    this.feed({ type: "confirm-installed", by: "bob", appId });
    this.started(appId);
    this.ready();
  }

  /** The controller ordered the switchover to sip-X, and the roles show it. */
  switchedTo(appId: "sip-1" | "sip-2"): void {
    this.result({ type: "switchover", toAppId: appId }, true, `${appId} ordered to primary (epoch ${this.view.epoch + 1})`, { ordered: true });
    const epoch = this.view.epoch + 1;
    this.observe({ pair: { epoch, plan: { cause: "operator" } }, [appId]: { role: "primary", readyForUpgrade: 0 }, [other(appId)]: { role: "backup", readyForUpgrade: 1 } });
    this.observe({ pair: { plan: null, situation: `${appId} is primary (epoch ${epoch})` } });
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
const other = (appId: "sip-1" | "sip-2") => (appId === "sip-1" ? "sip-2" : "sip-1");
const kinds = (r: { actions: UpgradeAction[] }) => r.actions.map((a) => (a.type === "switchover" ? `switchover ${a.toAppId}` : `${a.type} ${a.appId}`));

describe("W14 rolling upgrade: the procedure", () => {
  it("W14 a full run: backup first, each gate in order, the switchover, then the other server; versions before and after", () => {
    const run = new Run();
    // Gate 1 met at once (sip-2 backup, ready for upgrade 1, sip-1 primary): the stop is handed over.
    expect(run.state.steps[0]).toMatchObject({ kind: "ready-for-upgrade", status: "done", by: "alice", result: "sip-2 is backup and reports ready for upgrade (1); sip-1 serves as primary; sip-2 runs version 1.0" });
    expect(kinds(run)).toEqual(["stop sip-2"]);
    expect(run.at).toBe("stop sip-2");
    run.stopped("sip-2");
    // Install: nobody configured a command, so an operator confirms.
    expect(run.at).toBe("install sip-2");
    expect(run.state.waitingFor).toBe("waiting for an operator to install the new version on host-2 and confirm sip-2 is installed");
    run.feed({ type: "confirm-installed", by: "bob", appId: "sip-2" });
    expect(run.state.steps[2]).toMatchObject({ status: "done", by: "bob", result: "bob confirmed the new version of sip-2 is installed" });
    expect(kinds(run.last)).toEqual(["start sip-2"]);
    run.started("sip-2");
    expect(run.at).toBe("ready-for-switchover sip-2");
    expect(run.state.waitingFor).toBe(
      "waiting for both servers to be ready for switchover: sip-2 not ready (call synchronisation from the primary is not complete); sip-1 not ready (HA link up for 12 s of the 60 s needed)",
    );
    expect(run.last.actions).toEqual([]);
    run.ready();
    expect(kinds(run.last)).toEqual(["switchover sip-2"]);
    run.switchedTo("sip-2");
    // The other server: sip-1 is backup now and ready for upgrade.
    expect(run.state.steps[5]).toMatchObject({ status: "done", result: "sip-2 is primary and sip-1 backup (epoch 5)" });
    expect(kinds(run.last)).toEqual(["stop sip-1"]);
    run.stopped("sip-1");
    run.feed({ type: "confirm-installed", by: "bob", appId: "sip-1" });
    run.started("sip-1");
    run.ready();
    run.switchedTo("sip-1");
    expect(run.state.status).toBe("done");
    expect(run.state.servers.map((s) => [s.appName, s.versionBefore, s.versionAfter])).toEqual([
      ["sip-2", "1.0", "1.1"],
      ["sip-1", "1.0", "1.1"],
    ]);
    expect(run.state.outcome).toBe("done: sip-2 1.0 → 1.1, sip-1 1.0 → 1.1; sip-2 is backup, running, version 1.1 (upgraded); sip-1 is primary, running, version 1.1 (upgraded)");
    expect(kinds({ actions: run.actions })).toEqual(["stop sip-2", "start sip-2", "switchover sip-2", "stop sip-1", "start sip-1", "switchover sip-1"]);
    expect(run.state.steps.every((s) => s.status === "done")).toBe(true);
    expect(run.notes[0]).toBe("W14 upgrade of pair-a started by alice: sip-2 (backup, version 1.0) first, then sip-1 (primary, version 1.0); install sip-2: confirmed by an operator, sip-1: confirmed by an operator; automatic failover stays armed");
    expect(run.notes.at(-1)).toBe(`W14 upgrade of pair-a ${run.state.outcome}`);
  });

  it("W14 gate: the backup must report ready for upgrade before it is stopped", () => {
    const run = new Run({ view: { "sip-2": { readyForUpgrade: 0 } } });
    expect(run.at).toBe("ready-for-upgrade sip-2");
    expect(run.actions).toEqual([]);
    expect(run.state.waitingFor).toBe("sip-2 does not report ready for upgrade (readiness for upgrade 0)");
    expect(kinds(run.observe({ "sip-2": { readyForUpgrade: 1 } }))).toEqual(["stop sip-2"]);
  });

  it("W14 gate: the stop step is done only when the agent reports the server stopped", () => {
    const run = new Run();
    run.result({ type: "stop", appId: "sip-2" });
    expect(run.at).toBe("stop sip-2");
    run.observe({ "sip-2": { status: "stopping" } });
    expect(run.state.waitingFor).toBe("waiting for sip-2 to stop (it is stopping)");
    run.observe({ "sip-2": { status: "stopped" } });
    expect(run.at).toBe("install sip-2");
  });

  it("W14 gate: an operator can confirm the install only while it is the step and the server is stopped", () => {
    const run = new Run();
    expect(run.feed({ type: "confirm-installed", by: "bob", appId: "sip-2" }).refused).toBe("sip-2 is not waiting for its install");
    run.stopped("sip-2");
    expect(run.feed({ type: "confirm-installed", by: "bob", appId: "sip-1" }).refused).toBe("sip-1 is not waiting for its install");
    expect(run.at).toBe("install sip-2");
  });

  it("W14 install command: it runs through the agent once the server is stopped, its output is kept; a failure pauses, resume runs it again", () => {
    const run = new Run({ installCommand: { "sip-2": "/opt/sip/install 8.1.104" } });
    run.stopped("sip-2");
    expect(kinds(run.last)).toEqual(["install sip-2"]);
    expect(run.state.waitingFor).toBe("waiting for the install of sip-2 to finish");
    run.result({ type: "install", appId: "sip-2" }, false, "/opt/sip/install exited with code 3 after 812 ms", { output: "stderr: disk full" });
    expect(run.state.status).toBe("paused");
    expect(run.state.pausedReason).toBe("install sip-2 failed: /opt/sip/install exited with code 3 after 812 ms — resume runs it again, or confirm the install by hand");
    expect(run.state.servers[0].installOutput).toBe("stderr: disk full");
    expect(kinds(run.feed({ type: "resume", by: "alice" }))).toEqual(["install sip-2"]);
    run.result({ type: "install", appId: "sip-2" }, true, "/opt/sip/install exited with code 0 after 20 s", { output: "installed 8.1.104" });
    expect(run.state.steps[2]).toMatchObject({ status: "done", result: "install command of sip-2 succeeded on host-2: /opt/sip/install exited with code 0 after 20 s" });
    expect(run.state.servers[0].installOutput).toBe("installed 8.1.104");
    expect(kinds(run.last)).toEqual(["start sip-2"]);
  });

  it("W14 gate: the start step waits until the server runs again as backup", () => {
    const run = new Run();
    run.stopped("sip-2");
    run.feed({ type: "confirm-installed", by: "bob", appId: "sip-2" });
    run.result({ type: "start", appId: "sip-2" });
    run.observe({ "sip-2": { status: "starting" } });
    expect(run.state.waitingFor).toBe("waiting for sip-2 to start (it is starting)");
    run.observe({ "sip-2": { status: "running", role: "backup", readyForSwitchover: 0, version: "1.1" } });
    expect(run.state.steps[3]).toMatchObject({ status: "done", result: "sip-2 runs again as backup" });
  });

  it("W14 gate: the switchover waits for readiness 1 on both; refused by the controller for a server not ready it is asked again (after a wait, once both report ready) up to SWITCHOVER_NOT_READY_RETRIES times, then paused with its sentence; resume asks again", () => {
    const run = new Run();
    run.upgradedAndReady("sip-2");
    const refusal = "switchover of pair-a requested by alice refused: sip-1 is not ready for switchover (HA link down); switching now would be a double failure — force it with a reason to proceed";
    for (let n = 1; n <= SWITCHOVER_NOT_READY_RETRIES; n++) {
      run.result({ type: "switchover", toAppId: "sip-2" }, true, refusal, { ordered: false });
      expect(run.state.status).toBe("running");
      expect(run.state.waitingFor).toBe(`the controller found a server not ready for the switchover to sip-2; asking again in 5 s once both report ready (${n} of ${SWITCHOVER_NOT_READY_RETRIES})`);
      expect(run.notes.at(-1)).toBe(`W14 upgrade of pair-a: the controller did not switch over to sip-2: ${refusal} — asking again in 5 s once both servers report ready (${n} of ${SWITCHOVER_NOT_READY_RETRIES})`);
      // Not before the wait is over, and not while a server reports not ready.
      expect(run.observe().actions).toEqual([]);
      run.nowMs += SWITCHOVER_RETRY_WAIT_MS;
      expect(run.observe({ "sip-1": { readyForSwitchover: 0, notReadyReasons: ["HA link up for 0 s of the 60 s needed"] } }).actions).toEqual([]);
      expect(kinds(run.observe({ "sip-1": { readyForSwitchover: 1, notReadyReasons: [] } }))).toEqual(["switchover sip-2"]);
    }
    run.result({ type: "switchover", toAppId: "sip-2" }, true, refusal, { ordered: false });
    expect(run.state.status).toBe("paused");
    expect(run.state.pausedReason).toBe(`the controller did not switch over to sip-2: ${refusal} — resume tries again`);
    expect(kinds(run.feed({ type: "resume", by: "alice" }))).toEqual(["switchover sip-2"]);
  });

  it("W14 the switchover is done only when the roles show it; one that ends without the role change pauses the run", () => {
    const run = new Run();
    run.upgradedAndReady("sip-2");
    run.result({ type: "switchover", toAppId: "sip-2" }, true, "sip-2 ordered to primary (epoch 5)", { ordered: true });
    run.observe({ pair: { epoch: 5, plan: { cause: "operator" } }, "sip-1": { role: "backup" }, "sip-2": { role: "backup" } });
    expect(run.state.status).toBe("running");
    expect(run.state.waitingFor).toBe("the controller switches sip-2 to primary (role change in progress)");
    // Abandoned: the controller gave up (switchover-failed), sip-1 took the role back.
    run.observe({ pair: { plan: null, situation: "sip-1 is primary (epoch 6)", epoch: 6 }, "sip-1": { role: "primary" } });
    expect(run.state.status).toBe("paused");
    expect(run.state.pausedReason).toBe("the switchover to sip-2 ended without sip-2 becoming primary: sip-1 is primary (epoch 6)");
  });

  it("W14 pause and resume by an operator: nothing is handed over while paused, the step goes on after", () => {
    const run = new Run({ view: { "sip-2": { readyForUpgrade: 0 } } });
    run.feed({ type: "pause", by: "bob" });
    expect(run.state).toMatchObject({ status: "paused", pausedReason: "paused by bob" });
    expect(run.observe({ "sip-2": { readyForUpgrade: 1 } }).actions).toEqual([]);
    expect(run.feed({ type: "pause", by: "bob" }).refused).toBe("the upgrade of pair-a is paused, not running");
    expect(kinds(run.feed({ type: "resume", by: "carol" }))).toEqual(["stop sip-2"]);
    expect(run.notes).toContain("W14 upgrade of pair-a paused by bob at step 1/12 (ready for upgrade sip-2)");
    expect(run.notes).toContain("W14 upgrade of pair-a resumed by carol at step 1/12 (ready for upgrade sip-2)");
  });

  it("W14 a fault mid-run: the primary fails while the backup is stopped for its install — the run pauses with the reason, cannot resume while it lasts, resumes once the pair is healthy", () => {
    const run = new Run();
    run.stopped("sip-2");
    // sip-1 crashes; its agent restarts it as backup; the controller cannot promote the stopped sip-2.
    run.observe({ "sip-1": { status: "failed", role: "unknown" }, pair: { situation: "no server of pair-a can be primary: sip-1's process failed; sip-2 is stopped" } });
    expect(run.state.status).toBe("paused");
    expect(run.state.pausedReason).toBe("sip-1, which carries the calls while sip-2 is upgraded, is unknown (failed): no server of pair-a can be primary: sip-1's process failed; sip-2 is stopped");
    expect(run.notes.at(-1)).toMatch(/^W14 upgrade of pair-a paused at step 3\/12 \(install sip-2\): sip-1, which carries the calls .*; automatic failover stays armed — resume once the pair is healthy, or abort$/);
    expect(run.feed({ type: "resume", by: "alice" }).refused).toMatch(/^the upgrade of pair-a cannot resume: sip-1, which carries the calls while sip-2 is upgraded, is unknown \(failed\)/);
    // The controller promotes sip-1 again once it runs (it is the only candidate).
    run.observe({ "sip-1": { status: "running", role: "primary" }, pair: { epoch: 5, situation: "sip-1 is primary (epoch 5)" } });
    expect(run.state.status).toBe("paused");
    expect(run.feed({ type: "resume", by: "alice" }).refused).toBeNull();
    expect(run.at).toBe("install sip-2");
  });

  it("W14 a fault mid-run: an automatic failover to the upgraded server while both get ready — paused; after resume the switchover step is skipped (it is primary already)", () => {
    const run = new Run();
    run.stopped("sip-2");
    run.feed({ type: "confirm-installed", by: "bob", appId: "sip-2" });
    run.started("sip-2");
    run.observe({ pair: { plan: { cause: "primary-failed" }, epoch: 5, situation: "sip-2 promoted to primary because sip-1's process failed (epoch 5)" }, "sip-1": { status: "failed", role: "unknown" }, "sip-2": { role: "primary" } });
    expect(run.state.pausedReason).toBe("the controller is changing roles (primary-failed): sip-2 promoted to primary because sip-1's process failed (epoch 5)");
    run.observe({ pair: { plan: null, situation: "sip-2 is primary (epoch 5)" }, "sip-1": { status: "running", role: "backup", readyForSwitchover: 1, readyForUpgrade: 1, notReadyReasons: [] }, "sip-2": { readyForSwitchover: 1, readyForUpgrade: 0, notReadyReasons: [] } });
    run.feed({ type: "resume", by: "alice" });
    expect(run.state.steps[5]).toMatchObject({ status: "skipped", result: "sip-2 is primary already (epoch 5)" });
    expect(kinds(run.last)).toEqual(["stop sip-1"]);
  });

  it("W14 pauses for maintenance, a lost host, split brain or a held failover, and cannot start then either", () => {
    for (const [change, why] of [
      [{ pair: { maintenance: { by: "bob", reason: "network" } } }, "the pair is in maintenance (set by bob: network), so the controller would not fail it over"],
      [{ "sip-1": { hostConnected: false } }, "the host of sip-1 is disconnected: sip-1 is primary (epoch 4)"],
      [{ pair: { splitBrain: true } }, "both servers claim primary (split brain)"],
      [{ pair: { held: true } }, "an automatic failover is held: sip-1 is primary (epoch 4)"],
    ] as [Changes, string][]) {
      const run = new Run({ view: { "sip-2": { readyForUpgrade: 0 } } });
      run.observe(change);
      expect(run.state.pausedReason).toBe(why);
      const v = { ...healthy(), ...change.pair, servers: healthy().servers.map((s) => ({ ...s, ...(change[s.appId as "sip-1"] ?? {}) })) };
      const r = startUpgrade({ pairId: "pair-a", pairName: "pair-a", by: "alice", atMs: 0, view: v, servers: [{ appId: "sip-1", appName: "sip-1", hostName: "host-1", installCommand: null }, { appId: "sip-2", appName: "sip-2", hostName: "host-2", installCommand: null }] });
      expect(r).toEqual({ refused: `the upgrade of pair-a cannot start: ${why}` });
    }
  });

  it("W14 abort midway (the backup stopped for its install): it is started again, and the run says where each server stands", () => {
    const run = new Run();
    run.stopped("sip-2");
    run.feed({ type: "abort", by: "bob" });
    expect(run.state.status).toBe("aborting");
    expect(kinds(run.last)).toEqual(["start sip-2"]);
    run.result({ type: "start", appId: "sip-2" });
    run.observe({ "sip-2": { status: "starting" } });
    expect(run.state.waitingFor).toBe("waiting for sip-2 to run again (it is starting, role not reported yet)");
    // Running, but its role not reported yet: not back in the pair yet.
    run.observe({ "sip-2": { status: "running" } });
    expect(run.state.status).toBe("aborting");
    run.observe({ "sip-2": { status: "running", role: "backup" } });
    expect(run.state.status).toBe("aborted");
    expect(run.state.outcome).toBe("aborted by bob at step 3/12 (install sip-2); sip-2 is backup, running, version 1.0 (not upgraded); sip-1 is primary, running, version 1.0 (not upgraded)");
    expect(run.feed({ type: "resume", by: "bob" }).refused).toBe("the upgrade of pair-a is aborted, not paused");
  });

  it("W14 abort while a stop is in flight waits for it, then starts the server again; an abort before anything stopped ends at once", () => {
    const run = new Run();
    run.feed({ type: "abort", by: "bob" });
    expect(run.state.waitingFor).toBe("waiting for the stop handed over before the abort to finish");
    run.result({ type: "stop", appId: "sip-2" });
    expect(run.state.status).toBe("aborting");
    expect(run.state.waitingFor).toBe("waiting for sip-2 to stop (ordered before the abort) before starting it again");
    run.observe({ "sip-2": { status: "stopped", role: "unknown" } });
    expect(kinds(run.last)).toEqual(["start sip-2"]);

    const early = new Run({ view: { "sip-2": { readyForUpgrade: 0 } } });
    early.feed({ type: "abort", by: "bob" });
    expect(early.state.status).toBe("aborted");
    expect(early.state.outcome).toBe("aborted by bob at step 1/12 (ready for upgrade sip-2); sip-2 is backup, running, version 1.0 (not upgraded); sip-1 is primary, running, version 1.0 (not upgraded)");
  });

  it("W14 abort while the upgraded server starts waits until it runs", () => {
    const run = new Run();
    run.stopped("sip-2");
    run.feed({ type: "confirm-installed", by: "bob", appId: "sip-2" });
    run.feed({ type: "abort", by: "bob" });
    run.result({ type: "start", appId: "sip-2" });
    run.observe({ "sip-2": { status: "starting" } });
    expect(run.state).toMatchObject({ status: "aborting", waitingFor: "waiting for sip-2 to run again (it is starting, role not reported yet)" });
    expect(run.actions.filter((a) => a.type === "start")).toHaveLength(1);
    run.observe({ "sip-2": { status: "running", role: "backup", version: "1.1" } });
    expect(run.state.outcome).toBe("aborted by bob at step 4/12 (start sip-2); sip-2 is backup, running, version 1.1 (upgraded); sip-1 is primary, running, version 1.0 (not upgraded)");
  });

  it("W14 abort during an ordered switchover lets it finish before the run ends", () => {
    const run = new Run();
    run.upgradedAndReady("sip-2");
    run.result({ type: "switchover", toAppId: "sip-2" }, true, "ordered", { ordered: true });
    run.observe({ pair: { epoch: 5, plan: { cause: "operator" } } });
    run.feed({ type: "abort", by: "bob" });
    expect(run.state.waitingFor).toBe("waiting for the switchover already ordered to finish");
    run.observe({ pair: { plan: null }, "sip-1": { role: "backup" }, "sip-2": { role: "primary" } });
    expect(run.state.status).toBe("aborted");
    expect(run.state.outcome).toMatch(/sip-2 is primary, running, version 1.1 \(upgraded\); sip-1 is backup, running, version 1.0 \(not upgraded\)$/);
  });

  it("W14 a console restart pauses a running run; what was in flight is handed over again on resume", () => {
    const run = new Run();
    expect(kinds(run)).toEqual(["stop sip-2"]);
    run.feed({ type: "console-restarted" });
    expect(run.state.status).toBe("paused");
    expect(run.state.pausedReason).toBe("the console restarted during the run: check the pair and resume (an install command that was running is run again)");
    expect(run.state.inFlight).toBeNull();
    expect(kinds(run.feed({ type: "resume", by: "alice" }))).toEqual(["stop sip-2"]);
  });

  it("W14 a failed stop pauses the run; resume asks again", () => {
    const run = new Run();
    run.result({ type: "stop", appId: "sip-2" }, false, "host-2 is disconnected");
    expect(run.state.pausedReason).toBe("stop sip-2 failed: host-2 is disconnected — resume tries again");
    expect(kinds(run.feed({ type: "resume", by: "alice" }))).toEqual(["stop sip-2"]);
  });

  it("W14 cannot start without one primary and one backup, both running", () => {
    const base = { pairId: "pair-a", pairName: "pair-a", by: "alice", atMs: 0, servers: [{ appId: "sip-1", appName: "sip-1", hostName: "host-1", installCommand: null }, { appId: "sip-2", appName: "sip-2", hostName: "host-2", installCommand: null }] };
    const v = healthy();
    expect(startUpgrade({ ...base, view: { ...v, servers: [v.servers[0]!, { ...v.servers[1]!, status: "failed", role: "unknown" }] } })).toEqual({ refused: "the upgrade of pair-a cannot start: it needs one primary and one backup (now sip-1 primary, sip-2 unknown)" });
    expect(startUpgrade({ ...base, view: { ...v, servers: [v.servers[0]!, { ...v.servers[1]!, status: "starting" }] } })).toEqual({ refused: "the upgrade of pair-a cannot start: sip-2 is starting" });
  });
});
