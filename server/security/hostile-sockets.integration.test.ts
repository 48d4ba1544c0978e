// The hostile-input battery (issue #13), sockets: host agents' handshake and messages on the control
// plane's agent port (namespace /agent), and browsers' live sockets (namespace /ui) on the web port.
// Waits are give-up limits, never measurements.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io as connectSocket, type Socket } from "socket.io-client";
import { AGENT_PROTOCOL_VERSION, type Ack, type HeartbeatAck, type ProtocolError } from "../../protocol/agent-wire";
import { twoNicHost } from "../test-support";
import { connectOutcome, startHostileConsole, type HostileConsole } from "./hostile-support";

let c: HostileConsole;

beforeAll(async () => {
  c = await startHostileConsole();
});
afterAll(async () => {
  await c?.close();
});

function agentSocket(auth: unknown): Socket {
  return connectSocket(`${c.running.agentUrl}/agent`, { path: "/socket.io", transports: ["websocket"], auth: auth as Record<string, unknown>, reconnection: false, forceNew: true, autoConnect: false });
}

const hello = (hostName: string, token: string, protocolVersion = AGENT_PROTOCOL_VERSION) => ({ hostName, token, agentVersion: "hostile-test", protocolVersion });

describe("host agents' port", () => {
  it("agent handshake refusals: a malformed hello, a wrong protocol version and a bad token are refused with their code", async () => {
    const hostId = await c.callerAs("admin").hosts.create(twoNicHost("handshake-host", "10.61.0.1", "10.61.1.1"));
    const { token } = await c.callerAs("admin").agentTokens.create({ hostId, label: "handshake" });
    const cases: { auth: unknown; code: string; message: RegExp }[] = [
      { auth: {}, code: "malformed-hello", message: /agent hello refused/ },
      { auth: { ...hello("handshake-host", token), extra: "field" }, code: "malformed-hello", message: /Unrecognized key/ },
      { auth: hello("handshake host\nforged", token), code: "malformed-hello", message: /host names are letters/ },
      { auth: hello("handshake-host", token, AGENT_PROTOCOL_VERSION + 1), code: "protocol-mismatch", message: /protocol version mismatch/ },
      { auth: hello("handshake-host", "x".repeat(40)), code: "bad-token", message: /unknown or revoked/ },
      // A real token of another host is no better than a made-up one.
      { auth: hello("some-other-host", token), code: "bad-token", message: /unknown or revoked/ },
    ];
    for (const { auth, code, message } of cases) {
      const socket = agentSocket(auth);
      try {
        const refused = await connectOutcome(socket);
        expect(refused, JSON.stringify(auth)).not.toBeNull();
        expect(refused!.message).toMatch(message);
        expect(refused!.data).toMatchObject({ code });
      } finally {
        socket.close();
      }
    }
    // The right hello is let in: the refusals above were about what they sent.
    const socket = agentSocket(hello("handshake-host", token));
    try {
      expect(await connectOutcome(socket)).toBeNull();
    } finally {
      socket.close();
    }
  });

  it("malformed and oversized agent messages are refused with a protocolError and the connection survives", async () => {
    const hostId = await c.callerAs("admin").hosts.create(twoNicHost("messages-host", "10.62.0.1", "10.62.1.1"));
    const { token } = await c.callerAs("admin").agentTokens.create({ hostId, label: "messages" });
    const socket = agentSocket(hello("messages-host", token));
    const errors: ProtocolError[] = [];
    socket.on("protocolError", (e: ProtocolError) => errors.push(e));
    socket.on("config", (_cfg: unknown, ack: (a: unknown) => void) => ack({ revision: "x", ok: true, errors: [] }));
    try {
      expect(await connectOutcome(socket)).toBeNull();
      const now = new Date().toISOString();
      const ackOf = (event: string, payload: unknown) => new Promise<Ack>((resolve) => socket.emit(event, payload, (a: Ack) => resolve(a)));
      socket.emit("appStatus", "not an object");
      socket.emit("roleReport", { application: "sip-1", role: "primary", epoch: -1, time: now });
      socket.emit("appStatus", { application: "sip-1", status: "running", previous: null, detail: "d".repeat(100_000), pid: 1, exitCode: null, signal: null, time: now });
      const tooMany = await ackOf("logEvents", { events: Array.from({ length: 1001 }, () => ({ application: "sip-1", id: "00-04200", text: "x", time: now, level: "standard" })) });
      expect(tooMany.ok).toBe(false);
      expect(tooMany.error).toMatch(/events/);
      const unknownField = await ackOf("commandResult", { commandId: "c1", type: "start", application: "sip-1", outcome: "ok", reason: "", pairEpoch: 0, finishedAt: now, injected: true });
      expect(unknownField).toMatchObject({ ok: false, error: expect.stringMatching(/Unrecognized key/) });
      const { waitFor } = await import("../../harness/lab-stack");
      await waitFor("a protocolError for each malformed message", () => errors.length >= 5 || undefined, { timeoutMs: 20_000 });
      expect(errors.map((e) => e.event).sort()).toEqual(["appStatus", "appStatus", "commandResult", "logEvents", "roleReport"]);
      expect(errors.find((e) => e.event === "appStatus" && /detail/.test(e.reason))?.reason).toMatch(/detail: Too big/);
      // Still connected and served.
      const beat = await new Promise<HeartbeatAck>((resolve) => socket.emit("heartbeat", { seq: 7, sentAtMs: Date.now() }, (a: HeartbeatAck) => resolve(a)));
      expect(beat.seq).toBe(7);
      expect(socket.connected).toBe(true);
      expect(c.running.services.controlPlane.host("messages-host")?.socketOpen).toBe(true);
    } finally {
      socket.close();
    }
  });
});
