// The REST API (/api/v1/…) for automation: each route of rest-routes.ts calls its tRPC procedure
// through a server-side caller, so roles, validation, audit and errors are the procedure's. What this
// file adds is HTTP: matching the path, reading the query (coerced to the procedure's field types) or
// the JSON body (bounded by MAX_REQUEST_BYTES), the caller's API token, and turning answers and errors
// into status codes and bodies.
//
// Only API tokens identify a caller here (`Authorization: Bearer …`). A browser's session cookie is
// never accepted: this API has no CSRF protection, so a cookie would let any page the operator visits
// drive it. The pages use /api/trpc, which checks the origin.
import type http from "node:http";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { ZodError, type z } from "zod";
import { createCaller, appRouter } from "./root";
import { roleRefusal, trpcErrorOf, zodProblems, type ConsoleServices, type Context } from "./trpc";
import { identify } from "./identity";
import { restRoutes, type RestRoute } from "./rest-routes";
import { AppError, type Problem } from "../errors";
import type { TrustedProxies } from "../client-address";
import type { Role } from "../auth/roles";
import { logger } from "../log";

const log = logger("rest");

export const REST_PREFIX = "/api/v1/";

interface ProcedureDef {
  _def: { type: "query" | "mutation"; meta?: { role?: Role | "public" }; inputs: unknown[] };
}

/** The procedure behind a route: its role and its input schema (none for procedures without input). */
export function procedureOf(route: RestRoute): { role: Role | "public"; input: z.ZodType | null; type: "query" | "mutation" } {
  const proc = (appRouter._def.procedures as unknown as Record<string, ProcedureDef | undefined>)[route.procedure];
  if (!proc) throw new Error(`REST route ${route.method} ${route.path} names procedure ${route.procedure}, which does not exist`);
  const role = proc._def.meta?.role;
  if (!role) throw new Error(`procedure ${route.procedure} declares no role`);
  return { role, input: (proc._def.inputs[0] as z.ZodType | undefined) ?? null, type: proc._def.type };
}

interface CompiledRoute {
  route: RestRoute;
  pattern: RegExp;
  names: string[];
}

const compiled: CompiledRoute[] = restRoutes.map((route) => {
  const names: string[] = [];
  const pattern = new RegExp(
    `^${route.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_m, name: string) => {
      names.push(name);
      return "([^/]+)";
    })}$`,
  );
  return { route, pattern, names };
});

class HttpError extends Error {
  constructor(
    readonly code: TRPCError["code"],
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers }).end(JSON.stringify(body));
}

function sendError(res: http.ServerResponse, err: unknown): void {
  let code: TRPCError["code"] = "INTERNAL_SERVER_ERROR";
  let message: string;
  let problems: Problem[] = [];
  if (err instanceof HttpError) {
    ({ code, message, problems } = err);
  } else if (err instanceof AppError) {
    code = trpcErrorOf(err).code;
    message = err.message;
    problems = err.problems;
  } else if (err instanceof TRPCError) {
    code = err.code;
    message = err.message;
    const cause = err.cause;
    if (cause instanceof AppError) problems = cause.problems;
    if (cause instanceof ZodError) {
      problems = zodProblems(cause);
      message = problems.map((p) => p.message).join("; ");
    }
  } else {
    message = "";
  }
  if (code === "INTERNAL_SERVER_ERROR") {
    const reference = Math.random().toString(36).slice(2, 10);
    const cause = err instanceof TRPCError ? (err.cause ?? err) : err;
    log.error("internal error in a REST call", { reference, error: cause instanceof Error ? (cause.stack ?? cause.message) : String(cause) });
    message = `internal error (reference ${reference}); the details are in the console log`;
    problems = [];
  }
  const status = getHTTPStatusCodeFromError(new TRPCError({ code, message }));
  const headers: Record<string, string> = code === "UNAUTHORIZED" ? { "www-authenticate": 'Bearer realm="switchyard"' } : {};
  send(res, status, { error: { code, message, problems } }, headers);
}

/** The base zod type of a field (through optional, nullable, default …), to turn query text into it. */
function baseType(schema: z.ZodType): string {
  let def = (schema as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } } })._zod.def;
  for (let i = 0; i < 10; i++) {
    if (def.innerType) def = (def.innerType as unknown as { _zod: { def: typeof def } })._zod.def;
    else if (def.type === "pipe" && def.in) def = (def.in as unknown as { _zod: { def: typeof def } })._zod.def;
    else break;
  }
  return def.type;
}

export function inputShape(schema: z.ZodType | null): Record<string, z.ZodType> {
  const def = (schema as unknown as { _zod?: { def: { type: string; shape?: Record<string, z.ZodType> } } } | null)?._zod?.def;
  return def?.type === "object" && def.shape ? def.shape : {};
}

/** Query text as the field's type; what does not convert is left as text for the schema to refuse by name. */
function coerce(type: string, text: string): unknown {
  if (type === "number" && text.trim() !== "" && Number.isFinite(Number(text))) return Number(text);
  if (type === "boolean" && (text === "true" || text === "false")) return text === "true";
  if (type === "date" && !Number.isNaN(Date.parse(text))) return new Date(text);
  return text;
}

