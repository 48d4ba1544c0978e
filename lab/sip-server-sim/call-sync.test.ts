// W12 call synchronisation planning and batch pacing (pure, pauses counted not waited for).
import { describe, expect, it } from "vitest";
import { haSyncPauseDefaultMs, planCallSync, runPacedSync, splitIntoBatches } from "./call-sync";

const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}${index}`);

describe("W12 call synchronisation", () => {
  it("W12 only calls missing on the backup are sent; extras on the backup are dropped", () => {
    const plan = planCallSync(["a", "b", "c"], ["b", "z"]);
    expect(plan.missingOnBackup).toEqual(["a", "c"]);
    expect(plan.alreadySynced).toEqual(["b"]);
    expect(plan.extraOnBackup).toEqual(["z"]);
  });

  it("W12 2,000 missing calls in batches of 500 are 4 batches of 500", () => {
    const batches = splitIntoBatches(ids("c", 2000), 500);
    expect(batches.map((batch) => batch.length)).toEqual([500, 500, 500, 500]);
    expect(splitIntoBatches(ids("c", 1001), 1000).map((batch) => batch.length)).toEqual([1000, 1]);
    expect(() => splitIntoBatches(["a"], 0)).toThrow("batch size must be a positive integer");
  });

  it("W12 pauses 1 s between batches by default, not before the first nor after the last", async () => {
    const events: string[] = [];
    const sent = await runPacedSync(splitIntoBatches(ids("c", 2000), 500), haSyncPauseDefaultMs, {
      stillWanted: () => true,
      sleepMs: async (ms) => void events.push(`sleep ${ms}`),
      sendBatch: async (batch, index) => void events.push(`batch ${index} of ${batch.length}`),
    });
    expect(sent).toBe(4);
    expect(events).toEqual([
      "batch 0 of 500",
      "sleep 1000",
      "batch 1 of 500",
      "sleep 1000",
      "batch 2 of 500",
      "sleep 1000",
      "batch 3 of 500",
    ]);
  });

  it("W12 a sync abandoned (link down) stops sending", async () => {
    let wanted = true;
    const sentBatches: number[] = [];
    const sent = await runPacedSync(splitIntoBatches(ids("c", 1000), 200), 1000, {
      stillWanted: () => wanted,
      sleepMs: async () => {
        if (sentBatches.length === 2) wanted = false;
      },
      sendBatch: async (batch) => void sentBatches.push(batch.length),
    });
    expect(sent).toBe(2);
    expect(sentBatches).toEqual([200, 200]);
  });
});
