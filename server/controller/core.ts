// The pure failover decision core (the SCS role): step(state, event) → { state, commands, reason }.
// No I/O, no clock, no randomness: time arrives in events, effects leave as command data. The decision
// procedure for each pair reads top-down as named rules (see decisionRules and DECISIONS.md).
import {
  actsAsPrimary,
  appName,
  appOf,
  hostName,
  hostOfApp,
  isAwaitingResync,
  isCandidate,
  isHostAwaitedAfterStart,
  isHostConnected,
  isProcessDown,
  isReadyForSwitchover,
  isRecovering,
  isServing,
  notReadyWhy,
  otherAppId,
  pairStateOf,
  usesScripts,
  vipWord,
  whyNotServing,
} from "./predicates";
import {
  DEFAULT_TIMING,
  type AlarmKind,
  type AppState,
  type ControllerCommand,
  type ControllerEvent,
  type ControllerState,
  type Decision,
  type PairConfig,
  type PairState,
  type PersistedPairState,
  type PlannedCommand,
  type RunControlScriptCommand,
  type SetRoleCommand,
  type StepResult,
  type Switchover,
  type SwitchoverCause,
  type Timing,
} from "./types";

export * from "./types";

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
  for (const [id, p] of Object.entries(s.pairStates)) {
    out[id] = { epoch: p.epoch, intendedPrimaryAppId: p.intendedPrimaryAppId };
  }
  return out;
}

function newPairState(pairId: string, persisted: PersistedPairState | undefined): PairState {
  return {
    pairId,
    epoch: persisted?.epoch ?? 0,
    intendedPrimaryAppId: persisted?.intendedPrimaryAppId ?? null,
    switchover: null,
    staleVips: [],
    bindAlternations: 0,
    lastRoleChangeAtMs: null,
    activeAlarms: [],
    situation: "waiting for the first reports",
  };
}

function newAppState(pairId: string, appId: string, hostId: string): AppState {
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
  };
}

function forgetWhatTheAppSaid(app: AppState): void {
  app.status = "unknown";
  app.statusHeard = false;
  app.statusDetail = "";
  app.role = null;
  app.epoch = null;
  app.readiness = null;
  app.haLink = "unknown";
  app.sipListener = "unknown";
  app.unresponsiveSinceMs = null;
}

function loadPairs(s: ControllerState, pairs: PairConfig[], persisted: Record<string, PersistedPairState>): string[] {
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
      ps.switchover = null;
      ps.staleVips = [];
    }
    for (const ref of pair.apps) {
      const app = s.apps[ref.appId];
      if (!app || app.hostId !== ref.hostId) s.apps[ref.appId] = newAppState(pair.id, ref.appId, ref.hostId);
      if (!s.hosts[ref.hostId]) s.hosts[ref.hostId] = { hostId: ref.hostId, connection: "never", sinceMs: s.startedAtMs };
    }
  }
  return removed;
}

// ───────────────────────────── step ─────────────────────────────

interface Ctx {
  s: ControllerState;
  pair: PairConfig;
  ps: PairState;
  out: Out;
}

class Out {
  commands: ControllerCommand[] = [];
  decisions: Decision[] = [];
  decide(pairId: string | null, sentence: string): void {
    this.decisions.push({ pairId, sentence });
  }
}

/** What a rule concluded: its sentence, whether it acted (a decision), and whether later rules may still run. */
export interface RuleOutcome {
  sentence: string;
  acted: boolean;
  stop: boolean;
}

export interface DecisionRule {
  name: string;
  /** null = the rule's question does not apply; ask the next rule. */
  decide: (ctx: Ctx) => RuleOutcome | null;
}

export type StepFunction = (state: ControllerState, event: ControllerEvent) => StepResult;

/** Builds a step function over a decision procedure (tests inject a broken one to show the simulation bites). */
export function createStep(rules: readonly DecisionRule[] = decisionRules): StepFunction {
  return (state, event) => {
    const s = cloneState(state);
    s.nowMs = Math.max(s.nowMs, event.atMs);
    const out = new Out();
    const observation = applyEvent(s, event, out);
    settleHostsAfterGrace(s, out);
    if (event.type === "operator-switchover") operatorSwitchover(s, event, out);
    for (const pairId of Object.keys(s.pairs)) {
      const pair = s.pairs[pairId]!;
      const ctx: Ctx = { s, pair, ps: pairStateOf(s, pairId), out };
      runRules(ctx, rules);
      syncAlarms(ctx);
    }
    const reason = out.decisions.length > 0 ? out.decisions.map((d) => d.sentence).join("; ") : observation;
    return { state: s, commands: out.commands, reason, decisions: out.decisions };
  };
}

function runRules(ctx: Ctx, rules: readonly DecisionRule[]): void {
  // A rule that acts may change what later rules see (a completed switchover, an abandoned one);
  // the bound keeps a buggy rule set from looping.
  for (const rule of rules) {
    const outcome = rule.decide(ctx);
    if (!outcome) continue;
    if (outcome.acted) ctx.out.decide(ctx.pair.id, outcome.sentence);
    if (outcome.stop) {
      ctx.ps.situation = outcome.sentence;
      return;
    }
  }
}

// ───────────────────────────── facts: applying an event ─────────────────────────────

