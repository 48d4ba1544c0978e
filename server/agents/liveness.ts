// Which hosts' agents are alive, decided from when the console last heard each of them — and from
// whether the console itself was awake to hear. Pure (time comes in as arguments): the agent gateway
// drives it from its sweep timer, the deterministic simulation drives the same code.
//
// Two rules keep the console's own trouble from being read as host loss (server/controller/DECISIONS.md):
//  1. A stall: when the sweep runs much later than it should, the console was not running (a long GC,
//     a blocked event loop, SIGSTOP); the agents' heartbeats are waiting in socket buffers. Every host
//     gets a fresh timeout from now instead of being declared lost.
//  2. Many at once: when, in one sweep, at least MASS_LOSS_MIN_HOSTS hosts and at least half of the
//     connected hosts fall silent together, the likelier cause is on the console's side (its network,
//     its machine). They are held — an alarm, no failover — for one more heartbeat timeout; those still
//     silent then are declared lost one by one as usual.

/** A sweep this much later than its interval means the console itself was stalled. */
export const STALL_TOLERANCE_MS = 250;
/** Fewest hosts falling silent together that can count as the console's problem. */
export const MASS_LOSS_MIN_HOSTS = 2;
/** Share of the connected hosts that must fall silent together for the console to suspect itself. */
export const MASS_LOSS_FRACTION = 0.5;

export interface LivenessOptions {
  /** Hosts without a timeout of their own (setTimeoutOf) are lost after this much silence. */
  heartbeatTimeoutMs: number;
  /** How often sweep() is meant to run. */
  sweepIntervalMs: number;
}

export interface SweepResult {
  /** Hosts declared lost now, with how long they had been silent. */
  lost: { host: string; silentMs: number }[];
  /** The console was stalled for about this long; every host got a fresh timeout. */
  stalledMs: number | null;
  /** Hosts that fell silent together and are held (not declared lost) until heldUntilMs. */
  held: { hosts: string[]; untilMs: number } | null;
  /** A hold ended: these hosts were heard again in time. */
  released: string[];
}

interface Entry {
  connected: boolean;
  lastHeardMs: number;
}

/** What the gateway (and the simulation) use of a liveness monitor. */
export interface Liveness {
  connected(host: string, nowMs: number): void;
  heard(host: string, nowMs: number): boolean;
  sweep(nowMs: number): SweepResult;
}

export class HostLiveness implements Liveness {
  private readonly hosts = new Map<string, Entry>();
  /** Hosts with a heartbeat timeout of their own (the host's configuration). */
  private readonly timeouts = new Map<string, number>();
  private lastSweepMs: number | null = null;
  private hold: { hosts: Set<string>; untilMs: number } | null = null;
  private sweepIntervalMs: number;

  constructor(private readonly opts: LivenessOptions) {
    this.sweepIntervalMs = opts.sweepIntervalMs;
  }

  /** A host's own heartbeat timeout; null returns it to the default. */
  setTimeoutOf(host: string, timeoutMs: number | null): void {
    if (timeoutMs === null) this.timeouts.delete(host);
    else this.timeouts.set(host, timeoutMs);
  }

  timeoutOf(host: string): number {
    return this.timeouts.get(host) ?? this.opts.heartbeatTimeoutMs;
  }

  /** The shortest timeout any host has: the sweep must run often enough for it. */
  shortestTimeoutMs(): number {
    return Math.min(this.opts.heartbeatTimeoutMs, ...this.timeouts.values());
  }

  /** The sweep's cadence changed (a host with a shorter timeout): stalls are judged against it. */
  setSweepIntervalMs(ms: number): void {
    this.sweepIntervalMs = ms;
  }

  /** An agent (re)connected: it counts as heard now. */
  connected(host: string, nowMs: number): void {
    this.baseline(nowMs);
    this.hosts.set(host, { connected: true, lastHeardMs: nowMs });
  }

