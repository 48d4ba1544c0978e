// The lease's shell: runs the pure decisions (lease-core.ts) against the database (lease-store.ts) on a
// timer, in the control plane's own thread — so a stall of the web tier (a big import, a slow page)
// cannot cost the leadership, and the thread that sends commands is the one that knows whether it still
// may. It also says every interval that this instance is alive (the followers' list).
import { performance } from "node:perf_hooks";
import { logger, type Logger } from "../log";
import { DEFAULT_LEASE_TIMING, initialLeaseState, mayCommand, stepLease, type LeaseAction, type LeaseInput, type LeaseState, type LeaseTiming } from "./lease-core";
import type { InstanceIdentity, LeaseRow, LeaseStore } from "./lease-store";

/** How often the keeper looks at its deadline between attempts (a step-down is at most this late). */
const TICK_MS = 100;

export interface LeaseKeeperOptions {
  store: LeaseStore;
  me: InstanceIdentity;
  timing?: LeaseTiming;
  /** This instance now leads at `term` (start the control plane). Errors are logged and lead to a step-down. */
  onLead(term: number): Promise<void> | void;
  /** This instance must stop commanding at once. */
  onStepDown(term: number, reason: string): void;
  /** The lease row as last read (who leads, where): for followers telling agents and browsers. */
  onLeaseSeen?(lease: LeaseRow): void;
  /** An attempt was answered or failed, and the decisions were applied (role() tells the outcome). */
  onAttempted?(): void;
  log?: Logger;
  /** Monotonic milliseconds (tests). */
  now?: () => number;
}

export class LeaseKeeper {
  private state: LeaseState;
  private readonly timing: LeaseTiming;
  private readonly now: () => number;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAtMs = Date.now();
  private stopped = false;
  private failedInRow = 0;

  constructor(private readonly opts: LeaseKeeperOptions) {
    this.timing = opts.timing ?? DEFAULT_LEASE_TIMING;
    this.now = opts.now ?? (() => performance.now());
    this.log = opts.log ?? logger("lease");
    this.state = initialLeaseState(this.now());
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Whether a command may be sent now: leading, and before the lease can have expired. Checks the deadline itself (a thread that was paused learns it here first). */
  mayCommand(): boolean {
    if (mayCommand(this.state, this.now())) return true;
    if (this.state.role === "leader") this.tick();
    return false;
  }

  role(): LeaseState["role"] {
    return this.state.role;
  }

  /** Stops; gives the lease up when leading, so a follower takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.state.role === "leader") {
      const term = this.state.term;
      this.state = initialLeaseState(this.now());
      await this.opts.store.release(this.opts.me, term).catch((err: unknown) => this.log.warn("could not release the leadership lease (a follower takes it when it expires)", { error: String(err) }));
    }
  }

  private tick(): void {
    if (this.stopped) return;
    this.apply({ kind: "tick", nowMs: this.now() });
  }

  private apply(input: LeaseInput): void {
    const step = stepLease(this.state, input, this.timing);
    this.state = step.state;
    for (const action of step.actions) this.act(action);
  }

  private act(action: LeaseAction): void {
    switch (action.kind) {
      case "acquire":
      case "renew": {
        const attempt = action.kind === "acquire" ? this.opts.store.acquire(this.opts.me, this.timing.ttlMs, action.takeOwn) : this.opts.store.renew(this.opts.me, action.term, this.timing.ttlMs);
        const role = action.kind === "renew" ? "leader" : "follower";
        attempt
          .then((answer) => {
            this.failedInRow = 0;
            if (this.stopped) return;
            this.opts.onLeaseSeen?.(answer.lease);
            this.apply({ kind: "answer", nowMs: this.now(), sentAtMs: action.sentAtMs, won: answer.won, lease: answer.lease });
            this.opts.onAttempted?.();
          })
          .catch((err: unknown) => {
            if (this.stopped) return;
            // One failure is routine (SQLite's write lock held a moment by the web tier); several in a row are not.
            this.failedInRow += 1;
            const line = `the leadership lease could not be ${action.kind === "acquire" ? "tried" : "renewed"} (${this.failedInRow} attempt${this.failedInRow === 1 ? "" : "s"} in a row)`;
            if (this.failedInRow >= 3) this.log.warn(line, { error: String(err) });
            else this.log.debug(line, { error: String(err) });
            this.apply({ kind: "failed", nowMs: this.now(), sentAtMs: action.sentAtMs, error: String(err) });
            this.opts.onAttempted?.();
          });
        // Alive, in the role held when the attempt went out (the followers' list reads it).
        this.opts.store.heartbeat(this.opts.me, role, this.startedAtMs).catch(() => undefined);
        return;
      }
      case "lead":
        this.log.info("this console leads", { term: action.term, instance: this.opts.me.id });
        Promise.resolve()
          .then(() => this.opts.onLead(action.term))
          .catch((err: unknown) => {
            this.log.error("starting the control plane as leader failed; stepping down", { error: String(err) });
            this.opts.onStepDown(action.term, `starting the control plane failed: ${String(err)}`);
          });
        return;
      case "step-down":
        this.log.warn("this console steps down", { term: action.term, reason: action.reason });
        this.opts.onStepDown(action.term, action.reason);
        return;
    }
  }
}