function applyEvent(s: ControllerState, e: ControllerEvent, out: Out): string {
  switch (e.type) {
    case "config-loaded": {
      const removed = loadPairs(s, e.pairs, {});
      return `configuration loaded: ${e.pairs.length} pair(s)${removed.length ? `, ${removed.length} removed` : ""}`;
    }
    case "agent-connected": {
      const host = s.hosts[e.hostId];
      if (!host) return `ignored connection of unknown host ${e.hostId}`;
      host.connection = "connected";
      host.sinceMs = s.nowMs;
      // What the apps said before is stale; the agent resyncs them now.
      for (const app of Object.values(s.apps)) if (app.hostId === e.hostId) forgetWhatTheAppSaid(app);
      return `${e.hostId} connected; waiting for its resync`;
    }
    case "agent-disconnected": {
      const host = s.hosts[e.hostId];
      if (!host) return `ignored disconnection of unknown host ${e.hostId}`;
      host.connection = "disconnected";
      host.sinceMs = s.nowMs;
      return `${e.hostId} disconnected${e.detail ? ` (${e.detail})` : ""}`;
    }
    case "application-status": {
      const app = reportingApp(s, e.hostId, e.appId);
      if (typeof app === "string") return app;
      if (e.sentAtMs <= app.lastStatusSentAtMs) return `ignored an older status report from ${e.appId}`;
      app.lastStatusSentAtMs = e.sentAtMs;
      app.status = e.status;
      app.statusHeard = true;
      app.statusDetail = e.detail ?? "";
      if (e.oosBackoff !== undefined) app.oosBackoff = e.oosBackoff;
      else if (e.status === "running") app.oosBackoff = 1;
      if (isProcessDown(app)) {
        // The process is gone and its role with it: a restart reports afresh (often its configured
        // role at epoch 0), and a stale "primary" must not count as a second primary.
        app.role = null;
        app.epoch = null;
        app.sipListener = "unknown";
        skipOrdersToDownApp(s, app);
      }
      return `${e.appId} reported ${e.status}${e.detail ? ` (${e.detail})` : ""}`;
    }
    case "role-report": {
      const app = reportingApp(s, e.hostId, e.appId);
      if (typeof app === "string") return app;
      if (e.sentAtMs <= app.lastRoleSentAtMs) return `ignored an older role report from ${e.appId}`;
      app.lastRoleSentAtMs = e.sentAtMs;
      // A server binds its SIP listener for the role it has: a report from the other role says nothing (W7).
      if (app.role !== e.role) app.sipListener = "unknown";
      app.role = e.role;
      app.epoch = e.epoch;
      app.unresponsiveSinceMs = null;
      const ps = pairStateOf(s, app.pairId);
      // Our epoch can only be behind if persistence was lost; never order below what a server holds.
      if (e.epoch > ps.epoch) ps.epoch = e.epoch;
      acknowledgeRole(ps, e.appId, e.role, e.epoch);
      return `${e.appId} reported ${e.role} (epoch ${e.epoch})`;
    }
    case "readiness-report": {
      const app = reportingApp(s, e.hostId, e.appId);
      if (typeof app === "string") return app;
      if (e.sentAtMs <= app.lastReadinessSentAtMs) return `ignored an older readiness report from ${e.appId}`;
      app.lastReadinessSentAtMs = e.sentAtMs;
      app.readiness = { readyForSwitchover: e.readyForSwitchover, notReadyReasons: e.notReadyReasons };
      app.haLink = e.haLink;
      app.sipListener = e.sipListener;
      app.unresponsiveSinceMs = null;
      return `${e.appId} reported readiness ${e.readyForSwitchover}, SIP listener ${e.sipListener}`;
    }
    case "control-script-result": {
      const ps = s.pairStates[e.pairId];
      if (!ps) return `ignored a script result for unknown pair ${e.pairId}`;
      const planned = findPlanned(ps, e.commandId);
      if (planned && planned.status === "sent") {
        planned.status = e.ok ? "done" : "failed";
        planned.note = e.ok ? "" : `script failed${e.detail ? `: ${e.detail}` : ""}`;
      }
      if (e.action === "disable") {
        if (e.ok) ps.staleVips = ps.staleVips.filter((v) => v.hostId !== e.hostId);
        else markStaleVip(s, ps, e.hostId);
      }
      if (!e.ok) {
        const pair = s.pairs[e.pairId]!;
        out.commands.push({
          type: "raise-alarm",
          kind: "control-script-failed",
          pairId: e.pairId,
          hostId: e.hostId,
          text: `${e.action} script for the ${vipWord(pair)} failed on ${hostName(pair, e.hostId)}${e.detail ? `: ${e.detail}` : ""}`,
        });
      }
      return `${e.action} script on ${e.hostId} ${e.ok ? "succeeded" : "failed"}${e.detail ? ` (${e.detail})` : ""}`;
    }
    case "command-result": {
      for (const ps of Object.values(s.pairStates)) {
        const planned = findPlanned(ps, e.commandId);
        if (!planned || planned.status !== "sent" || planned.command.type !== "set-role") continue;
        if (e.ok) {
          // Delivered and applied; the step is done when the role report says so (it carries the
          // report ordering the role needs), so only hold back the next re-send.
          planned.lastSentAtMs = s.nowMs;
          return `${planned.command.appId} accepted ${planned.command.role} (epoch ${planned.command.epoch}); waiting for its role report`;
        }
        if (e.heldEpoch !== undefined && e.heldEpoch > planned.command.epoch) {
          planned.status = "failed";
          planned.note = `${appName(s.pairs[ps.pairId]!, planned.command.appId)} refused epoch ${planned.command.epoch} because it holds epoch ${e.heldEpoch}`;
          if (e.heldEpoch > ps.epoch) ps.epoch = e.heldEpoch;
          return planned.note;
        }
        // Not a fencing refusal (e.g. "not running"): the retry on a later tick decides.
        return `${planned.command.appId} could not apply ${planned.command.role}${e.detail ? ` (${e.detail})` : ""}`;
      }
      return `ignored a result for command ${e.commandId} that is no longer awaited`;
    }
    case "command-timeout": {
      for (const ps of Object.values(s.pairStates)) {
        const planned = findPlanned(ps, e.commandId);
        if (planned && planned.status === "sent") {
          planned.lastSentAtMs = s.nowMs - s.timing.commandRetryIntervalMs;
          return `command ${e.commandId} timed out; it is re-sent if the retry limit allows`;
        }
      }
      return `ignored a timeout for command ${e.commandId} that is no longer awaited`;
    }
    case "operator-switchover":
      return `${e.operator} asked for a ${e.force ? "forced " : ""}switchover of ${e.pairId}`;
    case "tick":
      return "tick: nothing to decide";
  }
}

