// The pure alarm matcher: conditions indexed by event id (and controller kind) in memory, scope
// matching, cancel events, auto-clear and repeat counting. No I/O and no clock: time arrives as
// `atMs` / `nowMs`; effects come back as data for the engine to persist and react to.
import type { ScopeKind, Severity } from "./alarms.schema";

export interface MatchCondition {
  id: string;
  eventId: string | null;
  controllerKind: string | null;
  scopeKind: ScopeKind;
  scopeValues: readonly string[];
  severity: Severity;
  cancelEventId: string | null;
  /** Cleared when the controller cancels this kind for the same subject (the server's state, not a log line). */
  cancelControllerKind: string | null;
  autoClearSeconds: number | null;
  description: string;
  enabled: boolean;
}

/** What an alarm is about. Log events always name an application; controller alarms may name only a host or pair. */
export interface Subject {
  application: string;
  host: string;
  pair: string;
  /** The application's type (sip-server, generic) when known, for "type" scopes. */
  applicationType: string | null;
}

export interface ActiveAlarm {
  key: string;
  conditionId: string;
  subject: Subject;
  source: string;
  count: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

export type MatchEffect =
  | { type: "raise"; key: string; condition: MatchCondition; subject: Subject; source: string; atMs: number; text: string }
  | { type: "repeat"; key: string; conditionId: string; count: number; atMs: number; text: string }
  | { type: "clear"; key: string; conditionId: string; how: "cancel-event" | "auto-clear" | "subject-deleted"; atMs: number; text: string };

/** One active alarm per condition and application (or host, or pair when the alarm names no application). */
export function alarmKey(conditionId: string, subject: Pick<Subject, "application" | "host" | "pair">): string {
  const who = subject.application ? `a:${subject.application}` : subject.host ? `h:${subject.host}` : `p:${subject.pair}`;
  return `${conditionId}|${who}`;
}

export function inScope(c: Pick<MatchCondition, "scopeKind" | "scopeValues">, s: Subject): boolean {
  switch (c.scopeKind) {
    case "all":
      return true;
    case "type":
      return s.applicationType !== null && c.scopeValues.includes(s.applicationType);
    case "applications":
      return s.application !== "" && c.scopeValues.includes(s.application);
    case "hosts":
      return s.host !== "" && c.scopeValues.includes(s.host);
  }
}

function push(index: Map<string, MatchCondition[]>, key: string, c: MatchCondition): void {
  const list = index.get(key);
  if (list) list.push(c);
  else index.set(key, [c]);
}

export class AlarmMatcher {
  private byId = new Map<string, MatchCondition>();
  private byEvent = new Map<string, MatchCondition[]>();
  private byCancelEvent = new Map<string, MatchCondition[]>();
  private byKind = new Map<string, MatchCondition[]>();
  private byCancelKind = new Map<string, MatchCondition[]>();
  private readonly activeByKey = new Map<string, ActiveAlarm>();

  constructor(conditions: readonly MatchCondition[], active: readonly ActiveAlarm[] = []) {
    this.setConditions(conditions);
    for (const a of active) this.activeByKey.set(a.key, { ...a });
  }

  /** Rebuilds the indexes. Active alarms of a condition now disabled stay active (cleared by hand or auto-clear). */
  setConditions(conditions: readonly MatchCondition[]): void {
    this.byId = new Map(conditions.map((c) => [c.id, c]));
    this.byEvent = new Map();
    this.byCancelEvent = new Map();
    this.byKind = new Map();
    this.byCancelKind = new Map();
    // A disabled condition is out of every index, its cancel event included: "disabled" means ignored,
    // which keeps it predictable; its active alarms are then cleared by hand or by auto-clear.
    for (const c of conditions) {
      if (!c.enabled) continue;
      if (c.eventId) push(this.byEvent, c.eventId, c);
      if (c.controllerKind) push(this.byKind, c.controllerKind, c);
      if (c.cancelEventId) push(this.byCancelEvent, c.cancelEventId, c);
      if (c.cancelControllerKind) push(this.byCancelKind, c.cancelControllerKind, c);
    }
  }

  condition(id: string): MatchCondition | undefined {
    return this.byId.get(id);
  }

