// Plans: the ordered commands of a role change (switchover, failover, demotion) or of a VIP-only
// change (adoption, stale VIP), each step sent when its prerequisites are met, re-sent within its
// retry limit, and the plan completed or abandoned with a sentence.
import { appName, appOf, hostName, hostOfApp, isHostConnected, isServing, pairStateOf, usesScripts, vipWord, whyNotServing } from "./predicates";
import { type AppState, type ControllerState, type PairConfig, type PairState, type PlannedCommand, type RunControlScriptCommand, type SetRoleCommand, type Plan, type PlanCause } from "./types";
import { history, type Ctx } from "./context";

// ───────────────────────────── switchover plans ─────────────────────────────

export interface PlanSpec {
  cause: PlanCause;
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

export function startPlan(ctx: Ctx, spec: PlanSpec, sentence: string): void {
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
    if (spec.toAppId && usesScripts(pair)) {
      const enable = script(hostOfApp(pair, spec.toAppId), "enable");
      plan(enable);
      // The new primary's agent enables at once when its server confirms primary: the client's outage
      // does not wait for the confirmation's round trip through the console (DECISIONS.md, "Enable with
      // the promotion"). The step below is still sent after the confirmation, under the same id.
      const promotion = steps.find((st) => st.command.type === "set-role" && st.command.role === "primary");
      if (promotion && promotion.command.type === "set-role" && promotion.command.hostId === enable.hostId) promotion.command.thenEnable = enable.commandId;
    }
    if (spec.toAppId) ps.intendedPrimaryAppId = spec.toAppId;
    ps.lastRoleChangeAtMs = s.nowMs;
  }
  const sw: Plan = {
    epoch,
    cause: spec.cause,
    fromAppId: spec.fromAppId,
    toAppId: spec.toAppId,
    startedAtMs: s.nowMs,
    forced: spec.forced,
    steps,
  };
  ps.plan = sw;
  // The history row goes out before the orders: the runner persists it (and the epoch) first.
  history(ctx, epoch, sentence);
  sendDueSteps(ctx, sw);
}

/** Every set-role of the plan is acknowledged or moot; only control scripts may still be running. */
export function roleStepsSettled(sw: Plan): boolean {
  return sw.steps.every((st) => st.command.type !== "set-role" || settled(st));
}

function isRoleStep(st: PlannedCommand, role: "primary" | "backup"): boolean {
  return st.command.type === "set-role" && st.command.role === role;
}

function settled(st: PlannedCommand): boolean {
  return st.status === "done" || st.status === "skipped";
}

function prerequisitesMet(sw: Plan, st: PlannedCommand): boolean {
  const c = st.command;
  const demotionsSettled = sw.steps.filter((x) => isRoleStep(x, "backup")).every(settled);
  if (c.type === "set-role") return c.role === "backup" || demotionsSettled;
  if (c.action === "disable") return demotionsSettled;
  return sw.steps.filter((x) => isRoleStep(x, "primary")).every(settled);
}

/** Sends steps whose prerequisites are met, re-sends unacknowledged ones within the retry limit. */
export function sendDueSteps(ctx: Ctx, sw: Plan): string[] {
  const { s, pair, ps, out } = ctx;
  const sent: string[] = [];
  for (const st of sw.steps) {
    const c = st.command;
    if (st.status === "held" || st.status === "sent" || st.status === "delivered") {
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
    } else if (resendDue(ctx, st)) {
      if (st.sends > s.timing.commandRetryLimit) {
        st.status = "failed";
        st.note = `${describeTarget(pair, c)} did not confirm after ${st.sends} sends`;
        if (c.type === "set-role") appOf(s, c.appId).unresponsiveSinceMs = s.nowMs;
        else if (c.action === "disable") markStaleVip(s, ps, c.hostId);
      } else {
        st.status = "sent";
        st.sends += 1;
        st.lastSentAtMs = s.nowMs;
        out.commands.push(c);
        sent.push(`re-sent ${describeCommand(pair, c)} (send ${st.sends})`);
      }
    }
  }
  return sent;
}

/**
 * One retry owner (this core): a command its agent has not confirmed receiving is sent again after
 * commandRetryIntervalMs; one it received is given time to run — a role change commandResultTimeoutMs,
 * a script its own timeout plus a margin — before it is sent again (the agent answers a repeat with the
 * first result, so a slow script is never run twice).
 */
