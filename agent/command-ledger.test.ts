// Unit tests for the agent's command ledger: idempotency, deadline, fencing (not of host commands), persistence, resend.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentCommand } from "../protocol/agent-wire";
import { CommandLedger } from "./command-ledger";
import { TermStore } from "./term-store";

const NOW = Date.parse("2030-01-01T00:00:00Z");
const dirs: string[] = [];
function cmd(id: string, pairEpoch: number, deadlineMs = NOW + 10_000, term = 1): AgentCommand {
  return { id, type: "set-role", application: "sip1", role: "primary", pairEpoch, term, deadline: new Date(deadlineMs).toISOString() };
}
function tempFile(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "ledger-"));
  dirs.push(d);
  return path.join(d, "commands.json");
}
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe("command ledger", () => {
  it("returns the first result for a repeated id, even after the epoch moved on", () => {
    const l = new CommandLedger(null);
    expect(l.admit(cmd("a", 1), "pair", NOW).kind).toBe("execute");
    expect(l.admit(cmd("a", 1), "pair", NOW).kind).toBe("duplicate-running");
    const first = l.finish(cmd("a", 1), "ok", "sip1 is now primary at epoch 1");
    expect(l.admit(cmd("b", 5), "pair", NOW).kind).toBe("execute");
    const again = l.admit(cmd("a", 1), "pair", NOW);
    expect(again).toEqual({ kind: "duplicate-done", result: first });
  });

  it("refuses an older epoch, allows the same epoch, and keeps pairs apart", () => {
    const l = new CommandLedger(null);
    l.admit(cmd("a", 4), "pair-x", NOW);
    const stale = l.admit(cmd("b", 3), "pair-x", NOW);
    expect(stale.kind).toBe("refuse");
    expect(stale.kind === "refuse" && stale.result).toMatchObject({ outcome: "stale-epoch", reason: "command b carries epoch 3 of pair-x, older than epoch 4 already applied; refused" });
    expect(l.admit(cmd("c", 4), "pair-x", NOW).kind).toBe("execute");
    expect(l.admit(cmd("d", 0), "pair-y", NOW).kind).toBe("execute");
  });

  it("refuses a command past its deadline without touching the epoch", () => {
    const l = new CommandLedger(null);
    const late = l.admit(cmd("a", 9, NOW - 1), "pair", NOW);
    expect(late.kind === "refuse" && late.result.outcome).toBe("expired");
    expect(l.epochsSnapshot()).toEqual({});
  });

  it("never fences a host command (run-os-command) and reports it without application or epoch", () => {
    const l = new CommandLedger(null);
    l.admit(cmd("a", 7), "pair", NOW);
    const os: AgentCommand = { id: "o", type: "run-os-command", argv: ["/bin/true"], timeoutMs: 1000, reason: "", term: 1, deadline: new Date(NOW + 10_000).toISOString() };
    expect(l.admit(os, "pair", NOW).kind).toBe("execute");
    expect(l.epochsSnapshot()).toEqual({ pair: 7 });
    expect(l.finish(os, "ok", "ran")).toMatchObject({ commandId: "o", type: "run-os-command", application: null, pairEpoch: null });
    expect(l.admit(os, "pair", NOW).kind).toBe("duplicate-done");
  });

  it("persists epochs, results and unacknowledged results across a restart", () => {
    const file = tempFile();
    const l1 = new CommandLedger(file);
    l1.admit(cmd("a", 2), "pair", NOW);
    l1.finish(cmd("a", 2), "ok", "done a");
    l1.admit(cmd("b", 2), "pair", NOW);
    l1.finish(cmd("b", 2), "failed", "done b");
    l1.acknowledged("a");
    l1.flush();
    const l2 = new CommandLedger(file);
    expect(l2.epochsSnapshot()).toEqual({ pair: 2 });
    expect(l2.unackedResults().map((r) => r.commandId)).toEqual(["b"]);
    expect(l2.admit(cmd("a", 2), "pair", NOW).kind).toBe("duplicate-done");
    expect(l2.admit(cmd("c", 1), "pair", NOW).kind).toBe("refuse");
  });

  it("writes a raised epoch before the command runs; results follow right after the step", async () => {
    const file = tempFile();
    const l1 = new CommandLedger(file);
    expect(l1.admit(cmd("a", 3), "pair", NOW).kind).toBe("execute");
    // Fencing first: a restart now refuses epoch 2, although "a" has not finished.
    expect(new CommandLedger(file).admit(cmd("old", 2), "pair", NOW).kind).toBe("refuse");
    l1.finish(cmd("a", 3), "ok", "done a");
    expect(new CommandLedger(file).unackedResults()).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(new CommandLedger(file).unackedResults().map((r) => r.commandId)).toEqual(["a"]);
  });

  it("keeps a result the agent made on its own for the console's request, and resends it only once asked", () => {
    const l = new CommandLedger(null);
    const enable: AgentCommand = { id: "script:p:h:enable:e3", type: "run-control-script", application: "sip1", pairEpoch: 3, action: "enable", reason: "", term: 1, deadline: new Date(NOW + 10_000).toISOString() };
    expect(l.admit(enable, "pair", NOW).kind).toBe("execute");
    expect(l.isRunning(enable.id)).toBe(true);
    const result = l.finish(enable, "ok", "VIP enabled", [], null, { unasked: true });
    expect(l.unackedResults()).toEqual([]);
    expect(l.admit(enable, "pair", NOW)).toEqual({ kind: "duplicate-done", result });
    l.asked(enable.id);
    expect(l.unackedResults()).toEqual([result]);
    l.acknowledged(enable.id);
    expect(l.unackedResults()).toEqual([]);
  });

  it("refuses a command of an older leadership term than one seen (host commands too), and raises the term from a newer one", () => {
    const file = tempFile();
    const terms = new TermStore(path.join(path.dirname(file), "term.json"));
    const l = new CommandLedger(file, terms);
    expect(l.admit(cmd("t5", 1, NOW + 10_000, 5), "pair", NOW).kind).toBe("execute");
    expect(terms.highest()).toBe(5);
    const stale = l.admit(cmd("t4", 2, NOW + 10_000, 4), "pair", NOW);
    expect(stale.kind).toBe("refuse");
    if (stale.kind !== "refuse") throw new Error("unreachable");
    expect(stale.result).toMatchObject({ commandId: "t4", outcome: "stale-term", pairEpoch: 2 });
    expect(stale.result.reason).toBe("command t4 carries leadership term 4, older than term 5 already seen (a deposed console's); not executed");
    // The stale command's newer epoch was not taken: fencing by epoch never saw it.
    expect(l.epochsSnapshot()).toEqual({ pair: 1 });
    const os: AgentCommand = { id: "o4", type: "run-os-command", argv: ["/bin/true"], timeoutMs: 1000, reason: "", term: 4, deadline: new Date(NOW + 10_000).toISOString() };
    expect(l.admit(os, "pair", NOW)).toMatchObject({ kind: "refuse", result: { outcome: "stale-term", application: null } });
    // Its result goes out like any other, until acknowledged.
    expect(l.unackedResults().map((r) => r.commandId)).toEqual(["t4", "o4"]);
    // A newer term is taken and written, so a restarted agent (a new store on the same file) fences too.
    expect(l.admit(cmd("t6", 2, NOW + 10_000, 6), "pair", NOW).kind).toBe("execute");
    const reread = new TermStore(path.join(path.dirname(file), "term.json"));
    expect(reread.highest()).toBe(6);
    expect(reread.observe(5)).toEqual({ stale: true, highest: 6 });
  });

  it("keeps a term it cannot write in memory (still fenced) and says so", () => {
    const lines: string[] = [];
    const notADirectory = tempFile();
    fs.writeFileSync(notADirectory, "");
    const file = path.join(notADirectory, "term.json");
    const terms = new TermStore(file, (line) => lines.push(line));
    expect(terms.observe(3)).toEqual({ stale: false, highest: 3 });
    expect(terms.observe(2)).toEqual({ stale: true, highest: 3 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^cannot write leadership term 3 to .*term\.json: .*; an agent restarted before it is written would not remember it$/);
  });

  it("refuses to start on an unreadable term file rather than forget the term", () => {
    const file = path.join(path.dirname(tempFile()), "term.json");
    fs.writeFileSync(file, "{ not json");
    expect(() => new TermStore(file)).toThrow(/term\.json is unreadable/);
  });
});