function queryInput(route: RestRoute, schema: z.ZodType | null, url: URL): Record<string, unknown> {
  const shape = inputShape(schema);
  const offered = Object.keys(shape).filter((k) => !route.hidden?.includes(k) && !Object.values(route.params ?? {}).some((p) => p.field === k));
  const input: Record<string, unknown> = {};
  for (const key of new Set(url.searchParams.keys())) {
    if (!offered.includes(key)) {
      throw new HttpError("BAD_REQUEST", `unknown query parameter ${key}; ${route.method} ${route.path} takes ${offered.length ? offered.join(", ") : "none"}`);
    }
    const values = url.searchParams.getAll(key);
    if (values.length > 1) throw new HttpError("BAD_REQUEST", `query parameter ${key} is given ${values.length} times; give it once`);
    input[key] = coerce(baseType(shape[key]!), values[0]!);
  }
  return input;
}

/** JSON has no dates: an ISO 8601 text in a date field becomes a Date (anything else is left for the schema to refuse). */
function bodyInput(schema: z.ZodType | null, body: Record<string, unknown>): Record<string, unknown> {
  const shape = inputShape(schema);
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === "string" && shape[key] && baseType(shape[key]) === "date") body[key] = coerce("date", value);
  }
  return body;
}

async function readJsonBody(req: http.IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError("PAYLOAD_TOO_LARGE", `request body is over the limit of ${maxBytes} bytes (MAX_REQUEST_BYTES)`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  const type = String(req.headers["content-type"] ?? "");
  if (!/^application\/json\b/i.test(type)) throw new HttpError("UNSUPPORTED_MEDIA_TYPE", `the body must be JSON (Content-Type: application/json); it was ${type || "not declared"}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new HttpError("BAD_REQUEST", `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError("BAD_REQUEST", "the body must be a JSON object");
  return body as Record<string, unknown>;
}

type Caller = ReturnType<typeof createCaller>;

function callProcedure(caller: Caller, path: string, input: unknown): Promise<unknown> {
  let target: unknown = caller;
  for (const part of path.split(".")) target = (target as Record<string, unknown>)[part];
  return (target as (i: unknown) => Promise<unknown>)(input);
}

/** Serves /api/v1/… (the caller has checked the prefix and the declared body size). */
export function createRestHandler(services: ConsoleServices, proxies: TrustedProxies) {
  const maxBodyBytes = services.env.MAX_REQUEST_BYTES;
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    try {
      const url = new URL(req.url ?? "/", "http://console.invalid");
      const matches = compiled.map((c) => ({ c, m: c.pattern.exec(url.pathname) })).filter((x) => x.m !== null);
      if (matches.length === 0) throw new HttpError("NOT_FOUND", `no API route ${url.pathname}; the routes are listed in /api/openapi.json`);
      const found = matches.find((x) => x.c.route.method === req.method);
      if (!found) {
        const allowed = matches.map((x) => x.c.route.method).join(", ");
        res.setHeader("allow", allowed);
        throw new HttpError("METHOD_NOT_SUPPORTED", `${req.method} is not accepted on ${url.pathname}; use ${allowed}`);
      }
      const { route, names } = found.c;
      const proc = procedureOf(route);
      const ip = proxies.clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"]);
      const who = await identify(services, req, ip, { cookies: false });
      if (!who.user && proc.role !== "public") {
        const cookieNote = req.headers.cookie ? " (a browser session cookie is not accepted here; the pages use /api/trpc)" : "";
        throw new HttpError("UNAUTHORIZED", `this needs an API token with the ${proc.role} role: send Authorization: Bearer <token>${cookieNote}`);
      }
      // The role before the input, as tRPC does: a caller below it learns nothing from how its input fares.
      const below = who.user && proc.role !== "public" ? roleRefusal(who.user, proc.role) : null;
      if (below) throw new HttpError("FORBIDDEN", below);
      const input: Record<string, unknown> = route.method === "GET" ? queryInput(route, proc.input, url) : bodyInput(proc.input, await readJsonBody(req, maxBodyBytes));
      for (const [i, name] of names.entries()) {
        const param = route.params![name]!;
        let value: string;
        try {
          value = decodeURIComponent(found.m![i + 1]!);
        } catch {
          throw new HttpError("BAD_REQUEST", `the ${name} in the path is not valid percent-encoding`);
        }
        if (param.field in input) throw new HttpError("BAD_REQUEST", `${param.field} comes from the path ({${name}}); leave it out of the ${route.method === "GET" ? "query" : "body"}`);
        if (param.resolve) {
          const resolved = await param.resolve(services, value);
          if (resolved === null) throw new HttpError("NOT_FOUND", `${name} ${value} does not exist`);
          value = resolved;
        }
        input[param.field] = value;
      }
      const ctx: Context = {
        services,
        ...who,
        ip,
        userAgent: String(req.headers["user-agent"] ?? ""),
        // The REST API never sets cookies: a token is its only credential.
        cookies: { setSession: () => {}, clearSession: () => {} },
      };
      const output = await callProcedure(createCaller(ctx), route.procedure, proc.input ? input : undefined);
      const refusal = route.refusal?.(output) ?? null;
      if (refusal !== null) throw new HttpError("CONFLICT", refusal);
      if (route.respond === "file") {
        const file = output as { filename: string; contentType: string; text: string };
        res.writeHead(200, { "content-type": file.contentType, "content-disposition": `attachment; filename="${file.filename}"`, "cache-control": "no-store" }).end(file.text);
        return;
      }
      if (route.respond === "yaml") {
        res.writeHead(200, { "content-type": "application/yaml; charset=utf-8", "content-disposition": 'attachment; filename="switchyard-config.yaml"', "cache-control": "no-store" }).end(String(output));
        return;
      }
      send(res, route.status ?? 200, output ?? null);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, err);
    }
  };
}