  active(): ActiveAlarm[] {
    return [...this.activeByKey.values()];
  }

  /** A log event: cancels what it cancels, then raises (or repeats) what it matches. */
  logEvent(eventId: string, subject: Subject, text: string, atMs: number): MatchEffect[] {
    const out: MatchEffect[] = [];
    for (const c of this.byCancelEvent.get(eventId) ?? []) {
      if (!inScope(c, subject)) continue;
      this.clear(alarmKey(c.id, subject), "cancel-event", atMs, `cancelled by ${eventId}: ${text}`, out);
    }
    for (const c of this.byEvent.get(eventId) ?? []) {
      if (inScope(c, subject)) this.raise(c, subject, eventId, text, atMs, out);
    }
    return out;
  }

  /** The controller raised an alarm of this kind (it raises each once per condition; a repeat still counts). */
  controllerRaise(kind: string, subject: Subject, text: string, atMs: number): MatchEffect[] {
    const out: MatchEffect[] = [];
    for (const c of this.byKind.get(kind) ?? []) if (inScope(c, subject)) this.raise(c, subject, kind, text, atMs, out);
    return out;
  }

  /**
   * The controller saw the condition end: clears its own alarm like a cancel event, and the log-event
   * alarms it cancels (00-04200 when the server reports its SIP listener bound again).
   */
  controllerCancel(kind: string, subject: Subject, text: string, atMs: number): MatchEffect[] {
    const out: MatchEffect[] = [];
    for (const c of this.byKind.get(kind) ?? []) this.clear(alarmKey(c.id, subject), "cancel-event", atMs, text, out);
    for (const c of this.byCancelKind.get(kind) ?? []) {
      if (inScope(c, subject)) this.clear(alarmKey(c.id, subject), "cancel-event", atMs, `cancelled: ${text}`, out);
    }
    return out;
  }

  /** Alarms whose condition's auto-clear timeout passed since they were last seen. */
  expire(nowMs: number): MatchEffect[] {
    const out: MatchEffect[] = [];
    for (const a of this.activeByKey.values()) {
      const seconds = this.byId.get(a.conditionId)?.autoClearSeconds ?? null;
      if (seconds === null || a.lastSeenMs + seconds * 1000 > nowMs) continue;
      this.clear(a.key, "auto-clear", nowMs, `auto-cleared: not seen for ${seconds} s`, out);
    }
    return out;
  }

  /**
   * Alarms about an application, host or pair that is no longer configured: `gone` says why for a subject
   * (or null while it exists). Nothing would ever cancel them otherwise.
   */
  subjectsGone(gone: (subject: Subject) => string | null, nowMs: number): MatchEffect[] {
    const out: MatchEffect[] = [];
    for (const a of [...this.activeByKey.values()]) {
      const why = gone(a.subject);
      if (why) this.clear(a.key, "subject-deleted", nowMs, why, out);
    }
    return out;
  }

  /** Cleared by hand (through the service): forget it so the next event raises a new alarm. */
  forget(key: string): void {
    this.activeByKey.delete(key);
  }

  private raise(c: MatchCondition, subject: Subject, source: string, text: string, atMs: number, out: MatchEffect[]): void {
    const key = alarmKey(c.id, subject);
    const existing = this.activeByKey.get(key);
    if (existing) {
      existing.count += 1;
      existing.lastSeenMs = Math.max(existing.lastSeenMs, atMs);
      out.push({ type: "repeat", key, conditionId: c.id, count: existing.count, atMs: existing.lastSeenMs, text });
      return;
    }
    this.activeByKey.set(key, { key, conditionId: c.id, subject, source, count: 1, firstSeenMs: atMs, lastSeenMs: atMs });
    out.push({ type: "raise", key, condition: c, subject, source, atMs, text });
  }

  private clear(key: string, how: "cancel-event" | "auto-clear" | "subject-deleted", atMs: number, text: string, out: MatchEffect[]): void {
    const a = this.activeByKey.get(key);
    if (!a) return;
    this.activeByKey.delete(key);
    out.push({ type: "clear", key, conditionId: a.conditionId, how, atMs, text });
  }
}
