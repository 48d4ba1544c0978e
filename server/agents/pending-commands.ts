// Delivery bookkeeping for console → agent commands, one entry per command id until its result arrives
// or its deadline passes. It sends; it does not decide to send again: the one retry owner is whoever
// submitted the command (the failover core re-sends its own commands, by submitting the same id again,
// which sends it again). A command submitted while its host has no open socket goes out when the host
// connects — unless the submitter withdraws it first (a plan that ended unfinished: withdraw()). A result counts only from the host the command was sent to, and only for a command that
// was sent (a host cannot answer another host's command, nor pre-answer one it guesses). Time is
// injected; the gateway drives tick().
import { commandSubject, type AgentCommand, type CommandResult, type GatewayCommand } from "../../protocol/agent-wire";

/** Finished results remembered for idempotent submits and late duplicates. */
export const MAX_REMEMBERED_RESULTS = 2000;

interface Pending<C> {
  hostName: string;
  command: C;
  deadlineMs: number;
  sends: number;
  /** Why the last attempt sent nothing, when it was not just the host's closed socket. */
  notSentBecause: string | null;
  promise: Promise<CommandResult>;
  resolve: (r: CommandResult) => void;
}

/**
 * The command type carried: the gateway's are wire commands (stamped with its term); the simulation's,
 * which never cross a wire, are as the controller built them.
 */
export interface PendingCommandsOptions<C extends GatewayCommand = AgentCommand> {
  now: () => number;
  /**
   * Emits the command: true when sent; false when the host has no open socket, or a sentence saying
   * why nothing was sent (e.g. this console no longer leads): either way it waits, like for a closed
   * socket, and the sentence is the reason of its no-answer result if it never goes out.
   */
  send: (hostName: string, command: C) => boolean | string;
  /** Called once per command with its first real result, or with a made-up no-answer result. */
  onResult: (hostName: string, result: CommandResult) => void;
  /** A result refused: from a host the command was not sent to, or for a command never sent. */
  onRefused?: (hostName: string, result: CommandResult, why: string) => void;
}

export class PendingCommands<C extends GatewayCommand = AgentCommand> {
  private readonly pending = new Map<string, Pending<C>>();
  private readonly finished = new Map<string, { hostName: string; result: CommandResult }>();

  constructor(private readonly opts: PendingCommandsOptions<C>) {}

  /**
   * Sends a command (or sends it again: the same id pending means the submitter retries) and resolves
   * with its result. An id already finished for this host is answered from memory.
   */
  submit(hostName: string, command: C): Promise<CommandResult> {
    const done = this.finished.get(command.id);
    if (done && done.hostName === hostName && done.result.outcome !== "no-answer") return Promise.resolve(done.result);
    const existing = this.pending.get(command.id);
    if (existing && existing.hostName === hostName) {
      this.trySend(existing);
      return existing.promise;
    }
    let resolve!: (r: CommandResult) => void;
    const promise = new Promise<CommandResult>((r) => (resolve = r));
    const entry: Pending<C> = { hostName, command, deadlineMs: Date.parse(command.deadline), sends: 0, notSentBecause: null, promise, resolve };
    this.pending.set(command.id, entry);
    this.trySend(entry);
    return promise;
  }

  /** A host (re)connected and got its configuration: commands waiting for it that were never sent go out. */
  hostConnected(hostName: string): void {
    for (const entry of this.pending.values()) {
      if (entry.hostName === hostName && entry.sends === 0) this.trySend(entry);
    }
  }

  /**
   * The submitter no longer wants a command that never went out (its host had no open socket): it is
   * dropped, so it does not go out when the host connects. A command already sent cannot be called back
   * (the agent may be running it); then nothing changes and false is returned. The submitter's promise
   * resolves with a no-answer result saying so; no result is reported (nobody awaits one).
   */
  withdraw(hostName: string, commandId: string, why: string): boolean {
    const entry = this.pending.get(commandId);
    if (!entry || entry.hostName !== hostName || entry.sends > 0) return false;
    this.pending.delete(commandId);
    entry.resolve(this.noAnswer(entry, `command ${commandId} was not sent to host ${hostName}: ${why}`));
    return true;
  }

  /** Whether this command was sent to this host and is still awaited (a receipt from it counts). */
  awaits(hostName: string, commandId: string): boolean {
    return this.pending.get(commandId)?.hostName === hostName;
  }

  settle(hostName: string, result: CommandResult): void {
    const entry = this.pending.get(result.commandId);
    if (entry) {
      if (entry.hostName !== hostName || entry.sends === 0) {
        this.opts.onRefused?.(hostName, result, entry.hostName !== hostName ? `it was sent to ${entry.hostName}` : "it has not been sent yet");
        return;
      }
      this.pending.delete(result.commandId);
      this.remember(hostName, result);
      this.opts.onResult(hostName, result);
      entry.resolve(result);
      return;
    }
    const done = this.finished.get(result.commandId);
    if (!done) {
      // Never sent by this console (or long forgotten): nothing to settle, and no memory of it is
      // kept — a result made up in advance must not answer a later command with the same id.
      this.opts.onRefused?.(hostName, result, "this console did not send it (or forgot it)");
      return;
    }
    if (done.hostName !== hostName) {
      this.opts.onRefused?.(hostName, result, `it was sent to ${done.hostName}`);
      return;
    }
    if (done.result.outcome !== "no-answer") return; // a duplicate of a result already kept
    // A late result, after this console gave up waiting: still worth keeping and passing on.
    this.remember(hostName, result);
    this.opts.onResult(hostName, result);
  }

  /** Gives up on commands past their deadline (a no-answer result). */
  tick(): void {
    const t = this.opts.now();
    for (const entry of [...this.pending.values()]) {
      if (t < entry.deadlineMs) continue;
      const sends = `${entry.sends} send${entry.sends === 1 ? "" : "s"}`;
      this.giveUp(
        entry,
        entry.sends === 0 && entry.notSentBecause
          ? `command ${entry.command.id} was not sent to host ${entry.hostName}: ${entry.notSentBecause} (${sends})`
          : `no result from host ${entry.hostName} for command ${entry.command.id} by its deadline (${sends})`,
      );
    }
  }

  close(): void {
    for (const entry of [...this.pending.values()]) this.giveUp(entry, "the console's agent gateway closed");
  }

  pendingIds(): string[] {
    return [...this.pending.keys()];
  }

  private trySend(entry: Pending<C>): void {
    const sent = this.opts.send(entry.hostName, entry.command);
    if (sent === true) entry.sends += 1;
    else entry.notSentBecause = typeof sent === "string" ? sent : null;
  }

  private noAnswer(entry: Pending<C>, reason: string): CommandResult {
    return {
      commandId: entry.command.id,
      type: entry.command.type,
      ...commandSubject(entry.command),
      outcome: "no-answer",
      reason,
      finishedAt: new Date(this.opts.now()).toISOString(),
      scripts: [],
      heldEpoch: null,
    };
  }

  private giveUp(entry: Pending<C>, reason: string): void {
    this.pending.delete(entry.command.id);
    const result = this.noAnswer(entry, reason);
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
