// Host liveness: a silent host is lost after its timeout; the console's own stall and many hosts falling
// silent at once are not read as host loss.
import { describe, expect, it } from "vitest";
import { HostLiveness } from "./liveness";

const opts = { heartbeatTimeoutMs: 2000, sweepIntervalMs: 250 };

/** Sweeps every 250 ms from `fromMs` to `toMs`, hearing `heard` hosts every 500 ms; returns every result. */
function run(l: HostLiveness, fromMs: number, toMs: number, heard: string[]) {
  const results = [];
  for (let t = fromMs; t <= toMs; t += 250) {
    if (t % 500 === 0) for (const h of heard) l.heard(h, t);
    results.push({ t, ...l.sweep(t) });
  }
  return results;
}

describe("host liveness", () => {
  it("W3: a host silent for longer than the heartbeat timeout is declared lost, once", () => {
    const l = new HostLiveness(opts);
    for (const h of ["a", "b", "c"]) l.connected(h, 0);
    const results = run(l, 0, 5000, ["a", "b"]);
    const lost = results.flatMap((r) => r.lost.map((x) => ({ t: r.t, ...x })));
    expect(lost).toEqual([{ t: 2250, host: "c", silentMs: 2250 }]);
    expect(l.isConnected("c")).toBe(false);
    expect(l.heard("c", 5100)).toBe(true); // back
  });

  it("a stall of the console itself gives every host a fresh timeout instead of declaring them lost", () => {
    const l = new HostLiveness(opts);
    for (const h of ["a", "b", "c"]) l.connected(h, 0);
    run(l, 0, 1000, ["a", "b", "c"]);
    // Nothing runs for 5 s (SIGSTOP, a long GC): the next sweep comes late.
    const late = l.sweep(6000);
    expect(late.stalledMs).toBe(5000);
    expect(late.lost).toEqual([]);
    // Heartbeats queued during the stall are then handled; nobody is lost.
    const after = run(l, 6250, 9000, ["a", "b", "c"]);
    expect(after.flatMap((r) => r.lost)).toEqual([]);
  });

  it("a stall before the first sweep (right after a console restart) is a stall too: nobody is lost for it", () => {
    const l = new HostLiveness(opts);
    l.connected("a", 100);
    l.connected("b", 120);
    // The console stops before its first sweep; the heartbeats that waited are handled after the sweep.
    const late = l.sweep(4800);
    expect(late.stalledMs).toBe(4700);
    expect(late.lost).toEqual([]);
    expect(run(l, 5000, 8000, ["a", "b"]).flatMap((r) => r.lost)).toEqual([]);
  });

  it("many hosts falling silent in the same sweep are held for one more timeout, then declared lost if still silent", () => {
    const l = new HostLiveness(opts);
    for (const h of ["a", "b", "c", "d"]) l.connected(h, 0);
    run(l, 0, 1000, ["a", "b", "c", "d"]);
    const results = run(l, 1250, 6000, ["d"]); // a, b, c silent from 1000 ms on
    const firstHeld = results.find((r) => r.held);
    expect(firstHeld).toMatchObject({ t: 3250, held: { hosts: ["a", "b", "c"], untilMs: 5250 }, lost: [] });
    const lost = results.flatMap((r) => r.lost.map((x) => ({ t: r.t, host: x.host })));
    expect(lost).toEqual([
      { t: 5250, host: "a" },
      { t: 5250, host: "b" },
      { t: 5250, host: "c" },
    ]);
  });

  it("held hosts heard again in time are released and never declared lost", () => {
    const l = new HostLiveness(opts);
    for (const h of ["a", "b", "c"]) l.connected(h, 0);
    run(l, 0, 1000, ["a", "b", "c"]);
    const silent = run(l, 1250, 3500, []); // all three silent together
    expect(silent.some((r) => r.held?.hosts.length === 3)).toBe(true);
    const back = run(l, 3750, 8000, ["a", "b", "c"]);
    expect(back.flatMap((r) => r.lost)).toEqual([]);
    expect(back.flatMap((r) => r.released).sort()).toEqual(["a", "b", "c"]);
  });

  it("one host of a two-host pair falling silent is its own loss, not the console's (no hold)", () => {
    const l = new HostLiveness(opts);
    for (const h of ["a", "b"]) l.connected(h, 0);
    const results = run(l, 0, 3000, ["b"]);
    expect(results.some((r) => r.held)).toBe(false);
    expect(results.flatMap((r) => r.lost.map((x) => x.host))).toEqual(["a"]);
  });

  it("a host with its own (fast) timeout is lost after its own silence; the others keep the default", () => {
    const l = new HostLiveness(opts);
    for (const h of ["fast", "slow", "other"]) l.connected(h, 0);
    l.setTimeoutOf("fast", 600);
    expect(l.shortestTimeoutMs()).toBe(600);
    // Both fall silent after 1000 ms; a third host keeps talking (so this is no mass loss).
    const results = run(l, 0, 4000, ["other"]).map((r) => ({ t: r.t, lost: r.lost.map((x) => x.host) })).filter((r) => r.lost.length);
    expect(results).toEqual([
      { t: 750, lost: ["fast"] },
      { t: 2250, lost: ["slow"] },
    ]);
    l.setTimeoutOf("fast", null);
    expect(l.timeoutOf("fast")).toBe(2000);
  });

  it("a sweep late by more than its own (shorter) interval plus the tolerance is a stall", () => {
    const l = new HostLiveness(opts);
    l.connected("a", 0);
    l.setTimeoutOf("a", 600);
    l.setSweepIntervalMs(75);
    l.sweep(0);
    expect(l.sweep(300).stalledMs).toBeNull();
    expect(l.sweep(700).stalledMs).toBe(400);
  });
  it("hosts with different timeouts falling silent together are held for the longest of theirs", () => {
    const l = new HostLiveness(opts);
    for (const h of ["a", "b", "c", "d"]) l.connected(h, 0);
    l.setTimeoutOf("a", 600);
    run(l, 0, 1000, ["a", "b", "c", "d"]);
    run(l, 1250, 2500, ["a", "c", "d"]); // b silent from 1000 ms on
    const results = run(l, 2750, 6000, ["c", "d"]); // a silent from 2500 ms on: both time out at 3250
    expect(results.find((r) => r.held)).toMatchObject({ t: 3250, held: { hosts: ["a", "b"], untilMs: 3250 + 2000 } });
    expect(results.flatMap((r) => r.lost.map((x) => ({ t: r.t, host: x.host })))).toEqual([
      { t: 5250, host: "a" },
      { t: 5250, host: "b" },
    ]);
  });

  it("a forgotten host's own timeout goes with it", () => {
    const l = new HostLiveness(opts);
    l.connected("a", 0);
    l.setTimeoutOf("a", 600);
    l.forget("a");
    expect(l.timeoutOf("a")).toBe(2000);
    expect(l.shortestTimeoutMs()).toBe(2000);
    expect(l.isConnected("a")).toBe(false);
  });
});
