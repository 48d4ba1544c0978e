// The console side of the agent wire protocol, in the control plane's thread: authenticates host agents
// on socket.io namespace /agent, pushes each host's configuration, keeps each host's liveness
// (liveness.ts: heartbeats, the console's own stalls, many hosts silent at once), delivers commands
// (pending-commands.ts: one send per submit, results only from the host a command went to), and hands
// every validated report to injected callbacks. Trust per host: an agent speaks only for its own
// host — a report about an application that host does not run is dropped and logged — and every agent
// is held to a message rate and a log-event quota. No database access here: tokens and configuration
// are injected (plane.ts wires them; tests use fakes).
import type { Namespace, Server, Socket } from "socket.io";
import type { z } from "zod";
import {
  AGENT_NAMESPACE,
  AGENT_PROTOCOL_VERSION,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_HEARTBEAT_TIMEOUT_MS,
  agentCommandSchema,
  agentHelloSchema,
  clientToServerSchemas,
  commandReceiptSchema,
  configAckSchema,
  describeZodError,
  hostConfigSchema,
  logReadReplySchema,
  logReadRequestSchema,
  type AgentCommand,
  type AgentCommandInput,
  type AppStatusMessage,
  type ClientToServerEvents,
  type CommandResult,
  type ConfigDeliveryMessage,
  type HostConfig,
  type HostConfigInput,
  type HeartbeatSettings,
  type LogEventsMessage,
  type LogReadReply,
  type LogReadRequestInput,
  type ReadinessReport,
  type Refusal,
  type Resync,
  type RoleReport,
  type RunningConfigMessage,
  type ScriptRunMessage,
  type ServerToClientEvents,
  type VipPresenceMessage,
} from "../../protocol/agent-wire";
import { logger, type Logger } from "../log";
import type { ConsoleAlarmKind } from "../../protocol/vocabulary";
import { HostLiveness } from "./liveness";
import { PendingCommands } from "./pending-commands";
import { TokenBucket } from "./token-bucket";

export type HostConnectionState = "connected" | "disconnected";

/**
 * How often the liveness sweep runs for a given shortest heartbeat timeout: an eighth of it (a lost host
 * is noticed within 12.5 % of its timeout), at least every 250 ms, at most every 20 ms.
 */
export function sweepIntervalFor(shortestTimeoutMs: number): number {
  return Math.max(20, Math.min(250, Math.floor(shortestTimeoutMs / 8)));
}

export interface HostLiveState {
  hostName: string;
  state: HostConnectionState;
  /** Why it is in this state, in words. */
  reason: string;
  since: Date;
  lastHeartbeatAt: Date | null;
  agentVersion: string | null;
  socketOpen: boolean;
}

/** Messages an agent may send per second on average (heartbeats are two); bursts up to the capacity. */
export const AGENT_MESSAGES_PER_SECOND = 200;
export const AGENT_MESSAGE_BURST = 2_000;
/** Log events an agent may forward per second on average; bursts up to the capacity. */
export const AGENT_LOG_EVENTS_PER_SECOND = 100;
export const AGENT_LOG_EVENT_BURST = 5_000;
/** A host that keeps breaking the rules is logged about at most this often. */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;
/** Client addresses whose handshake refusals are counted at once (beyond, the oldest are forgotten). */
const HANDSHAKE_REFUSALS_TRACKED = 10_000;
/**
 * Log reads waiting for one host's agent at once: each may read up to LOG_SEARCH_MAX_BYTES on the host,
 * and browsers following a log ask every few seconds; more wait for a free place or are refused.
 */
export const LOG_READS_IN_FLIGHT_PER_HOST = 4;
/** An agent that has not answered a log read by then is taken not to (a slow disk, a frozen agent). */
export const LOG_READ_TIMEOUT_MS = 15_000;

/** Why a log read got no answer from the agent, in words for the page. */
export class LogReadError extends Error {
  constructor(
    readonly code: "NOT_FOUND" | "CONFLICT",
    message: string,
  ) {
    super(message);
  }
}

