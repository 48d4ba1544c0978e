// The agent's connection to the console: an explicit state enum and one event loop (dispatch) that
// owns every transition, bounded exponential back-off with jitter, the heartbeat, and validation of
// everything the console sends. Until the console's welcome has been checked, no other console
// message reaches a handler.
import { io as connectSocket, type Socket } from "socket.io-client";
import {
  AGENT_NAMESPACE,
  AGENT_PROTOCOL_VERSION,
  describeZodError,
  heartbeatAckSchema,
  refusalSchema,
  ackSchema,
  serverToClientSchemas,
  welcomeSchema,
  type Ack,
  type AgentHello,
  type ClientToServerEvents,
  type Refusal,
  type ServerToClientEvents,
  type Welcome,
} from "../protocol/agent-wire";
import type { z } from "zod";

export const connectionStates = [
  /** Not started yet. */
  "idle",
  /** A socket is opening (handshake with the hello/token in flight). */
  "connecting",
  /** The socket is open; waiting for the console's welcome. */
  "handshaking",
  /** Welcome checked; heartbeats flowing. */
  "connected",
  /** Waiting before the next attempt after a failure or a lost connection. */
  "backing-off",
  /** The console refused us (bad token, protocol mismatch); retried at the longest back-off. */
  "refused",
  /** Shut down; no more attempts. */
  "stopped",
] as const;
export type ConnectionState = (typeof connectionStates)[number];

type ConnEvent =
  | { type: "start" }
  | { type: "socket-open" }
  | { type: "welcome"; welcome: Welcome }
  | { type: "connect-error"; message: string; refusal: Refusal | null }
  | { type: "socket-closed"; reason: string }
  | { type: "retry-due" }
  | { type: "heartbeat-due" }
  | { type: "stop" };

export interface BackoffOptions {
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/** Full back-off with jitter between 50 % and 100 % of the exponential step, capped. */
export function backoffDelayMs(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const step = Math.min(opts.maxBackoffMs, opts.initialBackoffMs * 2 ** Math.min(attempt, 30));
  return Math.round(step * (0.5 + random() * 0.5));
}

type ServerEvent = Exclude<keyof ServerToClientEvents, "welcome">;
export type ConsoleMessageHandlers = {
  [K in ServerEvent]: (msg: z.infer<(typeof serverToClientSchemas)[K]>, ack: ((reply: unknown) => void) | null) => void;
};

export interface ConnectionOptions extends BackoffOptions {
  consoleUrl: string;
  hello: Omit<AgentHello, "protocolVersion">;
  handlers: ConsoleMessageHandlers;
  onConnected: (welcome: Welcome) => void;
  onDisconnected: (reason: string) => void;
  onStateChange: (state: ConnectionState, reason: string) => void;
  log: (line: string) => void;
}

export class ConsoleConnection {
  state: ConnectionState = "idle";
  reason = "not started";
  private socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private welcome: Welcome | null = null;
  private heartbeatSeq = 0;
  private lastHeartbeatAckMs = 0;
  /** Console clock minus ours, learned at welcome; deadlines are judged on the console's clock. */
  clockOffsetMs = 0;
  lastHeartbeatAckAt: Date | null = null;

  constructor(private readonly opts: ConnectionOptions) {}

  start(): void {
    this.dispatch({ type: "start" });
  }

  stop(): void {
    this.dispatch({ type: "stop" });
  }

  consoleNowMs(): number {
    return Date.now() + this.clockOffsetMs;
  }

  isConnected(): boolean {
    return this.state === "connected";
  }

  /** The heartbeat in force (the welcome's, or what the host's configuration changed it to); null before a welcome. */
  heartbeat(): { intervalMs: number; timeoutMs: number } | null {
    return this.welcome ? { intervalMs: this.welcome.heartbeatIntervalMs, timeoutMs: this.welcome.heartbeatTimeoutMs } : null;
  }

