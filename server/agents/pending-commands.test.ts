// Unit tests for command delivery bookkeeping with an injected clock: one send per submit (the
// submitter owns retries), results only from the host a command went to, no answer at the deadline.
import { describe, expect, it } from "vitest";
import type { AgentCommand, CommandResult } from "../../protocol/agent-wire";
import { PendingCommands } from "./pending-commands";

function setup(connected = true) {
  let t = 1_000_000;
  const sent: string[] = [];
  const results: CommandResult[] = [];
  const refused: string[] = [];
  const state = { connected };
  const p = new PendingCommands({
    now: () => t,
    send: (_h, c) => (state.connected ? (sent.push(c.id), true) : false),
    onResult: (_h, r) => results.push(r),
    onRefused: (h, r, why) => refused.push(`${h}:${r.commandId}: ${why}`),
  });
  return { p, sent, results, refused, state, advance: (ms: number) => (t += ms), now: () => t };
}
const command = (id: string, deadlineMs: number): AgentCommand => ({ id, type: "start", application: "a", pairEpoch: 1, role: null, term: 1, deadline: new Date(deadlineMs).toISOString() });
const result = (id: string, outcome: CommandResult["outcome"] = "ok"): CommandResult => ({
  // A fixed time: two results made a millisecond apart must still compare equal.
  commandId: id, type: "start", application: "a", outcome, reason: "r", pairEpoch: 1, finishedAt: "2026-01-01T00:00:00.000Z", scripts: [], heldEpoch: null,
});

describe("PendingCommands", () => {
  it("sends once per submit (never again on its own) and gives up with no-answer at the deadline", async () => {
    const s = setup();
    const promise = s.p.submit("h1", command("c1", s.now() + 1000));
    for (let i = 0; i < 10; i++) {
      s.advance(100);
      s.p.tick();
    }
    expect(s.sent).toEqual(["c1"]);
    const r = await promise;
    expect(r.outcome).toBe("no-answer");
    expect(r.reason).toContain("no result from host h1 for command c1 by its deadline (1 send)");
  });

  it("a repeated submit of a pending id is the submitter's retry: sent again, same promise", async () => {
    const s = setup();
    const a = s.p.submit("h1", command("c1", s.now() + 1000));
    expect(s.p.submit("h1", command("c1", s.now() + 1000))).toBe(a);
    expect(s.sent).toEqual(["c1", "c1"]);
    s.p.settle("h1", result("c1"));
    expect((await a).outcome).toBe("ok");
    expect(await s.p.submit("h1", command("c1", s.now() + 1000))).toEqual(result("c1"));
    expect(s.sent).toEqual(["c1", "c1"]);
  });

  it("sends a command queued while disconnected when the host connects", () => {
    const s = setup(false);
    void s.p.submit("h1", command("c1", s.now() + 1000));
    expect(s.sent).toEqual([]);
    s.state.connected = true;
    s.p.hostConnected("h1");
    expect(s.sent).toEqual(["c1"]);
  });

  it("a withdrawn command that never went out is not sent when the host connects; one already sent cannot be withdrawn", async () => {
    const s = setup(false);
    const held = s.p.submit("h1", command("c1", s.now() + 1000));
    expect(s.p.withdraw("h2", "c1", "wrong host")).toBe(false);
    expect(s.p.withdraw("h1", "c1", "its plan was abandoned")).toBe(true);
    const r = await held;
    expect(r).toMatchObject({ commandId: "c1", outcome: "no-answer" });
    expect(r.reason).toBe("command c1 was not sent to host h1: its plan was abandoned");
    s.state.connected = true;
    s.p.hostConnected("h1");
    expect(s.sent).toEqual([]);
    expect(s.results).toEqual([]); // nobody awaits a result of it: none is reported
    expect(s.p.pendingIds()).toEqual([]);

    void s.p.submit("h1", command("c2", s.now() + 1000));
    expect(s.sent).toEqual(["c2"]);
    expect(s.p.withdraw("h1", "c2", "too late")).toBe(false);
    expect(s.p.pendingIds()).toEqual(["c2"]);
  });

  it("refuses a result from another host, and a result for a command it never sent", async () => {
    const s = setup();
    const a = s.p.submit("h1", command("c1", s.now() + 50));
    s.p.settle("h2", result("c1")); // host h2 answers h1's command
    s.p.settle("h3", result("guessed-id")); // host h3 answers ahead of a command it guesses
    s.advance(100);
    s.p.tick();
    expect((await a).outcome).toBe("no-answer");
    expect(s.refused).toEqual(["h2:c1: it was sent to h1", "h3:guessed-id: this console did not send it (or forgot it)"]);
    // The guessed result was not kept: a later command with that id is really sent and really answered.
    const later = s.p.submit("h1", command("guessed-id", s.now() + 1000));
    expect(s.sent).toEqual(["c1", "guessed-id"]);
    s.p.settle("h1", result("guessed-id", "failed"));
    expect((await later).outcome).toBe("failed");
  });

  it("keeps a late result once (after no-answer) and ignores its duplicates", async () => {
    const s = setup();
    const a = s.p.submit("h1", command("c1", s.now() + 50));
    s.advance(100);
    s.p.tick();
    expect((await a).outcome).toBe("no-answer");
    s.p.settle("h1", result("c1"));
    s.p.settle("h1", result("c1"));
    expect(s.results.map((r) => r.outcome)).toEqual(["no-answer", "ok"]);
  });
});
