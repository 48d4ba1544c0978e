// A pair's maintenance (issue 14.2): operators and admins put a pair in maintenance — the controller
// then observes it and takes no decision of its own — or end it. The rule is OperationsService.setMaintenance.
import { z } from "zod";
import { createTRPCRouter, operatorProcedure } from "../api/trpc";
import { boundedString, DESCRIPTION_MAX_CHARS, ID_MAX_CHARS } from "../../protocol/limits";

export const maintenanceRouter = createTRPCRouter({
  set: operatorProcedure
    .input(
      z
        .object({
          pairId: boundedString(ID_MAX_CHARS).min(1),
          on: z.boolean(),
          reason: boundedString(DESCRIPTION_MAX_CHARS).default(""),
          /** When it ends by itself; null: until someone ends it. */
          until: z.date().nullable().default(null),
        })
        .strict(),
    )
    .mutation(({ ctx, input }) => ctx.services.operations.setMaintenance(ctx.actor, input.pairId, { on: input.on, reason: input.reason, until: input.until })),
});
