// The agent's side of the local application contract (protocol/app-contract.ts): an HTTP server on
// 127.0.0.1 where applications the agent started report status, role and log events, ask for their
// pair's control script, and check VIP presence; plus an unauthenticated GET /health that says only
// that the agent is alive (names, pids and the console address stay in the health file). A request
// whose Host is not this loopback address and port is refused (421): a web page the operator visits
// cannot reach the contract through a DNS name rebound to 127.0.0.1.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { timingSafeEqual } from "node:crypto";
import type { z } from "zod";
import {
  appStatusReportSchema,
  controlScriptRequestSchema,
  logEventsSchema,
  type AppStatusReport,
  type ControlScriptResult,
  type LogEvent,
} from "../protocol/app-contract";
import { describeZodError } from "../protocol/agent-wire";

/** Request bodies above this are refused; contract messages are small. */
export const MAX_LOCAL_BODY_BYTES = 1024 * 1024;

export interface LocalHandlers {
  /** The per-start secret of a running application, or null (unknown or not started by us). */
  secretOf(app: string): string | null;
  status(app: string, report: AppStatusReport): void;
  events(app: string, events: LogEvent[]): void;
  controlScript(app: string, action: "enable" | "disable", reason: string): Promise<ControlScriptResult | { error: string }>;
  vip(app: string): Promise<{ present: boolean; address: string } | { error: string }>;
  log(line: string): void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_LOCAL_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_LOCAL_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
  } catch {
    throw new HttpError(400, "body is not JSON");
  }
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success) throw new HttpError(400, describeZodError(r.error));
  return r.data;
}

export interface LocalServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The Host values a loopback client of this server sends; anything else is a rebound name or a proxy. */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

export async function startLocalServer(port: number, h: LocalHandlers): Promise<LocalServer> {
  const server = http.createServer((req, res) => {
    const send = (status: number, body?: unknown) => {
      if (body === undefined) res.writeHead(status).end();
      else res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    handle(req)
      .then(({ status, body }) => send(status, body))
      .catch((err: unknown) => {
        if (err instanceof HttpError) {
          if (err.status !== 404) h.log(`local contract: ${req.method} ${req.url} refused (${err.status}): ${err.message}`);
          send(err.status, { error: err.message });
        } else {
          h.log(`local contract: ${req.method} ${req.url} failed: ${String(err)}`);
          send(500, { error: "internal error" });
        }
      });
  });

  let hosts = new Set<string>();
  async function handle(req: http.IncomingMessage): Promise<{ status: number; body?: unknown }> {
    const host = (req.headers.host ?? "").toLowerCase();
    if (!hosts.has(host)) throw new HttpError(421, `Host ${JSON.stringify(host.slice(0, 100))} is not this agent's loopback address`);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "GET" && url.pathname === "/health") return { status: 200, body: { ok: true } };
    const m = /^\/v1\/apps\/([^/]+)\/(status|events|control-script|vip)$/.exec(url.pathname);
    if (!m) throw new HttpError(404, "no such endpoint");
    const app = decodeURIComponent(m[1]!);
    const what = m[2]!;
    const secret = h.secretOf(app);
    const auth = req.headers.authorization ?? "";
    if (!secret || !auth.startsWith("Bearer ") || !sameSecret(auth.slice(7), secret)) {
      throw new HttpError(401, `not authorised for application ${app} (it must be running under this agent and send its SWITCHYARD_APP_SECRET)`);
    }
    const method = what === "vip" ? "GET" : "POST";
    if (req.method !== method) throw new HttpError(405, `${what} takes ${method}`);
    switch (what) {
      case "status":
        h.status(app, parse(appStatusReportSchema, await readJson(req)));
        return { status: 204 };
      case "events":
        h.events(app, parse(logEventsSchema, await readJson(req)).events);
        return { status: 204 };
      case "control-script": {
        const body = parse(controlScriptRequestSchema, await readJson(req));
        const result = await h.controlScript(app, body.action, body.reason);
        if ("error" in result) throw new HttpError(409, result.error);
        return { status: 200, body: result };
      }
      default: {
        const result = await h.vip(app);
        if ("error" in result) throw new HttpError(409, result.error);
        return { status: 200, body: result };
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // Loopback only: the contract is for processes on this host.
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  hosts = allowedHosts(actual);
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
