// The controller's shell without I/O: what the runner does between the agents and the pure core, as a
// synchronous object the deterministic simulation drives exactly as production does. It turns what an
// agent says (wire messages, by name) into core events (by id) — refusing anything a host says about an
// application that is not its own —, steps the core, and turns the core's output into what must be
// persisted before anything is sent (epochs, intended primaries, timeline rows) and the wire commands
// for each host. The runner (runner.ts) adds the queue, the database and the gateway around it.
import type {
  GatewayCommand,
  AppStatusMessage,
  CommandResult,
  ReadinessReport,
  Resync,
  RoleReport,
} from "../../protocol/agent-wire";
import {
  createControllerState,
  pairsInScope,
  persistedPairView,
  stepInPlace,
  type CancelAlarmCommand,
  type ControllerCommand,
  type ControllerEvent,
  type ControllerState,
  type Decision,
  type PairConfig,
  type PersistedPairState,
  type RaiseAlarmCommand,
  type StepFunction,
  type Timing,
} from "../controller/core";
import type { Directory } from "../config/directory";
import { planEndings, type PlanEnding } from "./plan-endings";
import { STALL_TOLERANCE_MS } from "../agents/liveness";

/** One timeline row (what the runner writes to the pair's history). */
export interface HistoryRow {
  pairId: string;
  epoch: number;
  /** procedure: a step of a guided procedure (a W14 upgrade, a scheduled switchover), told by the web tier. */
  kind: "decision" | "alarm" | "command" | "command-result" | "operator" | "procedure";
  text: string;
  data: unknown;
}

/** What happened, as the shell is told it (host and application by name, as agents speak). */
export type ShellInput =
  | { kind: "host-connected"; hostName: string }
  | { kind: "host-disconnected"; hostName: string; detail: string }
  | { kind: "resync"; hostName: string; snapshot: Resync }
  | { kind: "app-status"; hostName: string; msg: AppStatusMessage }
  | { kind: "role-report"; hostName: string; msg: RoleReport }
  | { kind: "readiness"; hostName: string; msg: ReadinessReport }
  | { kind: "command-result"; hostName: string; result: CommandResult }
  | { kind: "command-receipt"; hostName: string; commandId: string }
  | { kind: "tick" }
  | { kind: "operator-switchover"; pairId: string; operator: string; force: boolean; reason: string }
  | { kind: "operator-application"; appId: string; action: "start" | "stop"; operator: string }
  | { kind: "operator-maintenance"; pairId: string; operator: string; on: boolean; reason: string; untilMs: number | null }
  /** A row for the pair's timeline from a guided procedure of the web tier; the core is not stepped. */
  | { kind: "note"; pairId: string; text: string }
  | { kind: "config"; pairs: PairConfig[]; directory: Directory };

/** A wire command for one host (the runner hands it to the gateway, after persisting). */
export interface OutgoingCommand {
  hostName: string;
  command: GatewayCommand;
  /** The core command it carries (for results and operator requests). */
  origin: ControllerCommand["type"];
  appId: string | null;
  /** The pair it is for, and what it does in words ("set-role sip-2 → primary (epoch 5) on host-2"), for the console's log. */
  pairId: string;
  text: string;
}

export interface ShellOutput {
  /** The core's decision sentences, or what the input showed when nothing was decided. */
  reason: string;
  decisions: Decision[];
  /** Persist these BEFORE sending any command (then call confirmPersisted). Null: nothing to write. */
  persist: { pairs: Record<string, PersistedPairState>; history: HistoryRow[] } | null;
  send: OutgoingCommand[];
  alarms: (RaiseAlarmCommand | CancelAlarmCommand)[];
  /** Why the input was refused (a host speaking for an application that is not its own), or null. */
  refused: string | null;
  /** The core stepped on something other than a quiet tick (the live views may have changed). */
  changed: boolean;
  /** Plans that ended in this step, with how (for /metrics: counts and durations). */
  planEnds: PlanEnding[];
  /**
   * Commands of plans that ended in this step without completing (abandoned, superseded, cancelled) that
   * are still waiting to be sent: the gateway drops them (withdrawCommand) so they do not go out when
   * their host connects — a promotion of an abandoned plan, delivered when the host's agent came back,
   * made a second primary (found by the simulation: an agent restart, then its host lost).
   */
  withdraw: { hostName: string; commandId: string; why: string }[];
}

