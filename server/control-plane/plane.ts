// The control plane as it runs inside its worker thread: the agent gateway on its own HTTP port, the
// controller runner fed by it, the live pair views computed once per change, the VIP watch (where the
// agents observe each VIP against where the controller wants it: the vip-mismatch alarm), and the
// answers to the web tier's requests. Built in order — database, gateway, runner — by startPlane();
// worker.ts only carries messages. Nothing here waits on the web tier: a slow page or a big import in
// the main thread cannot delay a heartbeat or a failover decision.
import http from "node:http";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { Server as SocketServer } from "socket.io";
import type { Db } from "../db";
import type { Env } from "../env";
import { attachAgentGateway, LogReadError, type AgentGateway } from "../agents/gateway";
import { flushAgentTokenUses, verifyAgentToken } from "../agent-tokens/agent-tokens.service";
import { loadSnapshot } from "../config/config.repository";
import { loadDirectory } from "../config/directory";
import { buildHostConfig } from "../runtime/host-config";
import { ControllerRunner, type PairConfig } from "../runtime/runner";
import type { SaveFence } from "../runtime/runtime.repository";
import { pairViews } from "../runtime/live-view";
import { AppRuntimeStore, withAppRuntime } from "../runtime/app-runtime";
import { stepVipWatch, vipCheckPairs, type PairVipMismatch, type VipWatchState } from "../runtime/vip-watch";
import type { ControlPlaneMetrics, ControlPlaneRequests, Notice } from "./protocol";

/** Live pushes are coalesced: at most one per this window (the first change is pushed at once). */
export const LIVE_PUSH_INTERVAL_MS = 50;
/**
 * How often the web tier's last-heartbeat times are refreshed (only the times, of the hosts heard since
 * the last refresh). A push carries only the hosts whose state changed: every host's whole state in
 * every push was 6–10 ms of serialising per push at 4,000 hosts (issue 15).
 */
export const HEARD_REFRESH_INTERVAL_MS = 1_000;
/**
 * How often the VIP watch looks again without a change to look at: a contradiction becomes the
 * vip-mismatch alarm once it has lasted its settle time (VIP_MISMATCH_SETTLE_MS), so this is the
 * alarm's granularity, not a deadline.
 */
export const VIP_WATCH_INTERVAL_MS = 1_000;
/** The controller's recovery grace on a console of several (SWITCHYARD_CONSOLES >= 2); one console keeps the core's 5 s. */
export const CLUSTER_RECOVERY_GRACE_MS = 10_000;
/** Largest message an agent may send (a resync of 256 applications, a batch of 1,000 log events). */
export const AGENT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** This thread's health since the previous scrape (the histogram is reset): event-loop delay, heap, and the controller's queue. */
export function threadMetrics(loopDelay: IntervalHistogram, queuedInputs: number): ControlPlaneMetrics {
  // Nanoseconds since the previous scrape; NaN before the first sample.
  const s = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
  const out = {
    eventLoopDelay: { meanSeconds: s(loopDelay.mean), p99Seconds: s(loopDelay.percentile(99)), maxSeconds: s(loopDelay.max) },
    queuedInputs,
    heapUsedBytes: process.memoryUsage().heapUsed,
  };
  loopDelay.reset();
  return out;
}

export interface Plane {
  agentUrl: string;
  /** Everything a new mirror needs (a follower's web tier connecting): every view and host, every application's runtime. */
  snapshot(): Notice[];
  handle<K extends keyof ControlPlaneRequests>(name: K, input: ControlPlaneRequests[K]["in"]): Promise<ControlPlaneRequests[K]["out"]>;
}

export class PlaneRequestError extends Error {
  constructor(
    readonly code: "NOT_FOUND" | "CONFLICT" | "INVALID",
    message: string,
  ) {
    super(message);
  }
}

/** The agent port, bound once by the worker (leader or not: a follower answers agents with where the leader is). */
export interface AgentListener {
  io: SocketServer;
  agentUrl: string;
  close(): Promise<void>;
}

