// Wires the live side of the console: the agent gateway on socket.io (tokens from the database,
// host configurations built from the stored configuration) and the controller runner fed by it.
import type { Server } from "socket.io";
import type { Services } from "../services";
import { attachAgentGateway, type AgentGateway } from "../agents/gateway";
import { verifyAgentToken } from "../agent-tokens/agent-tokens.service";
import { loadSnapshot } from "../config/config.repository";
import { buildHostConfig } from "./host-config";
import { ControllerRunner } from "./runner";
import type { Timing } from "../controller/core";
import { alarmEngineOf } from "../alarms/engine";

export const LIVE_PUSH_INTERVAL_MS = 100;

export interface LiveOptions {
  heartbeatTimeoutMs?: number;
  labStateDir?: string | null;
  timing?: Partial<Timing>;
}

export interface Live {
  gateway: AgentGateway;
  runner: ControllerRunner;
  /** Call after any configuration change: pushes host configurations and reloads the controller. */
  configChanged(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLive(services: Services, io: Server, opts: LiveOptions = {}): Promise<Live> {
  let revision = Date.now();
  let runner: ControllerRunner | null = null;
  const alarms = alarmEngineOf(services);
  // Browsers are told that live state changed (at most every LIVE_PUSH_INTERVAL_MS); they refetch.
  let pushTimer: NodeJS.Timeout | null = null;
  const pushLive = () => {
    pushTimer ??= setTimeout(() => {
      pushTimer = null;
      io.of("/ui").emit("live:changed");
    }, LIVE_PUSH_INTERVAL_MS);
  };
  const gateway = attachAgentGateway(io, {
    verifyToken: (hostName, token) => verifyAgentToken(services.db, hostName, token),
    configForHost: async (hostName) => buildHostConfig(await loadSnapshot(services.db), hostName, String(revision), { labStateDir: opts.labStateDir }),
    heartbeatTimeoutMs: opts.heartbeatTimeoutMs,
    onHostState: (h) => {
      runner?.onHostState(h);
      pushLive();
    },
    onResync: (host, snap) => runner?.onResync(host, snap),
    onAppStatus: (host, msg) => runner?.onAppStatus(host, msg),
    onRoleReport: (host, msg) => runner?.onRoleReport(host, msg),
    onReadiness: (host, msg) => runner?.onReadiness(host, msg),
    onCommandResult: (host, result) => runner?.onCommandResult(host, result),
    onLogEvents: (host, msg) => alarms.onLogEvents(host, msg),
  });
  runner = new ControllerRunner({ db: services.db, gateway, onChange: pushLive, onAlarm: (cmd) => alarms.onControllerAlarm(cmd), timing: { ...(opts.heartbeatTimeoutMs ? { heartbeatTimeoutMs: opts.heartbeatTimeoutMs } : {}), ...opts.timing } });
  await runner.start();
  return {
    gateway,
    runner,
    async configChanged() {
      revision = Date.now();
      const snapshot = await loadSnapshot(services.db);
      await Promise.all(snapshot.hosts.map((h) => gateway.pushConfig(h.name).catch(() => false)));
      await runner!.reloadConfig();
    },
    async stop() {
      if (pushTimer) clearTimeout(pushTimer);
      await runner!.stop();
      gateway.close();
    },
  };
}
