// Unit tests of the browser's handling of "live:pairs": pushes gathered per frame (the newest view of
// each pair, removals and re-additions in the order they came), the patch applied in place when the
// order holds and sorted otherwise, and one flush per frame however many pushes asked for it.
import { describe, expect, it } from "vitest";
import { PairPatches, applyPairPatch, frameBatch } from "./pair-patches";

interface P {
  id: string;
  severity: number;
  note?: string;
}
const order = (a: P, b: P) => b.severity - a.severity || a.id.localeCompare(b.id);
const p = (id: string, severity = 0, note = ""): P => ({ id, severity, note });

describe("gathering pushes", () => {
  it("keeps the newest view of each pair, and what was removed", () => {
    const b = new PairPatches<P>();
    expect(b.empty).toBe(true);
    b.add([p("a", 0, "first"), p("b")], []);
    b.add([p("a", 0, "second")], ["c"]);
    expect(b.empty).toBe(false);
    const taken = b.take();
    expect(taken.changed).toEqual([p("a", 0, "second"), p("b")]);
    expect(taken.removed).toEqual(["c"]);
    expect(b.empty).toBe(true);
    expect(b.take()).toEqual({ changed: [], removed: [] });
  });

  it("a pair removed after it changed is removed; one that came back is there", () => {
    const b = new PairPatches<P>();
    b.add([p("a")], []);
    b.add([], ["a", "b"]);
    b.add([p("b", 1)], []);
    expect(b.take()).toEqual({ changed: [p("b", 1)], removed: ["a"] });
  });
});

describe("applying a patch to the list", () => {
  const list = [p("x", 4), p("a"), p("b"), p("c")];

  it("replaces in place when the order holds, keeping every other pair the same object", () => {
    const next = applyPairPatch(list, { changed: [p("b", 0, "new primary")], removed: [] }, order);
    expect(next.map((x) => x.id)).toEqual(["x", "a", "b", "c"]);
    expect(next[2]!.note).toBe("new primary");
    expect(next[0]).toBe(list[0]);
    expect(next[3]).toBe(list[3]);
    expect(list[2]!.note).toBe(""); // the old list is not touched
  });

  it("sorts again when a pair's place changed, one was added or one removed", () => {
    expect(applyPairPatch(list, { changed: [p("c", 9)], removed: [] }, order).map((x) => x.id)).toEqual(["c", "x", "a", "b"]);
    expect(applyPairPatch(list, { changed: [p("x", 0)], removed: [] }, order).map((x) => x.id)).toEqual(["a", "b", "c", "x"]);
    expect(applyPairPatch(list, { changed: [p("d", 5), p("a", 0, "!")], removed: ["b", "nope"] }, order)).toEqual([p("d", 5), p("x", 4), p("a", 0, "!"), p("c")]);
  });

  it("gives the same list as sorting everything, whatever the patch", () => {
    let current: P[] = Array.from({ length: 40 }, (_, i) => p(`p${String(i).padStart(2, "0")}`, i % 3)).sort(order);
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 200; round++) {
      const changed = Array.from({ length: rnd(4) }, () => p(`p${String(rnd(45)).padStart(2, "0")}`, rnd(5), `r${round}`));
      const removed = Array.from({ length: rnd(2) }, () => `p${String(rnd(45)).padStart(2, "0")}`).filter((id) => !changed.some((c) => c.id === id));
      const byId = new Map(current.map((x) => [x.id, x]));
      for (const id of removed) byId.delete(id);
      for (const c of changed) byId.set(c.id, c);
      const expected = [...byId.values()].sort(order);
      current = applyPairPatch(current, { changed, removed }, order);
      expect(current).toEqual(expected);
    }
  });
});

describe("one flush per frame", () => {
  function fakeTimers() {
    const frames = new Set<() => void>();
    const laters = new Set<() => void>();
    return {
      frames,
      laters,
      timers: {
        frame: (cb: () => void) => (frames.add(cb), () => frames.delete(cb)),
        later: (cb: () => void) => (laters.add(cb), () => laters.delete(cb)),
      },
    };
  }

  it("runs once for every ask before the frame, and again for asks after it", () => {
    const t = fakeTimers();
    let flushed = 0;
    const batch = frameBatch(() => flushed++, t.timers);
    batch.ask();
    batch.ask();
    batch.ask();
    expect(t.frames.size).toBe(1);
    [...t.frames][0]!();
    expect(flushed).toBe(1);
    // The fallback of that frame was cancelled: it does not flush again.
    expect(t.laters.size).toBe(0);
    batch.ask();
    expect(t.frames.size).toBe(1);
  });

  it("flushes on the fallback when no frame comes (a hidden tab), and not again on a late frame", () => {
    const t = fakeTimers();
    let flushed = 0;
    const batch = frameBatch(() => flushed++, t.timers);
    batch.ask();
    [...t.laters][0]!();
    expect(flushed).toBe(1);
    expect(t.frames.size).toBe(0);
  });

  it("cancel drops what was asked", () => {
    const t = fakeTimers();
    let flushed = 0;
    const batch = frameBatch(() => flushed++, t.timers);
    batch.ask();
    batch.cancel();
    expect(t.frames.size + t.laters.size).toBe(0);
    expect(flushed).toBe(0);
  });
});
