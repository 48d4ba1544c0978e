// Unit tests of the pure failover core, one block per workflow of docs/workflows.md (W-numbers in names):
// each feeds events and asserts the state, the commands (in order) and the reason sentences.
import { describe, expect, it } from "vitest";
import {
  createControllerState,
  DEFAULT_MAINTENANCE_ALARM_AFTER_MS,
  pairsInScope,
  persistedView,
  step,
  stepInPlace,
  type ControllerCommand,
  type ControllerEvent,
  type ControllerState,
  type HaType,
  type PairConfig,
  type PersistedPairState,
  type ProcessStatus,
  type StepResult,
} from "./core";
import { testPair } from "./test-pairs";

function pairOf(haType: HaType): PairConfig {
  return testPair({ haType });
}

type Role = "primary" | "backup";

/** Feeds events to the core with a clock that only moves when told; keeps the last result. */
class Harness {
  state: ControllerState;
  nowMs: number;
  last!: StepResult;
  private sent = 0;

  constructor(readonly pair: PairConfig, opts: { persisted?: Record<string, PersistedPairState>; startMs?: number } = {}) {
    this.nowMs = opts.startMs ?? 0;
    this.state = createControllerState({ nowMs: this.nowMs, pairs: [pair], persisted: opts.persisted });
  }

  feed(event: DistributiveOmit<ControllerEvent, "atMs">): StepResult {
    this.last = step(this.state, { ...event, atMs: this.nowMs } as ControllerEvent);
    this.state = this.last.state;
    return this.last;
  }

  hostOf(appId: string): string {
    return this.pair.apps.find((a) => a.appId === appId)!.hostId;
  }

  status(appId: string, status: ProcessStatus, extra: { oosBackoff?: number; detail?: string } = {}): StepResult {
    return this.feed({ type: "application-status", hostId: this.hostOf(appId), appId, status, sentAtMs: this.stamp(), ...extra });
  }

  role(appId: string, role: Role, epoch: number): StepResult {
    return this.feed({ type: "role-report", hostId: this.hostOf(appId), appId, role, epoch, sentAtMs: this.stamp() });
  }

  readiness(appId: string, ready: 0 | 1, opts: { reasons?: string[]; sipListener?: "bound" | "bind-failed"; unsyncedCalls?: number; haLink?: "up" | "down"; pollFailed?: boolean } = {}): StepResult {
    return this.feed({
      type: "readiness-report",
      hostId: this.hostOf(appId),
      appId,
      readyForSwitchover: ready,
      notReadyReasons: opts.reasons ?? [],
      unsyncedCalls: opts.unsyncedCalls ?? (ready ? 0 : null),
      haLink: opts.haLink ?? "up",
      pollFailed: opts.pollFailed,
      sipListener: opts.sipListener ?? "bound",
      sentAtMs: this.stamp(),
    });
  }

  connect(hostId: string): StepResult {
    return this.feed({ type: "agent-connected", hostId });
  }

  scriptResult(cmd: ControllerCommand, ok = true, detail = ""): StepResult {
    if (cmd.type !== "run-control-script") throw new Error(`not a script: ${cmd.type}`);
    return this.feed({ type: "control-script-result", commandId: cmd.commandId, pairId: cmd.pairId, hostId: cmd.hostId, action: cmd.action, ok, detail });
  }

  tick(advanceMs: number): StepResult {
    this.nowMs += advanceMs;
    return this.feed({ type: "tick" });
  }

  maintenance(on: boolean, opts: { reason?: string; untilMs?: number | null; operator?: string } = {}): StepResult {
    return this.feed({ type: "operator-maintenance", pairId: this.pair.id, operator: opts.operator ?? "alice", on, reason: opts.reason ?? "", untilMs: opts.untilMs ?? null });
  }

  switchover(opts: { force?: boolean; reason?: string } = {}): StepResult {
    return this.feed({ type: "operator-switchover", pairId: this.pair.id, operator: "alice", force: opts.force ?? false, reason: opts.reason ?? "" });
  }

  /** Agent stamps: strictly increasing per application and report kind (one counter is enough here). */
  private stamp(): number {
    return ++this.sent;
  }

