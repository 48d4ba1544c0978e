// SIP on the VIP of an ip-takeover pair, with real processes on a loopback block of our own: only the
// primary holds the VIP listener and answers there, a switchover moves it, the advertised address is
// what the server writes, a new primary binds even while a cut-off primary still holds it (W3), a real
// port clash is still W7, and a VIP that has not reached an interface is waited for instead of W7.
import * as dgram from "node:dgram";
import { describe, expect, it } from "vitest";
import { sipServerStatusSchema } from "../../protocol/app-contract";
import { freePort, loopbackBlock, simConfig, sipRequest, startSim, startSimWithAgent, stopAfterEach, udpExchange, waitFor, type SimProcess } from "./testing";

const track = stopAfterEach();

interface SipLabState {
  role: string;
  sip: { listenAddress: string; advertisedAddress: string; port: number; listener: string } | null;
}
async function sipState(sim: SimProcess): Promise<SipLabState> {
  return (await sim.http("/lab/v1/state")).body as SipLabState;
}
async function listenerOf(sim: SimProcess): Promise<string | undefined> {
  return (await sipState(sim)).sip?.listener;
}
async function readiness(sim: SimProcess) {
  return sipServerStatusSchema.parse((await sim.http("/server?sipServer")).body);
}
async function setRole(sim: SimProcess, role: "primary" | "backup", epoch: number): Promise<void> {
  const answer = await sim.http("/switchyard/v1/role", { body: { role, epoch, commandId: `${sim.name}-${role}-${epoch}` } });
  expect(answer.status).toBe(200);
}

/** Every answer to one OPTIONS sent to address:port (a datagram reaches one socket; the list shows who). */
async function optionsTo(address: string, port: number, callId: string): Promise<string[]> {
  return udpExchange(port, sipRequest({ method: "OPTIONS", port, callId }), 400, address);
}
const answeredBy = (answers: string[]) => answers.map((text) => /^Server: .*\((\S+)\)\r$/m.exec(text)?.[1] ?? "?");

/** Two servers of an ip-takeover pair on 127.B.1.2 and 127.B.2.2 with the VIP 127.B.10.100. */
async function startPair(env: Record<string, string> = {}) {
  const { address } = loopbackBlock();
  const hostA = address(1, 2);
  const hostB = address(2, 2);
  const vip = address(10, 100);
  const sipPort = await freePort(vip);
  const [haA, haB, httpA, httpB] = await Promise.all([freePort(hostA), freePort(hostB), freePort(), freePort()]);
  const common = { sipPort, sipListenAddress: vip, options: {} };
  const a = await startSim(
    simConfig({ ...common, name: "SIP_A", httpPort: httpA, sipAddress: hostA, haPort: haA, peer: { name: "SIP_B", address: hostB, haPort: haB }, initialRole: "primary" }),
    { SWITCHYARD_LAB_HA_RECONNECT_MS: "100", ...env },
  );
  track(a);
  const b = await startSim(
    simConfig({ ...common, name: "SIP_B", httpPort: httpB, sipAddress: hostB, haPort: haB, peer: { name: "SIP_A", address: hostA, haPort: haA }, initialRole: "backup" }),
    { SWITCHYARD_LAB_HA_RECONNECT_MS: "100", ...env },
  );
  track(b);
  return { a, b, vip, sipPort, hostA, hostB };
}

