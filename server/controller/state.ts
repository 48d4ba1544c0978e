// The controller's state: built fresh at start (from what was persisted), reloaded with the
// configuration, and copied at every step (the core never mutates the state it was given).
import { pairStateOf } from "./predicates";
import { DEFAULT_TIMING, type AppState, type ControllerState, type PairConfig, type PairState, type PersistedPairState, type Timing } from "./types";

// ───────────────────────────── construction and persistence ─────────────────────────────

export interface CreateControllerStateOptions {
  nowMs: number;
  pairs: PairConfig[];
  /** What the runner persisted before the restart (epoch and intended primary per pair). */
  persisted?: Record<string, PersistedPairState>;
  timing?: Partial<Timing>;
}

/** A fresh controller (first start or console restart): it observes until hosts resync (recovery grace). */
export function createControllerState(opts: CreateControllerStateOptions): ControllerState {
  const s: ControllerState = {
    timing: { ...DEFAULT_TIMING, ...opts.timing },
    startedAtMs: opts.nowMs,
    recoveryExtendedMs: 0,
    hostsNeverSeen: true,
    nowMs: opts.nowMs,
    pairs: {},
    pairStates: {},
    apps: {},
    hosts: {},
  };
  loadPairs(s, opts.pairs, opts.persisted ?? {});
  return s;
}

/** The part of the state the runner must persist (before sending the step's commands). */
export function persistedView(s: ControllerState): Record<string, PersistedPairState> {
  const out: Record<string, PersistedPairState> = {};
  for (const id of Object.keys(s.pairStates)) out[id] = persistedPairView(s, id);
  return out;
}

/** persistedView of one pair. */
export function persistedPairView(s: ControllerState, pairId: string): PersistedPairState {
  const p = pairStateOf(s, pairId);
  const pair = s.pairs[pairId];
  const stoppedAppIds = (pair?.apps ?? []).map((a) => a.appId).filter((appId) => s.apps[appId]?.stoppedByOperator).sort();
  return { epoch: p.epoch, intendedPrimaryAppId: p.intendedPrimaryAppId, stoppedAppIds, maintenance: p.maintenance ? { ...p.maintenance } : null };
}

function newPairState(pairId: string, persisted: PersistedPairState | undefined): PairState {
  return {
    pairId,
    epoch: persisted?.epoch ?? 0,
    intendedPrimaryAppId: persisted?.intendedPrimaryAppId ?? null,
    plan: null,
    staleVips: [],
    alternations: 0,
    lastRoleChangeAtMs: null,
    activeAlarms: persisted?.activeAlarms ? [...persisted.activeAlarms] : [],
    inheritedAlarms: persisted?.activeAlarms ? [...persisted.activeAlarms] : [],
    hold: null,
    maintenance: persisted?.maintenance ? { ...persisted.maintenance } : null,
    situation: "waiting for the first reports",
    dueOnTick: true,
  };
}

function newAppState(pairId: string, appId: string, hostId: string, nowMs: number, stoppedByOperator: boolean): AppState {
  return {
    appId,
    pairId,
    hostId,
    status: "unknown",
    statusHeard: false,
    statusDetail: "",
    role: null,
    epoch: null,
    readiness: null,
    haLink: "unknown",
    sipListener: "unknown",
    oosBackoff: 1,
    // Agents' clocks are non-negative: -1 = nothing applied yet (and JSON-safe, unlike -Infinity).
    lastStatusSentAtMs: -1,
    lastRoleSentAtMs: -1,
    lastReadinessSentAtMs: -1,
    unresponsiveSinceMs: null,
    pollFailingSinceMs: null,
    statusSinceMs: nowMs,
    selfDemotedAtMs: null,
    stoppedByOperator,
    autostartedFor: null,
  };
}

export function forgetWhatTheAppSaid(app: AppState): void {
  app.status = "unknown";
  app.statusHeard = false;
  app.statusDetail = "";
  app.role = null;
  app.epoch = null;
  app.readiness = null;
  app.haLink = "unknown";
  app.sipListener = "unknown";
  app.unresponsiveSinceMs = null;
  app.pollFailingSinceMs = null;
  // The host's agent starts a fresh connection (its messages of the old one can no longer arrive: the
  // gateway drops a closed socket's messages), and its resync carries stamps from its own clock that may
  // be older than what it sent before: take them as they come.
  app.lastStatusSentAtMs = -1;
  app.lastRoleSentAtMs = -1;
  app.lastReadinessSentAtMs = -1;
}

