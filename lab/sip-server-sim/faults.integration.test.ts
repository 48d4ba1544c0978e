// Robustness and lab faults of a real simulator process: bind failure (W7), bad SIP, the backup's
// answer, and the fault injection endpoints (SIP NIC unplugged, hang, crash).
import * as dgram from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sipServerStatusSchema } from "../../protocol/app-contract";
import {
  freePort,
  simConfig,
  sipRequest,
  startFakeAgent,
  startSim,
  startSimWithAgent,
  stopAfterEach,
  udpExchange,
  waitFor,
  type FakeAgent,
  type SimProcess,
} from "./testing";

const track = stopAfterEach();

async function startWithAgent(role: "primary" | "backup", env: Record<string, string> = {}, sipPort?: number): Promise<{ sim: SimProcess; agent: FakeAgent }> {
  return startSimWithAgent(track, simConfig({ name: "SIP_Faults", sipPort: sipPort ?? (await freePort()), httpPort: await freePort(), initialRole: role }), env);
}

async function sipStatus(sim: SimProcess) {
  return sipServerStatusSchema.parse((await sim.http("/server?sipServer")).body);
}

const options = (sim: SimProcess, callId: string) => udpExchange(sim.sipPort, sipRequest({ method: "OPTIONS", port: sim.sipPort, callId }));

describe("W7 listener bind failure", () => {
  it("W7 a server that cannot bind its SIP port stays running, logs 00-04200 through the agent, and binds once the port is free", async () => {
    const sipPort = await freePort();
    const squatter = dgram.createSocket("udp4");
    await new Promise<void>((done) => squatter.bind(sipPort, "127.0.0.1", () => done()));
    let squatterOpen = true;
    track({ stop: async () => void (squatterOpen && squatter.close()) });

    const { sim, agent } = await startWithAgent("primary", { SWITCHYARD_LAB_BIND_RETRY_MS: "100" }, sipPort);
    const event = await waitFor("event 00-04200 at the agent", () => agent.events.find((logged) => logged.id === "00-04200"));
    expect(event.text).toContain(`cannot open SIP listener on 127.0.0.1:${sipPort}`);
    expect(Number.isNaN(Date.parse(event.time))).toBe(false);
    const failing = await sipStatus(sim);
    expect(failing.sipListener).toBe("bind-failed");
    expect(failing.status).toBe("running");
    expect(agent.statuses.at(-1)?.status).toBe("running");
    // Retrying does not flood the agent: one event per outage.
    await new Promise((done) => setTimeout(done, 400));
    expect(agent.events.filter((logged) => logged.id === "00-04200")).toHaveLength(1);

    await new Promise<void>((done) => squatter.close(() => done()));
    squatterOpen = false;
    await waitFor("the listener to bind", async () => ((await sipStatus(sim)).sipListener === "bound" ? true : undefined));
    expect((await options(sim, "w7-after"))[0]).toMatch(/^SIP\/2\.0 200 OK/);
  });

  it("W7 the bind-fail lab fault closes the listener and logs 00-04200; lifting it binds again", async () => {
    const { sim, agent } = await startWithAgent("primary", { SWITCHYARD_LAB_BIND_RETRY_MS: "100" });
    expect((await sim.http("/lab/v1/fault", { body: { kind: "bind-fail", on: true } })).status).toBe(200);
    await waitFor("event 00-04200", () => agent.events.find((logged) => logged.id === "00-04200"));
    expect((await sipStatus(sim)).sipListener).toBe("bind-failed");
    expect(await options(sim, "w7-fault")).toEqual([]);
    await sim.http("/lab/v1/fault", { body: { kind: "bind-fail", on: false } });
    await waitFor("the listener to bind", async () => ((await sipStatus(sim)).sipListener === "bound" ? true : undefined));
  });
});

