// Integration tests of the alarm slice on a real SQLite file through the real tRPC procedures: log
// events → alarms, repeats, cancel events, auto-clear and retention with an injected clock, controller
// alarms, acknowledge/clear by role with audit, and reactions reaching a local HTTP receiver and a local
// SMTP sink on 127.0.0.1.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestConsole, quietLogger, sipServerInput, twoNicHost, type TestConsole } from "../test-support";
import type { AlarmEngine } from "./engine";
import { importConfig } from "../transfer/transfer.service";
import { systemActor } from "../audit/audit.repository";

let tc: TestConsole;
let engine: AlarmEngine;
let clockMs = Date.parse("2025-06-01T10:00:00Z");
const event = (application: string, id: string, text = "") => ({ application, id, text, time: new Date(clockMs).toISOString(), level: "standard" });

/** What the engine wrote to the console's log: level, sentence and fields. */
const logged: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
const log = { ...quietLogger, info: (msg: string, fields: Record<string, unknown> = {}) => void logged.push({ level: "info", msg, fields }), warn: (msg: string, fields: Record<string, unknown> = {}) => void logged.push({ level: "warn", msg, fields }) };

beforeAll(async () => {
  tc = await createTestConsole({}, { alarms: { now: () => clockMs, log, reactions: { retryDelayMs: () => 0 } } });
  engine = tc.services.alarms;
});
afterAll(async () => {
  await engine.stop();
  await tc.close();
});

async function conditionId(eventIdOrKind: string): Promise<string> {
  const all = await tc.callerAs("viewer").alarms.conditions.list();
  const c = all.find((x) => x.eventId === eventIdOrKind || x.controllerKind === eventIdOrKind);
  if (!c) throw new Error(`no condition ${eventIdOrKind}`);
  return c.id;
}

