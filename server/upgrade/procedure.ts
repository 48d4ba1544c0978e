// The W14 rolling upgrade of a pair as a pure state machine: what step comes next, whether its gate is
// met, when the run pauses for a fault, and what pause, resume, abort and an operator's "installed"
// mean. It never reads a clock or does I/O: time comes with each input, the pair as the controller sees
// it comes as an observation (its live view), and what must be done leaves as actions (stop, start,
// install, switch over) that the runner (upgrade.runner.ts) carries out through the operator paths the
// console already has, then reports back as results. Every change says why in a timeline note.
//
// The procedure, for the backup first and then for the other server (docs/workflows.md, W14):
//   ready for upgrade (the backup reports readiness for upgrade 1, its partner serves as primary)
//   → stop it → install (an operator confirms, or the application's install command runs through its
//   agent) → start it (as backup) → both ready for switchover (HA link settled, calls synchronised)
//   → switch over (it becomes primary).
// Automatic failover stays armed throughout (the pair is not put in maintenance); a fault — a failover,
// a lost host, a server down that should run, maintenance, split brain — pauses the run with the reason.

/** The steps of one server's upgrade, in order. */
export const stepKinds = ["ready-for-upgrade", "stop", "install", "start", "ready-for-switchover", "switchover"] as const;
export type StepKind = (typeof stepKinds)[number];

export type StepStatus = "pending" | "active" | "done" | "skipped";
export type RunStatus = "running" | "paused" | "aborting" | "aborted" | "done";
/** Runs that still act or may act again (at most one per pair). */
export const activeRunStatuses: readonly RunStatus[] = ["running", "paused", "aborting"];

/** A switchover the controller refused because a server was not ready is asked for again this many times, */
export const SWITCHOVER_NOT_READY_RETRIES = 3;
/** after this long (and once both servers report ready again), before the run pauses. */
export const SWITCHOVER_RETRY_WAIT_MS = 5_000;
const NOT_READY_REFUSAL = /is not ready for switchover|readiness is unknown/;

export interface UpgradeStep {
  kind: StepKind;
  /** What it is, in words ("stop sip-a2"). */
  title: string;
  /** The server this step upgrades. */
  appId: string;
  appName: string;
  status: StepStatus;
  startedAtMs: number | null;
  finishedAtMs: number | null;
  /** Who took the step: the operator who started the run, or the one who confirmed the install. */
  by: string | null;
  /** What happened, in words (empty while pending). */
  result: string;
  /** Its action was handed to the runner (a resume after a failed action hands it again). */
  issued: boolean;
  /** switchover: how often the controller refused it because a server was not ready, and when to ask again. */
  notReadyRefusals?: number;
  retryAtMs?: number | null;
}

export interface UpgradeServer {
  appId: string;
  appName: string;
  hostName: string;
  /** "command": the configured install command runs through the agent; "confirm": an operator says it is installed. */
  install: { mode: "confirm" | "command"; command: string | null };
  versionBefore: string | null;
  versionAfter: string | null;
  /** The install command's output (bounded), or the operator's confirmation. */
  installOutput: string;
}

/** One server as the procedure needs to see it (from the pair's live view). */
export interface ServerObservation {
  appId: string;
  name: string;
  role: "primary" | "backup" | "unknown";
  status: string;
  hostConnected: boolean;
  readyForSwitchover: 0 | 1 | null;
  readyForUpgrade: 0 | 1 | null;
  notReadyReasons: string[];
  version: string | null;
}

/** The pair as the procedure needs to see it (from its live view). */
export interface PairObservation {
  epoch: number;
  situation: string;
  maintenance: { by: string; reason: string } | null;
  splitBrain: boolean;
  /** The controller's role change in progress, if any, and why it was started. */
  plan: { cause: string } | null;
  /** An automatic failover waiting for its target's readiness. */
  held: boolean;
  servers: ServerObservation[];
}

/** What the runner is asked to do: each is answered by an action-result input. */
export type UpgradeAction =
  | { type: "stop"; appId: string }
  | { type: "start"; appId: string }
  | { type: "install"; appId: string }
  | { type: "switchover"; toAppId: string };

export interface InFlight {
  action: UpgradeAction;
  sinceMs: number;
  /** switchover: the pair's epoch when it was asked for (the ordered role change takes a newer one). */
  epochBefore: number | null;
  /** The controller ordered the switchover; the step is done when the roles show it. */
  ordered: boolean;
}

