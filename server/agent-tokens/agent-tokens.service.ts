// Agent tokens: an admin creates one per host (shown once), the console keeps only its sha256, and a
// revoked or unknown token is refused at the agent gateway. Creation and revocation are audited.
import crypto from "node:crypto";
import type { Db } from "../db";
import { notFound } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.repository";
import { sha256 } from "../auth/auth.service";

export const TOKEN_PREFIX = "sya_";

export async function createAgentToken(db: Db, actor: Actor, hostId: string, label: string): Promise<{ id: string; token: string }> {
  const token = `${TOKEN_PREFIX}${crypto.randomBytes(32).toString("base64url")}`;
  return db.$transaction(async (tx) => {
    const host = await tx.host.findUnique({ where: { id: hostId }, select: { name: true } });
    if (!host) throw notFound(`host ${hostId}`);
    const row = await tx.agentToken.create({
      data: { hostId, tokenHash: sha256(token), prefix: token.slice(0, TOKEN_PREFIX.length + 6), label, createdBy: actor.name },
      select: { id: true, prefix: true },
    });
    await recordAudit(tx, actor, { action: "agent-token.create", objectType: "host", objectId: hostId, objectName: host.name, detail: `token ${row.prefix}… ${label}`.trim() });
    return { id: row.id, token };
  });
}

/** Revokes a token; returns the host's name (or null when it was already revoked). */
export async function revokeAgentToken(db: Db, actor: Actor, tokenId: string): Promise<string | null> {
  return db.$transaction(async (tx) => {
    const row = await tx.agentToken.findUnique({ where: { id: tokenId }, select: { prefix: true, revokedAt: true, host: { select: { id: true, name: true } } } });
    if (!row) throw notFound(`agent token ${tokenId}`);
    if (row.revokedAt) return null;
    await tx.agentToken.update({ where: { id: tokenId }, data: { revokedAt: new Date() } });
    await recordAudit(tx, actor, { action: "agent-token.revoke", objectType: "host", objectId: row.host.id, objectName: row.host.name, detail: `token ${row.prefix}…` });
    return row.host.name;
  });
}

export function listAgentTokens(db: Db, hostId: string) {
  return db.agentToken.findMany({
    where: { hostId },
    select: { id: true, prefix: true, label: true, createdAt: true, createdBy: true, revokedAt: true, lastUsedAt: true },
    orderBy: { createdAt: "desc" },
  });
}

/** True when `token` is a live token of the host named `hostName`; records its last use. */
export async function verifyAgentToken(db: Db, hostName: string, token: string): Promise<boolean> {
  const row = await db.agentToken.findUnique({ where: { tokenHash: sha256(token) }, select: { id: true, revokedAt: true, host: { select: { name: true } } } });
  if (!row || row.revokedAt || row.host.name !== hostName) return false;
  // When it was last used is shown to admins; it must never be why an agent is refused (or waits).
  await db.agentToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } }).catch(() => undefined);
  return true;
}
