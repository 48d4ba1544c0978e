// Scheduled switchovers of a pair: listed for everyone, planned and cancelled by operators and admins.
import { z } from "zod";
import { createTRPCRouter, operatorProcedure, viewerProcedure } from "../api/trpc";
import { boundedString, DESCRIPTION_MAX_CHARS, ID_MAX_CHARS } from "../../protocol/limits";

const id = boundedString(ID_MAX_CHARS).min(1);

export const scheduleRouter = createTRPCRouter({
  list: viewerProcedure.input(z.object({ pairId: id }).strict()).query(({ ctx, input }) => ctx.services.schedules.list(input.pairId)),
  /** At `at` the switchover happens only if both servers are ready then; else it is skipped with an alarm. */
  create: operatorProcedure
    .input(z.object({ pairId: id, at: z.date(), reason: boundedString(DESCRIPTION_MAX_CHARS).default("") }).strict())
    .mutation(({ ctx, input }) => ctx.services.schedules.create(ctx.actor, input.pairId, { at: input.at, reason: input.reason })),
  cancel: operatorProcedure.input(z.object({ id }).strict()).mutation(({ ctx, input }) => ctx.services.schedules.cancel(ctx.actor, input.id)),
});
