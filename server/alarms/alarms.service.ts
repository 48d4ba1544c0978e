// The alarm slice's rules for people's actions: condition and reaction CRUD (admin), acknowledge and
// clear by hand (operator). Each change and its audit entry commit in one transaction. The engine
// (engine.ts) calls these so its in-memory matcher stays in step with the database.
import type { Db } from "../db";
import { conflict, invalid, notFound } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.repository";
import * as repo from "./alarms.repository";
import type { ConditionInput, ReactionInput } from "./alarms.schema";
import { settingsProblem } from "./reactions";
import { reactionSettingsSchemas, severities, type Severity } from "./alarms.schema";

export interface ActiveAlarmCounts {
  total: number;
  unacknowledged: number;
  critical: number;
  major: number;
  minor: number;
}

/** Active alarms per severity and how many of them nobody acknowledged (the header badge, the CLI, /metrics). */
export async function activeAlarmCounts(db: Db): Promise<ActiveAlarmCounts> {
  const groups = await repo.activeAlarmCounts(db);
  const out: ActiveAlarmCounts = { total: 0, unacknowledged: 0, critical: 0, major: 0, minor: 0 };
  for (const g of groups) {
    out.total += g.count;
    if (!g.acknowledged) out.unacknowledged += g.count;
    if ((severities as readonly string[]).includes(g.severity)) out[g.severity as Severity] += g.count;
  }
  return out;
}

function conditionName(c: { eventId: string | null; controllerKind: string | null }): string {
  return c.eventId ?? c.controllerKind ?? "?";
}

function conditionProblems(input: ConditionInput): void {
  if ((input.eventId === null) === (input.controllerKind === null)) {
    throw invalid("an alarm condition needs exactly one of a log event id (e.g. 00-04200) or a controller alarm kind");
  }
  if (input.cancelEventId !== null && input.cancelEventId === input.eventId) {
    throw invalid(`cancel event ${input.cancelEventId} is the event that raises the alarm; a cancel event must be a different id`);
  }
  if (input.cancelEventId !== null && input.controllerKind !== null) {
    throw invalid(`controller alarm ${input.controllerKind} is cancelled by the controller; it takes no cancel event id`);
  }
  if (input.cancelControllerKind !== null && input.controllerKind !== null) {
    throw invalid(`controller alarm ${input.controllerKind} is cancelled by the controller already; "cleared when the controller sees" is for log-event alarms`);
  }
  if (input.scopeKind === "all" && input.scopeValues.length > 0) throw invalid(`scope "all" takes no values (got ${input.scopeValues.join(", ")})`);
  if (input.scopeKind !== "all" && input.scopeValues.length === 0) throw invalid(`scope "${input.scopeKind}" needs at least one value`);
}

export async function createCondition(db: Db, actor: Actor, input: ConditionInput): Promise<string> {
  conditionProblems(input);
  return db.$transaction(async (tx) => {
    const id = await repo.createCondition(tx, input);
    await recordAudit(tx, actor, { action: "alarm-condition.create", objectType: "alarm-condition", objectId: id, objectName: conditionName(input), after: input });
    return id;
  });
}

export async function updateCondition(db: Db, actor: Actor, id: string, input: ConditionInput): Promise<void> {
  conditionProblems(input);
  await db.$transaction(async (tx) => {
    const before = await repo.findCondition(tx, id);
    if (!before) throw notFound(`alarm condition ${id}`);
    if (before.builtIn && (before.eventId !== input.eventId || before.controllerKind !== input.controllerKind)) {
      throw invalid(`built-in condition ${conditionName(before)} keeps its event id / controller kind; create a new condition instead`);
    }
    await repo.updateCondition(tx, id, input);
    await recordAudit(tx, actor, { action: "alarm-condition.update", objectType: "alarm-condition", objectId: id, objectName: conditionName(input), before, after: input });
  });
}

export async function deleteCondition(db: Db, actor: Actor, id: string): Promise<void> {
  await db.$transaction(async (tx) => {
    const before = await repo.findCondition(tx, id);
    if (!before) throw notFound(`alarm condition ${id}`);
    if (before.builtIn) throw conflict(`condition ${conditionName(before)} is built in and cannot be deleted; disable it instead`);
    const alarms = await repo.countAlarmsOfCondition(tx, id);
    if (alarms > 0) throw conflict(`condition ${conditionName(before)} has ${alarms} alarm(s) in its history; disable it instead of deleting it`);
    await repo.deleteCondition(tx, id);
    await recordAudit(tx, actor, { action: "alarm-condition.delete", objectType: "alarm-condition", objectId: id, objectName: conditionName(before), before });
  });
}

