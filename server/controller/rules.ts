// The decision procedure, rule by rule, in the order DECISIONS.md draws it: the first rule whose
// question applies and says stop ends the procedure for the pair. Also the operator's switchover (W1, W12).
import { durationWord, maintenanceWords, timeWord, recoveryEndsAtMs, appName, appOf, callsWord, hostName, hostOfApp, isAwaitingResync, isCandidate, isHostAwaitedAfterStart, isHostConnected, isReadyForSwitchover, isServing, notReadyWhy, otherAppId, pairStateOf, unsyncedCalls, usesScripts, vipWord, whyNotServing } from "./predicates";
import type { AppState, ControllerEvent, ControllerState, PlanCause, StartApplicationCommand } from "./types";
import { servingPrimaries, history, Out as StepOut, type Ctx, type Out, type DecisionRule, type RuleOutcome } from "./context";
import { cloneState } from "./state";
import { startPlan, sendDueSteps, whyAbandon, describePlan, describeOutcome, describeWaiting, roleStepsSettled } from "./plans";

// ───────────────────────────── starting and stopping servers ─────────────────────────────

/** Every start is as backup at the pair's current epoch: no server claims primary without an order. */
function startCommand(ctx: Ctx, appId: string): StartApplicationCommand {
  return { type: "start-application", commandId: `start:${ctx.pair.id}:${appId}:e${ctx.ps.epoch}:${ctx.s.nowMs}`, pairId: ctx.pair.id, appId, hostId: hostOfApp(ctx.pair, appId), role: "backup", epoch: ctx.ps.epoch };
}

/**
 * Autostart (SCS's): a server its freshly started agent reports as stopped is started, once per agent
 * start — unless an operator stopped it. It starts as backup; the rules below promote it if it should
 * be primary. Does not end the procedure.
 */
const startStoppedServers: DecisionRule = {
  name: "start stopped servers once per agent start",
  decide(ctx) {
    const started: string[] = [];
    for (const ref of ctx.pair.apps) {
      const app = appOf(ctx.s, ref.appId);
      const host = ctx.s.hosts[ref.hostId];
      if (!host || host.connection !== "connected" || host.agentIncarnation === null) continue;
      if (app.status !== "stopped" || app.stoppedByOperator || app.autostartedFor === host.agentIncarnation) continue;
      app.autostartedFor = host.agentIncarnation;
      ctx.out.commands.push(startCommand(ctx, ref.appId));
      started.push(ref.appName);
    }
    if (started.length === 0) return null;
    const sentence = `starting ${started.join(" and ")} as backup (epoch ${ctx.ps.epoch}): stopped when ${started.length > 1 ? "their agents" : "its agent"} started (autostart)`;
    history(ctx, ctx.ps.epoch, sentence);
    return { sentence, acted: true, stop: false };
  },
};

/** An operator's start or stop of a server of a pair; an explicit stop is remembered (no autostart). */
export function operatorApplication(s: ControllerState, e: Extract<ControllerEvent, { type: "operator-application" }>, out: Out): void {
  const app = s.apps[e.appId];
  const pair = app ? s.pairs[app.pairId] : undefined;
  if (!app || !pair) {
    out.decide(null, `${e.action} refused: ${e.appId} is in no pair the controller manages`);
    return;
  }
  const ctx: Ctx = { s, pair, ps: pairStateOf(s, pair.id), out };
  const name = appName(pair, app.appId);
  let sentence: string;
  if (e.action === "start") {
    app.stoppedByOperator = false;
    out.commands.push(startCommand(ctx, app.appId));
    sentence = `${e.operator} started ${name} (as backup, epoch ${ctx.ps.epoch}; the controller promotes it if it should be primary)`;
  } else {
    app.stoppedByOperator = true;
    out.commands.push({ type: "stop-application", commandId: `stop:${pair.id}:${app.appId}:e${ctx.ps.epoch}:${s.nowMs}`, pairId: pair.id, appId: app.appId, hostId: app.hostId, epoch: ctx.ps.epoch });
    const isPrimary = app.role === "primary" && isServing(app);
    const takeover = ctx.ps.maintenance
      ? ` (it was primary, and ${pair.name} is in maintenance: the controller does not move the primary role to ${otherName(ctx, app)})`
      : ` (it was primary: ${otherName(ctx, app)} takes over when it has stopped)`;
    sentence = `${e.operator} stopped ${name}; it stays stopped until someone starts it${isPrimary ? takeover : ""}`;
  }
  history(ctx, ctx.ps.epoch, sentence);
  out.decide(pair.id, sentence);
}

