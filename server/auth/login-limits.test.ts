// Unit tests of the failed-login limits: which limits lock out and which only slow down, refunds, and
// concurrent reservations (the slow-down is observed through the injected sleep, never waited for).
import { describe, expect, it } from "vitest";
import { LOGIN_SLOWDOWN_MS, LOGIN_SPREAD_FACTOR, LoginLimits } from "./login-limits";

const settings = { loginMaxFailures: 5, loginWindowSeconds: 900 };

function limits() {
  const slept: number[] = [];
  const l = new LoginLimits(settings, async (ms) => {
    slept.push(ms);
  });
  return { l, slept };
}

describe("LoginLimits", () => {
  it("locks a user name out from one address after LOGIN_MAX_FAILURES, not from another", async () => {
    const { l } = limits();
    for (let i = 0; i < 5; i++) await l.reserve("203.0.113.1", "alice");
    await expect(l.reserve("203.0.113.1", "alice")).rejects.toThrow(/too many failed logins; try again in \d+ s/);
    await expect(l.reserve("203.0.113.2", "alice")).resolves.toBeDefined();
  });

  it("locks a user name out from everywhere after LOGIN_SPREAD_FACTOR times as many failures spread over addresses", async () => {
    const { l } = limits();
    for (let i = 0; i < 5 * LOGIN_SPREAD_FACTOR; i++) await l.reserve(`198.51.100.${i}`, "alice");
    await expect(l.reserve("192.0.2.99", "alice")).rejects.toThrow(/too many failed logins/);
    await expect(l.reserve("192.0.2.99", "bob")).resolves.toBeDefined();
  });

  it("only slows an address down once its failures across user names are used up, never refuses it", async () => {
    const { l, slept } = limits();
    for (let i = 0; i < 5 * LOGIN_SPREAD_FACTOR; i++) await l.reserve("203.0.113.1", `random-${i}`);
    expect(slept).toEqual([]);
    await expect(l.reserve("203.0.113.1", "admin")).resolves.toBeDefined();
    expect(slept).toEqual([LOGIN_SLOWDOWN_MS]);
  });

  it("gives the reservation back on refund, and a refused attempt counts nowhere", async () => {
    const { l } = limits();
    for (let i = 0; i < 4; i++) await l.reserve("203.0.113.1", "alice");
    await (await l.reserve("203.0.113.1", "alice")).refund();
    await l.reserve("203.0.113.1", "alice");
    await expect(l.reserve("203.0.113.1", "alice")).rejects.toThrow(/too many/);
    // The refused attempts did not use up alice's room from other addresses (5 of 20 used).
    for (let i = 0; i < 15; i++) await l.reserve(`198.51.100.${i}`, "alice");
    await expect(l.reserve("198.51.100.200", "alice")).rejects.toThrow(/too many/);
  });

  it("lets exactly LOGIN_MAX_FAILURES of many concurrent attempts through", async () => {
    const { l } = limits();
    const outcomes = await Promise.allSettled(Array.from({ length: 100 }, () => l.reserve("203.0.113.1", "alice")));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(5);
  });
});
