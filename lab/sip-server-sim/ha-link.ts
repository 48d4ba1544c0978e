// The HA link between the two servers of a pair: TCP, one JSON message per line, every message
// validated with zod. This file is the transport (dial or accept, framing, reconnect) and the handshake in
// which both ends prove the pair's shared secret before anything else is accepted (ha-auth.ts); what the
// messages mean is decided in ha-session.ts.
import * as net from "node:net";
import { z } from "zod";
import { appRoles } from "../../protocol/app-contract";
import { callRecordSchema, contactBindingSchema } from "./calls";
import { haSyncBatchMax } from "./call-sync";
import { haAuthHexPattern, haAuthProof, haAuthProofValid, newHaNonce } from "./ha-auth";

export const HA_LINK_VERSION = 1;
/** A hello carries every call id (≤ 100 000 × ~100 bytes); refuse anything far beyond that. */
export const maxHaLineBytes = 16 * 1024 * 1024;

const callIdSchema = z.string().min(1).max(256);
const contactsSchema = z.record(z.string().max(512), z.array(contactBindingSchema).max(32));

export const haMessageSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("hello"),
      version: z.literal(HA_LINK_VERSION),
      name: z.string().min(1),
      role: z.enum(appRoles),
      epoch: z.number().int().min(0),
      /** Every non-multisite call this server holds: the "call list" exchanged on (re)connect (W12). */
      callIds: z.array(callIdSchema).max(100_000),
      /** Sent after a role change: the peer answers with its own hello so the new primary learns the backup's calls. */
      wantReply: z.boolean(),
    })
    .strict(),
  z
    .object({
      type: z.literal("sync-start"),
      syncId: z.number().int().min(0),
      missing: z.number().int().min(0),
      /** Calls the backup holds that the primary does not: the backup drops them. */
      drop: z.array(callIdSchema).max(100_000),
    })
    .strict(),
  z
    .object({
      type: z.literal("calls"),
      syncId: z.number().int().min(0),
      batchIndex: z.number().int().min(0),
      calls: z.array(callRecordSchema).max(haSyncBatchMax),
    })
    .strict(),
  z.object({ type: z.literal("sync-done"), syncId: z.number().int().min(0) }).strict(),
  /** A call created on the primary after the sync (live replication); acked like a batch. */
  z.object({ type: z.literal("call"), call: callRecordSchema }).strict(),
  z.object({ type: z.literal("call-ended"), callId: callIdSchema }).strict(),
  z.object({ type: z.literal("calls-ack"), callIds: z.array(callIdSchema).max(haSyncBatchMax) }).strict(),
  /** W11: contact bindings, the whole table (full) or the AORs that changed. */
  z.object({ type: z.literal("contacts"), full: z.boolean(), contacts: contactsSchema }).strict(),
]);
export type HaMessage = z.infer<typeof haMessageSchema>;

/** The handshake, the only thing accepted on a connection until the peer proved the shared secret. */
export const haAuthMessageSchema = z.discriminatedUnion("type", [
  /** Sent by both ends at once on connect: who I am and a fresh nonce the other must prove against. */
  z
    .object({ type: z.literal("auth-challenge"), authVersion: z.literal(1), name: z.string().min(1).max(256), nonce: z.string().regex(haAuthHexPattern) })
    .strict(),
  /** HMAC-SHA256 of the other's nonce and mine under haSecret (ha-auth.ts). */
  z.object({ type: z.literal("auth-proof"), proof: z.string().regex(haAuthHexPattern) }).strict(),
]);
export type HaAuthMessage = z.infer<typeof haAuthMessageSchema>;

/** How long a connection may take to authenticate before it is dropped. */
export const haAuthTimeoutMs = 10_000;
/** Connections still authenticating at once; more are refused (a flood cannot pile up sockets). */
const maxPendingConnections = 4;
/** A refusal repeated with the same reason from the same address is logged once in this many. */
const refusalLogEvery = 60;

export type HaLinkEvents = {
  /** An authenticated (or, without a secret, any) connection is open: send hello. */
  onConnected: () => void;
  onMessage: (message: HaMessage) => void;
  onDisconnected: (reason: string) => void;
  /** A line for the log: a refused peer, a malformed message, a listener error. */
  onProtocolError: (reason: string) => void;
};

export interface HaLinkOptions {
  /** Listen here for the peer (null: this server only dials). */
  listen: { address: string; port: number } | null;
  /** Dial the peer here (null: this server only accepts). */
  dial: { address: string; port: number } | null;
  reconnectMs: number;
  /** This server's name and the partner's, both proved in the handshake. */
  ownName: string;
  peerName: string;
  /** The pair's shared secret; null: connections are not authenticated (older configurations). */
  secret: string | null;
  events: HaLinkEvents;
}

