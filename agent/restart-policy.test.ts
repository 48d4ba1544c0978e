// Unit tests of the restart rule: back-off growth, cap, window and give-up sentences.
import { describe, expect, it } from "vitest";
import { restartPolicySchema } from "../protocol/agent-wire";
import { decideRestart, restartDelayMs, restartStateOf } from "./restart-policy";

const policy = restartPolicySchema.parse({ enabled: true, maxRestarts: 4, restartWindowMs: 60_000, restartDelayMs: 100, restartDelayMaxMs: 500, backoffMultiplier: 3 });

describe("restart policy", () => {
  it("grows each delay by the multiplier and caps it", () => {
    expect([1, 2, 3, 4].map((n) => restartDelayMs(policy, n))).toEqual([100, 300, 500, 500]);
  });

  it("counts restarts inside the window and gives up past the maximum, naming count and window", () => {
    let times: number[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const d = decideRestart(policy, times, 1000 + i);
      if (d.kind !== "restart") throw new Error(`expected a restart, got ${d.kind}`);
      delays.push(d.delayMs);
      times = d.timesMs;
    }
    expect(delays).toEqual([100, 300, 500, 500]);
    const last = decideRestart(policy, times, 2000);
    expect(last).toMatchObject({ kind: "give-up", sentence: "gave up restarting it: 4 automatic restarts within 60 s already (at most 4)" });
    expect(restartStateOf(policy, times, 2000, null, true)).toEqual({ attempts: 4, maxRestarts: 4, nextAttemptAt: null, gaveUp: true });
  });

  it("forgets restarts older than the window, so the delay starts small again", () => {
    const d = decideRestart(policy, [0, 1, 2], 70_000);
    expect(d).toMatchObject({ kind: "restart", attempt: 1, delayMs: 100 });
  });

  it("restarts nothing when the policy is off", () => {
    expect(decideRestart({ ...policy, enabled: false }, [], 0).kind).toBe("disabled");
  });
});
