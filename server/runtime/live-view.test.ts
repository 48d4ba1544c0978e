// Unit tests of the pair view: the failure summary (the line of a failed process's output that says why)
// and whether a blocked switchover could be forced.
import { describe, expect, it } from "vitest";
import { exitCause, failureOf, pairViews, FAILURE_OUTPUT_MAX_LINES } from "./live-view";
import { createControllerState, step, type ControllerEvent, type ControllerState, type PairConfig } from "../controller/core";
import { testPair } from "../controller/test-pairs";
import type { HostLiveState } from "../agents/gateway";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

describe("why a process failed, for its card", () => {
  it("picks the error line, not the last line", () => {
    const out = [
      "sip-c2 starting (version 9.0)",
      "sip-c2: cannot open the HTTP interface on 127.2.5.1:17081: listen EADDRINUSE: address already in use 127.2.5.1:17081",
      "bye",
    ].join("\n");
    expect(exitCause(out)).toBe("sip-c2: cannot open the HTTP interface on 127.2.5.1:17081: listen EADDRINUSE: address already in use 127.2.5.1:17081");
    // A stack trace's frames are not the cause; its message is.
    expect(exitCause("Error: ENOENT: no such file or directory, open '/etc/sip.conf'\n    at Object.openSync (node:fs:573:3)\n")).toBe("Error: ENOENT: no such file or directory, open '/etc/sip.conf'");
  });

  it("falls back to the last line, and says nothing of a process that wrote nothing", () => {
    expect(exitCause("one\ntwo\n\n")).toBe("two");
    expect(exitCause("  \n")).toBeNull();
  });

  it("only a failed process has a failure, with its last few lines", () => {
    expect(failureOf("running", "Error: x")).toBeNull();
    expect(failureOf("stopped", "Error: x")).toBeNull();
    const out = Array.from({ length: 20 }, (_, i) => `line ${i}`).join("\n");
    const f = failureOf("failed", out)!;
    expect(f.output.split("\n")).toHaveLength(FAILURE_OUTPUT_MAX_LINES);
    expect(f.cause).toBe("line 19");
    expect(failureOf("failed", undefined)).toEqual({ cause: null, output: "" });
  });
});

describe("whether a switchover could be forced", () => {
  const pair: PairConfig = testPair();

  const host = (hostName: string, state: HostLiveState["state"] = "connected"): HostLiveState => ({ hostName, state, reason: "", since: new Date(0), lastHeartbeatAt: null, agentVersion: null, socketOpen: state === "connected" });
  /** sip-1 primary and sip-2 backup, both running; sip-2 ready as given. */
  function steady(sip2Ready: 0 | 1): ControllerState {
    let state = createControllerState({ nowMs: 0, pairs: [pair], persisted: { "pair-a": { epoch: 4, intendedPrimaryAppId: "sip-1", stoppedAppIds: [] } } });
    const feed = (e: DistributiveOmit<ControllerEvent, "atMs">) => (state = step(state, { ...e, atMs: 0 } as ControllerEvent).state);
    feed({ type: "agent-connected", hostId: "host-1" });
    feed({ type: "agent-connected", hostId: "host-2" });
    for (const [appId, hostId, role, ready] of [["sip-1", "host-1", "primary", 1], ["sip-2", "host-2", "backup", sip2Ready]] as const) {
      feed({ type: "application-status", hostId, appId, status: "running", sentAtMs: 0 });
      feed({ type: "role-report", hostId, appId, role, epoch: 4, sentAtMs: 0 });
      feed({ type: "readiness-report", hostId, appId, readyForSwitchover: ready, notReadyReasons: ready ? [] : ["HA link up for 12 s of 60 s"], unsyncedCalls: 0, haLink: "up", sipListener: "bound", sentAtMs: 0 });
    }
    return state;
  }

  it("only when readiness alone blocks it", () => {
    const [ready] = pairViews(steady(1), [pair], [host("host-1"), host("host-2")]);
    expect(ready).toMatchObject({ switchoverBlockers: [], forceable: false });
    const [unready] = pairViews(steady(0), [pair], [host("host-1"), host("host-2")]);
    expect(unready).toMatchObject({ switchoverBlockers: ["sip-2 is not ready: HA link up for 12 s of 60 s"], forceable: true });
    // A host cut off is refused even forced: no "Force switchover…" to offer.
    const [cutOff] = pairViews(steady(0), [pair], [host("host-1"), host("host-2", "disconnected")]);
    expect(cutOff!.forceable).toBe(false);
    expect(cutOff!.switchoverBlockers[0]).toBe("host host-2 of sip-2 is disconnected");
  });
});

describe("a host's last heartbeat in the view", () => {
  const pair: PairConfig = testPair();
  const state = createControllerState({ nowMs: 0, pairs: [pair] });
  const host = (hostName: string, state: HostLiveState["state"], heardAtMs: number): HostLiveState => ({ hostName, state, reason: "", since: new Date(0), lastHeartbeatAt: new Date(heardAtMs), agentVersion: null, socketOpen: state === "connected" });

  it("is left out while the host is connected (a heartbeat does not change the view), and kept once it is not", () => {
    const at = (heardAtMs: number, host2: HostLiveState["state"]) => pairViews(state, [pair], [host("host-1", "connected", heardAtMs), host("host-2", host2, heardAtMs)])[0]!;
    expect(JSON.stringify(at(1_000, "connected"))).toBe(JSON.stringify(at(1_500, "connected")));
    const cutOff = at(1_500, "disconnected");
    expect(cutOff.servers.map((s) => s.lastHeartbeatAt?.getTime() ?? null)).toEqual([null, 1_500]);
  });
});
