// The console's HTTP server (the web tier): one port for tRPC (/api/trpc), the REST API for automation
// (/api/v1, documented at /api/openapi.json), Prometheus metrics (/metrics), the browsers' socket.io
// (/socket.io, namespace /ui) and the Next.js pages. tRPC is served here rather than from a Next route so
// the API and the browsers' sockets share one module graph with the services the composition root
// built. Host agents do not connect here: they use the control plane's own port (AGENT_PORT).
// Every request body is bounded (MAX_REQUEST_BYTES), refused with 413 before it is read.
import http from "node:http";
import pg from "pg";
import { createAdapter } from "@socket.io/postgres-adapter";
import { dialectOf } from "./db/dialect";
import { clusterView } from "./control-plane/cluster-view";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { Server as SocketServer, type Namespace } from "socket.io";
import { UI_NAMESPACE, type UiServerToClientEvents } from "../lib/ui-events";
import { appRouter } from "./api/root";
import { trpcErrorOf, type ConsoleServices, type Context } from "./api/trpc";
import { bearerToken, identify, parseCookies, type Identity } from "./api/identity";
import { AppError } from "./errors";
import { createRestHandler, REST_PREFIX } from "./api/rest";
import { openApiDocument } from "./api/openapi";
import { SESSION_COOKIE, type EndedSessions, type SessionUser } from "./auth/auth.service";
import { TrustedProxies } from "./client-address";
import { contentSecurityPolicy, newNonce, securityHeaders } from "./security-headers";
import { logger } from "./log";

const log = logger("http");

/**
 * True when the browser's request arrived over HTTPS: on a TLS socket, or through a proxy listed in
 * TRUSTED_PROXIES that says so in X-Forwarded-Proto. From any other peer the header is ignored, like
 * X-Forwarded-For: whoever can reach the port directly does not decide how the console sees them.
 */
function isHttps(req: http.IncomingMessage, proxies: TrustedProxies): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return true;
  return proxies.has(req.socket.remoteAddress ?? "") && req.headers["x-forwarded-proto"] === "https";
}

function sessionCookie(value: string, expires: Date, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Expires=${expires.toUTCString()}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

/**
 * True when a request's Origin, if it sent one, is this console (the host it addressed). Browsers send
 * Origin on every cross-origin request and on every WebSocket; requests without one are not a browser
 * page of another site. A second line behind SameSite cookies, which a page on another port of the same
 * host (same site) still gets sent.
 */
function fromOwnOrigin(headers: http.IncomingHttpHeaders): boolean {
  const origin = headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === headers.host;
  } catch {
    return false; // "null" (sandboxed frames, file:) and garbage
  }
}

export async function contextFor(services: ConsoleServices, proxies: TrustedProxies, req: http.IncomingMessage, res: http.ServerResponse): Promise<Context> {
  const ip = proxies.clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"]);
  let who: Identity;
  try {
    who = await identify(services, req, ip, { cookies: true });
  } catch (err) {
    throw err instanceof AppError ? trpcErrorOf(err) : err;
  }
  const secureSetting = services.env.SECURE_COOKIES;
  const secure = secureSetting === "true" || (secureSetting === "auto" && isHttps(req, proxies));
  return {
    services,
    ...who,
    ip,
    userAgent: String(req.headers["user-agent"] ?? ""),
    cookies: {
      setSession: (value, expires) => res.appendHeader("Set-Cookie", sessionCookie(value, expires, secure)),
      clearSession: () => res.appendHeader("Set-Cookie", sessionCookie("", new Date(0), secure)),
    },
  };
}

/** What a browser's live socket carries: who it is and the session it was opened with. */
interface UiSocketData {
  user: SessionUser;
  sessionId: string;
}
type UiNamespace = Namespace<Record<string, never>, UiServerToClientEvents, Record<string, never>, UiSocketData>;

export interface ConsoleServer {
  server: http.Server;
  io: SocketServer;
  /** The browsers' live channel, typed by lib/ui-events.ts. */
  ui: UiNamespace;
  url: string;
  /** Drops the live sockets of ended sessions (the AuthService says which; the composition root wires it). */
  endSessions(ended: EndedSessions): void;
  /**
   * Several consoles on PostgreSQL: tells the other consoles' web tiers (through the socket.io adapter),
   * and hears them. Null on SQLite (one console).
   */
  otherConsoles: OtherConsoles | null;
  close(): Promise<void>;
}