describe("ip-takeover: SIP is answered on the VIP by the primary only", () => {
  it("W1 OPTIONS to the VIP gets one 200 from the primary; after a switchover from the other; never from two", async () => {
    const { a, b, vip, sipPort, hostA, hostB } = await startPair();
    await waitFor("SIP_A to hold the VIP listener", async () => ((await listenerOf(a)) === "bound" ? true : undefined));
    expect(await sipState(b)).toMatchObject({ role: "backup", sip: { listenAddress: vip, listener: "closed" } });
    // A backup holding no VIP listener is not a bind failure (W7 is for real ones).
    expect((await readiness(b)).sipListener).toBe("bound");

    const first = await optionsTo(vip, sipPort, "vip-1");
    expect(answeredBy(first)).toEqual(["SIP_A"]);
    expect(first[0]).toMatch(/^SIP\/2\.0 200 OK/);
    // The advertised address (the VIP) is what the server writes about itself.
    expect(first[0]).toMatch(new RegExp(`\r\nContact: +<sip:switchyard@${vip.replaceAll(".", "\\.")}:${sipPort}>\r\n`));
    // Nothing listens on the hosts' own addresses any more: SIP goes to the VIP.
    expect(await optionsTo(hostA, sipPort, "own-a")).toEqual([]);
    expect(await optionsTo(hostB, sipPort, "own-b")).toEqual([]);

    // Switchover as the controller orders it: the primary is demoted first, then the backup promoted.
    await setRole(a, "backup", 1);
    expect(await listenerOf(a)).toBe("closed");
    await setRole(b, "primary", 1);
    await waitFor("SIP_B to hold the VIP listener", async () => ((await listenerOf(b)) === "bound" ? true : undefined));
    expect(answeredBy(await optionsTo(vip, sipPort, "vip-2"))).toEqual(["SIP_B"]);

    await setRole(b, "backup", 2);
    await setRole(a, "primary", 2);
    await waitFor("SIP_A to hold the VIP listener again", async () => ((await listenerOf(a)) === "bound" ? true : undefined));
    expect(await listenerOf(b)).toBe("closed");
    const back = await optionsTo(vip, sipPort, "vip-3");
    expect(answeredBy(back)).toEqual(["SIP_A"]);
    expect(a.output()).not.toContain("00-04200");
    expect(b.output()).not.toContain("00-04200");
  });

  it("W3 a new primary binds the VIP while a cut-off primary still holds it, and answers there; the old one closes when demoted", async () => {
    const { a, b, vip, sipPort } = await startPair();
    await waitFor("SIP_A to hold the VIP listener", async () => ((await listenerOf(a)) === "bound" ? true : undefined));
    // SIP_A's host is cut off: nobody tells it anything, it stays primary. SIP_B is promoted.
    await setRole(b, "primary", 1);
    await waitFor("SIP_B to hold the VIP listener", async () => ((await listenerOf(b)) === "bound" ? true : undefined));
    expect((await readiness(b)).sipListener).toBe("bound");
    // As the gratuitous ARP does on a real network, traffic to the VIP now reaches the new primary.
    expect(answeredBy(await optionsTo(vip, sipPort, "w3-1"))).toEqual(["SIP_B"]);
    // The host returns; the controller demotes the stale primary, which gives the VIP up.
    await setRole(a, "backup", 1);
    expect(await listenerOf(a)).toBe("closed");
    expect(answeredBy(await optionsTo(vip, sipPort, "w3-2"))).toEqual(["SIP_B"]);
  });

  it("W7 a foreign process holding the VIP's SIP port is a real bind failure: 00-04200, bind-failed, bound once it leaves", async () => {
    const { address } = loopbackBlock();
    const vip = address(10, 100);
    const sipPort = await freePort(vip);
    const squatter = dgram.createSocket("udp4");
    await new Promise<void>((done) => squatter.bind(sipPort, vip, () => done()));
    let squatterOpen = true;
    track({ stop: async () => void (squatterOpen && squatter.close()) });
    const { sim, agent } = await startSimWithAgent(
      track,
      simConfig({ name: "SIP_V", sipPort, httpPort: await freePort(), sipAddress: address(1, 2), sipListenAddress: vip, initialRole: "primary" }),
      { SWITCHYARD_LAB_BIND_RETRY_MS: "100" },
    );
    const event = await waitFor("event 00-04200", () => agent.events.find((logged) => logged.id === "00-04200"));
    expect(event.text).toContain(`cannot open SIP listener on ${vip}:${sipPort}`);
    expect(event.text).toContain("EADDRINUSE");
    expect((await readiness(sim)).sipListener).toBe("bind-failed");
    await new Promise<void>((done) => squatter.close(() => done()));
    squatterOpen = false;
    await waitFor("the VIP listener to bind", async () => ((await readiness(sim)).sipListener === "bound" ? true : undefined));
    expect(answeredBy(await optionsTo(vip, sipPort, "w7-vip"))).toEqual(["SIP_V"]);
  });
});