function checkedSettings(input: ReactionInput): Record<string, unknown> {
  const problem = settingsProblem(input.kind, input.settings);
  if (problem) throw invalid(problem, [{ path: "settings", message: problem }]);
  // Store the parsed form, defaults filled in, so what the engine runs is what the editor shows.
  return reactionSettingsSchemas[input.kind].parse(input.settings) as Record<string, unknown>;
}

export async function createReaction(db: Db, actor: Actor, input: ReactionInput): Promise<string> {
  const settings = checkedSettings(input);
  return db.$transaction(async (tx) => {
    const condition = await repo.findCondition(tx, input.conditionId);
    if (!condition) throw notFound(`alarm condition ${input.conditionId}`);
    const id = await repo.createReaction(tx, { ...input, settings });
    await recordAudit(tx, actor, { action: "alarm-reaction.create", objectType: "alarm-reaction", objectId: id, objectName: `${input.kind} on ${conditionName(condition)}`, after: { ...input, settings } });
    return id;
  });
}

export async function updateReaction(db: Db, actor: Actor, id: string, input: ReactionInput): Promise<void> {
  const settings = checkedSettings(input);
  await db.$transaction(async (tx) => {
    const before = await repo.findReaction(tx, id);
    if (!before) throw notFound(`alarm reaction ${id}`);
    const condition = await repo.findCondition(tx, input.conditionId);
    if (!condition) throw notFound(`alarm condition ${input.conditionId}`);
    await repo.updateReaction(tx, id, { ...input, settings });
    await recordAudit(tx, actor, { action: "alarm-reaction.update", objectType: "alarm-reaction", objectId: id, objectName: `${input.kind} on ${conditionName(condition)}`, before, after: { ...input, settings } });
  });
}

export async function deleteReaction(db: Db, actor: Actor, id: string): Promise<void> {
  await db.$transaction(async (tx) => {
    const before = await repo.findReaction(tx, id);
    if (!before) throw notFound(`alarm reaction ${id}`);
    await repo.deleteReaction(tx, id);
    await recordAudit(tx, actor, { action: "alarm-reaction.delete", objectType: "alarm-reaction", objectId: id, objectName: before.kind, before });
  });
}

function alarmName(a: Pick<repo.AlarmView, "source" | "application" | "host" | "pair">): string {
  return `${a.source} on ${a.application || a.host || a.pair || "the console"}`;
}

/** "I'm on it": the alarm stays active, with who, when and the note. Acknowledging again hands it over. */
export async function acknowledgeAlarm(db: Db, actor: Actor, id: string, note: string, at: Date): Promise<repo.AlarmView> {
  return db.$transaction(async (tx) => {
    const alarm = await repo.findAlarm(tx, id);
    if (!alarm) throw notFound(`alarm ${id}`);
    if (alarm.state !== "active") throw conflict(`alarm ${alarmName(alarm)} is already cleared (by ${alarm.clearedBy ?? "?"}); only active alarms can be acknowledged`);
    await repo.markAcknowledged(tx, id, actor.name, at, note);
    await recordAudit(tx, actor, {
      action: "alarm.acknowledge",
      objectType: "alarm",
      objectId: id,
      objectName: alarmName(alarm),
      before: { acknowledgedBy: alarm.acknowledgedBy, acknowledgeNote: alarm.acknowledgeNote },
      after: { acknowledgedBy: actor.name, acknowledgeNote: note },
      detail: note,
    });
    return alarm;
  });
}

/** Clears an active alarm (by hand, or automatically by the engine with `how`). Returns it as it was before. */
export async function clearAlarm(db: Db, actor: Actor, id: string, how: "manual" | "cancel-event" | "auto-clear", comment: string, at: Date): Promise<repo.AlarmView> {
  return db.$transaction(async (tx) => {
    const alarm = await repo.findAlarm(tx, id);
    if (!alarm) throw notFound(`alarm ${id}`);
    if (alarm.state !== "active") {
      throw conflict(`alarm ${alarmName(alarm)} was already cleared by ${alarm.clearedBy ?? "?"} at ${alarm.clearedAt?.toISOString() ?? "?"}`);
    }
    await repo.markCleared(tx, id, how, actor.name, at, comment);
    await recordAudit(tx, actor, {
      action: how === "manual" ? "alarm.clear" : `alarm.${how}`,
      objectType: "alarm",
      objectId: id,
      objectName: alarmName(alarm),
      before: { state: "active", count: alarm.count },
      after: { state: "cleared", how },
      detail: comment,
    });
    return alarm;
  });
}
