// The browser's side of "live:pairs" as pure pieces (unit-tested without a browser): pushes that arrive
// close together are gathered and applied to the cached pair list once per animation frame, and a patch
// that leaves every pair where it was in the order (a role changed, not the severity) replaces them in
// place instead of sorting thousands of pairs again. With 2,000 pairs a burst of switchovers sends
// several pushes a second, and copying, sorting and drawing the whole list for each would not keep up.

/** What arrived since the last flush: the newest view of each changed pair, and the pairs removed. */
export class PairPatches<P extends { id: string }> {
  private changed = new Map<string, P>();
  private removed = new Set<string>();

  /** One push: its removals, then its changed views (the order the console means them in). */
  add(changed: readonly P[], removed: readonly string[]): void {
    for (const id of removed) {
      this.changed.delete(id);
      this.removed.add(id);
    }
    for (const p of changed) {
      this.removed.delete(p.id);
      this.changed.set(p.id, p);
    }
  }

  get empty(): boolean {
    return this.changed.size === 0 && this.removed.size === 0;
  }

  /** Everything gathered, once; the batch is empty again. */
  take(): { changed: P[]; removed: string[] } {
    const out = { changed: [...this.changed.values()], removed: [...this.removed] };
    this.changed.clear();
    this.removed.clear();
    return out;
  }
}

/**
 * The list with the patch applied, in `order`. Pairs that only changed in place keep their positions
 * when they are still in order with their neighbours (no sort); new or removed pairs, or a pair whose
 * place changed, sort the list again. Unchanged pairs stay the same objects (rows not redrawn).
 */
export function applyPairPatch<P extends { id: string }>(list: readonly P[], patch: { changed: readonly P[]; removed: readonly string[] }, order: (a: P, b: P) => number): P[] {
  const at = new Map(list.map((p, i) => [p.id, i]));
  const removed = new Set(patch.removed.filter((id) => at.has(id)));
  const next = [...list];
  const replaced: number[] = [];
  let added = false;
  for (const p of patch.changed) {
    const i = at.get(p.id);
    if (i === undefined) added = true;
    else {
      next[i] = p;
      replaced.push(i);
    }
  }
  const inPlace = !added && removed.size === 0 && replaced.every((i) => (i === 0 || order(next[i - 1]!, next[i]!) <= 0) && (i === next.length - 1 || order(next[i]!, next[i + 1]!) <= 0));
  if (inPlace) return next;
  const known = new Set(list.map((p) => p.id));
  const fresh = patch.changed.filter((p) => !known.has(p.id) && !removed.has(p.id));
  // A pair that appears twice in `changed` counts once (the last view of it).
  const unique = [...new Map(fresh.map((p) => [p.id, p])).values()];
  return [...next.filter((p) => !removed.has(p.id)), ...unique].sort(order);
}

/**
 * Runs `flush` once for everything asked before it runs: on the next animation frame, or after
 * `fallbackMs` when frames do not come (a hidden tab draws none, and its cache should still follow).
 */
export function frameBatch(flush: () => void, timers: { frame: (cb: () => void) => () => void; later: (cb: () => void, ms: number) => () => void }, fallbackMs = 250): { ask: () => void; cancel: () => void } {
  let pending: (() => void) | null = null;
  const run = () => {
    pending?.();
    pending = null;
    flush();
  };
  return {
    ask() {
      if (pending) return;
      const stopFrame = timers.frame(run);
      const stopLater = timers.later(run, fallbackMs);
      pending = () => {
        stopFrame();
        stopLater();
      };
    },
    cancel() {
      pending?.();
      pending = null;
    },
  };
}
