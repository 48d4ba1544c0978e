// Where the VIP / NLB port really is on this host: every vipCheckIntervalMs and right after every
// control script the pair's driver checks presence, and a change is reported (vipPresence). At most
// one check per pair runs at a time; a check asked for while one runs is run once more after it, so
// the observation after a script is never skipped and checks never pile up on a slow host.
import type { VipPresenceMessage } from "../protocol/agent-wire";
import type { ControlDriver, Presence } from "./drivers";

/** A presence check never takes longer than this, whatever the pair's script timeout. */
export const MAX_PRESENCE_CHECK_MS = 5000;

interface PairWatch {
  driver: ControlDriver;
  timeoutMs: number;
  inFlight: Promise<void> | null;
  again: boolean;
  latest: Presence | null;
  checkedAt: string | null;
}

export interface VipMonitorOptions {
  send: (msg: VipPresenceMessage) => void;
  log: (line: string) => void;
}

export class VipMonitor {
  private pairs = new Map<string, PairWatch>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: VipMonitorOptions) {}

  /** New configuration: one driver per pair; known observations are kept for pairs that stay. */
  configure(drivers: Map<string, { driver: ControlDriver; scriptTimeoutMs: number }>, intervalMs: number): void {
    const next = new Map<string, PairWatch>();
    for (const [pair, { driver, scriptTimeoutMs }] of drivers) {
      const old = this.pairs.get(pair);
      const timeoutMs = Math.min(scriptTimeoutMs, MAX_PRESENCE_CHECK_MS);
      if (old) {
        // The same watch object: a check in flight still lands in it and clears its inFlight, so
        // there is never a second check beside it. Another kind of driver observes afresh.
        if (old.driver.kind !== driver.kind) old.latest = null;
        old.driver = driver;
        old.timeoutMs = timeoutMs;
        next.set(pair, old);
      } else {
        next.set(pair, { driver, timeoutMs, inFlight: null, again: false, latest: null, checkedAt: null });
      }
    }
    this.pairs = next;
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => {
      for (const pair of this.pairs.keys()) void this.check(pair);
    }, intervalMs);
    this.timer.unref?.();
    for (const pair of this.pairs.keys()) void this.check(pair);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Checks now, or once more after the check already running; resolves when an observation is in. */
  check(pair: string): Promise<void> {
    const w = this.pairs.get(pair);
    if (!w) return Promise.resolve();
    if (w.inFlight) {
      w.again = true;
      return w.inFlight;
    }
    const run = (async () => {
      do {
        w.again = false;
        const presence = await w.driver.presence(w.timeoutMs).catch(
          (err: unknown): Presence => ({ present: null, address: "", detail: `presence check failed: ${err instanceof Error ? err.message : String(err)}` }),
        );
        this.observe(pair, w, presence);
      } while (w.again);
    })().finally(() => {
      w.inFlight = null;
    });
    w.inFlight = run;
    return run;
  }

  private observe(pair: string, w: PairWatch, presence: Presence): void {
    const changed = !w.latest || w.latest.present !== presence.present || w.latest.address !== presence.address;
    w.latest = presence;
    w.checkedAt = new Date().toISOString();
    if (!changed || this.pairs.get(pair) !== w) return;
    this.opts.log(`pair ${pair}: VIP presence ${presence.present === null ? "unknown" : presence.present ? "here" : "not here"} (${presence.detail})`);
    this.opts.send({ pair, present: presence.present, address: presence.address.slice(0, 255), detail: presence.detail.slice(0, 500), checkedAt: w.checkedAt });
  }

  latest(pair: string): Presence | null {
    return this.pairs.get(pair)?.latest ?? null;
  }

  /** Presence per pair for the resync; pairs never observed are checked first. */
  async snapshot(): Promise<Record<string, boolean | null>> {
    await Promise.all([...this.pairs].filter(([, w]) => !w.latest).map(([pair]) => this.check(pair)));
    return Object.fromEntries([...this.pairs].map(([pair, w]) => [pair, w.latest?.present ?? null]));
  }
}