function reportingApp(s: ControllerState, hostId: string, appId: string): AppState | string {
  const app = s.apps[appId];
  if (!app) return `ignored a report from unknown application ${appId}`;
  if (app.hostId !== hostId) return `ignored a report for ${appId} from ${hostId}, which is not its host`;
  // The gateway only forwards reports of connected agents; one racing a disconnect is stale.
  if (!isHostConnected(s, hostId)) return `ignored a report from ${appId} while ${hostId} is disconnected`;
  return app;
}

function findPlanned(ps: PairState, commandId: string): PlannedCommand | undefined {
  return ps.switchover?.steps.find((st) => st.command.commandId === commandId);
}

function acknowledgeRole(ps: PairState, appId: string, role: string, epoch: number): void {
  for (const st of ps.switchover?.steps ?? []) {
    const c = st.command;
    if (c.type === "set-role" && c.appId === appId && c.role === role && epoch >= c.epoch && (st.status === "sent" || st.status === "held")) {
      st.status = "done";
    }
  }
}

/** A process that went down is no longer primary: its demotion is moot (its host's script still runs). */
function skipOrdersToDownApp(s: ControllerState, app: AppState): void {
  const ps = pairStateOf(s, app.pairId);
  for (const st of ps.switchover?.steps ?? []) {
    const c = st.command;
    if (c.type === "set-role" && c.appId === app.appId && c.role === "backup" && (st.status === "sent" || st.status === "held")) {
      st.status = "skipped";
      st.note = `${app.appId} went down (${app.status})`;
    }
  }
}

function markStaleVip(s: ControllerState, ps: PairState, hostId: string): void {
  const pair = s.pairs[ps.pairId];
  if (!pair || !usesScripts(pair)) return;
  if (!ps.staleVips.some((v) => v.hostId === hostId)) ps.staleVips.push({ hostId, sinceMs: s.nowMs, lastAttemptAtMs: null });
}

function settleHostsAfterGrace(s: ControllerState, out: Out): void {
  if (isRecovering(s)) return;
  for (const host of Object.values(s.hosts)) {
    if (host.connection !== "never") continue;
    host.connection = "disconnected";
    host.sinceMs = s.startedAtMs + s.timing.recoveryGraceMs;
    out.decide(null, `${host.hostId} did not reconnect within the recovery grace of ${s.timing.recoveryGraceMs} ms; it counts as disconnected`);
  }
}

// ───────────────────────────── operator switchover (W1, W12) ─────────────────────────────

function operatorSwitchover(s: ControllerState, e: Extract<ControllerEvent, { type: "operator-switchover" }>, out: Out): void {
  const pair = s.pairs[e.pairId];
  if (!pair) {
    out.decide(null, `switchover refused: there is no pair ${e.pairId}`);
    return;
  }
  const ctx: Ctx = { s, pair, ps: pairStateOf(s, pair.id), out };
  const refuse = (why: string): void => {
    const sentence = `switchover of ${pair.name} requested by ${e.operator} refused: ${why}`;
    history(ctx, ctx.ps.epoch, sentence);
    out.decide(pair.id, sentence);
  };
  if (pair.apps.some((a) => isHostAwaitedAfterStart(s, a.hostId))) return refuse("the controller is still recovering after its start");
  if (ctx.ps.switchover && !roleStepsSettled(ctx.ps.switchover)) return refuse(`a role change is already in progress (epoch ${ctx.ps.switchover.epoch})`);
  const primaries = servingPrimaries(ctx);
  if (primaries.length !== 1) {
    return refuse(primaries.length === 0 ? "no server of the pair is primary now" : "both servers are primary; the split brain is resolved first");
  }
  const primary = primaries[0]!;
  const backup = appOf(s, otherAppId(pair, primary.appId));
  const backupName = appName(pair, backup.appId);
  if (!isCandidate(s, backup)) return refuse(`${backupName} cannot take over: ${whyNotServing(s, pair, backup)}`);
  const notReady = [primary, backup].filter((a) => !isReadyForSwitchover(a)).map((a) => notReadyWhy(a, appName(pair, a.appId)));
  if (notReady.length > 0 && !e.force) {
    return refuse(`${notReady.join(" and ")}; switching now would be a double failure — force it with a reason to proceed`);
  }
  if (e.force && e.reason.trim() === "") return refuse("a forced switchover needs a reason");
  const epoch = ctx.ps.epoch + 1;
  let sentence = `${backupName} ordered to primary and ${appName(pair, primary.appId)} to backup by ${e.operator}'s ${e.force ? "forced " : ""}switchover (epoch ${epoch})`;
  if (e.force) sentence += `; reason: ${e.reason.trim()}`;
  if (notReady.length > 0) {
    sentence += `; double failure warning: ${notReady.join(" and ")}`;
    out.commands.push({ type: "raise-alarm", kind: "double-failure", pairId: pair.id, text: sentence });
  }
  startSwitchover(ctx, { cause: "operator", fromAppId: primary.appId, toAppId: backup.appId, demoteFirst: true, forced: e.force }, sentence);
  out.decide(pair.id, sentence);
}

// ───────────────────────────── the decision procedure ─────────────────────────────

function servingPrimaries(ctx: Ctx): AppState[] {
  return ctx.pair.apps.map((a) => appOf(ctx.s, a.appId)).filter((a) => actsAsPrimary(ctx.s, a));
}

