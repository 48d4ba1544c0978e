// Unit tests for command delivery bookkeeping with an injected clock.
import { describe, expect, it } from "vitest";
import type { AgentCommand, CommandResult } from "../../protocol/agent-wire";
import { PendingCommands } from "./pending-commands";

function setup(connected = true) {
  let t = 1_000_000;
  const sent: string[] = [];
  const results: CommandResult[] = [];
  const state = { connected };
  const p = new PendingCommands({
    now: () => t,
    retryIntervalMs: 100,
    maxAttempts: 3,
    send: (_h, c) => (state.connected ? (sent.push(c.id), true) : false),
    onResult: (_h, r) => results.push(r),
  });
  return { p, sent, results, state, advance: (ms: number) => (t += ms), now: () => t };
}
const command = (id: string, deadlineMs: number): AgentCommand => ({ id, type: "start", application: "a", pairEpoch: 1, role: null, deadline: new Date(deadlineMs).toISOString() });
const result = (id: string, outcome: CommandResult["outcome"] = "ok"): CommandResult => ({
  // A fixed time: two results made a millisecond apart must still compare equal.
  commandId: id, type: "start", application: "a", outcome, reason: "r", pairEpoch: 1, finishedAt: "2026-01-01T00:00:00.000Z", scripts: [],
});

describe("PendingCommands", () => {
  it("re-sends with the same id up to maxAttempts and gives up with no-answer at the deadline", async () => {
    const s = setup();
    const promise = s.p.submit("h1", command("c1", s.now() + 1000));
    for (let i = 0; i < 10; i++) {
      s.advance(100);
      s.p.tick();
    }
    expect(s.sent).toEqual(["c1", "c1", "c1"]);
    const r = await promise;
    expect(r.outcome).toBe("no-answer");
    expect(r.reason).toContain("no result from host h1 for command c1 by its deadline (3 sends)");
  });

  it("returns the same promise for a repeated id and the kept result afterwards", async () => {
    const s = setup();
    const a = s.p.submit("h1", command("c1", s.now() + 1000));
    expect(s.p.submit("h1", command("c1", s.now() + 1000))).toBe(a);
    s.p.settle("h1", result("c1"));
    expect((await a).outcome).toBe("ok");
    expect(await s.p.submit("h1", command("c1", s.now() + 1000))).toEqual(result("c1"));
    expect(s.sent).toEqual(["c1"]);
  });

  it("sends a command queued while disconnected when the host connects", () => {
    const s = setup(false);
    void s.p.submit("h1", command("c1", s.now() + 1000));
    expect(s.sent).toEqual([]);
    s.state.connected = true;
    s.p.hostConnected("h1");
    expect(s.sent).toEqual(["c1"]);
  });

  it("keeps a late result once and ignores its duplicates and answers from another host", async () => {
    const s = setup();
    const a = s.p.submit("h1", command("c1", s.now() + 50));
    s.p.settle("h2", result("c1"));
    s.advance(100);
    s.p.tick();
    expect((await a).outcome).toBe("no-answer");
    s.p.settle("h1", result("c1"));
    s.p.settle("h1", result("c1"));
    expect(s.results.map((r) => r.outcome)).toEqual(["no-answer", "ok"]);
  });
});
