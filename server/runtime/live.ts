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
import superjson from "superjson";
import { pairViews } from "./live-view";

/** Live pushes are coalesced: at most one per this window (the first change is pushed at once). */
export const LIVE_PUSH_INTERVAL_MS = 50;

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
  // Browsers get the pair views that changed, already computed (one computation per push, not one
  // per browser), and patch their query cache with them; "live:changed" tells them to refetch the
  // other live queries (timelines, agents). Pushes are coalesced to one per LIVE_PUSH_INTERVAL_MS.
  let pushTimer: NodeJS.Timeout | null = null;
  let lastPushAtMs = 0;
  const lastSent = new Map<string, string>();
  const flush = () => {
    pushTimer = null;
    lastPushAtMs = Date.now();
    const state = runner?.current ?? null;
    if (state) {
      const views = pairViews(state, Object.values(state.pairs), gateway.hosts());
      const changed = views.filter((v) => {
        const text = JSON.stringify(v);
        if (lastSent.get(v.id) === text) return false;
        lastSent.set(v.id, text);
        return true;
      });
      const ids = new Set(views.map((v) => v.id));
      const removed = [...lastSent.keys()].filter((id) => !ids.has(id));
      for (const id of removed) lastSent.delete(id);
      if (changed.length || removed.length) io.of("/ui").emit("live:pairs", superjson.serialize({ changed, removed }));
    }
    io.of("/ui").emit("live:changed");
  };
  const pushLive = () => {
    if (pushTimer) return;
    pushTimer = setTimeout(flush, Math.max(0, lastPushAtMs + LIVE_PUSH_INTERVAL_MS - Date.now()));
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