const waitWhileRecovering: DecisionRule = {
  name: "wait while recovering",
  decide(ctx) {
    const awaited = ctx.pair.apps.filter((a) => isHostAwaitedAfterStart(ctx.s, a.hostId));
    if (awaited.length === 0) return null;
    const left = ctx.s.startedAtMs + ctx.s.timing.recoveryGraceMs - ctx.s.nowMs;
    return {
      sentence: `recovering after the controller started: waiting up to ${left} ms for ${awaited.map((a) => a.hostName).join(" and ")} to report before deciding for ${ctx.pair.name}`,
      acted: false,
      stop: true,
    };
  },
};

const followSwitchoverInProgress: DecisionRule = {
  name: "follow the switchover in progress",
  decide(ctx) {
    const sw = ctx.ps.switchover;
    if (!sw) return null;
    const abandonWhy = whyAbandon(ctx, sw);
    if (abandonWhy) {
      ctx.ps.switchover = null;
      const sentence = `${describePlan(ctx, sw)} abandoned: ${abandonWhy}`;
      history(ctx, sw.epoch, sentence);
      ctx.out.commands.push({ type: "raise-alarm", kind: "switchover-failed", pairId: ctx.pair.id, text: sentence });
      return { sentence, acted: true, stop: false };
    }
    const sent = sendDueSteps(ctx, sw);
    const failedNow = sw.steps.find((st) => st.status === "failed" && st.command.type === "set-role");
    if (failedNow) {
      // Retry limit reached on a role order: re-decide at once rather than waiting for the next tick.
      return followSwitchoverInProgress.decide(ctx);
    }
    if (sw.steps.every((st) => st.status !== "held" && st.status !== "sent")) {
      ctx.ps.switchover = null;
      const sentence = `${describePlan(ctx, sw)} complete${describeOutcome(ctx, sw)}`;
      history(ctx, sw.epoch, sentence);
      return { sentence, acted: true, stop: false };
    }
    const waiting = describeWaiting(ctx, sw);
    // Once every role order is settled, only scripts are outstanding: they must not hold back a new
    // decision (a crash of the new primary while its enable script runs). A later plan replaces this
    // one; agents refuse its older-epoch scripts, and late results still update the stale VIP view.
    const stop = !roleStepsSettled(sw);
    if (sent.length === 0) return { sentence: waiting, acted: false, stop };
    return { sentence: `${sent.join(", ")}; ${waiting}`, acted: true, stop };
  },
};

const resolveSplitBrain: DecisionRule = {
  name: "resolve split brain",
  decide(ctx) {
    const primaries = servingPrimaries(ctx);
    if (primaries.length < 2) return null;
    const [a, b] = primaries as [AppState, AppState];
    const keep = chooseSplitBrainSurvivor(ctx, a, b);
    const lose = keep === a ? b : a;
    const loseHost = ctx.s.hosts[lose.hostId]!;
    const returned = loseHost.sinceMs > ctx.s.startedAtMs ? ` after ${hostName(ctx.pair, lose.hostId)} returned` : "";
    const epoch = ctx.ps.epoch + 1;
    const sentence =
      `${appName(ctx.pair, lose.appId)} demoted to backup because both ${appName(ctx.pair, lose.appId)} (epoch ${lose.epoch}) and ` +
      `${appName(ctx.pair, keep.appId)} (epoch ${keep.epoch}) are primary${returned}; ${appName(ctx.pair, keep.appId)} stays primary (epoch ${epoch})`;
    ctx.ps.intendedPrimaryAppId = keep.appId;
    startSwitchover(ctx, { cause: "split-brain", fromAppId: lose.appId, toAppId: null, demoteFirst: true, forced: false }, sentence);
    return { sentence, acted: true, stop: true };
  },
};

/** Keep the intended primary if it serves; else the higher epoch (the later decision); else configuration order. */
function chooseSplitBrainSurvivor(ctx: Ctx, a: AppState, b: AppState): AppState {
  const healthy = (x: AppState) => x.status === "running" && x.sipListener !== "bind-failed";
  if (healthy(a) !== healthy(b)) return healthy(a) ? a : b;
  if (ctx.ps.intendedPrimaryAppId === a.appId) return a;
  if (ctx.ps.intendedPrimaryAppId === b.appId) return b;
  if ((a.epoch ?? -1) !== (b.epoch ?? -1)) return (a.epoch ?? -1) > (b.epoch ?? -1) ? a : b;
  return ctx.pair.apps[0].appId === a.appId ? a : b;
}

const failOverWhenNoServingPrimary: DecisionRule = {
  name: "fail over when no server serves as primary",
  decide(ctx) {
    if (servingPrimaries(ctx).length > 0) return null;
    const apps = ctx.pair.apps.map((a) => appOf(ctx.s, a.appId));
    const awaiting = apps.filter((a) => isAwaitingResync(ctx.s, a));
    if (awaiting.length > 0) {
      return {
        sentence: `no server of ${ctx.pair.name} reports primary yet; waiting for ${awaiting.map((a) => appName(ctx.pair, a.appId)).join(" and ")} to resync before deciding`,
        acted: false,
        stop: true,
      };
    }
    const candidates = apps.filter((a) => isCandidate(ctx.s, a));
    if (candidates.length === 0) {
      return {
        sentence: `no server of ${ctx.pair.name} can be primary: ${apps.map((a) => whyNotServing(ctx.s, ctx.pair, a)).join("; ")}`,
        acted: false,
        stop: true,
      };
    }
    const to = chooseCandidate(ctx, candidates);
    const previous = previousPrimary(ctx, to);
    const why = previous ? whyNotServing(ctx.s, ctx.pair, previous) : `no server of ${ctx.pair.name} was primary`;
    const cause: SwitchoverCause = !previous
      ? "no-primary"
      : !isHostConnected(ctx.s, previous.hostId)
        ? "host-disconnected"
        : "primary-failed";
    const epoch = ctx.ps.epoch + 1;
    let sentence = `${appName(ctx.pair, to.appId)} promoted to primary because ${why} (epoch ${epoch})`;
    if (previous && !isReadyForSwitchover(to)) {
      sentence += `; double failure warning: ${notReadyWhy(to, appName(ctx.pair, to.appId))}`;
      ctx.out.commands.push({ type: "raise-alarm", kind: "double-failure", pairId: ctx.pair.id, appId: to.appId, text: sentence });
    }
    startSwitchover(ctx, { cause, fromAppId: previous?.appId ?? null, toAppId: to.appId, demoteFirst: false, forced: false }, sentence);
    return { sentence, acted: true, stop: true };
  },
};