// ───────────────────────────── operator switchover (W1, W12) ─────────────────────────────

/** The pair an operator's request names, and how to refuse it (sentence and timeline row); null when there is no such pair. */
function operatorRequest(s: ControllerState, pairId: string, out: Out, what: string, operator: string): { ctx: Ctx; refuse: (why: string) => void } | null {
  const pair = s.pairs[pairId];
  if (!pair) {
    out.decide(null, `${what} refused: there is no pair ${pairId}`);
    return null;
  }
  const ctx: Ctx = { s, pair, ps: pairStateOf(s, pair.id), out };
  const refuse = (why: string): void => {
    const sentence = `${what} of ${pair.name} requested by ${operator} refused: ${why}`;
    history(ctx, ctx.ps.epoch, sentence);
    out.decide(pair.id, sentence);
  };
  return { ctx, refuse };
}

export function operatorSwitchover(s: ControllerState, e: Extract<ControllerEvent, { type: "operator-switchover" }>, out: Out): void {
  const request = operatorRequest(s, e.pairId, out, "switchover", e.operator);
  if (!request) return;
  const { ctx, refuse } = request;
  const pair = ctx.pair;
  if (pair.apps.some((a) => isHostAwaitedAfterStart(s, a.hostId))) return refuse("the controller is still recovering after its start");
  if (ctx.ps.plan && !roleStepsSettled(ctx.ps.plan)) return refuse(`a role change is already in progress (epoch ${ctx.ps.plan.epoch})`);
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
  // An operator's switchover is carried out during maintenance (it is the operator acting, and the
  // controller would otherwise leave a role change half done); the controller still decides nothing itself.
  if (ctx.ps.maintenance) sentence += `; ${pair.name} stays in maintenance (${maintenanceWords(ctx.ps)}): the controller carries out this switchover and takes no decision of its own`;
  if (notReady.length > 0) {
    sentence += `; double failure warning: ${notReady.join(" and ")}${callsAtRisk(backup)}`;
    out.commands.push({ type: "raise-alarm", kind: "double-failure", pairId: pair.id, appId: backup.appId, text: sentence });
  }
  startPlan(ctx, { cause: "operator", fromAppId: primary.appId, toAppId: backup.appId, demoteFirst: true, forced: e.force }, sentence);
  out.decide(pair.id, sentence);
}

// ───────────────────────────── maintenance (Patroni's pause, Pacemaker's maintenance-mode) ─────────────────────────────

/** An operator puts a pair in maintenance (or changes its reason or expiry), or ends it. */
export function operatorMaintenance(s: ControllerState, e: Extract<ControllerEvent, { type: "operator-maintenance" }>, out: Out): void {
  const request = operatorRequest(s, e.pairId, out, e.on ? "maintenance" : "ending the maintenance", e.operator);
  if (!request) return;
  const { ctx, refuse } = request;
  const pair = ctx.pair;
  let sentence: string;
  if (e.on) {
    const reason = e.reason.trim();
    if (reason === "") return refuse("maintenance needs a reason");
    if (e.untilMs !== null && e.untilMs <= s.nowMs) return refuse(`its end ${timeWord(e.untilMs)} is not in the future`);
    const before = ctx.ps.maintenance;
    // Changing the reason or the end keeps "since": how long the pair has gone unprotected is what counts.
    ctx.ps.maintenance = { by: e.operator, reason, sinceMs: before?.sinceMs ?? s.nowMs, untilMs: e.untilMs };
    const until = e.untilMs !== null ? ` until ${timeWord(e.untilMs)}` : " until someone ends it";
    sentence = before
      ? `${e.operator} changed the maintenance of ${pair.name} (in maintenance since ${timeWord(before.sinceMs)}, set by ${before.by}): now${until}; reason: ${reason}`
      : `${e.operator} put ${pair.name} in maintenance${until} (reason: ${reason}): the controller observes the pair and takes no decision of its own — no failover, no autostart — until the maintenance ends`;
    if (ctx.ps.hold) {
      sentence += `; the failover to ${appName(pair, ctx.ps.hold.toAppId)} held for its readiness is dropped`;
      ctx.ps.hold = null;
    }
  } else {
    const before = ctx.ps.maintenance;
    if (!before) return refuse(`${pair.name} is not in maintenance`);
    ctx.ps.maintenance = null;
    sentence = `${e.operator} ended the maintenance of ${pair.name} (set by ${before.by} at ${timeWord(before.sinceMs)}, ${durationWord(s.nowMs - before.sinceMs)} ago; reason: ${before.reason}): the controller acts on the pair again`;
  }
  history(ctx, ctx.ps.epoch, sentence);
  out.decide(pair.id, sentence);
}