export interface AgentGatewayDeps {
  /** True when `token` is a valid, unrevoked token of `hostName` (plane.ts checks the hashed token in the database). */
  verifyToken(hostName: string, token: string): Promise<boolean>;
  /** The configuration to push to a host right after it connects, or when pushConfig() is called. */
  configForHost(hostName: string): Promise<HostConfigInput | null>;
  /** A host became connected or disconnected (by liveness, not by a socket blip). */
  onHostState?(state: HostLiveState): void;
  /** A host's agent socket opened or closed (its state may not have changed: liveness decides that). */
  onSocketChange?(state: HostLiveState): void;
  onResync?(hostName: string, snapshot: Resync): void;
  onAppStatus?(hostName: string, msg: AppStatusMessage): void;
  onRoleReport?(hostName: string, msg: RoleReport): void;
  onReadiness?(hostName: string, msg: ReadinessReport): void;
  onLogEvents?(hostName: string, msg: LogEventsMessage): void;
  onScriptRun?(hostName: string, msg: ScriptRunMessage): void;
  onVipPresence?(hostName: string, msg: VipPresenceMessage): void;
  onRunningConfig?(hostName: string, msg: RunningConfigMessage): void;
  onConfigDelivery?(hostName: string, msg: ConfigDeliveryMessage): void;
  /** The agent confirmed it received a command (it runs it now). */
  onCommandReceipt?(hostName: string, commandId: string): void;
  /** Every result, including late ones that arrive after sendCommand gave up, and made-up no-answer results. */
  onCommandResult?(hostName: string, result: CommandResult): void;
  onConfigApplied?(hostName: string, ack: { revision: string; ok: boolean; errors: string[] }): void;
  /** The console's own condition, not a host's: a stall it survived, hosts held silent at once. */
  onControlPlaneAlarm?(alarm: { raise: boolean; key: ConsoleAlarmKind; text: string }): void;
  logger?: Logger;
  /** Injected clock (ms since epoch) for tests. */
  now?: () => number;
  consoleVersion?: string;
  /** The console's heartbeat, for hosts whose configuration has none of its own (HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_MS). */
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  /**
   * The leadership term this console holds (issue 17): sent in every welcome and stamped on every
   * command, so an agent refuses a deposed leader's. Callers of sendCommand do not know it.
   */
  term: number;
  /**
   * Asked before every command is emitted: false (this console no longer holds the leadership lease)
   * sends nothing; the command waits as for a host without an open socket and ends as no-answer at its
   * deadline, with that reason. Default: always true.
   */
  mayCommand?: () => boolean;
}

export interface AgentGateway {
  /**
   * Delivers a command and resolves with the agent's result, or with outcome "no-answer" at its
   * deadline. Submitting an id that is pending sends it again (the caller's retry); an id already
   * answered by that host is answered from memory.
   */
  sendCommand(hostName: string, command: AgentCommandInput): Promise<CommandResult>;
  /**
   * Drops a command that never went out (its host had no open socket), so it does not go out when the
   * host connects; false when it was sent already (it cannot be called back) or is not pending.
   */
  withdrawCommand(hostName: string, commandId: string, why: string): boolean;
  /** Re-reads configForHost(hostName) and pushes it if the host is connected. */
  pushConfig(hostName: string): Promise<boolean>;
  /** Closes the host's agent socket (e.g. its token was revoked): it must authenticate again. */
  dropHost(hostName: string, reason: string): boolean;
  /**
   * Asks a host's agent for an application's log (its tail, or the lines matching a search). Rejects with
   * a LogReadError when the host is not connected, does not run the application, is busy with other
   * reads, or does not answer in LOG_READ_TIMEOUT_MS.
   */
  readLog(hostName: string, request: LogReadRequestInput): Promise<LogReadReply>;
  hosts(): HostLiveState[];
  host(hostName: string): HostLiveState | null;
  /**
   * The hosts heard from (any message) since `sinceMs`, and when each was last heard: what the web tier
   * refreshes last-heartbeat times from, without every host's whole state (issue 15: 4,000 hosts).
   */
  heardSince(sinceMs: number): { hostNames: string[]; atMs: number[] };
  close(): void;
}

type AgentSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, { hostName?: string; agentVersion?: string }>;
type AgentNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, Record<string, never>, { hostName?: string; agentVersion?: string }>;

