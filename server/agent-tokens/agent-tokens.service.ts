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

/** A token's last use is written at most this often (it is shown to admins as a time, not counted). */
export const TOKEN_USE_WRITE_INTERVAL_MS = 60_000;
/** Last uses wait this long to be written together (thousands of agents connect at a console start). */
export const TOKEN_USE_BATCH_MS = 1_000;

/**
 * Last uses of agent tokens, written in batches, at most once per TOKEN_USE_WRITE_INTERVAL_MS per
 * token: a write per connection was thousands of writes when every agent connects at once, each holding
 * the control plane's thread (the SQLite driver is synchronous) and SQLite's one writer.
 */
class TokenUses {
  private readonly due = new Set<string>();
  /** When each token's use was last queued (or found recent in the database). */
  private readonly notedAtMs = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  /** The latest use noted in the batch: the time the batch writes. */
  private latestMs = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly db: Db) {}

  note(tokenId: string, lastUsedAt: Date | null, nowMs: number): void {
    const noted = Math.max(this.notedAtMs.get(tokenId) ?? -Infinity, lastUsedAt?.getTime() ?? -Infinity);
    if (nowMs - noted < TOKEN_USE_WRITE_INTERVAL_MS) return;
    this.notedAtMs.set(tokenId, nowMs);
    this.due.add(tokenId);
    this.latestMs = Math.max(this.latestMs, nowMs);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), TOKEN_USE_BATCH_MS);
      this.timer.unref();
    }
  }

  /** Writes the uses noted so far (tests, and a console that stops). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ids = [...this.due];
    this.due.clear();
    if (ids.length === 0) return this.writing;
    const at = new Date(this.latestMs);
    this.writing = this.writing.then(async () => {
      // In chunks: SQLite bounds a statement's parameters.
      for (let i = 0; i < ids.length; i += 500) {
        // When it was last used is shown to admins; it must never be why an agent is refused (or waits).
        await this.db.agentToken.updateMany({ where: { id: { in: ids.slice(i, i + 500) } }, data: { lastUsedAt: at } }).catch(() => undefined);
      }
    });
    return this.writing;
  }
}

const tokenUses = new WeakMap<Db, TokenUses>();
function usesOf(db: Db): TokenUses {
  let uses = tokenUses.get(db);
  if (!uses) tokenUses.set(db, (uses = new TokenUses(db)));
  return uses;
}

/** Writes the agent token uses waiting for their batch now. */
export function flushAgentTokenUses(db: Db): Promise<void> {
  return usesOf(db).flush();
}

/** True when `token` is a live token of the host named `hostName`; records its last use (batched, see TokenUses). */
export async function verifyAgentToken(db: Db, hostName: string, token: string, nowMs = Date.now()): Promise<boolean> {
  const row = await db.agentToken.findUnique({ where: { tokenHash: sha256(token) }, select: { id: true, revokedAt: true, lastUsedAt: true, host: { select: { name: true } } } });
  if (!row || row.revokedAt || row.host.name !== hostName) return false;
  usesOf(db).note(row.id, row.lastUsedAt, nowMs);
  return true;
}
