// The HA link between the two servers of a pair: TCP, one JSON message per line, every message
// validated with zod. This file is the transport (dial or accept, framing, reconnect); what the
// messages mean is decided in server.ts.
import * as net from "node:net";
import { z } from "zod";
import { appRoles } from "../../protocol/app-contract";
import { callRecordSchema, contactBindingSchema } from "./calls";
import { haSyncBatchMax } from "./call-sync";

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

export type HaLinkEvents = {
  onConnected: () => void;
  onMessage: (message: HaMessage) => void;
  onDisconnected: (reason: string) => void;
  onProtocolError: (reason: string) => void;
};

export interface HaLinkOptions {
  /** Listen here for the peer (null: this server only dials). */
  listen: { address: string; port: number } | null;
  /** Dial the peer here (null: this server only accepts). */
  dial: { address: string; port: number } | null;
  reconnectMs: number;
  events: HaLinkEvents;
}

/**
 * One connection at a time. The side whose name sorts first dials, the other accepts (a fixed rule
 * so the two never race two connections); a newer accepted connection replaces an older one, which
 * is what a peer that restarted needs.
 */
export class HaLink {
  private server: net.Server | null = null;
  private socket: net.Socket | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly options: HaLinkOptions) {}

  get connected(): boolean {
    return this.socket !== null;
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
    const socket = this.socket;
    if (socket === null) return false;
    socket.write(JSON.stringify(message) + "\n");
    return true;
  }

  /** Resolves once everything written so far is handed to the OS (back-pressure for big syncs). */
  async drain(): Promise<void> {
    const socket = this.socket;
    if (socket === null || !socket.writableNeedDrain) return;
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
    this.socket?.destroy(new Error(reason));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
    this.socket = null;
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private dial(): void {
    if (this.stopped || !this.options.dial) return;
    const socket = net.connect({ host: this.options.dial.address, port: this.options.dial.port });
    socket.once("connect", () => this.adopt(socket));
    socket.once("error", () => {
      // Before "connect" an error means the peer is not there yet: try again later.
      if (this.socket !== socket) this.scheduleDial();
    });
  }

  private scheduleDial(): void {
    if (this.stopped || !this.options.dial || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.dial();
    }, this.options.reconnectMs);
  }

  private adopt(socket: net.Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    if (this.socket !== null) this.socket.destroy(new Error("replaced by a newer HA connection"));
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    let buffered = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      if (buffered.length > maxHaLineBytes) {
        this.options.events.onProtocolError(`HA message longer than ${maxHaLineBytes} bytes; closing the link`);
        socket.destroy();
        return;
      }
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (this.socket !== socket) return;
        this.handleLine(line);
        newline = buffered.indexOf("\n");
      }
    });
    socket.on("error", () => {
      // "close" follows and reports; nothing to add here but keeping the process alive.
    });
    socket.on("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.options.events.onDisconnected("HA connection closed");
      this.scheduleDial();
    });
    this.options.events.onConnected();
  }

  private handleLine(line: string): void {
    if (line.trim() === "") return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      this.options.events.onProtocolError("HA message is not JSON; ignored");
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
