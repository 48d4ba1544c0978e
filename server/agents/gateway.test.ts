// The gateway's part of a highly available console (issue 17), with a real socket.io server and client
// on loopback: the welcome carries the term, every command goes out stamped with it, nothing is sent
// while mayCommand() says this console no longer leads, and a follower's refusal (notLeaderError)
// reaches the agent as a not-leader refusal with the leader's URL. Trust per host (issue 11): what an
// agent says about applications or commands that are not its host's is dropped (and logged, rate-limited),
// and every agent is held to its message rate and log-event quota.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { io as connectClient, type Socket as ClientSocket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { AGENT_PROTOCOL_VERSION, refusalSchema, type AgentCommand, type Welcome } from "../../protocol/agent-wire";
import { AGENT_LOG_EVENT_BURST, AGENT_MESSAGE_BURST, attachAgentGateway, notLeaderError, REFUSAL_LOG_INTERVAL_MS, type AgentGateway, type AgentGatewayDeps } from "./gateway";

const HOST = "h1";
const TOKEN = "token-h1-0123456789";
const quiet = { info: () => {}, debug: () => {}, warn: () => {}, error: () => {} };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listen(setup: (io: Server) => void): Promise<string> {
  const server = http.createServer();
  const io = new Server(server, { path: "/socket.io", serveClient: false });
  setup(io);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        io.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function agentClient(url: string): ClientSocket {
  const socket = connectClient(`${url}/agent`, {
    path: "/socket.io",
    transports: ["websocket"],
    reconnection: false,
    auth: { hostName: HOST, token: TOKEN, agentVersion: "test", protocolVersion: AGENT_PROTOCOL_VERSION },
  });
  cleanups.push(() => void socket.disconnect());
  return socket;
}

/** `applications`: what the host's configuration names (what its agent may speak about); `deps`: callbacks and a logger. */
async function gatewayWithAgent(opts: { term: number; mayCommand?: () => boolean; now?: () => number; applications?: string[]; deps?: Partial<AgentGatewayDeps> }) {
  let gateway!: AgentGateway;
  const applications = (opts.applications ?? []).map((name) => ({ name, type: "sip-server", start: { command: "/bin/true" }, pair: null }));
  const url = await listen((io) => {
    gateway = attachAgentGateway(io, {
      term: opts.term,
      mayCommand: opts.mayCommand,
      now: opts.now,
      verifyToken: async (host, token) => host === HOST && token === TOKEN,
      configForHost: async () => ({ hostName: HOST, revision: "r1", applications }),
      logger: quiet,
      ...opts.deps,
    });
  });
  cleanups.push(() => gateway.close());
  const socket = agentClient(url);
  const received: AgentCommand[] = [];
  socket.on("config", (_cfg: unknown, ack: (r: unknown) => void) => ack({ revision: "r1", ok: true, errors: [] }));
  socket.on("command", (cmd: AgentCommand, ack: (r: unknown) => void) => {
    received.push(cmd);
    ack({ commandId: cmd.id });
  });
  const welcome = await new Promise<Welcome>((resolve) => socket.on("welcome", resolve));
  return { gateway, socket, welcome, received };
}

describe("agent gateway of a highly available console", () => {
  it("welcomes with its term and stamps it on every command it sends (its callers do not give one)", async () => {
    const { gateway, socket, welcome, received } = await gatewayWithAgent({ term: 4 });
    expect(welcome.term).toBe(4);
    socket.on("command", (cmd: AgentCommand) => {
      socket.emit("commandResult", { commandId: cmd.id, type: cmd.type, application: null, outcome: "ok", reason: "ran", pairEpoch: null, finishedAt: new Date().toISOString() }, () => {});
    });
    const deadline = new Date(Date.now() + 10_000).toISOString();
    const result = await gateway.sendCommand(HOST, { id: "os-1", type: "run-os-command", argv: ["/bin/true"], deadline });
    expect(result.outcome).toBe("ok");
    expect(received).toEqual([{ id: "os-1", type: "run-os-command", argv: ["/bin/true"], timeoutMs: 30_000, reason: "", deadline, term: 4 }]);
  });

  it("sends nothing while mayCommand() says no: the command waits as for an absent host and ends no-answer with the reason", async () => {
    let t = Date.now();
    let leads = false;
    const { gateway, received } = await gatewayWithAgent({ term: 2, mayCommand: () => leads, now: () => t });
    const answer = gateway.sendCommand(HOST, { id: "stop-1", type: "stop", application: "sip1", pairEpoch: 3, deadline: new Date(t + 1000).toISOString() });
    t += 2000; // past its deadline: the gateway's next sweep gives up on it
    const result = await answer;
    expect(result).toMatchObject({ commandId: "stop-1", outcome: "no-answer", application: "sip1", pairEpoch: 3 });
    expect(result.reason).toBe("command stop-1 was not sent to host h1: this console no longer holds the leadership lease (0 sends)");
    expect(received).toEqual([]);
    // Leading again (the caller's retry with the same id): sent this time.
    leads = true;
    void gateway.sendCommand(HOST, { id: "stop-1", type: "stop", application: "sip1", pairEpoch: 3, deadline: new Date(t + 10_000).toISOString() });
    await expect.poll(() => received.map((c) => [c.id, c.term])).toEqual([["stop-1", 2]]);
  });

  it("a follower's notLeaderError reaches the agent as a not-leader refusal naming the leader", async () => {
    const leaderUrl = "https://console-b.example:3001";
    const url = await listen((io) => io.of("/agent").use((_socket, next) => next(notLeaderError(leaderUrl))));
    const err = await new Promise<Error & { data?: unknown }>((resolve) => agentClient(url).on("connect_error", resolve));
    expect(err.message).toBe(`this console is a follower; the leader is at ${leaderUrl}`);
    expect(refusalSchema.parse(err.data)).toEqual({ code: "not-leader", message: err.message, leaderUrl });
    const none = notLeaderError(null) as Error & { data?: unknown };
    expect(refusalSchema.parse(none.data)).toEqual({ code: "not-leader", message: "this console is a follower and no console leads right now", leaderUrl: null });
    // What is not a URL (an empty column) is not passed on as one.
    expect(refusalSchema.parse((notLeaderError("") as Error & { data?: unknown }).data)).toMatchObject({ leaderUrl: null });
  });
});

describe("agent gateway: an agent speaks only for its own host, within its rate and quota", () => {
  const time = "2026-01-01T00:00:00.000Z";
  const status = (application: string) => ({ application, status: "failed", previous: "running", detail: "exited", pid: null, exitCode: 1, signal: null, time });
  const events = (application: string, n: number, id = "00-04200") => Array.from({ length: n }, (_, i) => ({ application, id, text: `event ${i}`, time }));

  it("drops reports, log events and command results about applications and commands that are not its host's, and logs the refusals at most every 10 s", async () => {
    const seen: string[] = [];
    const warnings: { msg: string; fields: unknown }[] = [];
    const logger = { ...quiet, warn: (msg: string, fields?: unknown) => void warnings.push({ msg, fields }) };
    const { socket } = await gatewayWithAgent({
      term: 1,
      now: () => 1_000_000, // a fixed clock: nothing refills, nothing times out
      applications: ["own-app"],
      deps: {
        logger,
        onAppStatus: (host, m) => void seen.push(`status ${host} ${m.application}`),
        onRoleReport: (host, m) => void seen.push(`role ${host} ${m.application}`),
        onReadiness: (host, m) => void seen.push(`readiness ${host} ${m.application}`),
        onLogEvents: (host, m) => void seen.push(`log ${host} ${m.events.map((e) => e.application).join(",")}`),
        onCommandResult: (host, r) => void seen.push(`result ${host} ${r.commandId}`),
      },
    });
    socket.emit("appStatus", status("other-app"));
    socket.emit("roleReport", { application: "other-app", role: "primary", epoch: 9, time });
    socket.emit("readiness", { application: "other-app", report: null, error: "forged", time });
    // A result sent ahead for a command id it guessed: nothing was sent, so nothing is settled or remembered.
    socket.emit("commandResult", { commandId: "set-role:p1:other-app:primary:e2", type: "set-role", application: "other-app", outcome: "ok", reason: "forged", pairEpoch: 2, finishedAt: time, scripts: [], heldEpoch: null }, () => {});
    expect(await socket.emitWithAck("logEvents", { events: [...events("other-app", 2), ...events("own-app", 1)] })).toEqual({ ok: true });
    socket.emit("appStatus", status("own-app"));
    // Messages are handled in order: the heartbeat's answer comes after everything above was.
    await socket.emitWithAck("heartbeat", { seq: 1, sentAtMs: 0 });
    expect(seen).toEqual([`log ${HOST} own-app`, `status ${HOST} own-app`]);
    const refusals = warnings.filter((w) => w.msg === "refused what an agent sent");
    expect(refusals).toHaveLength(1); // five refusals, one line: the next may come 10 s later, with the count since
    expect(refusals[0]!.fields).toMatchObject({ host: HOST, why: "a status of other-app, which it does not run" });
  });

  it(`holds an agent to its log-event quota (bursts of ${AGENT_LOG_EVENT_BURST}) and its message rate (bursts of ${AGENT_MESSAGE_BURST})`, async () => {
    let delivered = 0;
    const { socket } = await gatewayWithAgent({ term: 1, now: () => 1_000_000, applications: ["own-app"], deps: { onLogEvents: (_h, m) => void (delivered += m.events.length) } });
    // One more message's worth of events than the burst allows (the clock stands still: no refill).
    const messages = AGENT_LOG_EVENT_BURST / 1000 + 1;
    for (let i = 0; i < messages; i++) expect(await socket.emitWithAck("logEvents", { events: events("own-app", 1000) })).toEqual({ ok: true });
    expect(delivered).toBe(AGENT_LOG_EVENT_BURST);
    // The message rate: every message counts (the log events above too); past the burst each is dropped and answered so.
    const answers = await Promise.all(Array.from({ length: AGENT_MESSAGE_BURST }, (_, seq) => socket.emitWithAck("heartbeat", { seq, sentAtMs: 0 })));
    const dropped = answers.filter((a) => (a as { ok?: boolean }).ok === false);
    expect(dropped).toHaveLength(messages);
    expect(dropped[0]).toEqual({ ok: false, error: "rate limit: message dropped" });
    expect(answers.slice(0, AGENT_MESSAGE_BURST - messages).every((a) => typeof (a as { seq?: number }).seq === "number")).toBe(true);
  });
});

describe("agent handshake refusals in the console's log", () => {
  it("a peer retrying a bad token is logged at most every REFUSAL_LOG_INTERVAL_MS, with how many were refused since (not a line per attempt)", async () => {
    let t = 1_000_000;
    const warnings: { line: string; fields: Record<string, unknown> }[] = [];
    const capture = { ...quiet, warn: (line: string, fields?: Record<string, unknown>) => void warnings.push({ line, fields: fields ?? {} }) };
    const url = await listen((io) => {
      const gateway = attachAgentGateway(io, {
        term: 1,
        now: () => t,
        verifyToken: async (host, token) => host === HOST && token === TOKEN,
        configForHost: async () => ({ hostName: HOST, revision: "r1", applications: [] }),
        logger: capture,
      });
      cleanups.push(() => gateway.close());
    });
    const attempt = () =>
      new Promise<string>((resolve) => {
        const socket = connectClient(`${url}/agent`, {
          path: "/socket.io",
          transports: ["websocket"],
          reconnection: false,
          auth: { hostName: HOST, token: "guessed-token-0123456789", agentVersion: "test", protocolVersion: AGENT_PROTOCOL_VERSION },
        });
        socket.on("connect_error", (err: Error & { data?: unknown }) => {
          socket.disconnect();
          resolve(refusalSchema.parse(err.data).code);
        });
      });
    for (let i = 0; i < 25; i++) expect(await attempt()).toBe("bad-token");
    expect(warnings.map((w) => w.line)).toEqual(["agent refused: token unknown or revoked"]);
    expect(warnings[0]!.fields).toMatchObject({ host: HOST, refusedSinceLastLog: 1 });
    t += REFUSAL_LOG_INTERVAL_MS;
    expect(await attempt()).toBe("bad-token");
    expect(warnings).toHaveLength(2);
    expect(warnings[1]!.fields).toMatchObject({ refusedSinceLastLog: 25 });
  });
});
