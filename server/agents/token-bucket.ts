// A token bucket: up to `capacity` at once, refilled at `perSecond`. Bounds what one agent may send
// (messages, log events) without a timer of its own: time comes in as an argument.
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    nowMs: number,
  ) {
    this.tokens = capacity;
    this.lastMs = nowMs;
  }

  /** Takes up to `wanted` tokens; returns how many were granted (for one item: 1 or 0, a truthy grant). */
  take(wanted: number, nowMs: number): number {
    const elapsedMs = Math.max(0, nowMs - this.lastMs);
    this.lastMs = nowMs;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs * this.perSecond) / 1000);
    const granted = Math.min(wanted, Math.floor(this.tokens));
    this.tokens -= granted;
    return granted;
  }
}
