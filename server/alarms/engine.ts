// The alarm engine: log events from agents and alarm commands from the controller go through the pure
// matcher; its effects are persisted (alarms, audit) in one transaction per batch; the reaction
// dispatcher (dispatcher.ts) then runs the reactions in the background. Operations run one at a time
// (a promise queue) so the in-memory matcher and the database agree. Also keeps the log-event
// retention (pruned at start and hourly) and the auto-clear timer.
import type { Db, DbTx } from "../db";
import type { Env } from "../env";
import type { ConfigEvents } from "../config/config-events";
import { recordAudit, type Actor } from "../audit/audit.repository";
import { agentLogEventSchema, describeZodError } from "../../protocol/agent-wire";
import type { CancelAlarmCommand, RaiseAlarmCommand } from "../controller/types";
import type { ConsoleAlarmKind } from "../../protocol/vocabulary";
import type { RuntimeAlarm } from "../runtime/app-runtime";
import * as repo from "./alarms.repository";
import * as service from "./alarms.service";
import { builtInConditions } from "./defaults";
import { loadDirectory, type Directory } from "../config/directory";
import { AlarmMatcher, type ActiveAlarm, type MatchEffect, type Subject } from "./matcher";
import { ReactionDispatcher, type ReactionPorts } from "./dispatcher";
import type { ReactionDeps } from "./reactions";
import { logger, type Logger } from "../log";

/** Browsers are told at most this often that alarms changed (they refetch). */
export const ALARM_PUSH_INTERVAL_MS = 100;
export const AUTO_CLEAR_CHECK_INTERVAL_MS = 1_000;
export const LOG_PRUNE_INTERVAL_MS = 60 * 60 * 1000;

const engineActor: Actor = { id: null, name: "alarm engine" };

/** What the engine is built with (by the composition root, or a test). */
export interface AlarmEngineDeps {
  db: Db;
  /** Log events older than this are pruned (ALARM_LOG_RETENTION_DAYS). */
  retentionDays: number;
  /** What reactions act through: switchovers and OS commands (null parts: that reaction cannot run here). */
  ports: ReactionPorts;
  /** When given, the engine re-reads its application/host/pair directory after each configuration change. */
  configEvents?: ConfigEvents;
  /**
   * Several consoles on one database: whether this console leads (default: always). Only the leader's
   * engine runs the auto-clear and pruning timers, and its matcher is the one kept in step; another
   * console's engine reads the active alarms again before it records anything (its own view may be old).
   */
  leads?: () => boolean;
}

export interface AlarmEngineOptions {
  /** Injected clock (ms since epoch) for tests. */
  now?: () => number;
  /** Where the engine logs (default: the console's log, component "alarms"); tests pass a quiet one. */
  log?: Logger;
  /** Webhook fetch and retry delays, injectable for tests. */
  reactions?: Pick<ReactionDeps, "fetch" | "retryDelayMs">;
  maxReactionsInFlight?: number;
}

export interface IngestResult {
  stored: number;
  /** Events refused by validation, with the reason (they are not stored). */
  rejected: { index: number; reason: string }[];
  raised: number;
  repeated: number;
  cleared: number;
}