export function loadPairs(s: ControllerState, pairs: PairConfig[], persisted: Record<string, PersistedPairState>): string[] {
  const removed: string[] = [];
  const keep = new Set(pairs.map((p) => p.id));
  for (const id of Object.keys(s.pairs)) {
    if (!keep.has(id)) {
      removed.push(id);
      delete s.pairs[id];
      delete s.pairStates[id];
      for (const [appId, app] of Object.entries(s.apps)) if (app.pairId === id) delete s.apps[appId];
    }
  }
  for (const pair of pairs) {
    const before = s.pairs[pair.id];
    const sameApps =
      before !== undefined &&
      before.apps.every((a, i) => a.appId === pair.apps[i]?.appId && a.hostId === pair.apps[i]?.hostId);
    s.pairs[pair.id] = pair;
    if (!s.pairStates[pair.id]) s.pairStates[pair.id] = newPairState(pair.id, persisted[pair.id]);
    else if (!sameApps) {
      // The membership changed: what was planned for the old applications no longer applies.
      const ps = pairStateOf(s, pair.id);
      ps.plan = null;
      ps.staleVips = [];
    }
    for (const ref of pair.apps) {
      const app = s.apps[ref.appId];
      if (!app || app.hostId !== ref.hostId) {
        const stopped = persisted[pair.id]?.stoppedAppIds.includes(ref.appId) ?? false;
        s.apps[ref.appId] = newAppState(pair.id, ref.appId, ref.hostId, s.nowMs, stopped);
      }
      if (!s.hosts[ref.hostId]) {
        s.hosts[ref.hostId] = { hostId: ref.hostId, connection: "never", sinceMs: s.startedAtMs, agentIncarnation: null };
        s.hostsNeverSeen = true;
      }
    }
  }
  return removed;
}

// ───────────────────────────── cloning ─────────────────────────────

/** Hand-written deep copy of the mutable parts; configuration, timing and commands are never mutated. */
export function cloneState(s: ControllerState): ControllerState {
  const pairStates: Record<string, PairState> = {};
  for (const [id, p] of Object.entries(s.pairStates)) pairStates[id] = clonePairState(p);
  const apps: Record<string, AppState> = {};
  for (const [id, a] of Object.entries(s.apps)) apps[id] = { ...a };
  const hosts: ControllerState["hosts"] = {};
  for (const [id, h] of Object.entries(s.hosts)) hosts[id] = { ...h };
  return { timing: s.timing, startedAtMs: s.startedAtMs, recoveryExtendedMs: s.recoveryExtendedMs, hostsNeverSeen: s.hostsNeverSeen, nowMs: s.nowMs, pairs: { ...s.pairs }, pairStates, apps, hosts };
}

/**
 * A copy that shares everything but the given pairs: their states, their applications and their
 * applications' hosts are copied (what a step about those pairs may change); every other pair's
 * objects are the given state's own, and a step must not change them. The cost of a step about one
 * pair then does not grow with the number of pairs (beyond copying the three records of references).
 */
export function cloneStateFor(s: ControllerState, pairIds: readonly string[]): ControllerState {
  const pairStates = { ...s.pairStates };
  const apps = { ...s.apps };
  const hosts = { ...s.hosts };
  for (const id of pairIds) {
    const p = s.pairStates[id];
    if (p) pairStates[id] = clonePairState(p);
    for (const ref of s.pairs[id]?.apps ?? []) {
      const a = s.apps[ref.appId];
      if (a) apps[ref.appId] = { ...a };
      const h = s.hosts[ref.hostId];
      if (h) hosts[ref.hostId] = { ...h };
    }
  }
  return { timing: s.timing, startedAtMs: s.startedAtMs, recoveryExtendedMs: s.recoveryExtendedMs, hostsNeverSeen: s.hostsNeverSeen, nowMs: s.nowMs, pairs: s.pairs, pairStates, apps, hosts };
}

function clonePairState(p: PairState): PairState {
  return {
    ...p,
    staleVips: p.staleVips.map((v) => ({ ...v })),
    activeAlarms: [...p.activeAlarms],
    inheritedAlarms: [...p.inheritedAlarms],
    hold: p.hold ? { ...p.hold } : null,
    maintenance: p.maintenance ? { ...p.maintenance } : null,
    plan: p.plan ? { ...p.plan, steps: p.plan.steps.map((st) => ({ ...st })) } : null,
  };
}
