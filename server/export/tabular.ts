// Exports of lists people filter on a page (the audit log, the alarm history) as CSV or JSON, with the
// page's filters, for the page's download button and the REST API alike. CSV follows RFC 4180 (quotes
// doubled, CRLF line ends) and defuses spreadsheet formulas: a cell that starts with = + - @ or a
// control character gets a leading apostrophe (OWASP's "CSV injection"), because audit details and
// alarm texts carry what users and servers wrote.
import { z } from "zod";
import { AppError } from "../errors";

export const exportFormats = ["csv", "json"] as const;
export type ExportFormat = (typeof exportFormats)[number];
export const exportFormatSchema = z.enum(exportFormats).default("csv");

/** Rows one export may hold; more matching rows are refused with the count, so nobody gets a silently cut file. */
export const EXPORT_MAX_ROWS = 100_000;

export interface ExportFile {
  filename: string;
  contentType: string;
  /** Rows exported. */
  count: number;
  text: string;
}

export interface Column<T> {
  name: string;
  value(row: T): unknown;
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function csvCell(v: unknown): string {
  let text = cellText(v);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n']/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const lines = [columns.map((c) => csvCell(c.name)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => csvCell(c.value(row))).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** Refuses an export larger than EXPORT_MAX_ROWS, naming how many rows matched. */
export function checkExportSize(count: number, what: string): void {
  if (count > EXPORT_MAX_ROWS) {
    throw new AppError("INVALID", `${count} ${what} match these filters; an export holds at most ${EXPORT_MAX_ROWS}: narrow them (a shorter time range)`);
  }
}

export function exportFile<T>(base: string, format: ExportFormat, columns: readonly Column<T>[], rows: readonly T[], now = new Date()): ExportFile {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  if (format === "json") {
    const items = rows.map((r) => Object.fromEntries(columns.map((c) => [c.name, c.value(r) ?? null])));
    return { filename: `${base}-${stamp}.json`, contentType: "application/json", count: rows.length, text: JSON.stringify(items, null, 1) };
  }
  return { filename: `${base}-${stamp}.csv`, contentType: "text/csv; charset=utf-8", count: rows.length, text: toCsv(columns, rows) };
}

export const exportFileSchema = z.object({
  filename: z.string(),
  contentType: z.string(),
  count: z.number().int(),
  text: z.string(),
});
