// Unit tests for the reconnect back-off.
import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "./connection";

describe("backoffDelayMs", () => {
  const opts = { initialBackoffMs: 100, maxBackoffMs: 5000 };
  it("doubles per attempt with jitter between half and all of the step", () => {
    expect(backoffDelayMs(0, opts, () => 0)).toBe(50);
    expect(backoffDelayMs(0, opts, () => 1)).toBe(100);
    expect(backoffDelayMs(3, opts, () => 1)).toBe(800);
  });
  it("never exceeds the maximum, however many attempts", () => {
    expect(backoffDelayMs(1000, opts, () => 1)).toBe(5000);
    expect(backoffDelayMs(1000, opts, () => 0)).toBe(2500);
  });
});
