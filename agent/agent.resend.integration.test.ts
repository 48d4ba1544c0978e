// An in-process agent against a bare socket.io console that withholds the acknowledgement of a
// command result and drops the connection: after reconnecting, the agent resends the result (same
// id) before anything else, and forgets it only once acknowledged.
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { afterAll, describe, expect, it } from "vitest";
import { AGENT_PROTOCOL_VERSION, type CommandResult } from "../protocol/agent-wire";
import { Agent } from "./agent";
import { waitFor } from "./test-fixtures/test-console";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-resend-"));
const server = http.createServer();
const io = new Server(server, { path: "/socket.io", serveClient: false });
let agent: Agent | null = null;

afterAll(async () => {
  await agent?.stop();
  io.close();
  await new Promise<void>((r) => server.close(() => r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("agent result delivery across reconnects", () => {
  it("resends an unacknowledged result after reconnecting and drops it once acknowledged", async () => {
    const received: { connection: number; result: CommandResult }[] = [];
    let connections = 0;
    io.of("/agent").on("connection", (socket) => {
      connections += 1;
      const n = connections;
      socket.emit("welcome", { protocolVersion: AGENT_PROTOCOL_VERSION, hostName: "h1", consoleVersion: "t", heartbeatIntervalMs: 200, heartbeatTimeoutMs: 5000, consoleTimeMs: Date.now(), term: 1 });
      socket.emit("config", { hostName: "h1", revision: `r${n}`, readinessPollMs: 1000, applications: [] }, () => {});
      socket.on("heartbeat", (_m: unknown, ack: (r: unknown) => void) => ack({ seq: 0, consoleTimeMs: Date.now() }));
      socket.on("resync", (_m: unknown, ack: (r: unknown) => void) => ack({ ok: true }));
      socket.on("commandResult", (result: CommandResult, ack: (r: unknown) => void) => {
        received.push({ connection: n, result });
        if (n === 1) socket.disconnect(true); // no ack: the result is lost in transit
        else ack({ ok: true });
      });
      if (n === 1) socket.emit("command", { id: "r1", type: "start", application: "ghost", pairEpoch: 0, role: null, term: 1, deadline: new Date(Date.now() + 60_000).toISOString() });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as AddressInfo;
    agent = new Agent({
      consoleUrls: [`http://127.0.0.1:${port}`],
      hostName: "h1",
      token: "token-0123456789abcdef",
      stateDir: dir,
      logDir: path.join(dir, "logs"),
      healthFile: path.join(dir, "health.json"),
      localPort: 0,
      stopAppsOnExit: true,
      initialBackoffMs: 20,
      maxBackoffMs: 200,
      logMaxFileBytes: 1024 * 1024,
      logMaxRotatedFiles: 1,
      allowOsCommands: false,
      log: () => {},
    });
    await agent.start();
    await waitFor("result resent on the second connection", () => received.find((r) => r.connection === 2));
    expect(received.map((r) => [r.connection, r.result.commandId, r.result.outcome])).toEqual([
      [1, "r1", "rejected"],
      [2, "r1", "rejected"],
    ]);
    expect(received[1]!.result).toEqual(received[0]!.result);
    expect(received[0]!.result.reason).toBe("application ghost is not configured on host h1");
    await waitFor("acknowledged result forgotten", () => agent!.health().unacknowledgedResults === 0);
  });
});
