// Unit tests for the agent's command ledger: idempotency, deadline, fencing (not of host commands), persistence, resend.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentCommand } from "../protocol/agent-wire";
import { CommandLedger } from "./command-ledger";

const NOW = Date.parse("2030-01-01T00:00:00Z");
const dirs: string[] = [];
function cmd(id: string, pairEpoch: number, deadlineMs = NOW + 10_000): AgentCommand {
  return { id, type: "set-role", application: "sip1", role: "primary", pairEpoch, deadline: new Date(deadlineMs).toISOString() };
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
    const os: AgentCommand = { id: "o", type: "run-os-command", argv: ["/bin/true"], timeoutMs: 1000, reason: "", deadline: new Date(NOW + 10_000).toISOString() };
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
    const enable: AgentCommand = { id: "script:p:h:enable:e3", type: "run-control-script", application: "sip1", pairEpoch: 3, action: "enable", reason: "", deadline: new Date(NOW + 10_000).toISOString() };
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
});
