// Followers' web tiers reach the leader's control plane over its agent port (socket.io namespace
// /peer): the same requests and notices as between a console's web tier and its own worker thread
// (protocol.ts), so a browser on a follower sees the same live views and its operator's actions are
// carried out by the leader. Authenticated by the cluster's peer secret, which only those who can read
// the shared database know (it is in the lease row). Payloads travel as superjson (dates survive).
import crypto from "node:crypto";
import superjson from "superjson";
import { io as connectSocket, type Socket } from "socket.io-client";
import type { Namespace, Server as SocketServer } from "socket.io";
import type { ControlPlaneRequestName, ControlPlaneRequests, Notice } from "./protocol";

export const PEER_NAMESPACE = "/peer";

/** What the leader passes on to followers: the mirror's data. Alarms, log events and plan endings are the leader's web tier's alone (recorded once). */
const PEER_NOTICES: ReadonlySet<Notice["kind"]> = new Set(["live", "heard", "app-runtime"]);

/** Requests a follower may make (never `stop`: a follower cannot stop the leader's plane). */
const PEER_REQUESTS: ReadonlySet<ControlPlaneRequestName> = new Set(["switchover", "maintenance", "note", "applicationCommand", "hostCommand", "configChanged", "readLog", "dropHost", "controllerState"]);

type Answer = { ok: true; output: unknown } | { ok: false; message: string; code: string | null };

export interface PeerServerDeps {
  secret(): Promise<string | null>;
  /** The leader's answer to a request (throws with a `code` for NOT_FOUND / CONFLICT / INVALID). */
  handle(name: ControlPlaneRequestName, input: unknown): Promise<unknown>;
  /** Every notice a new follower needs first; null when this console does not lead (the follower is refused). */
  snapshot(): Notice[] | null;
}

function sameSecret(given: unknown, expected: string | null): boolean {
  if (typeof given !== "string" || !expected) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** The leader's side: followers' mirrors connect here. Returns the function that passes a notice on. */
export function servePeers(io: SocketServer, deps: PeerServerDeps): { notify(notice: Notice): void } {
  const ns: Namespace = io.of(PEER_NAMESPACE);
  ns.use((socket, next) => {
    deps
      .secret()
      .then((secret) => {
        if (!sameSecret((socket.handshake.auth as { secret?: unknown } | undefined)?.secret, secret)) return next(Object.assign(new Error("bad peer secret"), { data: { code: "bad-secret" } }));
        if (!deps.snapshot()) return next(Object.assign(new Error("this console does not lead"), { data: { code: "not-leader" } }));
        next();
      })
      .catch((err: unknown) => next(err instanceof Error ? err : new Error(String(err))));
  });
  ns.on("connection", (socket) => {
    for (const notice of deps.snapshot() ?? []) socket.emit("notice", superjson.stringify(notice));
    socket.on("request", (payload: unknown, ack: unknown) => {
      if (typeof ack !== "function") return;
      const reply = (answer: Answer) => (ack as (a: string) => void)(superjson.stringify(answer));
      let request: { name: ControlPlaneRequestName; input: unknown };
      try {
        request = superjson.parse(String(payload));
      } catch {
        return reply({ ok: false, message: "malformed peer request", code: "INVALID" });
      }
      if (!PEER_REQUESTS.has(request.name)) return reply({ ok: false, message: `${String(request.name)} is not a peer request`, code: "INVALID" });
      deps
        .handle(request.name, request.input)
        .then((output) => reply({ ok: true, output }))
        .catch((err: unknown) => reply({ ok: false, message: err instanceof Error ? err.message : String(err), code: (err as { code?: string }).code ?? null }));
    });
  });
  return {
    notify: (notice) => {
      if (PEER_NOTICES.has(notice.kind)) ns.emit("notice", superjson.stringify(notice));
    },
  };
}

export class PeerRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

/** A follower's connection to the leader's control plane. */
export class PeerChannel {
  private readonly socket: Socket;
  private closed = false;

  constructor(
    readonly agentUrl: string,
    secret: string,
    handlers: { notice(notice: Notice): void; connected(): void; lost(reason: string): void },
  ) {
    this.socket = connectSocket(new URL(PEER_NAMESPACE, agentUrl).toString(), {
      path: "/socket.io",
      transports: ["websocket"],
      auth: { secret },
      reconnectionDelay: 250,
      reconnectionDelayMax: 1_000,
      timeout: 5_000,
    });
    this.socket.on("connect", () => handlers.connected());
    this.socket.on("disconnect", (reason) => handlers.lost(String(reason)));
    this.socket.on("connect_error", (err) => handlers.lost(err.message));
    this.socket.on("notice", (payload: string) => {
      try {
        handlers.notice(superjson.parse(payload));
      } catch {
        // A notice that does not parse is from another build: the next snapshot corrects the mirror.
      }
    });
  }

  get connected(): boolean {
    return this.socket.connected && !this.closed;
  }

  request<K extends ControlPlaneRequestName>(name: K, input: ControlPlaneRequests[K]["in"], timeoutMs: number): Promise<ControlPlaneRequests[K]["out"]> {
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeoutMs).emit("request", superjson.stringify({ name, input }), (err: Error | null, payload: string) => {
        if (err) return reject(new PeerRequestError(`the leading console at ${this.agentUrl} did not answer in ${timeoutMs} ms`, "CONFLICT"));
        const answer = superjson.parse<Answer>(payload);
        if (answer.ok) resolve(answer.output as ControlPlaneRequests[K]["out"]);
        else reject(new PeerRequestError(answer.message, answer.code));
      });
    });
  }

  close(): void {
    this.closed = true;
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }
}