function chooseCandidate(ctx: Ctx, candidates: AppState[]): AppState {
  const score = (a: AppState): number =>
    (a.sipListener !== "bind-failed" ? 4 : 0) + (ctx.ps.intendedPrimaryAppId === a.appId ? 2 : 0) + (ctx.pair.apps[0].appId === a.appId ? 1 : 0);
  return [...candidates].sort((x, y) => score(y) - score(x))[0]!;
}

/** The other app, whose loss of service is the reason for the promotion; null when it is a healthy backup. */
function previousPrimary(ctx: Ctx, to: AppState): AppState | null {
  const other = appOf(ctx.s, otherAppId(ctx.pair, to.appId));
  if (isCandidate(ctx.s, other) && other.role === "backup") return null;
  return other;
}

const switchOverOnServiceUnavailable: DecisionRule = {
  name: "switch over when the primary reports SERVICE_UNAVAILABLE",
  decide(ctx) {
    const primary = servingPrimaries(ctx)[0];
    if (!primary || primary.status !== "service-unavailable") return null;
    const other = appOf(ctx.s, otherAppId(ctx.pair, primary.appId));
    const p = appName(ctx.pair, primary.appId);
    const o = appName(ctx.pair, other.appId);
    const detail = `${primary.statusDetail || "no SIP traffic"}, back-off ${primary.oosBackoff}x`;
    if (!isCandidate(ctx.s, other)) {
      return { sentence: `${p} reported SERVICE_UNAVAILABLE (${detail}) but ${o} cannot take over (${whyNotServing(ctx.s, ctx.pair, other)}); ${p} stays primary`, acted: false, stop: true };
    }
    const epoch = ctx.ps.epoch + 1;
    let sentence = `${o} promoted to primary and ${p} demoted because ${p} reported SERVICE_UNAVAILABLE (${detail}) (epoch ${epoch})`;
    if (!isReadyForSwitchover(other)) sentence += `; double failure warning: ${notReadyWhy(other, o)}`;
    startSwitchover(ctx, { cause: "service-unavailable", fromAppId: primary.appId, toAppId: other.appId, demoteFirst: true, forced: false }, sentence);
    return { sentence, acted: true, stop: true };
  },
};

const alternateOnBindFailure: DecisionRule = {
  name: "alternate the primary while it cannot bind its SIP port",
  decide(ctx) {
    const primary = servingPrimaries(ctx)[0];
    if (!primary || primary.sipListener !== "bind-failed") return null;
    const other = appOf(ctx.s, otherAppId(ctx.pair, primary.appId));
    const p = appName(ctx.pair, primary.appId);
    const o = appName(ctx.pair, other.appId);
    if (!isCandidate(ctx.s, other)) {
      return { sentence: `${p} cannot open its SIP listening port (00-04200) and ${o} cannot take over (${whyNotServing(ctx.s, ctx.pair, other)}); ${p} stays primary`, acted: false, stop: true };
    }
    const heldForMs = ctx.s.nowMs - (ctx.ps.lastRoleChangeAtMs ?? -Infinity);
    if (heldForMs < ctx.s.timing.bindAlternationIntervalMs) {
      return { sentence: `${p} cannot open its SIP listening port (00-04200); it keeps the primary role for ${ctx.s.timing.bindAlternationIntervalMs} ms before it alternates to ${o}`, acted: false, stop: true };
    }
    ctx.ps.bindAlternations += 1;
    const epoch = ctx.ps.epoch + 1;
    const sentence = `${o} promoted to primary and ${p} demoted because ${p} cannot open its SIP listening port (00-04200); the primary role alternates until one can (alternation ${ctx.ps.bindAlternations}, epoch ${epoch})`;
    startSwitchover(ctx, { cause: "bind-failure", fromAppId: primary.appId, toAppId: other.appId, demoteFirst: true, forced: false }, sentence);
    return { sentence, acted: true, stop: true };
  },
};

const clearStaleVip: DecisionRule = {
  name: "clear a stale VIP on a host that returned",
  decide(ctx) {
    for (const stale of ctx.ps.staleVips) {
      if (!isHostConnected(ctx.s, stale.hostId)) continue;
      const appsOnHost = ctx.pair.apps.filter((a) => a.hostId === stale.hostId).map((a) => appOf(ctx.s, a.appId));
      if (appsOnHost.some((a) => a.role === "primary" && isServing(a))) continue;
      if (appsOnHost.some((a) => isAwaitingResync(ctx.s, a))) continue;
      if (stale.lastAttemptAtMs !== null && ctx.s.nowMs - stale.lastAttemptAtMs < ctx.s.timing.staleVipRetryIntervalMs) continue;
      const disablePending = ctx.ps.switchover?.steps.some(
        (st) => st.command.type === "run-control-script" && st.command.hostId === stale.hostId && st.command.action === "disable" && (st.status === "held" || st.status === "sent"),
      );
      if (disablePending) continue;
      stale.lastAttemptAtMs = ctx.s.nowMs;
      const sentence = `disabling the stale ${vipWord(ctx.pair)} on ${hostName(ctx.pair, stale.hostId)}: it is connected and none of its servers is primary (epoch ${ctx.ps.epoch})`;
      startSwitchover(ctx, { cause: "stale-vip", fromAppId: null, toAppId: null, demoteFirst: false, forced: false, scriptOnlyHostId: stale.hostId }, sentence);
      return { sentence, acted: true, stop: true };
    }
    return null;
  },
};