export interface UpgradeState {
  pairId: string;
  pairName: string;
  startedBy: string;
  startedAtMs: number;
  status: RunStatus;
  /** Why the run is paused (a fault, or who paused it), or null. */
  pausedReason: string | null;
  /** Both servers, in the order they are upgraded (the backup at the start first). */
  servers: [UpgradeServer, UpgradeServer];
  steps: UpgradeStep[];
  /** Index of the step in progress; steps.length when all are done. */
  current: number;
  /** The action the runner carries out now (at most one at a time), or null. */
  inFlight: InFlight | null;
  /** An abort's start of the server the run had stopped: which, and whether the agent failed it. */
  abortStart: { appId: string; failed: boolean } | null;
  /** What the current step waits for, in words; null when it is not waiting. */
  waitingFor: string | null;
  /** The last observation of the pair (pause, resume and confirmations are judged on it). */
  lastView: PairObservation | null;
  endedAtMs: number | null;
  /** How the run ended, with each server's state, in words. */
  outcome: string | null;
}

export type UpgradeInput =
  | { type: "observe"; view: PairObservation; atMs: number }
  | { type: "action-result"; action: UpgradeAction; ok: boolean; detail: string; output?: string; ordered?: boolean; atMs: number }
  | { type: "pause"; by: string; atMs: number }
  | { type: "resume"; by: string; atMs: number }
  | { type: "abort"; by: string; atMs: number }
  | { type: "confirm-installed"; by: string; appId: string; atMs: number }
  /** The console restarted: actions in flight were lost with it. */
  | { type: "console-restarted"; atMs: number };

export interface UpgradeResult {
  state: UpgradeState;
  actions: UpgradeAction[];
  /** Timeline sentences, in order. */
  notes: string[];
  /** The input was refused (the state is unchanged); why, in words. */
  refused: string | null;
}

/** Install output kept with the run (the agent already cuts each stream to 16 KiB). */
export const INSTALL_OUTPUT_MAX_CHARS = 4_000;

const stepTitles: Record<StepKind, string> = {
  "ready-for-upgrade": "ready for upgrade",
  stop: "stop",
  install: "install",
  start: "start",
  "ready-for-switchover": "both ready for switchover",
  switchover: "switch over",
};

export function stepTitle(step: Pick<UpgradeStep, "kind" | "appName">): string {
  return `${stepTitles[step.kind]} ${step.kind === "ready-for-switchover" ? `(${step.appName} upgraded)` : step.appName}`;
}

// ───────────────────────────── starting a run ─────────────────────────────

export interface StartRequest {
  pairId: string;
  pairName: string;
  by: string;
  atMs: number;
  view: PairObservation;
  /** Names, hosts and install commands of the pair's two servers (in any order). */
  servers: { appId: string; appName: string; hostName: string; installCommand: string | null }[];
}

/** A new run and its first actions, or why one cannot start now (the pair must be healthy: one primary, one backup, nothing in progress). */
export function startUpgrade(req: StartRequest): Omit<UpgradeResult, "refused"> | { refused: string } {
  const v = req.view;
  const trouble = pairTrouble(v, null);
  if (trouble) return { refused: `the upgrade of ${req.pairName} cannot start: ${trouble}` };
  const primary = v.servers.find((s) => s.role === "primary");
  const backup = v.servers.find((s) => s.role === "backup");
  if (!primary || !backup) return { refused: `the upgrade of ${req.pairName} cannot start: it needs one primary and one backup (now ${v.servers.map((x) => `${x.name} ${x.role}`).join(", ")})` };
  for (const x of v.servers) {
    if (!isServing(x)) return { refused: `the upgrade of ${req.pairName} cannot start: ${x.name} is ${x.status}` };
  }
  const server = (appId: string): UpgradeServer => {
    const ref = req.servers.find((s) => s.appId === appId)!;
    const seen = v.servers.find((s) => s.appId === appId)!;
    return {
      appId,
      appName: ref.appName,
      hostName: ref.hostName,
      install: ref.installCommand ? { mode: "command", command: ref.installCommand } : { mode: "confirm", command: null },
      versionBefore: seen.version,
      versionAfter: null,
      installOutput: "",
    };
  };
  const servers: [UpgradeServer, UpgradeServer] = [server(backup.appId), server(primary.appId)];
  const steps: UpgradeStep[] = servers.flatMap((s) =>
    stepKinds.map((kind): UpgradeStep => ({ kind, title: stepTitle({ kind, appName: s.appName }), appId: s.appId, appName: s.appName, status: "pending", startedAtMs: null, finishedAtMs: null, by: null, result: "", issued: false })),
  );
  const state: UpgradeState = {
    pairId: req.pairId,
    pairName: req.pairName,
    startedBy: req.by,
    startedAtMs: req.atMs,
    status: "running",
    pausedReason: null,
    servers,
    steps,
    current: 0,
    inFlight: null,
    abortStart: null,
    waitingFor: null,
    lastView: v,
    endedAtMs: null,
    outcome: null,
  };
  const notes = [
    `W14 upgrade of ${req.pairName} started by ${req.by}: ${servers[0].appName} (backup, version ${versionWord(servers[0].versionBefore)}) first, then ${servers[1].appName} (primary, version ${versionWord(servers[1].versionBefore)}); install ${servers.map((s) => `${s.appName}: ${s.install.mode === "command" ? "by its install command" : "confirmed by an operator"}`).join(", ")}; automatic failover stays armed`,
  ];
  const r = advance(state, req.atMs, notes, []);
  return { state: r.state, notes: r.notes, actions: r.actions };
}

