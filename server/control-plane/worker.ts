// Entry of the control plane's worker thread: builds the database client, binds the agent port and
// keeps the leadership lease (server/leader/). While another console leads, agents are refused with
// where the leader is; when this console takes the lease, the plane (gateway and controller) starts at
// the lease's term, commanding only while the lease allows; when it loses the lease, the thread ends at
// once (the web tier starts a fresh one, as after a crash). Answers the web tier's requests and passes
// the plane's notices up — and to followers' web tiers (peer.ts). Only messages of protocol.ts cross the
// thread boundary.
import crypto from "node:crypto";
import os from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { createDb } from "../db";
import { dialectOf } from "../db/dialect";
import { configureLogging, logger } from "../log";
import { LeaseKeeper } from "../leader/lease-keeper";
import { LeaseStore, type InstanceIdentity, type LeaseRow } from "../leader/lease-store";
import { notLeaderError } from "../agents/gateway";
import { listenForAgents, PlaneRequestError, startPlane, threadMetrics, type Plane } from "./plane";
import { servePeers } from "./peer";
import type { ClusterStatus, ControlPlaneStart, MainToWorker, Notice, WorkerToMain } from "./protocol";

if (!parentPort) throw new Error("server/control-plane/worker.ts runs only as a worker thread (see control-plane.ts)");
const port: MessagePort = parentPort;
const post = (message: WorkerToMain) => port.postMessage(message);
const log = logger("control-plane");

/** How often the list of console instances is read for the dashboard, /healthz and the no-follower alarm. */
const CLUSTER_REFRESH_MS = 2_000;
/** Instances not heard of for this long are forgotten (checked at most every INSTANCE_PRUNE_EVERY_MS, by the leader). */
const INSTANCE_FORGOTTEN_AFTER_MS = 24 * 3_600_000;
const INSTANCE_PRUNE_EVERY_MS = 3_600_000;
/** A new leader waits this long before it says no follower is alive (consoles started together say so within a few seconds). */
const NO_FOLLOWER_GRACE_MS = 10_000;

/** The default instance id: the host name (SQLite: one console per database file), plus the web port on PostgreSQL. */
function instanceId(start: ControlPlaneStart): string {
  if (start.env.SWITCHYARD_INSTANCE_ID) return start.env.SWITCHYARD_INSTANCE_ID;
  if (dialectOf(start.env.DATABASE_URL) === "sqlite") return os.hostname();
  const webPort = start.webUrl ? new URL(start.webUrl).port : String(start.env.PORT);
  return `${os.hostname()}:${webPort}`;
}

