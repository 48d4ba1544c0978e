// Carries out W14 upgrade runs: feeds each run's pure procedure (procedure.ts) the pair's live view as
// the control plane pushes it (and once a second, so waits are judged on time), hands the actions it
// asks for to the operator paths that exist — start / stop through the controller, the switchover the
// controller gates on readiness, the install command through the host's agent (run-os-command) — and
// feeds their results back. Each run's inputs are handled one at a time, in order; every change is
// saved with its audit rows before its notes go to the pair's timeline and browsers are told. A console
// restart finds the runs it left in the database and pauses them (what was in flight is lost).
import type { Db } from "../db";
import { AppError, notFound } from "../errors";
import type { Actor, AuditRecord } from "../audit/audit.repository";
import type { ControlPlane } from "../control-plane/control-plane";
import type { OperationsService } from "../runtime/operations.service";
import type { PairView } from "../runtime/live-view";
import { splitCommandLine, OS_COMMAND_MAX_OUTPUT_CHARS } from "../../protocol/agent-wire";
import { logger, type Logger } from "../log";
import { activeRunStatuses, actionApp, startUpgrade, upgradeStep, type PairObservation, type UpgradeAction, type UpgradeInput, type UpgradeResult, type UpgradeState } from "./procedure";
import * as repo from "./upgrade.repository";

/** Active runs look at their pair this often even when nothing was pushed (a wait's reasons change with time). */
export const UPGRADE_OBSERVE_INTERVAL_MS = 1_000;
/** An install command's result is awaited its timeout plus this, for the agent's work around it. */
export const INSTALL_RESULT_MARGIN_MS = 10_000;

export interface UpgradeRunnerDeps {
  db: Db;
  controlPlane: ControlPlane;
  operations: OperationsService;
  now?: () => number;
  log?: Logger;
  observeIntervalMs?: number;
}

interface Active {
  id: string;
  state: UpgradeState;
  /** Who the automatic steps act as: the operator who started the run. */
  actor: Actor;
  /** Inputs of this run, one at a time. */
  tail: Promise<unknown>;
}

/** The pair's live view as the procedure reads it. */
export function observation(view: PairView): PairObservation {
  return {
    epoch: view.epoch,
    situation: view.situation,
    maintenance: view.maintenance ? { by: view.maintenance.by, reason: view.maintenance.reason } : null,
    splitBrain: view.splitBrain,
    plan: view.plan ? { cause: view.plan.cause } : null,
    held: view.hold !== null,
    servers: view.servers.map((s) => ({
      appId: s.appId,
      name: s.name,
      role: s.role,
      status: s.status,
      hostConnected: s.hostConnection === "connected",
      readyForSwitchover: s.readyForSwitchover,
      readyForUpgrade: s.readyForUpgrade,
      notReadyReasons: s.notReadyReasons,
      version: s.version,
    })),
  };
}

export class UpgradeRunner {
  private readonly runs = new Map<string, Active>();
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;
  /** Started: this console leads (or led); a follower that never did refuses new runs (the leader carries them out). */
  private started = false;
  /** Actions handed to the runner's I/O and not answered yet (shutdown waits for none of them). */
  private inFlight = 0;

  constructor(private readonly deps: UpgradeRunnerDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.log ?? logger("upgrade");
  }