  /**
   * Rule 1 needs a sweep to compare with: until the first sweep, the first time a host was heard stands
   * in for it. Without it, a console that stalled before its first sweep (right after a restart) read
   * the stall as every host's silence and failed over a pair nothing was wrong with (simulation).
   */
  private baseline(nowMs: number): void {
    this.lastSweepMs ??= nowMs;
  }

  /** Any valid message from the host's agent. Returns true when the host had been declared lost (it is back). */
  heard(host: string, nowMs: number): boolean {
    this.baseline(nowMs);
    const e = this.hosts.get(host);
    if (!e) {
      this.hosts.set(host, { connected: true, lastHeardMs: nowMs });
      return false;
    }
    const wasLost = !e.connected;
    e.lastHeardMs = Math.max(e.lastHeardMs, nowMs);
    e.connected = true;
    return wasLost;
  }

  /** The host was declared lost by someone else (its token revoked): no sweep reports it again. */
  forget(host: string): void {
    this.hosts.delete(host);
    this.timeouts.delete(host);
    this.hold?.hosts.delete(host);
  }

  isConnected(host: string): boolean {
    return this.hosts.get(host)?.connected === true;
  }

  silentMs(host: string, nowMs: number): number | null {
    const e = this.hosts.get(host);
    return e ? nowMs - e.lastHeardMs : null;
  }

  sweep(nowMs: number): SweepResult {
    const result: SweepResult = { lost: [], stalledMs: null, held: null, released: [] };
    const previous = this.lastSweepMs;
    this.lastSweepMs = nowMs;
    if (previous !== null && this.stalled(nowMs - previous)) {
      result.stalledMs = nowMs - previous;
      for (const e of this.hosts.values()) if (e.connected) e.lastHeardMs = Math.max(e.lastHeardMs, nowMs);
      return result;
    }
    if (this.hold) {
      const heardAgain = [...this.hold.hosts].filter((h) => (this.hosts.get(h)?.lastHeardMs ?? -Infinity) >= nowMs - this.timeoutOf(h));
      for (const h of heardAgain) this.hold.hosts.delete(h);
      result.released = heardAgain;
      if (nowMs < this.hold.untilMs && this.hold.hosts.size > 0) {
        result.held = { hosts: [...this.hold.hosts], untilMs: this.hold.untilMs };
      } else {
        // The hold is over: whoever is still silent is lost, as any single host would be.
        for (const h of this.hold.hosts) this.declareLost(h, nowMs, result);
        this.hold = null;
      }
    }
    const timedOut = [...this.hosts.entries()].filter(([h, e]) => e.connected && !this.hold?.hosts.has(h) && nowMs - e.lastHeardMs > this.timeoutOf(h)).map(([h]) => h);
    if (timedOut.length === 0) return result;
    const connectedCount = [...this.hosts.values()].filter((e) => e.connected).length;
    if (!this.hold && timedOut.length >= MASS_LOSS_MIN_HOSTS && timedOut.length >= connectedCount * MASS_LOSS_FRACTION) {
      // Held for one more timeout: the longest of theirs, so none is declared lost before its own has passed again.
      this.hold = { hosts: new Set(timedOut), untilMs: nowMs + Math.max(...timedOut.map((h) => this.timeoutOf(h))) };
      result.held = { hosts: timedOut, untilMs: this.hold.untilMs };
      return result;
    }
    for (const h of timedOut) this.declareLost(h, nowMs, result);
    return result;
  }

  /** Rule 1: a sweep this late means the console itself did not run (the simulation overrides it to show what breaks without it). */
  protected stalled(sinceLastSweepMs: number): boolean {
    return sinceLastSweepMs > this.sweepIntervalMs + STALL_TOLERANCE_MS;
  }

  private declareLost(host: string, nowMs: number, result: SweepResult): void {
    const e = this.hosts.get(host);
    if (!e || !e.connected) return;
    e.connected = false;
    result.lost.push({ host, silentMs: nowMs - e.lastHeardMs });
  }
}
