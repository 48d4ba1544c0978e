// Live operations: every pair's live view, one pair's timeline, agent connections, and the manual
// switchover (operators and admins; forced only with a typed reason, W12). Switchovers are audited.
import { z } from "zod";
import { createTRPCRouter, operatorProcedure, viewerProcedure } from "../api/trpc";
import { pairHistory } from "./runtime.repository";
import { applicationLog, applicationRuntimeView } from "./app-runtime.service";
import { boundedString, DESCRIPTION_MAX_CHARS, ID_MAX_CHARS } from "../../protocol/limits";
import { LOG_READ_DEFAULT_BYTES, LOG_READ_MAX_BYTES, LOG_SEARCH_MAX_CHARS } from "../../protocol/agent-wire";

const id = boundedString(ID_MAX_CHARS).min(1);

export const liveRouter = createTRPCRouter({
  /** Start or stop a server through its host's agent (e.g. restart a failed server, W14 upgrades). */
  application: operatorProcedure
    .input(z.object({ appId: id, action: z.enum(["start", "stop"]) }).strict())
    .mutation(({ ctx, input }) => ctx.services.operations.controlApplication(ctx.actor, input.appId, input.action)),
  // The control plane pushes computed views; without a controller they come from the configuration.
  pairs: viewerProcedure.query(({ ctx }) => ctx.services.controlPlane.pairViews()),
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
    .input(
      z
        .object({ pairId: id, force: z.boolean().default(false), reason: boundedString(DESCRIPTION_MAX_CHARS).trim().default("") })
        .strict()
        .refine((v) => !v.force || v.reason.length >= 5, { message: "a forced switchover needs a reason (at least 5 characters)", path: ["reason"] }),
    )
    .mutation(({ ctx, input }) => ctx.services.operations.switchOver(ctx.actor, input.pairId, { force: input.force, reason: input.reason })),
});
