// The simulator's HTTP interface on http-port: the application side of the local contract
// (GET /server?sipServer, POST /switchyard/v1/{role,console,reload}, GET /switchyard/v1/running) and,
// only when lab faults are enabled, POST /lab/v1/* for fault injection and bulk calls. Every body is
// validated with zod.
import * as http from "node:http";
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import {
  consoleConnectionSchema,
  runningConfigSchema,
  setRoleRequestSchema,
  setRoleResponseSchema,
  sipServerStatusSchema,
  staleEpochResponseSchema,
} from "../../protocol/app-contract";
import type { SimServer } from "./server";
import { labFaults } from "../../protocol/vocabulary";
import { SettingsError } from "./settings";

export const labFaultRequestSchema = z.object({ kind: z.enum(labFaults), on: z.boolean() }).strict();
export const labCreateCallsSchema = z
  .object({ count: z.number().int().min(1).max(100_000), multisite: z.boolean().default(false) })
  .strict();
export const labEndCallsSchema = z.object({ multisite: z.boolean().optional() }).strict();

const maxBodyBytes = 64 * 1024;

export interface HttpInterfaceOptions {
  server: SimServer;
  secret: string | undefined;
  labEndpoints: boolean;
  /** Re-reads SWITCHYARD_CONFIG_FILE; throws SettingsError with a message when the new file is invalid. */
  reload: () => Promise<void>;
  log: (line: string) => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function createHttpInterface(options: HttpInterfaceOptions): http.Server {
  const { server } = options;
  const httpServer = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof HttpError ? error.message : "internal error";
      if (!(error instanceof HttpError)) options.log(`HTTP ${request.method} ${request.url}: ${String(error)}`);
      if (!response.headersSent) sendJson(response, status, { error: message });
    });
  });

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    const isLab = url.pathname.startsWith("/lab/");
    // A hung server answers nothing on its interface; the lab routes stay so the fault can be lifted.
    if (server.faults.hang && !isLab) return;

    if (request.method === "GET" && url.pathname === "/server") {
      // SIP Server's own interface is unauthenticated; the agent polls it like the real one.
      sendJson(response, 200, sipServerStatusSchema.parse(server.sipServerStatus()));
      return;
    }
    if (isLab && !options.labEndpoints) throw new HttpError(404, "lab endpoints are disabled (set SWITCHYARD_LAB_FAULTS=1)");
    // /switchyard/* changes roles: only the agent that started us (it holds the secret). /lab/* is off
    // unless SWITCHYARD_LAB_FAULTS=1 and is driven by the lab (demo page, tests), which never sees the
    // per-start secret the agent generated.
    if (url.pathname.startsWith("/switchyard/")) authorise(request);

    const route = `${request.method} ${url.pathname}`;
    switch (route) {
      case "POST /switchyard/v1/role": {
        const body = await readJson(request, setRoleRequestSchema);
        const result = server.setRole(body);
        if (result.ok) sendJson(response, 200, setRoleResponseSchema.parse({ role: result.role, epoch: result.epoch }));
        else sendJson(response, 409, staleEpochResponseSchema.parse({ error: "stale-epoch", epoch: result.epoch, message: result.message }));
        return;
      }
      case "POST /switchyard/v1/console": {
        const body = await readJson(request, consoleConnectionSchema);
        server.setConsoleConnected(body.connected);
        sendEmpty(response);
        return;
      }
      case "POST /switchyard/v1/reload": {
        try {
          await options.reload();
        } catch (error) {
          // A bad file is the caller's to fix; the server keeps running with what it had.
          if (error instanceof SettingsError) throw new HttpError(400, `${error.message}; the running configuration is unchanged`);
          throw error;
        }
        sendEmpty(response);
        return;
      }
      case "GET /switchyard/v1/running":
        sendJson(response, 200, runningConfigSchema.parse(server.runningConfig()));
        return;
      case "POST /lab/v1/fault": {
        const body = await readJson(request, labFaultRequestSchema);
        await server.setFault(body.kind, body.on);
        sendJson(response, 200, { faults: server.faults });
        return;
      }
      case "POST /lab/v1/calls": {
        const body = await readJson(request, labCreateCallsSchema);
        const created = server.createLabCalls(body.count, body.multisite);
        sendJson(response, 200, { created, total: server.calls.size });
        return;
      }
      case "POST /lab/v1/calls/end": {
        const body = await readJson(request, labEndCallsSchema);
        sendJson(response, 200, { ended: server.endLabCalls(body), total: server.calls.size });
        return;
      }
      case "GET /lab/v1/state":
        sendJson(response, 200, server.labState());
        return;
      default:
        throw new HttpError(404, `no route ${route}`);
    }
  }

  function authorise(request: http.IncomingMessage): void {
    if (options.secret === undefined) return;
    const header = request.headers.authorization ?? "";
    const expected = Buffer.from(`Bearer ${options.secret}`);
    const given = Buffer.from(header);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new HttpError(401, "missing or wrong bearer secret");
  }

  return httpServer;
}

async function readJson<T extends z.ZodType>(request: http.IncomingMessage, schema: T): Promise<z.infer<T>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBodyBytes) throw new HttpError(413, `body larger than ${maxBodyBytes} bytes`);
    chunks.push(buffer);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "body is not JSON");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new HttpError(400, parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; "));
  }
  return parsed.data;
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

function sendEmpty(response: http.ServerResponse): void {
  response.writeHead(204);
  response.end();
}