async function main(): Promise<void> {
  const start = workerData as ControlPlaneStart;
  const { env } = start;
  configureLogging({ level: env.LOG_LEVEL, format: env.LOG_FORMAT });
  // Fails fast on a held write lock; the runner waits for it asynchronously (db.ts, retryWhileBusy).
  const db = createDb(env.DATABASE_URL, { busyTimeoutMs: 0 });
  const listener = await listenForAgents(env);
  const me: InstanceIdentity = { id: instanceId(start), incarnation: crypto.randomUUID(), webUrl: start.webUrl ?? "", agentUrl: listener.agentUrl };
  const store = new LeaseStore(db, dialectOf(env.DATABASE_URL));
  let plane: Plane | null = null;
  let term = 0;
  let leadingSinceMs: number | null = null;
  let lastLease: LeaseRow | null = null;
  let peerSecret: string | null = null;
  let ending = false;
  // Ready once the first attempt is answered: as a follower then, or as the leader once its plane runs
  // (a single console's first attempt wins, so its web tier starts with a running controller).
  let readyPosted = false;
  const postReady = () => {
    if (readyPosted) return;
    readyPosted = true;
    post({ kind: "notice", notice: { kind: "ready", agentUrl: listener.agentUrl, instanceId: me.id } });
  };

  const peers = servePeers(listener.io, {
    secret: async () => (peerSecret ??= await store.peerSecret()),
    handle: (name, input) => (plane ? plane.handle(name, input as never) : Promise.reject(new PlaneRequestError("CONFLICT", "this console no longer leads; try again in a moment"))),
    snapshot: () => (plane && keeper.mayCommand() ? plane.snapshot() : null),
  });
  const notify = (notice: Notice) => {
    post({ kind: "notice", notice });
    peers.notify(notice);
  };

  // The leader agents are sent to: the holder of an unexpired lease that it keeps renewing. One that has
  // missed two renewals is likely frozen or dying (it accepts TCP but answers nothing): agents sent there
  // would wait out their connect timeout instead of finding the next leader as soon as there is one.
  const leaderUrl = () => {
    const l = lastLease;
    if (!l || !l.holder || l.holder === me.id || l.dbNowMs >= l.expiresAtMs) return null;
    return l.dbNowMs - l.renewedAtMs > 2 * env.LEASE_RENEW_MS ? null : l.agentUrl;
  };
  // Agents: only the leader's plane takes them; a follower (or a leader whose lease is in doubt) says where to go.
  listener.io.of("/agent").use((_socket, next) => (plane && keeper.mayCommand() ? next() : next(notLeaderError(leaderUrl()))));

  const cluster = async (): Promise<ClusterStatus> => {
    const { instances, dbNowMs } = await store.instances(Math.max(3 * env.LEASE_RENEW_MS, 3_000));
    const lease = lastLease;
    const leads = lease !== null && lease.holder !== null && lease.expiresAtMs > lease.dbNowMs;
    return {
      instanceId: me.id,
      role: plane || keeper.role() === "leader" ? "leader" : "follower",
      term: plane ? term : (lease?.term ?? 0),
      leader: leads && lease ? { id: lease.holder!, webUrl: lease.webUrl, agentUrl: lease.agentUrl, term: lease.term, sinceMs: lease.acquiredAtMs } : null,
      leadingSinceMs,
      instances: instances.map((i) => ({ id: i.id, role: i.role === "leader" ? "leader" : "follower", webUrl: i.webUrl, agentUrl: i.agentUrl, startedAtMs: i.startedAtMs, seenAgoMs: Math.max(0, dbNowMs - i.seenAtMs) })),
      expectedConsoles: env.SWITCHYARD_CONSOLES,
      peerSecret: peerSecret ?? (await store.peerSecret()),
    };
  };
  let noFollowerRaised = false;
  const publishCluster = async () => {
    const status = await cluster();
    peerSecret = status.peerSecret;
    post({ kind: "notice", notice: { kind: "cluster", status } });
    if (plane && env.SWITCHYARD_CONSOLES >= 2) {
      const followers = status.instances.filter((i) => i.id !== me.id).length;
      if (followers === 0 && !noFollowerRaised && leadingSinceMs !== null && Date.now() - leadingSinceMs >= NO_FOLLOWER_GRACE_MS) {
        noFollowerRaised = true;
        notify({ kind: "control-plane-alarm", raise: true, key: "no-follower", text: `no other console instance is alive (SWITCHYARD_CONSOLES=${env.SWITCHYARD_CONSOLES}): if ${me.id} dies, no pair fails over until a console is back` });
      } else if (followers > 0 && noFollowerRaised) {
        noFollowerRaised = false;
        notify({ kind: "control-plane-alarm", raise: false, key: "no-follower", text: `${followers} follower${followers === 1 ? "" : "s"} alive again` });
      }
    }
  };
  // The leader forgets instances not heard of for a day (a console moved or renamed), at most hourly.
  let prunedAtMs = 0;
  const pruneInstances = () => {
    if (!plane || Date.now() - prunedAtMs < INSTANCE_PRUNE_EVERY_MS) return;
    prunedAtMs = Date.now();
    store.pruneInstances(INSTANCE_FORGOTTEN_AFTER_MS).catch((err: unknown) => log.warn("forgetting old console instances failed", { error: String(err) }));
  };
  const clusterTimer = setInterval(() => {
    void publishCluster().catch((err: unknown) => log.warn("reading the console instances failed", { error: String(err) }));
    pruneInstances();
  }, CLUSTER_REFRESH_MS);
  clusterTimer.unref();

  const keeper: LeaseKeeper = new LeaseKeeper({
    store,
    me,
    timing: { ttlMs: env.LEASE_TTL_MS, renewIntervalMs: env.LEASE_RENEW_MS, safetyMarginMs: env.LEASE_MARGIN_MS },
    onLeaseSeen: (lease) => {
      const changed = lastLease?.holder !== lease.holder || lastLease?.term !== lease.term;
      lastLease = lease;
      if (changed) void publishCluster().catch(() => undefined);
    },
    onLead: async (leaseTerm) => {
      term = leaseTerm;
      const started = await startPlane(db, env, notify, { listener, term: leaseTerm, mayCommand: () => keeper.mayCommand(), saveFence: store.saveFence(me, leaseTerm) ?? undefined });
      plane = started;
      leadingSinceMs = Date.now();
      await publishCluster().catch(() => undefined);
      postReady();
    },
    onAttempted: () => {
      if (keeper.role() === "follower" && !readyPosted) void publishCluster().catch(() => undefined).finally(postReady);
    },
    onStepDown: (oldTerm, reason) => {
      if (ending) return;
      ending = true;
      // At once: nothing more may be sent. The thread ends; the web tier starts a follower's thread.
      post({ kind: "stepped-down", term: oldTerm, reason });
      process.exit(0);
    },
  });

  // A follower's thread is up too (it keeps the lease and answers agents): its own health for /metrics.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const followerMetrics = () => threadMetrics(loopDelay, 0);

  port.on("message", (message: MainToWorker) => {
    const handled =
      message.name === "stop"
        ? (async () => {
            ending = true;
            clearInterval(clusterTimer);
            if (plane) await plane.handle("stop", {});
            await keeper.stop();
            await listener.close();
            await db.$disconnect();
          })()
        : plane
          ? plane.handle(message.name, message.input as never)
          : message.name === "metrics"
            ? Promise.resolve(followerMetrics())
            : Promise.reject(new PlaneRequestError("CONFLICT", "this console does not lead; its web tier asks the leader"));
    handled
      .then((output) => post({ kind: "reply", id: message.id, ok: true, output }))
      .catch((err: unknown) => {
        const code = err instanceof PlaneRequestError ? err.code : null;
        post({ kind: "reply", id: message.id, ok: false, error: { message: err instanceof Error ? err.message : String(err), code } });
      });
  });
  keeper.start();
}

main().catch((err: unknown) => {
  post({ kind: "fatal", message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
});