  /**
   * Loads the runs a previous console left active (each is paused: what it had in flight went with it).
   * Called each time this console starts leading; stop() when it steps down, so that only the leader
   * drives a run (the new leader loads it paused, like after a restart).
   */
  async start(): Promise<void> {
    this.stopped = false;
    this.runs.clear();
    this.started = true;
    for (const row of await repo.activeRuns(this.deps.db)) {
      const run: Active = { id: row.id, state: row.state, actor: runActor(row.state), tail: Promise.resolve() };
      this.runs.set(row.id, run);
      await this.enqueue(run, { type: "console-restarted", atMs: this.now() });
    }
    this.unsubscribe = this.deps.controlPlane.subscribe({ onLive: (changed) => this.onViews(changed) });
    this.timer = setInterval(() => void this.observeAll().catch((err: unknown) => this.log.error("observing upgrade runs failed", { error: String(err) })), this.deps.observeIntervalMs ?? UPGRADE_OBSERVE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Called after something changed that browsers show (they refetch it and the pair's timeline); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops driving runs (this console stops or steps down): what is in flight is no longer recorded here. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    await Promise.all([...this.runs.values()].map((r) => r.tail.catch(() => undefined)));
    this.runs.clear();
  }

  /** Refuses what only the leading console does, naming it. */
  private notLeading(there: string): AppError {
    const leader = this.deps.controlPlane.cluster()?.leader;
    return new AppError("CONFLICT", `guided upgrades are carried out by the leading console${leader ? ` (${leader.id}${leader.webUrl ? `, ${leader.webUrl}` : ""})` : ""}: ${there}`);
  }

  /** The active run of a pair, if any. */
  activeRunOf(pairId: string): { id: string; state: UpgradeState } | null {
    for (const r of this.runs.values()) if (r.state.pairId === pairId) return { id: r.id, state: r.state };
    return null;
  }

  /** Starts a run on a pair (refused while another runs there, or while the pair is not healthy). */
  async begin(actor: Actor, pairId: string): Promise<{ id: string; state: UpgradeState }> {
    if (!this.deps.controlPlane.enabled) throw new AppError("CONFLICT", "the controller is not running on this console (SWITCHYARD_CONTROLLER=false): an upgrade needs it");
    if (!this.started) throw this.notLeading("start this one there");
    const pair = await this.deps.db.haPair.findUnique({
      where: { id: pairId },
      select: { id: true, name: true, primaryApp: { select: { id: true, name: true, host: { select: { name: true } } } }, backupApp: { select: { id: true, name: true, host: { select: { name: true } } } } },
    });
    if (!pair) throw notFound(`pair ${pairId}`);
    const existing = this.activeRunOf(pairId);
    if (existing) throw new AppError("CONFLICT", `an upgrade of ${pair.name} is already ${existing.state.status} (started by ${existing.state.startedBy}); resume or abort it first`);
    const view = (await this.deps.controlPlane.pairViews()).find((v) => v.id === pairId);
    if (!view) throw new AppError("CONFLICT", `the controller has no view of ${pair.name} yet; try again in a moment`);
    const apps = [pair.primaryApp, pair.backupApp];
    const commands = await repo.installCommands(this.deps.db, apps.map((a) => a.id));
    const started = startUpgrade({
      pairId,
      pairName: pair.name,
      by: actor.name,
      atMs: this.now(),
      view: observation(view),
      servers: apps.map((a) => ({ appId: a.id, appName: a.name, hostName: a.host.name, installCommand: commands.find((c) => c.applicationId === a.id)?.command ?? null })),
    });
    if ("refused" in started) throw new AppError("CONFLICT", started.refused);
    const runActorNow = runActor(started.state);
    const row = await repo.createRun(this.deps.db, started.state, actor, [
      { action: "upgrade.start", objectType: "upgrade", objectName: pair.name, after: { order: started.state.servers.map((s) => s.appName), install: started.state.servers.map((s) => s.install) }, detail: started.notes[0] ?? "" },
      ...started.notes.slice(1).map((n) => this.noteAudit(started.state, n)),
    ]);
    const run: Active = { id: row.id, state: started.state, actor: runActorNow, tail: Promise.resolve() };
    this.runs.set(row.id, run);
    await this.tell(run, started.notes);
    this.carryOut(run, started.actions);
    return { id: row.id, state: run.state };
  }

  /** An operator's command on a run: pause, resume, abort, or "installed" for the server waiting for it. */
  async command(actor: Actor, runId: string, cmd: { type: "pause" | "resume" | "abort" } | { type: "confirm-installed"; appId: string }): Promise<UpgradeState> {
    const run = this.runs.get(runId);
    if (!run) {
      const row = await repo.findRun(this.deps.db, runId);
      if (!row) throw notFound(`upgrade run ${runId}`);
      if (!this.started && activeRunStatuses.includes(row.status as UpgradeState["status"])) throw this.notLeading("do this there");
      throw new AppError("CONFLICT", `the upgrade of ${row.state.pairName} is ${row.status}: nothing more can be done with it`);
    }
    const input: UpgradeInput = cmd.type === "confirm-installed" ? { type: cmd.type, appId: cmd.appId, by: actor.name, atMs: this.now() } : { type: cmd.type, by: actor.name, atMs: this.now() };
    const r = await this.enqueue(run, input, { actor, action: `upgrade.${cmd.type}` });
    if (r.refused) throw new AppError("CONFLICT", r.refused);
    return r.state;
  }

  // ---- inputs --------------------------------------------------------------------------------

  private onViews(changed: PairView[]): void {
    for (const view of changed) {
      for (const run of this.runs.values()) {
        if (run.state.pairId !== view.id) continue;
        void this.enqueue(run, { type: "observe", view: observation(view), atMs: this.now() }).catch((err: unknown) => this.log.error("an upgrade run could not take the pair's view", { run: run.id, error: String(err) }));
      }
    }
  }

  private async observeAll(): Promise<void> {
    if (this.runs.size === 0) return;
    const views = await this.deps.controlPlane.pairViews();
    await Promise.all(
      [...this.runs.values()].map((run) => {
        const view = views.find((v) => v.id === run.state.pairId);
        return view ? this.enqueue(run, { type: "observe", view: observation(view), atMs: this.now() }) : undefined;
      }),
    );
  }

  /**
   * One input through the run's procedure, after those before it: saves the new state with its audit
   * rows (the operator's command, one per note), then writes the notes to the timeline and hands over
   * the actions. A refused input changes nothing.
   */
  private enqueue(run: Active, input: UpgradeInput, by?: { actor: Actor; action: string }): Promise<UpgradeResult> {
    const next = run.tail.then(async () => {
      const r = upgradeStep(run.state, input);
      const commandAudit = (detail: string, refused: boolean) =>
        by ? [{ actor: by.actor, record: { action: `${by.action}${refused ? "-refused" : ""}`, objectType: "upgrade", objectId: run.id, objectName: run.state.pairName, detail } }] : [];
      if (r.refused) {
        if (by) await repo.saveRun(this.deps.db, run.id, run.state, commandAudit(r.refused, true));
        return r;
      }
      const changed = JSON.stringify(stripView(r.state)) !== JSON.stringify(stripView(run.state));
      if (!changed && r.actions.length === 0 && r.notes.length === 0 && !by) {
        run.state = r.state; // a new view only: not worth a write every second
        return r;
      }
      await repo.saveRun(this.deps.db, run.id, r.state, [...commandAudit(r.notes.join("; "), false), ...r.notes.map((n) => ({ actor: run.actor, record: this.noteAudit(r.state, n, run.id) }))]);
      run.state = r.state;
      if (!activeRunStatuses.includes(r.state.status)) this.runs.delete(run.id);
      await this.tell(run, r.notes);
      this.carryOut(run, r.actions);
      return r;
    });
    run.tail = next.catch(() => undefined);
    return next;
  }

  private noteAudit(state: UpgradeState, note: string, runId?: string): AuditRecord {
    return { action: "upgrade.step", objectType: "upgrade", objectId: runId ?? null, objectName: state.pairName, detail: note };
  }

  /** The notes go to the pair's timeline (written by the control plane, like every timeline row). */
  private async tell(run: Active, notes: string[]): Promise<void> {
    for (const text of notes) {
      await this.deps.controlPlane.note(run.state.pairId, text).catch((err: unknown) => this.log.warn("a timeline note of an upgrade was not written", { run: run.id, error: String(err) }));
    }
    for (const l of this.listeners) l();
  }

  // ---- actions -------------------------------------------------------------------------------

  private carryOut(run: Active, actions: UpgradeAction[]): void {
    for (const action of actions) {
      this.inFlight++;
      void this.execute(run, action)
        .then(
          (r) => r,
          (err: unknown) => ({ ok: false, detail: err instanceof Error ? err.message : String(err) }) as ActionOutcome,
        )
        .then((r) => {
          this.inFlight--;
          if (this.stopped) return;
          return this.enqueue(run, { type: "action-result", action, ok: r.ok, detail: r.detail, output: r.output, ordered: r.ordered, atMs: this.now() }).then(() => undefined);
        })
        .catch((err: unknown) => this.log.error("an upgrade action's result could not be recorded", { run: run.id, action: action.type, error: String(err) }));
    }
  }

  private async execute(run: Active, action: UpgradeAction): Promise<ActionOutcome> {
    const ops = this.deps.operations;
    switch (action.type) {
      case "stop":
      case "start":
        return { ok: true, detail: await ops.controlApplication(run.actor, action.appId, action.type) };
      case "switchover": {
        const outcome = await ops.switchOverOutcome(run.actor, run.state.pairId, { force: false, reason: `W14 upgrade of ${run.state.pairName}` });
        return { ok: true, detail: outcome.sentence, ordered: outcome.ordered };
      }
      case "install":
        return this.install(run, action.appId);
    }
  }

  /** The application's install command (as configured when the run started), run by its host's agent without a shell. */
  private async install(run: Active, appId: string): Promise<ActionOutcome> {
    const server = run.state.servers.find((s) => s.appId === actionApp({ type: "install", appId }))!;
    const configured = await repo.installCommand(this.deps.db, appId);
    const line = server.install.command ?? configured?.command;
    if (!line) return { ok: false, detail: `${server.appName} has no install command any more` };
    const timeoutMs = configured?.timeoutMs ?? 300_000;
    const host = this.deps.controlPlane.host(server.hostName);
    if (!host || host.state !== "connected") return { ok: false, detail: `${server.hostName} has no agent connected (${host?.reason ?? "never connected"}); the install command was not run` };
    const result = await this.deps.controlPlane.sendCommand(server.hostName, {
      id: `upgrade-install-${run.id}-${appId}-${this.now()}`,
      type: "run-os-command",
      argv: splitCommandLine(line),
      timeoutMs,
      reason: `W14 upgrade of ${run.state.pairName}: install ${server.appName}`,
      deadline: new Date(this.now() + timeoutMs + INSTALL_RESULT_MARGIN_MS).toISOString(),
    });
    const out = result.scripts[0];
    const output = out ? [out.stdout.trim() && `stdout:\n${out.stdout.trim()}`, out.stderr.trim() && `stderr:\n${out.stderr.trim()}`].filter(Boolean).join("\n").slice(-OS_COMMAND_MAX_OUTPUT_CHARS) : "";
    return { ok: result.outcome === "ok", detail: `${result.outcome}: ${result.reason}`, output };
  }
}

interface ActionOutcome {
  ok: boolean;
  detail: string;
  output?: string;
  ordered?: boolean;
}

/** Whom a run's automatic steps act as, in the audit log and the controller's sentences. */
function runActor(state: UpgradeState): Actor {
  return { id: null, name: `${state.startedBy} (W14 upgrade)` };
}

/** A run's state without the last view (which changes every second without changing the run). */
function stripView(state: UpgradeState): Omit<UpgradeState, "lastView"> {
  const { lastView: _lastView, ...rest } = state;
  return rest;
}
