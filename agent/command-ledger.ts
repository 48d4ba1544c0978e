// The agent's memory of commands: the first result of every recent command id (so a repeat returns
// it instead of acting twice), the highest epoch applied per pair (fencing: an older epoch is
// refused; so is a command of an older leadership term than one seen, through the term store), and the results not yet acknowledged by the console (resent after a reconnect). Saved to
// one JSON file, so an agent restart neither re-executes nor unfences: a raised epoch is written
// before the command that raised it runs; every other change is written right after the current
// step, off the failover path (agent/DECISIONS.md §11).
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { commandResultSchema, commandSubject, isHostCommand, type AgentCommand, type CommandResult } from "../protocol/agent-wire";
import type { TermFence } from "./term-store";

/** Command ids remembered for idempotency; older ones are forgotten first. */
export const MAX_REMEMBERED_COMMANDS = 1000;
/** Results kept for resending while the console is away; beyond this the oldest are dropped. */
export const MAX_UNACKED_RESULTS = 1000;

const ledgerFileSchema = z.object({
  version: z.literal(1),
  epochs: z.record(z.string(), z.number().int().min(0)),
  results: z.array(commandResultSchema),
  unacked: z.array(z.string()),
});

export type Admission =
  | { kind: "execute" }
  | { kind: "duplicate-running" }
  | { kind: "duplicate-done"; result: CommandResult }
  | { kind: "refuse"; result: CommandResult };

export class CommandLedger {
  private readonly epochs = new Map<string, number>();
  private readonly results = new Map<string, CommandResult>();
  private readonly running = new Set<string>();
  private readonly unacked = new Set<string>();
  /** Results kept for a repeat but not sent on their own: the console has not asked for them yet. */
  private readonly unasked = new Set<string>();
  private saveScheduled = false;

  /** terms: the highest leadership term seen (agent/term-store.ts); null: commands are not fenced by term. */
  constructor(
    private readonly file: string | null,
    private readonly terms: TermFence | null = null,
  ) {
    if (file && fs.existsSync(file)) {
      const parsed = ledgerFileSchema.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
      if (!parsed.success) throw new Error(`command ledger ${file} is unreadable; move it away to start fresh: ${parsed.error.message}`);
      for (const [k, v] of Object.entries(parsed.data.epochs)) this.epochs.set(k, v);
      for (const r of parsed.data.results) this.results.set(r.commandId, r);
      for (const id of parsed.data.unacked) if (this.results.has(id)) this.unacked.add(id);
    }
  }

  /**
   * Decides what to do with an arriving command. Order matters: a repeat of a known id is answered
   * first (even if the epoch has since moved on), then the deadline, then the leadership term (every
   * command, host commands too: a deposed console's command is never run; a newer term is written
   * before anything of it runs), then epoch fencing. A host command (run-os-command) belongs to no
   * pair, so it is never fenced by epoch and fencingKey is not used.
   */
  admit(command: AgentCommand, fencingKey: string, nowMs: number, opts: { unasked?: boolean } = {}): Admission {
    const done = this.results.get(command.id);
    if (done) return { kind: "duplicate-done", result: done };
    if (this.running.has(command.id)) return { kind: "duplicate-running" };
    if (Date.parse(command.deadline) <= nowMs) {
      return { kind: "refuse", result: this.finish(command, "expired", `command ${command.id} arrived after its deadline ${command.deadline}; not executed`, [], null, opts) };
    }
    const term = this.terms?.observe(command.term);
    if (term?.stale) {
      return {
        kind: "refuse",
        result: this.finish(command, "stale-term", `command ${command.id} carries leadership term ${command.term}, older than term ${term.highest} already seen (a deposed console's); not executed`, [], null, opts),
      };
    }
    if (isHostCommand(command)) {
      this.running.add(command.id);
      return { kind: "execute" };
    }
    const held = this.epochs.get(fencingKey);
    if (held !== undefined && command.pairEpoch < held) {
      return {
        kind: "refuse",
        result: this.finish(command, "stale-epoch", `command ${command.id} carries epoch ${command.pairEpoch} of ${fencingKey}, older than epoch ${held} already applied; refused`, [], held, opts),
      };
    }
    this.running.add(command.id);
    if (held === undefined || command.pairEpoch > held) {
      // Fencing must survive a restart before anything of the new epoch happens: written now.
      this.epochs.set(fencingKey, command.pairEpoch);
      this.save();
    }
    return { kind: "execute" };
  }

  /**
   * The console asks for a result the agent made on its own (the enable run with a promotion): from
   * now on it is resent after a reconnect until acknowledged, like any other.
   */
  asked(commandId: string): void {
    if (!this.unasked.delete(commandId)) return;
    this.unacked.add(commandId);
    this.scheduleSave();
  }

  isRunning(commandId: string): boolean {
    return this.running.has(commandId);
  }

  /**
   * Records a command's first result. `unasked`: the agent ran it on its own (an enable with its
   * promotion); it is kept for the console's request with the same id, not sent by itself.
   */
  finish(command: AgentCommand, outcome: CommandResult["outcome"], reason: string, scripts: CommandResult["scripts"] = [], heldEpoch: number | null = null, opts: { unasked?: boolean } = {}): CommandResult {
    const result: CommandResult = {
      commandId: command.id,
      type: command.type,
      ...commandSubject(command),
      outcome,
      reason: reason.slice(0, 2000),
      finishedAt: new Date().toISOString(),
      scripts,
      heldEpoch,
    };
    this.running.delete(command.id);
    this.results.set(command.id, result);
    if (opts.unasked) this.unasked.add(command.id);
    else this.unacked.add(command.id);
    while (this.results.size > MAX_REMEMBERED_COMMANDS) {
      const oldest = this.results.keys().next().value;
      if (oldest === undefined) break;
      this.results.delete(oldest);
      this.unacked.delete(oldest);
      this.unasked.delete(oldest);
    }
    while (this.unacked.size > MAX_UNACKED_RESULTS) {
      const oldest = this.unacked.values().next().value;
      if (oldest === undefined) break;
      this.unacked.delete(oldest);
    }
    // The result goes to the console first; the file follows right after this step.
    this.scheduleSave();
    return result;
  }

  acknowledged(commandId: string): void {
    if (this.unacked.delete(commandId)) this.scheduleSave();
  }

  unackedResults(): CommandResult[] {
    return [...this.unacked].map((id) => this.results.get(id)).filter((r): r is CommandResult => r !== undefined);
  }

  runningIds(): string[] {
    return [...this.running];
  }

  epochsSnapshot(): Record<string, number> {
    return Object.fromEntries(this.epochs);
  }

  /** Writes whatever changed once the current step is over (one write for a burst of changes). */
  private scheduleSave(): void {
    if (this.saveScheduled || !this.file) return;
    this.saveScheduled = true;
    setImmediate(() => {
      if (this.saveScheduled) this.save();
    });
  }

  /** Writes now (and makes a scheduled write unnecessary). */
  flush(): void {
    if (this.saveScheduled) this.save();
  }

  private save(): void {
    this.saveScheduled = false;
    if (!this.file) return;
    const body = JSON.stringify({
      version: 1,
      epochs: Object.fromEntries(this.epochs),
      results: [...this.results.values()],
      unacked: [...this.unacked],
    });
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(`${this.file}.tmp`, body);
    fs.renameSync(`${this.file}.tmp`, this.file);
  }
}