  pairState() {
    return this.state.pairStates[this.pair.id]!;
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/** Both hosts connected, sip-1 primary and sip-2 backup at epoch 4, both ready; recovery grace over. */
function steadyPair(haType: HaType = "ip-takeover"): Harness {
  const h = new Harness(pairOf(haType), { persisted: { "pair-a": { epoch: 4, intendedPrimaryAppId: "sip-1", stoppedAppIds: [] } } });
  for (const host of new Set(h.pair.apps.map((a) => a.hostId))) h.connect(host);
  h.status("sip-1", "running");
  h.role("sip-1", "primary", 4);
  h.readiness("sip-1", 1);
  h.status("sip-2", "running");
  h.role("sip-2", "backup", 4);
  h.readiness("sip-2", 1);
  expect(h.last.commands).toEqual([]);
  return h;
}

const roleAndScripts = (cmds: ControllerCommand[]) =>
  cmds.filter((c) => c.type === "set-role" || c.type === "run-control-script").map((c) =>
    c.type === "set-role" ? `set-role ${c.appId} ${c.role} e${c.epoch}` : `${c.action} ${c.target} on ${c.hostId} e${c.epoch}`,
  );
const kinds = (cmds: ControllerCommand[], type: "raise-alarm" | "cancel-alarm") =>
  cmds.flatMap((c) => (c.type === type ? [`${c.kind}:${c.appId ?? c.hostId ?? c.pairId}`] : []));
const historyTexts = (cmds: ControllerCommand[]) => cmds.flatMap((c) => (c.type === "record-history" ? [`e${c.epoch} ${c.text}`] : []));
const find = (cmds: ControllerCommand[], type: "run-control-script", hostId: string) => cmds.find((c) => c.type === type && c.hostId === hostId)!;

describe("W1 manual switchover", () => {
  it("W1 ip-takeover: demotes the primary first, then promotes the backup, then disables the VIP on host 1 and enables it on host 2", () => {
    const h = steadyPair("ip-takeover");
    let r = h.switchover();
    expect(r.reason).toBe("sip-2 ordered to primary and sip-1 to backup by alice's switchover (epoch 5)");
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-1 backup e5"]);
    expect(historyTexts(r.commands)).toEqual(["e5 sip-2 ordered to primary and sip-1 to backup by alice's switchover (epoch 5)"]);
    // The history row comes before the order: the runner persists, then sends.
    expect(r.commands.findIndex((c) => c.type === "record-history")).toBeLessThan(r.commands.findIndex((c) => c.type === "set-role"));
    expect(h.pairState().epoch).toBe(5);
    expect(h.pairState().intendedPrimaryAppId).toBe("sip-2");

    r = h.role("sip-1", "backup", 5);
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e5", "disable vip on host-1 e5"]);
    const disable = find(r.commands, "run-control-script", "host-1");
    // The demotion carries nothing; the promotion carries the enable on its own host.
    expect(h.pairState().plan!.steps.map((st) => (st.command.type === "set-role" ? st.command.thenEnable ?? null : null))).toEqual([null, "script:pair-a:host-2:enable:e5", null, null]);

    r = h.role("sip-2", "primary", 5);
    expect(roleAndScripts(r.commands)).toEqual(["enable vip on host-2 e5"]);
    expect(r.reason).toBe("ordered enable of the VIP on host-2; switchover of pair-a to sip-2 (epoch 5) in progress: waiting for the disable script on host-1 and the enable script on host-2");
    const enable = find(r.commands, "run-control-script", "host-2");

    h.scriptResult(disable);
    r = h.scriptResult(enable);
    expect(r.reason).toBe("switchover of pair-a to sip-2 (epoch 5) complete: sip-2 is primary, sip-1 is backup, VIP disabled on host-1, VIP enabled on host-2");
    expect(h.pairState().plan).toBeNull();
    expect(h.tick(100).commands).toEqual([]);
  });

  it("W1 nlb-cluster: the control scripts move the NLB port", () => {
    const h = steadyPair("nlb-cluster");
    h.switchover();
    let r = h.role("sip-1", "backup", 5);
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e5", "disable nlb-port on host-1 e5"]);
    r = h.role("sip-2", "primary", 5);
    expect(roleAndScripts(r.commands)).toEqual(["enable nlb-port on host-2 e5"]);
    h.scriptResult(find(h.last.commands, "run-control-script", "host-2"));
    r = h.feed({ type: "control-script-result", commandId: "script:pair-a:host-1:disable:e5", pairId: "pair-a", hostId: "host-1", action: "disable", ok: true });
    expect(r.reason).toContain("NLB port disabled on host-1, NLB port enabled on host-2");
  });

  it("W1 re-sends an unacknowledged order on tick with the same id and epoch, and abandons it after the retry limit", () => {
    const h = steadyPair();
    const first = h.switchover().commands.find((c) => c.type === "set-role")!;
    expect(h.tick(100).commands).toEqual([]);
    let r = h.tick(400);
    expect(r.commands).toEqual([first]);
    expect(r.reason).toContain("re-sent ordered sip-1 to backup (send 2)");
    h.tick(500);
    h.tick(500);
    r = h.tick(500);
    expect(r.reason).toContain("switchover of pair-a to sip-2 (epoch 5) abandoned: sip-1 did not confirm after 4 sends");
    expect(kinds(r.commands, "raise-alarm")).toContain("switchover-failed:pair-a");
    // sip-1 stopped answering orders: it no longer counts as a serving primary, so sip-2 takes over.
    expect(r.reason).toContain("sip-2 promoted to primary because sip-1 stopped answering orders (epoch 6)");
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e6", "disable vip on host-1 e6"]);
  });

  it("one retry owner: a step its agent acknowledged is not sent again while it runs (a slow enable script); without the receipt it is", () => {
    for (const acknowledged of [true, false]) {
      const h = steadyPair();
      h.status("sip-1", "failed");
      h.scriptResult(find(h.last.commands, "run-control-script", "host-1"));
      const enable = find(h.role("sip-2", "primary", 5).commands, "run-control-script", "host-2");
      if (enable?.type !== "run-control-script") throw new Error("no enable step ordered");
      if (acknowledged) h.feed({ type: "command-delivered", commandId: enable.commandId }); // the agent runs it now (arping takes its time)
      let sends = 0;
      // Past the 500 ms retry interval many times over, within the plan's 10 s (a delivered script is sent
      // again only after its timeout, 10 s, plus a 3 s margin).
      for (let t = 0; t < 9_000; t += 500) sends += h.tick(500).commands.filter((c) => c.type === "run-control-script" && c.commandId === enable.commandId).length;
      const step = h.pairState().plan?.steps.find((st) => st.command.type === "run-control-script" && st.command.commandId === enable.commandId);
      if (acknowledged) {
        expect(sends).toBe(0);
        expect(step?.status).toBe("delivered"); // still waited for: the plan is not over
      } else {
        expect(sends).toBeGreaterThan(0); // it may have been lost: it goes again
      }
    }
  });

  it("W1 refuses a second switchover while one is in progress", () => {
    const h = steadyPair();
    h.switchover();
    const r = h.switchover();
    expect(r.reason).toBe("switchover of pair-a requested by alice refused: a role change is already in progress (epoch 5)");
    expect(roleAndScripts(r.commands)).toEqual([]);
  });
});

describe("W2 primary server failure", () => {
  it("W2 orders the backup to primary on the very event that reports the crash, and disables the VIP on host 1", () => {
    const h = steadyPair();
    let r = h.status("sip-1", "failed");
    expect(r.reason).toBe("sip-2 promoted to primary because sip-1's process failed (epoch 5)");
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e5", "disable vip on host-1 e5"]);
    expect(kinds(r.commands, "raise-alarm")).toEqual(["application-failed:sip-1"]);
    r = h.role("sip-2", "primary", 5);
    expect(roleAndScripts(r.commands)).toEqual(["enable vip on host-2 e5"]);
  });

  it("W2 the promotion carries the enable step's id, so the new primary's agent enables at once; the step is still ordered after the confirmation", () => {
    for (const haType of ["ip-takeover", "nlb-cluster"] as const) {
      const h = steadyPair(haType);
      let r = h.status("sip-1", "failed");
      const promotion = r.commands.find((c) => c.type === "set-role");
      expect(promotion).toMatchObject({ appId: "sip-2", role: "primary", epoch: 5, thenEnable: "script:pair-a:host-2:enable:e5" });
      r = h.role("sip-2", "primary", 5);
      expect(r.commands.filter((c) => c.type === "run-control-script").map((c) => c.commandId)).toEqual(["script:pair-a:host-2:enable:e5"]);
    }
    // No VIP, nothing to enable: a single-host pair's promotion carries none.
    const single = steadyPair("single-host");
    const r = single.status("sip-1", "failed");
    expect(r.commands.find((c) => c.type === "set-role")).not.toHaveProperty("thenEnable");
  });

  it("W2 a restarted server that comes back as primary at epoch 0 is demoted (the higher epoch wins)", () => {
    const h = steadyPair();
    h.status("sip-1", "failed");
    h.role("sip-2", "primary", 5);
    expect(kinds(h.status("sip-1", "starting").commands, "cancel-alarm")).toEqual(["application-failed:sip-1"]);
    h.status("sip-1", "running");
    const r = h.role("sip-1", "primary", 0);
    expect(r.reason).toBe("sip-1 demoted to backup because both sip-1 (epoch 0) and sip-2 (epoch 5) are primary; sip-2 stays primary (epoch 6)");
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-1 backup e6"]);
  });
});

describe("W3 primary host disconnected", () => {
  it("W3 promotes the backup, shows the stale VIP on host 1, and demotes the returning server when both are primary", () => {
    const h = steadyPair();
    let r = h.feed({ type: "agent-disconnected", hostId: "host-1", detail: "heartbeat timeout after 3000 ms" });
    expect(r.reason).toBe("sip-2 promoted to primary because host-1 is disconnected (epoch 5)");
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e5"]);
    expect(h.pairState().staleVips.map((v) => v.hostId)).toEqual(["host-1"]);
    expect(kinds(r.commands, "raise-alarm")).toEqual(["host-disconnected:host-1", "stale-vip:host-1"]);

    r = h.role("sip-2", "primary", 5);
    expect(roleAndScripts(r.commands)).toEqual(["enable vip on host-2 e5"]);
    r = h.scriptResult(find(r.commands, "run-control-script", "host-2"));
    expect(r.reason).toBe("switchover of pair-a to sip-2 (epoch 5) complete: sip-2 is primary, VIP enabled on host-2, stale VIP on host-1");

    // host 1 returns later; until its resync arrives nothing is decided for it.
    h.tick(30_000);
    r = h.connect("host-1");
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(kinds(r.commands, "cancel-alarm")).toEqual(["host-disconnected:host-1"]);
    h.status("sip-1", "running");
    r = h.role("sip-1", "primary", 4);
    expect(r.reason).toBe("sip-1 demoted to backup because both sip-1 (epoch 4) and sip-2 (epoch 5) are primary after host-1 returned; sip-2 stays primary (epoch 6)");
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-1 backup e6"]);
    expect(kinds(r.commands, "raise-alarm")).toEqual(["split-brain:pair-a"]);

    r = h.role("sip-1", "backup", 6);
    expect(roleAndScripts(r.commands)).toEqual(["disable vip on host-1 e6"]);
    expect(kinds(r.commands, "cancel-alarm")).toEqual(["split-brain:pair-a"]);
    r = h.scriptResult(find(r.commands, "run-control-script", "host-1"));
    expect(r.reason).toBe("demotion of sip-1 (epoch 6) complete: sip-1 is backup, VIP disabled on host-1");
    expect(h.pairState().staleVips).toEqual([]);
    expect(kinds(r.commands, "cancel-alarm")).toEqual(["stale-vip:host-1"]);
  });

  it("W3 a returning host whose server is already backup gets its stale VIP disabled", () => {
    const h = steadyPair();
    h.feed({ type: "agent-disconnected", hostId: "host-1" });
    h.role("sip-2", "primary", 5);
    h.scriptResult(find(h.last.commands, "run-control-script", "host-2"));
    h.connect("host-1");
    h.status("sip-1", "running");
    const r = h.role("sip-1", "backup", 5);
    expect(r.reason).toBe("disabling the stale VIP on host-1: it is connected and none of its servers is primary (epoch 5)");
    expect(roleAndScripts(r.commands)).toEqual(["disable vip on host-1 e5"]);
  });

  it("W3 waits for the resync of a reconnected host before deciding", () => {
    const h = steadyPair();
    h.connect("host-1"); // a reconnect: what sip-1 said before no longer counts
    let r = h.status("sip-1", "running");
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(h.pairState().situation).toBe("no server of pair-a reports primary yet; waiting for sip-1 to resync before deciding");
    r = h.role("sip-1", "primary", 4);
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(h.pairState().situation).toBe("sip-1 is primary (epoch 4)");
  });
});

describe("W4/W5 SERVICE_UNAVAILABLE", () => {
  it("W4 switches sip-1 to backup and sip-2 to primary when the primary reports SERVICE_UNAVAILABLE", () => {
    const h = steadyPair("nlb-cluster");
    let r = h.status("sip-1", "service-unavailable", { oosBackoff: 1, detail: "no SIP traffic for 10 s" });
    expect(r.reason).toBe("sip-2 promoted to primary and sip-1 demoted because sip-1 reported SERVICE_UNAVAILABLE (no SIP traffic for 10 s, back-off 1x) (epoch 5)");
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-1 backup e5"]);
    expect(kinds(r.commands, "raise-alarm")).toEqual(["service-unavailable:sip-1"]);
    r = h.role("sip-1", "backup", 5);
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e5", "disable nlb-port on host-1 e5"]);
    // Host 1's NIC is down: its NLB disable has no effect, so the port counts as stale there.
    r = h.scriptResult(find(r.commands, "run-control-script", "host-1"), false, "NLB did not react");
    expect(h.pairState().staleVips.map((v) => v.hostId)).toEqual(["host-1"]);
    expect(kinds(r.commands, "raise-alarm")).toEqual(["control-script-failed:host-1", "stale-vip:host-1"]);
    r = h.status("sip-1", "running");
    expect(kinds(r.commands, "cancel-alarm")).toEqual(["service-unavailable:sip-1"]);
  });

  it("W5 shows the server's back-off and switches again when the new primary reports SERVICE_UNAVAILABLE", () => {
    const h = steadyPair("nlb-cluster");
    h.status("sip-1", "service-unavailable", { oosBackoff: 1 });
    h.role("sip-1", "backup", 5);
    h.status("sip-1", "running");
    h.role("sip-2", "primary", 5);
    for (const c of h.last.commands) if (c.type === "run-control-script") h.scriptResult(c);
    h.scriptResult({ type: "run-control-script", commandId: "script:pair-a:host-1:disable:e5", pairId: "pair-a", hostId: "host-1", action: "disable", target: "nlb-port", epoch: 5 });
    const r = h.status("sip-2", "service-unavailable", { oosBackoff: 2 });
    expect(r.reason).toBe("sip-1 promoted to primary and sip-2 demoted because sip-2 reported SERVICE_UNAVAILABLE (no SIP traffic, back-off 2x) (epoch 6)");
    expect(h.state.apps["sip-2"]!.oosBackoff).toBe(2);
    expect(r.commands.find((c) => c.type === "raise-alarm")).toMatchObject({ kind: "service-unavailable", text: "sip-2 reported SERVICE_UNAVAILABLE (back-off 2x)" });
  });

  it("W4 names the back-off once when the server's own detail already says it", () => {
    const h = steadyPair("nlb-cluster");
    const r = h.status("sip-1", "service-unavailable", { oosBackoff: 2, detail: "no SIP traffic for 20 s, back-off 2x" });
    expect(r.reason).toBe("sip-2 promoted to primary and sip-1 demoted because sip-1 reported SERVICE_UNAVAILABLE (no SIP traffic for 20 s, back-off 2x) (epoch 5)");
  });

  it("W4 keeps the primary when the backup cannot take over", () => {
    const h = steadyPair("nlb-cluster");
    h.status("sip-2", "failed");
    const r = h.status("sip-1", "service-unavailable", { oosBackoff: 1 });
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(h.pairState().situation).toBe("sip-1 reported SERVICE_UNAVAILABLE (no SIP traffic, back-off 1x) but sip-2 cannot take over (sip-2's process failed); sip-1 stays primary");
  });
});

describe("W7 listener bind failure", () => {
  it("W7 alternates the primary role while neither server can bind, each wait twice as long as the last, and stops when one can", () => {
    const h = steadyPair();
    h.tick(5_000); // long past the last role change
    let r = h.readiness("sip-1", 1, { sipListener: "bind-failed" });
    expect(r.reason).toBe("sip-2 promoted to primary and sip-1 demoted because sip-1 cannot open its SIP listening port (00-04200); the primary role alternates until one can (alternation 1, epoch 5)");
    expect(kinds(r.commands, "raise-alarm")).toEqual(["bind-failed:sip-1"]);
    h.role("sip-1", "backup", 5);
    h.readiness("sip-1", 1, { sipListener: "bound" });
    h.role("sip-2", "primary", 5);
    for (const c of h.last.commands) if (c.type === "run-control-script") h.scriptResult(c);
    h.scriptResult({ type: "run-control-script", commandId: "script:pair-a:host-1:disable:e5", pairId: "pair-a", hostId: "host-1", action: "disable", target: "vip", epoch: 5 });

    r = h.readiness("sip-2", 1, { sipListener: "bind-failed" });
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(h.pairState().situation).toBe(
      "sip-2 cannot open its SIP listening port (00-04200); it keeps the primary role 4 s more before it alternates to sip-1 (alternation 2: each waits twice as long as the last, up to 60 s)",
    );
    r = h.tick(2_000);
    expect(roleAndScripts(r.commands)).toEqual([]); // the first alternation's 2 s are not enough for the second
    r = h.tick(2_000);
    expect(r.reason).toBe("sip-1 promoted to primary and sip-2 demoted because sip-2 cannot open its SIP listening port (00-04200); the primary role alternates until one can (alternation 2, epoch 6)");
    h.role("sip-2", "backup", 6);
    h.role("sip-1", "primary", 6);
    for (const c of h.last.commands) if (c.type === "run-control-script") h.scriptResult(c);
    for (const host of ["host-1", "host-2"] as const) {
      const action = host === "host-1" ? "enable" : "disable";
      h.scriptResult({ type: "run-control-script", commandId: `script:pair-a:${host}:${action}:e6`, pairId: "pair-a", hostId: host, action, target: "vip", epoch: 6 });
    }
    h.readiness("sip-1", 1, { sipListener: "bound" });
    expect(h.pairState().alternations).toBe(2); // not stable yet: it just took the role
    r = h.tick(2_000);
    expect(r.reason).toBe("sip-1 serves as primary with its SIP port open; the alternation stops after 2 switch(es)");
    expect(h.pairState().alternations).toBe(0);
  });

  it("W7 a primary that cannot bind also reports SERVICE_UNAVAILABLE (it has no SIP traffic): the alternation's wait decides, not the W4 switch", () => {
    const h = steadyPair();
    h.tick(5_000);
    h.readiness("sip-1", 1, { sipListener: "bind-failed" }); // alternation 1: sip-2 takes the role
    h.role("sip-1", "backup", 5);
    h.role("sip-2", "primary", 5);
    for (const c of h.last.commands) if (c.type === "run-control-script") h.scriptResult(c);
    h.scriptResult({ type: "run-control-script", commandId: "script:pair-a:host-1:disable:e5", pairId: "pair-a", hostId: "host-1", action: "disable", target: "vip", epoch: 5 });
    h.readiness("sip-2", 1, { sipListener: "bind-failed" });
    const r = h.status("sip-2", "service-unavailable", { detail: "no SIP traffic" });
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(h.pairState().situation).toMatch(/^sip-2 cannot open its SIP listening port \(00-04200\); it keeps the primary role 4 s more before it alternates to sip-1/);
    expect(roleAndScripts(h.tick(2_000).commands)).toEqual([]);
    expect(h.tick(2_000).reason).toMatch(/^sip-1 promoted to primary and sip-2 demoted because sip-2 cannot open its SIP listening port \(00-04200\); the primary role alternates until one can \(alternation 2, epoch 6\)/);
  });

  it("W7 the bind-failed alarm follows what the server reports: kept while it says bind-failed or nothing new (a role change), cancelled once it reports its SIP listener bound", () => {
    const h = steadyPair();
    h.tick(5_000);
    // sip-2 cannot take over (stopped): sip-1 stays primary with its port closed.
    h.status("sip-2", "stopped");
    let r = h.readiness("sip-1", 1, { sipListener: "bind-failed" });
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(kinds(r.commands, "raise-alarm")).toEqual(["bind-failed:sip-1"]);
    r = h.readiness("sip-1", 1, { sipListener: "bind-failed" });
    expect(kinds(r.commands, "raise-alarm")).toEqual([]); // once per condition
    expect(kinds(r.commands, "cancel-alarm")).toEqual([]);
    // A role report from another role says nothing about the listener: the alarm stays.
    r = h.role("sip-1", "backup", 4);
    expect(kinds(r.commands, "cancel-alarm")).toEqual([]);
    r = h.role("sip-1", "primary", 4);
    expect(kinds(h.tick(1_000).commands, "cancel-alarm")).toEqual([]);
    r = h.readiness("sip-1", 1, { sipListener: "bound" });
    expect(kinds(r.commands, "cancel-alarm")).toEqual(["bind-failed:sip-1"]);
    const cancel = r.commands.find((c) => c.type === "cancel-alarm");
    expect(cancel).toMatchObject({ kind: "bind-failed", appId: "sip-1", text: "sip-1 reports its SIP listener bound" });
  });
});

describe("W12 readiness 0: double failure", () => {
  it("W12 refuses an unforced switchover while readiness is 0, with a double failure warning", () => {
    const h = steadyPair();
    h.readiness("sip-2", 0, { reasons: ["HA link up for 12 s of the 60 s needed"] });
    const r = h.switchover();
    expect(r.reason).toBe(
      "switchover of pair-a requested by alice refused: sip-2 is not ready for switchover (HA link up for 12 s of the 60 s needed); switching now would be a double failure — force it with a reason to proceed",
    );
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(historyTexts(r.commands)).toHaveLength(1);
    expect(h.pairState().epoch).toBe(4);
  });

  it("W12 refuses a forced switchover without a reason", () => {
    const h = steadyPair();
    h.readiness("sip-2", 0);
    expect(h.switchover({ force: true }).reason).toBe("switchover of pair-a requested by alice refused: a forced switchover needs a reason");
  });

  it("W12 a forced switchover with a reason proceeds and raises the double failure warning", () => {
    const h = steadyPair();
    h.readiness("sip-2", 0, { reasons: ["HA link down"] });
    const r = h.switchover({ force: true, reason: "host-1 maintenance window" });
    expect(r.reason).toBe(
      "sip-2 ordered to primary and sip-1 to backup by alice's forced switchover (epoch 5); reason: host-1 maintenance window; double failure warning: sip-2 is not ready for switchover (HA link down)",
    );
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-1 backup e5"]);
    expect(kinds(r.commands, "raise-alarm")).toEqual(["double-failure:sip-2"]);
  });

  it("W12 an automatic failover is not held back by readiness 0 but carries the double failure warning", () => {
    const h = steadyPair();
    h.readiness("sip-2", 0, { reasons: ["HA link down"] });
    const r = h.status("sip-1", "failed");
    expect(r.reason).toBe("sip-2 promoted to primary because sip-1's process failed (epoch 5); double failure warning: sip-2 is not ready for switchover (HA link down)");
  });
});

describe("readiness-aware failover: a failover that lets the primary keep its calls waits for an unsynchronised backup", () => {
  const syncing = { reasons: ["call synchronisation from the primary is not complete: 7500 of 14000 calls not yet received"], unsyncedCalls: 7_500 };
  const alarmTexts = (cmds: ControllerCommand[]) => cmds.flatMap((c) => (c.type === "raise-alarm" && c.kind === "double-failure" ? [c.text] : []));

  it("W4 SERVICE_UNAVAILABLE with an unsynchronised backup: the failover waits, says so live, then proceeds when the backup is ready, without the alarm", () => {
    const h = steadyPair();
    h.readiness("sip-2", 0, syncing);
    let r = h.status("sip-1", "service-unavailable", { oosBackoff: 1, detail: "no SIP traffic for 10 s" });
    expect(r.reason).toBe(
      "sip-1 reported SERVICE_UNAVAILABLE (no SIP traffic for 10 s, back-off 1x), but sip-2 is not ready for switchover (call synchronisation from the primary is not complete: 7500 of 14000 calls not yet received): waiting for sip-2 to synchronise 7,500 calls before switching, at most 30 s",
    );
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(historyTexts(r.commands)).toHaveLength(1);
    expect(h.pairState().epoch).toBe(4);
    h.readiness("sip-2", 0, { ...syncing, unsyncedCalls: 3_000 });
    r = h.tick(12_000);
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(h.pairState().situation).toBe("sip-1 reported SERVICE_UNAVAILABLE (no SIP traffic for 10 s, back-off 1x); waiting for sip-2 to synchronise 3,000 calls before switching (12 s of at most 30 s)");
    r = h.readiness("sip-2", 1);
    expect(r.reason).toBe("sip-2 promoted to primary and sip-1 demoted because sip-1 reported SERVICE_UNAVAILABLE (no SIP traffic for 10 s, back-off 1x) (epoch 5); sip-2 became ready after 12 s of waiting");
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-1 backup e5"]);
    expect(alarmTexts(r.commands)).toEqual([]);
    expect(h.pairState().hold).toBeNull();
  });

  it("W4 the hold ends at the pair's failover hold: the failover proceeds with the double-failure alarm naming the calls at risk", () => {
    const h = steadyPair();
    h.readiness("sip-2", 0, syncing);
    h.status("sip-1", "service-unavailable", { oosBackoff: 1, detail: "no SIP traffic for 10 s" });
    expect(roleAndScripts(h.tick(29_900).commands)).toEqual([]);
    const r = h.tick(100);
    expect(r.reason).toBe(
      "sip-2 promoted to primary and sip-1 demoted because sip-1 reported SERVICE_UNAVAILABLE (no SIP traffic for 10 s, back-off 1x) (epoch 5); double failure: sip-2 was still not ready after the 30 s hold (sip-2 is not ready for switchover (call synchronisation from the primary is not complete: 7500 of 14000 calls not yet received)); 7,500 calls not yet synchronised may be lost",
    );
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-1 backup e5"]);
    expect(kinds(r.commands, "raise-alarm")).toEqual(["double-failure:sip-2"]);
    expect(alarmTexts(r.commands)[0]).toContain("7,500 calls not yet synchronised may be lost");
  });

  it("W7 bind failure on the primary while the restarted backup resyncs: the alternation waits for the backup, then proceeds when it is ready", () => {
    const h = steadyPair();
    h.tick(5_000);
    h.readiness("sip-2", 0, syncing);
    let r = h.readiness("sip-1", 1, { sipListener: "bind-failed" });
    expect(r.reason).toBe(
      "sip-1 cannot open its SIP listening port (00-04200), but sip-2 is not ready for switchover (call synchronisation from the primary is not complete: 7500 of 14000 calls not yet received): waiting for sip-2 to synchronise 7,500 calls before switching, at most 30 s",
    );
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(kinds(r.commands, "raise-alarm")).toEqual(["bind-failed:sip-1"]);
    r = h.tick(8_000);
    expect(roleAndScripts(r.commands)).toEqual([]);
    r = h.readiness("sip-2", 1);
    expect(r.reason).toBe(
      "sip-2 promoted to primary and sip-1 demoted because sip-1 cannot open its SIP listening port (00-04200); the primary role alternates until one can (alternation 1, epoch 5); sip-2 became ready after 8 s of waiting",
    );
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-1 backup e5"]);
    expect(alarmTexts(r.commands)).toEqual([]);
  });

  it("W7 the hold expires: the alternation proceeds with the double-failure alarm", () => {
    const h = steadyPair();
    h.tick(5_000);
    h.readiness("sip-2", 0, syncing);
    h.readiness("sip-1", 1, { sipListener: "bind-failed" });
    const r = h.tick(30_000);
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-1 backup e5"]);
    expect(kinds(r.commands, "raise-alarm")).toEqual(["double-failure:sip-2"]);
    expect(r.reason).toContain("double failure: sip-2 was still not ready after the 30 s hold");
  });

  it("W2 a crash with an unsynchronised backup still fails over at once, with the alarm and the count", () => {
    const h = steadyPair();
    h.readiness("sip-2", 0, syncing);
    const r = h.status("sip-1", "failed");
    expect(r.reason).toBe(
      "sip-2 promoted to primary because sip-1's process failed (epoch 5); double failure warning: sip-2 is not ready for switchover (call synchronisation from the primary is not complete: 7500 of 14000 calls not yet received); 7,500 calls not yet synchronised may be lost",
    );
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e5", "disable vip on host-1 e5"]);
    expect(kinds(r.commands, "raise-alarm")).toEqual(["double-failure:sip-2", "application-failed:sip-1"]);
  });

  it("W10 a primary that gave up the role by itself (NIC) keeps its calls: its partner takes over once synchronised", () => {
    const h = steadyPair();
    h.tick(5_000);
    h.readiness("sip-2", 0, syncing);
    let r = h.role("sip-1", "backup", 4);
    expect(r.reason).toContain("sip-1 gave up the primary role by itself, but sip-2 is not ready for switchover");
    expect(roleAndScripts(r.commands)).toEqual([]);
    r = h.readiness("sip-2", 1);
    expect(r.reason).toBe(
      "sip-2 promoted to primary because sip-1 gave up the primary role by itself (it reported backup at epoch 4 without an order) (epoch 5); sip-2 became ready after 0 s of waiting",
    );
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e5", "disable vip on host-1 e5"]);
  });

  it("W4 the held failover is dropped, with a timeline row, when the primary recovers before the backup is ready", () => {
    const h = steadyPair();
    h.readiness("sip-2", 0, syncing);
    h.status("sip-1", "service-unavailable", { oosBackoff: 1, detail: "no SIP traffic for 10 s" });
    h.tick(5_000);
    const r = h.status("sip-1", "running");
    expect(r.reason).toBe("the failover to sip-2 held for its readiness is no longer needed after 5 s: sip-1 is primary (epoch 4)");
    expect(historyTexts(r.commands)).toEqual(["e4 the failover to sip-2 held for its readiness is no longer needed after 5 s: sip-1 is primary (epoch 4)"]);
    expect(h.pairState().hold).toBeNull();
    expect(roleAndScripts(h.tick(40_000).commands)).toEqual([]);
  });

  it("W4 no wait when the backup cannot catch up (its HA link is down) or the pair's hold is 0: at once, with the alarm", () => {
    let h = steadyPair();
    h.readiness("sip-2", 0, { reasons: ["HA link to the other server is down"], haLink: "down", unsyncedCalls: 200 });
    let r = h.status("sip-1", "service-unavailable", { oosBackoff: 1, detail: "no SIP traffic for 10 s" });
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-1 backup e5"]);
    expect(r.reason).toContain("double failure: sip-2 cannot catch up: its HA link is down");
    expect(r.reason).toContain("200 calls not yet synchronised may be lost");

    const pair = { ...pairOf("ip-takeover"), failoverHoldMs: 0 };
    h = new Harness(pair, { persisted: { "pair-a": { epoch: 4, intendedPrimaryAppId: "sip-1", stoppedAppIds: [] } } });
    h.connect("host-1");
    h.connect("host-2");
    for (const [app, role] of [["sip-1", "primary"], ["sip-2", "backup"]] as const) {
      h.status(app, "running");
      h.role(app, role, 4);
    }
    h.readiness("sip-1", 1);
    h.readiness("sip-2", 0, syncing);
    r = h.status("sip-1", "service-unavailable", { oosBackoff: 1, detail: "no SIP traffic for 10 s" });
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-1 backup e5"]);
    expect(r.reason).toContain("double failure: this pair's failover hold is 0 (it never waits)");
  });
});

describe("a hung server: alive for its agent, silent to its readiness polls", () => {
  it("W2 a primary whose readiness polls fail for the unanswered-poll timeout counts as hung and is failed over at once", () => {
    const h = steadyPair();
    const hung = { reasons: ["readiness unknown: readiness poll failed: timed out"], pollFailed: true };
    let r = h.readiness("sip-1", 0, hung);
    expect(roleAndScripts(r.commands)).toEqual([]);
    r = h.tick(4_900);
    expect(roleAndScripts(r.commands)).toEqual([]);
    h.readiness("sip-1", 0, hung); // a repeat does not restart the clock
    r = h.tick(100);
    expect(r.reason).toBe("sip-2 promoted to primary because sip-1 has not answered its readiness polls for 5 s (hung) (epoch 5)");
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e5", "disable vip on host-1 e5"]);
  });

  it("a server that answers again before the timeout is not hung", () => {
    const h = steadyPair();
    h.readiness("sip-1", 0, { reasons: ["readiness unknown: readiness poll failed: timed out"], pollFailed: true });
    h.tick(3_000);
    h.readiness("sip-1", 1);
    expect(roleAndScripts(h.tick(10_000).commands)).toEqual([]);
    expect(h.state.apps["sip-1"]!.pollFailingSinceMs).toBeNull();
  });
});

describe("W15 single-host HA", () => {
  it("W15 fails over and switches over without any control script", () => {
    const h = steadyPair("single-host");
    let r = h.status("sip-1", "failed");
    expect(r.reason).toBe("sip-2 promoted to primary because sip-1's process failed (epoch 5)");
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e5"]);
    r = h.role("sip-2", "primary", 5);
    expect(r.reason).toBe("switchover of pair-a to sip-2 (epoch 5) complete: sip-2 is primary");
    h.status("sip-1", "running");
    h.role("sip-1", "backup", 0);
    // Its readiness from before the crash went with the process: it reports afresh.
    expect(h.switchover().reason).toContain("sip-1's readiness is unknown");
    h.readiness("sip-1", 1);
    r = h.switchover();
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 backup e6"]);
    r = h.role("sip-2", "backup", 6);
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-1 primary e6"]);
    r = h.role("sip-1", "primary", 6);
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(r.reason).toBe("switchover of pair-a to sip-1 (epoch 6) complete: sip-1 is primary, sip-2 is backup");
  });
});

describe("console restart: recovery without flapping", () => {
  it("observes during the recovery grace and keeps the roles the servers report", () => {
    const h = new Harness(pairOf("ip-takeover"), { persisted: { "pair-a": { epoch: 7, intendedPrimaryAppId: "sip-2", stoppedAppIds: [] } }, startMs: 50_000 });
    h.connect("host-2");
    h.status("sip-2", "running");
    let r = h.role("sip-2", "backup", 7); // mid-switchover at the restart: sip-2 not yet promoted
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(h.pairState().situation).toBe("recovering after the controller started: waiting up to 5000 ms for host-1 to report before deciding for pair-a");
    h.connect("host-1");
    h.status("sip-1", "running");
    r = h.role("sip-1", "backup", 7);
    // Now the picture is complete and nobody is primary: the persisted intended primary is promoted.
    expect(r.reason).toBe("sip-2 promoted to primary because no server of pair-a was primary (epoch 8); double failure warning: sip-2's readiness is unknown");
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e8"]);
  });

  it("changes no role when the resync shows one primary, even one the persisted state did not expect; it puts the VIP with it", () => {
    const h = new Harness(pairOf("ip-takeover"), { persisted: { "pair-a": { epoch: 7, intendedPrimaryAppId: "sip-2", stoppedAppIds: [] } } });
    h.connect("host-1");
    h.connect("host-2");
    h.status("sip-1", "running");
    h.role("sip-1", "primary", 7);
    h.status("sip-2", "running");
    const r = h.role("sip-2", "backup", 7);
    // No role change and no new epoch: only the VIP is made to follow the primary.
    expect(roleAndScripts(r.commands)).toEqual(["disable vip on host-2 e7", "enable vip on host-1 e7"]);
    expect(r.reason).toBe("sip-1 is primary (epoch 7); the controller adopts it as the intended primary and enables the VIP on host-1");
    // Its completion names what it did, not a demotion of nobody.
    h.scriptResult(find(r.commands, "run-control-script", "host-2"), true, "");
    const done = h.scriptResult(find(r.commands, "run-control-script", "host-1"), true, "");
    expect(done.reason).toMatch(/^putting the VIP on host-1 \(epoch 7\) complete/);
  });

  it("W15 single-host: adopting a primary runs no script", () => {
    const h = new Harness(pairOf("single-host"));
    h.connect("host-1");
    h.status("sip-1", "running");
    h.role("sip-1", "primary", 0);
    h.status("sip-2", "running");
    const r = h.role("sip-2", "backup", 0);
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(r.reason).toBe("sip-1 is primary (epoch 0); the controller adopts it as the intended primary");
  });

  it("after the grace, a host that never reconnected counts as disconnected and the other server is promoted", () => {
    const h = new Harness(pairOf("ip-takeover"), { persisted: { "pair-a": { epoch: 7, intendedPrimaryAppId: "sip-1", stoppedAppIds: [] } } });
    h.connect("host-2");
    h.status("sip-2", "running");
    h.role("sip-2", "backup", 7);
    h.readiness("sip-2", 1);
    expect(h.tick(4_900).commands.filter((c) => c.type === "set-role")).toEqual([]);
    const r = h.tick(100);
    expect(r.decisions.map((d) => d.sentence)).toEqual([
      "host-1 did not reconnect within the recovery grace of 5000 ms; it counts as disconnected",
      "sip-2 promoted to primary because host-1 is disconnected (epoch 8)",
    ]);
  });
});

describe("autostart: once per agent start, as backup (issue 11: the decision moved from the runner into the core)", () => {
  const starts = (r: StepResult) => r.commands.filter((c) => c.type === "start-application").map((c) => `start ${c.appId} as ${c.role} e${c.epoch}`);

  it("a server its freshly started agent reports stopped is started once, as backup at the pair's epoch; not again for the same agent, again for a new one; never one an operator stopped", () => {
    const h = steadyPair();
    h.feed({ type: "host-resync", hostId: "host-2", agentIncarnation: "agent-started-1" });
    let r = h.status("sip-2", "stopped");
    expect(starts(r)).toEqual(["start sip-2 as backup e4"]);
    expect(r.reason).toContain("starting sip-2 as backup (epoch 4): stopped when its agent started (autostart)");
    // The same agent: its server stopped again (or it resynced) — not started a second time.
    h.status("sip-2", "starting");
    expect(starts(h.status("sip-2", "stopped"))).toEqual([]);
    expect(starts(h.feed({ type: "host-resync", hostId: "host-2", agentIncarnation: "agent-started-1" }))).toEqual([]);
    // A new agent process on the host: once more.
    expect(starts(h.feed({ type: "host-resync", hostId: "host-2", agentIncarnation: "agent-started-2" }))).toEqual(["start sip-2 as backup e4"]);
    // An operator's stop is remembered: no new agent starts it again.
    h.status("sip-2", "running");
    h.feed({ type: "operator-application", appId: "sip-2", action: "stop", operator: "alice" });
    h.status("sip-2", "stopped");
    expect(starts(h.feed({ type: "host-resync", hostId: "host-2", agentIncarnation: "agent-started-3" }))).toEqual([]);
  });
});

describe("cold start: the configured primary is waited for while it starts (issue 11)", () => {
  /** A pair that never had a primary, whose configured primary sip-1 starts slowly (its own startup timeout). */
  function coldStart(startupTimeoutMs: number): Harness {
    const pair = testPair();
    pair.apps[0].startupTimeoutMs = startupTimeoutMs;
    const h = new Harness(pair);
    h.connect("host-1");
    h.connect("host-2");
    h.status("sip-1", "starting");
    h.status("sip-2", "running");
    h.role("sip-2", "backup", 0);
    h.readiness("sip-2", 1);
    return h;
  }

  it("the partner is not promoted over a configured primary within its own startup timeout; it is after", () => {
    const h = coldStart(45_000);
    expect(roleAndScripts(h.last.commands)).toEqual([]);
    // A starting server has no role to report: its resync is waited for first (resyncTimeoutMs, 10 s).
    expect(roleAndScripts(h.tick(10_000).commands)).toEqual([]);
    expect(h.pairState().situation).toBe("sip-1, the configured primary of pair-a, is still starting; waiting up to 35 s more before choosing a primary");
    expect(roleAndScripts(h.tick(34_000).commands)).toEqual([]);
    expect(h.pairState().situation).toBe("sip-1, the configured primary of pair-a, is still starting; waiting up to 1 s more before choosing a primary");
    const r = h.tick(1_000);
    expect(roleAndScripts(r.commands).filter((c) => c.startsWith("set-role"))).toEqual(["set-role sip-2 primary e1"]);
    expect(r.reason).toMatch(/^sip-2 promoted to primary because sip-1 is still starting \(epoch 1\)/);
  });

  it("a configured primary that comes up within its startup timeout is the one promoted", () => {
    const h = coldStart(45_000);
    h.tick(20_000);
    // Running before its role is heard (how the lab's sip-c1 lost the role to its backup on a loaded machine).
    expect(roleAndScripts(h.status("sip-1", "running").commands)).toEqual([]);
    expect(h.pairState().situation).toBe("sip-1, the configured primary of pair-a, runs but has not reported its role yet; waiting up to 45 s more before choosing a primary");
    expect(roleAndScripts(h.readiness("sip-1", 1).commands)).toEqual([]);
    const r = h.role("sip-1", "backup", 0);
    expect(roleAndScripts(r.commands).filter((c) => c.startsWith("set-role"))).toEqual(["set-role sip-1 primary e1"]);
  });

  it("after a failure there is no startup wait: a pair with an intended primary promotes the running partner once the resync wait is over", () => {
    const pair = testPair();
    const h = new Harness(pair, { persisted: { "pair-a": { epoch: 3, intendedPrimaryAppId: "sip-1", stoppedAppIds: [] } } });
    h.connect("host-1");
    h.connect("host-2");
    h.status("sip-1", "starting");
    h.status("sip-2", "running");
    h.readiness("sip-2", 1);
    h.role("sip-2", "backup", 3);
    const r = h.tick(10_000); // sip-1 is still well within its 60 s startup timeout
    expect(roleAndScripts(r.commands).filter((c) => c.startsWith("set-role"))).toEqual(["set-role sip-2 primary e4"]);
  });
});

describe("console restart or takeover: the condition alarms an earlier controller raised", () => {
  const inherited = (activeAlarms: string[]) => new Harness(pairOf("ip-takeover"), { persisted: { "pair-a": { epoch: 7, intendedPrimaryAppId: "sip-1", stoppedAppIds: [], activeAlarms } } });

  it("one whose condition ended while no controller watched is cancelled once the picture is complete, not before", () => {
    const h = inherited(["host-disconnected:host-2", "application-failed:sip-2"]);
    for (const host of ["host-1", "host-2"]) h.connect(host);
    h.status("sip-1", "running");
    h.role("sip-1", "primary", 7);
    h.readiness("sip-1", 1);
    h.status("sip-2", "running");
    h.role("sip-2", "backup", 7);
    const during = h.readiness("sip-2", 1);
    // Recovering: what the hosts say may still change; nothing is cancelled, nothing raised again.
    expect(kinds(during.commands, "cancel-alarm")).toEqual([]);
    expect(kinds(during.commands, "raise-alarm")).toEqual([]);
    expect(h.tick(4_000).commands.filter((c) => c.type === "cancel-alarm")).toEqual([]);
    const after = h.tick(1_000);
    expect(kinds(after.commands, "cancel-alarm").sort()).toEqual(["application-failed:sip-2", "host-disconnected:host-2"]);
    expect(h.pairState().activeAlarms).toEqual([]);
    expect(h.tick(1_000).commands.filter((c) => c.type === "cancel-alarm" || c.type === "raise-alarm")).toEqual([]);
  });

  it("one whose condition still holds is kept, neither cancelled nor raised a second time", () => {
    const h = inherited(["application-failed:sip-2"]);
    for (const host of ["host-1", "host-2"]) h.connect(host);
    h.status("sip-1", "running");
    h.role("sip-1", "primary", 7);
    const r = h.status("sip-2", "failed");
    expect(kinds(r.commands, "raise-alarm")).toEqual([]);
    const after = h.tick(5_000);
    expect(after.commands.filter((c) => c.type === "cancel-alarm" || (c.type === "raise-alarm" && c.kind === "application-failed"))).toEqual([]);
    expect(h.pairState().activeAlarms).toEqual(["application-failed:sip-2"]);
  });
});

describe("a stall of the console itself", () => {
  it("a stall during the recovery grace extends it: the host whose messages waited in the console's sockets is not declared lost", () => {
    const h = new Harness(pairOf("ip-takeover"), { persisted: { "pair-a": { epoch: 7, intendedPrimaryAppId: "sip-1", stoppedAppIds: [] } } });
    h.connect("host-2");
    h.status("sip-2", "running");
    h.role("sip-2", "backup", 7);
    h.tick(1_000);
    // The console did not run for 5.6 s; the shell tells the core on the first input after it.
    h.nowMs += 5_600;
    let r = h.feed({ type: "console-stalled", stalledMs: 5_500 });
    expect(r.reason).toContain("the recovery grace is extended");
    r = h.tick(0);
    expect(r.decisions).toEqual([]);
    // host-1's messages, queued during the stall, arrive: nothing was lost, nothing changes.
    h.connect("host-1");
    h.status("sip-1", "running");
    r = h.role("sip-1", "primary", 7);
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(h.pairState().epoch).toBe(7);
  });
});

describe("epochs and fencing", () => {
  it("a server refusing a stale epoch moves the controller's epoch past it and the decision is made again", () => {
    const h = steadyPair();
    h.status("sip-1", "failed");
    const r = h.feed({ type: "command-result", commandId: "set-role:pair-a:sip-2:primary:e5", ok: false, heldEpoch: 9 });
    expect(r.reason).toBe(
      "switchover of pair-a to sip-2 (epoch 5) abandoned: sip-2 refused epoch 5 because it holds epoch 9; sip-2 promoted to primary because sip-1's process failed (epoch 10)",
    );
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e10", "disable vip on host-1 e10"]);
  });

  it("ignores a report older than the last one applied (reordered or duplicated messages)", () => {
    const h = steadyPair();
    h.feed({ type: "role-report", hostId: "host-1", appId: "sip-1", role: "primary", epoch: 4, sentAtMs: 1_000 });
    const r = h.feed({ type: "role-report", hostId: "host-1", appId: "sip-1", role: "backup", epoch: 3, sentAtMs: 999 });
    expect(r.reason).toBe("ignored an older role report from sip-1");
    expect(h.state.apps["sip-1"]!.role).toBe("primary");
  });

  it("every role change the controller orders gets a new epoch and a history row of that epoch", () => {
    const h = steadyPair();
    const epochs: number[] = [];
    const historyEpochs = new Set<number>();
    const record = (r: StepResult) => {
      for (const c of r.commands) if (c.type === "record-history") historyEpochs.add(c.epoch);
      for (const c of r.commands) {
        if (c.type !== "set-role") continue;
        expect(historyEpochs.has(c.epoch), `history row for epoch ${c.epoch}`).toBe(true);
        if (c.role === "primary") epochs.push(c.epoch);
      }
    };
    record(h.status("sip-1", "failed"));
    record(h.role("sip-2", "primary", 5));
    h.status("sip-1", "running");
    h.role("sip-1", "backup", 0);
    h.readiness("sip-1", 1);
    record(h.switchover());
    record(h.role("sip-2", "backup", 6));
    expect(epochs).toEqual([5, 6]);
  });
});

describe("maintenance mode: the controller observes a pair and takes no decision of its own (issue 14)", () => {
  it("W2 in maintenance a crashed primary is not failed over, the situation says why and what the controller would do; ending the maintenance fails over at once", () => {
    const h = steadyPair();
    let r = h.maintenance(true, { reason: "network work on host-2" });
    expect(r.reason).toBe("alice put pair-a in maintenance until someone ends it (reason: network work on host-2): the controller observes the pair and takes no decision of its own — no failover, no autostart — until the maintenance ends");
    expect(historyTexts(r.commands)).toEqual([`e4 ${r.reason}`]);
    expect(h.pairState().maintenance).toEqual({ by: "alice", reason: "network work on host-2", sinceMs: 0, untilMs: null });
    r = h.status("sip-1", "failed");
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(kinds(r.commands, "raise-alarm")).toEqual(["application-failed:sip-1"]);
    expect(h.pairState().situation).toBe(
      "pair-a is in maintenance (set by alice at 1970-01-01 00:00:00 UTC; reason: network work on host-2): the controller observes only; without the maintenance it would act now: sip-2 promoted to primary because sip-1's process failed (epoch 5)",
    );
    expect(h.pairState().epoch).toBe(4);
    r = h.tick(100);
    expect(roleAndScripts(r.commands)).toEqual([]);
    h.nowMs += 40 * 60_000;
    r = h.maintenance(false, { operator: "bob" });
    expect(r.reason).toBe(
      "bob ended the maintenance of pair-a (set by alice at 1970-01-01 00:00:00 UTC, 40 min ago; reason: network work on host-2): the controller acts on the pair again; sip-2 promoted to primary because sip-1's process failed (epoch 5)",
    );
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e5", "disable vip on host-1 e5"]);
  });

  it("the maintenance ends by itself at its expiry, on a tick, and the controller acts again", () => {
    const h = steadyPair();
    h.maintenance(true, { reason: "patching", untilMs: 60_000 });
    h.status("sip-1", "failed");
    expect(roleAndScripts(h.tick(59_000).commands)).toEqual([]);
    const r = h.tick(1_000);
    expect(r.reason).toBe(
      "the maintenance of pair-a (set by alice at 1970-01-01 00:00:00 UTC; reason: patching) ended at its expiry 1970-01-01 00:01:00 UTC: the controller acts on the pair again; sip-2 promoted to primary because sip-1's process failed (epoch 5)",
    );
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e5", "disable vip on host-1 e5"]);
    expect(h.pairState().maintenance).toBeNull();
  });

  it("W1 an operator's switchover during maintenance is carried out to its end, and the pair stays in maintenance", () => {
    const h = steadyPair();
    h.maintenance(true, { reason: "moving calls off host-1" });
    let r = h.switchover();
    expect(r.reason).toBe(
      "sip-2 ordered to primary and sip-1 to backup by alice's switchover (epoch 5); pair-a stays in maintenance (set by alice at 1970-01-01 00:00:00 UTC; reason: moving calls off host-1): the controller carries out this switchover and takes no decision of its own",
    );
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-1 backup e5"]);
    r = h.role("sip-1", "backup", 5);
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e5", "disable vip on host-1 e5"]);
    r = h.role("sip-2", "primary", 5);
    expect(roleAndScripts(r.commands)).toEqual(["enable vip on host-2 e5"]);
    const plan = h.pairState().plan!;
    for (const st of plan.steps) if (st.command.type === "run-control-script" && st.status !== "done") h.scriptResult(st.command);
    expect(h.pairState().plan).toBeNull();
    expect(h.pairState().maintenance).not.toBeNull();
    expect(h.pairState().situation).toBe("pair-a is in maintenance (set by alice at 1970-01-01 00:00:00 UTC; reason: moving calls off host-1): the controller observes only; sip-2 is primary (epoch 5)");
  });

  it("maintenance needs a reason, and an end in the future; a second request changes the reason and end but keeps since when", () => {
    const h = steadyPair();
    expect(h.maintenance(true, { reason: "  " }).reason).toBe("maintenance of pair-a requested by alice refused: maintenance needs a reason");
    h.nowMs = 10_000;
    expect(h.maintenance(true, { reason: "x", untilMs: 5_000 }).reason).toBe("maintenance of pair-a requested by alice refused: its end 1970-01-01 00:00:05 UTC is not in the future");
    expect(h.maintenance(false).reason).toBe("ending the maintenance of pair-a requested by alice refused: pair-a is not in maintenance");
    expect(h.pairState().maintenance).toBeNull();
    h.maintenance(true, { reason: "first" });
    h.nowMs = 20_000;
    const r = h.maintenance(true, { reason: "longer than planned", untilMs: 90_000, operator: "bob" });
    expect(r.reason).toBe("bob changed the maintenance of pair-a (in maintenance since 1970-01-01 00:00:10 UTC, set by alice): now until 1970-01-01 00:01:30 UTC; reason: longer than planned");
    expect(h.pairState().maintenance).toEqual({ by: "bob", reason: "longer than planned", sinceMs: 10_000, untilMs: 90_000 });
  });

  it("a pair in maintenance longer than maintenanceAlarmAfterMs raises maintenance-too-long once; ending it cancels the alarm", () => {
    const h = steadyPair();
    h.maintenance(true, { reason: "forgotten" });
    expect(kinds(h.tick(DEFAULT_MAINTENANCE_ALARM_AFTER_MS - 1).commands, "raise-alarm")).toEqual([]);
    const r = h.tick(1);
    expect(kinds(r.commands, "raise-alarm")).toEqual(["maintenance-too-long:pair-a"]);
    expect(r.commands.find((c) => c.type === "raise-alarm")).toMatchObject({ text: "pair-a has been in maintenance for 4 h 0 min (set by alice at 1970-01-01 00:00:00 UTC; reason: forgotten): the controller does not fail it over while it lasts" });
    expect(kinds(h.tick(60_000).commands, "raise-alarm")).toEqual([]);
    expect(kinds(h.maintenance(false).commands, "cancel-alarm")).toEqual(["maintenance-too-long:pair-a"]);
  });

  it("console restart: the maintenance is persisted with the pair and a restarted controller keeps observing only", () => {
    const h = steadyPair();
    h.maintenance(true, { reason: "kept across restarts", untilMs: 3_600_000 });
    const persisted = persistedView(h.state);
    expect(persisted["pair-a"]!.maintenance).toEqual({ by: "alice", reason: "kept across restarts", sinceMs: 0, untilMs: 3_600_000 });
    const restarted = new Harness(pairOf("ip-takeover"), { persisted, startMs: 1_000 });
    restarted.connect("host-1");
    restarted.connect("host-2");
    restarted.status("sip-1", "failed");
    restarted.status("sip-2", "running");
    restarted.role("sip-2", "backup", 4);
    const r = restarted.tick(10_000);
    expect(roleAndScripts(r.commands)).toEqual([]);
    expect(restarted.pairState().situation).toMatch(/^pair-a is in maintenance \(set by alice .*kept across restarts\): the controller observes only; without the maintenance it would act now: sip-2 promoted to primary/);
  });
});

describe("many pairs: a step about one pair (issue 15)", () => {
  const twoPairs = (): PairConfig[] => {
    const a = pairOf("ip-takeover");
    const b: PairConfig = {
      ...a,
      id: "pair-b",
      name: "pair-b",
      apps: [
        { ...a.apps[0], appId: "sip-3", appName: "sip-3", hostId: "host-3", hostName: "host-3" },
        { ...a.apps[1], appId: "sip-4", appName: "sip-4", hostId: "host-4", hostName: "host-4" },
      ],
    };
    return [a, b];
  };
  /** Both pairs steady (primaries sip-1 and sip-3), the recovery grace over. */
  const steady = (): { state: ControllerState; nowMs: number } => {
    let state = createControllerState({ nowMs: 0, pairs: twoPairs() });
    let nowMs = 0;
    const feed = (e: DistributiveOmit<ControllerEvent, "atMs">) => (state = step(state, { ...e, atMs: nowMs } as ControllerEvent).state);
    for (const i of [1, 2, 3, 4]) feed({ type: "agent-connected", hostId: `host-${i}` });
    for (const i of [1, 2, 3, 4]) {
      const ids = { hostId: `host-${i}`, appId: `sip-${i}` };
      feed({ type: "application-status", ...ids, status: "running", sentAtMs: 1 });
      feed({ type: "role-report", ...ids, role: i % 2 ? "primary" : "backup", epoch: 0, sentAtMs: 1 });
      feed({ type: "readiness-report", ...ids, readyForSwitchover: 1, notReadyReasons: [], unsyncedCalls: 0, haLink: "up", sipListener: "bound", sentAtMs: 1 });
    }
    nowMs = state.timing.recoveryGraceMs + 1_000;
    feed({ type: "tick" });
    return { state, nowMs };
  };
  const deepFreeze = <T,>(o: T): T => {
    if (o && typeof o === "object" && !Object.isFrozen(o)) {
      Object.freeze(o);
      for (const v of Object.values(o)) deepFreeze(v);
    }
    return o;
  };
  const crash = (atMs: number): ControllerEvent => ({ type: "application-status", atMs, hostId: "host-1", appId: "sip-1", status: "failed", detail: "killed", sentAtMs: 2 });

  it("a crash in one pair fails it over without changing (or copying) the other pair, and never changes the state it was given", () => {
    const { state, nowMs } = steady();
    expect(state.pairStates["pair-a"]!.intendedPrimaryAppId).toBe("sip-1");
    const given = deepFreeze(state);
    const r = step(given, crash(nowMs));
    expect(roleAndScripts(r.commands)).toEqual(["set-role sip-2 primary e1", "disable vip on host-1 e1"]);
    expect(r.scope).toEqual(["pair-a"]);
    expect(r.state.pairStates["pair-b"]).toBe(given.pairStates["pair-b"]);
    expect(r.state.apps["sip-3"]).toBe(given.apps["sip-3"]);
    expect(r.state.pairStates["pair-a"]).not.toBe(given.pairStates["pair-a"]);
    expect(given.pairStates["pair-a"]!.epoch).toBe(0);
  });

  it("stepInPlace decides as step does, on the state it is given", () => {
    const { state, nowMs } = steady();
    const copy = structuredClone(state);
    const pure = step(state, crash(nowMs));
    const inPlace = stepInPlace(copy, crash(nowMs));
    expect(inPlace.state).toBe(copy);
    expect(inPlace.commands).toEqual(pure.commands);
    expect(inPlace.decisions).toEqual(pure.decisions);
    expect(inPlace.state).toEqual(pure.state);
    expect(pairsInScope(copy, { type: "agent-disconnected", atMs: nowMs + 200, hostId: "host-4", detail: "" })).toEqual(["pair-b"]);
  });

  it("a tick decides only the pairs waiting on time: a pair whose plan is done and that decided nothing new is left alone until an event concerns it", () => {
    let { state, nowMs } = steady();
    const tick = () => {
      nowMs += 100;
      const r = step(state, { type: "tick", atMs: nowMs });
      state = r.state;
      return r;
    };
    // Both pairs were adopted with a plan that puts the VIP on the primary's host: waiting on its results.
    expect(tick().scope).toEqual(["pair-a", "pair-b"]);
    for (const st of state.pairStates["pair-b"]!.plan!.steps) {
      const c = st.command;
      if (c.type !== "run-control-script") continue;
      state = step(state, { type: "control-script-result", atMs: nowMs, commandId: c.commandId, pairId: c.pairId, hostId: c.hostId, action: c.action, ok: true }).state;
    }
    expect(state.pairStates["pair-b"]!.plan).toBeNull();
    // The step that completed the plan acted; the next tick decides the pair once more, then leaves it.
    expect(tick().scope).toEqual(["pair-a", "pair-b"]);
    const quiet = tick();
    expect(quiet.scope).toEqual(["pair-a"]);
    expect(quiet.state.pairStates["pair-b"]!.situation).toBe("sip-3 is primary (epoch 0)");
    // A console stall long after the hosts connected moved no resync wait: it concerns the same pairs.
    expect(pairsInScope(state, { type: "console-stalled", atMs: nowMs + 20_000, stalledMs: 3_000 })).toEqual(["pair-a"]);
    // One right after a host connected gives that host its resync wait back: its pairs are decided too.
    expect(pairsInScope(state, { type: "console-stalled", atMs: nowMs + 1_000, stalledMs: 500 })).toEqual(["pair-a", "pair-b"]);
    // Its primary's crash is an event about it; the failover's plan then waits on time.
    nowMs += 10;
    state = step(state, { type: "application-status", atMs: nowMs, hostId: "host-3", appId: "sip-3", status: "failed", detail: "killed", sentAtMs: 2 }).state;
    expect(state.pairStates["pair-b"]!.plan?.cause).toBe("primary-failed");
    expect(tick().scope).toEqual(["pair-a", "pair-b"]);
  });

  it("a host not heard of when the recovery grace ends concerns every pair (it counts as disconnected at once)", () => {
    let state = createControllerState({ nowMs: 0, pairs: twoPairs() });
    state = step(state, { type: "agent-connected", atMs: 0, hostId: "host-1" }).state;
    const late: ControllerEvent = { type: "role-report", atMs: state.timing.recoveryGraceMs + 1, hostId: "host-1", appId: "sip-1", role: "primary", epoch: 0, sentAtMs: 1 };
    expect(pairsInScope(state, late)).toBe("all");
    const r = step(state, late);
    expect(r.state.hosts["host-4"]!.connection).toBe("disconnected");
    expect(r.state.hostsNeverSeen).toBe(false);
    expect(pairsInScope(r.state, { ...late, atMs: late.atMs + 1 })).toEqual(["pair-a"]);
  });
});
