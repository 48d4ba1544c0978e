// The console side of the agent wire protocol: authenticates host agents on socket.io namespace
// /agent, pushes each host's configuration, tracks heartbeats (connected / disconnected), delivers
// commands with a deadline and bounded idempotent retries, and hands every validated report to
// injected callbacks. It holds no database access: tokens, configuration and persistence are injected
// so the lead wires Prisma in one place and tests use in-memory fakes.
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
  configAckSchema,
  describeZodError,
  hostConfigSchema,
  type AgentCommand,
  type AgentCommandInput,
  type AppStatusMessage,
  type ClientToServerEvents,
  type CommandResult,
  type HostConfigInput,
  type LogEventsMessage,
  type ReadinessReport,
  type Refusal,
  type Resync,
  type RoleReport,
  type ScriptRunMessage,
  type VipPresenceMessage,
  type RunningConfigMessage,
  type ConfigDeliveryMessage,
  type ServerToClientEvents,
} from "../../protocol/agent-wire";
import { PendingCommands } from "./pending-commands";

export type HostConnectionState = "connected" | "disconnected";

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

export interface GatewayLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface AgentGatewayDeps {
  /** True when `token` is a valid, unrevoked token of `hostName` (the lead checks the hashed token in the DB). */
  verifyToken(hostName: string, token: string): Promise<boolean>;
  /** The configuration to push to a host right after it connects, or when pushConfig() is called. */
  configForHost(hostName: string): Promise<HostConfigInput | null>;
  onHostState?(state: HostLiveState): void;
  /** A host's agent socket opened or closed (its state may not have changed: the heartbeat timeout decides that). */
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
  /** Every result, including late ones that arrive after sendCommand gave up, and gateway-made no-answer results. */
  onCommandResult?(hostName: string, result: CommandResult): void;
  onConfigApplied?(hostName: string, ack: { revision: string; ok: boolean; errors: string[] }): void;
  logger?: GatewayLogger;
  /** Injected clock (ms since epoch) for tests. */
  now?: () => number;
  consoleVersion?: string;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  /** A command not answered is re-sent (same id) after this long, up to maxCommandAttempts sends. */
  commandRetryIntervalMs?: number;
  maxCommandAttempts?: number;
}

export interface AgentGateway {
  /**
   * Delivers a command and resolves with the agent's result. Retries with the same id while the host
   * is connected; resolves with outcome "no-answer" at the deadline or after the last attempt. Calling
   * it again with an id already pending or recently finished returns the same result.
   */
  sendCommand(hostName: string, command: AgentCommandInput): Promise<CommandResult>;
  /** Re-reads configForHost(hostName) and pushes it if the host is connected. */
  pushConfig(hostName: string): Promise<boolean>;
  /** Closes the host's agent socket (e.g. its token was revoked): it must authenticate again. */
  dropHost(hostName: string, reason: string): boolean;
  hosts(): HostLiveState[];
  host(hostName: string): HostLiveState | null;
  close(): void;
}

type AgentSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, { hostName?: string; agentVersion?: string }>;
type AgentNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, Record<string, never>, { hostName?: string; agentVersion?: string }>;

const consoleLogger: GatewayLogger = {
  info: (m) => console.log(`[agents] ${m}`),
  warn: (m) => console.warn(`[agents] ${m}`),
  error: (m) => console.error(`[agents] ${m}`),
};

interface HostEntry {
  live: HostLiveState;
  socket: AgentSocket | null;
  lastHeartbeatMs: number;
}

function refusal(code: Refusal["code"], message: string): Error {
  const err = new Error(message) as Error & { data: Refusal };
  err.data = { code, message };
  return err;
}