export interface AlarmEngine {
  /** Validates, stores and matches a batch of log events from a host's agent. */
  ingestLogEvents(hostName: string, events: readonly unknown[]): Promise<IngestResult>;
  /** Wire to the gateway: onLogEvents: (host, msg) => alarms.onLogEvents(host, msg). Fire and forget; errors are logged. */
  onLogEvents(hostName: string, msg: { events: readonly unknown[] }): void;
  /** Wire to the runner: onAlarm: (cmd) => alarms.onControllerAlarm(cmd). Fire and forget; errors are logged. */
  onControllerAlarm(command: RaiseAlarmCommand | CancelAlarmCommand): void;
  /** The same, awaitable. */
  controllerAlarm(command: RaiseAlarmCommand | CancelAlarmCommand): Promise<void>;
  /** An alarm about the console itself (its control plane stalled, many hosts silent at once). Fire and forget. */
  onConsoleAlarm(alarm: { raise: boolean; kind: ConsoleAlarmKind; text: string }): void;
  /**
   * Wire to the control plane: an application's delivery failed, its restart policy gave up, or the VIP
   * its host holds contradicts the controller (vip-mismatch; the subject is that server, its host and
   * pair) — or that ended. Fire and forget.
   */
  onApplicationAlarm(alarm: RuntimeAlarm): void;
  /** The same, awaitable. */
  applicationAlarm(alarm: RuntimeAlarm): Promise<void>;
  acknowledge(actor: Actor, alarmId: string, note: string): Promise<repo.AlarmView>;
  clear(actor: Actor, alarmId: string, comment: string): Promise<repo.AlarmView>;
  /** After conditions or reactions changed in the database. */
  conditionsChanged(): Promise<void>;
  /** Runs the auto-clear check now (the timer does it every second). Returns how many were cleared. */
  expireNow(): Promise<number>;
  /** Prunes log events past the retention now (done at start and hourly). */
  pruneNow(): Promise<number>;
  /** Resolves when queued work and running reactions are done (tests, shutdown). */
  idle(): Promise<void>;
  /** Called (coalesced, at most every ALARM_PUSH_INTERVAL_MS) after alarms changed; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  /**
   * Called after an operator changed alarms or their conditions through this engine (acknowledge, clear,
   * conditions or reactions edited): another console's engine must read them again (reload()).
   */
  onOperatorChange(listener: () => void): () => void;
  /** Reads the active alarms, conditions and reactions again (another console changed them; this console now leads). */
  reload(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}


/** Creates an alarm engine (the console builds one; `start()` arms its timers). */
export function createAlarmEngine(deps: AlarmEngineDeps, opts: AlarmEngineOptions = {}): AlarmEngine {
  return new Engine(deps, opts);
}

/** The test-only log event injection exists with NODE_ENV=test or SWITCHYARD_TEST_HOOKS=1 (set by playwright.config.ts). */
export function testHooksEnabled(env: Env): boolean {
  return env.NODE_ENV === "test" || process.env.SWITCHYARD_TEST_HOOKS === "1";
}

class Engine implements AlarmEngine {
  private readonly db: Db;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly retentionDays: number;
  private tail: Promise<unknown> = Promise.resolve();
  private loaded: Promise<void> | null = null;
  private matcher = new AlarmMatcher([]);
  private alarmIds = new Map<string, string>();
  private directory: Directory | null = null;
  private readonly dispatcher: ReactionDispatcher;
  private timers: NodeJS.Timeout[] = [];
  private pushTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private unsubscribeConfig: (() => void) | null = null;
  private readonly changeListeners = new Set<() => void>();
  private readonly operatorListeners = new Set<() => void>();
  private readonly leads: () => boolean;

