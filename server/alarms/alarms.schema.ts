// The alarm slice's vocabulary and input schemas: severities, condition scopes, controller alarm kinds,
// reaction kinds with their settings, and the zod inputs the router validates.
import { z } from "zod";
import { controllerAlarmKinds } from "../../protocol/vocabulary";
import type { AlarmKind } from "../controller/types";
import { OS_COMMAND_MAX_ARG_CHARS } from "../../protocol/agent-wire";
import { boundedString, DESCRIPTION_MAX_CHARS, EMAIL_MAX_CHARS, ID_MAX_CHARS, URL_MAX_CHARS } from "../../protocol/limits";

export const severities = ["critical", "major", "minor"] as const;
export type Severity = (typeof severities)[number];

export const scopeKinds = ["all", "type", "applications", "hosts"] as const;
export type ScopeKind = (typeof scopeKinds)[number];

/** Every alarm kind the failover controller raises (server/controller/types.ts AlarmKind). */
export { controllerAlarmKinds };

export const reactionKinds = ["webhook", "email", "command", "switchover"] as const;
export type ReactionKind = (typeof reactionKinds)[number];

/** subject-deleted: the application, host or pair the alarm is about is no longer in the configuration. */
export const clearedHows = ["cancel-event", "auto-clear", "manual", "subject-deleted"] as const;
export type ClearedHow = (typeof clearedHows)[number];

/** Genesys-style log event id, as the app contract defines it. */
export const eventIdSchema = z.string().regex(/^\d{2}-\d{5}$/, "must look like 00-04200");

const scopeValue = z.string().min(1).max(128);

export const conditionInputSchema = z
  .object({
    /** Exactly one of eventId and controllerKind. */
    eventId: eventIdSchema.nullable().default(null),
    controllerKind: z.enum(controllerAlarmKinds).nullable().default(null),
    scopeKind: z.enum(scopeKinds).default("all"),
    scopeValues: z.array(scopeValue).max(500).default([]),
    severity: z.enum(severities),
    cancelEventId: eventIdSchema.nullable().default(null),
    /** A log-event alarm cleared when the controller sees this condition end for the same application. */
    cancelControllerKind: z.enum(controllerAlarmKinds).nullable().default(null),
    autoClearSeconds: z.number().int().min(1).max(365 * 24 * 3600).nullable().default(null),
    description: boundedString(DESCRIPTION_MAX_CHARS).trim().min(1, "say what the condition means"),
    enabled: z.boolean().default(true),
  })
  .strict();
export type ConditionInput = z.infer<typeof conditionInputSchema>;

export const webhookSettingsSchema = z
  .object({
    url: boundedString(URL_MAX_CHARS).url().refine((u) => /^https?:\/\//.test(u), "must be an http:// or https:// URL"),
    /** Per attempt. */
    timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
    /** Attempts after the first one fails. */
    retries: z.number().int().min(0).max(5).default(2),
  })
  .strict();
export type WebhookSettings = z.infer<typeof webhookSettingsSchema>;

export const emailSettingsSchema = z
  .object({
    to: z.array(boundedString(EMAIL_MAX_CHARS).email()).min(1).max(50),
    /** The sender; set it to an address your relay accepts. */
    from: boundedString(EMAIL_MAX_CHARS).email().default("switchyard@localhost.localdomain"),
    smtpHost: z.string().min(1).max(255),
    smtpPort: z.number().int().min(1).max(65535).default(25),
    /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
    secure: z.boolean().default(false),
    timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  })
  .strict();
export type EmailSettings = z.infer<typeof emailSettingsSchema>;

/** The command line travels as argv (no shell); each argument must fit what an agent runs (OS_COMMAND_MAX_ARG_CHARS). */
export const commandSettingsSchema = z.object({ host: z.string().min(1).max(128), command: boundedString(OS_COMMAND_MAX_ARG_CHARS).min(1) }).strict();
export type CommandSettings = z.infer<typeof commandSettingsSchema>;

export const switchoverSettingsSchema = z.object({}).strict();

export const reactionSettingsSchemas = {
  webhook: webhookSettingsSchema,
  email: emailSettingsSchema,
  command: commandSettingsSchema,
  switchover: switchoverSettingsSchema,
} as const;

export const reactionInputSchema = z
  .object({
    conditionId: boundedString(ID_MAX_CHARS).min(1),
    kind: z.enum(reactionKinds),
    onClear: z.boolean().default(false),
    /** Checked against the kind's schema by the service, so the message can name the reaction kind. */
    settings: z.record(z.string(), z.unknown()),
    description: boundedString(DESCRIPTION_MAX_CHARS).default(""),
    enabled: z.boolean().default(true),
  })
  .strict();
export type ReactionInput = z.infer<typeof reactionInputSchema>;

/** Forward-only paging as TanStack infinite queries send it (they add `direction`). */
const pagingFields = {
  cursor: boundedString(ID_MAX_CHARS).nullish(),
  direction: z.enum(["forward", "backward"]).optional(),
  limit: z.number().int().min(1).max(500).default(100),
};

export const logEventSearchSchema = z
  .object({
    eventId: z.string().max(16).optional(),
    application: z.string().max(128).optional(),
    host: z.string().max(128).optional(),
    text: z.string().max(200).optional(),
    from: z.date().optional(),
    to: z.date().optional(),
    ...pagingFields,
  })
  .strict();
export type LogEventSearch = z.infer<typeof logEventSearchSchema>;

export const alarmHistorySchema = z
  .object({
    severity: z.enum(severities).optional(),
    application: z.string().max(128).optional(),
    ...pagingFields,
  })
  .strict();
export type AlarmHistoryFilter = z.infer<typeof alarmHistorySchema>;
