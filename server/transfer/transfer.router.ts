// Configuration export/import endpoints (admin: exports include start commands and environments).
import { z } from "zod";
import { adminProcedure, configChangeProcedure, createTRPCRouter } from "../api/trpc";
import { exportConfig, importConfig, MAX_IMPORT_BYTES } from "./transfer.service";
import { recordAudit } from "../audit/audit.repository";

export const transferRouter = createTRPCRouter({
  export: adminProcedure.mutation(async ({ ctx }) => {
    const text = await exportConfig(ctx.services.db);
    await recordAudit(ctx.services.db, ctx.actor, { action: "config.export", objectType: "config" });
    return text;
  }),
  import: configChangeProcedure
    .input(
      z
        .object({
          text: z.string().min(1, "the file is empty").max(MAX_IMPORT_BYTES, "the file is too large"),
          replace: z.boolean().default(false),
          dryRun: z.boolean().default(false),
        })
        .strict(),
    )
    .mutation(({ ctx, input }) => importConfig(ctx.services.db, ctx.actor, input.text, input)),
});
