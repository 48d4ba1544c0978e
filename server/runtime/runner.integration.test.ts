// The runner's I/O contract with a real database: a step whose save fails sends none of its commands
// (fencing never runs ahead of the database), yet its alarms still go out and its timeline rows are
// written with the next save that succeeds. Every decision, command, result and alarm is one line of the
// console's log with the pair, its epoch and the reason.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIpTakeoverPair, createTestConsole, quietLogger, type TestConsole } from "../test-support";
import { configureLogging, logger } from "../log";
import type { AgentGateway } from "../agents/gateway";
import type { GatewayCommand, CommandResult } from "../../protocol/agent-wire";
import type { CancelAlarmCommand, RaiseAlarmCommand } from "../controller/core";
import { ControllerRunner } from "./runner";
import { pairHistory } from "./runtime.repository";
import type { Db } from "../db";

let t: TestConsole;
let pairId: string;
let backupAppId: string;

beforeAll(async () => {
  t = await createTestConsole();
  ({ pairId, backupAppId } = await createIpTakeoverPair(t));
});

afterAll(async () => {
  await t?.close();
});

/** A database whose next `$transaction` fails (the runner's saves are batch transactions). */
function failingOnce(db: Db): { db: Db; failNext(): void } {
  let fail = false;
  const proxy = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === "$transaction" && fail) {
        fail = false;
        return () => Promise.reject(new Error("disk I/O error (test)"));
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { db: proxy, failNext: () => (fail = true) };
}