export interface ShellOptions {
  pairs: PairConfig[];
  directory: Directory;
  persisted: Record<string, PersistedPairState>;
  nowMs: number;
  timing?: Partial<Timing>;
  /** The core under test (the simulation injects broken ones); production uses the real one. */
  step?: StepFunction;
}

/** A command result arriving for a command the shell sent: which core command it answers. */
interface Sent {
  command: ControllerCommand;
  hostName: string;
}

/** Results of commands sent long ago are forgotten beyond this many (bounded memory). */
export const MAX_REMEMBERED_COMMANDS = 5000;

export class ControllerShell {
  private core: ControllerState;
  protected directory: Directory;
  private readonly stepFn: StepFunction;
  private lastPersisted: Record<string, PersistedPairState>;
  private readonly sent = new Map<string, Sent>();
  /** Pairs whose state may have changed since takeChangedPairs() was last called (for live views). */
  private changedPairs = new Set<string>();
  /** Pairs whose persisted part was handed out to save and not confirmed yet. */
  private readonly unconfirmed = new Set<string>();
  private pairs: PairConfig[];
  /** When the last tick came: ticks stop only when the console itself stops running (a stall). */
  private lastTickAtMs: number;

  constructor(opts: ShellOptions) {
    // The shell owns its state and keeps no earlier one: the core may change it in place.
    this.stepFn = opts.step ?? stepInPlace;
    this.directory = opts.directory;
    this.pairs = opts.pairs;
    this.lastPersisted = { ...opts.persisted };
    this.core = createControllerState({ nowMs: opts.nowMs, pairs: opts.pairs, persisted: opts.persisted, timing: opts.timing });
    this.lastTickAtMs = opts.nowMs;
  }

  /**
   * Ticks come every tickIntervalMs while the console runs; a longer gap before any input means the
   * console was stalled (the same tolerance as the gateway's liveness). The core hears of it first, so
   * the agents' messages that waited in the console's sockets are not taken for missing agents.
   */
  private stallEvents(input: ShellInput, nowMs: number): ControllerEvent[] {
    const gapMs = nowMs - this.lastTickAtMs;
    const stalledMs = gapMs - this.core.timing.tickIntervalMs;
    if (input.kind === "tick" || stalledMs > STALL_TOLERANCE_MS) this.lastTickAtMs = nowMs;
    return stalledMs > STALL_TOLERANCE_MS ? [{ type: "console-stalled", atMs: nowMs, stalledMs }] : [];
  }

  get state(): ControllerState {
    return this.core;
  }

  /** The pair configurations the core runs with. */
  get pairConfigs(): readonly PairConfig[] {
    return this.pairs;
  }

  /** The pairs whose state may have changed since the last call (every step's scope since then). */
  takeChangedPairs(): Set<string> {
    const out = this.changedPairs;
    this.changedPairs = new Set();
    return out;
  }

  /** The runner wrote `persist` of an earlier output: the next diff starts from it. */
  confirmPersisted(pairs: Record<string, PersistedPairState>): void {
    for (const [id, p] of Object.entries(pairs)) {
      this.lastPersisted[id] = p;
      this.unconfirmed.delete(id);
    }
  }