// ───────────────────────────── the transition function ─────────────────────────────

export function upgradeStep(prev: UpgradeState, input: UpgradeInput): UpgradeResult {
  const s = structuredClone(prev);
  const notes: string[] = [];
  const actions: UpgradeAction[] = [];
  const refuse = (why: string): UpgradeResult => ({ state: prev, actions: [], notes: [], refused: why });
  const finished = s.status === "done" || s.status === "aborted";
  switch (input.type) {
    case "observe":
      s.lastView = input.view;
      break;
    case "action-result":
      if (!s.inFlight || !sameAction(s.inFlight.action, input.action)) return refuse(`no ${input.action.type} was awaited`);
      actionResult(s, input, notes);
      break;
    case "pause":
      if (s.status !== "running") return refuse(`the upgrade of ${s.pairName} is ${s.status}, not running`);
      s.status = "paused";
      s.pausedReason = `paused by ${input.by}`;
      notes.push(`W14 upgrade of ${s.pairName} paused by ${input.by} at ${where(s)}`);
      break;
    case "resume": {
      if (s.status !== "paused") return refuse(`the upgrade of ${s.pairName} is ${s.status}, not paused`);
      const fault = s.lastView ? faultOf(s, s.lastView) : "the pair has not been seen yet";
      if (fault) return refuse(`the upgrade of ${s.pairName} cannot resume: ${fault}`);
      s.status = "running";
      s.pausedReason = null;
      // A stop or start that did not take (the server failed, someone started it) is asked for again.
      const step = s.steps[s.current];
      if (step && !s.inFlight && (step.kind === "stop" || step.kind === "start")) step.issued = false;
      notes.push(`W14 upgrade of ${s.pairName} resumed by ${input.by} at ${where(s)}`);
      break;
    }
    case "abort":
      if (finished || s.status === "aborting") return refuse(`the upgrade of ${s.pairName} is already ${s.status}`);
      s.status = "aborting";
      s.pausedReason = null;
      s.outcome = `aborted by ${input.by} at ${where(s)}`;
      notes.push(`W14 upgrade of ${s.pairName} aborted by ${input.by} at ${where(s)}; leaving the pair with both servers running`);
      break;
    case "confirm-installed": {
      const step = s.steps[s.current];
      if (s.status !== "running" && s.status !== "paused") return refuse(`the upgrade of ${s.pairName} is ${s.status}`);
      if (!step || step.kind !== "install" || step.appId !== input.appId) return refuse(`${serverOf(s, input.appId)?.appName ?? input.appId} is not waiting for its install`);
      if (s.inFlight) return refuse(`the install command of ${step.appName} is still running`);
      const v = s.lastView ? serverView(s.lastView, step.appId) : null;
      if (!v || v.status !== "stopped") return refuse(`${step.appName} must be stopped while it is installed (it is ${v?.status ?? "not seen"})`);
      const srv = serverOf(s, step.appId)!;
      srv.installOutput = `confirmed installed by ${input.by}`;
      finishStep(s, step, input.atMs, `${input.by} confirmed the new version of ${step.appName} is installed`, notes, input.by);
      break;
    }
    case "console-restarted":
      if (finished) return refuse("the run is over");
      // What was in flight went with the console: its result will never come. Re-issued on resume.
      if (s.inFlight) {
        const step = s.steps[s.current];
        if (step && s.status !== "aborting") step.issued = false;
        if (s.status === "aborting") s.abortStart = null;
        s.inFlight = null;
      }
      if (s.status === "running") {
        s.status = "paused";
        s.pausedReason = "the console restarted during the run: check the pair and resume (an install command that was running is run again)";
        notes.push(`W14 upgrade of ${s.pairName} paused at ${where(s)}: ${s.pausedReason}`);
      }
      break;
  }
  return advance(s, input.atMs, notes, actions);
}

