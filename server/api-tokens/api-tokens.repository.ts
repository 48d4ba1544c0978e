// API tokens (service accounts) in the database. Only this file touches Prisma for the slice; the
// token itself is never stored, only its sha256 (api-tokens.service.ts).
import type { DbTx } from "../db";

export const apiTokenSelect = {
  id: true,
  name: true,
  role: true,
  prefix: true,
  description: true,
  createdAt: true,
  createdBy: true,
  expiresAt: true,
  revokedAt: true,
  revokedBy: true,
  lastUsedAt: true,
  lastUsedFrom: true,
} as const;

export function listApiTokens(db: DbTx) {
  return db.apiToken.findMany({ select: apiTokenSelect, orderBy: [{ revokedAt: { sort: "desc", nulls: "first" } }, { createdAt: "desc" }] });
}

export function findLiveApiTokenByName(db: DbTx, name: string) {
  return db.apiToken.findFirst({ where: { name, revokedAt: null }, select: { id: true } });
}

export function findApiToken(db: DbTx, id: string) {
  return db.apiToken.findUnique({ where: { id }, select: apiTokenSelect });
}

export function findApiTokenByHash(db: DbTx, tokenHash: string) {
  return db.apiToken.findUnique({ where: { tokenHash }, select: { id: true, name: true, role: true, expiresAt: true, revokedAt: true, lastUsedAt: true } });
}

export function createApiToken(db: DbTx, data: { name: string; role: string; tokenHash: string; prefix: string; description: string; createdBy: string; expiresAt: Date | null }) {
  return db.apiToken.create({ data, select: apiTokenSelect });
}

export function revokeApiToken(db: DbTx, id: string, by: string, at: Date) {
  return db.apiToken.update({ where: { id }, data: { revokedAt: at, revokedBy: by }, select: apiTokenSelect });
}

export function touchApiToken(db: DbTx, id: string, at: Date, from: string) {
  return db.apiToken.update({ where: { id }, data: { lastUsedAt: at, lastUsedFrom: from.slice(0, 64) } });
}
