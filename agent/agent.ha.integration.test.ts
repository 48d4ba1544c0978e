// Issue 17, the agent's side, with a real agent process and fake consoles on loopback: a follower that
// refuses every agent with not-leader and the leader's URL (the gateway's own notLeaderError), the
// leader (the real gateway at term 7), and a deposed leader (the real gateway at term 6). The agent given
// [follower, leader] connects to the leader; a command of an older term than one seen is not run
// (stale-term, the server process untouched); after an agent restart its persisted term still refuses
// the deposed leader's welcome.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notLeaderError } from "../server/agents/gateway";
import type { HostConfigInput } from "../protocol/agent-wire";
import type { AgentProcess, TestConsole } from "./test-fixtures/test-console";
import { agentSocketOf, isAlive, killKeepersIn, makeTempDir, nextResultOf, sendCommand, spawnAgent, startTestConsole, waitFor } from "./test-fixtures/test-console";

const HOST = "ha-host";
const TOKEN = "token-ha-host-0123456789";
const LONG_MS = 60_000;

let leader: TestConsole;
let deposed: TestConsole;
let follower: { url: string; handshakes: () => number; close(): Promise<void> };
let tmp: string;
let stateDir: string;
const agents: AgentProcess[] = [];

const config: HostConfigInput = {
  hostName: HOST,
  revision: "r1",
  applications: [
    {
      // A generic process (no http-port): running once spawned.
      name: "idle",
      type: "generic",
      start: { command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"] },
      restart: { enabled: false },
      pair: null,
    },
  ],
};

/** A follower console: every agent is refused in the handshake, told where the leader is. */
async function startFollower(leaderUrl: string): Promise<typeof follower> {
  const server = http.createServer();
  const io = new Server(server, { path: "/socket.io", serveClient: false });
  let handshakes = 0;
  io.of("/agent").use((_socket, next) => {
    handshakes += 1;
    next(notLeaderError(leaderUrl));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    handshakes: () => handshakes,
    close: () =>
      new Promise<void>((resolve) => {
        io.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function startAgent(consoleUrls: string[]): AgentProcess {
  const a = spawnAgent({ consoleUrl: consoleUrls.join(","), host: HOST, token: TOKEN, stateDir });
  agents.push(a);
  return a;
}

function health(): { consoleUrl: string; consoleUrls: string[]; connection: string; leadershipTerm: number } {
  return JSON.parse(fs.readFileSync(path.join(stateDir, "health.json"), "utf8"));
}

beforeAll(async () => {
  tmp = makeTempDir("switchyard-ha-it-");
  stateDir = path.join(tmp, "state");
  leader = await startTestConsole({ term: 7 });
  deposed = await startTestConsole({ term: 6 });
  for (const c of [leader, deposed]) {
    c.tokens.set(HOST, TOKEN);
    c.configs.set(HOST, config);
  }
  follower = await startFollower(leader.url);
});

afterAll(async () => {
  for (const a of agents) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill("SIGKILL");
  await Promise.all(agents.map((a) => a.exited));
  if (stateDir) killKeepersIn(stateDir);
  await Promise.all([leader?.close(), deposed?.close(), follower?.close()]);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("an agent of a highly available console", () => {
  let idlePid: number;

  it("given [follower, leader], is sent to the leader by the follower and connects there", async () => {
    const agent = startAgent([follower.url, leader.url]);
    await waitFor("the agent's resync at the leader", () => leader.rec.resyncs.find((r) => r.host === HOST), LONG_MS);
    expect(follower.handshakes()).toBeGreaterThanOrEqual(1);
    expect(agent.output()).toContain(`console at ${follower.url} is a follower; the leader is at ${leader.url}`);
    await waitFor("health file naming the leader", () => {
      try {
        const h = health();
        return h.connection === "connected" && h.consoleUrl === leader.url ? h : null;
      } catch {
        return null;
      }
    });
    expect(health()).toMatchObject({ consoleUrls: [follower.url, leader.url], leadershipTerm: 7 });
    expect(JSON.parse(fs.readFileSync(path.join(stateDir, "term.json"), "utf8"))).toEqual({ version: 1, term: 7 });
  });

  it("does not run a command of an older term than one seen: stale-term, and the server process is not touched", async () => {
    // The leader starts the application (its gateway stamps term 7).
    const started = await sendCommand(leader, HOST, { type: "start", application: "idle", pairEpoch: 0, role: null });
    expect(started.outcome).toBe("ok");
    const running = await waitFor("idle running", () => leader.rec.statuses.find((s) => s.msg.application === "idle" && s.msg.status === "running")?.msg, LONG_MS);
    idlePid = running.pid!;
    expect(isAlive(idlePid)).toBe(true);
    const statusesBefore = leader.rec.statuses.length;

    // A stop of term 6 (a deposed leader's) on the same session.
    const socket = agentSocketOf(leader, HOST);
    const result = nextResultOf(socket, "stale-stop");
    socket.emit("command", { id: "stale-stop", type: "stop", application: "idle", pairEpoch: 0, term: 6, deadline: new Date(Date.now() + 30_000).toISOString() });
    const stale = await result;
    expect(stale).toMatchObject({ commandId: "stale-stop", outcome: "stale-term", application: "idle" });
    expect(stale.reason).toBe("command stale-stop carries leadership term 6, older than term 7 already seen (a deposed console's); not executed");

    // A command of the leader's term after it, on the same queue, as a barrier: whatever the stale stop
    // could have set off has been reported by the time its result is back. Nothing was: same process.
    await sendCommand(leader, HOST, { type: "start", application: "idle", pairEpoch: 0, role: null });
    expect(isAlive(idlePid)).toBe(true);
    expect(leader.rec.statuses.slice(statusesBefore).filter((s) => s.msg.application === "idle")).toEqual([]);
  });

  it("after an agent restart, the persisted term still refuses the deposed leader's welcome", async () => {
    const first = agents[0]!;
    first.child.kill("SIGTERM");
    expect((await first.exited).code).toBe(0);
    const resyncsBefore = leader.rec.resyncs.length;

    const agent = startAgent([deposed.url, leader.url]);
    const resync = await waitFor("the restarted agent's resync at the leader", () => leader.rec.resyncs.slice(resyncsBefore).find((r) => r.host === HOST && r.snap.configRevision !== null)?.snap, LONG_MS);
    expect(agent.output()).toContain(`console at ${deposed.url} leads term 6 but term 7 was already seen (a deposed leader); trying the next console`);
    // The deposed leader heard nothing from it, and the server kept running through the restart.
    expect(deposed.rec.resyncs).toEqual([]);
    expect(resync.applications.find((a) => a.application === "idle")).toMatchObject({ status: "running", pid: idlePid });
    expect(isAlive(idlePid)).toBe(true);
  });
});