describe("controller runner", () => {
  it("W2 a decision that could not be saved sends nothing, still hands on its alarms, and its timeline rows are written with the next save", async () => {
    let nowMs = 1_000_000;
    const sent: GatewayCommand[] = [];
    const alarms: (RaiseAlarmCommand | CancelAlarmCommand)[] = [];
    const gateway = {
      hosts: () => [],
      sendCommand: (_host: string, c: GatewayCommand) => {
        sent.push(c);
        return new Promise<CommandResult>(() => {});
      },
      withdrawCommand: () => false,
    } as unknown as AgentGateway;
    const store = failingOnce(t.services.db);
    const runner = new ControllerRunner({ db: store.db, gateway, now: () => nowMs, log: quietLogger, onAlarm: (a) => alarms.push(a) });
    await runner.start();
    const at = () => new Date(nowMs).toISOString();
    const settle = () => runner.operatorSwitchover("no-such-pair", "test", false, "").catch(() => "");
    for (const [host, app, role] of [["host-1", "sip-1", "primary"], ["host-2", "sip-2", "backup"]] as const) {
      runner.onHostState({ hostName: host, state: "connected" } as never);
      runner.onAppStatus(host, { application: app, status: "running", previous: null, detail: "", pid: 1, exitCode: null, signal: null, time: at(), restart: null, lastOutput: "" });
      runner.onRoleReport(host, { application: app, role, epoch: 0, time: at() });
    }
    nowMs += 6_000; // past the recovery grace
    await settle();
    sent.length = 0;
    alarms.length = 0;

    store.failNext();
    nowMs += 100;
    runner.onAppStatus("host-1", { application: "sip-1", status: "failed", previous: "running", detail: "exit 1", pid: null, exitCode: 1, signal: null, time: at(), restart: null, lastOutput: "" });
    await settle();
    expect(sent.filter((c) => c.type === "set-role")).toEqual([]);
    expect(alarms.map((a) => `${a.type} ${a.kind}`)).toContain("raise-alarm application-failed");

    // The next steps save (the epoch, then the lost rows) and send the order.
    for (let i = 0; i < 5 && !sent.some((c) => c.type === "set-role"); i++) {
      nowMs += 600;
      runner.onAppStatus("host-1", { application: "sip-1", status: "failed", previous: "running", detail: "exit 1", pid: null, exitCode: 1, signal: null, time: at(), restart: null, lastOutput: "" });
      await settle();
    }
    expect(sent.filter((c) => c.type === "set-role").map((c) => `${c.application} ${"role" in c ? c.role : ""}`)).toContain("sip-2 primary");
    const rows = (await pairHistory(t.services.db, pairId, 100)).map((h) => h.text);
    expect(rows.filter((r) => /^sip-2 promoted to primary because sip-1.s process failed/.test(r)), rows.join("\n")).toHaveLength(1);
    await runner.stop();
  });

  it("maintenance is saved with the pair's runtime (who, why, since, until) and a new runner from the same database keeps it; a procedure's note is a timeline row", async () => {
    const nowMs = 2_000_000;
    const gateway = { hosts: () => [], sendCommand: () => new Promise<CommandResult>(() => {}), withdrawCommand: () => false } as unknown as AgentGateway;
    const first = new ControllerRunner({ db: t.services.db, gateway, now: () => nowMs, log: quietLogger });
    await first.start();
    const outcome = await first.operatorMaintenance(pairId, "alice", true, "patching host-2", nowMs + 3_600_000);
    expect(outcome.accepted).toBe(true);
    expect(outcome.sentence).toMatch(/^alice put pair-a in maintenance until .* \(reason: patching host-2\)/);
    expect((await first.operatorMaintenance(pairId, "bob", false, "", null)).accepted).toBe(true);
    expect(await first.operatorMaintenance(pairId, "bob", false, "", null)).toEqual({ accepted: false, sentence: "ending the maintenance of pair-a requested by bob refused: pair-a is not in maintenance" });
    await first.operatorMaintenance(pairId, "alice", true, "patching host-2", nowMs + 3_600_000);
    await first.note(pairId, "W14 upgrade of pair-a: a step");
    await first.stop();
    const row = await t.services.db.pairRuntime.findUniqueOrThrow({ where: { pairId } });
    expect(row).toMatchObject({ maintenanceBy: "alice", maintenanceReason: "patching host-2", maintenanceSince: new Date(nowMs), maintenanceUntil: new Date(nowMs + 3_600_000) });
    const history = await pairHistory(t.services.db, pairId, 10);
    expect(history[0]).toMatchObject({ kind: "procedure", text: "W14 upgrade of pair-a: a step" });

    const second = new ControllerRunner({ db: t.services.db, gateway, now: () => nowMs + 1_000, log: quietLogger });
    await second.start();
    expect(second.current!.pairStates[pairId]!.maintenance).toEqual({ by: "alice", reason: "patching host-2", sinceMs: nowMs, untilMs: nowMs + 3_600_000 });
    await second.operatorMaintenance(pairId, "alice", false, "", null);
    await second.stop();
    expect(await t.services.db.pairRuntime.findUniqueOrThrow({ where: { pairId } })).toMatchObject({ maintenanceBy: null, maintenanceSince: null, maintenanceUntil: null });
  });
  it("W2 the console's log tells the failover alone: the decision, each command, each result and each alarm on one line with the pair, its epoch and the reason", async () => {
    const lines: string[] = [];
    configureLogging({ level: "info", format: "text", write: (line) => lines.push(line) });
    try {
      let nowMs = 3_000_000;
      const sent: { host: string; c: GatewayCommand }[] = [];
      const gateway = {
        hosts: () => [],
        sendCommand: (host: string, c: GatewayCommand) => {
          sent.push({ host, c });
          return new Promise<CommandResult>(() => {});
        },
      } as unknown as AgentGateway;
      const runner = new ControllerRunner({ db: t.services.db, gateway, now: () => nowMs, log: logger("controller") });
      await runner.start();
      const at = () => new Date(nowMs).toISOString();
      const settle = () => runner.operatorSwitchover("no-such-pair", "test", false, "").catch(() => "");
      // Earlier tests in this file failed the pair over: report the roles the database says it has.
      const { epoch, intendedPrimaryAppId } = runner.current!.pairStates[pairId]!;
      const primaryIsSip1 = intendedPrimaryAppId !== backupAppId;
      const [primary, backup] = primaryIsSip1 ? (["sip-1", "sip-2"] as const) : (["sip-2", "sip-1"] as const);
      const hostOf = { "sip-1": "host-1", "sip-2": "host-2" } as const;
      for (const [app, role] of [[primary, "primary"], [backup, "backup"]] as const) {
        runner.onHostState({ hostName: hostOf[app], state: "connected" } as never);
        runner.onAppStatus(hostOf[app], { application: app, status: "running", previous: null, detail: "", pid: 1, exitCode: null, signal: null, time: at(), restart: null, lastOutput: "" });
        runner.onRoleReport(hostOf[app], { application: app, role, epoch, time: at() });
      }
      nowMs += 6_000; // past the recovery grace
      await settle();
      lines.length = 0;
      sent.length = 0;

      nowMs += 100;
      runner.onAppStatus(hostOf[primary], { application: primary, status: "failed", previous: "running", detail: "exit 1", pid: null, exitCode: 1, signal: null, time: at(), restart: null, lastOutput: "" });
      await settle();
      const promotion = sent.find((s) => s.c.type === "set-role");
      expect(promotion, lines.join("")).toBeDefined();
      const e = epoch + 1;
      const decision = `${backup} promoted to primary because ${primary}'s process failed (epoch ${e})`;
      // One line per event: the level, the part, the sentence, then the facts as JSON-encoded fields.
      const line = (pattern: string) => {
        const found = lines.filter((l) => l.includes(`] ${pattern}`));
        expect(found, `no log line with ${JSON.stringify(pattern)} in:\n${lines.join("")}`).toHaveLength(1);
        expect(found[0]!.endsWith("\n") && found[0]!.indexOf("\n") === found[0]!.length - 1).toBe(true);
        return found[0]!;
      };
      expect(line(decision)).toMatch(/ INFO +\[controller\] /);
      expect(line(decision)).toMatch(new RegExp(` pair="pair-a" epoch=${e}\\n$`));
      const setRole = line(`sent set-role ${backup} → primary (epoch ${e}) on ${hostOf[backup]}`);
      expect(setRole).toContain(`pair="pair-a" epoch=${e} host="${hostOf[backup]}" application="${backup}" command="${promotion!.c.id}" reason="${decision}`);
      // The backup's readiness was never reported here: the promotion also raises the double-failure alarm.
      expect(line(`alarm raised: ${decision}`)).toContain(`pair="pair-a" epoch=${e} kind="double-failure" reason="${decision}`);
      expect(line(`sent disable VIP on ${hostOf[primary]} (epoch ${e})`)).toContain(`pair="pair-a" epoch=${e} host="${hostOf[primary]}"`);
      expect(line(`alarm raised: ${primary}'s process failed`)).toMatch(/ WARN +\[controller\] /);
      expect(line(`alarm raised: ${primary}'s process failed`)).toContain(`pair="pair-a" epoch=${e} kind="application-failed" reason="${primary}'s process failed"`);

      // The host's answer is a line too, and so is the alarm's end.
      lines.length = 0;
      nowMs += 100;
      runner.onCommandResult(hostOf[backup], { commandId: promotion!.c.id, type: "set-role", application: backup, outcome: "ok", reason: "now primary", pairEpoch: e, finishedAt: at(), scripts: [], heldEpoch: null });
      await settle();
      expect(line(`set-role ${backup} → primary (epoch ${e}) on ${hostOf[backup]}: ok — now primary`)).toContain(`pair="pair-a" epoch=${e}`);
      runner.onAppStatus(hostOf[primary], { application: primary, status: "running", previous: "failed", detail: "", pid: 2, exitCode: null, signal: null, time: at(), restart: null, lastOutput: "" });
      await settle();
      expect(line("alarm cleared: application failed cleared for")).toContain(`pair="pair-a" epoch=${e} kind="application-failed"`);
      await runner.stop();
    } finally {
      configureLogging({ level: "silent", format: "text" });
    }
  });
});