  /** The host's configuration changed its heartbeat: sent every intervalMs from now on, the console lost after timeoutMs. */
  setHeartbeat(intervalMs: number, timeoutMs: number): void {
    if (this.state !== "connected" || !this.welcome) return;
    if (this.welcome.heartbeatIntervalMs === intervalMs && this.welcome.heartbeatTimeoutMs === timeoutMs) return;
    this.welcome = { ...this.welcome, heartbeatIntervalMs: intervalMs, heartbeatTimeoutMs: timeoutMs };
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => this.dispatch({ type: "heartbeat-due" }), intervalMs);
    this.opts.log(`heartbeat every ${intervalMs} ms from now on, the console counted lost after ${timeoutMs} ms of silence (the host's configuration)`);
  }

  /** Fire-and-forget emit; false when not connected (the caller keeps it for the resync). */
  send<K extends keyof ClientToServerEvents>(event: K, ...args: Parameters<ClientToServerEvents[K]>): boolean {
    if (this.state !== "connected" || !this.socket) return false;
    (this.socket.emit as (ev: string, ...a: unknown[]) => void)(event, ...args);
    return true;
  }

  /** Emits with an acknowledgement; null when not connected, not acknowledged in time, or malformed. */
  sendWithAck<K extends "resync" | "commandResult" | "logEvents">(event: K, msg: Parameters<ClientToServerEvents[K]>[0], timeoutMs: number): Promise<Ack | null> {
    const socket = this.socket;
    if (this.state !== "connected" || !socket) return Promise.resolve(null);
    return new Promise((resolve) => {
      (socket.timeout(timeoutMs).emit as (ev: string, m: unknown, cb: (err: unknown, reply: unknown) => void) => void)(event, msg, (err, reply) => {
        if (err) return resolve(null);
        const parsed = ackSchema.safeParse(reply);
        resolve(parsed.success ? parsed.data : null);
      });
    });
  }

  // The one event loop: every change of state happens here.
  private dispatch(event: ConnEvent): void {
    if (this.state === "stopped") return;
    switch (event.type) {
      case "start":
        if (this.state === "idle") this.openSocket();
        return;
      case "socket-open":
        if (this.state === "connecting") this.setState("handshaking", "socket open; waiting for the console's welcome");
        return;
      case "welcome": {
        if (this.state !== "handshaking") return;
        const w = event.welcome;
        if (w.protocolVersion !== AGENT_PROTOCOL_VERSION) {
          const reason = `protocol version mismatch: console speaks ${w.protocolVersion}, this agent speaks ${AGENT_PROTOCOL_VERSION}; install a matching agent`;
          this.closeSocket();
          this.scheduleRetry("refused", reason);
          return;
        }
        this.welcome = w;
        this.attempt = 0;
        this.clockOffsetMs = w.consoleTimeMs - Date.now();
        this.lastHeartbeatAckMs = Date.now();
        this.setState("connected", `connected to ${this.opts.consoleUrl} as ${this.opts.hello.hostName}`);
        this.heartbeatTimer = setInterval(() => this.dispatch({ type: "heartbeat-due" }), w.heartbeatIntervalMs);
        this.sendHeartbeat();
        this.opts.onConnected(w);
        return;
      }
      case "heartbeat-due": {
        if (this.state !== "connected" || !this.welcome) return;
        const silentMs = Date.now() - this.lastHeartbeatAckMs;
        if (silentMs > this.welcome.heartbeatTimeoutMs) {
          this.lostConnection(`console silent for ${silentMs} ms (timeout ${this.welcome.heartbeatTimeoutMs} ms)`);
          return;
        }
        this.sendHeartbeat();
        return;
      }
      case "connect-error":
        if (this.state !== "connecting" && this.state !== "handshaking") return;
        this.closeSocket();
        if (event.refusal) this.scheduleRetry("refused", `refused by the console: ${event.refusal.message}`);
        else this.scheduleRetry("backing-off", `cannot connect to ${this.opts.consoleUrl}: ${event.message}`);
        return;
      case "socket-closed":
        if (this.state === "backing-off" || this.state === "refused" || this.state === "idle") return;
        this.lostConnection(`connection lost: ${event.reason}`);
        return;
      case "retry-due":
        this.retryTimer = null;
        if (this.state === "backing-off" || this.state === "refused") this.openSocket();
        return;
      case "stop": {
        const wasConnected = this.state === "connected";
        this.clearTimers();
        this.closeSocket();
        this.setState("stopped", "agent stopping");
        if (wasConnected) this.opts.onDisconnected("agent stopping");
        return;
      }
    }
  }

