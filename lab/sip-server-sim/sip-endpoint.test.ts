// What a failed SIP bind means: a VIP not on the interface yet is waited for briefly; a real bind
// failure (W7) is reported and retried at the slow pace.
import { describe, expect, it } from "vitest";
import { addressRetryMs, afterBindFailure } from "./sip-endpoint";

const base = { errorMessage: "bind EADDRNOTAVAIL 10.215.0.50:5060", addressWaitMs: 10_000, bindRetryMs: 5000 };

describe("SIP bind failures", () => {
  it("EADDRNOTAVAIL on the VIP is retried every few tens of ms, from the first failure, for at most the wait", () => {
    const first = afterBindFailure({ ...base, errorCode: "EADDRNOTAVAIL", waitingSinceMs: null, nowMs: 1000 });
    expect(first).toEqual({ kind: "wait-for-address", retryInMs: addressRetryMs, waitingSinceMs: 1000 });
    expect(afterBindFailure({ ...base, errorCode: "EADDRNOTAVAIL", waitingSinceMs: 1000, nowMs: 10_999 }).kind).toBe("wait-for-address");
    expect(afterBindFailure({ ...base, errorCode: "EADDRNOTAVAIL", waitingSinceMs: 1000, nowMs: 11_000 })).toEqual({
      kind: "failed",
      retryInMs: 5000,
      reason: "bind EADDRNOTAVAIL 10.215.0.50:5060: the address is still on no interface after 10000 ms",
    });
  });

  it("W7 EADDRINUSE and EACCES are bind failures at once, retried at the bind retry pace", () => {
    for (const errorCode of ["EADDRINUSE", "EACCES"]) {
      expect(afterBindFailure({ ...base, errorMessage: `bind ${errorCode}`, errorCode, waitingSinceMs: null, nowMs: 0 })).toEqual({
        kind: "failed",
        retryInMs: 5000,
        reason: `bind ${errorCode}`,
      });
    }
  });

  it("W7 EADDRNOTAVAIL on a server's own address (no wait configured) is a bind failure at once", () => {
    expect(afterBindFailure({ ...base, addressWaitMs: 0, errorCode: "EADDRNOTAVAIL", waitingSinceMs: null, nowMs: 0 }).kind).toBe("failed");
  });
});