describe("alarms", () => {
  it("creates the built-in conditions on first start", async () => {
    await engine.conditionsChanged(); // the engine's first operation loads (and on a fresh database creates) them
    const all = await tc.callerAs("viewer").alarms.conditions.list();
    expect(all.filter((c) => c.builtIn).map((c) => c.eventId ?? c.controllerKind)).toEqual(
      expect.arrayContaining(["00-04200", "00-52027", "00-52029", "host-disconnected", "application-failed", "split-brain", "service-unavailable"]),
    );
    expect(all.find((c) => c.eventId === "00-04200")).toMatchObject({ severity: "critical", enabled: true });
    expect(all.find((c) => c.eventId === "00-52029")).toMatchObject({ cancelEventId: "00-52030" });
    expect(all.find((c) => c.eventId === "00-52027")).toMatchObject({ cancelEventId: "00-52028" });
  });

  it("a log event raises an alarm; repeats count on the same row; invalid events are refused and not stored", async () => {
    const r1 = await engine.ingestLogEvents("host-1", [event("sip-1", "00-04200", "cannot bind 5060"), { application: "sip-1", id: "4200", text: "", time: "now" }]);
    expect(r1).toMatchObject({ stored: 1, raised: 1 });
    expect(r1.rejected).toHaveLength(1);
    clockMs += 5_000;
    await engine.ingestLogEvents("host-1", [event("sip-1", "00-04200", "still cannot bind")]);
    const active = await tc.callerAs("viewer").alarms.active();
    const a = active.find((x) => x.source === "00-04200" && x.application === "sip-1")!;
    expect(a).toMatchObject({ severity: "critical", host: "host-1", count: 2, lastText: "still cannot bind", state: "active" });
    expect(a.lastSeen.getTime() - a.firstSeen.getTime()).toBe(5_000);
    const counts = await tc.callerAs("viewer").alarms.counts();
    expect(counts).toMatchObject({ critical: 1, unacknowledged: 1 });
    const logs = await tc.callerAs("viewer").alarms.logEvents({ eventId: "00-04200", limit: 10 });
    expect(logs.items.map((l) => l.text)).toEqual(["still cannot bind", "cannot bind 5060"]);
  });

  it("a viewer cannot acknowledge or clear; an operator acknowledges with a note, then clears with a comment; both audited", async () => {
    const a = (await tc.callerAs("viewer").alarms.active()).find((x) => x.source === "00-04200")!;
    await expect(tc.callerAs("viewer").alarms.acknowledge({ id: a.id, note: "mine" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(tc.callerAs("viewer").alarms.clear({ id: a.id, comment: "fixed" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await tc.callerAs("operator").alarms.acknowledge({ id: a.id, note: "on it, checking the port" });
    let row = (await tc.callerAs("viewer").alarms.active()).find((x) => x.id === a.id)!;
    expect(row).toMatchObject({ state: "active", acknowledgedBy: "operator1", acknowledgeNote: "on it, checking the port" });
    expect((await tc.callerAs("viewer").alarms.counts()).unacknowledged).toBe(0);

    await expect(tc.callerAs("operator").alarms.clear({ id: a.id, comment: "  " })).rejects.toThrow(/a comment is required/);
    await tc.callerAs("operator").alarms.clear({ id: a.id, comment: "freed port 5060" });
    expect((await tc.callerAs("viewer").alarms.active()).some((x) => x.id === a.id)).toBe(false);
    const history = await tc.callerAs("viewer").alarms.history({ limit: 10 });
    row = history.items.find((x) => x.id === a.id)!;
    expect(row).toMatchObject({ state: "cleared", clearedBy: "operator1", clearComment: "freed port 5060", clearedHow: "manual" });
    await expect(tc.callerAs("admin").alarms.clear({ id: a.id, comment: "again" })).rejects.toThrow(/already cleared by operator1/);

    const audit = await tc.callerAs("viewer").audit.list({ objectType: "alarm", limit: 20 });
    expect(audit.items.map((e) => `${e.actorName} ${e.action}`)).toEqual(expect.arrayContaining(["operator1 alarm.acknowledge", "operator1 alarm.clear", "alarm engine alarm.raise"]));

    // After a clear by hand, the next event raises a new alarm.
    await engine.ingestLogEvents("host-1", [event("sip-1", "00-04200", "again")]);
    expect((await tc.callerAs("viewer").alarms.active()).filter((x) => x.source === "00-04200")).toHaveLength(1);
  });

  it("a cancel event clears the alarm of the same application (00-52030 cancels 00-52029)", async () => {
    await engine.ingestLogEvents("host-1", [event("sip-1", "00-52029", "VIP missing"), event("sip-2", "00-52029", "VIP missing")]);
    clockMs += 1_000;
    const r = await engine.ingestLogEvents("host-1", [event("sip-1", "00-52030", "VIP present")]);
    expect(r.cleared).toBe(1);
    const active = await tc.callerAs("viewer").alarms.active();
    expect(active.filter((x) => x.source === "00-52029").map((x) => x.application)).toEqual(["sip-2"]);
    const cleared = (await tc.callerAs("viewer").alarms.history({ limit: 50 })).items.find((x) => x.source === "00-52029")!;
    expect(cleared).toMatchObject({ application: "sip-1", clearedHow: "cancel-event", clearedBy: "alarm engine" });
  });

  it("auto-clears after the condition's timeout, by the injected clock", async () => {
    const admin = tc.callerAs("admin");
    await expect(tc.callerAs("operator").alarms.conditions.create({ eventId: "00-11111", severity: "minor", description: "test" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await admin.alarms.conditions.create({ eventId: "00-11111", severity: "minor", autoClearSeconds: 60, description: "trunk flapping" });
    await engine.ingestLogEvents("host-2", [event("sip-2", "00-11111", "flap")]);
    clockMs += 59_000;
    expect(await engine.expireNow()).toBe(0);
    clockMs += 1_000;
    expect(await engine.expireNow()).toBe(1);
    const row = (await tc.callerAs("viewer").alarms.history({ limit: 50 })).items.find((x) => x.source === "00-11111")!;
    expect(row).toMatchObject({ clearedHow: "auto-clear", clearComment: "auto-cleared: not seen for 60 s" });
  });

  it("controller alarms raise and cancel alarms of the built-in conditions", async () => {
    await engine.controllerAlarm({ type: "raise-alarm", kind: "split-brain", pairId: "pair-x", text: "both servers of pair-x are primary" });
    let a = (await tc.callerAs("viewer").alarms.active()).find((x) => x.source === "split-brain");
    expect(a).toMatchObject({ severity: "critical", lastText: "both servers of pair-x are primary" });
    await engine.controllerAlarm({ type: "cancel-alarm", kind: "split-brain", pairId: "pair-x", text: "split-brain cleared" });
    a = (await tc.callerAs("viewer").alarms.active()).find((x) => x.source === "split-brain");
    expect(a).toBeUndefined();
  });

  it("an application's failed delivery and a restart policy that gave up raise alarms of their built-in conditions, cancelled when over", async () => {
    await engine.applicationAlarm({ raise: true, kind: "config-delivery-failed", application: "sip-9", hostName: "host-9", text: "configuration r2 did not reach sip-9 on host-9: reload refused" });
    await engine.applicationAlarm({ raise: true, kind: "restart-gave-up", application: "sip-9", hostName: "host-9", text: "sip-9 on host-9 stays down: gave up restarting it" });
    const active = await tc.callerAs("viewer").alarms.active();
    expect(active.find((x) => x.source === "config-delivery-failed")).toMatchObject({ severity: "major", application: "sip-9", host: "host-9", lastText: "configuration r2 did not reach sip-9 on host-9: reload refused" });
    expect(active.find((x) => x.source === "restart-gave-up")).toMatchObject({ severity: "critical", application: "sip-9", host: "host-9" });
    await engine.applicationAlarm({ raise: false, kind: "config-delivery-failed", application: "sip-9", hostName: "host-9", text: "configuration r3 reached sip-9 (reloaded)" });
    await engine.applicationAlarm({ raise: false, kind: "restart-gave-up", application: "sip-9", hostName: "host-9", text: "sip-9 was started again" });
    const after = await tc.callerAs("viewer").alarms.active();
    expect(after.filter((x) => x.application === "sip-9")).toEqual([]);
  });

  it("alarms about an application, host or pair that is deleted are cleared as subject-deleted; the others stay", async () => {
    const admin = tc.callerAs("admin");
    const hostA = await admin.hosts.create(twoNicHost("gone-host-a", "10.71.0.1", "10.71.1.1"));
    const hostB = await admin.hosts.create(twoNicHost("gone-host-b", "10.72.0.1", "10.72.1.1"));
    const appA = await admin.applications.create(sipServerInput("gone-sip-a", hostA, 5060));
    const appB = await admin.applications.create(sipServerInput("gone-sip-b", hostB, 5060));
    const pairId = await admin.pairs.create({ name: "gone-pair", haType: "ip-takeover", controlDriver: "linux-ip", vipAddress: "10.73.0.100", vipPrefixLength: 24, vipInterface: "eth1", nlbClusterName: "", nlbPort: null, enableScript: "", disableScript: "", scriptTimeoutMs: 5000, primaryAppId: appA, backupAppId: appB });
    await engine.ingestLogEvents("gone-host-a", [event("gone-sip-a", "00-04200", "bind failed")]);
    await engine.ingestLogEvents("gone-host-b", [event("gone-sip-b", "00-04200", "bind failed")]);
    await engine.controllerAlarm({ type: "raise-alarm", kind: "split-brain", pairId, text: "both servers of gone-pair are primary" });
    await engine.controllerAlarm({ type: "raise-alarm", kind: "host-disconnected", pairId, hostId: hostB, text: "gone-host-b is disconnected" });
    const about = async () => (await tc.callerAs("viewer").alarms.active()).filter((a) => a.pair === "gone-pair" || a.application.startsWith("gone-") || a.host.startsWith("gone-"));
    expect((await about()).map((a) => `${a.source} ${a.application || a.host || a.pair}`).sort()).toEqual(["00-04200 gone-sip-a", "00-04200 gone-sip-b", "host-disconnected gone-host-b", "split-brain gone-pair"]);

    // The pair goes: its own alarm is cleared; the servers' alarms are about the servers, which remain.
    await admin.pairs.delete({ id: pairId });
    await engine.idle();
    expect((await about()).map((a) => `${a.source} ${a.application || a.host || a.pair}`).sort()).toEqual(["00-04200 gone-sip-a", "00-04200 gone-sip-b", "host-disconnected gone-host-b"]);
    // Then a server, then a host with its server.
    await admin.applications.delete({ id: appA });
    await engine.idle();
    await admin.applications.delete({ id: appB });
    await admin.hosts.delete({ id: hostB });
    await engine.idle();
    expect(await about()).toEqual([]);
    const cleared = (await tc.callerAs("viewer").alarms.history({ limit: 100 })).items.filter((a) => a.application.startsWith("gone-") || a.host.startsWith("gone-") || a.pair === "gone-pair");
    expect(cleared.map((a) => a.clearedHow)).toEqual(["subject-deleted", "subject-deleted", "subject-deleted", "subject-deleted"]);
    expect(cleared.map((a) => a.clearComment).sort()).toEqual([
      "cleared: application gone-sip-a is no longer in the configuration",
      "cleared: application gone-sip-b is no longer in the configuration",
      "cleared: host gone-host-b is no longer in the configuration",
      "cleared: pair gone-pair is no longer in the configuration",
    ]);
  });

  it("a controller alarm names its server even when the engine's directory predates it: six servers never merge into one alarm", async () => {
    // The directory is read before the configuration exists, and the configuration is then written
    // without a configuration event (as a console that seeds its lab at start may).
    await engine.controllerAlarm({ type: "raise-alarm", kind: "split-brain", pairId: "no-such-pair", text: "warm-up" });
    const lines = ["version: 1", "hosts:"];
    for (let p = 0; p < 3; p++) for (const k of ["a", "b"]) lines.push(`  - { name: seed-h${p}${k}, nics: [{ name: eth0, address: 10.8${p}.0.${k === "a" ? 1 : 2}, carriesManagement: true, carriesSip: true }] }`);
    lines.push("applications:");
    for (let p = 0; p < 3; p++) for (const k of ["a", "b"]) lines.push(`  - { name: seed-s${p}${k}, type: sip-server, host: seed-h${p}${k}, sipPort: 5060 }`);
    lines.push("pairs:");
    for (let p = 0; p < 3; p++) lines.push(`  - { name: seed-p${p}, haType: ip-takeover, primary: seed-s${p}a, backup: seed-s${p}b, vipAddress: 10.8${p}.0.100, vipPrefixLength: 32, vipInterface: eth0, controlDriver: linux-ip }`);
    await importConfig(tc.services.db, systemActor, lines.join("\n"), { replace: false, dryRun: false });
    const apps = await tc.callerAs("admin").applications.list();
    const pairs = await tc.callerAs("admin").pairs.list();
    for (const a of apps.filter((x) => x.name.startsWith("seed-"))) {
      const pairId = pairs.find((p) => p.name === `seed-p${a.name[6]}`)!.id;
      await engine.controllerAlarm({ type: "raise-alarm", kind: "application-failed", pairId, appId: a.id, text: `${a.name}'s process failed` });
    }
    const failed = (await tc.callerAs("viewer").alarms.active()).filter((a) => a.source === "application-failed" && a.pair.startsWith("seed-"));
    expect(failed.map((a) => `${a.application} ${a.host} ${a.pair}`).sort()).toEqual([
      "seed-s0a seed-h0a seed-p0",
      "seed-s0b seed-h0b seed-p0",
      "seed-s1a seed-h1a seed-p1",
      "seed-s1b seed-h1b seed-p1",
      "seed-s2a seed-h2a seed-p2",
      "seed-s2b seed-h2b seed-p2",
    ]);
  });

  it("W7 a 00-04200 alarm clears as cancel-event when the controller sees its server's SIP listener bound; both ends are lines of the console's log", async () => {
    const apps = await tc.callerAs("admin").applications.list();
    const app = apps.find((a) => a.name === "seed-s1a")!;
    const pairId = (await tc.callerAs("admin").pairs.list()).find((p) => p.name === "seed-p1")!.id;
    logged.length = 0;
    await engine.ingestLogEvents("seed-h1a", [event("seed-s1a", "00-04200", "cannot bind 10.81.0.1:5060")]);
    const raised = (await tc.callerAs("viewer").alarms.active()).find((a) => a.source === "00-04200" && a.application === "seed-s1a");
    expect(raised).toMatchObject({ severity: "critical" });
    // Another server's listener says nothing about this one.
    await engine.controllerAlarm({ type: "cancel-alarm", kind: "bind-failed", pairId, appId: apps.find((a) => a.name === "seed-s1b")!.id, text: "seed-s1b reports its SIP listener bound" });
    expect((await tc.callerAs("viewer").alarms.active()).some((a) => a.source === "00-04200" && a.application === "seed-s1a")).toBe(true);
    clockMs += 1_000;
    await engine.controllerAlarm({ type: "cancel-alarm", kind: "bind-failed", pairId, appId: app.id, text: "seed-s1a reports its SIP listener bound" });
    expect((await tc.callerAs("viewer").alarms.active()).some((a) => a.source === "00-04200" && a.application === "seed-s1a")).toBe(false);
    const row = (await tc.callerAs("viewer").alarms.history({ application: "seed-s1a", limit: 50 })).items.find((a) => a.source === "00-04200")!;
    expect(row).toMatchObject({ clearedHow: "cancel-event", clearedBy: "alarm engine", clearComment: "cancelled: seed-s1a reports its SIP listener bound" });
    expect(logged).toContainEqual({ level: "warn", msg: "alarm raised: cannot bind 10.81.0.1:5060", fields: { source: "00-04200", severity: "critical", application: "seed-s1a", host: "seed-h1a", pair: "seed-p1", alarm: raised!.id } });
    expect(logged).toContainEqual({ level: "info", msg: "alarm cleared (cancel-event): cancelled: seed-s1a reports its SIP listener bound", fields: { application: "seed-s1a", source: "00-04200", alarm: raised!.id } });
  });

  it("prunes log events past the retention period", async () => {
    const before = (await tc.callerAs("viewer").alarms.logEvents({ limit: 500 })).items.length;
    expect(before).toBeGreaterThan(0);
    clockMs += 31 * 24 * 3600 * 1000;
    expect(await engine.pruneNow()).toBe(before);
    expect((await tc.callerAs("viewer").alarms.logEvents({ limit: 500 })).items).toEqual([]);
  });

  it("a webhook reaction POSTs the alarm as JSON to a local receiver; a failing one is retried and recorded", async () => {
    const received: { body: unknown }[] = [];
    let failuresLeft = 1; // the first attempt fails: the retry must deliver
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        if (failuresLeft-- > 0) return void res.writeHead(503).end();
        received.push({ body: JSON.parse(body) as unknown });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const admin = tc.callerAs("admin");
      const cid = await conditionId("00-52027");
      await expect(admin.alarms.reactions.create({ conditionId: cid, kind: "webhook", settings: { url: "ftp://x" } })).rejects.toThrow(/webhook reaction setting url/);
      await admin.alarms.reactions.create({ conditionId: cid, kind: "webhook", onClear: true, settings: { url: `http://127.0.0.1:${port}/hook`, retries: 2, timeoutMs: 2000 } });
      await engine.ingestLogEvents("host-1", [event("sip-1", "00-52027", "SIP NIC down")]);
      await engine.idle();
      expect(received).toHaveLength(1);
      expect(received[0]!.body).toMatchObject({ event: "alarm.raised", alarm: { source: "00-52027", application: "sip-1", severity: "major", state: "active" } });
      await engine.ingestLogEvents("host-1", [event("sip-1", "00-52028", "SIP NIC up")]);
      await engine.idle();
      // The clear says who cleared it, when and why.
      expect(received[1]!.body).toMatchObject({ event: "alarm.cleared", alarm: { state: "cleared", clearedHow: "cancel-event", clearedBy: "alarm engine", clearComment: "cancelled by 00-52028: SIP NIC up", clearedAt: expect.stringMatching(/^\d{4}-/) } });
      const alarm = (await tc.callerAs("viewer").alarms.history({ limit: 50 })).items.find((x) => x.source === "00-52027")!;
      expect(alarm.runs.map((r) => `${r.trigger} ${r.ok}`)).toEqual(["raise true", "clear true"]);
      expect(alarm.runs[0]!.detail).toContain("attempt 2 of 3");

      // Nothing listens: every attempt fails, the run is recorded as failed and the engine goes on.
      server.close();
      await new Promise((r) => setTimeout(r, 10));
      await engine.ingestLogEvents("host-1", [event("sip-3", "00-52027", "SIP NIC down")]);
      await engine.idle();
      const failed = (await tc.callerAs("viewer").alarms.active()).find((x) => x.source === "00-52027" && x.application === "sip-3")!;
      expect(failed.runs[0]).toMatchObject({ ok: false, kind: "webhook" });
      expect(failed.runs[0]!.detail).toContain("gave up after 3 attempt(s)");
    } finally {
      server.close();
    }
  });

  it("an e-mail reaction reaches a local SMTP sink; an OS command reaction without the agent gateway is recorded as not run", async () => {
    const mails: { to: string[]; data: string }[] = [];
    const sink = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      onData(stream, session, callback) {
        let data = "";
        stream.on("data", (c: Buffer) => (data += c.toString()));
        stream.on("end", () => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
          callback();
        });
      },
    });
    await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
    const port = (sink.server.address() as AddressInfo).port;
    try {
      const admin = tc.callerAs("admin");
      const cid = await admin.alarms.conditions.create({ eventId: "00-22222", severity: "critical", description: "disk full" });
      await admin.alarms.reactions.create({ conditionId: cid, kind: "email", settings: { to: ["oncall@example.test"], smtpHost: "127.0.0.1", smtpPort: port } });
      await admin.alarms.reactions.create({ conditionId: cid, kind: "command", settings: { host: "host-1", command: "/usr/local/bin/page-oncall" } });
      await engine.ingestLogEvents("host-1", [event("sip-1", "00-22222", "disk /var is full")]);
      await engine.idle();
      expect(mails).toHaveLength(1);
      expect(mails[0]!.to).toEqual(["oncall@example.test"]);
      expect(mails[0]!.data).toContain("CRITICAL alarm raised: disk full on sip-1");
      expect(mails[0]!.data).toContain("disk /var is full");
      const alarm = (await tc.callerAs("viewer").alarms.active()).find((x) => x.source === "00-22222")!;
      const byKind = Object.fromEntries(alarm.runs.map((r) => [r.kind, r]));
      expect(byKind.email).toMatchObject({ ok: true });
      // This console runs no control plane (no agents); command-reaction.integration.test.ts runs one with a real agent.
      expect(byKind.command).toMatchObject({ ok: false, detail: "OS command on host-1 not run: the agent gateway does not run in this console" });
    } finally {
      await new Promise<void>((r) => sink.close(() => r()));
    }
  });

  it("conditions: built-in ones cannot be deleted, a condition with alarms neither; rules name the value", async () => {
    const admin = tc.callerAs("admin");
    await expect(admin.alarms.conditions.delete({ id: await conditionId("00-04200") })).rejects.toThrow(/00-04200 is built in and cannot be deleted; disable it instead/);
    await expect(admin.alarms.conditions.delete({ id: await conditionId("00-22222") })).rejects.toThrow(/has 1 alarm\(s\) in its history/);
    await expect(admin.alarms.conditions.create({ eventId: "00-33333", cancelEventId: "00-33333", severity: "minor", description: "x" })).rejects.toThrow(/cancel event 00-33333 is the event that raises/);
    await expect(admin.alarms.conditions.create({ eventId: "00-33333", scopeKind: "hosts", severity: "minor", description: "x" })).rejects.toThrow(/scope "hosts" needs at least one value/);
    const id = await admin.alarms.conditions.create({ eventId: "00-33333", scopeKind: "hosts", scopeValues: ["host-9"], severity: "minor", description: "x" });
    await engine.ingestLogEvents("host-1", [event("sip-1", "00-33333")]);
    expect((await tc.callerAs("viewer").alarms.active()).some((x) => x.source === "00-33333")).toBe(false);
    await admin.alarms.conditions.delete({ id });
    const audit = await tc.callerAs("viewer").audit.list({ objectType: "alarm-condition", limit: 50 });
    expect(audit.items.map((e) => e.action)).toEqual(expect.arrayContaining(["alarm-condition.create", "alarm-condition.delete"]));
  });
});