/** Takes every step whose gate is met now, hands over the next action, or pauses for a fault. */
function advance(s: UpgradeState, atMs: number, notes: string[], actions: UpgradeAction[]): UpgradeResult {
  const done = (): UpgradeResult => ({ state: s, actions, notes, refused: null });
  const v = s.lastView;
  if (!v) return done();
  if (s.status === "aborting") {
    abortProgress(s, v, atMs, notes, actions);
    return done();
  }
  if (s.status !== "running") return done();
  const fault = faultOf(s, v);
  if (fault) {
    s.status = "paused";
    s.pausedReason = fault;
    s.waitingFor = null;
    notes.push(`W14 upgrade of ${s.pairName} paused at ${where(s)}: ${fault}; automatic failover stays armed — resume once the pair is healthy, or abort`);
    return done();
  }
  // Bounded: each pass either finishes a step or stops.
  for (let guard = 0; guard < s.steps.length + 1; guard++) {
    const step = s.steps[s.current];
    if (!step) {
      finishRun(s, v, atMs, notes);
      return done();
    }
    if (step.status === "pending") {
      step.status = "active";
      step.startedAtMs = atMs;
      step.by = s.startedBy;
    }
    if (s.inFlight) {
      if (!(s.inFlight.action.type === "switchover" && s.inFlight.ordered)) {
        s.waitingFor = `waiting for the ${s.inFlight.action.type} of ${step.appName} to finish`;
        return done();
      }
    }
    const outcome = gate(s, step, v, atMs);
    if (outcome.kind === "wait") {
      s.waitingFor = outcome.why;
      return done();
    }
    if (outcome.kind === "act") {
      step.issued = true;
      const epochBefore = outcome.action.type === "switchover" ? v.epoch : null;
      s.inFlight = { action: outcome.action, sinceMs: atMs, epochBefore, ordered: false };
      s.waitingFor = `waiting for the ${outcome.action.type} of ${step.appName} to finish`;
      actions.push(outcome.action);
      return done();
    }
    if (outcome.kind === "pause") {
      s.status = "paused";
      s.pausedReason = outcome.why;
      s.waitingFor = null;
      notes.push(`W14 upgrade of ${s.pairName} paused at ${where(s)}: ${outcome.why}`);
      return done();
    }
    if (outcome.kind === "skip") {
      step.status = "skipped";
      step.finishedAtMs = atMs;
      step.result = outcome.why;
      notes.push(`W14 upgrade of ${s.pairName}: ${stepTitle(step)} skipped: ${outcome.why}`);
      s.current += 1;
      continue;
    }
    finishStep(s, step, atMs, outcome.why, notes, step.by);
  }
  return done();
}

type GateOutcome =
  | { kind: "wait"; why: string }
  | { kind: "act"; action: UpgradeAction }
  | { kind: "pass"; why: string }
  | { kind: "skip"; why: string }
  | { kind: "pause"; why: string };