export function attachAgentGateway(io: Server, deps: AgentGatewayDeps): AgentGateway {
  const log = deps.logger ?? consoleLogger;
  const now = deps.now ?? Date.now;
  const heartbeatIntervalMs = deps.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const heartbeatTimeoutMs = deps.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
  const nsp = io.of(AGENT_NAMESPACE) as unknown as AgentNamespace;
  const hosts = new Map<string, HostEntry>();
  const pending = new PendingCommands({
    now,
    retryIntervalMs: deps.commandRetryIntervalMs ?? 1000,
    maxAttempts: deps.maxCommandAttempts ?? 5,
    send: (hostName, command) => {
      const entry = hosts.get(hostName);
      if (!entry?.socket?.connected) return false;
      entry.socket.emit("command", command, () => {
        // Receipt: the core-driven delivery tracking of the control-plane work uses it.
      });
      return true;
    },
    onResult: (hostName, result) => safely(`onCommandResult(${hostName})`, () => deps.onCommandResult?.(hostName, result)),
  });

  function safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      log.error(`${what} threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  }

  function setState(entry: HostEntry, state: HostConnectionState, reason: string): void {
    if (entry.live.state === state) return;
    entry.live = { ...entry.live, state, reason, since: new Date(now()) };
    log.info(`host ${entry.live.hostName} ${state}: ${reason}`);
    const snapshot = { ...entry.live };
    safely(`onHostState(${entry.live.hostName})`, () => deps.onHostState?.(snapshot));
  }

  // 1. Authentication happens in the handshake: a socket that fails here never reaches a handler.
  nsp.use((socket, next) => {
    const parsed = agentHelloSchema.safeParse(socket.handshake.auth);
    if (!parsed.success) {
      const message = `agent hello refused: ${describeZodError(parsed.error)}`;
      log.warn(`${message} (from ${socket.handshake.address})`);
      return next(refusal("malformed-hello", message));
    }
    const hello = parsed.data;
    if (hello.protocolVersion !== AGENT_PROTOCOL_VERSION) {
      const message =
        `protocol version mismatch: agent on ${hello.hostName} speaks ${hello.protocolVersion}, ` +
        `console speaks ${AGENT_PROTOCOL_VERSION}; install a matching agent version`;
      log.warn(message);
      return next(refusal("protocol-mismatch", message));
    }
    deps
      .verifyToken(hello.hostName, hello.token)
      .then((ok) => {
        if (!ok) {
          const message = `host ${hello.hostName}: agent token is unknown or revoked`;
          log.warn(`${message} (from ${socket.handshake.address})`);
          return next(refusal("bad-token", message));
        }
        socket.data.hostName = hello.hostName;
        socket.data.agentVersion = hello.agentVersion;
        next();
      })
      .catch((err: unknown) => {
        log.error(`verifyToken(${hello.hostName}) failed: ${String(err)}`);
        next(refusal("internal-error", "the console could not check the token; retry later"));
      });
  });

  // 2. Handler registry keyed by event name: each validates with the event's schema first.
  type Handlers = { [K in keyof ClientToServerEvents]: (entry: HostEntry, msg: z.infer<(typeof clientToServerSchemas)[K]>, ack: ((reply: unknown) => void) | null) => void };
  const handlers: Handlers = {
    heartbeat(entry, msg, ack) {
      ack?.({ seq: msg.seq, consoleTimeMs: now() });
    },
    resync(entry, msg, ack) {
      safely("onResync", () => deps.onResync?.(entry.live.hostName, msg));
      ack?.({ ok: true });
    },
    commandResult(entry, msg, ack) {
      pending.settle(entry.live.hostName, msg);
      ack?.({ ok: true });
    },
    appStatus(entry, msg) {
      safely("onAppStatus", () => deps.onAppStatus?.(entry.live.hostName, msg));
    },
    roleReport(entry, msg) {
      safely("onRoleReport", () => deps.onRoleReport?.(entry.live.hostName, msg));
    },
    readiness(entry, msg) {
      safely("onReadiness", () => deps.onReadiness?.(entry.live.hostName, msg));
    },
    logEvents(entry, msg, ack) {
      safely("onLogEvents", () => deps.onLogEvents?.(entry.live.hostName, msg));
      ack?.({ ok: true });
    },
    scriptRun(entry, msg) {
      safely("onScriptRun", () => deps.onScriptRun?.(entry.live.hostName, msg));
    },
    vipPresence(entry, msg) {
      safely("onVipPresence", () => deps.onVipPresence?.(entry.live.hostName, msg));
    },
    runningConfig(entry, msg) {
      safely("onRunningConfig", () => deps.onRunningConfig?.(entry.live.hostName, msg));
    },
    configDelivery(entry, msg) {
      safely("onConfigDelivery", () => deps.onConfigDelivery?.(entry.live.hostName, msg));
    },
    protocolError(entry, msg) {
      log.warn(`agent on ${entry.live.hostName} refused a console message (${msg.event}): ${msg.reason}`);
    },
  };

  nsp.on("connection", (socket) => {
    const hostName = socket.data.hostName;
    if (!hostName) {
      socket.disconnect(true); // cannot happen: the middleware sets it; refuse rather than guess
      return;
    }
    let entry = hosts.get(hostName);
    if (!entry) {
      entry = {
        live: { hostName, state: "disconnected", reason: "never connected", since: new Date(now()), lastHeartbeatAt: null, agentVersion: null, socketOpen: false },
        socket: null,
        lastHeartbeatMs: 0,
      };
      hosts.set(hostName, entry);
    }
    const previous = entry.socket;
    if (previous && previous !== socket) {
      // The newest connection wins: the old one is most likely half-open after a network blip.
      log.warn(`host ${hostName}: a new agent connection replaces the previous one`);
      previous.disconnect(true);
    }
    const current = entry;
    current.socket = socket;
    current.lastHeartbeatMs = now();
    current.live = { ...current.live, lastHeartbeatAt: new Date(now()), agentVersion: socket.data.agentVersion ?? null, socketOpen: true };
    safely(`onSocketChange(${hostName})`, () => deps.onSocketChange?.({ ...current.live }));
    setState(current, "connected", `agent ${socket.data.agentVersion ?? "?"} connected from ${socket.handshake.address}`);

    for (const event of Object.keys(handlers) as (keyof ClientToServerEvents)[]) {
      socket.on(event, (...args: unknown[]) => {
        if (current.socket !== socket) return; // a replaced socket's late messages are ignored
        const last = args[args.length - 1];
        const ack = typeof last === "function" ? (last as (reply: unknown) => void) : null;
        const schema = clientToServerSchemas[event];
        const parsed = schema.safeParse(args[0]);
        if (!parsed.success) {
          const reason = describeZodError(parsed.error);
          log.warn(`host ${hostName}: malformed ${event} refused: ${reason}`);
          socket.emit("protocolError", { event, reason: reason.slice(0, 2000) });
          ack?.({ ok: false, error: reason.slice(0, 2000) });
          return;
        }
        current.lastHeartbeatMs = now();
        current.live = { ...current.live, lastHeartbeatAt: new Date(current.lastHeartbeatMs) };
        if (current.live.state === "disconnected") setState(current, "connected", "heartbeats resumed");
        try {
          (handlers[event] as (e: HostEntry, m: unknown, a: ((reply: unknown) => void) | null) => void)(current, parsed.data, ack);
        } catch (err) {
          log.error(`host ${hostName}: handler for ${event} threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
        }
      });
    }

    socket.on("disconnect", (why) => {
      if (current.socket !== socket) return;
      current.socket = null;
      current.live = { ...current.live, socketOpen: false };
      safely(`onSocketChange(${hostName})`, () => deps.onSocketChange?.({ ...current.live }));
      // Not reported disconnected yet: the heartbeat timeout decides, so a quick reconnect does not flap.
      log.info(`host ${hostName}: agent socket closed (${why}); disconnected after ${heartbeatTimeoutMs} ms without heartbeats`);
    });

    socket.emit("welcome", {
      protocolVersion: AGENT_PROTOCOL_VERSION,
      hostName,
      consoleVersion: deps.consoleVersion ?? "0.1.0",
      heartbeatIntervalMs,
      heartbeatTimeoutMs,
      consoleTimeMs: now(),
    });
    void pushConfigTo(current, socket).then(() => pending.hostConnected(hostName));
  });

  async function pushConfigTo(entry: HostEntry, socket: AgentSocket): Promise<boolean> {
    const hostName = entry.live.hostName;
    let input: HostConfigInput | null;
    try {
      input = await deps.configForHost(hostName);
    } catch (err) {
      log.error(`configForHost(${hostName}) failed: ${String(err)}`);
      return false;
    }
    const parsed = hostConfigSchema.safeParse(input ?? { hostName, revision: "empty", applications: [] });
    if (!parsed.success) {
      log.error(`configuration for host ${hostName} is invalid and was not pushed: ${describeZodError(parsed.error)}`);
      return false;
    }
    if (!socket.connected) return false;
    socket.emit("config", parsed.data, (reply: unknown) => {
      const ack = configAckSchema.safeParse(reply);
      if (!ack.success) {
        log.warn(`host ${hostName}: malformed config ack: ${describeZodError(ack.error)}`);
        return;
      }
      if (!ack.data.ok) log.warn(`host ${hostName} refused configuration ${ack.data.revision}: ${ack.data.errors.join("; ")}`);
      safely("onConfigApplied", () => deps.onConfigApplied?.(hostName, ack.data));
    });
    return true;
  }

  // 3. Heartbeat sweep: a host silent for heartbeatTimeoutMs is disconnected, socket open or not.
  const sweepEveryMs = Math.max(20, Math.min(250, Math.floor(heartbeatTimeoutMs / 4)));
  const sweeper = setInterval(() => {
    const t = now();
    for (const entry of hosts.values()) {
      if (entry.live.state === "connected" && t - entry.lastHeartbeatMs > heartbeatTimeoutMs) {
        setState(entry, "disconnected", `no heartbeat for ${t - entry.lastHeartbeatMs} ms (timeout ${heartbeatTimeoutMs} ms)`);
        // A socket that is open but silent is dead or wedged: close it so the agent reconnects.
        entry.socket?.disconnect(true);
      }
    }
    pending.tick();
  }, sweepEveryMs);
  sweeper.unref?.();

  return {
    sendCommand(hostName, input) {
      const parsed = agentCommandSchema.safeParse(input);
      if (!parsed.success) {
        return Promise.reject(new Error(`command refused before sending: ${describeZodError(parsed.error)}`));
      }
      const command: AgentCommand = parsed.data;
      return pending.submit(hostName, command);
    },
    async pushConfig(hostName) {
      const entry = hosts.get(hostName);
      if (!entry?.socket?.connected) return false;
      return pushConfigTo(entry, entry.socket);
    },
    dropHost(hostName, reason) {
      const entry = hosts.get(hostName);
      if (!entry?.socket) return false;
      log.warn(`host ${hostName}: agent connection closed by the console (${reason})`);
      entry.socket.disconnect(true);
      return true;
    },
    hosts: () => [...hosts.values()].map((e) => ({ ...e.live })),
    host: (hostName) => {
      const e = hosts.get(hostName);
      return e ? { ...e.live } : null;
    },
    close() {
      clearInterval(sweeper);
      pending.close();
      for (const e of hosts.values()) e.socket?.disconnect(true);
      nsp.removeAllListeners("connection");
    },
  };
}
