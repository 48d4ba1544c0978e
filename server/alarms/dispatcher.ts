// Runs the reactions of an alarm condition when one of its alarms is raised (or cleared, for reactions
// that ask for it): in the background, bounded in number, each run recorded on the alarm, never
// blocking the engine. What a reaction acts through (switchovers, OS commands on a host) arrives as
// ports from the composition root.
import type { Db } from "../db";
import type { Actor } from "../audit/audit.repository";
import type { AgentCommandInput, CommandResult } from "../../protocol/agent-wire";
import type { HostLiveState } from "../agents/gateway";
import * as repo from "./alarms.repository";
import { defaultRetryDelayMs, runReaction, type AlarmNotice, type ReactionDeps } from "./reactions";
import type { Logger } from "../log";

/** Reactions running at once; beyond it a reaction is recorded as skipped rather than queued without bound. */
export const MAX_REACTIONS_IN_FLIGHT = 64;

const reactionActor: Actor = { id: null, name: "alarm reaction" };

/** What reactions act through. A null port means that kind of reaction cannot run on this console. */
export interface ReactionPorts {
  switchover: { switchOver(actor: Actor, pairId: string, opts: { force: boolean; reason: string }): Promise<string> } | null;
  agents: { host(hostName: string): HostLiveState | null; sendCommand(hostName: string, command: AgentCommandInput): Promise<CommandResult> } | null;
}

export interface ReactionDispatcherDeps {
  db: Db;
  log: Logger;
  ports: ReactionPorts;
  fetch?: ReactionDeps["fetch"];
  retryDelayMs?: ReactionDeps["retryDelayMs"];
  maxInFlight?: number;
  /** The id of a pair by name (reactions know the alarm's pair by name). */
  pairIdOf: (pairName: string) => Promise<string | null>;
  /** A reaction run was recorded (browsers refetch alarms). */
  onRecorded: () => void;
}

export class ReactionDispatcher {
  private reactionsByCondition = new Map<string, repo.ReactionView[]>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly maxInFlight: number;

  constructor(private readonly deps: ReactionDispatcherDeps) {
    this.maxInFlight = deps.maxInFlight ?? MAX_REACTIONS_IN_FLIGHT;
  }

  setReactions(reactions: repo.ReactionView[]): void {
    const byCondition = new Map<string, repo.ReactionView[]>();
    for (const r of reactions) {
      const list = byCondition.get(r.conditionId) ?? [];
      list.push(r);
      byCondition.set(r.conditionId, list);
    }
    this.reactionsByCondition = byCondition;
  }

  busy(): boolean {
    return this.inFlight.size > 0;
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  fire(alarmId: string, conditionId: string, trigger: "raise" | "clear"): void {
    const reactions = (this.reactionsByCondition.get(conditionId) ?? []).filter((r) => r.enabled && (trigger === "raise" || r.onClear));
    for (const r of reactions) {
      if (this.inFlight.size >= this.maxInFlight) {
        void repo
          .recordReactionRun(this.deps.db, { alarmId, reactionId: r.id, kind: r.kind, trigger, ok: false, detail: `skipped: ${this.maxInFlight} reactions already running` })
          .catch((err: unknown) => this.deps.log.error("recording a skipped reaction failed", { reaction: r.kind, alarmId, error: String(err) }));
        continue;
      }
      const p = this.react(alarmId, r, trigger)
        .catch((err: unknown) => this.deps.log.error("a reaction run was not recorded", { reaction: r.kind, alarmId, error: String(err) }))
        .finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  private async react(alarmId: string, r: repo.ReactionView, trigger: "raise" | "clear"): Promise<void> {
    const alarm = await repo.findAlarm(this.deps.db, alarmId);
    if (!alarm) return;
    const notice: AlarmNotice = {
      id: alarm.id,
      state: alarm.state === "active" ? "active" : "cleared",
      severity: alarm.severity,
      source: alarm.source,
      description: alarm.description,
      application: alarm.application,
      host: alarm.host,
      pair: alarm.pair,
      count: alarm.count,
      firstSeen: alarm.firstSeen.toISOString(),
      lastSeen: alarm.lastSeen.toISOString(),
      text: alarm.lastText,
      clearedHow: alarm.clearedHow,
      clearedBy: alarm.clearedBy,
      clearedAt: alarm.clearedAt?.toISOString() ?? null,
      clearComment: alarm.clearComment,
    };
    const { switchover } = this.deps.ports;
    const outcome = await runReaction(r.kind, r.settings, trigger, notice, {
      fetch: this.deps.fetch,
      retryDelayMs: this.deps.retryDelayMs ?? defaultRetryDelayMs,
      switchover: switchover
        ? async (pairName, reason) => {
            const pairId = await this.deps.pairIdOf(pairName);
            if (!pairId) throw new Error(`pair ${pairName} does not exist`);
            return switchover.switchOver(reactionActor, pairId, { force: false, reason });
          }
        : null,
      agents: this.deps.ports.agents,
    });
    await repo.recordReactionRun(this.deps.db, { alarmId, reactionId: r.id, kind: r.kind, trigger, ok: outcome.ok, detail: outcome.detail });
    // The detail quotes what came back (a webhook's answer, a command's output): a field, never the sentence.
    if (!outcome.ok) this.deps.log.warn("an alarm reaction failed", { reaction: r.kind, alarm: alarm.source, subject: alarm.application || alarm.host || alarm.pair, detail: outcome.detail });
    this.deps.onRecorded();
  }
}