/** The current step's gate: met (pass), its action to hand over, or what it still waits for. */
function gate(s: UpgradeState, step: UpgradeStep, v: PairObservation, atMs: number): GateOutcome {
  const x = serverView(v, step.appId)!;
  const y = serverView(v, otherOf(s, step.appId).appId)!;
  const xName = step.appName;
  const yName = otherOf(s, step.appId).appName;
  switch (step.kind) {
    case "ready-for-upgrade":
      if (y.role !== "primary") return { kind: "wait", why: `${yName} must be primary before ${xName} is upgraded (it is ${y.role})` };
      if (x.role !== "backup") return { kind: "wait", why: `${xName} must be backup (it is ${x.role})` };
      if (x.readyForUpgrade !== 1) return { kind: "wait", why: `${xName} does not report ready for upgrade (readiness for upgrade ${x.readyForUpgrade ?? "unknown"})` };
      return { kind: "pass", why: `${xName} is backup and reports ready for upgrade (1); ${yName} serves as primary; ${xName} runs version ${versionWord(x.version)}` };
    case "stop":
      if (x.status === "stopped") return { kind: "pass", why: `${xName} is stopped` };
      if (!step.issued) return { kind: "act", action: { type: "stop", appId: step.appId } };
      return { kind: "wait", why: `waiting for ${xName} to stop (it is ${x.status})` };
    case "install": {
      const srv = serverOf(s, step.appId)!;
      if (srv.install.mode === "confirm") return { kind: "wait", why: `waiting for an operator to install the new version on ${srv.hostName} and confirm ${xName} is installed` };
      if (!step.issued) return { kind: "act", action: { type: "install", appId: step.appId } };
      return { kind: "wait", why: `the install command of ${xName} runs on ${srv.hostName}` };
    }
    case "start":
      // No version here: the agent asks a started server what it runs with only after it answers, so the
      // version seen at this moment may still be the one from before the stop (the outcome has the new one).
      if (isServing(x) && x.role === "backup") return { kind: "pass", why: `${xName} runs again as backup` };
      if (!step.issued) return { kind: "act", action: { type: "start", appId: step.appId } };
      return { kind: "wait", why: `waiting for ${xName} to start (it is ${x.status}${x.role !== "unknown" ? `, ${x.role}` : ""})` };
    case "ready-for-switchover": {
      const notReady = [x, y].filter((a) => a.readyForSwitchover !== 1);
      if (notReady.length === 0) return { kind: "pass", why: `${xName} and ${yName} both report ready for switchover (HA link settled, calls synchronised)` };
      return { kind: "wait", why: `waiting for both servers to be ready for switchover: ${notReady.map(readinessWords).join("; ")}` };
    }
    case "switchover": {
      if (x.role === "primary" && y.role === "backup" && !v.plan) {
        const inFlight = s.inFlight;
        if (inFlight?.ordered) {
          s.inFlight = null;
          return { kind: "pass", why: `${xName} is primary and ${yName} backup (epoch ${v.epoch})` };
        }
        if (!step.issued) return { kind: "skip", why: `${xName} is primary already (epoch ${v.epoch})` };
      }
      const inFlight = s.inFlight;
      if (inFlight?.ordered) {
        // The controller took the order; the roles show when it is done (or that it failed).
        if (v.epoch > (inFlight.epochBefore ?? v.epoch) && !v.plan) {
          s.inFlight = null;
          step.issued = false;
          return { kind: "pause", why: `the switchover to ${xName} ended without ${xName} becoming primary: ${v.situation}` };
        }
        return { kind: "wait", why: `the controller switches ${xName} to primary (${v.plan ? "role change in progress" : "waiting for the roles to show it"})` };
      }
      if (!step.issued) {
        if (step.retryAtMs != null && atMs < step.retryAtMs) return { kind: "wait", why: s.waitingFor ?? `asking the controller again for the switchover to ${xName}` };
        if (x.readyForSwitchover !== 1 || y.readyForSwitchover !== 1) return { kind: "wait", why: `waiting for both servers to be ready for switchover again: ${[x, y].filter((a) => a.readyForSwitchover !== 1).map(readinessWords).join("; ")}` };
        return { kind: "act", action: { type: "switchover", toAppId: step.appId } };
      }
      return { kind: "wait", why: `waiting for the controller's answer to the switchover to ${xName}` };
    }
  }
}

