// The simulation's call bookkeeping: id-range sets, the paced W12 sync, and who loses what at a crash
// or a role change (the simulation's call-loss invariant rests on these).
import { describe, expect, it } from "vitest";
import { CallBook, CallSet } from "./calls";

const ids = (ranges: number[]): CallSet => new CallSet(ranges);

describe("CallSet", () => {
  it("merges adjacent and overlapping ranges and counts ids", () => {
    const s = ids([0, 10]);
    s.addRange(10, 20);
    s.addRange(15, 30);
    s.addRange(40, 45);
    expect(s.size).toBe(35);
    expect(s.minus(ids([0, 30])).size).toBe(5);
  });

  it("takes differences, shared counts and the oldest ids", () => {
    const primary = ids([0, 100, 200, 300]);
    const backup = ids([0, 50, 250, 260]);
    expect(primary.minus(backup).size).toBe(140);
    expect(primary.sharedWith(backup)).toBe(60);
    const oldest = primary.minus(backup).first(70);
    expect(oldest.size).toBe(70);
    expect(oldest.minus(ids([50, 100, 200, 220])).size).toBe(0);
    backup.addAll(oldest);
    expect(primary.minus(backup).size).toBe(70);
    backup.removeAll(ids([0, 1_000]));
    expect(backup.size).toBe(0);
  });
});

describe("CallBook", () => {
  const pace = { batchCalls: 200, batchIntervalMs: 250 };

  it("W12 a backup that restarted receives the primary's calls one batch per interval, the first as the link comes up", () => {
    const book = new CallBook(pace);
    book.openPair("p", "a", "b", 1_000);
    expect(book.endProcess("p", "b", "a", true, "crash")).toBe(0); // the primary holds them all
    expect(book.of("b").size).toBe(0);
    expect(book.sync("p", "b", true, 10_000)).toEqual({ began: true, moved: 200, completed: false, missing: 800 });
    expect(book.sync("p", "b", true, 10_249)).toBeNull();
    expect(book.sync("p", "b", true, 10_750)).toEqual({ began: false, moved: 600, completed: false, missing: 200 });
    expect(book.sync("p", "b", true, 11_000)).toEqual({ began: false, moved: 200, completed: true, missing: 0 });
    expect(book.of("b").size).toBe(1_000);
  });

  it("W12 the sync stops while the HA link is down and starts afresh when it returns", () => {
    const book = new CallBook(pace);
    book.openPair("p", "a", "b", 1_000);
    book.endProcess("p", "b", "a", true, "crash");
    book.sync("p", "b", true, 0);
    book.sync("p", "b", true, 250);
    expect(book.sync("p", "b", false, 300)).toBeNull();
    expect(book.sync("p", "b", false, 5_000)).toBeNull();
    expect(book.of("b").size).toBe(400);
    expect(book.sync("p", "b", true, 9_000)).toEqual({ began: true, moved: 200, completed: false, missing: 400 });
  });

  it("new calls reach the backup at once while the HA link is up", () => {
    const book = new CallBook(pace);
    book.openPair("p", "a", "b", 100);
    book.establish("p", "a", "b", 50);
    book.establish("p", "a", null, 25);
    expect([book.of("a").size, book.of("b").size, book.established]).toEqual([175, 150, 175]);
  });

  it("a promotion loses the calls the new primary lacks, and its peer drops them", () => {
    const book = new CallBook(pace);
    book.openPair("p", "a", "b", 1_000);
    book.endProcess("p", "b", "a", true, "crash");
    book.sync("p", "b", true, 0); // b holds the 200 oldest
    expect(book.handOver("p", "b", "a", "role change (bind-failure)")).toBe(800);
    expect(book.source("p")).toBe("b");
    expect(book.of("a").size).toBe(200);
    expect([book.lost, book.lostBy]).toEqual([800, { "role change (bind-failure)": 800 }]);
  });

  it("a crash loses only the calls the peer does not hold; a surviving peer's calls become the pair's", () => {
    const book = new CallBook(pace);
    book.openPair("p", "a", "b", 1_000);
    book.establish("p", "a", null, 300); // the HA link was down: only the primary has them
    expect(book.endProcess("p", "a", "b", true, "crash")).toBe(300);
    expect(book.source("p")).toBe("b");
    // Two backups do not synchronise: the restarted one waits for a primary.
    expect(book.sends("p")).toBe(false);
    expect(book.sync("p", "a", true, 0)).toBeNull();
    expect(book.of("a").size).toBe(0);
  });
});