  constructor(
    deps: AlarmEngineDeps,
    private readonly opts: AlarmEngineOptions,
  ) {
    this.db = deps.db;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? logger("alarms");
    this.retentionDays = deps.retentionDays;
    this.leads = deps.leads ?? (() => true);
    this.unsubscribeConfig =
      deps.configEvents?.subscribe(() => {
        this.directory = null;
        this.run(() => this.clearGoneSubjects()).catch((err: unknown) => this.log.error("clearing the alarms of deleted objects failed", { error: String(err) }));
      }) ?? null;
    this.dispatcher = new ReactionDispatcher({
      db: this.db,
      log: this.log,
      ports: deps.ports,
      fetch: opts.reactions?.fetch,
      retryDelayMs: opts.reactions?.retryDelayMs,
      maxInFlight: opts.maxReactionsInFlight,
      pairIdOf: async (pairName) => (await this.dir()).pairsByName.get(pairName)?.id ?? null,
      onRecorded: () => this.changed(),
    });
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  onOperatorChange(listener: () => void): () => void {
    this.operatorListeners.add(listener);
    return () => this.operatorListeners.delete(listener);
  }

  private operatorChanged(): void {
    for (const l of this.operatorListeners) l();
  }

  reload(): Promise<void> {
    return this.run(async () => {
      this.loaded = null;
      this.directory = null;
      await this.ready();
      this.changed();
    });
  }

  /** Ready, and — on a console that does not lead — with the active alarms read again (its matcher may be old). */
  private async current(): Promise<void> {
    if (!this.leads()) this.loaded = null;
    await this.ready();
  }

  async start(): Promise<void> {
    await this.run(() => this.ready());
    await this.pruneNow();
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(() => void fn().catch((err: unknown) => this.log.error("an alarm engine background task failed", { error: String(err) })), ms);
      t.unref();
      this.timers.push(t);
    };
    // The leader's alone: another console's matcher may be behind what the leader recorded since.
    every(AUTO_CLEAR_CHECK_INTERVAL_MS, () => (this.leads() ? this.expireNow() : Promise.resolve(0)));
    every(LOG_PRUNE_INTERVAL_MS, () => (this.leads() ? this.pruneNow() : Promise.resolve(0)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.pushTimer) clearTimeout(this.pushTimer);
    this.pushTimer = null;
    this.unsubscribeConfig?.();
    this.unsubscribeConfig = null;
    await this.idle();
  }

  async idle(): Promise<void> {
    // Reactions may record runs that queue nothing, but a run can finish while we wait: loop until quiet.
    for (;;) {
      await this.tail;
      if (!this.dispatcher.busy()) return;
      await this.dispatcher.settled();
    }
  }

  /** Serialises engine operations: the matcher and the database change together, one operation at a time. */
  private run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** Built-in conditions, conditions, reactions and active alarms, loaded once (again after a failed write). */
  private ready(): Promise<void> {
    this.loaded ??= (async () => {
      await this.ensureBuiltIns();
      const dir = await this.dir();
      const active: ActiveAlarm[] = [];
      this.alarmIds = new Map();
      for (const a of await repo.loadActiveForMatcher(this.db)) {
        const subject: Subject = { application: a.application, host: a.host, pair: a.pair, applicationType: dir.appsByName.get(a.application)?.type ?? null };
        active.push({ key: a.activeKey!, conditionId: a.conditionId, subject, source: a.source, count: a.count, firstSeenMs: a.firstSeen.getTime(), lastSeenMs: a.lastSeen.getTime() });
        this.alarmIds.set(a.activeKey!, a.id);
      }
      this.matcher = new AlarmMatcher([], active);
      await this.reloadConditions();
    })().catch((err: unknown) => {
      this.loaded = null;
      throw err;
    });
    return this.loaded;
  }

  private async ensureBuiltIns(): Promise<void> {
    const existing = await repo.listConditions(this.db);
    const have = new Set(existing.filter((c) => c.builtIn).map((c) => c.eventId ?? `kind:${c.controllerKind}`));
    for (const c of builtInConditions) {
      const key = c.eventId ?? `kind:${c.controllerKind}`;
      if (have.has(key)) continue;
      await this.db.$transaction(async (tx) => {
        const id = await repo.createCondition(tx, c, true);
        await recordAudit(tx, engineActor, { action: "alarm-condition.create", objectType: "alarm-condition", objectId: id, objectName: c.eventId ?? c.controllerKind ?? "", after: c, detail: "built-in condition created on first start" });
      });
    }
  }

  private async reloadConditions(): Promise<void> {
    const [conditions, reactions] = await Promise.all([repo.listConditions(this.db), repo.listReactions(this.db)]);
    this.matcher.setConditions(conditions);
    this.dispatcher.setReactions(reactions);
  }

  private async dir(): Promise<Directory> {
    this.directory ??= await loadDirectory(this.db);
    return this.directory;
  }

  // ---- inputs ---------------------------------------------------------------------------------

  ingestLogEvents(hostName: string, events: readonly unknown[]): Promise<IngestResult> {
    // Validated before queueing: malformed input is refused with a reason and never reaches the matcher.
    const rejected: IngestResult["rejected"] = [];
    const valid: { application: string; eventId: string; text: string; time: Date; level: string }[] = [];
    events.forEach((raw, index) => {
      const parsed = agentLogEventSchema.safeParse(raw);
      if (!parsed.success) rejected.push({ index, reason: describeZodError(parsed.error) });
      else valid.push({ application: parsed.data.application, eventId: parsed.data.id, text: parsed.data.text, time: new Date(parsed.data.time), level: parsed.data.level });
    });
    // Host name and reason may carry whatever the sender put in them: fields, never the sentence.
    if (rejected.length) this.log.warn("refused malformed log events", { host: hostName, refused: rejected.length, firstReason: rejected[0]!.reason });
    return this.run(async () => {
      await this.current();
      const result: IngestResult = { stored: valid.length, rejected, raised: 0, repeated: 0, cleared: 0 };
      if (!valid.length) return result;
      const nowMs = this.now();
      const receivedAt = new Date(nowMs);
      const dir = await this.dir();
      const effects: MatchEffect[] = [];
      for (const e of valid) {
        const app = dir.appsByName.get(e.application);
        // The host is the agent that forwarded it (what an operator sees), whatever the configuration says.
        const subject: Subject = { application: e.application, host: hostName, pair: app?.pairName ?? "", applicationType: app?.type ?? null };
        effects.push(...this.matcher.logEvent(e.eventId, subject, e.text, nowMs));
      }
      await this.persist(effects, (tx) => repo.insertLogEvents(tx, valid.map((e) => ({ ...e, host: hostName, receivedAt }))));
      for (const e of effects) {
        if (e.type === "raise") result.raised++;
        else if (e.type === "repeat") result.repeated++;
        else result.cleared++;
      }
      return result;
    });
  }

  onLogEvents(hostName: string, msg: { events: readonly unknown[] }): void {
    this.ingestLogEvents(hostName, msg.events).catch((err: unknown) => this.log.error("log events were not recorded", { host: hostName, error: String(err) }));
  }

  onControllerAlarm(command: RaiseAlarmCommand | CancelAlarmCommand): void {
    this.controllerAlarm(command).catch((err: unknown) => this.log.error("a controller alarm was not recorded", { kind: command.kind, error: String(err) }));
  }

  controllerAlarm(c: RaiseAlarmCommand | CancelAlarmCommand): Promise<void> {
    return this.run(async () => {
      await this.current();
      let dir = await this.dir();
      const known = (d: Directory) => (!c.appId || d.appsById.has(c.appId)) && (!c.hostId || d.hostsById.has(c.hostId)) && d.pairsById.has(c.pairId);
      if (!known(dir)) {
        // The controller knows of objects this directory does not (a change it heard of first): read it again.
        this.directory = null;
        dir = await this.dir();
      }
      const app = c.appId ? dir.appsById.get(c.appId) : undefined;
      // Never an empty subject for what the controller named: alarms of different servers would merge into one.
      const subject: Subject = {
        application: app?.name ?? c.appId ?? "",
        host: (c.hostId ? (dir.hostsById.get(c.hostId)?.name ?? c.hostId) : undefined) ?? app?.hostName ?? "",
        pair: dir.pairsById.get(c.pairId)?.name ?? c.pairId,
        applicationType: app?.type ?? null,
      };
      const nowMs = this.now();
      const effects = c.type === "raise-alarm" ? this.matcher.controllerRaise(c.kind, subject, c.text, nowMs) : this.matcher.controllerCancel(c.kind, subject, c.text, nowMs);
      await this.persist(effects);
    });
  }

  onConsoleAlarm(alarm: { raise: boolean; kind: ConsoleAlarmKind; text: string }): void {
    // About no application, host or pair: the console's own condition.
    const subject: Subject = { application: "", host: "", pair: "", applicationType: null };
    this.kindAlarm(alarm.raise, alarm.kind, async () => subject, alarm.text).catch((err: unknown) => this.log.error("a console alarm was not recorded", { kind: alarm.kind, error: String(err) }));
  }

  onApplicationAlarm(alarm: RuntimeAlarm): void {
    this.applicationAlarm(alarm).catch((err: unknown) => this.log.error("an application alarm was not recorded", { kind: alarm.kind, application: alarm.application, error: String(err) }));
  }

  applicationAlarm(a: RuntimeAlarm): Promise<void> {
    return this.kindAlarm(a.raise, a.kind, async () => {
      const app = (await this.dir()).appsByName.get(a.application);
      // The host is the agent that reported it, as for log events.
      return { application: a.application, host: a.hostName, pair: app?.pairName ?? "", applicationType: app?.type ?? null };
    }, a.text);
  }

  /** Raises or cancels an alarm of a kind (not a log event) about a subject. */
  private kindAlarm(raise: boolean, kind: string, subjectOf: () => Promise<Subject>, text: string): Promise<void> {
    return this.run(async () => {
      await this.current();
      const subject = await subjectOf();
      const nowMs = this.now();
      await this.persist(raise ? this.matcher.controllerRaise(kind, subject, text, nowMs) : this.matcher.controllerCancel(kind, subject, text, nowMs));
    });
  }

  /** After a configuration change: alarms about an application, host or pair that no longer exists are cleared. */
  private async clearGoneSubjects(): Promise<void> {
    if (this.stopped) return;
    await this.ready();
    const dir = await this.dir();
    // What an alarm is about is what its key names (matcher.ts alarmKey): the application, else the host, else the pair.
    const gone = (s: Subject): string | null => {
      if (s.application) return dir.appsByName.has(s.application) ? null : `cleared: application ${s.application} is no longer in the configuration`;
      if (s.host) return dir.hostsByName.has(s.host) ? null : `cleared: host ${s.host} is no longer in the configuration`;
      if (s.pair) return dir.pairsByName.has(s.pair) ? null : `cleared: pair ${s.pair} is no longer in the configuration`;
      return null;
    };
    await this.persist(this.matcher.subjectsGone(gone, this.now()));
  }

  acknowledge(actor: Actor, alarmId: string, note: string): Promise<repo.AlarmView> {
    return this.run(async () => {
      const alarm = await service.acknowledgeAlarm(this.db, actor, alarmId, note, new Date(this.now()));
      this.changed();
      this.operatorChanged();
      return alarm;
    });
  }

  clear(actor: Actor, alarmId: string, comment: string): Promise<repo.AlarmView> {
    return this.run(async () => {
      await this.current();
      const before = await service.clearAlarm(this.db, actor, alarmId, "manual", comment, new Date(this.now()));
      if (before.activeKey) {
        this.matcher.forget(before.activeKey);
        this.alarmIds.delete(before.activeKey);
      }
      this.dispatcher.fire(before.id, before.conditionId, "clear");
      this.changed();
      this.operatorChanged();
      return before;
    });
  }

  conditionsChanged(): Promise<void> {
    return this.run(async () => {
      await this.ready();
      await this.reloadConditions();
      this.operatorChanged();
    });
  }

  expireNow(): Promise<number> {
    return this.run(async () => {
      await this.ready();
      const effects = this.matcher.expire(this.now());
      await this.persist(effects);
      return effects.length;
    });
  }

  pruneNow(): Promise<number> {
    return this.run(async () => {
      const before = new Date(this.now() - this.retentionDays * 24 * 3600 * 1000);
      const pruned = await repo.pruneLogEvents(this.db, before);
      if (pruned) this.log.info("pruned log events past their retention", { pruned, receivedBefore: before.toISOString(), retentionDays: this.retentionDays });
      return pruned;
    });
  }

  // ---- effects --------------------------------------------------------------------------------

  /** Writes the matcher's effects (and `also`) in one transaction; on failure reloads the matcher from the database. */
  private async persist(effects: MatchEffect[], also?: (tx: DbTx) => Promise<void>): Promise<void> {
    if (!effects.length && !also) return;
    const fired: { alarmId: string; conditionId: string; trigger: "raise" | "clear" }[] = [];
    const created = new Map<string, string>();
    const removed = new Set<string>();
    // The console's log tells every alarm raised and cleared (once saved), beside the controller's decisions.
    const told: { level: "warn" | "info"; msg: string; fields: Record<string, unknown> }[] = [];
    try {
      await this.db.$transaction(async (tx) => {
        if (also) await also(tx);
        // Only the last repeat of a key before its next raise/clear needs writing (it carries the count).
        const repeats = new Map<string, Extract<MatchEffect, { type: "repeat" }>>();
        const flush = async (key?: string) => {
          for (const [k, r] of repeats) {
            if (key !== undefined && k !== key) continue;
            await repo.updateActiveAlarm(tx, k, r.count, new Date(r.atMs), r.text);
            repeats.delete(k);
          }
        };
        for (const e of effects) {
          if (e.type === "repeat") {
            repeats.set(e.key, e);
            continue;
          }
          await flush(e.key);
          if (e.type === "raise") {
            const id = await repo.createAlarm(tx, {
              conditionId: e.condition.id,
              severity: e.condition.severity,
              source: e.source,
              application: e.subject.application,
              host: e.subject.host,
              pair: e.subject.pair,
              activeKey: e.key,
              at: new Date(e.atMs),
              text: e.text,
            });
            created.set(e.key, id);
            removed.delete(e.key);
            await recordAudit(tx, engineActor, { action: "alarm.raise", objectType: "alarm", objectId: id, objectName: `${e.source} on ${e.subject.application || e.subject.host || e.subject.pair}`, after: { severity: e.condition.severity, text: e.text }, detail: e.condition.description });
            fired.push({ alarmId: id, conditionId: e.condition.id, trigger: "raise" });
            told.push({ level: "warn", msg: `alarm raised: ${e.text}`, fields: { source: e.source, severity: e.condition.severity, application: e.subject.application || null, host: e.subject.host || null, pair: e.subject.pair || null, alarm: id } });
          } else {
            const id = created.get(e.key) ?? this.alarmIds.get(e.key) ?? (await repo.findActiveAlarmByKey(tx, e.key))?.id;
            if (!id) continue; // already cleared by hand in the meantime
            await repo.markCleared(tx, id, e.how, engineActor.name, new Date(e.atMs), e.text);
            await recordAudit(tx, engineActor, { action: `alarm.${e.how}`, objectType: "alarm", objectId: id, objectName: e.key, after: { state: "cleared", how: e.how }, detail: e.text });
            created.delete(e.key);
            removed.add(e.key);
            fired.push({ alarmId: id, conditionId: e.conditionId, trigger: "clear" });
            told.push({ level: "info", msg: `alarm cleared (${e.how}): ${e.text}`, fields: { ...keyFields(e.key), source: this.matcher.condition(e.conditionId)?.eventId ?? this.matcher.condition(e.conditionId)?.controllerKind ?? null, alarm: id } });
          }
        }
        await flush();
      });
    } catch (err) {
      // The matcher already moved on; make it forget and re-read the truth on the next operation.
      this.loaded = null;
      this.directory = null;
      throw err;
    }
    for (const key of removed) this.alarmIds.delete(key);
    for (const [key, id] of created) this.alarmIds.set(key, id);
    for (const t of told) this.log[t.level](t.msg, t.fields);
    for (const f of fired) this.dispatcher.fire(f.alarmId, f.conditionId, f.trigger);
    if (effects.length) this.changed();
  }

  private changed(): void {
    if (this.changeListeners.size === 0 || this.stopped) return;
    this.pushTimer ??= setTimeout(() => {
      this.pushTimer = null;
      try {
        for (const l of this.changeListeners) l();
      } catch (err) {
        this.log.error("an alarm change listener threw", { error: String(err) });
      }
    }, ALARM_PUSH_INTERVAL_MS);
  }
}

/** Who an active alarm's key names (alarmKey: "<condition>|a:<application>", "|h:<host>" or "|p:<pair>"), for the log. */
function keyFields(key: string): Record<string, string> {
  const who = key.slice(key.indexOf("|") + 1);
  const name = who.slice(2);
  return who.startsWith("a:") ? { application: name } : who.startsWith("h:") ? { host: name } : { pair: name };
}
