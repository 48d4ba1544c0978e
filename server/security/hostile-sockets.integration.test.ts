// The hostile-input battery (issue #13), sockets: host agents' handshake and messages on the control
// plane's agent port (namespace /agent), and browsers' live sockets (namespace /ui) on the web port.
// Waits are give-up limits, never measurements.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { AGENT_PROTOCOL_VERSION, type Ack, type HeartbeatAck, type ProtocolError } from "../../protocol/agent-wire";
import { sipServerInput, twoNicHost } from "../test-support";
import { sha256 } from "../auth/auth.service";
import { AGENT_MAX_MESSAGE_BYTES } from "../control-plane/plane";
import { agentHello, agentSocket as agentSocketOn, ApiClient, connectOutcome, loggedIn, startHostileConsole, uiSocket, type HostileConsole } from "./hostile-support";

let c: HostileConsole;

beforeAll(async () => {
  c = await startHostileConsole();
});
afterAll(async () => {
  await c?.close();
});

const agentSocket = (auth: unknown): Socket => agentSocketOn(c.running.agentUrl, auth);
const hello = agentHello;

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
      // The web tier's copy of the host list follows the control plane's thread a moment later.
      await waitFor("the console to show messages-host's socket open", () => c.running.services.controlPlane.host("messages-host")?.socketOpen === true || undefined, { timeoutMs: 20_000 });
    } finally {
      socket.close();
    }
  });

  it("a message over AGENT_MAX_MESSAGE_BYTES ends only its own connection: other agents are served on, and the agent connects again", async () => {
    const admin = c.callerAs("admin");
    const sockets: Socket[] = [];
    const connected = async (hostName: string, address: string) => {
      const hostId = await admin.hosts.create(twoNicHost(hostName, `10.${address}.0.1`, `10.${address}.1.1`));
      const { token } = await admin.agentTokens.create({ hostId, label: "oversized" });
      const socket = agentSocket(hello(hostName, token));
      sockets.push(socket);
      socket.on("config", (_cfg: unknown, ack: (a: unknown) => void) => ack({ revision: "x", ok: true, errors: [] }));
      expect(await connectOutcome(socket)).toBeNull();
      return { socket, token };
    };
    try {
      const big = await connected("oversized-host", "65");
      const other = await connected("bystander-host", "66");
      const gone = new Promise<string>((resolve) => big.socket.once("disconnect", (reason: string) => resolve(reason)));
      // socket.io refuses to read a frame over its buffer limit: the connection ends (the agent reconnects).
      big.socket.emit("appStatus", { application: "sip-1", status: "running", previous: null, detail: "d".repeat(AGENT_MAX_MESSAGE_BYTES + 1), pid: 1, exitCode: null, signal: null, time: new Date().toISOString() });
      expect(await gone).toBe("transport close");
      const beat = await new Promise<HeartbeatAck>((resolve) => other.socket.emit("heartbeat", { seq: 3, sentAtMs: Date.now() }, (a: HeartbeatAck) => resolve(a)));
      expect(beat.seq).toBe(3);
      const again = agentSocket(hello("oversized-host", big.token));
      sockets.push(again);
      expect(await connectOutcome(again)).toBeNull();
    } finally {
      for (const s of sockets) s.close();
    }
  });

  it("a log read is asked only of the host that runs the application, and a malformed, oversized or foreign reply is refused with a clear error", async () => {
    const admin = c.callerAs("admin");
    const hostId = await admin.hosts.create(twoNicHost("logs-host", "10.63.0.1", "10.63.1.1"));
    const otherHostId = await admin.hosts.create(twoNicHost("logs-host-2", "10.64.0.1", "10.64.1.1"));
    const appId = await admin.applications.create({ ...sipServerInput("logs-app", hostId, 5060), startCommand: "/opt/sip/bin/sip_server" });
    const otherAppId = await admin.applications.create({ ...sipServerInput("logs-app-2", otherHostId, 5060), startCommand: "/opt/sip/bin/sip_server" });
    const noCommandId = await admin.applications.create(sipServerInput("logs-app-3", hostId, 5070));
    const { token } = await admin.agentTokens.create({ hostId, label: "logs" });
    const socket = agentSocket(hello("logs-host", token));
    const asked: unknown[] = [];
    const now = new Date().toISOString();
    const good = { application: "logs-app", ok: true, error: null, file: "/var/log/logs-app.log", sizeBytes: 3, text: "hi\n", truncated: false, matches: null, scannedBytes: 3, readAt: now };
    const replies: unknown[] = ["not an object", { ...good, text: "x".repeat(300 * 1024) }, { ...good, application: "logs-app-2" }, { ...good, file: "f", injected: true }, good];
    socket.on("config", (_cfg: unknown, ack: (a: unknown) => void) => ack({ revision: "x", ok: true, errors: [] }));
    socket.on("readLog", (req: unknown, ack: (a: unknown) => void) => {
      asked.push(req);
      ack(replies.shift());
    });
    try {
      expect(await connectOutcome(socket)).toBeNull();
      const { waitFor } = await import("../../harness/lab-stack");
      await waitFor("the console to show logs-host connected", () => c.running.services.controlPlane.host("logs-host")?.state === "connected" || undefined, { timeoutMs: 20_000 });
      const viewer = c.callerAs("viewer");
      const read = () => viewer.live.applicationLog({ appId, search: "hi" });
      await expect(read()).rejects.toThrow(/logs-host sent a log read reply the console cannot use/);
      await expect(read()).rejects.toThrow(/text: Too big/);
      await expect(read()).rejects.toThrow(/it answered for logs-app-2, not logs-app/);
      await expect(read()).rejects.toThrow(/Unrecognized key.*injected/);
      expect(await read()).toMatchObject({ ok: true, text: "hi\n", hostName: "logs-host" });
      expect(asked.at(-1)).toEqual({ application: "logs-app", maxBytes: 64 * 1024, search: "hi" });
      // The other host's application is never asked of this host: its own host is asked, and is not connected.
      await expect(viewer.live.applicationLog({ appId: otherAppId })).rejects.toThrow(/the agent of host logs-host-2 is not connected/);
      await expect(c.running.services.controlPlane.readLog("logs-host", { application: "logs-app-2" })).rejects.toThrow(/host logs-host does not run logs-app-2/);
      await expect(viewer.live.applicationLog({ appId: noCommandId })).rejects.toThrow(/logs-app-3 has no start command, so no agent runs it/);
      expect(asked).toHaveLength(5);
      expect(socket.connected).toBe(true);
    } finally {
      socket.close();
    }
  });
});