function actionResult(s: UpgradeState, input: Extract<UpgradeInput, { type: "action-result" }>, notes: string[]): void {
  const inFlight = s.inFlight!;
  const step = s.steps[s.current];
  const a = input.action;
  if (s.status === "aborting") {
    if (a.type === "switchover" && input.ok && input.ordered) {
      // Ordered before the abort reached it: the role change runs to its end, and the abort waits for it.
      inFlight.ordered = true;
      notes.push(`W14 upgrade of ${s.pairName} (aborting): the switchover to ${nameIn(s, a.toAppId)} handed over before the abort was ordered; the abort waits for it: ${input.detail}`);
      return;
    }
    s.inFlight = null;
    // A start (the abort's, or the run's own handed over before the abort) is the one the abort waits for.
    if (a.type === "start") s.abortStart = { appId: a.appId, failed: !input.ok };
    // A stop that did not take leaves nothing to wait for.
    if (a.type === "stop" && !input.ok && step?.kind === "stop") step.issued = false;
    if (a.type === "start") notes.push(`W14 upgrade of ${s.pairName} (aborting): start ${nameIn(s, a.appId)} ${input.ok ? "ordered" : `failed: ${input.detail}`}`);
    else notes.push(`W14 upgrade of ${s.pairName} (aborting): the ${a.type} of ${nameIn(s, actionApp(a))} handed over before the abort ${input.ok ? "finished" : `failed: ${input.detail}`}`);
    if (a.type === "install") serverOf(s, a.appId)!.installOutput = boundOutput(input.output ?? input.detail);
    return;
  }
  if (a.type === "switchover" && input.ok && input.ordered) {
    inFlight.ordered = true;
    notes.push(`W14 upgrade of ${s.pairName}: switchover to ${nameIn(s, a.toAppId)} ordered: ${input.detail}`);
    return;
  }
  s.inFlight = null;
  if (!step) return;
  // The readiness the gate saw can be a moment older than the controller's (a server's link to its
  // restarted peer settling again): a refusal for a server not ready is asked again after a short wait,
  // a few times, before the run pauses.
  const refusals = step.notReadyRefusals ?? 0;
  if (a.type === "switchover" && input.ok && !input.ordered && NOT_READY_REFUSAL.test(input.detail) && refusals < SWITCHOVER_NOT_READY_RETRIES && s.status === "running") {
    step.issued = false;
    step.notReadyRefusals = refusals + 1;
    step.retryAtMs = input.atMs + SWITCHOVER_RETRY_WAIT_MS;
    s.waitingFor = `the controller found a server not ready for the switchover to ${nameIn(s, a.toAppId)}; asking again in ${SWITCHOVER_RETRY_WAIT_MS / 1000} s once both report ready (${refusals + 1} of ${SWITCHOVER_NOT_READY_RETRIES})`;
    notes.push(`W14 upgrade of ${s.pairName}: the controller did not switch over to ${nameIn(s, a.toAppId)}: ${input.detail} — asking again in ${SWITCHOVER_RETRY_WAIT_MS / 1000} s once both servers report ready (${refusals + 1} of ${SWITCHOVER_NOT_READY_RETRIES})`);
    return;
  }
  if (!input.ok || (a.type === "switchover" && !input.ordered)) {
    // Handed over again on resume (or, for an install, an operator may confirm it by hand).
    step.issued = false;
    if (a.type === "install") serverOf(s, a.appId)!.installOutput = boundOutput(input.output ?? input.detail);
    const why = a.type === "switchover" ? `the controller did not switch over to ${nameIn(s, a.toAppId)}: ${input.detail}` : `${a.type} ${nameIn(s, a.appId)} failed: ${input.detail}`;
    if (a.type === "switchover") {
      // A resume asks afresh (with its own retries for a server not ready).
      step.notReadyRefusals = 0;
      step.retryAtMs = null;
    }
    if (s.status === "running") {
      s.status = "paused";
      s.pausedReason = `${why}${a.type === "install" ? " — resume runs it again, or confirm the install by hand" : " — resume tries again"}`;
      s.waitingFor = null;
    }
    notes.push(`W14 upgrade of ${s.pairName} paused at ${where(s)}: ${why}`);
    return;
  }
  if (a.type === "install") {
    const srv = serverOf(s, a.appId)!;
    srv.installOutput = boundOutput(input.output ?? input.detail);
    finishStep(s, step, input.atMs, `install command of ${srv.appName} succeeded on ${srv.hostName}: ${input.detail}`, notes, step.by);
    return;
  }
  notes.push(`W14 upgrade of ${s.pairName}: ${a.type} ${nameIn(s, actionApp(a))} ordered: ${input.detail}`);
}

/** The server an action is about. */
export function actionApp(a: UpgradeAction): string {
  return a.type === "switchover" ? a.toAppId : a.appId;
}

