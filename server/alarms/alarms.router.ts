// tRPC endpoints for alarms: log event search, active alarms and history, header counts (viewer);
// acknowledge and clear (operator); conditions and reactions (admin); and a test-only log event
// injection that refuses unless NODE_ENV=test or SWITCHYARD_TEST_HOOKS=1.
import { z } from "zod";
import { adminProcedure, createTRPCRouter, operatorProcedure, viewerProcedure } from "../api/trpc";
import { AppError } from "../errors";
import { boundedString, COMMENT_MAX_CHARS, DESCRIPTION_MAX_CHARS, ID_MAX_CHARS, LOG_EVENT_TEXT_MAX_CHARS } from "../../protocol/limits";
import * as repo from "./alarms.repository";
import * as service from "./alarms.service";
import { testHooksEnabled } from "./engine";
import { checkExportSize, EXPORT_MAX_ROWS, exportFile, exportFormatSchema, type Column } from "../export/tabular";
import { alarmHistorySchema, conditionInputSchema, eventIdSchema, logEventSearchSchema, reactionInputSchema } from "./alarms.schema";

const id = boundedString(ID_MAX_CHARS).min(1);

export const acknowledgeInputSchema = z.object({ id, note: boundedString(DESCRIPTION_MAX_CHARS).trim().min(1, "say what you are doing about it") }).strict();
export const clearInputSchema = z.object({ id, comment: boundedString(COMMENT_MAX_CHARS).trim().min(1, "a comment is required to clear an alarm (what was done)") }).strict();
export const injectLogEventInputSchema = z
  .object({
    host: z.string().min(1).max(128),
    application: z.string().min(1).max(128),
    id: eventIdSchema,
    text: boundedString(LOG_EVENT_TEXT_MAX_CHARS).default(""),
  })
  .strict();

/** The history page's filters without its paging, and the file format. */
export const alarmHistoryExportInputSchema = alarmHistorySchema.omit({ cursor: true, direction: true, limit: true }).extend({ format: exportFormatSchema }).strict();

const historyColumns: Column<repo.AlarmView>[] = [
  { name: "id", value: (a) => a.id },
  { name: "severity", value: (a) => a.severity },
  { name: "description", value: (a) => a.description },
  { name: "source", value: (a) => a.source },
  { name: "application", value: (a) => a.application },
  { name: "host", value: (a) => a.host },
  { name: "pair", value: (a) => a.pair },
  { name: "count", value: (a) => a.count },
  { name: "firstSeen", value: (a) => a.firstSeen },
  { name: "lastSeen", value: (a) => a.lastSeen },
  { name: "lastText", value: (a) => a.lastText },
  { name: "acknowledgedBy", value: (a) => a.acknowledgedBy },
  { name: "acknowledgedAt", value: (a) => a.acknowledgedAt },
  { name: "acknowledgeNote", value: (a) => a.acknowledgeNote },
  { name: "clearedBy", value: (a) => a.clearedBy },
  { name: "clearedAt", value: (a) => a.clearedAt },
  { name: "clearedHow", value: (a) => a.clearedHow },
  { name: "clearComment", value: (a) => a.clearComment },
];

const conditionsRouter = createTRPCRouter({
  list: viewerProcedure.query(({ ctx }) => repo.listConditions(ctx.services.db)),
  create: adminProcedure.input(conditionInputSchema).mutation(async ({ ctx, input }) => {
    const created = await service.createCondition(ctx.services.db, ctx.actor, input);
    await ctx.services.alarms.conditionsChanged();
    return created;
  }),
  update: adminProcedure.input(z.object({ id, condition: conditionInputSchema }).strict()).mutation(async ({ ctx, input }) => {
    await service.updateCondition(ctx.services.db, ctx.actor, input.id, input.condition);
    await ctx.services.alarms.conditionsChanged();
    return true;
  }),
  delete: adminProcedure.input(z.object({ id }).strict()).mutation(async ({ ctx, input }) => {
    await service.deleteCondition(ctx.services.db, ctx.actor, input.id);
    await ctx.services.alarms.conditionsChanged();
    return true;
  }),
});

const reactionsRouter = createTRPCRouter({
  list: viewerProcedure.input(z.object({ conditionId: id.optional() }).strict()).query(({ ctx, input }) => repo.listReactions(ctx.services.db, input.conditionId)),
  create: adminProcedure.input(reactionInputSchema).mutation(async ({ ctx, input }) => {
    const created = await service.createReaction(ctx.services.db, ctx.actor, input);
    await ctx.services.alarms.conditionsChanged();
    return created;
  }),
  update: adminProcedure.input(z.object({ id, reaction: reactionInputSchema }).strict()).mutation(async ({ ctx, input }) => {
    await service.updateReaction(ctx.services.db, ctx.actor, input.id, input.reaction);
    await ctx.services.alarms.conditionsChanged();
    return true;
  }),
  delete: adminProcedure.input(z.object({ id }).strict()).mutation(async ({ ctx, input }) => {
    await service.deleteReaction(ctx.services.db, ctx.actor, input.id);
    await ctx.services.alarms.conditionsChanged();
    return true;
  }),
});

export const alarmsRouter = createTRPCRouter({
  active: viewerProcedure.query(({ ctx }) => repo.listActiveAlarms(ctx.services.db)),
  history: viewerProcedure.input(alarmHistorySchema).query(({ ctx, input }) => repo.listAlarmHistory(ctx.services.db, { ...input, cursor: input.cursor ?? undefined })),
  /** The cleared alarms the history's filters match, latest first, as a CSV or JSON file. */
  exportHistory: viewerProcedure.input(alarmHistoryExportInputSchema).query(async ({ ctx, input }) => {
    const { format, ...filter } = input;
    checkExportSize(await repo.countAlarmHistory(ctx.services.db, filter), "cleared alarms");
    return exportFile("switchyard-alarm-history", format, historyColumns, await repo.allAlarmHistory(ctx.services.db, filter, EXPORT_MAX_ROWS));
  }),
  /** For the header badge: active alarms per severity, and how many of them nobody acknowledged. */
  counts: viewerProcedure.query(({ ctx }) => service.activeAlarmCounts(ctx.services.db)),
  acknowledge: operatorProcedure.input(acknowledgeInputSchema).mutation(async ({ ctx, input }) => {
    await ctx.services.alarms.acknowledge(ctx.actor, input.id, input.note);
    return true;
  }),
  clear: operatorProcedure.input(clearInputSchema).mutation(async ({ ctx, input }) => {
    await ctx.services.alarms.clear(ctx.actor, input.id, input.comment);
    return true;
  }),
  logEvents: viewerProcedure.input(logEventSearchSchema).query(({ ctx, input }) => repo.searchLogEvents(ctx.services.db, { ...input, cursor: input.cursor ?? undefined })),
  conditions: conditionsRouter,
  reactions: reactionsRouter,
  /** Test hook: feeds one log event to the engine as if the host's agent had sent it. */
  injectLogEvent: adminProcedure.input(injectLogEventInputSchema).mutation(async ({ ctx, input }) => {
    if (!testHooksEnabled(ctx.services.env)) {
      throw new AppError("FORBIDDEN", "alarms.injectLogEvent is a test hook: it works only with NODE_ENV=test or SWITCHYARD_TEST_HOOKS=1");
    }
    const result = await ctx.services.alarms.ingestLogEvents(input.host, [
      { application: input.application, id: input.id, text: input.text, time: new Date().toISOString(), level: "standard" },
    ]);
    return { raised: result.raised, repeated: result.repeated, cleared: result.cleared };
  }),
});