/** What one console's web tier tells the others': an operator changed alarms or their conditions (their engines read them again). */
export type OtherConsolesEvent = "alarms:reload";
export interface OtherConsoles {
  emit(event: OtherConsolesEvent): void;
  on(event: OtherConsolesEvent, listener: () => void): void;
}

/** Rooms a live socket joins, so an ended session or user finds its sockets. */
const sessionRoom = (sessionId: string) => `session:${sessionId}`;
const userRoom = (userId: string) => `user:${userId}`;
/** setTimeout's largest delay (24.8 days): a longer session's socket is dropped then, and its reconnect arms the rest. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A small pool for the socket.io adapter (one connection LISTENs, one NOTIFYs), with its attachments table. */
async function clusterAdapterPool(url: string): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on("error", (err) => log.warn("a connection of the browsers' cross-console channel failed", { error: err.message }));
  // Payloads over NOTIFY's 8,000 bytes travel through this table (the adapter's documented setup).
  await pool.query("CREATE TABLE IF NOT EXISTS socket_io_attachments (id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(), payload bytea)");
  return pool;
}

type PageHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;

/** How long an idle keep-alive connection stays open (see startHttpServer). */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Browsers send only small messages on their socket (the server pushes; they do not upload). */
export const UI_SOCKET_MAX_MESSAGE_BYTES = 64 * 1024;

function refuse(res: http.ServerResponse, status: number, error: string): void {
  // The body was not read: close the connection rather than let the client keep sending into it.
  res.writeHead(status, { "content-type": "application/json", connection: "close" }).end(JSON.stringify({ error }));
  res.once("finish", () => res.socket?.destroy());
}