interface Connection {
  socket: net.Socket;
  /** address:port of the other end, for the log. */
  remote: string;
  state: "authenticating" | "open" | "closed";
  /** The secret when the connection began: a reload mid-handshake does not change the rules. */
  secret: string | null;
  ownNonce: string;
  peerNonce: string | null;
  sentProof: boolean;
  peerProved: boolean;
  authTimer: NodeJS.Timeout | null;
}

/**
 * One open connection at a time. The side whose name sorts first dials, the other accepts (a fixed rule
 * so the two never race two connections). A newer connection replaces an older one, which is what a peer
 * that restarted needs, but only once it has authenticated: a stranger cannot knock the link down.
 */
export class HaLink {
  private server: net.Server | null = null;
  private current: Connection | null = null;
  private readonly pending = new Set<Connection>();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private secret: string | null;
  private readonly refusals = new Map<string, number>();

  constructor(private readonly options: HaLinkOptions) {
    this.secret = options.secret;
  }

  get connected(): boolean {
    return this.current !== null;
  }

  /** The secret for connections from now on; an open link stays (it was proved with the old one). */
  setSecret(secret: string | null): void {
    this.secret = secret;
  }

  async start(): Promise<void> {
    if (this.options.listen) {
      const server = net.createServer((socket) => this.adopt(socket));
      this.server = server;
      server.on("error", (error) => this.options.events.onProtocolError(`HA listener error: ${error.message}`));
      await new Promise<void>((resolve) => {
        server.once("listening", () => resolve());
        // A bind failure on the HA port is reported and retried by the dialer side's reconnects.
        server.once("error", () => resolve());
        server.listen(this.options.listen?.port, this.options.listen?.address);
      });
    }
    if (this.options.dial) this.dial();
  }

  send(message: HaMessage): boolean {
    const connection = this.current;
    if (connection === null) return false;
    connection.socket.write(JSON.stringify(message) + "\n");
    return true;
  }

