// The audit log, read-only, filtered and paged; exported as CSV or JSON with the same filters.
import { z } from "zod";
import { createTRPCRouter, viewerProcedure } from "../api/trpc";
import { allAuditEntries, countAuditEntries, findAuditEntries } from "./audit.repository";
import { checkExportSize, EXPORT_MAX_ROWS, exportFile, exportFormatSchema, type Column } from "../export/tabular";
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

/** The list's filters without its paging, and the file format. */
export const auditExportInputSchema = auditFilterSchema.omit({ cursor: true, direction: true, limit: true }).extend({ format: exportFormatSchema }).strict();

type AuditRow = Awaited<ReturnType<typeof allAuditEntries>>[number];
const auditColumns: Column<AuditRow>[] = [
  { name: "at", value: (e) => e.at },
  { name: "actor", value: (e) => e.actorName },
  { name: "action", value: (e) => e.action },
  { name: "objectType", value: (e) => e.objectType },
  { name: "objectName", value: (e) => e.objectName },
  { name: "objectId", value: (e) => e.objectId },
  { name: "detail", value: (e) => e.detail },
  { name: "before", value: (e) => e.before },
  { name: "after", value: (e) => e.after },
  { name: "id", value: (e) => e.id },
];

export const auditRouter = createTRPCRouter({
  /** The entries the filters match, newest first, as a CSV or JSON file (environment values masked as in the list). */
  export: viewerProcedure.input(auditExportInputSchema).query(async ({ ctx, input }) => {
    const { format, ...filter } = input;
    checkExportSize(await countAuditEntries(ctx.services.db, filter), "audit entries");
    const rows = await allAuditEntries(ctx.services.db, filter, EXPORT_MAX_ROWS);
    return exportFile("switchyard-audit", format, auditColumns, rows.map((e) => auditEntryFor(e, ctx.user.role)));
  }),
  list: viewerProcedure.input(auditFilterSchema).query(async ({ ctx, input }) => {
    const page = await findAuditEntries(ctx.services.db, { ...input, cursor: input.cursor ?? undefined });
    return { ...page, items: page.items.map((e) => auditEntryFor(e, ctx.user.role)) };
  }),
});
