// The store of what agents report about applications: latest values per application, changes pushed,
// and the two alarms raised on a change and cancelled when it is over — never twice for a repeat.
import { describe, expect, it } from "vitest";
import { AppRuntimeStore, withAppRuntime, type AppRuntimeChanges, type RuntimeAlarm } from "./app-runtime";
import type { AppStatusMessage, ConfigDeliveryMessage, Resync } from "../../protocol/agent-wire";

function store() {
  const changes: AppRuntimeChanges[] = [];
  const alarms: RuntimeAlarm[] = [];
  return { s: new AppRuntimeStore({ onChange: (c) => changes.push(c), onAlarm: (a) => alarms.push(a) }), changes, alarms };
}

const status = (over: Partial<AppStatusMessage>): AppStatusMessage => ({
  application: "sip-1",
  status: "running",
  previous: null,
  detail: "",
  pid: 1,
  exitCode: null,
  signal: null,
  time: "2024-01-01T00:00:00.000Z",
  restart: { attempts: 0, maxRestarts: 2, nextAttemptAt: null, gaveUp: false },
  lastOutput: "",
  ...over,
});
const delivery = (outcome: ConfigDeliveryMessage["outcome"], revision: string): ConfigDeliveryMessage => ({ application: "sip-1", revision, outcome, detail: `${outcome} detail`, time: "2024-01-01T00:00:00.000Z" });

describe("AppRuntimeStore", () => {
  it("keeps the latest status, restart state, last output, running configuration and delivery, and pushes each change", () => {
    const { s, changes } = store();
    s.onAppStatus("host-1", status({ status: "failed", detail: "exited unexpectedly", lastOutput: "EADDRINUSE" }));
    s.onRunningConfig("host-1", { application: "sip-1", configRevision: "r1", version: "1.0", options: { "sip-pass-check": "true" }, dns: {}, time: "2024-01-01T00:00:01.000Z" });
    s.onConfigDelivery("host-1", delivery("reloaded", "r1"));
    const [a] = s.all().applications;
    expect(a).toMatchObject({ application: "sip-1", hostName: "host-1", status: "failed", lastOutput: "EADDRINUSE", running: { configRevision: "r1" }, delivery: { outcome: "reloaded" } });
    expect(changes.map((c) => c.applications.map((x) => x.application))).toEqual([["sip-1"], ["sip-1"], ["sip-1"]]);
  });

  it("a failed delivery raises config-delivery-failed once; a later delivery that worked cancels it", () => {
    const { s, alarms } = store();
    s.onConfigDelivery("host-1", delivery("failed", "r2"));
    s.onAppStatus("host-1", status({})); // unrelated report: no second raise
    s.onConfigDelivery("host-1", delivery("written", "r3"));
    expect(alarms).toEqual([
      { raise: true, kind: "config-delivery-failed", application: "sip-1", hostName: "host-1", text: "configuration r2 did not reach sip-1 on host-1: failed detail" },
      { raise: false, kind: "config-delivery-failed", application: "sip-1", hostName: "host-1", text: "configuration r3 reached sip-1 (written)" },
    ]);
  });

  it("a restart policy that gave up raises restart-gave-up once (also across a resync); a start cancels it", () => {
    const { s, alarms } = store();
    const gaveUp = { attempts: 2, maxRestarts: 2, nextAttemptAt: null, gaveUp: true };
    s.onAppStatus("host-1", status({ status: "failed", detail: "exited unexpectedly (code 70); gave up restarting it: 2 automatic restarts within 600 s already (at most 2)", restart: gaveUp }));
    const resync: Resync = {
      agentVersion: "1",
      agentStartedAt: "2024-01-01T00:00:00.000Z",
      configRevision: "r1",
      applications: [{ application: "sip-1", status: "failed", detail: "gave up", pid: null, since: "2024-01-01T00:00:00.000Z", role: null, roleEpoch: null, readiness: null, restart: gaveUp, lastOutput: "", running: null }],
      epochs: {},
      vip: { "pair-1": false },
      inFlightCommandIds: [],
    };
    s.onResync("host-1", resync);
    s.onAppStatus("host-1", status({ status: "starting", restart: { attempts: 0, maxRestarts: 2, nextAttemptAt: null, gaveUp: false } }));
    expect(alarms.map((a) => [a.raise, a.kind])).toEqual([
      [true, "restart-gave-up"],
      [false, "restart-gave-up"],
    ]);
    expect(alarms[0]!.text).toBe("sip-1 on host-1 stays down: exited unexpectedly (code 70); gave up restarting it: 2 automatic restarts within 600 s already (at most 2)");
    expect(s.all().vip).toEqual([expect.objectContaining({ pair: "pair-1", hostName: "host-1", present: false })]);
  });

  it("VIP observations are pushed only when presence or address change", () => {
    const { s, changes } = store();
    const seen = (present: boolean, at: string) => s.onVipPresence("host-1", { pair: "pair-1", present, address: "10.0.0.50", detail: "", checkedAt: at });
    seen(true, "2024-01-01T00:00:00.000Z");
    seen(true, "2024-01-01T00:00:02.000Z");
    seen(false, "2024-01-01T00:00:04.000Z");
    expect(changes.map((c) => c.vip.map((v) => v.present))).toEqual([[true], [false]]);
  });

  it("withAppRuntime tees the reports to the store and still calls the callbacks it wraps", () => {
    const { s } = store();
    const calls: string[] = [];
    const deps = withAppRuntime(s, {
      term: 1,
    verifyToken: async () => true,
      configForHost: async () => null,
      onAppStatus: (h, m) => calls.push(`status ${h} ${m.application}`),
      onVipPresence: (h, m) => calls.push(`vip ${h} ${m.pair}`),
    });
    deps.onAppStatus?.("host-1", status({}));
    deps.onVipPresence?.("host-1", { pair: "pair-1", present: true, address: "", detail: "", checkedAt: "2024-01-01T00:00:00.000Z" });
    deps.onConfigDelivery?.("host-1", delivery("reloaded", "r1"));
    expect(calls).toEqual(["status host-1 sip-1", "vip host-1 pair-1"]);
    expect(s.all().applications[0]).toMatchObject({ status: "running", delivery: { revision: "r1" } });
  });
});
