// Live operations: every pair's live view, one pair's timeline, agent connections, and the manual
// switchover (operators and admins; forced only with a typed reason, W12). Switchovers are audited.
import { z } from "zod";
import { createTRPCRouter, operatorProcedure, viewerProcedure } from "../api/trpc";
import { AppError, notFound } from "../errors";
import { recordAudit } from "../audit/audit.repository";
import { loadPairConfigs, pairHistory } from "./runtime.repository";
import { pairViews } from "./live-view";

export const liveRouter = createTRPCRouter({
  pairs: viewerProcedure.query(async ({ ctx }) => {
    const live = ctx.services.live;
    return pairViews(live?.runner.current ?? null, await loadPairConfigs(ctx.services.db), live?.gateway.hosts() ?? []);
  }),
  timeline: viewerProcedure
    .input(z.object({ pairId: z.string().min(1), limit: z.number().int().min(1).max(1000).default(200) }).strict())
    .query(({ ctx, input }) => pairHistory(ctx.services.db, input.pairId, input.limit)),
  hosts: viewerProcedure.query(({ ctx }) => ctx.services.live?.gateway.hosts() ?? []),
  switchover: operatorProcedure
    .input(
      z
        .object({ pairId: z.string().min(1), force: z.boolean().default(false), reason: z.string().trim().max(500).default("") })
        .strict()
        .refine((v) => !v.force || v.reason.length >= 5, { message: "a forced switchover needs a reason (at least 5 characters)", path: ["reason"] }),
    )
    .mutation(async ({ ctx, input }) => {
      const live = ctx.services.live;
      if (!live) throw new AppError("CONFLICT", "the controller is not running on this console");
      const pair = await ctx.services.db.haPair.findUnique({ where: { id: input.pairId }, select: { name: true } });
      if (!pair) throw notFound(`pair ${input.pairId}`);
      const outcome = await live.runner.operatorSwitchover(input.pairId, ctx.actor.name, input.force, input.reason);
      await recordAudit(ctx.services.db, ctx.actor, {
        action: input.force ? "pair.switchover-forced" : "pair.switchover",
        objectType: "pair",
        objectId: input.pairId,
        objectName: pair.name,
        detail: `${input.reason ? `reason: ${input.reason}; ` : ""}controller: ${outcome}`,
      });
      return outcome;
    }),
});