function resendDue(ctx: Ctx, st: PlannedCommand): boolean {
  const { s, pair } = ctx;
  const sinceMs = s.nowMs - (st.lastSentAtMs ?? s.nowMs);
  if (st.status === "sent") return sinceMs >= s.timing.commandRetryIntervalMs;
  if (st.status !== "delivered") return false;
  const waitMs = st.command.type === "set-role" ? s.timing.commandResultTimeoutMs : pair.scriptTimeoutMs + s.timing.scriptResultMarginMs;
  return sinceMs >= waitMs;
}

export function whyAbandon(ctx: Ctx, sw: Plan): string | null {
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

export function describeCommand(pair: PairConfig, c: SetRoleCommand | RunControlScriptCommand): string {
  if (c.type === "set-role") return `ordered ${appName(pair, c.appId)} to ${c.role}`;
  return `ordered ${c.action} of the ${vipWord(pair)} on ${hostName(pair, c.hostId)}`;
}

export function describeTarget(pair: PairConfig, c: SetRoleCommand | RunControlScriptCommand): string {
  return c.type === "set-role" ? appName(pair, c.appId) : `the ${c.action} script on ${hostName(pair, c.hostId)}`;
}

export function describePlan(ctx: Ctx, sw: Plan): string {
  const { pair } = ctx;
  if (sw.cause === "stale-vip") return `disabling the stale ${vipWord(pair)} (epoch ${sw.epoch})`;
  if (!sw.toAppId && !sw.fromAppId) {
    // A plan of scripts only (adoption): it moves the VIP to the host of the adopted primary.
    const enable = sw.steps.find((st) => st.command.type === "run-control-script" && st.command.action === "enable")?.command;
    return `putting the ${vipWord(pair)}${enable ? ` on ${hostName(pair, enable.hostId)}` : ""} (epoch ${sw.epoch})`;
  }
  if (!sw.toAppId) return `demotion of ${appName(pair, sw.fromAppId)} (epoch ${sw.epoch})`;
  return `switchover of ${pair.name} to ${appName(pair, sw.toAppId)} (epoch ${sw.epoch})`;
}

export function describeOutcome(ctx: Ctx, sw: Plan): string {
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

export function describeWaiting(ctx: Ctx, sw: Plan): string {
  const pending = sw.steps.filter((st) => st.status === "sent" || st.status === "delivered").map((st) => {
    const c = st.command;
    return c.type === "set-role" ? `${appName(ctx.pair, c.appId)} to confirm ${c.role}` : `the ${c.action} script on ${hostName(ctx.pair, c.hostId)}`;
  });
  return `${describePlan(ctx, sw)} in progress: waiting for ${pending.join(" and ") || "its next step"}`;
}

export function findPlanned(ps: PairState, commandId: string): PlannedCommand | undefined {
  return ps.plan?.steps.find((st) => st.command.commandId === commandId);
}

export function acknowledgeRole(ps: PairState, appId: string, role: string, epoch: number): void {
  for (const st of ps.plan?.steps ?? []) {
    const c = st.command;
    if (c.type === "set-role" && c.appId === appId && c.role === role && epoch >= c.epoch && (st.status === "sent" || st.status === "delivered" || st.status === "held")) {
      st.status = "done";
    }
  }
}

/** A process that went down is no longer primary: its demotion is moot (its host's script still runs). */
export function skipOrdersToDownApp(s: ControllerState, app: AppState): void {
  const ps = pairStateOf(s, app.pairId);
  for (const st of ps.plan?.steps ?? []) {
    const c = st.command;
    if (c.type === "set-role" && c.appId === app.appId && c.role === "backup" && (st.status === "sent" || st.status === "delivered" || st.status === "held")) {
      st.status = "skipped";
      st.note = `${app.appId} went down (${app.status})`;
    }
  }
}

export function markStaleVip(s: ControllerState, ps: PairState, hostId: string): void {
  const pair = s.pairs[ps.pairId];
  if (!pair || !usesScripts(pair)) return;
  if (!ps.staleVips.some((v) => v.hostId === hostId)) ps.staleVips.push({ hostId, sinceMs: s.nowMs, lastAttemptAtMs: null });
}