  /** Resolves once everything written so far is handed to the OS (back-pressure for big syncs). */
  async drain(): Promise<void> {
    const socket = this.current?.socket;
    if (socket === undefined || !socket.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        socket.off("drain", done);
        socket.off("close", done);
        resolve();
      };
      socket.on("drain", done);
      socket.on("close", done);
    });
  }

  /** Drops the current connection (fault injection, tests); the dialer reconnects. */
  disconnect(reason: string): void {
    this.current?.socket.destroy(new Error(reason));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    for (const connection of [...this.pending, ...(this.current ? [this.current] : [])]) this.close(connection);
    this.current = null;
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private dial(): void {
    if (this.stopped || !this.options.dial || this.current !== null) return;
    // From this host's own address, as from another machine: the partner sees (and logs) who dials.
    const socket = net.connect({ host: this.options.dial.address, port: this.options.dial.port, localAddress: this.options.listen?.address });
    socket.once("connect", () => this.adopt(socket));
    // Before "connect" an error means the peer is not there yet: try again later (after it, "close" does).
    socket.once("error", () => this.scheduleDial());
  }

  private scheduleDial(): void {
    if (this.stopped || !this.options.dial || this.reconnectTimer || this.current !== null) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.dial();
    }, this.options.reconnectMs);
  }

  private adopt(socket: net.Socket): void {
    const remote = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
    if (this.stopped || this.pending.size >= maxPendingConnections) {
      if (!this.stopped) this.options.events.onProtocolError(`HA connection from ${remote} refused: ${maxPendingConnections} connections are already authenticating`);
      socket.destroy();
      return;
    }
    const connection: Connection = {
      socket,
      remote,
      state: "authenticating",
      secret: this.secret,
      ownNonce: newHaNonce(),
      peerNonce: null,
      sentProof: false,
      peerProved: false,
      authTimer: null,
    };
    this.pending.add(connection);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    let buffered = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      if (buffered.length > maxHaLineBytes) {
        this.options.events.onProtocolError(`HA message from ${remote} longer than ${maxHaLineBytes} bytes; closing the link`);
        socket.destroy();
        return;
      }
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        // Nothing after a refusal or a replacement is looked at.
        if (connection.state === "closed") return;
        this.handleLine(connection, line);
        newline = buffered.indexOf("\n");
      }
    });
    socket.on("error", () => {
      // "close" follows and reports; nothing to add here but keeping the process alive.
    });
    socket.on("close", () => {
      const wasCurrent = this.current === connection;
      this.close(connection);
      if (wasCurrent) {
        this.current = null;
        this.options.events.onDisconnected("HA connection closed");
      }
      this.scheduleDial();
    });
    if (connection.secret === null) {
      this.open(connection);
      return;
    }
    connection.authTimer = setTimeout(() => this.refuse(connection, `did not authenticate within ${haAuthTimeoutMs} ms`), haAuthTimeoutMs);
    this.write(connection, { type: "auth-challenge", authVersion: 1, name: this.options.ownName, nonce: connection.ownNonce });
  }

  private write(connection: Connection, message: HaAuthMessage): void {
    connection.socket.write(JSON.stringify(message) + "\n");
  }

  private open(connection: Connection): void {
    if (connection.authTimer) clearTimeout(connection.authTimer);
    connection.authTimer = null;
    this.pending.delete(connection);
    const previous = this.current;
    connection.state = "open";
    this.current = connection;
    this.refusals.clear();
    if (previous !== null) {
      this.close(previous);
      previous.socket.destroy(new Error("replaced by a newer HA connection"));
    }
    this.options.events.onConnected();
  }

  private close(connection: Connection): void {
    if (connection.authTimer) clearTimeout(connection.authTimer);
    connection.authTimer = null;
    connection.state = "closed";
    this.pending.delete(connection);
    connection.socket.destroy();
  }

  /** Ends a connection that failed the handshake; nothing it sent is applied. */
  private refuse(connection: Connection, reason: string): void {
    if (connection.state === "closed") return;
    this.close(connection);
    const key = `${connection.socket.remoteAddress ?? "?"}|${reason}`;
    const count = (this.refusals.get(key) ?? 0) + 1;
    this.refusals.set(key, count);
    if (count === 1 || count % refusalLogEvery === 0) {
      this.options.events.onProtocolError(
        `HA peer at ${connection.remote} refused: ${reason}; disconnected, nothing it sent was applied` + (count > 1 ? ` (${count} times)` : ""),
      );
    }
  }

  private handleAuth(connection: Connection, message: HaAuthMessage): void {
    const secret = connection.secret ?? "";
    if (message.type === "auth-challenge") {
      if (connection.peerNonce !== null) return this.refuse(connection, "sent a second challenge");
      if (message.name !== this.options.peerName) return this.refuse(connection, `introduced itself as ${message.name}, expected ${this.options.peerName}`);
      // Our own nonce coming back is a reflection attempt: a proof for it would be our own.
      if (message.nonce === connection.ownNonce) return this.refuse(connection, "echoed this server's challenge");
      connection.peerNonce = message.nonce;
      const proof = haAuthProof({ secret, proverName: this.options.ownName, proverNonce: connection.ownNonce, verifierNonce: message.nonce });
      this.write(connection, { type: "auth-proof", proof });
      connection.sentProof = true;
    } else {
      if (connection.peerNonce === null) return this.refuse(connection, "sent a proof before its challenge");
      const valid = haAuthProofValid({ secret, proverName: this.options.peerName, proverNonce: connection.peerNonce, verifierNonce: connection.ownNonce, proof: message.proof });
      if (!valid) return this.refuse(connection, "wrong proof of the shared secret (a different haSecret, or a replayed handshake)");
      connection.peerProved = true;
    }
    if (connection.sentProof && connection.peerProved) this.open(connection);
  }

  private handleLine(connection: Connection, line: string): void {
    if (line.trim() === "") return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      if (connection.state === "authenticating") this.refuse(connection, "sent something that is not JSON before authenticating");
      else this.options.events.onProtocolError("HA message is not JSON; ignored");
      return;
    }
    const type = typeof raw === "object" && raw !== null && "type" in raw ? String((raw as { type: unknown }).type).slice(0, 40) : "?";
    if (connection.state === "authenticating") {
      const auth = haAuthMessageSchema.safeParse(raw);
      if (!auth.success) {
        this.refuse(connection, type.startsWith("auth-") ? `sent a malformed ${type}` : `sent "${type}" before proving the shared secret`);
        return;
      }
      this.handleAuth(connection, auth.data);
      return;
    }
    if (type.startsWith("auth-")) {
      // The peer authenticates but this server has no secret (or it already did): say so rather than "refused".
      this.options.events.onProtocolError(
        connection.secret === null
          ? `HA peer at ${connection.remote} wants an authenticated link but this server has no haSecret; closing`
          : `HA peer at ${connection.remote} sent ${type} after authenticating; closing`,
      );
      connection.socket.destroy();
      return;
    }
    const parsed = haMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const details = parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
      this.options.events.onProtocolError(`HA message refused (${details})`);
      return;
    }
    this.options.events.onMessage(parsed.data);
  }
}
