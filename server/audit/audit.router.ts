// The audit log, read-only, filtered and paged.
import { z } from "zod";
import { createTRPCRouter, viewerProcedure } from "../api/trpc";
import { findAuditEntries } from "./audit.repository";
import { auditEntryFor } from "../config/masking";
import { boundedString, ID_MAX_CHARS } from "../../protocol/limits";

export const auditFilterSchema = z
  .object({
    actorName: z.string().max(64).optional(),
    action: z.string().max(64).optional(),
    objectType: z.string().max(32).optional(),
    objectName: z.string().max(128).optional(),
    from: z.date().optional(),
    to: z.date().optional(),
    cursor: boundedString(ID_MAX_CHARS).nullish(),
    /** Sent by TanStack infinite queries; paging is forward only. */
    direction: z.enum(["forward", "backward"]).optional(),
    limit: z.number().int().min(1).max(500).default(100),
  })
  .strict();

export const auditRouter = createTRPCRouter({
  list: viewerProcedure.input(auditFilterSchema).query(async ({ ctx, input }) => {
    const page = await findAuditEntries(ctx.services.db, { ...input, cursor: input.cursor ?? undefined });
    return { ...page, items: page.items.map((e) => auditEntryFor(e, ctx.user.role)) };
  }),
});
