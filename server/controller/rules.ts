// The decision procedure, rule by rule, in the order DECISIONS.md draws it: the first rule whose
// question applies and says stop ends the procedure for the pair. Also the operator's switchover (W1, W12).
import { appName, appOf, hostName, isAwaitingResync, isCandidate, isHostAwaitedAfterStart, isHostConnected, isReadyForSwitchover, isServing, notReadyWhy, otherAppId, pairStateOf, usesScripts, vipWord, whyNotServing } from "./predicates";
import { type AppState, type ControllerEvent, type ControllerState, type PlanCause } from "./types";
import { servingPrimaries, history, type Ctx, type Out, type DecisionRule } from "./context";
import { startPlan, sendDueSteps, whyAbandon, describePlan, describeOutcome, describeWaiting, roleStepsSettled } from "./plans";

// ───────────────────────────── operator switchover (W1, W12) ─────────────────────────────

export function operatorSwitchover(s: ControllerState, e: Extract<ControllerEvent, { type: "operator-switchover" }>, out: Out): void {
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
  if (notReady.length > 0) {
    sentence += `; double failure warning: ${notReady.join(" and ")}`;
    out.commands.push({ type: "raise-alarm", kind: "double-failure", pairId: pair.id, text: sentence });
  }
  startPlan(ctx, { cause: "operator", fromAppId: primary.appId, toAppId: backup.appId, demoteFirst: true, forced: e.force }, sentence);
  out.decide(pair.id, sentence);
}

// ───────────────────────────── the decision procedure ─────────────────────────────

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
    if (sw.steps.every((st) => st.status !== "held" && st.status !== "sent")) {
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
    const cause: PlanCause = !previous
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
    startPlan(ctx, { cause, fromAppId: previous?.appId ?? null, toAppId: to.appId, demoteFirst: false, forced: false }, sentence);
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
    const heldForMs = ctx.s.nowMs - (ctx.ps.lastRoleChangeAtMs ?? -Infinity);
    if (heldForMs < ctx.s.timing.bindAlternationIntervalMs) {
      return { sentence: `${p} cannot open its SIP listening port (00-04200); it keeps the primary role for ${ctx.s.timing.bindAlternationIntervalMs} ms before it alternates to ${o}`, acted: false, stop: true };
    }
    ctx.ps.bindAlternations += 1;
    const epoch = ctx.ps.epoch + 1;
    const sentence = `${o} promoted to primary and ${p} demoted because ${p} cannot open its SIP listening port (00-04200); the primary role alternates until one can (alternation ${ctx.ps.bindAlternations}, epoch ${epoch})`;
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
        (st) => st.command.type === "run-control-script" && st.command.hostId === stale.hostId && st.command.action === "disable" && (st.status === "held" || st.status === "sent"),
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
  followPlanInProgress,
  resolveSplitBrain,
  failOverWhenNoServingPrimary,
  switchOverOnServiceUnavailable,
  alternateOnBindFailure,
  clearStaleVip,
  steady,
];

/** The controller's transition function. */
