// Scheduled switchovers through the real procedures and a real SQLite file (a console without a
// controller: what is due is skipped, saying why): planning is bounded and audited, cancelling works
// once, and a skipped one raises its alarm and says why; when to fire is a pure verdict.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIpTakeoverPair, createTestConsole, type TestConsole } from "../test-support";
import { SCHEDULE_MISSED_AFTER_MS, scheduleVerdict } from "./schedule.service";

let t: TestConsole;
let pairId: string;

beforeAll(async () => {
  t = await createTestConsole();
  ({ pairId } = await createIpTakeoverPair(t));
  await t.services.alarms.start();
});

afterAll(async () => {
  await t?.services.alarms.stop();
  await t?.close();
});

describe("scheduled switchovers", () => {
  it("when to fire: not before its time; skipped when found due more than 5 minutes late or while a W14 upgrade runs", () => {
    expect(scheduleVerdict(10_000, 9_999, null)).toBe("wait");
    expect(scheduleVerdict(10_000, 10_000, null)).toBe("fire");
    expect(scheduleVerdict(10_000, 10_000 + SCHEDULE_MISSED_AFTER_MS + 1, null)).toEqual({ skip: expect.stringMatching(/^missed: the console was not running at 1970-01-01T00:00:10.000Z \(found due 5 min late\); not carried out late$/) });
    expect(scheduleVerdict(10_000, 10_500, "running, started by alice")).toEqual({ skip: "a W14 upgrade of the pair is in progress (running, started by alice); it switches the pair itself" });
  });

  it("an operator plans one (at least 10 s ahead), a viewer cannot; it is listed, cancelled once, and audited", async () => {
    const operator = t.callerAs("operator");
    await expect(t.callerAs("viewer").schedules.create({ pairId, at: new Date(Date.now() + 60_000) })).rejects.toThrow(/this needs the operator role/);
    await expect(operator.schedules.create({ pairId, at: new Date(Date.now() + 1_000) })).rejects.toThrow(/is less than 10 s ahead; switch over now instead/);
    await expect(operator.schedules.create({ pairId, at: new Date(Date.now() + 400 * 24 * 3600_000) })).rejects.toThrow(/is more than a year ahead/);
    await expect(operator.schedules.create({ pairId: "nope", at: new Date(Date.now() + 60_000) })).rejects.toThrow(/pair nope does not exist/);
    const s = await operator.schedules.create({ pairId, at: new Date(Date.now() + 60_000), reason: "night window" });
    expect(s).toMatchObject({ status: "pending", reason: "night window", createdBy: "operator1" });
    expect((await t.callerAs("viewer").schedules.list({ pairId })).map((x) => x.id)).toEqual([s.id]);
    const cancelled = await operator.schedules.cancel({ id: s.id });
    expect(cancelled).toMatchObject({ status: "cancelled", outcome: "cancelled by operator1" });
    await expect(operator.schedules.cancel({ id: s.id })).rejects.toThrow(/is cancelled \(cancelled by operator1\): it can no longer be cancelled/);
    const audit = await t.services.db.auditEntry.findMany({ where: { action: { startsWith: "pair.switchover-schedule" } }, select: { action: true, actorName: true } });
    expect(audit).toEqual([
      { action: "pair.switchover-scheduled", actorName: "operator1" },
      { action: "pair.switchover-schedule-cancel", actorName: "operator1" },
    ]);
  });

  it("one due when the switchover cannot be asked for is skipped, says why, and raises scheduled-switchover-skipped", async () => {
    const due = await t.services.db.scheduledSwitchover.create({ data: { pairId, at: new Date(Date.now() - 1_000), createdBy: "alice" } });
    await t.services.schedules.checkNow();
    const after = await t.services.db.scheduledSwitchover.findUniqueOrThrow({ where: { id: due.id } });
    expect(after.status).toBe("skipped");
    expect(after.outcome).toBe("the switchover could not be asked for: the controller is not running on this console (SWITCHYARD_CONTROLLER=false)");
    await t.services.alarms.idle();
    const alarm = await t.services.db.alarm.findFirstOrThrow({ where: { source: "scheduled-switchover-skipped" } });
    expect(alarm).toMatchObject({ pair: "pair-a", state: "active", severity: "major" });
    expect(alarm.lastText).toMatch(/^the switchover of pair-a scheduled by alice for .* was skipped: the switchover could not be asked for/);
    // Nothing fires twice.
    await t.services.schedules.checkNow();
    expect(await t.services.db.scheduledSwitchover.count({ where: { status: "skipped" } })).toBe(1);
  });
});