interface HostEntry {
  /** Its state, except lastHeartbeatAt, which is heardAtMs (liveOf): a message does not copy the state. */
  live: HostLiveState;
  /** When the host's agent was last heard from (any message, or its connection), or null. */
  heardAtMs: number | null;
  socket: AgentSocket | null;
  /** This host's heartbeat: its own (from its configuration) or the console's. */
  heartbeat: HeartbeatSettings;
  /** Applications (and their pairs) in the configuration last pushed to this host: what it may speak about. */
  applications: Set<string>;
  pairs: Set<string>;
  messages: TokenBucket;
  logEvents: TokenBucket;
  /** Refusals since the last log line about them, and when that line was written. */
  refusals: number;
  refusalLoggedAtMs: number;
  /** Log reads sent to this host's agent and not answered yet. */
  logReadsInFlight: number;
}

function refusal(code: Refusal["code"], message: string, extra: Pick<Refusal, "leaderUrl"> = {}): Error {
  const err = new Error(message) as Error & { data: Refusal };
  err.data = { code, message, ...extra };
  return err;
}

/** Why a command is not sent while mayCommand() says no. */
export const NOT_LEADER_COMMAND_REASON = "this console no longer holds the leadership lease";

/**
 * The refusal of a follower console (issue 17), for `io.of("/agent").use((socket, next) => next(notLeaderError(url)))`:
 * the agent tries the leader's agent URL next when it is one it was given, the next console otherwise.
 */
export function notLeaderError(leaderUrl: string | null): Error {
  // Only a URL travels (the agent would refuse the whole refusal otherwise, and learn nothing from it).
  const url = leaderUrl && URL.canParse(leaderUrl) ? leaderUrl : null;
  const message = url ? `this console is a follower; the leader is at ${url}` : "this console is a follower and no console leads right now";
  return refusal("not-leader", message, { leaderUrl: url });
}