describe("bad SIP, roles on the wire and lab faults (one server for all)", () => {
  let sim: SimProcess;
  let agent: FakeAgent;
  beforeAll(async () => {
    agent = await startFakeAgent();
    sim = await startSim(simConfig({ name: "SIP_Wire", sipPort: await freePort(), httpPort: await freePort(), initialRole: "primary" }), {
      SWITCHYARD_AGENT_URL: agent.url,
    });
  });
  afterAll(async () => {
    await sim?.stop();
    await agent?.close();
  });

  it("W7 garbage datagrams are dropped, a request missing Call-ID gets 400, an unknown method 501, and the server keeps serving", async () => {
    const garbage: Array<string | Buffer> = [
      Buffer.from([0x00, 0xff, 0xfe, 0x01]),
      "hello there\r\n\r\n",
      "INVITE\r\n\r\n",
      "SIP/2.0 200\r\n\r\n",
      "OPTIONS sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n",
      "x".repeat(60_000),
    ];
    for (const datagram of garbage) expect(await udpExchange(sim.sipPort, datagram, 100)).toEqual([]);

    const noCallId = await udpExchange(sim.sipPort, sipRequest({ method: "OPTIONS", port: sim.sipPort, callId: "bad-1", omit: ["Call-ID"] }));
    expect(noCallId[0]).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
    expect(noCallId[0]).toContain("Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-test-bad-1");

    const noCseq = await udpExchange(sim.sipPort, sipRequest({ method: "INVITE", port: sim.sipPort, callId: "bad-2", omit: ["CSeq"] }));
    expect(noCseq[0]).toMatch(/^SIP\/2\.0 400 Bad Request/);

    const unknown = await udpExchange(sim.sipPort, sipRequest({ method: "FROBNICATE", port: sim.sipPort, callId: "bad-3" }));
    expect(unknown[0]).toMatch(/^SIP\/2\.0 501 Not Implemented/);
    expect(unknown[0]).toContain("Allow: OPTIONS, REGISTER, INVITE, ACK, BYE, CANCEL");

    const byeUnknownCall = await udpExchange(sim.sipPort, sipRequest({ method: "BYE", port: sim.sipPort, callId: "bad-4" }));
    expect(byeUnknownCall[0]).toMatch(/^SIP\/2\.0 481 /);

    expect((await options(sim, "after-garbage"))[0]).toMatch(/^SIP\/2\.0 200 OK/);
    expect(sim.proc.exitCode).toBeNull();
    expect((await sipStatus(sim)).calls.total).toBe(0);
  });

  it("W1 the backup does not serve SIP: it answers 503 until it is made primary", async () => {
    expect((await sim.http("/switchyard/v1/role", { body: { role: "backup", epoch: 3, commandId: "demote" } })).status).toBe(200);
    const reported = await waitFor("the backup role reported to the agent", () => agent.statuses.find((report) => report.role === "backup"));
    expect(reported).toMatchObject({ role: "backup", epoch: 3, status: "running" });
    const invite = await udpExchange(sim.sipPort, sipRequest({ method: "INVITE", port: sim.sipPort, callId: "to-backup" }));
    expect(invite).toHaveLength(1);
    expect(invite[0]).toMatch(/^SIP\/2\.0 503 Service Unavailable/);
    expect((await sipStatus(sim)).calls.total).toBe(0);
    await sim.http("/switchyard/v1/role", { body: { role: "primary", epoch: 4, commandId: "promote" } });
    expect((await options(sim, "now-primary"))[0]).toMatch(/^SIP\/2\.0 200 OK/);
  });

  it("W12 an INVITE to a noanswer user rings until CANCEL, which gets 200 and the INVITE 487", async () => {
    const ringing = await udpExchange(sim.sipPort, sipRequest({ method: "INVITE", port: sim.sipPort, callId: "ring-1" }).replace(/sip:sim@/, "sip:noanswer@"));
    expect(ringing.map((text) => text.split("\r\n")[0])).toEqual(["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing"]);
    expect((await sipStatus(sim)).calls.total).toBe(1);
    const cancelled = await udpExchange(sim.sipPort, sipRequest({ method: "CANCEL", port: sim.sipPort, callId: "ring-1" }));
    expect(cancelled.map((text) => text.split("\r\n")[0])).toEqual(["SIP/2.0 200 OK", "SIP/2.0 487 Request Terminated"]);
    expect((await sipStatus(sim)).calls.total).toBe(0);
  });

  it("W4 sip-silent (SIP NIC unplugged) stops SIP answers; hang stops the HTTP interface; both lift", async () => {
    await sim.http("/lab/v1/fault", { body: { kind: "sip-silent", on: true } });
    expect(await options(sim, "silent")).toEqual([]);
    await sim.http("/lab/v1/fault", { body: { kind: "sip-silent", on: false } });
    expect((await options(sim, "loud"))[0]).toMatch(/^SIP\/2\.0 200 OK/);

    await sim.http("/lab/v1/fault", { body: { kind: "hang", on: true } });
    await expect(sim.http("/server?sipServer", { timeoutMs: 300 })).rejects.toThrow();
    await sim.http("/lab/v1/fault", { body: { kind: "hang", on: false } });
    expect((await sipStatus(sim)).role).toBe("primary");
  });

  it("a fault body outside the schema is refused with 400 naming the field", async () => {
    const refused = await sim.http("/lab/v1/fault", { body: { kind: "meteor", on: true } });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain("kind");
  });
});

describe("lab fault injection, one server each", () => {
  it("W2 the crash fault ends the process abruptly", async () => {
    const { sim } = await startWithAgent("primary");
    await sim.http("/lab/v1/fault", { body: { kind: "crash", on: true } }).catch(() => undefined);
    expect(await sim.exited).toBe(70);
  });

  it("lab endpoints are off unless enabled", async () => {
    const { sim } = await startWithAgent("primary", { SWITCHYARD_LAB_FAULTS: "0" });
    const refused = await sim.http("/lab/v1/fault", { body: { kind: "crash", on: true } });
    expect(refused.status).toBe(404);
    expect(sim.proc.exitCode).toBeNull();
  });
});
