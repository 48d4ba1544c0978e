// Unit tests of the pure alarm matcher: matching by event id, scoping, cancel events, auto-clear with
// an injected clock, repeat counting and controller alarms.
import { describe, expect, it } from "vitest";
import { AlarmMatcher, alarmKey, type MatchCondition, type Subject } from "./matcher";

const cond = (over: Partial<MatchCondition> & { id: string }): MatchCondition => ({
  eventId: null,
  controllerKind: null,
  scopeKind: "all",
  scopeValues: [],
  severity: "critical",
  cancelEventId: null,
  cancelControllerKind: null,
  autoClearSeconds: null,
  description: over.id,
  enabled: true,
  ...over,
});

const sip1: Subject = { application: "sip-1", host: "host-1", pair: "pair-a", applicationType: "sip-server" };
const sip2: Subject = { application: "sip-2", host: "host-2", pair: "pair-a", applicationType: "sip-server" };
const gen: Subject = { application: "media-1", host: "host-1", pair: "", applicationType: "generic" };

describe("alarm matcher", () => {
  it("raises an alarm for a condition's event id and ignores other ids", () => {
    const m = new AlarmMatcher([cond({ id: "bind", eventId: "00-04200" })]);
    expect(m.logEvent("00-01111", sip1, "noise", 1000)).toEqual([]);
    const [effect] = m.logEvent("00-04200", sip1, "cannot bind 5060", 1000);
    expect(effect).toMatchObject({ type: "raise", key: alarmKey("bind", sip1), source: "00-04200", text: "cannot bind 5060", atMs: 1000 });
    expect(m.active()).toHaveLength(1);
  });

  it("repeats increment the count and last seen of the one active alarm per condition and application", () => {
    const m = new AlarmMatcher([cond({ id: "bind", eventId: "00-04200" })]);
    m.logEvent("00-04200", sip1, "first", 1000);
    expect(m.logEvent("00-04200", sip1, "again", 2000)).toEqual([{ type: "repeat", key: alarmKey("bind", sip1), conditionId: "bind", count: 2, atMs: 2000, text: "again" }]);
    expect(m.logEvent("00-04200", sip1, "again", 3000)[0]).toMatchObject({ type: "repeat", count: 3 });
    // Another application of the same condition is another alarm.
    expect(m.logEvent("00-04200", sip2, "other", 3000)[0]).toMatchObject({ type: "raise" });
    const a1 = m.active().find((a) => a.subject.application === "sip-1")!;
    expect(a1).toMatchObject({ count: 3, firstSeenMs: 1000, lastSeenMs: 3000 });
    expect(m.active()).toHaveLength(2);
  });

  it("scopes: all, an application type, named applications, named hosts", () => {
    const m = new AlarmMatcher([
      cond({ id: "all", eventId: "00-00001" }),
      cond({ id: "type", eventId: "00-00002", scopeKind: "type", scopeValues: ["sip-server"] }),
      cond({ id: "apps", eventId: "00-00003", scopeKind: "applications", scopeValues: ["sip-2"] }),
      cond({ id: "hosts", eventId: "00-00004", scopeKind: "hosts", scopeValues: ["host-1"] }),
    ]);
    const raised = (id: string, s: Subject) => m.logEvent(id, s, "", 1).some((e) => e.type === "raise" || e.type === "repeat");
    expect(raised("00-00001", gen)).toBe(true);
    expect(raised("00-00002", sip1)).toBe(true);
    expect(raised("00-00002", gen)).toBe(false);
    expect(raised("00-00002", { ...sip1, applicationType: null })).toBe(false);
    expect(raised("00-00003", sip1)).toBe(false);
    expect(raised("00-00003", sip2)).toBe(true);
    expect(raised("00-00004", gen)).toBe(true);
    expect(raised("00-00004", sip2)).toBe(false);
  });

  it("a cancel event clears the alarm of the same application only", () => {
    const m = new AlarmMatcher([cond({ id: "vip", eventId: "00-52029", cancelEventId: "00-52030" })]);
    m.logEvent("00-52029", sip1, "VIP missing", 1000);
    m.logEvent("00-52029", sip2, "VIP missing", 1000);
    expect(m.logEvent("00-52030", sip1, "VIP ok", 2000)).toEqual([
      { type: "clear", key: alarmKey("vip", sip1), conditionId: "vip", how: "cancel-event", atMs: 2000, text: "cancelled by 00-52030: VIP ok" },
    ]);
    expect(m.active().map((a) => a.subject.application)).toEqual(["sip-2"]);
    // A cancel event without an active alarm does nothing; the next failure raises a new alarm.
    expect(m.logEvent("00-52030", sip1, "VIP ok", 2500)).toEqual([]);
    expect(m.logEvent("00-52029", sip1, "VIP missing", 3000)[0]).toMatchObject({ type: "raise" });
  });

  it("auto-clears after the timeout since last seen, by the injected clock", () => {
    const m = new AlarmMatcher([cond({ id: "bind", eventId: "00-04200", autoClearSeconds: 60 }), cond({ id: "nic", eventId: "00-52027" })]);
    m.logEvent("00-04200", sip1, "", 0);
    m.logEvent("00-52027", sip1, "", 0);
    m.logEvent("00-04200", sip1, "", 30_000); // a repeat keeps it alive
    expect(m.expire(89_999)).toEqual([]);
    expect(m.expire(90_000)).toEqual([{ type: "clear", key: alarmKey("bind", sip1), conditionId: "bind", how: "auto-clear", atMs: 90_000, text: "auto-cleared: not seen for 60 s" }]);
    // The condition without a timeout stays until cancelled or cleared by hand.
    expect(m.expire(10_000_000)).toEqual([]);
    expect(m.active().map((a) => a.conditionId)).toEqual(["nic"]);
  });

  it("disabled conditions neither raise nor cancel; forget() lets the next event raise anew", () => {
    const m = new AlarmMatcher([cond({ id: "vip", eventId: "00-52029", cancelEventId: "00-52030" })]);
    m.logEvent("00-52029", sip1, "", 1);
    m.setConditions([cond({ id: "vip", eventId: "00-52029", cancelEventId: "00-52030", enabled: false })]);
    expect(m.logEvent("00-52029", sip1, "", 2)).toEqual([]);
    expect(m.logEvent("00-52030", sip1, "", 3)).toEqual([]);
    m.setConditions([cond({ id: "vip", eventId: "00-52029", cancelEventId: "00-52030" })]);
    m.forget(alarmKey("vip", sip1));
    expect(m.logEvent("00-52029", sip1, "", 4)[0]).toMatchObject({ type: "raise" });
  });

  it("controller alarms raise and cancel by kind, keyed by application, else host, else pair", () => {
    const m = new AlarmMatcher([cond({ id: "hd", controllerKind: "host-disconnected" }), cond({ id: "sb", controllerKind: "split-brain" })]);
    const host: Subject = { application: "", host: "host-1", pair: "pair-a", applicationType: null };
    const pair: Subject = { application: "", host: "", pair: "pair-a", applicationType: null };
    expect(m.controllerRaise("host-disconnected", host, "host-1 lost", 1)[0]).toMatchObject({ type: "raise", key: "hd|h:host-1", source: "host-disconnected" });
    expect(m.controllerRaise("split-brain", pair, "both primary", 1)[0]).toMatchObject({ key: "sb|p:pair-a" });
    expect(m.controllerRaise("stale-vip", host, "no condition", 1)).toEqual([]);
    expect(m.controllerCancel("host-disconnected", host, "host-1 back", 2)).toEqual([{ type: "clear", key: "hd|h:host-1", conditionId: "hd", how: "cancel-event", atMs: 2, text: "host-1 back" }]);
    expect(m.active().map((a) => a.key)).toEqual(["sb|p:pair-a"]);
  });

  it("W7 a 00-04200 alarm clears when the controller sees the server's SIP listener bound again (cancelControllerKind), for that application only", () => {
    const m = new AlarmMatcher([cond({ id: "bind", eventId: "00-04200", cancelControllerKind: "bind-failed" })]);
    const sip2: Subject = { ...sip1, application: "sip-2" };
    m.logEvent("00-04200", sip1, "cannot bind 5060", 1);
    m.logEvent("00-04200", sip2, "cannot bind 5060", 1);
    expect(m.controllerCancel("bind-failed", sip1, "sip-1 reports its SIP listener bound", 2)).toEqual([
      { type: "clear", key: alarmKey("bind", sip1), conditionId: "bind", how: "cancel-event", atMs: 2, text: "cancelled: sip-1 reports its SIP listener bound" },
    ]);
    expect(m.active().map((a) => a.key)).toEqual([alarmKey("bind", sip2)]);
    // Another kind's cancel does not clear it.
    expect(m.controllerCancel("application-failed", sip2, "running", 3)).toEqual([]);
  });

  it("starts from persisted active alarms, so a console restart repeats instead of raising again", () => {
    const key = alarmKey("bind", sip1);
    const m = new AlarmMatcher([cond({ id: "bind", eventId: "00-04200" })], [{ key, conditionId: "bind", subject: sip1, source: "00-04200", count: 4, firstSeenMs: 1, lastSeenMs: 2 }]);
    expect(m.logEvent("00-04200", sip1, "", 3)[0]).toMatchObject({ type: "repeat", count: 5 });
  });
});