/** Abort: whatever was handed over finishes, a server the run stopped is started again, then the run ends saying where each server stands. */
function abortProgress(s: UpgradeState, v: PairObservation, atMs: number, notes: string[], actions: UpgradeAction[]): void {
  if (s.inFlight) {
    // An ordered switchover runs to its end (a role change left half done is worse); other actions answer.
    if (s.inFlight.action.type === "switchover" && s.inFlight.ordered) {
      if (v.plan || v.epoch <= (s.inFlight.epochBefore ?? v.epoch)) {
        s.waitingFor = "waiting for the switchover already ordered to finish";
        return;
      }
      s.inFlight = null;
    } else {
      s.waitingFor = `waiting for the ${s.inFlight.action.type} handed over before the abort to finish`;
      return;
    }
  }
  // The run stops one server at a time: the one it stopped (if any) is started again — once it has
  // stopped, if its stop was ordered before the abort.
  const stopping = s.steps[s.current];
  if (stopping?.kind === "stop" && stopping.issued && stopping.status !== "done") {
    const x = serverView(v, stopping.appId);
    if (x && x.status !== "stopped" && x.status !== "failed") {
      s.waitingFor = `waiting for ${stopping.appName} to stop (ordered before the abort) before starting it again`;
      return;
    }
  }
  if (s.abortStart && !s.abortStart.failed) {
    // Started again: wait until it runs (or its start failed: then say so and end).
    const x = serverView(v, s.abortStart.appId);
    if (x && !runsAgain(x) && x.status !== "failed") {
      s.waitingFor = `waiting for ${nameIn(s, s.abortStart.appId)} to run again (it is ${x.status}${x.role === "unknown" ? ", role not reported yet" : ""})`;
      return;
    }
  } else if (!s.abortStart) {
    const stoppedByRun = s.steps.filter((st) => st.kind === "stop" && (st.status === "done" || st.issued)).map((st) => st.appId);
    const down = stoppedByRun.find((appId) => {
      const x = serverView(v, appId);
      return x !== null && (x.status === "stopped" || x.status === "failed");
    });
    if (down !== undefined) {
      s.abortStart = { appId: down, failed: false };
      s.inFlight = { action: { type: "start", appId: down }, sinceMs: atMs, epochBefore: null, ordered: false };
      s.waitingFor = `starting ${nameIn(s, down)} again`;
      actions.push({ type: "start", appId: down });
      return;
    }
    const coming = stoppedByRun.find((appId) => {
      const x = serverView(v, appId);
      return x !== null && (x.status === "starting" || (isServing(x) && !runsAgain(x)));
    });
    if (coming !== undefined) {
      s.waitingFor = `waiting for ${nameIn(s, coming)} to run again (it is starting)`;
      return;
    }
  }
  s.status = "aborted";
  s.endedAtMs = atMs;
  s.waitingFor = null;
  recordVersionsAfter(s, v);
  s.outcome = `${s.outcome ?? "aborted"}; ${serversNow(s, v)}`;
  for (const st of s.steps) if (st.status === "active" || st.status === "pending") st.result = st.status === "active" ? "not finished (aborted)" : "";
  notes.push(`W14 upgrade of ${s.pairName} ${s.outcome}`);
}

function finishStep(s: UpgradeState, step: UpgradeStep, atMs: number, why: string, notes: string[], by: string | null): void {
  step.status = "done";
  step.finishedAtMs = atMs;
  step.result = why;
  step.by = by;
  s.waitingFor = null;
  notes.push(`W14 upgrade of ${s.pairName}: step ${s.current + 1}/${s.steps.length} ${stepTitle(step)} done — ${why}`);
  s.current += 1;
}

function finishRun(s: UpgradeState, v: PairObservation, atMs: number, notes: string[]): void {
  s.status = "done";
  s.endedAtMs = atMs;
  s.waitingFor = null;
  recordVersionsAfter(s, v);
  s.outcome = `done: ${s.servers.map((srv) => `${srv.appName} ${versionWord(srv.versionBefore)} → ${versionWord(srv.versionAfter)}`).join(", ")}; ${serversNow(s, v)}`;
  notes.push(`W14 upgrade of ${s.pairName} ${s.outcome}`);
}

function recordVersionsAfter(s: UpgradeState, v: PairObservation): void {
  for (const srv of s.servers) srv.versionAfter = serverView(v, srv.appId)?.version ?? null;
}

/** "sip-a1 is primary, running, version 1.1.0; sip-a2 is backup, running, version 1.1.0" */
function serversNow(s: UpgradeState, v: PairObservation): string {
  return s.servers
    .map((srv) => {
      const x = serverView(v, srv.appId);
      if (!x) return `${srv.appName} was not seen`;
      const upgraded = s.steps.some((st) => st.appId === srv.appId && st.kind === "install" && st.status === "done");
      return `${srv.appName} is ${x.role}, ${x.status}${x.hostConnected ? "" : " (host disconnected)"}, version ${versionWord(x.version)}${upgraded ? " (upgraded)" : " (not upgraded)"}`;
    })
    .join("; ");
}