const steady: DecisionRule = {
  name: "steady",
  decide(ctx) {
    const primary = servingPrimaries(ctx)[0];
    if (!primary) return { sentence: `no server of ${ctx.pair.name} is primary`, acted: false, stop: true };
    const p = appName(ctx.pair, primary.appId);
    const awaiting = ctx.pair.apps.filter((a) => isAwaitingResync(ctx.s, appOf(ctx.s, a.appId)));
    if (awaiting.length > 0) {
      // Adopting now could pick the wrong survivor if the one still resyncing is primary too.
      return { sentence: `${p} is primary; waiting for ${awaiting.map((a) => a.appName).join(" and ")} to resync`, acted: false, stop: true };
    }
    if (ctx.ps.intendedPrimaryAppId !== primary.appId) {
      ctx.ps.intendedPrimaryAppId = primary.appId;
      if (!usesScripts(ctx.pair)) {
        const sentence = `${p} is primary (epoch ${primary.epoch}); the controller adopts it as the intended primary`;
        history(ctx, ctx.ps.epoch, sentence);
        return { sentence, acted: true, stop: true };
      }
      // Nothing says the VIP is where the adopted primary is (first start, or a server that made
      // itself primary): put it there, and take it off the partner's host, at the current epoch.
      const others = ctx.pair.apps.map((a) => a.hostId).filter((h) => h !== primary.hostId && isHostConnected(ctx.s, h));
      const sentence = `${p} is primary (epoch ${primary.epoch}); the controller adopts it as the intended primary and enables the ${vipWord(ctx.pair)} on ${hostName(ctx.pair, primary.hostId)}`;
      startSwitchover(ctx, { cause: "adoption", fromAppId: null, toAppId: null, demoteFirst: false, forced: false, vipOnly: { enableHostId: primary.hostId, disableHostIds: [...new Set(others)] } }, sentence);
      return { sentence, acted: true, stop: true };
    }
    if (ctx.ps.bindAlternations > 0 && primary.sipListener === "bound") {
      const sentence = `${p} opened its SIP listening port; it stays primary and the alternation stops after ${ctx.ps.bindAlternations} switch(es)`;
      ctx.ps.bindAlternations = 0;
      history(ctx, ctx.ps.epoch, sentence);
      return { sentence, acted: true, stop: true };
    }
    return { sentence: `${p} is primary (epoch ${ctx.ps.epoch})`, acted: false, stop: true };
  },
};

/**
 * The decision procedure, top-down, for each pair on every event. The first rule whose question
 * applies and that says stop ends the procedure. See DECISIONS.md for the diagram.
 */
export const decisionRules: readonly DecisionRule[] = [
  waitWhileRecovering,
  followSwitchoverInProgress,
  resolveSplitBrain,
  failOverWhenNoServingPrimary,
  switchOverOnServiceUnavailable,
  alternateOnBindFailure,
  clearStaleVip,
  steady,
];

/** The controller's transition function. */
export const step: StepFunction = createStep();

// ───────────────────────────── switchover plans ─────────────────────────────

interface PlanSpec {
  cause: SwitchoverCause;
  fromAppId: string | null;
  toAppId: string | null;
  /** Order the leaving primary to backup and wait for its acknowledgement before promoting (W1, W4, W7, split brain). */
  demoteFirst: boolean;
  forced: boolean;
  /** A plan that only runs the disable script on this host, at the current epoch (stale VIP). */
  scriptOnlyHostId?: string;
  /** A plan that only puts the VIP where the primary is, at the current epoch (adoption). */
  vipOnly?: { enableHostId: string; disableHostIds: string[] };
}

function startSwitchover(ctx: Ctx, spec: PlanSpec, sentence: string): void {
  const { s, pair, ps } = ctx;
  const changesRoles = spec.scriptOnlyHostId === undefined && spec.vipOnly === undefined;
  // Every role change gets a new epoch: no two primaries can ever be ordered under the same one.
  const epoch = changesRoles ? ps.epoch + 1 : ps.epoch;
  ps.epoch = epoch;
  const steps: PlannedCommand[] = [];
  const plan = (command: SetRoleCommand | RunControlScriptCommand): void => {
    steps.push({ command, status: "held", sends: 0, lastSentAtMs: null, note: "" });
  };
  const setRole = (appId: string, role: "primary" | "backup"): SetRoleCommand => ({
    type: "set-role",
    commandId: `set-role:${pair.id}:${appId}:${role}:e${epoch}`,
    pairId: pair.id,
    appId,
    hostId: hostOfApp(pair, appId),
    role,
    epoch,
  });
  const script = (hostId: string, action: "enable" | "disable"): RunControlScriptCommand => ({
    type: "run-control-script",
    commandId: `script:${pair.id}:${hostId}:${action}:e${epoch}`,
    pairId: pair.id,
    hostId,
    action,
    target: pair.haType === "nlb-cluster" ? "nlb-port" : "vip",
    epoch,
  });
  if (spec.scriptOnlyHostId !== undefined) {
    plan(script(spec.scriptOnlyHostId, "disable"));
  } else if (spec.vipOnly !== undefined) {
    for (const hostId of spec.vipOnly.disableHostIds) plan(script(hostId, "disable"));
    plan(script(spec.vipOnly.enableHostId, "enable"));
  } else {
    const from = spec.fromAppId ? appOf(s, spec.fromAppId) : null;
    if (from && spec.demoteFirst) plan(setRole(from.appId, "backup"));
    if (spec.toAppId) plan(setRole(spec.toAppId, "primary"));
    if (from && usesScripts(pair) && from.hostId !== (spec.toAppId ? hostOfApp(pair, spec.toAppId) : null)) {
      // A disconnected host cannot run its script: its VIP stays until it returns (W3).
      if (isHostConnected(s, from.hostId)) plan(script(from.hostId, "disable"));
      else markStaleVip(s, ps, from.hostId);
    }
    if (spec.toAppId && usesScripts(pair)) plan(script(hostOfApp(pair, spec.toAppId), "enable"));
    if (spec.toAppId) ps.intendedPrimaryAppId = spec.toAppId;
    ps.lastRoleChangeAtMs = s.nowMs;
  }
  const sw: Switchover = {
    epoch,
    cause: spec.cause,
    fromAppId: spec.fromAppId,
    toAppId: spec.toAppId,
    startedAtMs: s.nowMs,
    forced: spec.forced,
    steps,
  };
  ps.switchover = sw;
  // The history row goes out before the orders: the runner persists it (and the epoch) first.
  history(ctx, epoch, sentence);
  sendDueSteps(ctx, sw);
}

