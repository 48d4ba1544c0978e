// Live operations: every pair's live view, one pair's timeline, agent connections, and the manual
// switchover (operators and admins; forced only with a typed reason, W12). Switchovers are audited.
import { z } from "zod";
import { createTRPCRouter, operatorProcedure, viewerProcedure } from "../api/trpc";
import { clusterView } from "../control-plane/cluster-view";
import { pairHistory } from "./runtime.repository";
import { applicationLog, applicationRuntimeView } from "./app-runtime.service";
import { boundedString, DESCRIPTION_MAX_CHARS, ID_MAX_CHARS } from "../../protocol/limits";
import { activeAlarmCounts } from "../alarms/alarms.service";
import { notFound } from "../errors";
import { LOG_READ_DEFAULT_BYTES, LOG_READ_MAX_BYTES, LOG_SEARCH_MAX_CHARS } from "../../protocol/agent-wire";

const id = boundedString(ID_MAX_CHARS).min(1);

export const switchoverInputSchema = z
  .object({ pairId: id, force: z.boolean().default(false), reason: boundedString(DESCRIPTION_MAX_CHARS).trim().default("") })
  .strict()
  .refine((v) => !v.force || v.reason.length >= 5, { message: "a forced switchover needs a reason (at least 5 characters)", path: ["reason"] });

export const liveRouter = createTRPCRouter({
  /** Start or stop a server through its host's agent (e.g. restart a failed server, W14 upgrades). */
  application: operatorProcedure
    .input(z.object({ appId: id, action: z.enum(["start", "stop"]) }).strict())
    .mutation(({ ctx, input }) => ctx.services.operations.controlApplication(ctx.actor, input.appId, input.action)),
  // The control plane pushes computed views; without a controller they come from the configuration.
  pairs: viewerProcedure.query(({ ctx }) => ctx.services.controlPlane.pairViews()),
  /** One pair's live view (a switchover's progress, as the CLI follows it). */
  pair: viewerProcedure.input(z.object({ pairId: id }).strict()).query(async ({ ctx, input }) => {
    const view = (await ctx.services.controlPlane.pairViews()).find((p) => p.id === input.pairId);
    if (!view) throw notFound(`pair ${input.pairId}`);
    return view;
  }),
  /** Everything `switchyard status` shows in one answer: every pair's view, every host's agent connection, active alarms by severity. */
  status: viewerProcedure.query(async ({ ctx }) => ({
    pairs: await ctx.services.controlPlane.pairViews(),
    hosts: ctx.services.controlPlane.hosts(),
    alarms: await activeAlarmCounts(ctx.services.db),
    console: clusterView(ctx.services.controlPlane.cluster()),
  })),
  /** Which console instance leads, since when, at which term, and the followers alive (null: no controller on this console). */
  consoles: viewerProcedure.query(({ ctx }) => clusterView(ctx.services.controlPlane.cluster())),
  timeline: viewerProcedure
    .input(z.object({ pairId: id, limit: z.number().int().min(1).max(1000).default(200) }).strict())
    .query(({ ctx, input }) => pairHistory(ctx.services.db, input.pairId, input.limit)),
  hosts: viewerProcedure.query(({ ctx }) => ctx.services.controlPlane.hosts()),
  /** What an application's server runs with beside what is configured, its last delivery and its restart state. */
  applicationRuntime: viewerProcedure
    .input(z.object({ appId: id }).strict())
    .query(({ ctx, input }) => applicationRuntimeView(ctx.services.db, ctx.services.controlPlane, input.appId)),
  /**
   * An application's log read by its host's agent: the newest maxBytes, or the newest lines containing
   * `search` (the live file and its rotated copies). The page asks again every few seconds to follow it.
   */
  applicationLog: viewerProcedure
    .input(
      z
        .object({
          appId: id,
          maxBytes: z.number().int().min(1024).max(LOG_READ_MAX_BYTES).default(LOG_READ_DEFAULT_BYTES),
          search: boundedString(LOG_SEARCH_MAX_CHARS).trim().default(""),
        })
        .strict(),
    )
    .query(({ ctx, input }) => applicationLog(ctx.services.db, ctx.services.controlPlane, input.appId, { maxBytes: input.maxBytes, search: input.search || null })),
  switchover: operatorProcedure
    .input(switchoverInputSchema)
    // {accepted, sentence, epoch}: the REST API's answer too (a refusal becomes its 409 there).
    .mutation(async ({ ctx, input }) => {
      const o = await ctx.services.operations.switchOverOutcome(ctx.actor, input.pairId, { force: input.force, reason: input.reason });
      return { accepted: o.ordered, sentence: o.sentence, epoch: o.epoch };
    }),
});
