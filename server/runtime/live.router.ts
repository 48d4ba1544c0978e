// Live operations: every pair's live view, one pair's timeline, agent connections, and the manual
// switchover (operators and admins; forced only with a typed reason, W12). Switchovers are audited.
import { z } from "zod";
import { createTRPCRouter, operatorProcedure, viewerProcedure } from "../api/trpc";
import { AppError, notFound } from "../errors";
import { recordAudit } from "../audit/audit.repository";
import { loadPairConfigs, pairHistory } from "./runtime.repository";
import { pairViews } from "./live-view";

export const liveRouter = createTRPCRouter({
  /** Start or stop a server through its host's agent (e.g. restart a failed server, W14 upgrades). */
  application: operatorProcedure
    .input(z.object({ appId: z.string().min(1), action: z.enum(["start", "stop"]) }).strict())
    .mutation(async ({ ctx, input }) => {
      const live = ctx.services.live;
      if (!live) throw new AppError("CONFLICT", "the controller is not running on this console");
      const app = await ctx.services.db.application.findUnique({ where: { id: input.appId }, select: { name: true, host: { select: { name: true } } } });
      if (!app) throw notFound(`application ${input.appId}`);
      const pairId = live.runner.current?.apps[input.appId]?.pairId;
      const epoch = (pairId && live.runner.current?.pairStates[pairId]?.epoch) || 0;
      const result = await live.gateway.sendCommand(app.host.name, {
        id: `${input.action}-${input.appId}-${Date.now()}`,
        type: input.action,
        application: app.name,
        pairEpoch: epoch,
        deadline: new Date(Date.now() + 30_000).toISOString(),
      });
      await recordAudit(ctx.services.db, ctx.actor, {
        action: `application.${input.action}`,
        objectType: "application",
        objectId: input.appId,
        objectName: app.name,
        detail: `${result.outcome}: ${result.reason}`,
      });
      if (result.outcome !== "ok") throw new AppError("CONFLICT", `${input.action} ${app.name} on ${app.host.name}: ${result.outcome} — ${result.reason}`);
      return result.reason;
    }),
  pairs: viewerProcedure.query(async ({ ctx }) => {
    const live = ctx.services.live;
    const state = live?.runner.current ?? null;
    // The controller holds the pair list in memory; the database is read only when it is not running.
    const pairs = state ? Object.values(state.pairs) : await loadPairConfigs(ctx.services.db);
    return pairViews(state, pairs, live?.gateway.hosts() ?? []);
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
