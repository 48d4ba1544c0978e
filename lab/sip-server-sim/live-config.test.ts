// Reload planning: each option takes effect when the catalogue says; what waits for the HA link applies
// there; restart-only values stay; the one log line names all three groups.
import { describe, expect, it } from "vitest";
import { applyAtHaLink, liveConfigAtStart, planReload, reloadSummary, runningConfig } from "./live-config";
import { simConfig } from "./testing";

const start = simConfig({
  name: "SIP_L",
  sipPort: 5060,
  httpPort: 8080,
  initialRole: "primary",
  configRevision: "r1",
  haSecret: "old",
  options: { "ha-max-calls-sync-at-once": "500", "sip-pass-check": "false", "backup-sip-port-check": "true" },
  dns: { gw1: { "oos-check": "10", "oos-force": "5" } },
});

describe("options applied live", () => {
  it("immediately / at the next HA link / at restart, as the catalogue says; DN options at once", () => {
    const file = {
      ...start,
      configRevision: "r2",
      haSecret: "new",
      sipPort: 5070,
      options: { "http-port": "9090", "ha-max-calls-sync-at-once": "300", "sip-pass-check": "true", "backup-sip-port-check": "false", "x-unknown": "1" },
      dns: { gw1: { "oos-check": "20", "oos-force": "5" }, gw2: { "oos-check": "5" } },
    };
    const plan = planReload(liveConfigAtStart(start), file);
    expect(plan.appliedNow).toEqual(["sip-pass-check=true", "x-unknown=1", "DN gw1 oos-check=20", "DN gw2 oos-check=5"]);
    expect(plan.atHaLink).toEqual(["ha-max-calls-sync-at-once=300", "haSecret"]);
    expect(plan.atRestart).toEqual(["backup-sip-port-check=false", "http-port=9090", "sipPort=5070"]);
    expect(runningConfig(plan.next, "v1")).toEqual({
      configRevision: "r2",
      version: "v1",
      options: { "http-port": "8080", "ha-max-calls-sync-at-once": "500", "sip-pass-check": "true", "backup-sip-port-check": "true", "x-unknown": "1" },
      dns: file.dns,
    });
    expect(plan.next.effective.sipPort).toBe(5060);
    expect(plan.next.effective.haSecret).toBe("new");
    expect(reloadSummary(plan, "r2")).toBe(
      'reload of configuration revision "r2": applied now: sip-pass-check=true, x-unknown=1, DN gw1 oos-check=20, DN gw2 oos-check=5; ' +
        "at the next HA link establishment: ha-max-calls-sync-at-once=300, haSecret; at restart: backup-sip-port-check=false, http-port=9090, sipPort=5070",
    );

    const linked = applyAtHaLink(plan.next);
    expect(linked.applied).toEqual(["ha-max-calls-sync-at-once=300"]);
    expect(linked.next.effective.options["ha-max-calls-sync-at-once"]).toBe("300");
    expect(applyAtHaLink(linked.next).applied).toEqual([]);
  });

  it("a value changed back before the link re-established cancels what was waiting; a removed option goes", () => {
    const waiting = planReload(liveConfigAtStart(start), { ...start, options: { ...start.options, "ha-max-calls-sync-at-once": "300" } }).next;
    const back = planReload(waiting, start);
    expect(back.atHaLink).toEqual([]);
    expect(back.next.pendingAtHaLink).toEqual({});
    const { "sip-pass-check": _removed, ...withoutPassCheck } = start.options;
    const removed = planReload(liveConfigAtStart(start), { ...start, options: withoutPassCheck });
    expect(removed.appliedNow).toEqual(["sip-pass-check removed"]);
    expect(removed.next.effective.options).toEqual(withoutPassCheck);
  });

  it("the same file again changes nothing and says so", () => {
    expect(reloadSummary(planReload(liveConfigAtStart(start), start), "r1")).toBe(
      'reload of configuration revision "r1": applied now: nothing; at the next HA link establishment: nothing; at restart: nothing',
    );
  });
});
