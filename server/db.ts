// The Prisma client: one cached instance per process (create-t3-app's singleton), SQLite through the
// better-sqlite3 adapter with the Rust-free client. Only repositories import this.
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "../generated/prisma/client";

export type Db = PrismaClient;
/** A client or the client of an open transaction: what repositories accept. */
export type DbTx = Omit<PrismaClient, "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends">;

export function createDb(url: string): Db {
  return new PrismaClient({ adapter: new PrismaBetterSQLite3({ url }) });
}
