// The agent's connection to the console: an explicit state enum and one event loop (dispatch) that
// owns every transition, bounded exponential back-off with jitter, the heartbeat, and validation of
// everything the console sends. Until the console's welcome has been checked, no other console
// message reaches a handler.
//
// A highly available console (issue 17) is several instances, of which one leads: the agent is given
// every instance's agent URL and tries them in order. A failed attempt or a lost connection moves to
// the next URL at once; the back-off applies only after a whole round of the list failed. A follower
// refuses with `not-leader` and perhaps the leader's URL: followed at once when it is one of the URLs
// given (never otherwise: the agent would hand its token to a host nobody configured), else the next
// URL after a short wait. A welcome of an older leadership term than the highest seen is a deposed
// leader's: refused, next URL.
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
import type { TermFence } from "./term-store";


/**
 * How long one console may take to accept the socket and answer the handshake. A console frozen
 * (SIGSTOP, a hung host) accepts TCP but never answers: with several consoles, every round of the list
 * waits this long there, and the new leader's controller counts hosts still away after its recovery
 * grace as lost — so this stays well under that grace, and long enough for a loaded console.
 */
export const CONNECT_TIMEOUT_MS = 3_000;
export const connectionStates = [
  /** Not started yet. */
  "idle",
  /** A socket is opening (handshake with the hello/token in flight). */
  "connecting",
  /** The socket is open; waiting for the console's welcome. */
  "handshaking",
  /** Welcome checked; heartbeats flowing. */
  "connected",
  /** Waiting before the next attempt: a whole round of the console URLs failed, or a follower refused us. */
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

/** After a follower's not-leader refusal that names no usable leader: the wait before the next URL. */
export const NOT_LEADER_RETRY_MS = 500;

/** The origin a console URL is compared by (scheme, host, port: the agent's namespace path replaces any path). */
export function consoleOrigin(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

type AgentSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type SocketFactory = (url: string, opts: NonNullable<Parameters<typeof connectSocket>[1]>) => AgentSocket;

export interface ConnectionOptions extends BackoffOptions {
  /** Every console instance's agent URL, tried in this order (at least one). */
  consoleUrls: string[];
  /** The highest leadership term seen (persisted by the agent): a welcome of an older term is refused. */
  terms: TermFence;
  hello: Omit<AgentHello, "protocolVersion">;
  handlers: ConsoleMessageHandlers;
  onConnected: (welcome: Welcome) => void;
  onDisconnected: (reason: string) => void;
  onStateChange: (state: ConnectionState, reason: string) => void;
  log: (line: string) => void;
  /** Tests: opens the socket (default socket.io-client's io()), the jitter's randomness, the not-leader wait. */
  connect?: SocketFactory;
  random?: () => number;
  notLeaderRetryMs?: number;
}

export class ConsoleConnection {
  state: ConnectionState = "idle";
  reason = "not started";
  private socket: AgentSocket | null = null;
  /** Whole rounds of the URL list that failed in a row (the back-off's exponent). */
  private attempt = 0;
  /** The URL tried now (index into consoleUrls). */
  private index = 0;
  /** URLs that failed since the last welcome or the last full round. */
  private readonly failedThisRound = new Set<number>();
  private readonly urls: string[];
  private readonly random: () => number;
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private welcome: Welcome | null = null;
  private heartbeatSeq = 0;
  private lastHeartbeatAckMs = 0;
  /** Console clock minus ours, learned at welcome; deadlines are judged on the console's clock. */
  clockOffsetMs = 0;
  lastHeartbeatAckAt: Date | null = null;

  constructor(private readonly opts: ConnectionOptions) {
    if (opts.consoleUrls.length === 0) throw new Error("at least one console URL is needed");
    this.urls = [...opts.consoleUrls];
    this.random = opts.random ?? Math.random;
  }

  /** The console URL the agent is connected to (or trying now). */
  currentUrl(): string {
    return this.urls[this.index]!;
  }

  /** The console URL of the open session, null when not connected. */
  connectedUrl(): string | null {
    return this.state === "connected" ? this.currentUrl() : null;
  }

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
        if (this.state === "idle") this.openSocket(null);
        return;
      case "socket-open":
        if (this.state === "connecting") this.setState("handshaking", "socket open; waiting for the console's welcome");
        return;
      case "welcome": {
        if (this.state !== "handshaking") return;
        const w = event.welcome;
        const url = this.currentUrl();
        if (w.protocolVersion !== AGENT_PROTOCOL_VERSION) {
          const reason = `protocol version mismatch: console at ${url} speaks ${w.protocolVersion}, this agent speaks ${AGENT_PROTOCOL_VERSION}; install a matching agent`;
          this.closeSocket();
          this.refused(reason);
          return;
        }
        // The term first, before anything else is done with this session (and written if newer).
        const term = this.opts.terms.observe(w.term);
        if (term.stale) {
          this.closeSocket();
          this.opts.log(`console at ${url} leads term ${w.term} but term ${term.highest} was already seen (a deposed leader); trying the next console`);
          this.moveOn(`console at ${url} is a deposed leader (term ${w.term} < ${term.highest})`);
          return;
        }
        this.welcome = w;
        this.attempt = 0;
        this.failedThisRound.clear();
        this.clockOffsetMs = w.consoleTimeMs - Date.now();
        this.lastHeartbeatAckMs = Date.now();
        this.setState("connected", `connected to ${url} (leadership term ${w.term}) as ${this.opts.hello.hostName}`);
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
      case "connect-error": {
        if (this.state !== "connecting" && this.state !== "handshaking") return;
        this.closeSocket();
        const url = this.currentUrl();
        if (event.refusal?.code === "not-leader") this.notLeader(url, event.refusal);
        else if (event.refusal) this.refused(`refused by the console at ${url}: ${event.refusal.message}`);
        else this.moveOn(`cannot connect to ${url}: ${event.message}`);
        return;
      }
      case "socket-closed":
        if (this.state === "backing-off" || this.state === "refused" || this.state === "idle") return;
        this.lostConnection(`connection lost: ${event.reason}`);
        return;
      case "retry-due":
        this.retryTimer = null;
        if (this.state === "backing-off" || this.state === "refused") this.openSocket(null);
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
    this.moveOn(`${reason} (${this.currentUrl()})`);
    if (wasConnected) this.opts.onDisconnected(reason);
  }

  /**
   * The URL tried now failed: on to `to` (a leader named by a follower) or the next URL in the list,
   * at once, or after minDelayMs; after a whole round of the list failed, after the back-off (which
   * grows with every round that fails in a row).
   */
  private moveOn(reason: string, opts: { to?: number; minDelayMs?: number } = {}): void {
    this.failedThisRound.add(this.index);
    const roundOver = this.failedThisRound.size >= this.urls.length;
    this.index = opts.to ?? (this.index + 1) % this.urls.length;
    if (roundOver) {
      this.failedThisRound.clear();
      const delayMs = Math.max(opts.minDelayMs ?? 0, backoffDelayMs(this.attempt, this.opts, this.random));
      this.attempt += 1;
      const every = this.urls.length > 1 ? `every console tried; ` : "";
      this.scheduleRetry("backing-off", `${reason}; ${every}next attempt (${this.currentUrl()}) in ${delayMs} ms`, delayMs);
    } else if (opts.minDelayMs) {
      this.scheduleRetry("backing-off", `${reason}; next attempt (${this.currentUrl()}) in ${opts.minDelayMs} ms`, opts.minDelayMs);
    } else {
      this.clearTimers();
      this.openSocket(reason);
    }
  }

  /** A follower refused us: its leader at once when it is one of our URLs not failed this round, else the next URL after a short wait. */
  private notLeader(url: string, refusal: Refusal): void {
    const leaderUrl = refusal.leaderUrl ?? null;
    const leaderOrigin = leaderUrl ? consoleOrigin(leaderUrl) : null;
    const leader = leaderOrigin === null ? -1 : this.urls.findIndex((u) => consoleOrigin(u) === leaderOrigin);
    if (leaderUrl && leader < 0) {
      this.opts.log(`console at ${url} says the leader is at ${leaderUrl}, which is not one of the console URLs this agent was given (--console); not followed`);
    }
    if (leader >= 0 && leader !== this.index && !this.failedThisRound.has(leader)) {
      this.moveOn(`console at ${url} is a follower; the leader is at ${this.urls[leader]}`, { to: leader });
      return;
    }
    this.moveOn(`console at ${url} is not the leader (${refusal.message})`, { minDelayMs: this.opts.notLeaderRetryMs ?? NOT_LEADER_RETRY_MS });
  }

  /** Refused for a bad token or a protocol mismatch: that will not fix itself quickly (a token must be issued, an agent upgraded); the longest wait, then the next URL. */
  private refused(reason: string): void {
    this.index = (this.index + 1) % this.urls.length;
    this.failedThisRound.clear();
    const delayMs = backoffDelayMs(64, this.opts, this.random);
    this.scheduleRetry("refused", `${reason}; next attempt (${this.currentUrl()}) in ${delayMs} ms`, delayMs);
  }

  private scheduleRetry(state: "backing-off" | "refused", reason: string, delayMs: number): void {
    this.clearTimers();
    this.setState(state, reason);
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

  /** Connects to the current URL; `after`: why the previous one was left (said in the same line). */
  private openSocket(after: string | null): void {
    this.welcome = null;
    const consoleUrl = this.currentUrl();
    const url = new URL(AGENT_NAMESPACE, consoleUrl).toString();
    const socket: AgentSocket = (this.opts.connect ?? connectSocket)(url, {
      path: "/socket.io",
      // Reconnection is ours (state machine above), not socket.io's, so there is one place that decides.
      reconnection: false,
      transports: ["websocket"],
      auth: { ...this.opts.hello, protocolVersion: AGENT_PROTOCOL_VERSION },
      timeout: CONNECT_TIMEOUT_MS,
    });
    this.socket = socket;
    this.setState("connecting", after ? `${after}; connecting to ${consoleUrl}` : `connecting to ${consoleUrl}`);
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
