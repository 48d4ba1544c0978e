// Scheduled switchovers (issue 14.3): an operator plans a switchover of a pair for a given time; at that
// time it is asked of the controller like an operator's unforced switchover — so it happens only if both
// servers are ready then (the core's W12 gate, the one the simulation checks) — or it is skipped, with
// the controller's reason, a `scheduled-switchover-skipped` alarm (whose reactions notify people) and a
// timeline row. Pending ones can be cancelled; every change is audited. A timer in the web tier fires
// them: the decision is the controller's, the timer only knows the time.
import type { Db } from "../db";
import { AppError, notFound } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.repository";
import type { ControlPlane } from "../control-plane/control-plane";
import type { OperationsService } from "../runtime/operations.service";
import type { AlarmEngine } from "../alarms/engine";
import { DESCRIPTION_MAX_CHARS } from "../../protocol/limits";
import { logger, type Logger } from "../log";

/** How often due switchovers are looked for. */
export const SCHEDULE_CHECK_INTERVAL_MS = 1_000;
/** A switchover found due later than this after its time (the console was not running) is skipped, not carried out late. */
export const SCHEDULE_MISSED_AFTER_MS = 5 * 60_000;
/** At least this far ahead, so the operator can still cancel it; at most a year ahead. */
export const SCHEDULE_MIN_LEAD_MS = 10_000;
export const SCHEDULE_MAX_LEAD_MS = 366 * 24 * 3600_000;
/** Pending switchovers per pair at most. */
export const SCHEDULES_PER_PAIR_MAX = 20;
/** Schedules of a pair shown on its page. */
export const SCHEDULES_SHOWN = 30;

export type ScheduleStatus = "pending" | "firing" | "done" | "skipped" | "cancelled";

export interface ScheduleView {
  id: string;
  pairId: string;
  at: Date;
  status: string;
  reason: string;
  createdBy: string;
  createdAt: Date;
  outcome: string;
  finishedAt: Date | null;
}

/** What to do with a pending switchover now: wait for its time, skip it (why), or ask the controller. */
export function scheduleVerdict(atMs: number, nowMs: number, upgradeInProgress: string | null): "wait" | "fire" | { skip: string } {
  if (nowMs < atMs) return "wait";
  if (nowMs - atMs > SCHEDULE_MISSED_AFTER_MS) return { skip: `missed: the console was not running at ${new Date(atMs).toISOString()} (found due ${Math.round((nowMs - atMs) / 60_000)} min late); not carried out late` };
  if (upgradeInProgress) return { skip: `a W14 upgrade of the pair is in progress (${upgradeInProgress}); it switches the pair itself` };
  return "fire";
}

export interface ScheduleServiceDeps {
  db: Db;
  controlPlane: ControlPlane;
  operations: OperationsService;
  alarms: AlarmEngine;
  /** The active upgrade of a pair, if any, in words (a scheduled switchover would cut through it). */
  upgradeOf: (pairId: string) => string | null;
  now?: () => number;
  log?: Logger;
}