describe("ip-takeover: what the primary sends", () => {
  it("W6 Active-OOS OPTIONS pings leave from the VIP with the advertised address in Via and From", async () => {
    const { address } = loopbackBlock();
    const vip = address(10, 100);
    const dn = dgram.createSocket("udp4");
    const pings: Array<{ text: string; from: string }> = [];
    dn.on("message", (data, from) => pings.push({ text: data.toString("utf8"), from: from.address }));
    await new Promise<void>((done) => dn.bind(0, "127.0.0.1", () => done()));
    track({ stop: () => new Promise<void>((done) => dn.close(() => done())) });
    const dnPort = (dn.address() as { port: number }).port;
    const sipPort = await freePort(vip);
    const sim = await startSim(
      simConfig({
        name: "SIP_P",
        sipPort,
        httpPort: await freePort(),
        sipAddress: address(1, 2),
        sipListenAddress: vip,
        initialRole: "primary",
        options: { "sip-pass-check": "true" },
        dns: { gw1: { "oos-check": "1", "oos-force": "1", contact: `sip:gw1@127.0.0.1:${dnPort}` } },
      }),
    );
    track(sim);
    const ping = await waitFor("an OPTIONS ping at the DN", () => pings[0]);
    expect(ping.from).toBe(vip);
    expect(ping.text).toMatch(/^OPTIONS sip:gw1@127\.0\.0\.1:\d+ SIP\/2\.0\r\n/);
    expect(ping.text).toContain(`Via: SIP/2.0/UDP ${vip}:${sipPort};`);
    expect(ping.text).toContain(`From: <sip:switchyard@${vip}:${sipPort}>`);
    expect(ping.text).toContain("User-Agent: Switchyard-SIP-Server-Simulator/1.0.0-sim (SIP_P)");
  });
});

describe("ip-takeover: a VIP that is not on an interface yet", () => {
  // 198.51.100.0/24 is TEST-NET-2 (RFC 5737): on no interface of any machine, so binding it gives EADDRNOTAVAIL.
  const absentVip = "198.51.100.77";

  async function startWaiting(waitMs: string) {
    return startSimWithAgent(
      track,
      simConfig({ name: "SIP_W", sipPort: await freePort(), httpPort: await freePort(), sipListenAddress: absentVip, initialRole: "primary" }),
      { SWITCHYARD_LAB_BIND_RETRY_MS: "100", SWITCHYARD_LAB_VIP_BIND_WAIT_MS: waitMs },
    );
  }

  it("a new primary waits for its VIP (EADDRNOTAVAIL) without reporting a bind failure", async () => {
    const { sim, agent } = await startWaiting("600000");
    await waitFor("the listener waiting for the address", async () => ((await listenerOf(sim)) === "waiting-for-address" ? true : undefined));
    // The wait is ten minutes here, so whenever we look it still waits, and says nothing about W7.
    expect((await readiness(sim)).sipListener).toBe("bound");
    expect(await listenerOf(sim)).toBe("waiting-for-address");
    expect(sim.output()).not.toContain("00-04200");
    expect(agent.events.filter((logged) => logged.id === "00-04200")).toEqual([]);
  });

  it("W7 a VIP still absent after the bounded wait is a bind failure: 00-04200 says so", async () => {
    const { sim, agent } = await startWaiting("200");
    const event = await waitFor("event 00-04200", () => agent.events.find((logged) => logged.id === "00-04200"));
    expect(event.text).toContain("the address is still on no interface after 200 ms");
    expect((await readiness(sim)).sipListener).toBe("bind-failed");
  });
});
