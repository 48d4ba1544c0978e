// SimServer in this process with an injected clock and real loopback sockets: readiness over a real
// HA link (W13) and traffic monitoring with real OPTIONS pings to a service DN (W4, W5, W6).
import * as dgram from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import type { AppStatusReport } from "../../protocol/app-contract";
import type { AgentClient } from "./agent-client";
import { SimServer, type Clock } from "./server";
import { settingsFromConfig, simEnvSchema } from "./settings";
import { freePort, simConfig, sipRequest, udpExchange, waitFor } from "./testing";

class FakeClock implements Clock {
  constructor(public currentMs: number) {}
  nowMs(): number {
    return this.currentMs;
  }
  advance(ms: number): void {
    this.currentMs += ms;
  }
}

type RecordingAgent = AgentClient & {
  statuses: AppStatusReport[];
  events: Array<{ id: string; text: string }>;
  vip: { present: boolean; address: string } | null;
  scriptRuns: string[];
};

function recordingAgent(): RecordingAgent {
  const agent: RecordingAgent = {
    standalone: false,
    statuses: [],
    events: [],
    vip: null,
    scriptRuns: [],
    logEvent: (event) => void agent.events.push(event),
    reportStatus: (report) => void agent.statuses.push(report),
    vipPresence: async () => agent.vip,
    runControlScript: async (action) => {
      agent.scriptRuns.push(action);
      return { ok: true, exitCode: 0, stdout: "", stderr: "", durationMs: 1, timedOut: false };
    },
    flush: async () => {},
  };
  return agent;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// Monitors run only when a test calls runMonitors(), so a timer cannot add a check in between.
const env = simEnvSchema.parse({
  SWITCHYARD_LAB_HA_SYNC_PAUSE_MS: "0",
  SWITCHYARD_LAB_HA_RECONNECT_MS: "100",
  SWITCHYARD_LAB_MONITOR_INTERVAL_MS: "3600000",
});
const quiet = () => {};

async function startServer(server: SimServer): Promise<SimServer> {
  await server.start();
  cleanups.push(() => server.stop());
  return server;
}

describe("W13 readiness on an injected clock over a real HA link", () => {
  it("W13 the primary becomes ready 60 s after link-up once pre-link multisite calls end; the backup once synced", async () => {
    const clock = new FakeClock(1_000_000);
    const [haA, haB, httpA, httpB] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const config = (name: string, peer: string, haPort: number, peerHaPort: number, httpPort: number, role: "primary" | "backup") => ({
      ...simConfig({ name, sipPort: 0, httpPort, haPort, peer: { name: peer, address: "127.0.0.1", haPort: peerHaPort }, initialRole: role }),
      sipPort: null,
    });
    const primary = new SimServer(settingsFromConfig(config("SIP_A", "SIP_B", haA, haB, httpA, "primary"), env), recordingAgent(), clock, quiet);
    const backup = new SimServer(settingsFromConfig(config("SIP_B", "SIP_A", haB, haA, httpB, "backup"), env), recordingAgent(), clock, quiet);
    primary.createLabCalls(10, false);
    primary.createLabCalls(1, true);
    await startServer(primary);
    expect(primary.sipServerStatus().notReadyReasons).toContain("HA link to the other server is down");

    clock.advance(1_000);
    await startServer(backup);
    const linkUpAtMs = clock.nowMs();
    await waitFor("backup synced", () => (backup.sipServerStatus().readyForSwitchover === 1 ? true : undefined));
    expect(backup.sipServerStatus()).toMatchObject({ haLink: "up", calls: { total: 10, synced: 10, multisite: 0 }, readyForUpgrade: 1 });
    await waitFor("primary sees its calls confirmed", () => (primary.sipServerStatus().calls.synced === 10 ? true : undefined));

    const atLinkUp = primary.sipServerStatus();
    expect(atLinkUp.haLinkUpSince).toBe(new Date(linkUpAtMs).toISOString());
    expect(atLinkUp.readyForSwitchover).toBe(0);
    expect(atLinkUp.notReadyReasons).toEqual([
      "HA link up for 0 s of the 60 s needed",
      "1 multisite calls from before the HA link came up have not ended",
    ]);

    clock.advance(59_999);
    expect(primary.sipServerStatus().notReadyReasons[0]).toBe("HA link up for 59 s of the 60 s needed");
    primary.endLabCalls({ multisite: true });
    expect(primary.sipServerStatus().readyForSwitchover).toBe(0);
    clock.advance(1);
    const settled = primary.sipServerStatus();
    expect(settled.readyForSwitchover).toBe(1);
    expect(settled.readyForUpgrade).toBe(0);

    // A multisite call that starts after the link came up does not block readiness.
    primary.createLabCalls(1, true);
    expect(primary.sipServerStatus().readyForSwitchover).toBe(1);

    await backup.stop();
    await waitFor("the primary to see the link down", () => (primary.sipServerStatus().haLink === "down" ? true : undefined));
    expect(primary.sipServerStatus().readyForSwitchover).toBe(0);
    expect(primary.sipServerStatus().notReadyReasons[0]).toBe("HA link to the other server is down");
  });
});

describe("W4 W5 W6 traffic monitoring with real OPTIONS pings on an injected clock", () => {
  it("W4 W5 silence for the effective timeout → SERVICE_UNAVAILABLE; a double switchover doubles it; traffic resets it", async () => {
    const clock = new FakeClock(5_000_000);
    // A service DN that answers OPTIONS pings until we unplug it.
    const dnSocket = dgram.createSocket("udp4");
    let dnAnswers = true;
    let pingsReceived = 0;
    dnSocket.on("message", (data, from) => {
      pingsReceived += 1;
      if (!dnAnswers) return;
      const text = data.toString("utf8");
      const headers = text.split("\r\n").filter((line) => /^(Via|From|To|Call-ID|CSeq):/i.test(line));
      dnSocket.send(["SIP/2.0 200 OK", ...headers, "Content-Length: 0", "", ""].join("\r\n"), from.port, from.address);
    });
    await new Promise<void>((done) => dnSocket.bind(0, "127.0.0.1", () => done()));
    cleanups.push(() => new Promise<void>((done) => dnSocket.close(() => done())));
    const dnPort = (dnSocket.address() as { port: number }).port;

    const sipPort = await freePort();
    // oos-check 2 + max(oos-force 1, 5) = 7 s effective timeout (W6).
    const config = simConfig({
      name: "SIP_T",
      sipPort,
      httpPort: await freePort(),
      initialRole: "primary",
      options: { "sip-pass-check": "true" },
      dns: { gw1: { "oos-check": "2", "oos-force": "1", contact: `sip:gw1@127.0.0.1:${dnPort}` } },
    });
    const agent = recordingAgent();
    const server = await startServer(new SimServer(settingsFromConfig(config, env), agent, clock, quiet));

    // The first ping goes out at once and is answered.
    await waitFor("a ping answered", () => (pingsReceived >= 1 ? true : undefined));
    clock.advance(6_000);
    await waitFor("a second ping", () => (pingsReceived >= 2 ? true : undefined));
    await new Promise((done) => setTimeout(done, 100));
    expect(server.sipServerStatus().status).toBe("running");

    dnAnswers = false;
    const silentFromMs = clock.nowMs();
    clock.advance(6_999);
    await new Promise((done) => setTimeout(done, 500));
    expect(server.sipServerStatus().status).toBe("running");
    expect(clock.nowMs() - silentFromMs).toBe(6_999);
    clock.advance(1);
    const unavailable = await waitFor("SERVICE_UNAVAILABLE reported", () => agent.statuses.find((report) => report.status === "service-unavailable"));
    expect(unavailable.detail).toContain("effective out-of-service timeout 7 s × back-off 1");
    expect(server.sipServerStatus().status).toBe("service-unavailable");

    // The controller switches it to backup; it reports running again.
    server.setRole({ role: "backup", epoch: 1, commandId: "oos-1" });
    expect(server.sipServerStatus().status).toBe("running");
    // The other server saw no traffic either and it is switched back: a double switchover (W5).
    server.setRole({ role: "primary", epoch: 2, commandId: "oos-2" });
    expect(server.sipServerStatus().oosBackoff).toBe(2);
    expect(agent.statuses.at(-1)?.oosBackoff).toBe(2);
    clock.advance(13_999);
    await new Promise((done) => setTimeout(done, 500));
    expect(server.sipServerStatus().status).toBe("running");
    clock.advance(1);
    await waitFor("SERVICE_UNAVAILABLE after twice the timeout", () => (server.sipServerStatus().status === "service-unavailable" ? true : undefined));

    // Any SIP message: traffic is back, the back-off resets.
    const answers = await udpExchange(sipPort, sipRequest({ method: "OPTIONS", port: sipPort, callId: "traffic-back" }));
    expect(answers[0]).toMatch(/^SIP\/2\.0 200 OK/);
    expect(server.sipServerStatus()).toMatchObject({ status: "running", oosBackoff: 1 });
  });
});

describe("W8 W9 W10 network monitors", () => {

  /** SIP_A and SIP_B, both started primary with control-vip-scripts (W8), their HA link up. */
  async function twoPrimariesWithVipScripts(): Promise<[SimServer, SimServer]> {
    const clock = new FakeClock(0);
    const [haA, haB] = await Promise.all([freePort(), freePort()]);
    const make = async (name: string, peer: string, haPort: number, peerHaPort: number) => {
      const config = {
        ...simConfig({ name, sipPort: 0, httpPort: await freePort(), haPort, peer: { name: peer, address: "127.0.0.1", haPort: peerHaPort }, initialRole: "primary", options: { "control-vip-scripts": "true" } }),
        sipPort: null,
      };
      return startServer(new SimServer(settingsFromConfig(config, env), recordingAgent(), clock, quiet));
    };
    const a = await make("SIP_A", "SIP_B", haA, haB);
    const b = await make("SIP_B", "SIP_A", haB, haA);
    await waitFor("the HA link", () => (a.sipServerStatus().haLink === "up" && b.sipServerStatus().haLink === "up" ? true : undefined));
    return [a, b];
  }
  async function monitoredServer(options: Record<string, string>, role: "primary" | "backup" = "primary") {
    const clock = new FakeClock(0);
    const agent = recordingAgent();
    const config = { ...simConfig({ name: "SIP_M", sipPort: 0, httpPort: await freePort(), initialRole: role, options }), sipPort: null };
    const server = await startServer(new SimServer(settingsFromConfig(config, env), agent, clock, quiet));
    return { server, agent };
  }

  it("W9 VIP missing on the primary: 00-52029, enable script, SERVICE_UNAVAILABLE if it persists, 00-52030 when fixed", async () => {
    const { server, agent } = await monitoredServer({ "sip-iptakeover-monitoring": "true" });
    agent.vip = { present: false, address: "127.0.0.50" };
    await server.runMonitors();
    expect(agent.events.map((event) => event.id)).toEqual(["00-52029"]);
    expect(agent.scriptRuns).toEqual(["enable"]);
    expect(server.sipServerStatus().status).toBe("running");
    await server.runMonitors();
    expect(server.sipServerStatus().status).toBe("service-unavailable");
    expect(agent.events.map((event) => event.id)).toEqual(["00-52029"]);
    agent.vip = { present: true, address: "127.0.0.50" };
    await server.runMonitors();
    expect(agent.events.map((event) => event.id)).toEqual(["00-52029", "00-52030"]);
    expect(server.sipServerStatus().status).toBe("running");
  });

  it("W10 SIP NIC unplugged (sip-silent fault) with sip-nic-monitoring: 00-52027 and SERVICE_UNAVAILABLE, 00-52028 when back", async () => {
    const { server, agent } = await monitoredServer({ "sip-nic-monitoring": "true", "sip-nic-address": "127.0.0.1" });
    await server.runMonitors();
    expect(agent.events).toEqual([]);
    await server.setFault("sip-silent", true);
    await server.runMonitors();
    expect(agent.events.map((event) => event.id)).toEqual(["00-52027"]);
    expect(server.sipServerStatus().status).toBe("service-unavailable");
    await server.setFault("sip-silent", false);
    await server.runMonitors();
    expect(agent.events.map((event) => event.id)).toEqual(["00-52027", "00-52028"]);
    expect(server.sipServerStatus().status).toBe("running");
  });

  it("W10 tlib-nic-monitoring: a NIC failure on the primary switches it to backup", async () => {
    const { server, agent } = await monitoredServer({ "tlib-nic-monitoring": "true" });
    await server.setFault("tlib-nic-down", true);
    await server.runMonitors();
    expect(server.role).toBe("backup");
    expect(agent.statuses.at(-1)?.detail).toBe("NIC failure detected (tlib-nic-monitoring): switched self to backup");
  });

  it("W8 control-vip-scripts: without the console, of two primaries the one whose name sorts last demotes itself", async () => {
    const [a, b] = await twoPrimariesWithVipScripts();
    await a.runMonitors();
    await b.runMonitors();
    expect([a.role, b.role]).toEqual(["primary", "primary"]);
    a.setConsoleConnected(false);
    b.setConsoleConnected(false);
    await a.runMonitors();
    await b.runMonitors();
    expect([a.role, b.role]).toEqual(["primary", "backup"]);
  });

  it("W8 the console-lost lab fault: a server whose agent still says connected acts as without the console, and only while the fault is on", async () => {
    const [a, b] = await twoPrimariesWithVipScripts();
    // Their agents say the console is there; SIP_B's fault says otherwise. A fault lifted again changes nothing.
    a.setConsoleConnected(true);
    b.setConsoleConnected(true);
    await b.setFault("console-lost", true);
    await b.setFault("console-lost", false);
    await b.runMonitors();
    expect(b.role).toBe("primary");
    await b.setFault("console-lost", true);
    // The agent reporting the console again does not lift the fault.
    b.setConsoleConnected(true);
    await a.runMonitors();
    await b.runMonitors();
    expect([a.role, b.role]).toEqual(["primary", "backup"]);
  });
});