  handle(input: ShellInput, nowMs: number): ShellOutput {
    const out: ShellOutput = { reason: "", decisions: [], persist: null, send: [], alarms: [], refused: null, changed: false, planEnds: [], withdraw: [] };
    const inputEvents = this.events(input, nowMs, out);
    if (out.refused !== null) {
      out.reason = out.refused;
      return out;
    }
    const events = [...this.stallEvents(input, nowMs), ...inputEvents];
    const reasons: string[] = [];
    const history: HistoryRow[] = [];
    const scopes: (readonly string[] | "all")[] = [];
    for (const event of events) {
      // The in-place step changes the state it is given: keep what planEndings compares (each plan of
      // the pairs the step may change; a new plan is a new object, an ended one is set to null).
      const before = this.stepFn === stepInPlace ? plansBefore(this.core, pairsInScope(this.core, event)) : this.core;
      const result = this.stepFn(this.core, event);
      this.core = result.state;
      scopes.push(result.scope ?? "all");
      const ended = planEndings(before, result.state, result.commands, event);
      out.planEnds.push(...ended);
      for (const end of ended) {
        if (end.outcome === "completed") continue;
        for (const st of before.pairStates[end.pairId]?.plan?.steps ?? []) {
          const hostName = st.status === "sent" ? this.sent.get(st.command.commandId)?.hostName : undefined;
          if (hostName) out.withdraw.push({ hostName, commandId: st.command.commandId, why: `its plan (epoch ${end.epoch}) was ${end.outcome}` });
        }
      }
      reasons.push(result.reason);
      out.decisions.push(...result.decisions);
      if (event.type !== "tick" || result.commands.length > 0 || result.decisions.length > 0) out.changed = true;
      if (event.type === "operator-switchover") {
        const text = result.decisions.find((d) => d.pairId === event.pairId)?.sentence ?? `switchover requested by ${event.operator}`;
        history.push({ pairId: event.pairId, epoch: this.core.pairStates[event.pairId]?.epoch ?? 0, kind: "operator", text: `${event.operator} asked for a ${event.force ? "forced " : ""}switchover${event.reason ? ` (${event.reason})` : ""}: ${text}`, data: null });
      }
      for (const c of result.commands) this.translate(c, nowMs, out, history);
    }
    if (input.kind === "command-result") {
      const row = this.resultRow(input.result);
      if (row) history.push(row);
    }
    if (input.kind === "note" && this.core.pairStates[input.pairId]) {
      history.push({ pairId: input.pairId, epoch: this.core.pairStates[input.pairId]!.epoch, kind: "procedure", text: input.text, data: null });
    }
    out.reason = reasons.filter((r) => r !== "tick: nothing to decide").join("; ") || reasons.join("; ");
    // Only pairs in the steps' scope can have changed.
    // Plus those handed out to persist and not confirmed yet (a save that failed is diffed again).
    const stepped = scopes.includes("all") ? Object.keys(this.core.pairStates) : scopes.flatMap((sc) => sc as readonly string[]);
    for (const id of stepped) this.changedPairs.add(id);
    const changed = [...new Set([...stepped, ...this.unconfirmed])]
      .filter((id) => this.core.pairStates[id])
      .map((id): [string, PersistedPairState] => [id, persistedPairView(this.core, id)])
      .filter(([id, p]) => !samePersisted(this.lastPersisted[id], p));
    for (const [id] of changed) this.unconfirmed.add(id);
    if (changed.length || history.length) out.persist = { pairs: Object.fromEntries(changed), history };
    return out;
  }

  // ---- input → core events ----------------------------------------------------------------

  private events(input: ShellInput, atMs: number, out: ShellOutput): ControllerEvent[] {
    switch (input.kind) {
      case "config":
        this.directory = input.directory;
        this.pairs = input.pairs;
        return [{ type: "config-loaded", atMs, pairs: input.pairs }];
      case "host-connected":
      case "host-disconnected": {
        const hostId = this.directory.hostsByName.get(input.hostName)?.id;
        if (!hostId) return [];
        return input.kind === "host-connected" ? [{ type: "agent-connected", atMs, hostId }] : [{ type: "agent-disconnected", atMs, hostId, detail: input.detail }];
      }
      case "resync":
        return this.resyncEvents(input.hostName, input.snapshot, atMs, out);
      case "app-status": {
        const ids = this.own(input.hostName, input.msg.application, out);
        return ids ? [{ type: "application-status", atMs, ...ids, status: input.msg.status, detail: input.msg.detail, sentAtMs: Date.parse(input.msg.time) }] : [];
      }
      case "role-report": {
        const ids = this.own(input.hostName, input.msg.application, out);
        return ids ? [{ type: "role-report", atMs, ...ids, role: input.msg.role, epoch: input.msg.epoch, sentAtMs: Date.parse(input.msg.time) }] : [];
      }
      case "readiness": {
        const ids = this.own(input.hostName, input.msg.application, out);
        return ids ? readinessEvents(ids, input.msg, atMs) : [];
      }
      case "command-receipt": {
        const sent = this.sent.get(input.commandId);
        if (!sent || sent.hostName !== input.hostName) return [];
        return [{ type: "command-delivered", atMs, commandId: input.commandId }];
      }
      case "command-result":
        return this.resultEvents(input.hostName, input.result, atMs, out);
      case "tick":
        return [{ type: "tick", atMs }];
      case "operator-switchover":
        return [{ type: "operator-switchover", atMs, pairId: input.pairId, operator: input.operator, force: input.force, reason: input.reason }];
      case "operator-application":
        return [{ type: "operator-application", atMs, appId: input.appId, action: input.action, operator: input.operator }];
      case "operator-maintenance":
        return [{ type: "operator-maintenance", atMs, pairId: input.pairId, operator: input.operator, on: input.on, reason: input.reason, untilMs: input.untilMs }];
      case "note":
        return [];
    }
  }

