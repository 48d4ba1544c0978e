// Many rows into one table in a few statements, past Prisma's query compiler (which took ~6 s for
// 40,000 option rows; this takes ~0.5 s). Only for plain inserts of fully known rows inside a
// transaction a repository opened; values are bound as parameters, never pasted into the SQL. Built
// with Prisma's SQL template, which writes the placeholders of the client's dialect (? for SQLite,
// $1… for PostgreSQL).
import { Prisma } from "../../generated/prisma/client";
import type { DbTx } from "../db";

/** Rows per statement: SQLite binds at most 32,766 parameters in one statement (PostgreSQL 65,535). */
const MAX_PARAMETERS_PER_STATEMENT = 30_000;

/**
 * A DateTime as Prisma stores it in SQLite ("2026-01-01T00:00:00.000+00:00"), so raw rows sort with
 * Prisma's. PostgreSQL reads the same text into its TIMESTAMP(3) columns as the same UTC time.
 */
export function sqliteDateTime(d: Date): string {
  return d.toISOString().replace("Z", "+00:00");
}

export async function bulkInsert(tx: DbTx, table: string, columns: readonly string[], rows: readonly unknown[][]): Promise<void> {
  if (!/^[A-Za-z]+$/.test(table) || columns.some((c) => !/^[A-Za-z]+$/.test(c))) throw new Error(`bulkInsert: bad table or column name in ${table}(${columns.join(",")})`);
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS_PER_STATEMENT / columns.length));
  const head = Prisma.raw(`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(",")}) VALUES `);
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    await tx.$executeRaw(Prisma.sql`${head}${Prisma.join(chunk.map((row) => Prisma.sql`(${Prisma.join(row)})`))}`);
  }
}