/**
 * A pair in maintenance: the controller observes it and decides nothing of its own. A role change
 * already ordered (an operator's switchover, or a failover ordered before the maintenance began) is
 * carried to its end — left half done, it would leave the pair without a primary. The sentence says
 * what the controller would do now without the maintenance, so the card says why nothing happens.
 * The maintenance ends by itself at its expiry (on any event, ticks included).
 */
const observeInMaintenance: DecisionRule = {
  name: "observe only while the pair is in maintenance",
  decide(ctx) {
    const m = ctx.ps.maintenance;
    if (!m) return null;
    if (m.untilMs !== null && ctx.s.nowMs >= m.untilMs) {
      ctx.ps.maintenance = null;
      const sentence = `the maintenance of ${ctx.pair.name} (set by ${m.by} at ${timeWord(m.sinceMs)}; reason: ${m.reason}) ended at its expiry ${timeWord(m.untilMs)}: the controller acts on the pair again`;
      history(ctx, ctx.ps.epoch, sentence);
      return { sentence, acted: true, stop: false };
    }
    const intro = `${ctx.pair.name} is in maintenance (${maintenanceWords(ctx.ps)}): the controller observes only`;
    if (ctx.ps.plan) {
      const followed = followPlanInProgress.decide(ctx);
      if (followed?.acted) ctx.out.decide(ctx.pair.id, followed.sentence);
      if (ctx.ps.plan) return { sentence: `${intro}; it completes the role change already ordered: ${followed?.sentence ?? describePlan(ctx, ctx.ps.plan)}`, acted: false, stop: true };
    }
    const would = wouldDecide(ctx);
    return { sentence: `${intro}; ${would.acted ? `without the maintenance it would act now: ${would.sentence}` : would.sentence}`, acted: false, stop: true };
  },
};

/** What the decision procedure would conclude for the pair without its maintenance, on a copy of the state (nothing is kept). */
function wouldDecide(ctx: Ctx): { sentence: string; acted: boolean } {
  const s = cloneState(ctx.s);
  const ps = pairStateOf(s, ctx.pair.id);
  ps.maintenance = null;
  const scratch: Ctx = { s, pair: ctx.pair, ps, out: new StepOut() };
  for (const rule of decisionRules) {
    if (rule === observeInMaintenance) continue;
    const outcome = rule.decide(scratch);
    if (!outcome) continue;
    if (outcome.acted) return { sentence: outcome.sentence, acted: true };
    if (outcome.stop) return { sentence: outcome.sentence, acted: false };
  }
  return { sentence: `nothing to decide for ${ctx.pair.name}`, acted: false };
}

// ───────────────────────────── the decision procedure ─────────────────────────────

const waitWhileRecovering: DecisionRule = {
  name: "wait while recovering",
  decide(ctx) {
    const awaited = ctx.pair.apps.filter((a) => isHostAwaitedAfterStart(ctx.s, a.hostId));
    if (awaited.length === 0) return null;
    const left = recoveryEndsAtMs(ctx.s) - ctx.s.nowMs;
    return {
      sentence: `recovering after the controller started: waiting up to ${left} ms for ${awaited.map((a) => a.hostName).join(" and ")} to report before deciding for ${ctx.pair.name}`,
      acted: false,
      stop: true,
    };
  },
};

