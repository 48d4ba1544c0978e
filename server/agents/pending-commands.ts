// Delivery bookkeeping for console → agent commands: one entry per command id until its result
// arrives or its deadline passes, re-sends with the same id (the agent answers a repeat with the first
// result), and a bounded memory of finished results so a repeated sendCommand or a late, duplicated
// result is answered from memory. Time is injected; the gateway drives tick().
import { commandSubject, type AgentCommand, type CommandResult } from "../../protocol/agent-wire";

/** Finished results remembered for idempotent sendCommand calls and late duplicates. */
export const MAX_REMEMBERED_RESULTS = 2000;

interface Pending {
  hostName: string;
  command: AgentCommand;
  deadlineMs: number;
  sends: number;
  lastSentMs: number | null;
  promise: Promise<CommandResult>;
  resolve: (r: CommandResult) => void;
}

export interface PendingCommandsOptions {
  now: () => number;
  retryIntervalMs: number;
  maxAttempts: number;
  /** Emits the command; false when the host has no open socket (nothing was sent). */
  send: (hostName: string, command: AgentCommand) => boolean;
  /** Called once per command with its first real result, or with a gateway-made no-answer result. */
  onResult: (hostName: string, result: CommandResult) => void;
}

export class PendingCommands {
  private readonly pending = new Map<string, Pending>();
  private readonly finished = new Map<string, { hostName: string; result: CommandResult }>();

  constructor(private readonly opts: PendingCommandsOptions) {}

  submit(hostName: string, command: AgentCommand): Promise<CommandResult> {
    const done = this.finished.get(command.id);
    if (done && done.result.outcome !== "no-answer") return Promise.resolve(done.result);
    const existing = this.pending.get(command.id);
    if (existing) return existing.promise;
    let resolve!: (r: CommandResult) => void;
    const promise = new Promise<CommandResult>((r) => (resolve = r));
    const deadlineMs = Date.parse(command.deadline);
    const entry: Pending = { hostName, command, deadlineMs, sends: 0, lastSentMs: null, promise, resolve };
    this.pending.set(command.id, entry);
    this.trySend(entry);
    return promise;
  }

  /** Re-sends pending commands of a host right after it (re)connects and got its configuration. */
  hostConnected(hostName: string): void {
    for (const entry of this.pending.values()) {
      if (entry.hostName === hostName && entry.sends < this.opts.maxAttempts) this.trySend(entry);
    }
  }

  settle(hostName: string, result: CommandResult): void {
    const entry = this.pending.get(result.commandId);
    if (entry) {
      if (entry.hostName !== hostName) return; // an answer from the wrong host is not an answer
      this.pending.delete(result.commandId);
      this.remember(hostName, result);
      this.opts.onResult(hostName, result);
      entry.resolve(result);
      return;
    }
    const done = this.finished.get(result.commandId);
    if (done && done.result.outcome !== "no-answer") return; // a duplicate of a result already kept
    // A late result (after no-answer) or one from before a console restart: still worth keeping.
    this.remember(hostName, result);
    this.opts.onResult(hostName, result);
  }

  tick(): void {
    const t = this.opts.now();
    for (const entry of [...this.pending.values()]) {
      if (t >= entry.deadlineMs) {
        this.giveUp(entry, `no result from host ${entry.hostName} for command ${entry.command.id} by its deadline (${entry.sends} sends)`);
        continue;
      }
      const due = entry.lastSentMs === null || t - entry.lastSentMs >= this.opts.retryIntervalMs;
      if (due && entry.sends < this.opts.maxAttempts) this.trySend(entry);
    }
  }

  close(): void {
    for (const entry of [...this.pending.values()]) this.giveUp(entry, "the console's agent gateway closed");
  }

  pendingIds(): string[] {
    return [...this.pending.keys()];
  }

  private trySend(entry: Pending): void {
    if (this.opts.send(entry.hostName, entry.command)) {
      entry.sends += 1;
      entry.lastSentMs = this.opts.now();
    }
  }

  private giveUp(entry: Pending, reason: string): void {
    this.pending.delete(entry.command.id);
    const result: CommandResult = {
      commandId: entry.command.id,
      type: entry.command.type,
      ...commandSubject(entry.command),
      outcome: "no-answer",
      reason,
      finishedAt: new Date(this.opts.now()).toISOString(),
      scripts: [],
    };
    this.remember(entry.hostName, result);
    this.opts.onResult(entry.hostName, result);
    entry.resolve(result);
  }

  private remember(hostName: string, result: CommandResult): void {
    this.finished.delete(result.commandId);
    this.finished.set(result.commandId, { hostName, result });
    while (this.finished.size > MAX_REMEMBERED_RESULTS) {
      const oldest = this.finished.keys().next().value;
      if (oldest === undefined) break;
      this.finished.delete(oldest);
    }
  }
}