export function attachAgentGateway(io: Server, deps: AgentGatewayDeps): AgentGateway {
  const log = deps.logger ?? logger("agents");
  const now = deps.now ?? Date.now;
  const defaultHeartbeat: HeartbeatSettings = { intervalMs: deps.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS, timeoutMs: deps.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS };
  const heartbeatTimeoutMs = defaultHeartbeat.timeoutMs;
  let sweepEveryMs = sweepIntervalFor(heartbeatTimeoutMs);
  const nsp = io.of(AGENT_NAMESPACE) as unknown as AgentNamespace;
  const hosts = new Map<string, HostEntry>();
  const liveness = new HostLiveness({ heartbeatTimeoutMs, sweepIntervalMs: sweepEveryMs });
  const mayCommand = deps.mayCommand ?? (() => true);
  const pending = new PendingCommands({
    now,
    send: (hostName, command) => {
      if (!mayCommand()) {
        log.warn("command not sent: this console no longer holds the leadership lease", { host: hostName, commandId: command.id, term: deps.term });
        return NOT_LEADER_COMMAND_REASON;
      }
      const entry = hosts.get(hostName);
      if (!entry?.socket?.connected) return false;
      const socket = entry.socket;
      socket.emit("command", command, (receipt: unknown) => {
        const parsed = commandReceiptSchema.safeParse(receipt);
        if (!parsed.success || parsed.data.commandId !== command.id || entry.socket !== socket) return;
        safely(`onCommandReceipt(${hostName})`, () => deps.onCommandReceipt?.(hostName, command.id));
      });
      return true;
    },
    onResult: (hostName, result) => safely(`onCommandResult(${hostName})`, () => deps.onCommandResult?.(hostName, result)),
    onRefused: (hostName, result, why) => {
      const entry = hosts.get(hostName);
      if (entry) refuse(entry, `a result for command ${result.commandId} was refused: ${why}`);
    },
  });

  function safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      log.error("a gateway callback threw", { callback: what, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  }

  /** Drops what a host said; logs it (at most every REFUSAL_LOG_INTERVAL_MS per host, with a count). */
  function refuse(entry: HostEntry, why: string): void {
    entry.refusals += 1;
    const t = now();
    if (t - entry.refusalLoggedAtMs < REFUSAL_LOG_INTERVAL_MS) return;
    log.warn("refused what an agent sent", { host: entry.live.hostName, why, refusedSinceLastLog: entry.refusals });
    entry.refusals = 0;
    entry.refusalLoggedAtMs = t;
  }

  function setState(entry: HostEntry, state: HostConnectionState, reason: string): void {
    if (entry.live.state === state) return;
    entry.live = { ...entry.live, state, reason, since: new Date(now()) };
    log.info(`host ${state}`, { host: entry.live.hostName, reason });
    const snapshot = liveOf(entry);
    safely(`onHostState(${entry.live.hostName})`, () => deps.onHostState?.(snapshot));
  }

  function entryFor(hostName: string): HostEntry {
    let entry = hosts.get(hostName);
    if (!entry) {
      entry = {
        live: { hostName, state: "disconnected", reason: "never connected", since: new Date(now()), lastHeartbeatAt: null, agentVersion: null, socketOpen: false },
        heardAtMs: null,
        socket: null,
        heartbeat: defaultHeartbeat,
        applications: new Set(),
        pairs: new Set(),
        messages: new TokenBucket(AGENT_MESSAGE_BURST, AGENT_MESSAGES_PER_SECOND, now()),
        logEvents: new TokenBucket(AGENT_LOG_EVENT_BURST, AGENT_LOG_EVENTS_PER_SECOND, now()),
        refusals: 0,
        refusalLoggedAtMs: -Infinity,
        logReadsInFlight: 0,
      };
      hosts.set(hostName, entry);
    }
    return entry;
  }

  function liveOf(entry: HostEntry): HostLiveState {
    return { ...entry.live, lastHeartbeatAt: entry.heardAtMs === null ? null : new Date(entry.heardAtMs) };
  }

  // Handshake refusals are logged like refused messages: at most every REFUSAL_LOG_INTERVAL_MS per client
  // address, with a count — a peer retrying a bad token (or a flood of them) writes a line every ten
  // seconds, not one per attempt. Addresses not refused lately are forgotten once many are held.
  const handshakeRefusals = new Map<string, { count: number; loggedAtMs: number }>();
  function logHandshakeRefusal(from: string, line: string, fields: Record<string, unknown>): void {
    const t = now();
    let seen = handshakeRefusals.get(from);
    if (!seen) {
      if (handshakeRefusals.size >= HANDSHAKE_REFUSALS_TRACKED) {
        for (const [address, r] of handshakeRefusals) if (t - r.loggedAtMs >= REFUSAL_LOG_INTERVAL_MS) handshakeRefusals.delete(address);
        if (handshakeRefusals.size >= HANDSHAKE_REFUSALS_TRACKED) handshakeRefusals.clear();
      }
      seen = { count: 0, loggedAtMs: -Infinity };
      handshakeRefusals.set(from, seen);
    }
    seen.count += 1;
    if (t - seen.loggedAtMs < REFUSAL_LOG_INTERVAL_MS) return;
    log.warn(line, { ...fields, from, refusedSinceLastLog: seen.count });
    seen.count = 0;
    seen.loggedAtMs = t;
  }

  // 1. Authentication happens in the handshake: a socket that fails here never reaches a handler.
  nsp.use((socket, next) => {
    const parsed = agentHelloSchema.safeParse(socket.handshake.auth);
    if (!parsed.success) {
      const message = `agent hello refused: ${describeZodError(parsed.error)}`;
      logHandshakeRefusal(socket.handshake.address, "agent hello refused", { reason: describeZodError(parsed.error) });
      return next(refusal("malformed-hello", message));
    }
    const hello = parsed.data;
    if (hello.protocolVersion !== AGENT_PROTOCOL_VERSION) {
      const message =
        `protocol version mismatch: agent on ${hello.hostName} speaks ${hello.protocolVersion}, ` +
        `console speaks ${AGENT_PROTOCOL_VERSION}; install a matching agent version`;
      logHandshakeRefusal(socket.handshake.address, "agent refused: protocol version mismatch", { host: hello.hostName, agentSpeaks: hello.protocolVersion, consoleSpeaks: AGENT_PROTOCOL_VERSION });
      return next(refusal("protocol-mismatch", message));
    }
    deps
      .verifyToken(hello.hostName, hello.token)
      .then((ok) => {
        if (!ok) {
          logHandshakeRefusal(socket.handshake.address, "agent refused: token unknown or revoked", { host: hello.hostName });
          return next(refusal("bad-token", `host ${hello.hostName}: agent token is unknown or revoked`));
        }
        socket.data.hostName = hello.hostName;
        socket.data.agentVersion = hello.agentVersion;
        next();
      })
      .catch((err: unknown) => {
        log.error("checking an agent token failed", { host: hello.hostName, error: String(err) });
        next(refusal("internal-error", "the console could not check the token; retry later"));
      });
  });

  /** What an application-scoped message may name: only this host's applications (and their pairs). */
  const ownApp = (entry: HostEntry, application: string) => entry.applications.has(application);

  // 2. Handler registry keyed by event name: each validates with the event's schema first (done by
  //    the caller), then checks the host speaks for itself.
  type Handlers = { [K in keyof ClientToServerEvents]: (entry: HostEntry, msg: z.infer<(typeof clientToServerSchemas)[K]>, ack: ((reply: unknown) => void) | null) => void };
  const handlers: Handlers = {
    heartbeat(_entry, msg, ack) {
      ack?.({ seq: msg.seq, consoleTimeMs: now() });
    },
    resync(entry, msg, ack) {
      const foreign = msg.applications.filter((a) => !ownApp(entry, a.application)).map((a) => a.application);
      if (foreign.length) refuse(entry, `its resync named applications it does not run: ${foreign.join(", ")} (left out)`);
      const own = { ...msg, applications: msg.applications.filter((a) => ownApp(entry, a.application)) };
      safely("onResync", () => deps.onResync?.(entry.live.hostName, own));
      ack?.({ ok: true });
    },
    commandResult(entry, msg, ack) {
      pending.settle(entry.live.hostName, msg);
      ack?.({ ok: true });
    },
    appStatus(entry, msg) {
      if (!ownApp(entry, msg.application)) return refuse(entry, `a status of ${msg.application}, which it does not run`);
      safely("onAppStatus", () => deps.onAppStatus?.(entry.live.hostName, msg));
    },
    roleReport(entry, msg) {
      if (!ownApp(entry, msg.application)) return refuse(entry, `a role report of ${msg.application}, which it does not run`);
      safely("onRoleReport", () => deps.onRoleReport?.(entry.live.hostName, msg));
    },
    readiness(entry, msg) {
      if (!ownApp(entry, msg.application)) return refuse(entry, `readiness of ${msg.application}, which it does not run`);
      safely("onReadiness", () => deps.onReadiness?.(entry.live.hostName, msg));
    },
    logEvents(entry, msg, ack) {
      const own = msg.events.filter((e) => ownApp(entry, e.application));
      if (own.length < msg.events.length) refuse(entry, `${msg.events.length - own.length} log event(s) of applications it does not run`);
      const allowed = own.slice(0, entry.logEvents.take(own.length, now()));
      if (allowed.length < own.length) refuse(entry, `${own.length - allowed.length} log event(s) over its quota of ${AGENT_LOG_EVENTS_PER_SECOND}/s`);
      if (allowed.length) safely("onLogEvents", () => deps.onLogEvents?.(entry.live.hostName, { events: allowed }));
      // Acknowledged either way: what was refused must not come back on the agent's retry.
      ack?.({ ok: true });
    },
    scriptRun(entry, msg) {
      if (!ownApp(entry, msg.application)) return refuse(entry, `a script run for ${msg.application}, which it does not run`);
      safely("onScriptRun", () => deps.onScriptRun?.(entry.live.hostName, msg));
    },
    vipPresence(entry, msg) {
      if (!entry.pairs.has(msg.pair)) return refuse(entry, `VIP presence of pair ${msg.pair}, which has no application on it`);
      safely("onVipPresence", () => deps.onVipPresence?.(entry.live.hostName, msg));
    },
    runningConfig(entry, msg) {
      if (!ownApp(entry, msg.application)) return refuse(entry, `running options of ${msg.application}, which it does not run`);
      safely("onRunningConfig", () => deps.onRunningConfig?.(entry.live.hostName, msg));
    },
    configDelivery(entry, msg) {
      if (!ownApp(entry, msg.application)) return refuse(entry, `a delivery report of ${msg.application}, which it does not run`);
      safely("onConfigDelivery", () => deps.onConfigDelivery?.(entry.live.hostName, msg));
    },
    protocolError(entry, msg) {
      log.warn("an agent refused a console message", { host: entry.live.hostName, event: msg.event, reason: msg.reason });
    },
  };

  nsp.on("connection", (socket) => {
    const hostName = socket.data.hostName;
    if (!hostName) {
      socket.disconnect(true); // cannot happen: the middleware sets it; refuse rather than guess
      return;
    }
    const entry = entryFor(hostName);
    const previous = entry.socket;
    if (previous && previous !== socket) {
      // The newest connection wins: the old one is most likely half-open after a network blip.
      log.warn("a new agent connection replaces the previous one", { host: hostName });
      previous.disconnect(true);
    }
    entry.socket = socket;
    liveness.connected(hostName, now());
    entry.heardAtMs = now();
    entry.live = { ...entry.live, agentVersion: socket.data.agentVersion ?? null, socketOpen: true };
    safely(`onSocketChange(${hostName})`, () => deps.onSocketChange?.(liveOf(entry)));
    if (entry.live.state === "connected") {
      // A new agent session on a host that never went silent long enough to be lost: still a new
      // connection for the controller (what the agent said before is replaced by its resync).
      entry.live = { ...entry.live, state: "disconnected" };
    }
    setState(entry, "connected", `agent ${socket.data.agentVersion ?? "?"} connected from ${socket.handshake.address}`);

    for (const event of Object.keys(handlers) as (keyof ClientToServerEvents)[]) {
      socket.on(event, (...args: unknown[]) => {
        if (entry.socket !== socket) return; // a replaced or closed socket's late messages are ignored
        const last = args[args.length - 1];
        const ack = typeof last === "function" ? (last as (reply: unknown) => void) : null;
        if (!entry.messages.take(1, now())) {
          refuse(entry, `messages over its rate of ${AGENT_MESSAGES_PER_SECOND}/s`);
          ack?.({ ok: false, error: "rate limit: message dropped" });
          return;
        }
        const parsed = clientToServerSchemas[event].safeParse(args[0]);
        if (!parsed.success) {
          const reason = describeZodError(parsed.error);
          log.warn("malformed agent message refused", { host: hostName, event, reason });
          socket.emit("protocolError", { event, reason: reason.slice(0, 2000) });
          ack?.({ ok: false, error: reason.slice(0, 2000) });
          return;
        }
        const t = now();
        entry.heardAtMs = t;
        if (liveness.heard(hostName, t)) setState(entry, "connected", "heartbeats resumed");
        try {
          (handlers[event] as (e: HostEntry, m: unknown, a: ((reply: unknown) => void) | null) => void)(entry, parsed.data, ack);
        } catch (err) {
          log.error("an agent message handler threw", { host: hostName, event, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
        }
      });
    }

    socket.on("disconnect", (why) => {
      if (entry.socket !== socket) return;
      entry.socket = null;
      entry.live = { ...entry.live, socketOpen: false };
      safely(`onSocketChange(${hostName})`, () => deps.onSocketChange?.(liveOf(entry)));
      // Not reported disconnected yet: the heartbeat timeout decides, so a quick reconnect does not flap.
      log.info("agent socket closed; the host counts as disconnected if it stays silent", { host: hostName, why, heartbeatTimeoutMs: liveness.timeoutOf(hostName) });
    });

    // The welcome carries the host's own heartbeat, which its configuration says: it goes out once that is read.
    void pushConfigTo(entry, socket, { welcome: true }).then(() => pending.hostConnected(hostName));
  });

  function welcome(socket: AgentSocket, hostName: string, heartbeat: HeartbeatSettings): void {
    socket.emit("welcome", {
      protocolVersion: AGENT_PROTOCOL_VERSION,
      hostName,
      consoleVersion: deps.consoleVersion ?? "0.1.0",
      heartbeatIntervalMs: heartbeat.intervalMs,
      heartbeatTimeoutMs: heartbeat.timeoutMs,
      consoleTimeMs: now(),
      term: deps.term,
    });
  }

  async function pushConfigTo(entry: HostEntry, socket: AgentSocket, opts: { welcome?: boolean } = {}): Promise<boolean> {
    const hostName = entry.live.hostName;
    let input: HostConfigInput | null;
    try {
      input = await deps.configForHost(hostName);
    } catch (err) {
      log.error("building a host's configuration failed", { host: hostName, error: String(err) });
      if (opts.welcome && socket.connected) welcome(socket, hostName, entry.heartbeat);
      return false;
    }
    const parsed = hostConfigSchema.safeParse(input ?? { hostName, revision: "empty", applications: [] });
    if (!parsed.success) {
      log.error("a host's configuration is invalid and was not pushed", { host: hostName, reason: describeZodError(parsed.error) });
      if (opts.welcome && socket.connected) welcome(socket, hostName, entry.heartbeat);
      return false;
    }
    knowApplications(entry, parsed.data);
    if (!socket.connected) return false;
    if (opts.welcome) welcome(socket, hostName, entry.heartbeat);
    socket.emit("config", parsed.data, (reply: unknown) => {
      const ack = configAckSchema.safeParse(reply);
      if (!ack.success) {
        log.warn("malformed configuration acknowledgement", { host: hostName, reason: describeZodError(ack.error) });
        return;
      }
      if (!ack.data.ok) log.warn("a host refused its configuration", { host: hostName, revision: ack.data.revision, errors: ack.data.errors });
      safely("onConfigApplied", () => deps.onConfigApplied?.(hostName, ack.data));
    });
    return true;
  }

  /** What a host may speak about from now on (the applications and pairs of its configuration), and its heartbeat. */
  function knowApplications(entry: HostEntry, cfg: HostConfig): void {
    entry.applications = new Set(cfg.applications.map((a) => a.name));
    entry.pairs = new Set(cfg.applications.flatMap((a) => (a.pair ? [a.pair.name] : [])));
    entry.heartbeat = cfg.heartbeat ?? defaultHeartbeat;
    liveness.setTimeoutOf(entry.live.hostName, cfg.heartbeat ? cfg.heartbeat.timeoutMs : null);
    resweep();
  }

  /** The sweep runs often enough for the shortest timeout any host has. */
  function resweep(): void {
    const wanted = sweepIntervalFor(liveness.shortestTimeoutMs());
    if (wanted === sweepEveryMs) return;
    sweepEveryMs = wanted;
    liveness.setSweepIntervalMs(wanted);
    clearInterval(sweeper);
    sweeper = setInterval(sweep, sweepEveryMs);
    sweeper.unref?.();
  }

  // 3. Liveness sweep: hosts silent for the heartbeat timeout are lost — unless the console itself
  //    was stalled, or many fell silent at once (liveness.ts).
  let held = false;
  const sweep = () => {
    const t = now();
    const result = liveness.sweep(t);
    if (result.stalledMs !== null) {
      // Every late sweep re-baselines the hosts; only a stall long enough to have cost a host its
      // timeout (half of it or more) is worth an operator's attention — a GC pause is not.
      const worthAnAlarm = result.stalledMs >= liveness.shortestTimeoutMs() / 2;
      (worthAnAlarm ? log.warn : log.debug).call(log, "the control plane was stalled; every host gets a fresh heartbeat timeout instead of being declared lost", { stalledMs: result.stalledMs });
      if (worthAnAlarm) {
        safely("onControlPlaneAlarm", () =>
          deps.onControlPlaneAlarm?.({ raise: true, key: "control-plane-stall", text: `the console's control plane did not run for ${result.stalledMs} ms; no host was declared lost for it` }),
        );
      }
    }
    if (result.held && !held) {
      held = true;
      log.warn("many hosts fell silent at once: held, not declared lost, for one more heartbeat timeout", { hosts: result.held.hosts, untilMs: result.held.untilMs });
      safely("onControlPlaneAlarm", () =>
        deps.onControlPlaneAlarm?.({ raise: true, key: "agents-silent", text: `${result.held!.hosts.length} hosts fell silent at once (${result.held!.hosts.join(", ")}): more likely the console's network than theirs; no failover for them yet` }),
      );
    } else if (!result.held && held) {
      held = false;
      safely("onControlPlaneAlarm", () => deps.onControlPlaneAlarm?.({ raise: false, key: "agents-silent", text: "the hosts that fell silent together were heard again or declared lost one by one" }));
    }
    for (const lost of result.lost) {
      const entry = hosts.get(lost.host);
      if (!entry) continue;
      setState(entry, "disconnected", `no heartbeat for ${lost.silentMs} ms (timeout ${liveness.timeoutOf(lost.host)} ms)`);
      // A socket that is open but silent is dead or wedged: close it so the agent reconnects.
      entry.socket?.disconnect(true);
    }
    pending.tick();
  };
  let sweeper = setInterval(sweep, sweepEveryMs);
  sweeper.unref?.();

  return {
    sendCommand(hostName, input) {
      // The term is this console's, stamped here: whoever built the command does not know it.
      const parsed = agentCommandSchema.safeParse({ ...input, term: deps.term });
      if (!parsed.success) {
        return Promise.reject(new Error(`command refused before sending: ${describeZodError(parsed.error)}`));
      }
      const command: AgentCommand = parsed.data;
      return pending.submit(hostName, command);
    },
    withdrawCommand: (hostName, commandId, why) => pending.withdraw(hostName, commandId, why),
    async pushConfig(hostName) {
      const entry = hosts.get(hostName);
      if (!entry?.socket?.connected) return false;
      return pushConfigTo(entry, entry.socket);
    },
    dropHost(hostName, reason) {
      const entry = hosts.get(hostName);
      if (!entry?.socket) return false;
      log.warn("agent connection closed by the console", { host: hostName, reason });
      entry.socket.disconnect(true);
      return true;
    },
    readLog(hostName, input) {
      const parsed = logReadRequestSchema.safeParse(input);
      if (!parsed.success) return Promise.reject(new Error(`log read refused before sending: ${describeZodError(parsed.error)}`));
      const request = parsed.data;
      const entry = hosts.get(hostName);
      const socket = entry?.socket;
      if (!entry || !socket?.connected) return Promise.reject(new LogReadError("CONFLICT", `the agent of host ${hostName} is not connected, so the log of ${request.application} cannot be read now`));
      if (!ownApp(entry, request.application)) return Promise.reject(new LogReadError("NOT_FOUND", `host ${hostName} does not run ${request.application}`));
      if (entry.logReadsInFlight >= LOG_READS_IN_FLIGHT_PER_HOST) {
        return Promise.reject(new LogReadError("CONFLICT", `the agent of host ${hostName} is still answering ${entry.logReadsInFlight} log reads; try again in a moment`));
      }
      entry.logReadsInFlight++;
      return new Promise<LogReadReply>((resolve, reject) => {
        socket.timeout(LOG_READ_TIMEOUT_MS).emit("readLog", request, (err: Error | null, reply: unknown) => {
          entry.logReadsInFlight--;
          if (err) return reject(new LogReadError("CONFLICT", `the agent of host ${hostName} did not answer the log read within ${LOG_READ_TIMEOUT_MS / 1000} s`));
          const answer = logReadReplySchema.safeParse(reply);
          if (!answer.success || answer.data.application !== request.application) {
            const why = answer.success ? `it answered for ${answer.data.application}, not ${request.application}` : describeZodError(answer.error);
            refuse(entry, `a log read reply was refused: ${why}`);
            return reject(new LogReadError("CONFLICT", `the agent of host ${hostName} sent a log read reply the console cannot use (${why.slice(0, 300)})`));
          }
          resolve(answer.data);
        });
      });
    },
    hosts: () => [...hosts.values()].map(liveOf),
    host: (hostName) => {
      const e = hosts.get(hostName);
      return e ? liveOf(e) : null;
    },
    heardSince(sinceMs) {
      const hostNames: string[] = [];
      const atMs: number[] = [];
      for (const e of hosts.values()) {
        if (e.heardAtMs === null || e.heardAtMs < sinceMs) continue;
        hostNames.push(e.live.hostName);
        atMs.push(e.heardAtMs);
      }
      return { hostNames, atMs };
    },
    close() {
      clearInterval(sweeper);
      pending.close();
      for (const e of hosts.values()) e.socket?.disconnect(true);
      nsp.removeAllListeners("connection");
    },
  };
}