export class ScheduleService {
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> | null = null;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly deps: ScheduleServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.log ?? logger("schedule");
  }

  /** Skips what a previous console was carrying out when it stopped (never twice), then checks every second. */
  async start(): Promise<void> {
    for (const s of await this.deps.db.scheduledSwitchover.findMany({ where: { status: "firing" }, select: scheduleSelect })) {
      await this.finish(s, "skipped", "the console stopped while it was being carried out: see the pair's timeline for whether the switchover was ordered");
    }
    this.timer = setInterval(() => void this.checkNow().catch((err: unknown) => this.log.error("checking scheduled switchovers failed", { error: String(err) })), SCHEDULE_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  /** Called after something changed that browsers show (they refetch it and the pair's timeline); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.busy;
  }

  async list(pairId: string): Promise<ScheduleView[]> {
    return this.deps.db.scheduledSwitchover.findMany({ where: { pairId }, orderBy: [{ at: "desc" }], take: SCHEDULES_SHOWN, select: scheduleSelect });
  }

  async create(actor: Actor, pairId: string, input: { at: Date; reason: string }): Promise<ScheduleView> {
    const pair = await this.deps.db.haPair.findUnique({ where: { id: pairId }, select: { name: true } });
    if (!pair) throw notFound(`pair ${pairId}`);
    const nowMs = this.now();
    const atMs = input.at.getTime();
    if (Number.isNaN(atMs)) throw new AppError("INVALID", "at: is not a time");
    if (atMs < nowMs + SCHEDULE_MIN_LEAD_MS) throw new AppError("INVALID", `at: ${input.at.toISOString()} is less than ${SCHEDULE_MIN_LEAD_MS / 1000} s ahead; switch over now instead`);
    if (atMs > nowMs + SCHEDULE_MAX_LEAD_MS) throw new AppError("INVALID", `at: ${input.at.toISOString()} is more than a year ahead`);
    const reason = input.reason.trim();
    if (reason.length > DESCRIPTION_MAX_CHARS) throw new AppError("INVALID", `reason: is ${reason.length} characters long; at most ${DESCRIPTION_MAX_CHARS} are allowed`);
    const pending = await this.deps.db.scheduledSwitchover.count({ where: { pairId, status: "pending" } });
    if (pending >= SCHEDULES_PER_PAIR_MAX) throw new AppError("CONFLICT", `${pair.name} already has ${pending} scheduled switchovers pending (at most ${SCHEDULES_PER_PAIR_MAX}); cancel one first`);
    const created = await this.deps.db.$transaction(async (tx) => {
      const row = await tx.scheduledSwitchover.create({ data: { pairId, at: input.at, reason, createdBy: actor.name }, select: scheduleSelect });
      await recordAudit(tx, actor, { action: "pair.switchover-scheduled", objectType: "pair", objectId: pairId, objectName: pair.name, after: { at: input.at.toISOString(), reason }, detail: `schedule ${row.id}` });
      return row;
    });
    await this.note(pairId, `${actor.name} scheduled a switchover of ${pair.name} for ${input.at.toISOString()}${reason ? ` (${reason})` : ""}: it happens then only if both servers are ready, else it is skipped with an alarm`);
    return created;
  }

  async cancel(actor: Actor, id: string): Promise<ScheduleView> {
    const s = await this.deps.db.scheduledSwitchover.findUnique({ where: { id }, select: { ...scheduleSelect, pair: { select: { name: true } } } });
    if (!s) throw notFound(`scheduled switchover ${id}`);
    if (s.status !== "pending") throw new AppError("CONFLICT", `the switchover of ${s.pair.name} scheduled for ${s.at.toISOString()} is ${s.status}${s.outcome ? ` (${s.outcome})` : ""}: it can no longer be cancelled`);
    const outcome = `cancelled by ${actor.name}`;
    const updated = await this.deps.db.$transaction(async (tx) => {
      const changed = await tx.scheduledSwitchover.updateMany({ where: { id, status: "pending" }, data: { status: "cancelled", outcome, finishedAt: new Date(this.now()) } });
      if (changed.count === 0) throw new AppError("CONFLICT", `the switchover of ${s.pair.name} scheduled for ${s.at.toISOString()} is being carried out now: it can no longer be cancelled`);
      await recordAudit(tx, actor, { action: "pair.switchover-schedule-cancel", objectType: "pair", objectId: s.pairId, objectName: s.pair.name, before: { at: s.at.toISOString(), reason: s.reason }, detail: `schedule ${id}` });
      return tx.scheduledSwitchover.findUniqueOrThrow({ where: { id }, select: scheduleSelect });
    });
    await this.note(s.pairId, `${actor.name} cancelled the switchover of ${s.pair.name} scheduled for ${s.at.toISOString()}`);
    return updated;
  }

  /** Carries out (or skips) every switchover due now; the timer calls it every second, tests call it directly. */
  checkNow(): Promise<void> {
    this.busy ??= this.fireDue().finally(() => (this.busy = null));
    return this.busy;
  }

  private async fireDue(): Promise<void> {
    const nowMs = this.now();
    const due = await this.deps.db.scheduledSwitchover.findMany({ where: { status: "pending", at: { lte: new Date(nowMs) } }, orderBy: { at: "asc" }, select: scheduleSelect });
    for (const s of due) {
      // Claimed first: a console that stops half way through never carries it out twice.
      const claimed = await this.deps.db.scheduledSwitchover.updateMany({ where: { id: s.id, status: "pending" }, data: { status: "firing" } });
      if (claimed.count === 0) continue;
      const verdict = scheduleVerdict(s.at.getTime(), nowMs, this.deps.upgradeOf(s.pairId));
      if (verdict === "wait") {
        await this.deps.db.scheduledSwitchover.update({ where: { id: s.id }, data: { status: "pending" } });
        continue;
      }
      if (verdict !== "fire") {
        await this.finish(s, "skipped", verdict.skip);
        continue;
      }
      const actor: Actor = { id: null, name: `scheduled switchover by ${s.createdBy}` };
      try {
        const outcome = await this.deps.operations.switchOverOutcome(actor, s.pairId, { force: false, reason: s.reason || `scheduled for ${s.at.toISOString()}` });
        if (outcome.ordered) await this.finish(s, "done", outcome.sentence);
        else await this.finish(s, "skipped", `the controller did not switch over: ${outcome.sentence}`);
      } catch (err) {
        await this.finish(s, "skipped", `the switchover could not be asked for: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  private async finish(s: ScheduleView, status: "done" | "skipped", outcome: string): Promise<void> {
    const pair = await this.deps.db.haPair.findUnique({ where: { id: s.pairId }, select: { name: true } });
    const pairName = pair?.name ?? s.pairId;
    await this.deps.db.$transaction(async (tx) => {
      await tx.scheduledSwitchover.update({ where: { id: s.id }, data: { status, outcome, finishedAt: new Date(this.now()) } });
      await recordAudit(tx, { id: null, name: `scheduled switchover by ${s.createdBy}` }, { action: `pair.switchover-schedule-${status}`, objectType: "pair", objectId: s.pairId, objectName: pairName, detail: `schedule ${s.id} for ${s.at.toISOString()}: ${outcome}` });
    });
    const text = `the switchover of ${pairName} scheduled by ${s.createdBy} for ${s.at.toISOString()} ${status === "done" ? "was ordered" : "was skipped"}: ${outcome}`;
    await this.note(s.pairId, text);
    if (status === "skipped") {
      await this.deps.alarms.controllerAlarm({ type: "raise-alarm", kind: "scheduled-switchover-skipped", pairId: s.pairId, text }).catch((err: unknown) => this.log.error("the skipped-switchover alarm was not recorded", { pair: pairName, error: String(err) }));
    }
  }

  private async note(pairId: string, text: string): Promise<void> {
    await this.deps.controlPlane.note(pairId, text).catch((err: unknown) => this.log.warn("a timeline row of a scheduled switchover was not written", { error: String(err) }));
    for (const l of this.listeners) l();
  }
}

const scheduleSelect = { id: true, pairId: true, at: true, status: true, reason: true, createdBy: true, createdAt: true, outcome: true, finishedAt: true } as const;
