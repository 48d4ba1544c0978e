// Established calls in the simulation: which server of a pair holds which calls, the batched call
// synchronisation over the HA link (W12) that fills a backup after it (re)starts, and every call lost —
// in a crash, or at a role change whose new primary lacks calls its peer held. Call ids are numbers
// allocated per pair in creation order, and a server's calls are kept as id ranges, so a run with tens
// of thousands of calls costs a handful of numbers per server and no work per call.

/** A set of call ids as sorted, disjoint, non-adjacent half-open ranges [start, end). */
export class CallSet {
  /** Flat: start0, end0, start1, end1, … */
  private ranges: number[];
  private count: number;

  constructor(ranges: number[] = []) {
    this.ranges = ranges;
    this.count = 0;
    for (let i = 0; i < ranges.length; i += 2) this.count += ranges[i + 1]! - ranges[i]!;
  }

  get size(): number {
    return this.count;
  }

  /** Adds the ids [start, end). */
  addRange(start: number, end: number): void {
    if (end > start) this.set(combine(this.ranges, [start, end], (a, b) => a || b));
  }

  addAll(other: CallSet): void {
    if (other.count > 0) this.set(combine(this.ranges, other.ranges, (a, b) => a || b));
  }

  removeAll(other: CallSet): void {
    if (this.count > 0 && other.count > 0) this.set(combine(this.ranges, other.ranges, (a, b) => a && !b));
  }

  /** The ids here that `other` does not hold. */
  minus(other: CallSet): CallSet {
    return new CallSet(combine(this.ranges, other.ranges, (a, b) => a && !b));
  }

  /** How many of these ids `other` holds too. */
  sharedWith(other: CallSet): number {
    if (this.count === 0 || other.count === 0) return 0;
    return this.count - this.minus(other).count;
  }

  /** The `n` lowest ids (the oldest calls). */
  first(n: number): CallSet {
    const out: number[] = [];
    let left = n;
    for (let i = 0; i < this.ranges.length && left > 0; i += 2) {
      const start = this.ranges[i]!;
      const end = Math.min(this.ranges[i + 1]!, start + left);
      out.push(start, end);
      left -= end - start;
    }
    return new CallSet(out);
  }

  clear(): void {
    this.set([]);
  }

  private set(ranges: number[]): void {
    this.ranges = ranges;
    this.count = 0;
    for (let i = 0; i < ranges.length; i += 2) this.count += ranges[i + 1]! - ranges[i]!;
  }
}

/** Sweeps the boundaries of two range lists and keeps the stretches where `keep(inA, inB)` holds. */
function combine(a: number[], b: number[], keep: (inA: boolean, inB: boolean) => boolean): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  let openAt: number | null = null;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Infinity;
    const y = j < b.length ? b[j]! : Infinity;
    const at = Math.min(x, y);
    if (x === at) i++;
    if (y === at) j++;
    // An odd index means we are inside a range of that list.
    const inside = keep(i % 2 === 1, j % 2 === 1);
    if (inside && openAt === null) openAt = at;
    else if (!inside && openAt !== null) {
      if (out.length > 0 && out[out.length - 1] === openAt) out[out.length - 1] = at; // adjacent: merge
      else out.push(openAt, at);
      openAt = null;
    }
  }
  return out;
}

/** How the HA link synchronises calls: this many calls a batch, one batch every so often (W12). */
export interface CallSyncPace {
  batchCalls: number;
  batchIntervalMs: number;
}

interface PairCalls {
  nextId: number;
  /**
   * Whose calls are the pair's: the server that was primary most recently (a W10 self-demotion keeps
   * it), or — when that process ended — its peer, which then holds all that is left.
   */
  source: string;
  /**
   * The source sends the backup what it lacks: true when it took the source by becoming primary; false
   * when it inherited it from a process that ended (two backups do not synchronise).
   */
  sends: boolean;
  /** The next batch leaves at this time; null while the HA link is down. */
  nextBatchAtMs: number | null;
}

/** What one sync step did, for the trace. */
export interface SyncProgress {
  /** The link just came up: a sync began. */
  began: boolean;
  moved: number;
  /** The receiver now holds every call of the source (and did not before this step). */
  completed: boolean;
  missing: number;
}