  /**
   * The application's ids when it runs on this host; otherwise the input is refused (trust per host).
   * Protected: the simulation overrides it with a broken one to show its invariant catches it.
   */
  protected own(hostName: string, appName: string, out: ShellOutput): { hostId: string; appId: string } | null {
    const host = this.directory.hostsByName.get(hostName);
    const app = this.directory.appsByName.get(appName);
    if (!host || !app) return null; // not in the configuration: nothing to say about it
    if (app.hostName !== hostName) {
      out.refused = `host ${hostName} reported on ${appName}, which runs on ${app.hostName}: refused (an agent speaks only for its own host)`;
      return null;
    }
    return { hostId: host.id, appId: app.id };
  }

  private resyncEvents(hostName: string, snap: Resync, atMs: number, out: ShellOutput): ControllerEvent[] {
    const hostId = this.directory.hostsByName.get(hostName)?.id;
    if (!hostId) return [];
    const events: ControllerEvent[] = [{ type: "host-resync", atMs, hostId, agentIncarnation: snap.agentStartedAt }];
    for (const app of snap.applications) {
      const ids = this.own(hostName, app.application, out);
      if (out.refused !== null) return [];
      if (!ids) continue;
      // The core takes a reconnected host's reports afresh (it forgot their order stamps), so the
      // snapshot's own times are fine even when older than what the agent sent before.
      const since = Date.parse(app.since);
      // Readiness before status and role: the last of a resync's reports completes the picture a fresh
      // controller decides on (recovery, a switchover to finish), and a candidate's readiness must be in it.
      if (app.readiness) events.push(...readinessEvents(ids, app.readiness, atMs));
      events.push({ type: "application-status", atMs, ...ids, status: app.status, detail: app.detail, sentAtMs: since });
      if (app.role !== null && app.roleEpoch !== null) events.push({ type: "role-report", atMs, ...ids, role: app.role, epoch: app.roleEpoch, sentAtMs: since });
    }
    return events;
  }

  private resultEvents(hostName: string, result: CommandResult, atMs: number, out: ShellOutput): ControllerEvent[] {
    const sent = this.sent.get(result.commandId);
    if (!sent) return []; // not ours (an earlier console's, or long forgotten)
    if (sent.hostName !== hostName) {
      out.refused = `host ${hostName} sent a result for command ${result.commandId}, which was sent to ${sent.hostName}: refused`;
      return [];
    }
    const c = sent.command;
    const ok = result.outcome === "ok";
    const events: ControllerEvent[] = [];
    if (c.type === "run-control-script") {
      if (result.outcome !== "no-answer") {
        events.push({ type: "control-script-result", atMs, commandId: c.commandId, pairId: c.pairId, hostId: c.hostId, action: c.action, ok, detail: result.reason });
      }
    }
    if (c.type === "set-role" || c.type === "run-control-script") {
      if (result.outcome === "no-answer") events.push({ type: "command-timeout", atMs, commandId: c.commandId });
      else events.push({ type: "command-result", atMs, commandId: c.commandId, ok, ...(result.heldEpoch != null ? { heldEpoch: result.heldEpoch } : {}), detail: `${result.outcome}: ${result.reason}` });
    }
    // A set-role the server acknowledged is also the server's report of its new role (the core counts
    // a role step done on the role report, DECISIONS.md).
    if (c.type === "set-role" && ok) {
      events.push({ type: "role-report", atMs, hostId: c.hostId, appId: c.appId, role: c.role, epoch: c.epoch, sentAtMs: Date.parse(result.finishedAt) });
    }
    return events;
  }