// ───────────────────────────── faults ─────────────────────────────

/** Something about the pair that no step of the upgrade may run through (the run pauses), or null. */
export function faultOf(s: UpgradeState, v: PairObservation): string | null {
  const step = s.steps[s.current];
  const ours = s.inFlight?.action.type === "switchover" && s.inFlight.ordered;
  const trouble = pairTrouble(v, ours ? "operator" : null);
  if (trouble) return trouble;
  if (!step) return null;
  const x = serverView(v, step.appId);
  const other = otherOf(s, step.appId);
  const y = serverView(v, other.appId);
  if (!x || !y) return "a server of the pair is no longer in it";
  const xName = step.appName;
  const yName = other.appName;
  const before = stepKinds.indexOf(step.kind);
  // Until the upgraded server is running again, its partner alone carries the service.
  if (before <= stepKinds.indexOf("start") && !(y.role === "primary" && isServing(y))) {
    return `${yName}, which carries the calls while ${xName} is upgraded, is ${y.role === "primary" ? y.status : `${y.role} (${y.status})`}: ${v.situation}`;
  }
  if (step.kind === "install" && x.status !== "stopped") return `${xName} was started while its new version was to be installed (it is ${x.status})`;
  if (step.kind === "start" && x.status === "failed") return `${xName} failed to start after its install`;
  if (before >= stepKinds.indexOf("ready-for-switchover")) {
    for (const [srv, name] of [[x, xName], [y, yName]] as const) {
      if (!isServing(srv) && srv.status !== "starting") return `${name} is ${srv.status}: ${v.situation}`;
    }
    if (!ours && !(x.role === "primary" || y.role === "primary")) return `no server of ${s.pairName} is primary: ${v.situation}`;
  }
  return null;
}

/** What makes a pair unfit for any upgrade step: maintenance, split brain, a held or automatic failover, a lost host. */
function pairTrouble(v: PairObservation, allowedPlanCause: string | null): string | null {
  if (v.maintenance) return `the pair is in maintenance (set by ${v.maintenance.by}: ${v.maintenance.reason}), so the controller would not fail it over`;
  if (v.splitBrain) return "both servers claim primary (split brain)";
  if (v.held) return `an automatic failover is held: ${v.situation}`;
  if (v.plan && v.plan.cause !== allowedPlanCause) return `the controller is changing roles (${v.plan.cause}): ${v.situation}`;
  const lost = v.servers.find((x) => !x.hostConnected);
  if (lost) return `the host of ${lost.name} is disconnected: ${v.situation}`;
  return null;
}

// ───────────────────────────── words and small helpers ─────────────────────────────

function isServing(x: ServerObservation): boolean {
  return x.status === "running" || x.status === "service-unavailable";
}

/** Back in the pair after a start: serving, and its role reported (a backup, as every start is). */
function runsAgain(x: ServerObservation): boolean {
  return isServing(x) && x.role !== "unknown";
}

function serverView(v: PairObservation, appId: string): ServerObservation | null {
  return v.servers.find((x) => x.appId === appId) ?? null;
}

function serverOf(s: UpgradeState, appId: string): UpgradeServer | undefined {
  return s.servers.find((x) => x.appId === appId);
}

function otherOf(s: UpgradeState, appId: string): UpgradeServer {
  return s.servers[0].appId === appId ? s.servers[1] : s.servers[0];
}

function nameIn(s: UpgradeState, appId: string): string {
  return serverOf(s, appId)?.appName ?? appId;
}

function sameAction(a: UpgradeAction, b: UpgradeAction): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function versionWord(v: string | null): string {
  return v ?? "unknown";
}

function readinessWords(x: ServerObservation): string {
  if (x.readyForSwitchover === null) return `${x.name}'s readiness is unknown`;
  return `${x.name} not ready${x.notReadyReasons.length ? ` (${x.notReadyReasons.join("; ")})` : ""}`;
}

/** "step 3/12 (install sip-a2)" */
function where(s: UpgradeState): string {
  const step = s.steps[s.current];
  return step ? `step ${s.current + 1}/${s.steps.length} (${stepTitle(step)})` : "its end";
}

function boundOutput(text: string): string {
  return text.length > INSTALL_OUTPUT_MAX_CHARS ? `[…] ${text.slice(-INSTALL_OUTPUT_MAX_CHARS)}` : text;
}