/** Resolves with the disconnect reason; gives up (rejects) after a generous limit, which is the failure. */
function dropped(socket: Socket, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const giveUp = setTimeout(() => reject(new Error(`the live socket was still connected 15 s after ${what}`)), 15_000);
    socket.once("disconnect", (reason: string) => {
      clearTimeout(giveUp);
      resolve(reason);
    });
  });
}

async function liveSocketOf(client: ApiClient): Promise<Socket> {
  const socket = uiSocket(c.url, client.cookie);
  const refused = await connectOutcome(socket);
  if (refused) throw new Error(`live socket refused: ${refused.message}`);
  return socket;
}

describe("browsers' live sockets", () => {
  it("#13.4 live sockets end with their session: logout, disable, password change and role change drop them; a reconnect is checked again; a foreign Origin is refused", async () => {
    const admin = c.callerAs("admin");
    const sockets: Socket[] = [];
    try {
      // Logout: the socket is dropped, and the old cookie cannot open another.
      const viewer = await loggedIn(c.url, "viewer");
      const s1 = await liveSocketOf(viewer);
      sockets.push(s1);
      const afterLogout = dropped(s1, "logout");
      expect((await viewer.mutation("auth.logout")).code).toBeNull();
      expect(await afterLogout).toBe("io server disconnect");
      expect((await connectOutcome(uiSocket(c.url, viewer.cookie)))?.message).toMatch(/not logged in/);

      // Disabling a user, changing their password and changing their role each drop their sockets.
      const { id } = await admin.users.create({ username: "socket-user", password: "socket-password-1", role: "viewer" });
      const changes: { what: string; change: Parameters<typeof admin.users.update>[0]; reconnects: boolean }[] = [
        { what: "a role change", change: { id, role: "operator" }, reconnects: true },
        { what: "a password change", change: { id, password: "socket-password-2" }, reconnects: false },
        { what: "disabling the user", change: { id, disabled: true }, reconnects: false },
      ];
      let password = "socket-password-1";
      for (const { what, change, reconnects } of changes) {
        const user = new ApiClient(c.url);
        expect((await user.login("socket-user", password)).code, what).toBeNull();
        const socket = await liveSocketOf(user);
        sockets.push(socket);
        const gone = dropped(socket, what);
        await admin.users.update(change);
        expect(await gone, what).toBe("io server disconnect");
        // The reconnect is checked like a first connect: a role change keeps the session, with the new role.
        const again = uiSocket(c.url, user.cookie);
        sockets.push(again);
        const outcome = await connectOutcome(again);
        if (reconnects) {
          expect(outcome, what).toBeNull();
          const live = await c.running.ui.fetchSockets();
          expect(live.find((s) => s.id === again.id)?.data).toMatchObject({ user: { username: "socket-user", role: "operator" } });
        } else {
          expect(outcome?.message, what).toMatch(/not logged in/);
        }
        if (change.password) password = change.password;
      }

      // A page of another origin cannot open a live socket with the user's cookie.
      const operator = await loggedIn(c.url, "operator");
      for (const origin of ["http://evil.example", `http://127.0.0.1:1`]) {
        const foreign = uiSocket(c.url, operator.cookie, { origin });
        sockets.push(foreign);
        expect((await connectOutcome(foreign))?.message, origin).toMatch(/cross-origin socket refused: origin .* is not this console/);
      }
      const own = uiSocket(c.url, operator.cookie, { origin: c.url });
      sockets.push(own);
      expect(await connectOutcome(own)).toBeNull();
    } finally {
      for (const s of sockets) s.close();
    }
  });
  it("#13.4 a live socket ends when its session expires, and the expired cookie cannot open another", async () => {
    const viewer = await loggedIn(c.url, "viewer");
    // The session expires 2 s from now (sessions last hours; its row says when).
    const token = decodeURIComponent(viewer.cookie.split("=")[1] ?? "");
    const updated = await c.running.services.db.session.updateMany({ where: { id: sha256(token) }, data: { expiresAt: new Date(Date.now() + 2000) } });
    expect(updated.count).toBe(1);
    const socket = await liveSocketOf(viewer);
    try {
      expect(await dropped(socket, "the session's expiry")).toBe("io server disconnect");
      expect((await connectOutcome(uiSocket(c.url, viewer.cookie)))?.message).toMatch(/not logged in/);
    } finally {
      socket.close();
    }
  });
});