  private resultRow(result: CommandResult): HistoryRow | null {
    const sent = this.sent.get(result.commandId);
    if (!sent) return null;
    const c = sent.command;
    if (c.type !== "set-role" && c.type !== "run-control-script" && c.type !== "start-application" && c.type !== "stop-application") return null;
    return { pairId: c.pairId, epoch: c.epoch, kind: "command-result", text: `${this.describe(c)}: ${result.outcome} — ${result.reason}`, data: { commandId: c.commandId, outcome: result.outcome, scripts: result.scripts } };
  }

  // ---- core output → rows and wire commands -------------------------------------------------

  private translate(c: ControllerCommand, nowMs: number, out: ShellOutput, history: HistoryRow[]): void {
    switch (c.type) {
      case "record-history":
        history.push({ pairId: c.pairId, epoch: c.epoch, kind: "decision", text: c.text, data: null });
        return;
      case "raise-alarm":
      case "cancel-alarm":
        history.push({ pairId: c.pairId, epoch: this.core.pairStates[c.pairId]?.epoch ?? 0, kind: "alarm", text: `${c.type === "raise-alarm" ? "alarm raised" : "alarm cancelled"} (${c.kind}): ${c.text}`, data: null });
        out.alarms.push(c);
        return;
      default: {
        const wire = this.wireCommand(c, nowMs);
        if (!wire) return;
        this.remember(c.commandId, { command: c, hostName: wire.hostName });
        history.push({ pairId: c.pairId, epoch: c.epoch, kind: "command", text: `sent ${wire.text}`, data: { commandId: c.commandId } });
        out.send.push(wire);
      }
    }
  }

  /** The wire command for a core command (protected: the simulation breaks it on purpose to show what catches it). */
  protected wireCommand(c: Exclude<ControllerCommand, { type: "record-history" | "raise-alarm" | "cancel-alarm" }>, nowMs: number): OutgoingCommand | null {
    const hostName = this.directory.hostsById.get(c.hostId)?.name;
    const pair = this.core.pairs[c.pairId];
    if (!hostName || !pair) return null;
    const appId = c.type === "run-control-script" ? pair.apps.find((a) => a.hostId === c.hostId)?.appId : c.appId;
    const appName = appId ? this.directory.appsById.get(appId)?.name : undefined;
    if (!appId || !appName) return null;
    const timing = this.core.timing;
    const base = { id: c.commandId, application: appName, pairEpoch: c.epoch };
    const deadline = (ms: number) => new Date(nowMs + ms).toISOString();
    const said = { hostName, appId, origin: c.type, pairId: c.pairId, text: this.describe(c) };
    switch (c.type) {
      case "set-role": {
        const thenEnable = c.thenEnable ? { thenEnable: { id: c.thenEnable, reason: `epoch ${c.epoch}, with the promotion of ${appName}` } } : {};
        return { ...said, command: { ...base, type: "set-role", role: c.role, ...thenEnable, deadline: deadline(timing.switchoverTimeoutMs) } };
      }
      case "run-control-script":
        return { ...said, command: { ...base, type: "run-control-script", action: c.action, reason: `epoch ${c.epoch}`, deadline: deadline(pair.scriptTimeoutMs + timing.scriptResultMarginMs + timing.switchoverTimeoutMs) } };
      case "start-application":
        return { ...said, command: { ...base, type: "start", role: c.role, deadline: deadline(APPLICATION_COMMAND_DEADLINE_MS) } };
      case "stop-application":
        return { ...said, command: { ...base, type: "stop", deadline: deadline(APPLICATION_COMMAND_DEADLINE_MS) } };
    }
  }

