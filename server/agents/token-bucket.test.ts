// The token bucket grants a burst, then only what the rate refills.
import { expect, it } from "vitest";
import { TokenBucket } from "./token-bucket";

it("grants up to its capacity at once, then what the rate refills", () => {
  const b = new TokenBucket(10, 5, 0);
  expect(b.take(8, 0)).toBe(8);
  expect(b.take(8, 0)).toBe(2);
  expect(b.take(1, 100)).toBe(0); // 0.5 token refilled
  expect(b.take(3, 1000)).toBe(3); // 5 refilled by 1 s (the half token was kept)
  expect(b.take(100, 60_000)).toBe(10); // never more than the capacity
});
