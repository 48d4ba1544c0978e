// tRPC setup, in the order create-t3-app uses.
// 1. CONTEXT: who is calling (from the session cookie, or an API token in `Authorization: Bearer`) and the console's parts, built once by the
//    composition root (server/console.ts) and handed to every call.
// 2. INITIALIZATION: superjson, the error formatter (AppError problems and zod issues reach the
//    browser; internal errors are logged and hidden).
// 3. PROCEDURES: every procedure declares the role it needs through its builder; `meta.role` is
//    what the role middleware enforces and what a test checks is present on every procedure.
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import { AppError, type AppErrorCode, type Problem } from "../errors";
import type { Db } from "../db";
import type { Env } from "../env";
import type { AuthService, SessionUser } from "../auth/auth.service";
import type { ApiTokenService } from "../api-tokens/api-tokens.service";
import type { ConfigEvents } from "../config/config-events";
import type { ControlPlane } from "../control-plane/control-plane";
import type { OperationsService } from "../runtime/operations.service";
import type { AlarmEngine } from "../alarms/engine";
import type { LabControls } from "../lab/lab";
import type { UpgradeService } from "../upgrade/upgrade.service";
import type { ScheduleService } from "../schedule/schedule.service";
import { roleAtLeast, type Role } from "../auth/roles";
import type { Actor } from "../audit/audit.repository";
import { logger } from "../log";
import { withArticle } from "../../lib/words";

const log = logger("api");

// ---- 1. context ---------------------------------------------------------------------------------

export interface CookieJar {
  setSession(token: string, expiresAt: Date): void;
  clearSession(): void;
}

/** The console's long-lived parts, every one built before the first request (none is filled in later). */
export interface ConsoleServices {
  db: Db;
  env: Env;
  auth: AuthService;
  apiTokens: ApiTokenService;
  configEvents: ConfigEvents;
  controlPlane: ControlPlane;
  operations: OperationsService;
  alarms: AlarmEngine;
  /** The demo lab's fault controls, or a stand-in that says this console runs no lab. */
  lab: LabControls;
  /** W14 guided upgrades and the install commands per application. */
  upgrades: UpgradeService;
  /** Scheduled switchovers. */
  schedules: ScheduleService;
}

export interface Context {
  services: ConsoleServices;
  user: SessionUser | null;
  sessionId: string | null;
  /** How the caller proved who it is: a browser session cookie, an API token (Authorization: Bearer), or nothing. */
  credential?: "session" | "token" | null;
  ip: string;
  userAgent: string;
  cookies: CookieJar;
}

export interface Meta {
  /** The least role allowed to call; "public" only for login and first-admin setup. */
  role: Role | "public";
}

// ---- 2. initialization -------------------------------------------------------------------------

const trpcCodes: Record<AppErrorCode, TRPCError["code"]> = {
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  INVALID: "BAD_REQUEST",
  UNAUTHENTICATED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  RATE_LIMITED: "TOO_MANY_REQUESTS",
};

export function zodProblems(error: ZodError): Problem[] {
  return error.issues.map((i) => ({ path: i.path.join("."), message: `${i.path.join(".") || "input"}: ${i.message}` }));
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    transformer: superjson,
    errorFormatter({ shape, error, path }) {
      const cause = error.cause;
      const problems = cause instanceof AppError ? cause.problems : cause instanceof ZodError ? zodProblems(cause) : [];
      let message = shape.message;
      if (cause instanceof ZodError) message = problems.map((p) => p.message).join("; ");
      if (error.code === "INTERNAL_SERVER_ERROR") {
        const ref = Math.random().toString(36).slice(2, 10);
        const cause = error.cause ?? error;
        // The error's text may quote a caller's input: a field, never part of the sentence.
        log.error("internal error in an API call", { reference: ref, procedure: path ?? null, error: cause.stack ?? String(cause) });
        message = `internal error (reference ${ref}); the details are in the console log`;
      }
      return { ...shape, message, data: { ...shape.data, stack: undefined, problems } };
    },
  });

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/** An AppError as the TRPCError of its code (also for failures before a procedure runs: a bad API token). */
export function trpcErrorOf(cause: AppError): TRPCError {
  return new TRPCError({ code: trpcCodes[cause.code], message: cause.message, cause });
}

/** Maps AppError to its tRPC code so services never import tRPC. */
const errorMapper = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) {
    throw trpcErrorOf(result.error.cause);
  }
  return result;
});

// ---- 3. procedures -----------------------------------------------------------------------------

/** Why this caller may not call something that needs `needed`, or null when it may (the REST API asks before it reads input, as tRPC does). */
export function roleRefusal(user: SessionUser, needed: Role): string | null {
  return roleAtLeast(user.role, needed) ? null : `${user.username} is ${withArticle(user.role)}; this needs the ${needed} role`;
}

const requireRole = t.middleware(({ ctx, meta, next }) => {
  const needed = meta?.role;
  if (!needed || needed === "public") throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "procedure declares no role" });
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "log in first" });
  const refusal = roleRefusal(ctx.user, needed);
  if (refusal) throw new TRPCError({ code: "FORBIDDEN", message: refusal });
  const actor: Actor = { id: ctx.user.id, name: ctx.user.username };
  return next({ ctx: { ...ctx, user: ctx.user, actor } });
});

const base = t.procedure.use(errorMapper);

export const publicProcedure = base.meta({ role: "public" });
export const viewerProcedure = base.meta({ role: "viewer" }).use(requireRole);
export const operatorProcedure = base.meta({ role: "operator" }).use(requireRole);
export const adminProcedure = base.meta({ role: "admin" }).use(requireRole);

/** An admin mutation that changes the configuration: listeners (agents, controller) hear of it once it committed. */
export const configChangeProcedure = adminProcedure.use(async ({ ctx, next }) => {
  const result = await next();
  if (result.ok) ctx.services.configEvents.changed();
  return result;
});
