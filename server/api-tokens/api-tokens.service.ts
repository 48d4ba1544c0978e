// API tokens: service accounts for automation (the REST API, the `switchyard` CLI, Prometheus). An
// admin creates a named token with a role and an expiry; the secret is returned once, the console
// keeps only its sha256 (like sessions and agent tokens). Creation and revocation are audited in the
// same transaction; requests made with a token are audited under the actor name "token:<name>" (a
// colon never appears in a user name, so the audit log cannot confuse the two).
//
// Failed bearer attempts are limited per client address like failed logins: each attempt reserves a
// failure before the token is looked up and a right token gives it back, so concurrent guesses cannot
// slip past the limit (server/auth/login-limits.ts explains why reserving first matters). Like the
// logins' per-address limit, this one only slows down: an address over it waits LOGIN_SLOWDOWN_MS per
// attempt and a wrong token gets 429, but a right token still gets in — behind a proxy missing from
// TRUSTED_PROXIES every client shares one address, and a guesser must not cut off Prometheus and every
// script for the window. (A token is 32 random bytes: the limit keeps guessers' load and noise down; it
// is not what makes a token hard to guess.)
import crypto from "node:crypto";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { Db } from "../db";
import { AppError, conflict, notFound } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.repository";
import { sha256, type SessionUser } from "../auth/auth.service";
import { isRole, type Role } from "../auth/roles";
import { LOGIN_SLOWDOWN_MS, LOGIN_SPREAD_FACTOR } from "../auth/login-limits";
import * as repo from "./api-tokens.repository";

export const API_TOKEN_PREFIX = "syt_";
/** "syt_" and 43 base64url characters (32 random bytes). */
export const API_TOKEN_PATTERN = /^syt_[A-Za-z0-9_-]{43}$/;
/** The audit log's actor name for a request made with a token. */
export const tokenActorName = (name: string) => `token:${name}`;
/** Longest expiry an admin may choose (ten years); `null` (never) must be chosen explicitly. */
export const API_TOKEN_MAX_EXPIRY_DAYS = 3650;
/** When a token was last used is written at most this often per token (a scrape every 15 s would otherwise write every 15 s). */
const TOUCH_INTERVAL_MS = 60_000;

export interface ApiTokenSettings {
  loginMaxFailures: number;
  loginWindowSeconds: number;
}

/** What an authenticated token acts as: a principal with the token's role (id is the token's id). */
export type TokenPrincipal = SessionUser & { tokenId: string };

export class ApiTokenService {
  private readonly failures: RateLimiterMemory;

  constructor(
    private readonly db: Db,
    settings: ApiTokenSettings,
    /** Injected so tests see the slow-down without waiting for it. */
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    // A client address may fail as often as it may fail logins across user names.
    this.failures = new RateLimiterMemory({ points: settings.loginMaxFailures * LOGIN_SPREAD_FACTOR, duration: settings.loginWindowSeconds });
  }

  list() {
    return repo.listApiTokens(this.db);
  }

  async create(actor: Actor, input: { name: string; role: Role; description: string; expiresInDays: number | null }): Promise<{ id: string; name: string; token: string; expiresAt: Date | null }> {
    const token = `${API_TOKEN_PREFIX}${crypto.randomBytes(32).toString("base64url")}`;
    const expiresAt = input.expiresInDays === null ? null : new Date(Date.now() + input.expiresInDays * 86_400_000);
    return this.db.$transaction(async (tx) => {
      if (await repo.findLiveApiTokenByName(tx, input.name)) {
        throw conflict(`an API token named ${input.name} already exists; revoke it first or choose another name`, [{ path: "name", message: "already exists" }]);
      }
      const row = await repo.createApiToken(tx, {
        name: input.name,
        role: input.role,
        tokenHash: sha256(token),
        prefix: token.slice(0, API_TOKEN_PREFIX.length + 6),
        description: input.description,
        createdBy: actor.name,
        expiresAt,
      });
      await recordAudit(tx, actor, {
        action: "api-token.create",
        objectType: "api-token",
        objectId: row.id,
        objectName: row.name,
        after: { role: row.role, expiresAt: row.expiresAt?.toISOString() ?? "never", prefix: row.prefix },
        detail: input.description,
      });
      return { id: row.id, name: row.name, token, expiresAt };
    });
  }

  async revoke(actor: Actor, id: string): Promise<void> {
    await this.db.$transaction(async (tx) => {
      const row = await repo.findApiToken(tx, id);
      if (!row) throw notFound(`API token ${id}`);
      if (row.revokedAt) throw conflict(`API token ${row.name} was already revoked by ${row.revokedBy ?? "someone"}`);
      await repo.revokeApiToken(tx, id, actor.name, new Date());
      await recordAudit(tx, actor, { action: "api-token.revoke", objectType: "api-token", objectId: id, objectName: row.name, before: { role: row.role, prefix: row.prefix } });
    });
  }

  /**
   * The principal behind a bearer token. Throws UNAUTHENTICATED for a malformed, unknown, revoked or
   * expired token (one message for all: the caller learns nothing about which). An address that failed
   * too often waits LOGIN_SLOWDOWN_MS per attempt, and a wrong token from it gets RATE_LIMITED; a right
   * one is let in.
   */
  async authenticate(token: string, address: string): Promise<TokenPrincipal> {
    const key = address;
    let over: RateLimiterRes | null = null;
    try {
      await this.failures.consume(key, 1);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      over = err;
      // Slowed down, not counted: the count stays at the limit until the window moves on.
      await this.failures.reward(key, 1);
      await this.sleep(LOGIN_SLOWDOWN_MS);
    }
    const found = API_TOKEN_PATTERN.test(token) ? await repo.findApiTokenByHash(this.db, sha256(token)) : null;
    const now = new Date();
    if (!found || found.revokedAt || (found.expiresAt && found.expiresAt <= now) || !isRole(found.role)) {
      if (over) throw new AppError("RATE_LIMITED", `too many failed API token attempts from ${address}; try again in ${Math.ceil(over.msBeforeNext / 1000)} s`);
      throw new AppError("UNAUTHENTICATED", "the API token is not valid (unknown, revoked or expired)");
    }
    if (!over) await this.failures.reward(key, 1);
    if (!found.lastUsedAt || now.getTime() - found.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
      // When it was last used is shown to admins; it must never be why a request fails.
      await repo.touchApiToken(this.db, found.id, now, address).catch(() => undefined);
    }
    return { id: found.id, tokenId: found.id, username: tokenActorName(found.name), role: found.role };
  }
}