export async function startHttpServer(
  services: ConsoleServices,
  opts: {
    host: string;
    port: number;
    pages?: PageHandler;
    /** Next.js development mode (its pages need eval). */
    dev?: boolean;
    /** GET /metrics on this port (absent: 404, e.g. when METRICS_PORT serves it apart). */
    metrics?: PageHandler;
  },
): Promise<ConsoleServer> {
  const maxBodyBytes = services.env.MAX_REQUEST_BYTES;
  const proxies = new TrustedProxies(services.env.TRUSTED_PROXIES);
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/api/trpc/",
    // Bodies without a declared length (chunked) are cut off at the same limit while they stream.
    maxBodySize: maxBodyBytes,
    // Internal errors are logged once, with the reference the caller sees, by the error formatter (api/trpc.ts).
    createContext: ({ req, res }) => contextFor(services, proxies, req, res),
  });

  const rest = createRestHandler(services, proxies);

  const dev = opts.dev ?? false;
  const plainHeaders = securityHeaders({ nonce: null, dev });
  const server = http.createServer((req, res) => {
    for (const [name, value] of Object.entries(plainHeaders)) res.setHeader(name, value);
    const url = req.url ?? "/";
    const declaredBytes = Number(req.headers["content-length"] ?? 0);
    if (declaredBytes > maxBodyBytes) {
      refuse(res, 413, `request body of ${declaredBytes} bytes is over the limit of ${maxBodyBytes} bytes (MAX_REQUEST_BYTES)`);
      return;
    }
    if (url === "/healthz") {
      // Alive; and which console leads (a load balancer or an operator's probe can tell the leader from followers).
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify({ ok: true, console: clusterView(services.controlPlane.cluster()) }));
      return;
    }
    if (url.startsWith("/api/trpc/")) {
      // A request with an API token is not a browser session: the origin check (CSRF) is for cookies.
      // Its cookies are ignored (identify()), so a page of another site gains nothing by adding one.
      if (req.method !== "GET" && req.headers.authorization === undefined && !fromOwnOrigin(req.headers)) {
        res.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify({ error: "cross-origin request refused" }));
        return;
      }
      trpc(req, res);
      return;
    }
    if (opts.metrics && url.split("?")[0] === "/metrics") {
      void opts.metrics(req, res);
      return;
    }
    if (url.startsWith(REST_PREFIX)) {
      void rest(req, res);
      return;
    }
    if (url === "/api/openapi.json" && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-cache" }).end(JSON.stringify(openApiDocument()));
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      // Pages are read, never posted to (the API is /api/trpc): no body reaches Next.js unbounded.
      refuse(res, 405, `${req.method} is not accepted here; the API is /api/v1 (REST, /api/openapi.json) and /api/trpc (the pages)`);
      return;
    }
    if (opts.pages) {
      // Next.js takes the nonce for its inline scripts from the request's CSP header; the browser
      // enforces the response's. The same policy in both, so what Next marks is what may run.
      const policy = contentSecurityPolicy({ nonce: newNonce(), dev });
      req.headers["content-security-policy"] = policy;
      res.setHeader("Content-Security-Policy", policy);
      Promise.resolve(opts.pages(req, res)).catch((err) => {
        log.error("rendering a page failed", { url, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
        if (!res.headersSent) res.writeHead(500).end("internal error");
      });
      return;
    }
    res.writeHead(404).end("not found");
  });

  // Idle keep-alive connections stay open longer than the clients' and proxies' own idle limits (nginx's
  // upstream and most HTTP clients use 60 s): with Node's 5 s a client reusing a connection just as the
  // server closed it got ECONNRESET on a request the server never saw.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  const io = new SocketServer(server, { path: "/socket.io", serveClient: false, maxHttpBufferSize: UI_SOCKET_MAX_MESSAGE_BYTES });
  // Several consoles on one PostgreSQL: what one instance broadcasts to browsers (alarms changed, a
  // procedure changed, a session ended) reaches the browsers of every instance, through the database
  // they already share (LISTEN/NOTIFY) — no second service to run and keep available (README, "Several
  // consoles"). The live pair views are not broadcast: each instance sends its own mirror's (ui.local).
  const adapterPool = dialectOf(services.env.DATABASE_URL) === "postgresql" ? await clusterAdapterPool(services.env.DATABASE_URL) : null;
  if (adapterPool) io.adapter(createAdapter(adapterPool, { errorHandler: (err) => log.warn("the browsers' cross-console channel (PostgreSQL LISTEN/NOTIFY) failed", { error: err.message }) }));
  // socket.io answers its own requests (long polling) before the handler above sees them.
  const addHeaders = (headers: Record<string, string>) => Object.assign(headers, plainHeaders);
  io.engine.on("initial_headers", addHeaders);
  io.engine.on("headers", addHeaders);
  // An agent pointed at the web port by mistake is told where to go instead of a bare "invalid namespace".
  io.of("/agent").use((_socket, next) => next(new Error("host agents connect to the console's agent port (AGENT_PORT, 3001 by default), not the web port")));
  // Browsers: only logged-in sessions of this console's own pages get a socket, and it lives as long as
  // its session: logout, disabling the user, a password or role change and expiry drop it.
  const ui = io.of(UI_NAMESPACE) as unknown as UiNamespace;
  const sessionOf = (socket: { request: http.IncomingMessage }) => services.auth.userForToken(parseCookies(socket.request.headers.cookie)[SESSION_COOKIE]).catch(() => null);
  ui.use(async (socket, next) => {
    const headers = socket.request.headers;
    if (!fromOwnOrigin(headers)) return next(new Error(`cross-origin socket refused: origin ${String(headers.origin)} is not this console (${String(headers.host)})`));
    const found = await sessionOf(socket);
    if (!found) return next(new Error("not logged in"));
    socket.data.user = { id: found.id, username: found.username, role: found.role };
    socket.data.sessionId = found.sessionId;
    next();
  });
  ui.on("connection", (socket) => {
    const { user, sessionId } = socket.data;
    void socket.join([sessionRoom(sessionId), userRoom(user.id)]);
    // Checked again once in the rooms: a logout between the handshake's check and the join found no
    // socket to drop, but is seen here.
    void sessionOf(socket).then((found) => {
      if (!found || found.sessionId !== sessionId || found.role !== user.role) return socket.disconnect(true);
      const expiry = setTimeout(() => socket.disconnect(true), Math.min(MAX_TIMER_MS, Math.max(0, found.expiresAt.getTime() - Date.now())));
      socket.once("disconnect", () => clearTimeout(expiry));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  const shownHost = opts.host === "0.0.0.0" || opts.host === "::" ? "localhost" : opts.host;
  return {
    server,
    io,
    ui,
    url: `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`,
    otherConsoles: adapterPool
      ? {
          emit: (event) => (ui as unknown as Namespace).serverSideEmit(event),
          on: (event, listener) => void (ui as unknown as Namespace).on(event as never, listener),
        }
      : null,
    endSessions(ended) {
      const room = "sessionId" in ended ? sessionRoom(ended.sessionId) : userRoom(ended.userId);
      log.debug("dropping the live sockets of ended sessions", { room, reason: ended.reason });
      ui.in(room).disconnectSockets(true);
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        io.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await adapterPool?.end().catch(() => undefined);
    },
  };
}