/** The calls of every pair: who holds what, the sync in progress, what was established and lost. */
export class CallBook {
  private readonly held = new Map<string, CallSet>();
  private readonly pairs = new Map<string, PairCalls>();
  established = 0;
  lost = 0;
  readonly lostBy: Record<string, number> = {};

  constructor(private readonly pace: CallSyncPace) {}

  /** A pair at the start of a run: its primary and backup both hold `count` calls (synchronised). */
  openPair(pairId: string, primary: string, backup: string, count: number): void {
    this.pairs.set(pairId, { nextId: count, source: primary, sends: true, nextBatchAtMs: null });
    this.held.set(primary, new CallSet(count > 0 ? [0, count] : []));
    this.held.set(backup, new CallSet(count > 0 ? [0, count] : []));
    this.established += count;
  }

  of(app: string): CallSet {
    const set = this.held.get(app);
    if (!set) throw new Error(`no calls kept for ${app}`);
    return set;
  }

  source(pairId: string): string {
    return this.pair(pairId).source;
  }

  /** New calls on the pair's primary; live-replicated to `replica` when the HA link is up. */
  establish(pairId: string, on: string, replica: string | null, count: number): void {
    const p = this.pair(pairId);
    this.of(on).addRange(p.nextId, p.nextId + count);
    if (replica) this.of(replica).addRange(p.nextId, p.nextId + count);
    p.nextId += count;
    this.established += count;
  }

  /**
   * A process that ends (crash, stop, restart) loses its calls: those its peer does not hold are gone.
   * When it was the source and its peer lives on, the peer's calls are the pair's from now on.
   */
  endProcess(pairId: string, app: string, peer: string, peerAlive: boolean, cause: string): number {
    const calls = this.of(app);
    const gone = calls.minus(this.of(peer)).size;
    calls.clear();
    this.record(cause, gone);
    const p = this.pair(pairId);
    if (p.source === app && peerAlive) {
      p.source = peer;
      p.sends = false;
    }
    return gone;
  }

  /** Whether the source sends the backup what it lacks (see PairCalls.sends). */
  sends(pairId: string): boolean {
    return this.pair(pairId).sends;
  }

  /**
   * `to` takes the primary role from `from` (a promotion, or the other primary kept when a split brain
   * ends): `to` is the sync source from now on, its calls are the truth, and the calls `from` holds that
   * `to` lacks are lost (`from` drops them). Returns how many.
   */
  handOver(pairId: string, to: string, from: string, cause: string): number {
    const p = this.pair(pairId);
    p.source = to;
    p.sends = true;
    const gone = this.of(from).minus(this.of(to));
    this.of(from).removeAll(gone);
    this.record(cause, gone.size);
    return gone.size;
  }

  /**
   * Runs the pair's sync up to `nowMs`: while the HA link is up and the source sends, one batch of
   * the oldest calls the receiver is missing every interval, the first as the link comes up. `linkUp`
   * is the link's state since the last call: the world calls before and after every step, so nothing
   * changed in between and the batches due since then are sent together (the cost does not grow with
   * time).
   */
  sync(pairId: string, receiver: string, linkUp: boolean, nowMs: number): SyncProgress | null {
    const p = this.pair(pairId);
    if (!linkUp || !p.sends) {
      p.nextBatchAtMs = null;
      return null;
    }
    const began = p.nextBatchAtMs === null;
    if (began) p.nextBatchAtMs = nowMs;
    const due = p.nextBatchAtMs! <= nowMs ? Math.floor((nowMs - p.nextBatchAtMs!) / this.pace.batchIntervalMs) + 1 : 0;
    if (due === 0 && !began) return null;
    p.nextBatchAtMs! += due * this.pace.batchIntervalMs;
    const into = this.of(receiver);
    const missing = this.of(p.source).minus(into);
    if (missing.size === 0) return began ? { began, moved: 0, completed: false, missing: 0 } : null;
    const batch = missing.first(due * this.pace.batchCalls);
    into.addAll(batch);
    return { began, moved: batch.size, completed: batch.size === missing.size, missing: missing.size - batch.size };
  }

  private record(cause: string, count: number): void {
    if (count <= 0) return;
    this.lost += count;
    this.lostBy[cause] = (this.lostBy[cause] ?? 0) + count;
  }

  private pair(pairId: string): PairCalls {
    const p = this.pairs.get(pairId);
    if (!p) throw new Error(`no calls kept for ${pairId}`);
    return p;
  }
}