/** Every set-role of the plan is acknowledged or moot; only control scripts may still be running. */
export function roleStepsSettled(sw: Switchover): boolean {
  return sw.steps.every((st) => st.command.type !== "set-role" || settled(st));
}

function isRoleStep(st: PlannedCommand, role: "primary" | "backup"): boolean {
  return st.command.type === "set-role" && st.command.role === role;
}

function settled(st: PlannedCommand): boolean {
  return st.status === "done" || st.status === "skipped";
}

function prerequisitesMet(sw: Switchover, st: PlannedCommand): boolean {
  const c = st.command;
  const demotionsSettled = sw.steps.filter((x) => isRoleStep(x, "backup")).every(settled);
  if (c.type === "set-role") return c.role === "backup" || demotionsSettled;
  if (c.action === "disable") return demotionsSettled;
  return sw.steps.filter((x) => isRoleStep(x, "primary")).every(settled);
}

/** Sends steps whose prerequisites are met, re-sends unacknowledged ones within the retry limit. */
function sendDueSteps(ctx: Ctx, sw: Switchover): string[] {
  const { s, pair, ps, out } = ctx;
  const sent: string[] = [];
  for (const st of sw.steps) {
    const c = st.command;
    if (st.status === "held" || st.status === "sent") {
      if (!isHostConnected(s, c.hostId)) {
        // The order cannot be delivered; for a demotion, the host's VIP may stay (W3).
        st.status = c.type === "set-role" && c.role === "primary" ? "failed" : "skipped";
        st.note = `${hostName(pair, c.hostId)} is disconnected`;
        if (c.type === "set-role" && c.role === "backup") {
          markStaleVip(s, ps, c.hostId);
          for (const x of sw.steps) {
            if (x.command.type === "run-control-script" && x.command.hostId === c.hostId && x.command.action === "disable") {
              x.status = "skipped";
              x.note = st.note;
            }
          }
        } else if (c.type === "run-control-script" && c.action === "disable") {
          markStaleVip(s, ps, c.hostId);
        }
        continue;
      }
    }
    if (st.status === "held" && prerequisitesMet(sw, st)) {
      if (c.type === "run-control-script" && c.action === "disable") {
        const stale = ps.staleVips.find((v) => v.hostId === c.hostId);
        if (stale) stale.lastAttemptAtMs = s.nowMs;
      }
      st.status = "sent";
      st.sends = 1;
      st.lastSentAtMs = s.nowMs;
      out.commands.push(c);
      sent.push(describeCommand(pair, c));
    } else if (st.status === "sent" && s.nowMs - (st.lastSentAtMs ?? s.nowMs) >= s.timing.commandRetryIntervalMs) {
      if (st.sends > s.timing.commandRetryLimit) {
        st.status = "failed";
        st.note = `${describeTarget(pair, c)} did not confirm after ${st.sends} sends`;
        if (c.type === "set-role") appOf(s, c.appId).unresponsiveSinceMs = s.nowMs;
        else if (c.action === "disable") markStaleVip(s, ps, c.hostId);
      } else {
        st.sends += 1;
        st.lastSentAtMs = s.nowMs;
        out.commands.push(c);
        sent.push(`re-sent ${describeCommand(pair, c)} (send ${st.sends})`);
      }
    }
  }
  return sent;
}

function whyAbandon(ctx: Ctx, sw: Switchover): string | null {
  const { s, pair } = ctx;
  const failedRole = sw.steps.find((st) => st.status === "failed" && st.command.type === "set-role");
  if (failedRole) return failedRole.note;
  if (sw.toAppId) {
    const to = appOf(s, sw.toAppId);
    const promoted = sw.steps.some((st) => isRoleStep(st, "primary") && st.status === "done");
    if (!promoted && (!isHostConnected(s, to.hostId) || !isServing(to))) {
      return `${appName(pair, to.appId)} can no longer take over (${whyNotServing(s, pair, to)})`;
    }
  }
  if (s.nowMs - sw.startedAtMs > s.timing.switchoverTimeoutMs) return `not finished within ${s.timing.switchoverTimeoutMs} ms`;
  return null;
}

function describeCommand(pair: PairConfig, c: SetRoleCommand | RunControlScriptCommand): string {
  if (c.type === "set-role") return `ordered ${appName(pair, c.appId)} to ${c.role}`;
  return `ordered ${c.action} of the ${vipWord(pair)} on ${hostName(pair, c.hostId)}`;
}

function describeTarget(pair: PairConfig, c: SetRoleCommand | RunControlScriptCommand): string {
  return c.type === "set-role" ? appName(pair, c.appId) : `the ${c.action} script on ${hostName(pair, c.hostId)}`;
}

