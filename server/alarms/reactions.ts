// Runs one alarm reaction: webhook (JSON POST, bounded retries, per-attempt timeout), e-mail (SMTP via
// nodemailer), OS command on a host (not supported by the agent wire protocol: recorded as such) and
// switchover of the alarm's pair. Each returns { ok, detail } and never throws: a failing reaction is
// recorded on the alarm and must not stop the engine.
import nodemailer from "nodemailer";
import { ZodError } from "zod";
import { describeZodError } from "../../protocol/agent-wire";
import type { ReactionKind } from "./alarms.schema";
import { commandSettingsSchema, emailSettingsSchema, reactionSettingsSchemas, webhookSettingsSchema } from "./alarms.schema";

/** What a reaction is told about the alarm (also the webhook's JSON body, under `alarm`). */
export interface AlarmNotice {
  id: string;
  state: "active" | "cleared";
  severity: string;
  source: string;
  description: string;
  application: string;
  host: string;
  pair: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  text: string;
  clearedHow: string | null;
}

export interface ReactionOutcome {
  ok: boolean;
  detail: string;
}

export interface ReactionDeps {
  /** Switches the named pair over as the operator "alarm reaction"; null when the controller does not run here. */
  switchover: ((pairName: string, reason: string) => Promise<string>) | null;
  fetch?: typeof fetch;
  /** Delay before webhook retry n (1-based); injectable so tests need not wait. */
  retryDelayMs?: (attempt: number) => number;
}

/** Back-off between webhook attempts: 500 ms, 1 s, 2 s… capped at 5 s. */
export const defaultRetryDelayMs = (attempt: number) => Math.min(5_000, 500 * 2 ** (attempt - 1));

export const COMMAND_UNSUPPORTED =
  "unsupported: the agent wire protocol has no command to run an arbitrary OS command (only start, stop, set-role and run-control-script); nothing was run";

/** Checks settings against the kind's schema; returns the first problem in words, or null. */
export function settingsProblem(kind: ReactionKind, settings: unknown): string | null {
  const parsed = reactionSettingsSchemas[kind].safeParse(settings);
  if (parsed.success) return null;
  const i = parsed.error.issues[0]!;
  return `${kind} reaction setting ${i.path.join(".") || "settings"}: ${i.message}`;
}

export async function runReaction(kind: ReactionKind, settings: unknown, trigger: "raise" | "clear", alarm: AlarmNotice, deps: ReactionDeps): Promise<ReactionOutcome> {
  try {
    switch (kind) {
      case "webhook":
        return await webhook(settings, trigger, alarm, deps);
      case "email":
        return await email(settings, trigger, alarm);
      case "command": {
        const s = commandSettingsSchema.safeParse(settings);
        return { ok: false, detail: s.success ? `${COMMAND_UNSUPPORTED} (host ${s.data.host}: ${s.data.command})` : COMMAND_UNSUPPORTED };
      }
      case "switchover":
        return await switchover(alarm, deps);
    }
  } catch (err) {
    // Settings were checked when saved; a failure here is a stored value gone stale or an I/O error.
    const why = err instanceof ZodError ? `settings: ${describeZodError(err)}` : err instanceof Error ? err.message : String(err);
    return { ok: false, detail: `${kind} reaction failed: ${why}` };
  }
}

function subjectOf(a: AlarmNotice): string {
  return a.application || a.host || a.pair || "the console";
}

async function webhook(raw: unknown, trigger: "raise" | "clear", alarm: AlarmNotice, deps: ReactionDeps): Promise<ReactionOutcome> {
  const s = webhookSettingsSchema.parse(raw);
  const doFetch = deps.fetch ?? fetch;
  const delay = deps.retryDelayMs ?? defaultRetryDelayMs;
  const body = JSON.stringify({ event: trigger === "raise" ? "alarm.raised" : "alarm.cleared", alarm });
  const attempts = 1 + s.retries;
  let last = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, delay(attempt - 1)));
    try {
      const res = await doFetch(s.url, { method: "POST", headers: { "content-type": "application/json" }, body, signal: AbortSignal.timeout(s.timeoutMs) });
      await res.body?.cancel().catch(() => undefined);
      if (res.ok) return { ok: true, detail: `POST ${s.url} answered ${res.status} (attempt ${attempt} of ${attempts})` };
      last = `answered ${res.status}`;
      // A 4xx other than 408/429 will not get better by asking again.
      if (res.status < 500 && res.status !== 408 && res.status !== 429) break;
    } catch (err) {
      last = err instanceof Error && err.name === "TimeoutError" ? `no answer within ${s.timeoutMs} ms` : `failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  return { ok: false, detail: `POST ${s.url} ${last} (gave up after ${attempts} attempt(s))` };
}

async function email(raw: unknown, trigger: "raise" | "clear", alarm: AlarmNotice): Promise<ReactionOutcome> {
  const s = emailSettingsSchema.parse(raw);
  const transport = nodemailer.createTransport({
    host: s.smtpHost,
    port: s.smtpPort,
    secure: s.secure,
    connectionTimeout: s.timeoutMs,
    greetingTimeout: s.timeoutMs,
    socketTimeout: s.timeoutMs,
  });
  try {
    const verb = trigger === "raise" ? "raised" : "cleared";
    const subject = `[Switchyard] ${alarm.severity.toUpperCase()} alarm ${verb}: ${alarm.description} on ${subjectOf(alarm)}`;
    const text = [
      `Alarm ${verb}: ${alarm.description}`,
      `Severity: ${alarm.severity}`,
      `Source: ${alarm.source}`,
      `Application: ${alarm.application || "-"}   Host: ${alarm.host || "-"}   Pair: ${alarm.pair || "-"}`,
      `Count: ${alarm.count}   First seen: ${alarm.firstSeen}   Last seen: ${alarm.lastSeen}`,
      `Last text: ${alarm.text}`,
      ...(alarm.clearedHow ? [`Cleared: ${alarm.clearedHow}`] : []),
    ].join("\n");
    const info = await transport.sendMail({ from: s.from, to: s.to, subject, text });
    return { ok: true, detail: `mail to ${s.to.join(", ")} accepted by ${s.smtpHost}:${s.smtpPort} (${info.response})` };
  } finally {
    transport.close();
  }
}

async function switchover(alarm: AlarmNotice, deps: ReactionDeps): Promise<ReactionOutcome> {
  if (!alarm.pair) return { ok: false, detail: `no switchover: ${subjectOf(alarm)} is in no HA pair` };
  if (!deps.switchover) return { ok: false, detail: `no switchover of ${alarm.pair}: the controller does not run in this console` };
  const sentence = await deps.switchover(alarm.pair, `alarm ${alarm.source} on ${subjectOf(alarm)}: ${alarm.description}`);
  return { ok: true, detail: `switchover of ${alarm.pair} requested: ${sentence}` };
}