export async function listenForAgents(env: Env): Promise<AgentListener> {
  const server = http.createServer((_req, res) => res.writeHead(404).end("agents connect with socket.io on /socket.io/ namespace /agent"));
  const io = new SocketServer(server, { path: "/socket.io", serveClient: false, maxHttpBufferSize: AGENT_MAX_MESSAGE_BYTES });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(env.AGENT_PORT, env.AGENT_HOST ?? env.HOST, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : env.AGENT_PORT;
  const host = env.AGENT_HOST ?? env.HOST;
  const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  const agentUrl = env.AGENT_PUBLIC_URL?.replace(/\/$/, "") ?? `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`;
  return {
    io,
    agentUrl,
    close: async () => {
      io.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** How the leader's plane runs: on the worker's agent port, at its lease's term, commanding only while the lease allows. */
export interface PlaneLeadership {
  listener: AgentListener;
  term: number;
  mayCommand: () => boolean;
  /** Run first in every transaction that saves a decision: fails once this console no longer holds the lease (lease-store.ts). */
  saveFence?: SaveFence;
}

export async function startPlane(db: Db, env: Env, notify: (notice: Notice) => void, leadership: PlaneLeadership): Promise<Plane> {
  let revision = Date.now();
  const { io, agentUrl } = leadership.listener;

  // Browsers get the pair views that changed, already computed (one computation per push, not one per
  // browser). Pushes are coalesced to one per LIVE_PUSH_INTERVAL_MS.
  let runner: ControllerRunner | null = null;
  let pushTimer: NodeJS.Timeout | null = null;
  let lastPushAtMs = 0;
  const lastSent = new Map<string, string>();
  // Only the views that can have changed are computed again (issue 15: 2,000 pairs made each push cost
  // all of them): the pairs the controller stepped (its steps' scope), the pairs of hosts whose
  // connection or socket changed, and every pair when what the agents observe of VIPs or versions
  // changed, or the VIP watch's mismatches did (rarer, and not kept per pair here).
  let allDirty = true;
  const dirtyHosts = new Set<string>();
  /** The web tier has every host's state (the first push sends them all). */
  let hostsSent = false;
  let heardRefreshedAtMs = 0;
  const flush = () => {
    pushTimer = null;
    lastPushAtMs = Date.now();
    const state = runner?.current ?? null;
    if (!state) return;
    const stepped = runner?.takeChangedPairs() ?? new Set<string>();
    let pairs: PairConfig[];
    if (allDirty) pairs = Object.values(state.pairs);
    else if (dirtyHosts.size === 0) pairs = [...stepped].flatMap((id) => state.pairs[id] ?? []);
    else pairs = Object.values(state.pairs).filter((p) => stepped.has(p.id) || p.apps.some((a) => dirtyHosts.has(a.hostName)));
    allDirty = false;
    const hostsComplete = !hostsSent;
    const hosts = hostsComplete ? gateway.hosts() : [...dirtyHosts].flatMap((name) => gateway.host(name) ?? []);
    hostsSent = true;
    dirtyHosts.clear();
    // The hosts of the views computed again (not all of them: each push is then about its changes).
    const hostsOfPairs = hostsComplete ? hosts : [...new Set(pairs.flatMap((p) => p.apps.map((a) => a.hostName)))].flatMap((name) => gateway.host(name) ?? []);
    const views = pairViews(state, pairs, hostsOfPairs, { observations: appRuntime.vipObservations(), mismatches: vipMismatches }, (name) => appRuntime.version(name), (name) => appRuntime.get(name)?.lastOutput);
    const changed = views.filter((v) => {
      const text = JSON.stringify(v);
      if (lastSent.get(v.id) === text) return false;
      lastSent.set(v.id, text);
      return true;
    });
    const removed = [...lastSent.keys()].filter((id) => !state.pairs[id]);
    for (const id of removed) lastSent.delete(id);
    notify({ kind: "live", changed, removed, hosts, hostsComplete });
  };
  // The last-heartbeat times of the hosts heard since the last refresh (the web tier shows their age).
  const heardTimer = setInterval(() => {
    const since = heardRefreshedAtMs;
    heardRefreshedAtMs = Date.now();
    const heard = gateway.heardSince(since);
    if (heard.hostNames.length) notify({ kind: "heard", ...heard });
  }, HEARD_REFRESH_INTERVAL_MS);
  heardTimer.unref();
  const pushAll = () => {
    allDirty = true;
    pushLive();
  };
  const pushHost = (hostName: string) => {
    dirtyHosts.add(hostName);
    pushLive();
  };
  const pushLive = () => {
    if (pushTimer) return;
    pushTimer = setTimeout(flush, Math.max(0, lastPushAtMs + LIVE_PUSH_INTERVAL_MS - Date.now()));
  };

  // One read of the configuration per revision, shared by every host's configuration: hundreds of agents
  // connecting at once (a console start) or a change pushed to every host would otherwise each read all
  // of it, and each read holds this thread (the SQLite driver is synchronous).
  let snapshotOf: { revision: number; snapshot: ReturnType<typeof loadSnapshot> } | null = null;
  const snapshotNow = () => {
    if (snapshotOf?.revision !== revision) {
      const snapshot = loadSnapshot(db);
      snapshotOf = { revision, snapshot };
      // A failed read is not kept: the next host asks again.
      snapshot.catch(() => {
        if (snapshotOf?.snapshot === snapshot) snapshotOf = null;
      });
    }
    return snapshotOf.snapshot;
  };

  // Running options, deliveries, restart state and observed VIPs: kept here, mirrored by the web tier.
  // An observed VIP that changed is on the pair's card: push the views.
  const appRuntime = new AppRuntimeStore({
    onChange: (changes) => {
      notify({ kind: "app-runtime", changes });
      // The observed VIPs and each server's version are part of its pair's view (the version is shown
      // before and after a W14 upgrade).
      if (changes.vip.length || changes.applications.some((a) => a.running !== null)) pushAll();
    },
    onAlarm: (alarm) => notify({ kind: "app-alarm", alarm }),
  });

  // The VIP watch: each pair's observed VIP against the controller's intended primary, every
  // VIP_WATCH_INTERVAL_MS (not on every live push: with 2,000 pairs that was most of a push's cost, and a
  // mismatch is only raised after VIP_MISMATCH_SETTLE_MS anyway); its alarms go to the alarm engine like the application alarms.
  let vipWatch: VipWatchState = new Map();
  let vipMismatches = new Map<string, PairVipMismatch>();
  /** Returns whether the raised mismatches (what the cards show) changed. */
  const checkVips = (): boolean => {
    const state = runner?.current ?? null;
    if (!state) return false;
    const step = stepVipWatch(vipWatch, vipCheckPairs(state, gateway.hosts(), appRuntime.vipObservations()), Date.now());
    vipWatch = step.state;
    const changed = JSON.stringify([...step.mismatches]) !== JSON.stringify([...vipMismatches]);
    vipMismatches = step.mismatches;
    for (const a of step.alarms) notify({ kind: "app-alarm", alarm: { raise: a.raise, kind: "vip-mismatch", application: a.appName, hostName: a.hostName, text: a.text } });
    return changed;
  };
  const vipTimer = setInterval(() => {
    if (checkVips()) pushAll();
  }, VIP_WATCH_INTERVAL_MS);
  vipTimer.unref();
  const gateway: AgentGateway = attachAgentGateway(io, withAppRuntime(appRuntime, {
    // The lease's term, in every welcome and on every command (agents refuse a deposed leader's); no
    // command leaves once the lease no longer allows it (issue 17).
    term: leadership.term,
    mayCommand: leadership.mayCommand,
    verifyToken: (hostName, token) => verifyAgentToken(db, hostName, token),
    configForHost: async (hostName) =>
      buildHostConfig(await snapshotNow(), hostName, String(revision), {
        labStateDir: env.SWITCHYARD_LAB_STATE_DIR ?? null,
        heartbeat: { intervalMs: env.HEARTBEAT_INTERVAL_MS, timeoutMs: env.HEARTBEAT_TIMEOUT_MS },
      }),
    heartbeatIntervalMs: env.HEARTBEAT_INTERVAL_MS,
    heartbeatTimeoutMs: env.HEARTBEAT_TIMEOUT_MS,
    onHostState: (h) => {
      runner?.onHostState(h);
      pushHost(h.hostName);
    },
    onSocketChange: (h) => pushHost(h.hostName),
    onResync: (hostName, snap) => runner?.onResync(hostName, snap),
    onCommandReceipt: (hostName, commandId) => runner?.onCommandReceipt(hostName, commandId),
    onControlPlaneAlarm: (alarm) => notify({ kind: "control-plane-alarm", ...alarm }),
    onAppStatus: (hostName, msg) => runner?.onAppStatus(hostName, msg),
    onRoleReport: (hostName, msg) => runner?.onRoleReport(hostName, msg),
    onReadiness: (hostName, msg) => runner?.onReadiness(hostName, msg),
    onCommandResult: (hostName, result) => runner?.onCommandResult(hostName, result),
    onLogEvents: (hostName, msg) => notify({ kind: "log-events", hostName, events: msg.events }),
  }));
  runner = new ControllerRunner({
    db,
    gateway,
    onChange: pushLive,
    onAlarm: (command) => notify({ kind: "controller-alarm", command }),
    onPlanEnded: (ending) => notify({ kind: "plan-ended", ending }),
    mayCommand: leadership.mayCommand,
    saveFence: leadership.saveFence,
    timing: {
      heartbeatTimeoutMs: env.HEARTBEAT_TIMEOUT_MS,
      maintenanceAlarmAfterMs: env.MAINTENANCE_ALARM_AFTER_MINUTES * 60_000,
      // Several consoles: after a takeover the agents first have to notice the old leader is gone and
      // go round their console list (a frozen one costs a connect timeout): a longer wait for them
      // before a host still away counts as lost (server/controller/DECISIONS.md, "Leadership lease").
      ...(env.SWITCHYARD_CONSOLES >= 2 ? { recoveryGraceMs: CLUSTER_RECOVERY_GRACE_MS } : {}),
    },
  });
  await runner.start();
  const r = runner;
  // The control plane's own event-loop delay (the web tier measures its thread's; this one decides failovers).
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  flush(); // the web tier's mirror starts with every pair, before any agent has said anything

  const handlers: { [K in keyof ControlPlaneRequests]: (input: ControlPlaneRequests[K]["in"]) => Promise<ControlPlaneRequests[K]["out"]> } = {
    switchover: ({ pairId, operator, force, reason }) => r.operatorSwitchoverOutcome(pairId, operator, force, reason),
    maintenance: ({ pairId, operator, on, reason, untilMs }) => r.operatorMaintenance(pairId, operator, on, reason, untilMs),
    note: ({ pairId, text }) => r.note(pairId, text),
    applicationCommand: async ({ appId, action, operator }) => {
      const directory = await loadDirectory(db);
      if (!directory.appsById.has(appId)) throw new PlaneRequestError("NOT_FOUND", `application ${appId} does not exist`);
      return r.operatorApplication(appId, action, operator, directory);
    },
    hostCommand: async ({ hostName, command }) => {
      // Application commands carry a pair epoch: only the controller may choose it.
      if (command.type !== "run-os-command") throw new PlaneRequestError("INVALID", `only host commands cross this interface; ${command.type} goes through the controller`);
      return gateway.sendCommand(hostName, command);
    },
    configChanged: async () => {
      revision = Math.max(Date.now(), revision + 1);
      const snapshot = await snapshotNow();
      await Promise.all(snapshot.hosts.map((h) => gateway.pushConfig(h.name).catch(() => false)));
      await r.reloadConfig();
    },
    readLog: async ({ hostName, request }) => {
      try {
        return await gateway.readLog(hostName, request);
      } catch (err) {
        throw err instanceof LogReadError ? new PlaneRequestError(err.code, err.message) : err;
      }
    },
    dropHost: async ({ hostName, reason }) => gateway.dropHost(hostName, reason),
    controllerState: async () => r.current,
    metrics: async () => threadMetrics(loopDelay, r.queuedInputs),
    stop: async () => {
      if (pushTimer) clearTimeout(pushTimer);
      loopDelay.disable();
      clearInterval(vipTimer);
      clearInterval(heardTimer);
      await r.stop();
      gateway.close();
      await flushAgentTokenUses(db);
    },
  };
  return {
    agentUrl,
    snapshot: () => {
      const state = r.current;
      const hosts = gateway.hosts();
      const views = state ? pairViews(state, Object.values(state.pairs), hosts, { observations: appRuntime.vipObservations(), mismatches: vipMismatches }, (name) => appRuntime.version(name), (name) => appRuntime.get(name)?.lastOutput) : [];
      return [
        { kind: "live", changed: views, removed: [], hosts, hostsComplete: true },
        { kind: "app-runtime", changes: appRuntime.all() },
      ];
    },
    handle: (name, input) => (handlers[name] as (i: typeof input) => Promise<ControlPlaneRequests[typeof name]["out"]>)(input),
  };
}