  private lostConnection(reason: string): void {
    const wasConnected = this.state === "connected";
    this.closeSocket();
    this.scheduleRetry("backing-off", reason);
    if (wasConnected) this.opts.onDisconnected(reason);
  }

  private scheduleRetry(state: "backing-off" | "refused", reason: string): void {
    this.clearTimers();
    // A refusal will not fix itself quickly (a token must be issued, an agent upgraded): wait longest.
    const delayMs = state === "refused" ? backoffDelayMs(64, this.opts) : backoffDelayMs(this.attempt, this.opts);
    this.attempt += 1;
    this.setState(state, `${reason}; next attempt in ${delayMs} ms`);
    this.retryTimer = setTimeout(() => this.dispatch({ type: "retry-due" }), delayMs);
  }

  private setState(state: ConnectionState, reason: string): void {
    this.state = state;
    this.reason = reason;
    this.opts.log(`connection ${state}: ${reason}`);
    this.opts.onStateChange(state, reason);
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.retryTimer = null;
    this.heartbeatTimer = null;
  }

  private sendHeartbeat(): void {
    const socket = this.socket;
    if (!socket) return;
    const seq = this.heartbeatSeq++;
    socket.emit("heartbeat", { seq, sentAtMs: Date.now() }, (reply: unknown) => {
      const ack = heartbeatAckSchema.safeParse(reply);
      if (!ack.success || this.socket !== socket) return;
      this.lastHeartbeatAckMs = Date.now();
      this.lastHeartbeatAckAt = new Date();
      this.clockOffsetMs = ack.data.consoleTimeMs - Date.now();
    });
  }

  private openSocket(): void {
    this.welcome = null;
    const url = new URL(AGENT_NAMESPACE, this.opts.consoleUrl).toString();
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = connectSocket(url, {
      path: "/socket.io",
      // Reconnection is ours (state machine above), not socket.io's, so there is one place that decides.
      reconnection: false,
      transports: ["websocket"],
      auth: { ...this.opts.hello, protocolVersion: AGENT_PROTOCOL_VERSION },
      timeout: 10_000,
    });
    this.socket = socket;
    this.setState("connecting", `connecting to ${this.opts.consoleUrl}`);
    socket.on("connect", () => this.socket === socket && this.dispatch({ type: "socket-open" }));
    socket.on("connect_error", (err: Error & { data?: unknown }) => {
      if (this.socket !== socket) return;
      const refusal = refusalSchema.safeParse(err.data);
      this.dispatch({ type: "connect-error", message: err.message, refusal: refusal.success ? refusal.data : null });
    });
    socket.on("disconnect", (reason) => this.socket === socket && this.dispatch({ type: "socket-closed", reason: String(reason) }));

    // Handler registry keyed by event: validate first; nothing but welcome before the welcome.
    for (const event of Object.keys(serverToClientSchemas) as (keyof ServerToClientEvents)[]) {
      (socket.on as (ev: string, fn: (...args: unknown[]) => void) => void)(event, (...args: unknown[]) => {
        if (this.socket !== socket) return;
        const last = args[args.length - 1];
        const ack = typeof last === "function" ? (last as (reply: unknown) => void) : null;
        const parsed = serverToClientSchemas[event].safeParse(args[0]);
        if (!parsed.success) {
          const reason = describeZodError(parsed.error).slice(0, 2000);
          this.opts.log(`malformed ${event} from the console refused: ${reason}`);
          socket.emit("protocolError", { event, reason });
          return;
        }
        if (event === "welcome") {
          this.dispatch({ type: "welcome", welcome: welcomeSchema.parse(args[0]) });
          return;
        }
        if (this.state !== "connected") {
          this.opts.log(`${event} before the welcome ignored`);
          return;
        }
        try {
          (this.opts.handlers[event] as (m: unknown, a: ((reply: unknown) => void) | null) => void)(parsed.data, ack);
        } catch (err) {
          this.opts.log(`handler for ${event} threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
        }
      });
    }
  }

  private closeSocket(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
    }
  }
}
