// Runs one alarm reaction: webhook (JSON POST, bounded retries, per-attempt timeout), e-mail (SMTP via
// nodemailer), OS command on a chosen host (run-os-command through that host's agent, no shell) and
// switchover of the alarm's pair. Each returns { ok, detail } and never throws: a failing reaction is
// recorded on the alarm and must not stop the engine.
import { randomUUID } from "node:crypto";
import nodemailer from "nodemailer";
import { ZodError } from "zod";
import { OS_COMMAND_DEFAULT_TIMEOUT_MS, OS_COMMAND_MAX_ARGS, describeZodError, splitCommandLine } from "../../protocol/agent-wire";
import type { AgentGateway } from "../agents/gateway";
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
  /** How it was cleared (manual, cancel-event, auto-clear, subject-deleted); null while active. */
  clearedHow: string | null;
  /** Who cleared it (a user, or "alarm engine"), when and why (the comment, or the cancelling event's text); null while active. */
  clearedBy: string | null;
  clearedAt: string | null;
  clearComment: string | null;
}

export interface ReactionOutcome {
  ok: boolean;
  detail: string;
}

export interface ReactionDeps {
  /** Switches the named pair over as the operator "alarm reaction"; null when the controller does not run here. */
  switchover: ((pairName: string, reason: string) => Promise<string>) | null;
  /** The agent gateway, for OS commands on hosts; null or absent when it does not run in this console. */
  agents?: Pick<AgentGateway, "sendCommand" | "host"> | null;
  fetch?: typeof fetch;
  /** Delay before webhook retry n (1-based); injectable so tests need not wait. */
  retryDelayMs?: (attempt: number) => number;
}

/** Back-off between webhook attempts: 500 ms, 1 s, 2 s… capped at 5 s. */
export const defaultRetryDelayMs = (attempt: number) => Math.min(5_000, 500 * 2 ** (attempt - 1));

/**
 * The gateway waits this long beyond an OS command's own timeout for its result (delivery, retries,
 * the way back) before it records no-answer; a later result is still logged by the gateway.
 */
export const OS_COMMAND_RESULT_MARGIN_MS = 15_000;
/** Characters of stdout and of stderr quoted in the reaction run (the stored detail is cut at 2000). */
export const OS_COMMAND_EXCERPT_CHARS = 400;

/** Checks settings against the kind's schema; returns the first problem in words, or null. */
export function settingsProblem(kind: ReactionKind, settings: unknown): string | null {
  const parsed = reactionSettingsSchemas[kind].safeParse(settings);
  if (parsed.success) return kind === "command" ? commandLineProblem((parsed.data as { command: string }).command) : null;
  const i = parsed.error.issues[0]!;
  return `${kind} reaction setting ${i.path.join(".") || "settings"}: ${i.message}`;
}

/** A command line an agent would refuse is refused when the reaction is saved, not when the alarm fires. */
function commandLineProblem(command: string): string | null {
  try {
    const argv = splitCommandLine(command);
    return argv.length > OS_COMMAND_MAX_ARGS ? `command reaction setting command: has ${argv.length} arguments; an agent runs at most ${OS_COMMAND_MAX_ARGS}` : null;
  } catch (err) {
    return `command reaction setting command: ${err instanceof Error ? err.message : String(err)}`;
  }
}

export async function runReaction(kind: ReactionKind, settings: unknown, trigger: "raise" | "clear", alarm: AlarmNotice, deps: ReactionDeps): Promise<ReactionOutcome> {
  try {
    switch (kind) {
      case "webhook":
        return await webhook(settings, trigger, alarm, deps);
      case "email":
        return await email(settings, trigger, alarm);
      case "command":
        return await osCommand(settings, trigger, alarm, deps);
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
      ...(alarm.clearedHow ? [`Cleared: ${alarm.clearedHow} by ${alarm.clearedBy ?? "?"} at ${alarm.clearedAt ?? "?"}: ${alarm.clearComment ?? ""}`] : []),
    ].join("\n");
    const info = await transport.sendMail({ from: s.from, to: s.to, subject, text });
    return { ok: true, detail: `mail to ${s.to.join(", ")} accepted by ${s.smtpHost}:${s.smtpPort} (${info.response})` };
  } finally {
    transport.close();
  }
}

function excerpt(text: string): string {
  const t = text.trim();
  return JSON.stringify(t.length > OS_COMMAND_EXCERPT_CHARS ? `${t.slice(0, OS_COMMAND_EXCERPT_CHARS)}…` : t);
}

async function osCommand(raw: unknown, trigger: "raise" | "clear", alarm: AlarmNotice, deps: ReactionDeps): Promise<ReactionOutcome> {
  const s = commandSettingsSchema.parse(raw);
  const notRun = (why: string): ReactionOutcome => ({ ok: false, detail: `OS command on ${s.host} not run: ${why}` });
  if (!deps.agents) return notRun("the agent gateway does not run in this console");
  let argv: string[];
  try {
    argv = splitCommandLine(s.command);
  } catch (err) {
    return notRun(err instanceof Error ? err.message : String(err));
  }
  if (argv.length === 0) return notRun("the command is empty");
  // Asked first so an absent host is recorded at once, not after the gateway's deadline as no-answer.
  const host = deps.agents.host(s.host);
  if (!host) return notRun(`host ${s.host} has no agent connected to this console`);
  if (host.state !== "connected") return notRun(`host ${s.host} is disconnected (${host.reason})`);

  const timeoutMs = OS_COMMAND_DEFAULT_TIMEOUT_MS;
  const result = await deps.agents.sendCommand(s.host, {
    id: `alarm-reaction-${randomUUID()}`,
    type: "run-os-command",
    argv,
    timeoutMs,
    reason: `alarm ${alarm.source} ${trigger === "raise" ? "raised" : "cleared"} on ${subjectOf(alarm)}: ${alarm.description}`.slice(0, 500),
    deadline: new Date(Date.now() + timeoutMs + OS_COMMAND_RESULT_MARGIN_MS).toISOString(),
  });
  const run = result.scripts[0];
  const what = `OS command on ${s.host}`;
  // No run: refused (no --allow-os-commands, expired) or no answer; the reason says which.
  if (!run) return { ok: false, detail: `${what}: ${result.outcome}: ${result.reason}` };
  const output = [run.stdout.trim() && `stdout ${excerpt(run.stdout)}`, run.stderr.trim() && `stderr ${excerpt(run.stderr)}`].filter(Boolean).join("; ");
  return {
    ok: result.outcome === "ok",
    detail: `${what}: ${result.outcome}, exit code ${run.exitCode ?? "none"}: ${result.reason}${output ? `; ${output}` : ""}`,
  };
}

async function switchover(alarm: AlarmNotice, deps: ReactionDeps): Promise<ReactionOutcome> {
  if (!alarm.pair) return { ok: false, detail: `no switchover: ${subjectOf(alarm)} is in no HA pair` };
  if (!deps.switchover) return { ok: false, detail: `no switchover of ${alarm.pair}: the controller does not run in this console` };
  const sentence = await deps.switchover(alarm.pair, `alarm ${alarm.source} on ${subjectOf(alarm)}: ${alarm.description}`);
  return { ok: true, detail: `switchover of ${alarm.pair} requested: ${sentence}` };
}