const followPlanInProgress: DecisionRule = {
  name: "follow the switchover in progress",
  decide(ctx) {
    const sw = ctx.ps.plan;
    if (!sw) return null;
    const abandonWhy = whyAbandon(ctx, sw);
    if (abandonWhy) {
      ctx.ps.plan = null;
      const sentence = `${describePlan(ctx, sw)} abandoned: ${abandonWhy}`;
      history(ctx, sw.epoch, sentence);
      ctx.out.commands.push({ type: "raise-alarm", kind: "switchover-failed", pairId: ctx.pair.id, text: sentence });
      return { sentence, acted: true, stop: false };
    }
    const sent = sendDueSteps(ctx, sw);
    const failedNow = sw.steps.find((st) => st.status === "failed" && st.command.type === "set-role");
    if (failedNow) {
      // Retry limit reached on a role order: re-decide at once rather than waiting for the next tick.
      return followPlanInProgress.decide(ctx);
    }
    if (sw.steps.every((st) => st.status !== "held" && st.status !== "sent" && st.status !== "delivered")) {
      ctx.ps.plan = null;
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
    startPlan(ctx, { cause: "split-brain", fromAppId: lose.appId, toAppId: null, demoteFirst: true, forced: false }, sentence);
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
    const starting = waitForFirstPrimaryToStart(ctx);
    if (starting) return { sentence: starting, acted: false, stop: true };
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
    const selfDemoted = previous !== null && gaveUpTheRole(ctx, previous);
    // W10: a server that gave the role up by itself, taken back only because its partner cannot take
    // it: that is an alternation, and alternations wait longer each time.
    if (to.selfDemotedAtMs !== null) {
      const wait = alternationWait(ctx);
      if (wait > 0) {
        return {
          sentence: `${appName(ctx.pair, to.appId)} gave up the primary role by itself and ${otherName(ctx, to)} cannot take it (${whyNotServing(ctx.s, ctx.pair, appOf(ctx.s, otherAppId(ctx.pair, to.appId)))}); trying ${appName(ctx.pair, to.appId)} again in ${wait} ms (alternation ${ctx.ps.alternations + 1})`,
          acted: false,
          stop: true,
        };
      }
    }
    // W10: the server that gave the role up keeps its process and its calls; its partner takes over
    // once it holds them (or the hold ends). A crash, a hang or a lost host cannot wait: at once.
    const verdict =
      selfDemoted && previous
        ? holdForReadiness(ctx, "self-demotion", previous, to, `${appName(ctx.pair, previous.appId)} gave up the primary role by itself`)
        : immediate(ctx, previous || ctx.ps.intendedPrimaryAppId !== null ? to : null);
    if ("wait" in verdict) return verdict.wait;
    if (to.selfDemotedAtMs !== null) ctx.ps.alternations += 1;
    if (selfDemoted) ctx.ps.alternations += 1;
    const why = !previous
      ? `no server of ${ctx.pair.name} was primary`
      : selfDemoted
        ? `${appName(ctx.pair, previous.appId)} gave up the primary role by itself (it reported backup at epoch ${previous.epoch} without an order)`
        : whyNotServing(ctx.s, ctx.pair, previous);
    const cause: PlanCause = !previous
      ? "no-primary"
      : selfDemoted
        ? "self-demotion"
        : !isHostConnected(ctx.s, previous.hostId)
          ? "host-disconnected"
          : "primary-failed";
    const epoch = ctx.ps.epoch + 1;
    const sentence = `${appName(ctx.pair, to.appId)} promoted to primary because ${why} (epoch ${epoch})${verdict.note}`;
    if (verdict.doubleFailure) ctx.out.commands.push({ type: "raise-alarm", kind: "double-failure", pairId: ctx.pair.id, appId: to.appId, text: sentence });
    startPlan(ctx, { cause, fromAppId: previous?.appId ?? null, toAppId: to.appId, demoteFirst: false, forced: false }, sentence);
    return { sentence, acted: true, stop: true };
  },
};

/**
 * The best candidate: one that did not give up the primary role by itself (W10: promoting it again would
 * only repeat that, forever), that can bind its SIP port, that is ready (it holds the calls: after a
 * console restart two backups may remain, one just restarted and empty), the intended primary, the
 * configured primary.
 */
function chooseCandidate(ctx: Ctx, candidates: AppState[]): AppState {
  const score = (a: AppState): number =>
    (a.selfDemotedAtMs === null ? 16 : 0) +
    (a.sipListener !== "bind-failed" ? 8 : 0) +
    (isReadyForSwitchover(a) ? 4 : 0) +
    (ctx.ps.intendedPrimaryAppId === a.appId ? 2 : 0) +
    (ctx.pair.apps[0].appId === a.appId ? 1 : 0);
  return [...candidates].sort((x, y) => score(y) - score(x))[0]!;
}

/** The other app, whose loss of service is the reason for the promotion; null when it is a healthy backup. */
function previousPrimary(ctx: Ctx, to: AppState): AppState | null {
  const other = appOf(ctx.s, otherAppId(ctx.pair, to.appId));
  if (isCandidate(ctx.s, other) && other.role === "backup" && !gaveUpTheRole(ctx, other)) return null;
  return other;
}

/** It gave the primary role up by itself since the controller last changed the pair's roles (W10). */
function gaveUpTheRole(ctx: Ctx, app: AppState): boolean {
  return app.selfDemotedAtMs !== null && app.selfDemotedAtMs >= (ctx.ps.lastRoleChangeAtMs ?? -Infinity);
}

function otherName(ctx: Ctx, app: AppState): string {
  return appName(ctx.pair, otherAppId(ctx.pair, app.appId));
}

/**
 * W7/W10: how much longer the pair must keep its current roles before the next alternation; the wait
 * doubles with every alternation (2 s, 4 s, 8 s … up to alternationMaxIntervalMs).
 */
function alternationWait(ctx: Ctx): number {
  const { timing } = ctx.s;
  const intervalMs = Math.min(timing.alternationMaxIntervalMs, timing.bindAlternationIntervalMs * 2 ** Math.min(20, ctx.ps.alternations));
  const heldForMs = ctx.s.nowMs - (ctx.ps.lastRoleChangeAtMs ?? -Infinity);
  return Math.max(0, intervalMs - heldForMs);
}

/**
 * A pair that never had a primary (first start): the configured primary is preferred, and while it is
 * still starting — within its startup timeout — its partner is not promoted over it. A server that runs
 * but has not reported its role yet is still coming up too (its agent says "running" when it first
 * answers, its role follows): it gets the same wait from the moment it runs. (After a failure there is
 * no such wait: the partner is promoted at once.)
 */
function waitForFirstPrimaryToStart(ctx: Ctx): string | null {
  if (ctx.ps.intendedPrimaryAppId !== null) return null;
  const ref = ctx.pair.apps[0];
  const preferred = appOf(ctx.s, ref.appId);
  const comingUp = preferred.status === "starting" || (preferred.status === "running" && preferred.role === null);
  if (!comingUp || !isHostConnected(ctx.s, preferred.hostId)) return null;
  const leftMs = preferred.statusSinceMs + ref.startupTimeoutMs - ctx.s.nowMs;
  if (leftMs <= 0) return null;
  const what = preferred.status === "starting" ? "is still starting" : "runs but has not reported its role yet";
  return `${ref.appName}, the configured primary of ${ctx.pair.name}, ${what}; waiting up to ${Math.ceil(leftMs / 1000)} s more before choosing a primary`;
}

// ───────────────────────────── readiness-aware failover (holds) ─────────────────────────────

/** Either wait (the rule's outcome), or go ahead: `note` ends the decision sentence; doubleFailure raises the alarm. */
type HoldVerdict = { wait: RuleOutcome } | { note: string; doubleFailure: boolean };

/** ", 7,500 calls not yet synchronised may be lost" when the server said how many. */
function callsAtRisk(to: AppState): string {
  const n = unsyncedCalls(to);
  return n !== null && n > 0 ? `; ${callsWord(n)} not yet synchronised may be lost` : "";
}

/** A failover that cannot wait (crash, hang, host lost): at once, with the double-failure warning when the target is not ready. */
function immediate(ctx: Ctx, to: AppState | null): HoldVerdict {
  ctx.holdExamined = true;
  ctx.ps.hold = null;
  if (!to || isReadyForSwitchover(to)) return { note: "", doubleFailure: false };
  return { note: `; double failure warning: ${notReadyWhy(to, appName(ctx.pair, to.appId))}${callsAtRisk(to)}`, doubleFailure: true };
}

/**
 * A failover whose cause lets the primary keep its established calls (W4, W7, W10): while the target is
 * still synchronising calls over a live HA link, wait for it to report ready, at most the pair's
 * failoverHoldMs; then go ahead anyway, with the double-failure alarm. A target whose readiness is not
 * known yet (just restarted) is waited for too. Waiting when the target cannot catch up (it reports its
 * HA link down, or the pair's hold is 0) would only keep the pair without a working primary for
 * nothing: go at once, with the alarm.
 */
function holdForReadiness(ctx: Ctx, cause: PlanCause, from: AppState, to: AppState, trouble: string): HoldVerdict {
  ctx.holdExamined = true;
  const { s, pair, ps } = ctx;
  const name = appName(pair, to.appId);
  const held = ps.hold && ps.hold.cause === cause && ps.hold.toAppId === to.appId && ps.hold.fromAppId === from.appId ? ps.hold : null;
  const waitedS = held ? Math.round((s.nowMs - held.sinceMs) / 1000) : 0;
  if (isReadyForSwitchover(to)) {
    ps.hold = null;
    return { note: held ? `; ${name} became ready after ${waitedS} s of waiting` : "", doubleFailure: false };
  }
  const holdS = Math.round(pair.failoverHoldMs / 1000);
  // A target that just (re)started may not have reported yet: unknown waits too (the hold bounds it).
  const catchingUp = to.haLink !== "down";
  const n = unsyncedCalls(to);
  const waitingFor = n !== null && n > 0 ? `to synchronise ${callsWord(n)}` : "to become ready";
  if (catchingUp && pair.failoverHoldMs > 0 && (!held || s.nowMs < held.untilMs)) {
    if (!held) {
      ps.hold = { cause, fromAppId: from.appId, toAppId: to.appId, sinceMs: s.nowMs, untilMs: s.nowMs + pair.failoverHoldMs };
      const sentence = `${trouble}, but ${notReadyWhy(to, name)}: waiting for ${name} ${waitingFor} before switching, at most ${holdS} s`;
      history(ctx, ps.epoch, sentence);
      return { wait: { sentence, acted: true, stop: true } };
    }
    return { wait: { sentence: `${trouble}; waiting for ${name} ${waitingFor} before switching (${waitedS} s of at most ${holdS} s)`, acted: false, stop: true } };
  }
  ps.hold = null;
  const why = held
    ? catchingUp
      ? `${name} was still not ready after the ${holdS} s hold`
      : `${name}'s HA link went down after ${waitedS} s of waiting`
    : pair.failoverHoldMs === 0
      ? "this pair's failover hold is 0 (it never waits)"
      : `${name} cannot catch up: its HA link is ${to.haLink}`;
  return { note: `; double failure: ${why} (${notReadyWhy(to, name)})${callsAtRisk(to)}`, doubleFailure: true };
}

/** A held failover no rule looked at in this step is no longer needed (the primary recovered, roles changed). */
export function releaseUnexaminedHold(ctx: Ctx): void {
  const hold = ctx.ps.hold;
  if (!hold || ctx.holdExamined) return;
  ctx.ps.hold = null;
  const sentence = `the failover to ${appName(ctx.pair, hold.toAppId)} held for its readiness is no longer needed after ${Math.round((ctx.s.nowMs - hold.sinceMs) / 1000)} s: ${ctx.ps.situation}`;
  history(ctx, ctx.ps.epoch, sentence);
  ctx.out.decide(ctx.pair.id, sentence);
}

const switchOverOnServiceUnavailable: DecisionRule = {
  name: "switch over when the primary reports SERVICE_UNAVAILABLE",
  decide(ctx) {
    const primary = servingPrimaries(ctx)[0];
    if (!primary || primary.status !== "service-unavailable") return null;
    // A primary that cannot open its SIP port has no SIP traffic: its SERVICE_UNAVAILABLE is the bind
    // failure's. The W7 alternation decides (its wait doubles), or the two rules flip the role between them.
    if (primary.sipListener === "bind-failed") return null;
    const other = appOf(ctx.s, otherAppId(ctx.pair, primary.appId));
    const p = appName(ctx.pair, primary.appId);
    const o = appName(ctx.pair, other.appId);
    // A server's own detail may already name its back-off (the simulator's does): say it once.
    const detail = /back-off/.test(primary.statusDetail) ? primary.statusDetail : `${primary.statusDetail || "no SIP traffic"}, back-off ${primary.oosBackoff}x`;
    if (!isCandidate(ctx.s, other)) {
      return { sentence: `${p} reported SERVICE_UNAVAILABLE (${detail}) but ${o} cannot take over (${whyNotServing(ctx.s, ctx.pair, other)}); ${p} stays primary`, acted: false, stop: true };
    }
    const verdict = holdForReadiness(ctx, "service-unavailable", primary, other, `${p} reported SERVICE_UNAVAILABLE (${detail})`);
    if ("wait" in verdict) return verdict.wait;
    const epoch = ctx.ps.epoch + 1;
    const sentence = `${o} promoted to primary and ${p} demoted because ${p} reported SERVICE_UNAVAILABLE (${detail}) (epoch ${epoch})${verdict.note}`;
    if (verdict.doubleFailure) ctx.out.commands.push({ type: "raise-alarm", kind: "double-failure", pairId: ctx.pair.id, appId: other.appId, text: sentence });
    startPlan(ctx, { cause: "service-unavailable", fromAppId: primary.appId, toAppId: other.appId, demoteFirst: true, forced: false }, sentence);
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
    const wait = alternationWait(ctx);
    if (wait > 0) {
      return {
        sentence: `${p} cannot open its SIP listening port (00-04200); it keeps the primary role ${Math.ceil(wait / 1000)} s more before it alternates to ${o}${ctx.ps.alternations > 0 ? ` (alternation ${ctx.ps.alternations + 1}: each waits twice as long as the last, up to ${ctx.s.timing.alternationMaxIntervalMs / 1000} s)` : ""}`,
        acted: false,
        stop: true,
      };
    }
    const verdict = holdForReadiness(ctx, "bind-failure", primary, other, `${p} cannot open its SIP listening port (00-04200)`);
    if ("wait" in verdict) return verdict.wait;
    ctx.ps.alternations += 1;
    const epoch = ctx.ps.epoch + 1;
    const sentence = `${o} promoted to primary and ${p} demoted because ${p} cannot open its SIP listening port (00-04200); the primary role alternates until one can (alternation ${ctx.ps.alternations}, epoch ${epoch})${verdict.note}`;
    if (verdict.doubleFailure) ctx.out.commands.push({ type: "raise-alarm", kind: "double-failure", pairId: ctx.pair.id, appId: other.appId, text: sentence });
    startPlan(ctx, { cause: "bind-failure", fromAppId: primary.appId, toAppId: other.appId, demoteFirst: true, forced: false }, sentence);
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
      const disablePending = ctx.ps.plan?.steps.some(
        (st) => st.command.type === "run-control-script" && st.command.hostId === stale.hostId && st.command.action === "disable" && (st.status === "held" || st.status === "sent" || st.status === "delivered"),
      );
      if (disablePending) continue;
      stale.lastAttemptAtMs = ctx.s.nowMs;
      const sentence = `disabling the stale ${vipWord(ctx.pair)} on ${hostName(ctx.pair, stale.hostId)}: it is connected and none of its servers is primary (epoch ${ctx.ps.epoch})`;
      startPlan(ctx, { cause: "stale-vip", fromAppId: null, toAppId: null, demoteFirst: false, forced: false, scriptOnlyHostId: stale.hostId }, sentence);
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
      startPlan(ctx, { cause: "adoption", fromAppId: null, toAppId: null, demoteFirst: false, forced: false, vipOnly: { enableHostId: primary.hostId, disableHostIds: [...new Set(others)] } }, sentence);
      return { sentence, acted: true, stop: true };
    }
    if (ctx.ps.alternations > 0 && primary.sipListener === "bound" && ctx.s.nowMs - (ctx.ps.lastRoleChangeAtMs ?? -Infinity) >= ctx.s.timing.bindAlternationIntervalMs) {
      const sentence = `${p} serves as primary with its SIP port open; the alternation stops after ${ctx.ps.alternations} switch(es)`;
      ctx.ps.alternations = 0;
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
  observeInMaintenance,
  startStoppedServers,
  waitWhileRecovering,
  followPlanInProgress,
  resolveSplitBrain,
  failOverWhenNoServingPrimary,
  switchOverOnServiceUnavailable,
  alternateOnBindFailure,
  clearStaleVip,
  steady,
];

/** The controller's transition function. */
