// What the hostile-input tests stand on: a real console (startConsole: HTTP, tRPC, socket.io, the
// control plane's agent port) on a fresh SQLite file, users of every role, and small clients that speak
// to it the way a browser, a script or an agent would — cookies, Origin and X-Forwarded-For headers,
// socket.io sockets — so each attack is made over the wire, not through a shortcut.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { io as connectSocket, type Socket } from "socket.io-client";
import { startConsole, type RunningConsole } from "../console";
import type { createCaller } from "../api/root";
import { callerFor } from "../test-support";
import type { Role } from "../auth/roles";
import { SESSION_COOKIE } from "../auth/auth.service";
import { AGENT_PROTOCOL_VERSION } from "../../protocol/agent-wire";

export const ROOT_USER = { username: "root", password: "root-password-123" };
/** Users of each role created on every hostile console: `<role>1` with the password `<role>-password-123`. */
export const roleUser = (role: Role) => ({ username: `${role}1`, password: `${role}-password-123` });

export interface HostileConsole {
  running: RunningConsole;
  url: string;
  dir: string;
  userIds: Record<Role, string>;
  /** A tRPC caller acting as the role's user (for setting a scene; the attacks go over HTTP). */
  callerAs(role: Role): ReturnType<typeof createCaller>;
  close(): Promise<void>;
}

/** Starts a console the way `npm start` does (no pages), on a fresh database, with users of every role. */
export async function startHostileConsole(env: Record<string, string> = {}): Promise<HostileConsole> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-hostile-"));
  const running = await startConsole({
    withPages: false,
    env: {
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: "0",
      AGENT_PORT: "0",
      LOG_LEVEL: "warn",
      DATABASE_URL: `file:${path.join(dir, "console.db")}`,
      SWITCHYARD_ADMIN_USER: ROOT_USER.username,
      SWITCHYARD_ADMIN_PASSWORD: ROOT_USER.password,
      ...env,
    },
  });
  const userIds = {} as Record<Role, string>;
  for (const role of ["viewer", "operator", "admin"] as const) {
    userIds[role] = (await running.services.auth.createUser({ id: null, name: "test" }, { ...roleUser(role), role })).id;
  }
  const callerAs = (role: Role) => callerFor(running.services, { id: userIds[role], username: roleUser(role).username, role });
  return {
    running,
    url: running.url,
    dir,
    userIds,
    callerAs,
    async close() {
      await running.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TrpcReply {
  status: number;
  headers: Headers;
  /** The tRPC error code (UNAUTHORIZED, FORBIDDEN, BAD_REQUEST, TOO_MANY_REQUESTS, …), or null on success. */
  code: string | null;
  message: string;
  data: unknown;
  setCookie: string;
}

async function reply(res: Response): Promise<TrpcReply> {
  const text = await res.text();
  let body: { result?: { data?: { json?: unknown } }; error?: string | { json?: { message?: string; data?: { code?: string } } } } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON (a refusal before tRPC): the status says it
  }
  // tRPC errors carry { json: { message, data: { code } } }; the web tier's own refusals { error: "…" }.
  const error = typeof body.error === "string" ? { message: body.error } : body.error?.json;
  return {
    status: res.status,
    headers: res.headers,
    code: (typeof body.error === "object" ? body.error.json?.data?.code : undefined) ?? (res.ok ? null : `HTTP ${res.status}`),
    message: error?.message ?? text.slice(0, 500),
    data: body.result?.data?.json,
    setCookie: res.headers.get("set-cookie") ?? "",
  };
}

/** A browser-like HTTP client of the console's API: keeps its session cookie, sends extra headers when asked. */
export class ApiClient {
  cookie = "";

  constructor(
    readonly url: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  async mutation(procedure: string, input?: unknown, headers: Record<string, string> = {}): Promise<TrpcReply> {
    const res = await fetch(`${this.url}/api/trpc/${procedure}`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: this.cookie, ...this.headers, ...headers },
      body: JSON.stringify(input === undefined ? {} : { json: input }),
    });
    return reply(res);
  }

  async query(procedure: string, input?: unknown, headers: Record<string, string> = {}): Promise<TrpcReply> {
    const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
    const res = await fetch(`${this.url}/api/trpc/${procedure}${qs}`, { headers: { cookie: this.cookie, ...this.headers, ...headers } });
    return reply(res);
  }

  /** Logs in; on success the client carries the session cookie from then on. */
  async login(username: string, password: string, headers: Record<string, string> = {}): Promise<TrpcReply> {
    const r = await this.mutation("auth.login", { username, password }, headers);
    const cookie = r.setCookie.split(";")[0] ?? "";
    if (r.code === null && cookie.startsWith(`${SESSION_COOKIE}=`)) this.cookie = cookie;
    return r;
  }
}

/** Logs a user of the role in over HTTP and returns the client holding the session. */
export async function loggedIn(url: string, role: Role | "root"): Promise<ApiClient> {
  const client = new ApiClient(url);
  const user = role === "root" ? ROOT_USER : roleUser(role);
  const r = await client.login(user.username, user.password);
  if (r.code !== null) throw new Error(`login as ${user.username} failed: ${r.code} ${r.message}`);
  return client;
}

/** A browser's live socket (namespace /ui) with the given cookie and headers; not yet connected. */
export function uiSocket(url: string, cookie: string, headers: Record<string, string> = {}): Socket {
  return connectSocket(`${url}/ui`, {
    path: "/socket.io",
    transports: ["websocket"],
    extraHeaders: { cookie, ...headers },
    reconnection: false,
    forceNew: true,
    autoConnect: false,
  });
}

/** A host agent's socket on the control plane's agent port (namespace /agent) with this hello; not yet connected. */
export function agentSocket(agentUrl: string | null, auth: unknown): Socket {
  if (agentUrl === null) throw new Error("this console has no agent port (SWITCHYARD_CONTROLLER=false)");
  return connectSocket(`${agentUrl}/agent`, { path: "/socket.io", transports: ["websocket"], auth: auth as Record<string, unknown>, reconnection: false, forceNew: true, autoConnect: false });
}

/** The hello an agent sends in its handshake. */
export const agentHello = (hostName: string, token: string, protocolVersion = AGENT_PROTOCOL_VERSION) => ({ hostName, token, agentVersion: "hostile-test", protocolVersion });

/** Connects a socket; resolves with null once connected, or with the refusal's message and data. */
export function connectOutcome(socket: Socket): Promise<{ message: string; data: unknown } | null> {
  return new Promise((resolve) => {
    socket.once("connect", () => resolve(null));
    socket.once("connect_error", (err: Error & { data?: unknown }) => resolve({ message: err.message, data: err.data }));
    socket.connect();
  });
}
