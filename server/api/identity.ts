// Who a request to the web port is: a browser session (the cookie) or a service account (an API token
// in `Authorization: Bearer`). Shared by tRPC (/api/trpc), the REST API (/api/v1) and /metrics, so
// every entry point reads credentials the same way. A request that carries a bearer token is judged by
// the token alone: its cookies are ignored (a token is not a browser session, and a browser session
// must never ride along on a token's request).
import type http from "node:http";
import { AppError } from "../errors";
import { SESSION_COOKIE, type SessionUser } from "../auth/auth.service";
import type { ConsoleServices } from "./trpc";
import { SECRET_MAX_CHARS } from "../../protocol/limits";

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    try {
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // a malformed cookie value is ignored, not fatal
    }
  }
  return out;
}

/**
 * The bearer token of a request: null when it sent no Authorization header; refused with a message
 * naming what is wrong when the header is there but is not `Bearer <token>`.
 */
export function bearerToken(headers: http.IncomingHttpHeaders): string | null {
  const header = headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer +(\S+)\s*$/i.exec(header);
  if (!match) throw new AppError("UNAUTHENTICATED", "the Authorization header must be `Bearer <API token>`");
  if (match[1]!.length > SECRET_MAX_CHARS) throw new AppError("UNAUTHENTICATED", `the API token is ${match[1]!.length} characters long; tokens are at most ${SECRET_MAX_CHARS}`);
  return match[1]!;
}

export interface Identity {
  user: SessionUser | null;
  sessionId: string | null;
  credential: "session" | "token" | null;
}

/**
 * The caller behind a request. `cookies: false` (the REST API, /metrics) never accepts a session
 * cookie: those entries have no CSRF protection, so only a token (which a foreign page cannot make a
 * browser send) identifies a caller there. Throws AppError for a bad or rate-limited token.
 */
export async function identify(services: ConsoleServices, req: http.IncomingMessage, clientAddress: string, opts: { cookies: boolean }): Promise<Identity> {
  const token = bearerToken(req.headers);
  if (token !== null) {
    const principal = await services.apiTokens.authenticate(token, clientAddress);
    return { user: { id: principal.id, username: principal.username, role: principal.role }, sessionId: null, credential: "token" };
  }
  if (!opts.cookies) return { user: null, sessionId: null, credential: null };
  const found = await services.auth.userForToken(parseCookies(req.headers.cookie)[SESSION_COOKIE]);
  return found
    ? { user: { id: found.id, username: found.username, role: found.role }, sessionId: found.sessionId, credential: "session" }
    : { user: null, sessionId: null, credential: null };
}