function describePlan(ctx: Ctx, sw: Switchover): string {
  const { pair } = ctx;
  if (sw.cause === "stale-vip") return `disabling the stale ${vipWord(pair)} (epoch ${sw.epoch})`;
  if (!sw.toAppId) return `demotion of ${appName(pair, sw.fromAppId)} (epoch ${sw.epoch})`;
  return `switchover of ${pair.name} to ${appName(pair, sw.toAppId)} (epoch ${sw.epoch})`;
}

function describeOutcome(ctx: Ctx, sw: Switchover): string {
  const parts: string[] = [];
  if (sw.toAppId) parts.push(`${appName(ctx.pair, sw.toAppId)} is primary`);
  if (sw.fromAppId && sw.steps.some((st) => isRoleStep(st, "backup") && st.status === "done")) parts.push(`${appName(ctx.pair, sw.fromAppId)} is backup`);
  for (const st of sw.steps) {
    const c = st.command;
    if (c.type !== "run-control-script") continue;
    const where = hostName(ctx.pair, c.hostId);
    if (st.status === "done") parts.push(`${vipWord(ctx.pair)} ${c.action}d on ${where}`);
    else parts.push(`${vipWord(ctx.pair)} ${c.action} on ${where} ${st.status === "skipped" ? "not run" : "failed"}${st.note ? ` (${st.note})` : ""}`);
  }
  for (const v of ctx.ps.staleVips) parts.push(`stale ${vipWord(ctx.pair)} on ${hostName(ctx.pair, v.hostId)}`);
  return parts.length ? `: ${parts.join(", ")}` : "";
}

function describeWaiting(ctx: Ctx, sw: Switchover): string {
  const pending = sw.steps.filter((st) => st.status === "sent").map((st) => {
    const c = st.command;
    return c.type === "set-role" ? `${appName(ctx.pair, c.appId)} to confirm ${c.role}` : `the ${c.action} script on ${hostName(ctx.pair, c.hostId)}`;
  });
  return `${describePlan(ctx, sw)} in progress: waiting for ${pending.join(" and ") || "its next step"}`;
}

// ───────────────────────────── history and alarms ─────────────────────────────

function history(ctx: Ctx, epoch: number, text: string): void {
  ctx.out.commands.push({ type: "record-history", pairId: ctx.pair.id, epoch, text });
}

interface WantedAlarm {
  kind: AlarmKind;
  appId?: string;
  hostId?: string;
  text: string;
}

/** Alarms that follow a condition are derived from state and raised/cancelled on change, once each. */
function syncAlarms(ctx: Ctx): void {
  const { s, pair, ps } = ctx;
  const wanted = new Map<string, WantedAlarm>();
  const want = (a: WantedAlarm): void => {
    wanted.set(`${a.kind}:${a.appId ?? a.hostId ?? pair.id}`, a);
  };
  for (const ref of pair.apps) {
    const host = s.hosts[ref.hostId];
    if (host?.connection === "disconnected") {
      want({ kind: "host-disconnected", hostId: ref.hostId, text: `${ref.hostName} is disconnected` });
    }
    const app = appOf(s, ref.appId);
    if (app.status === "failed") want({ kind: "application-failed", appId: ref.appId, text: `${ref.appName}'s process failed` });
    if (app.status === "service-unavailable") want({ kind: "service-unavailable", appId: ref.appId, text: `${ref.appName} reported SERVICE_UNAVAILABLE (back-off ${app.oosBackoff}x)` });
    if (app.sipListener === "bind-failed" && app.role === "primary") want({ kind: "bind-failed", appId: ref.appId, text: `${ref.appName} cannot open its SIP listening port (00-04200)` });
  }
  if (servingPrimaries(ctx).length > 1) want({ kind: "split-brain", text: `both servers of ${pair.name} are primary` });
  for (const v of ps.staleVips) want({ kind: "stale-vip", hostId: v.hostId, text: `stale ${vipWord(pair)} on ${hostName(pair, v.hostId)}` });

  const active = new Set(ps.activeAlarms);
  for (const [key, a] of wanted) {
    if (active.has(key)) continue;
    ctx.out.commands.push({ type: "raise-alarm", pairId: pair.id, ...a });
  }
  for (const key of active) {
    if (wanted.has(key)) continue;
    const [kind, subject] = splitKey(key);
    const target = pair.apps.find((r) => r.appId === subject) ? { appId: subject } : subject !== pair.id ? { hostId: subject } : {};
    ctx.out.commands.push({ type: "cancel-alarm", kind, pairId: pair.id, ...target, text: `${kind} cleared for ${subject}` });
  }
  ps.activeAlarms = [...wanted.keys()];
}

function splitKey(key: string): [AlarmKind, string] {
  const i = key.indexOf(":");
  return [key.slice(0, i) as AlarmKind, key.slice(i + 1)];
}

// ───────────────────────────── cloning ─────────────────────────────

/** Hand-written deep copy of the mutable parts; configuration, timing and commands are never mutated. */
function cloneState(s: ControllerState): ControllerState {
  const pairStates: Record<string, PairState> = {};
  for (const [id, p] of Object.entries(s.pairStates)) {
    pairStates[id] = {
      ...p,
      staleVips: p.staleVips.map((v) => ({ ...v })),
      activeAlarms: [...p.activeAlarms],
      switchover: p.switchover ? { ...p.switchover, steps: p.switchover.steps.map((st) => ({ ...st })) } : null,
    };
  }
  const apps: Record<string, AppState> = {};
  for (const [id, a] of Object.entries(s.apps)) apps[id] = { ...a };
  const hosts: ControllerState["hosts"] = {};
  for (const [id, h] of Object.entries(s.hosts)) hosts[id] = { ...h };
  return { timing: s.timing, startedAtMs: s.startedAtMs, nowMs: s.nowMs, pairs: { ...s.pairs }, pairStates, apps, hosts };
}