  private describe(c: Exclude<ControllerCommand, { type: "record-history" | "raise-alarm" | "cancel-alarm" }>): string {
    const host = this.directory.hostsById.get(c.hostId)?.name ?? c.hostId;
    const app = (id: string) => this.directory.appsById.get(id)?.name ?? id;
    switch (c.type) {
      case "set-role":
        return `set-role ${app(c.appId)} → ${c.role} (epoch ${c.epoch}) on ${host}`;
      case "run-control-script":
        return `${c.action} ${c.target === "vip" ? "VIP" : "NLB port"} on ${host} (epoch ${c.epoch})`;
      case "start-application":
        return `start ${app(c.appId)} as ${c.role} (epoch ${c.epoch}) on ${host}`;
      case "stop-application":
        return `stop ${app(c.appId)} (epoch ${c.epoch}) on ${host}`;
    }
  }

  private remember(commandId: string, sent: Sent): void {
    this.sent.delete(commandId);
    this.sent.set(commandId, sent);
    while (this.sent.size > MAX_REMEMBERED_COMMANDS) {
      const oldest = this.sent.keys().next().value;
      if (oldest === undefined) break;
      this.sent.delete(oldest);
    }
  }
}

/** How long a start or stop may take to reach its agent and be carried out. */
export const APPLICATION_COMMAND_DEADLINE_MS = 30_000;

/**
 * Calls not yet synchronised between the two servers, as the app contract's `calls` reports them: a
 * backup's total is its primary's call count and synced how many of those it holds; a primary's synced
 * is how many of its non-multisite calls the backup confirmed (multisite calls are never synchronised).
 */
function unsyncedCallsOf(r: NonNullable<ReadinessReport["report"]>): number {
  const { total, synced, multisite } = r.calls;
  return Math.max(0, r.role === "backup" ? total - synced : total - multisite - synced);
}

/** A readiness report is two facts: readiness (and the SIP listener), and the server's own status (W4/W5). */
function readinessEvents(ids: { hostId: string; appId: string }, msg: ReadinessReport, atMs: number): ControllerEvent[] {
  const sentAtMs = Date.parse(msg.time);
  const r = msg.report;
  const events: ControllerEvent[] = [
    {
      type: "readiness-report",
      atMs,
      ...ids,
      readyForSwitchover: r ? r.readyForSwitchover : 0,
      ...(r ? { readyForUpgrade: r.readyForUpgrade } : {}),
      notReadyReasons: r ? r.notReadyReasons : [`readiness unknown: ${msg.error ?? "no report"}`],
      unsyncedCalls: r ? unsyncedCallsOf(r) : null,
      pollFailed: r === null,
      haLink: r ? r.haLink : "unknown",
      sipListener: r ? r.sipListener : "unknown",
      sentAtMs,
    },
  ];
  if (r) {
    events.push({
      type: "application-status",
      atMs,
      ...ids,
      status: r.status === "service-unavailable" ? "service-unavailable" : "running",
      oosBackoff: r.oosBackoff,
      detail: r.status === "service-unavailable" ? "the server reports SERVICE_UNAVAILABLE" : "",
      sentAtMs,
    });
  }
  return events;
}

function samePersisted(a: PersistedPairState | undefined, b: PersistedPairState): boolean {
  return (
    !!a &&
    a.epoch === b.epoch &&
    a.intendedPrimaryAppId === b.intendedPrimaryAppId &&
    a.stoppedAppIds.join(",") === b.stoppedAppIds.join(",") &&
    JSON.stringify(a.maintenance ?? null) === JSON.stringify(b.maintenance ?? null)
  );
}

/** The pairs' plans as they are before an in-place step (a state planEndings can compare with after it). */
function plansBefore(s: ControllerState, scope: readonly string[] | "all"): ControllerState {
  const pairStates: ControllerState["pairStates"] = {};
  for (const id of scope === "all" ? Object.keys(s.pairStates) : scope) {
    const ps = s.pairStates[id];
    if (ps?.plan) pairStates[id] = { ...ps };
  }
  return { ...s, pairStates };
}
