// Real processes on loopback: a test console (socket.io + the real agent gateway) and two real agent
// processes supervising dummy applications, exercising the wire protocol end to end: auth, start /
// stop, crash detection, set-role, idempotency, fencing, malformed messages, heartbeat timeout and
// resync after an agent restart, clean SIGTERM (which leaves the applications running). Restart
// policies are off here (agent.keeper.integration.test.ts covers them with re-attachment).
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io as connectClient, type Socket as ClientSocket } from "socket.io-client";
import type { Socket as ServerSocket } from "socket.io";
import { AGENT_PROTOCOL_VERSION, type CommandResult, type HostConfigInput } from "../protocol/agent-wire";
import { labVipFile } from "./drivers/lab";
import {
  REPO_ROOT,
  agentSocketOf,
  freePort,
  isAlive,
  killKeepersIn,
  makeTempDir,
  nextResultOf,
  sendCommand,
  spawnAgent,
  startTestConsole,
  waitFor,
  type AgentProcess,
  type CommandBody,
  type TestConsole,
} from "./test-fixtures/test-console";

const TOKEN_1 = "token-host-one-0123456789";
const TOKEN_2 = "token-host-two-0123456789";
const TOKEN_3 = "token-host-three-012345678";
const DUMMY = path.join(REPO_ROOT, "agent/test-fixtures/dummy-app.mjs");

let consoleSrv: TestConsole;
let tmp: string;
let labDir: string;
let agent1: AgentProcess;
let agent2: AgentProcess;
let port1: number;
let port2: number;
let metricsPort1: number;
const extraProcesses: AgentProcess[] = [];
const clients: ClientSocket[] = [];

function appConfig(name: string, httpPort: number, pairRole: "primary" | "backup", extraArgs: string[] = []) {
  return {
    name,
    type: "dummy",
    // Handed to the application as SWITCHYARD_CONFIG_FILE; the dummy takes its initial role from it.
    appConfig: { name, type: "dummy", host: "h", sipAddress: "127.0.0.1", sipListenAddress: "127.0.0.1", sipAdvertisedAddress: "127.0.0.1", sipPort: null, haPort: null, peer: null, initialRole: pairRole, options: {}, dns: {} },
    start: { command: process.execPath, args: [DUMMY, "--http-port", String(httpPort), ...extraArgs] },
    stop: { command: null, timeoutMs: 3000 },
    restart: { enabled: false },
    options: { "http-port": String(httpPort) },
    pair: { name: "pair-a", haType: "ip-takeover" as const, configuredRole: pairRole, driver: { kind: "lab" as const, vip: "192.0.2.10", stateDir: labDir }, scriptTimeoutMs: 5000 },
  };
}

function hostConfig(host: string, apps: ReturnType<typeof appConfig>[]): HostConfigInput {
  return { hostName: host, revision: `rev-${host}-1`, readinessPollMs: 200, applications: apps };
}

function command(host: string, c: CommandBody): Promise<CommandResult> {
  return sendCommand(consoleSrv, host, c);
}

function agentSocket(host: string): ServerSocket {
  return agentSocketOf(consoleSrv, host);
}

function connectedSince(host: string, afterIndex: number): boolean {
  return consoleSrv.rec.hostStates.slice(afterIndex).some((s) => s.hostName === host && s.state === "connected");
}

beforeAll(async () => {
  tmp = makeTempDir("switchyard-agent-it-");
  labDir = path.join(tmp, "lab-vip");
  consoleSrv = await startTestConsole({ heartbeatTimeoutMs: 2000 });
  [port1, port2, metricsPort1] = await Promise.all([freePort(), freePort(), freePort()]);
  consoleSrv.tokens.set("host1", TOKEN_1).set("host2", TOKEN_2).set("host3", TOKEN_3);
  consoleSrv.configs.set("host1", hostConfig("host1", [appConfig("sip1", port1, "primary")]));
  consoleSrv.configs.set("host2", hostConfig("host2", [appConfig("sip2", port2, "backup", ["--ignore-sigterm"])]));
  agent1 = spawnAgent({ consoleUrl: consoleSrv.url, host: "host1", token: TOKEN_1, stateDir: path.join(tmp, "a1"), extraArgs: ["--metrics-port", String(metricsPort1)] });
  agent2 = spawnAgent({ consoleUrl: consoleSrv.url, host: "host2", token: TOKEN_2, stateDir: path.join(tmp, "a2") });
  await waitFor("both agents resynced", () =>
    ["host1", "host2"].every((h) => consoleSrv.rec.resyncs.some((r) => r.host === h && r.snap.configRevision !== null)),
  );
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  const all = [agent1, agent2, ...extraProcesses].filter(Boolean);
  for (const a of all) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill("SIGKILL");
  await Promise.all(all.map((a) => a.exited));
  // Applications outlive their agents by design: kill what the keepers recorded.
  for (const a of all) killKeepersIn(a.stateDir);
  await consoleSrv?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("agent ↔ console over loopback", () => {
  it("connects both agents, pushes configuration and receives a full resync", () => {
    const r1 = consoleSrv.rec.resyncs.filter((r) => r.host === "host1").at(-1)!;
    expect(r1.snap.configRevision).toBe("rev-host1-1");
    expect(r1.snap.applications.map((a) => [a.application, a.status])).toEqual([["sip1", "stopped"]]);
    expect(consoleSrv.gateway.host("host1")?.state).toBe("connected");
    expect(consoleSrv.gateway.host("host2")?.state).toBe("connected");
  });

  it("refuses an agent with a bad token, and the agent says so in its health file", async () => {
    const bad = spawnAgent({ consoleUrl: consoleSrv.url, host: "host3", token: "wrong-token-0123456789", stateDir: path.join(tmp, "a3") });
    extraProcesses.push(bad);
    const health = await waitFor("refused health", () => {
      try {
        const h = JSON.parse(fs.readFileSync(path.join(tmp, "a3", "health.json"), "utf8")) as { connection: string; reason: string };
        return h.connection === "refused" ? h : null;
      } catch {
        return null;
      }
    });
    expect(health.reason).toContain("agent token is unknown or revoked");
    expect(consoleSrv.rec.warnings.some((w) => w.includes("agent refused: token unknown or revoked") && w.includes(`"host":"host3"`))).toBe(true);
    expect(consoleSrv.gateway.host("host3")).toBeNull();
    bad.child.kill("SIGTERM");
    expect((await bad.exited).code).toBe(0);
  });

  it("refuses a peer speaking another protocol version with a clear message", async () => {
    const client = connectClient(`${consoleSrv.url}/agent`, {
      path: "/socket.io",
      reconnection: false,
      transports: ["websocket"],
      auth: { hostName: "host3", token: TOKEN_3, agentVersion: "9.9.9", protocolVersion: AGENT_PROTOCOL_VERSION + 1 },
    });
    clients.push(client);
    const err = await new Promise<Error & { data?: { code?: string } }>((r) => client.on("connect_error", r));
    expect(err.message).toContain(`speaks ${AGENT_PROTOCOL_VERSION + 1}, console speaks ${AGENT_PROTOCOL_VERSION}`);
    expect(err.data?.code).toBe("protocol-mismatch");
  });

  it("starts an application, reports running with its pid and captures its output", async () => {
    const result = await command("host1", { type: "start", application: "sip1", pairEpoch: 0, role: null });
    expect(result.outcome).toBe("ok");
    const running = await waitFor("sip1 running", () => consoleSrv.rec.statuses.find((s) => s.msg.application === "sip1" && s.msg.status === "running"));
    expect(running.msg.previous).toBe("starting");
    expect(running.msg.pid).toBeGreaterThan(0);
    expect(isAlive(running.msg.pid!)).toBe(true);
    const logFile = path.join(tmp, "a1", "logs", "sip1.log");
    await waitFor("sip1 log line", () => fs.existsSync(logFile) && fs.readFileSync(logFile, "utf8").includes("dummy app sip1 started"));
    // Readiness polled from the application's /server?sipServer arrives at the console.
    const ready = await waitFor("sip1 readiness", () => consoleSrv.rec.readiness.find((r) => r.msg.application === "sip1" && r.msg.report));
    expect(ready.msg.report?.role).toBe("primary");
  });

  it("readLog: the console reads sip1's log through the agent — its tail and a search — and nothing of an application the host does not run", async () => {
    const tail = await consoleSrv.gateway.readLog("host1", { application: "sip1" });
    expect(tail).toMatchObject({ application: "sip1", ok: true, error: null, matches: null, file: path.join(tmp, "a1", "logs", "sip1.log") });
    expect(tail.text).toContain("dummy app sip1 started");
    const found = await consoleSrv.gateway.readLog("host1", { application: "sip1", search: "DUMMY APP" });
    expect(found.matches).toBeGreaterThan(0);
    expect(found.text.split("\n").every((l) => l.toLowerCase().includes("dummy app"))).toBe(true);
    // The console never asks a host about an application it did not give it.
    await expect(consoleSrv.gateway.readLog("host1", { application: "sip-elsewhere" })).rejects.toThrow(/host host1 does not run sip-elsewhere/);
  });

  it("acknowledges set-role with the application's answer and reports the role", async () => {
    const result = await command("host1", { id: "role-1", type: "set-role", application: "sip1", pairEpoch: 1, role: "backup" });
    expect(result.outcome).toBe("ok");
    expect(result.reason).toBe("sip1 is now backup at epoch 1");
    await waitFor("role report", () => consoleSrv.rec.roles.find((r) => r.msg.application === "sip1" && r.msg.role === "backup" && r.msg.epoch === 1));
    const stats = (await (await fetch(`http://127.0.0.1:${port1}/test/stats`)).json()) as { role: string; epoch: number };
    expect(stats).toMatchObject({ role: "backup", epoch: 1 });
  });

  it("answers a repeated command id with the first result without executing it again", async () => {
    const before = (await (await fetch(`http://127.0.0.1:${port1}/test/stats`)).json()) as { roleRequests: number };
    // Straight to the agent, bypassing the gateway's own memory, with different content under the same id.
    const socket = agentSocket("host1");
    const answer = nextResultOf(socket, "role-1");
    socket.emit("command", { id: "role-1", type: "set-role", application: "sip1", pairEpoch: 2, role: "primary", term: 1, deadline: new Date(Date.now() + 10_000).toISOString() });
    const repeated = await answer;
    expect(repeated.reason).toBe("sip1 is now backup at epoch 1");
    const after = (await (await fetch(`http://127.0.0.1:${port1}/test/stats`)).json()) as { roleRequests: number; role: string };
    expect(after.roleRequests).toBe(before.roleRequests);
    expect(after.role).toBe("backup");
    // The gateway answers a repeated sendCommand from memory with the very same result.
    const again = await command("host1", { id: "role-1", type: "set-role", application: "sip1", pairEpoch: 1, role: "backup" });
    expect(again).toEqual(consoleSrv.rec.results.find((r) => r.result.commandId === "role-1")!.result);
  });

  it("refuses a command whose epoch is older than one already applied (fencing)", async () => {
    const result = await command("host1", { type: "set-role", application: "sip1", pairEpoch: 0, role: "primary" });
    expect(result.outcome).toBe("stale-epoch");
    expect(result.reason).toContain("carries epoch 0 of pair-a, older than epoch 1 already applied");
    const stats = (await (await fetch(`http://127.0.0.1:${port1}/test/stats`)).json()) as { role: string };
    expect(stats.role).toBe("backup");
  });

  it("runs the pair's control script (lab driver) for the console and for the application", async () => {
    const result = await command("host1", { type: "run-control-script", application: "sip1", pairEpoch: 1, action: "enable" });
    expect(result.outcome).toBe("ok");
    expect(result.scripts[0]?.stdout).toBe("lab VIP 192.0.2.10 enabled on host1");
    expect(JSON.parse(fs.readFileSync(labVipFile(labDir, "pair-a", "host1"), "utf8")).present).toBe(true);
    await waitFor("console script run", () => consoleSrv.rec.scriptRuns.find((s) => s.msg.requestedBy === "console" && s.msg.vipPresent === true));
    // The application asks its agent itself (W9) and checks presence through the local contract.
    const fromApp = (await (await fetch(`http://127.0.0.1:${port1}/test/control-script`, { method: "POST", body: JSON.stringify({ action: "disable" }) })).json()) as {
      status: number;
      body: { ok: boolean };
    };
    expect(fromApp).toMatchObject({ status: 200, body: { ok: true } });
    const vip = (await (await fetch(`http://127.0.0.1:${port1}/test/vip`)).json()) as { body: { present: boolean } };
    expect(vip.body.present).toBe(false);
    await waitFor("application script run", () => consoleSrv.rec.scriptRuns.find((s) => s.msg.requestedBy === "application" && s.msg.action === "disable"));
  });

  it("serves Prometheus metrics on its local port: connection state, commands by type and outcome, control scripts' durations, applications", async () => {
    // After the control-script test above: the console's enable and the application's disable ran here.
    const res = await fetch(`http://127.0.0.1:${metricsPort1}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^switchyard_agent_connection_state\{state="connected"\} 1$/m);
    expect(text).toMatch(/^switchyard_agent_commands_total\{type="run-control-script",outcome="ok"\} [1-9]\d*$/m);
    expect(text).toMatch(/^switchyard_agent_control_script_duration_seconds_count\{action="enable",requested_by="console",ok="true"\} [1-9]\d*$/m);
    expect(text).toMatch(/^switchyard_agent_control_script_duration_seconds_count\{action="disable",requested_by="application",ok="true"\} [1-9]\d*$/m);
    expect(text).toMatch(/^switchyard_agent_application_status\{application="sip1",status="running"\} 1$/m);
    expect(text).toMatch(/^switchyard_agent_build_info\{version="[^"]+",host="host1"\} 1$/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect((await fetch(`http://127.0.0.1:${metricsPort1}/other`)).status).toBe(404);
  });

  it("a promotion that carries the pair's enable runs it as soon as the server confirms; the console's later enable is answered from memory", async () => {
    const vipFile = labVipFile(labDir, "pair-a", "host1");
    expect(JSON.parse(fs.readFileSync(vipFile, "utf8")).present).toBe(false);
    const enablesBefore = consoleSrv.rec.scriptRuns.filter((s) => s.host === "host1" && s.msg.action === "enable").length;
    const promoted = await command("host1", { type: "set-role", application: "sip1", pairEpoch: 3, role: "primary", thenEnable: { id: "enable-e3", reason: "with the promotion" } });
    expect(promoted).toMatchObject({ outcome: "ok", reason: "sip1 is now primary at epoch 3" });
    // Nobody ordered the enable yet, and the VIP is there.
    await waitFor("the VIP enabled with the promotion", () => JSON.parse(fs.readFileSync(vipFile, "utf8")).present === true);
    await waitFor("its script run reported", () => consoleSrv.rec.scriptRuns.filter((s) => s.host === "host1" && s.msg.action === "enable").length === enablesBefore + 1);
    // Its result is kept for the console, not pushed (the gateway would refuse a result it never asked for).
    expect(consoleSrv.rec.results.some((r) => r.result.commandId === "enable-e3")).toBe(false);
    expect(consoleSrv.rec.warnings.filter((w) => w.includes("enable-e3"))).toEqual([]);
    const ordered = await command("host1", { id: "enable-e3", type: "run-control-script", application: "sip1", pairEpoch: 3, action: "enable" });
    expect(ordered).toMatchObject({ commandId: "enable-e3", type: "run-control-script", outcome: "ok", pairEpoch: 3 });
    expect(ordered.reason).toContain("enabled on host1");
    // Answered from the ledger: the script did not run a second time.
    expect(consoleSrv.rec.scriptRuns.filter((s) => s.host === "host1" && s.msg.action === "enable").length).toBe(enablesBefore + 1);
    await command("host1", { type: "run-control-script", application: "sip1", pairEpoch: 3, action: "disable" });
  });

  it("never enables with a promotion whose epoch was overtaken while the server took the role (fencing)", async () => {
    await fetch(`http://127.0.0.1:${port1}/test/role-delay`, { method: "POST", body: JSON.stringify({ ms: 600 }) });
    const enablesBefore = consoleSrv.rec.scriptRuns.filter((s) => s.host === "host1" && s.msg.action === "enable").length;
    try {
      const promotion = command("host1", { type: "set-role", application: "sip1", pairEpoch: 4, role: "primary", thenEnable: { id: "enable-e4", reason: "with the promotion" } });
      // While the server takes its time, the controller moves on to epoch 5 (this host's VIP is to go).
      await new Promise((r) => setTimeout(r, 200));
      const newer = command("host1", { type: "run-control-script", application: "sip1", pairEpoch: 5, action: "disable" });
      expect((await promotion).outcome).toBe("ok");
      expect((await newer).outcome).toBe("ok");
      const asked = await command("host1", { id: "enable-e4", type: "run-control-script", application: "sip1", pairEpoch: 4, action: "enable" });
      expect(asked).toMatchObject({ outcome: "stale-epoch", heldEpoch: 5 });
      expect(consoleSrv.rec.scriptRuns.filter((s) => s.host === "host1" && s.msg.action === "enable").length).toBe(enablesBefore);
      expect(JSON.parse(fs.readFileSync(labVipFile(labDir, "pair-a", "host1"), "utf8")).present).toBe(false);
    } finally {
      await fetch(`http://127.0.0.1:${port1}/test/role-delay`, { method: "POST", body: JSON.stringify({ ms: 0 }) });
    }
  });

  it("an answer to an older readiness poll never overwrites a newer one: a slow answer from before a set-role reports neither the old role nor its readiness", async () => {
    const stats = async () => (await (await fetch(`http://127.0.0.1:${port1}/test/stats`)).json()) as { role: string; epoch: number; readinessDelayMs: number; delayedReadinessAnswers: number; readinessAnswers: number };
    const before = await stats();
    expect(before).toMatchObject({ role: "primary", epoch: 4 });
    // The next poll is answered 1.5 s late with what the server was when asked: primary at epoch 4.
    await fetch(`http://127.0.0.1:${port1}/test/readiness-delay`, { method: "POST", body: JSON.stringify({ ms: 1500 }) });
    await waitFor("the slow poll asked", async () => (await stats()).readinessDelayMs === 0);
    const rolesFrom = consoleSrv.rec.roles.length;
    const readinessFrom = consoleSrv.rec.readiness.length;
    expect((await command("host1", { type: "set-role", application: "sip1", pairEpoch: 5, role: "backup" })).outcome).toBe("ok");
    const delivered = await waitFor("the slow answer sent", async () => {
      const s = await stats();
      return s.delayedReadinessAnswers > before.delayedReadinessAnswers ? s : undefined;
    });
    // Two more polls answered after it: had the agent taken the slow answer, it would have said so by now.
    await waitFor("two polls after the slow answer", async () => (await stats()).readinessAnswers >= delivered.readinessAnswers + 2);
    const roles = consoleSrv.rec.roles.slice(rolesFrom).filter((r) => r.msg.application === "sip1").map((r) => `${r.msg.role}@${r.msg.epoch}`);
    expect(roles).toEqual(["backup@5"]);
    const polled = consoleSrv.rec.readiness.slice(readinessFrom).filter((r) => r.msg.application === "sip1" && r.msg.report);
    expect(polled.map((r) => `${r.msg.report!.role}@${r.msg.report!.epoch}`).filter((x) => x !== "backup@5")).toEqual([]);
  });

  it("forwards log events the application posts", async () => {
    await fetch(`http://127.0.0.1:${port1}/test/event`, { method: "POST", body: JSON.stringify({ id: "00-04200", text: "cannot bind SIP listener" }) });
    const got = await waitFor("log event", () => consoleSrv.rec.logEvents.find((e) => e.msg.events.some((x) => x.id === "00-04200")));
    expect(got.host).toBe("host1");
    expect(got.msg.events[0]).toMatchObject({ application: "sip1", text: "cannot bind SIP listener" });
  });

  it("detects a crash from the exit event and reports it failed with the exit code", async () => {
    await fetch(`http://127.0.0.1:${port1}/test/crash`, { method: "POST" });
    const failed = await waitFor("sip1 failed", () => consoleSrv.rec.statuses.find((s) => s.msg.application === "sip1" && s.msg.status === "failed"));
    expect(failed.msg.exitCode).toBe(3);
    expect(failed.msg.detail).toBe("exited unexpectedly (exit code 3)");
    expect(failed.msg.previous).toBe("running");
  });

  it("stops an application that ignores SIGTERM by killing it after its stop timeout", async () => {
    expect((await command("host2", { type: "start", application: "sip2", pairEpoch: 1, role: null })).outcome).toBe("ok");
    const running = await waitFor("sip2 running", () => consoleSrv.rec.statuses.find((s) => s.msg.application === "sip2" && s.msg.status === "running"));
    // Running means spawned; wait until the process answers (and so has installed its SIGTERM handler).
    await waitFor("sip2 readiness", () => consoleSrv.rec.readiness.find((r) => r.msg.application === "sip2" && r.msg.report));
    const stop = await command("host2", { type: "stop", application: "sip2", pairEpoch: 1 });
    expect(stop.outcome).toBe("ok");
    expect(stop.reason).toContain("killed after its stop timeout of 3000 ms");
    const stopped = consoleSrv.rec.statuses.filter((s) => s.msg.application === "sip2").map((s) => s.msg.status);
    expect(stopped.slice(-2)).toEqual(["stopping", "stopped"]);
    expect(isAlive(running.msg.pid!)).toBe(false);
  });

  it("rejects malformed messages on both sides without crashing anything", async () => {
    // Console side: a peer with a valid token sends garbage.
    const client = connectClient(`${consoleSrv.url}/agent`, {
      path: "/socket.io",
      reconnection: false,
      transports: ["websocket"],
      auth: { hostName: "host3", token: TOKEN_3, agentVersion: "test", protocolVersion: AGENT_PROTOCOL_VERSION },
    });
    clients.push(client);
    await new Promise<void>((r) => client.on("connect", () => r()));
    const protocolError = new Promise<{ event: string; reason: string }>((r) => client.on("protocolError", r));
    const ack = await client.timeout(5000).emitWithAck("heartbeat", { seq: "not a number", extra: true });
    expect(ack).toMatchObject({ ok: false });
    expect((await protocolError).event).toBe("heartbeat");
    client.emit("commandResult", "nonsense");
    await waitFor("console warning", () => consoleSrv.rec.warnings.find((w) => w.includes("malformed agent message refused") && w.includes(`"host":"host3","event":"commandResult"`)));

    // Agent side: the console sends a malformed command; the agent refuses it and keeps working.
    const socket = agentSocket("host1");
    const agentRefusal = new Promise<{ event: string; reason: string }>((r) => socket.once("protocolError", r));
    socket.emit("command", { id: "broken", type: "explode" });
    expect((await agentRefusal).event).toBe("command");
    // A log read for a path instead of an application, or larger than the bound, is refused too.
    for (const bad of [{ application: "../../etc/passwd" }, { application: "sip1", maxBytes: 10 * 1024 * 1024 }, { application: "sip1", file: "/etc/shadow" }]) {
      const refused = new Promise<{ event: string; reason: string }>((r) => socket.once("protocolError", r));
      socket.emit("readLog", bad, () => {
        throw new Error("a malformed readLog was answered");
      });
      expect((await refused).event).toBe("readLog");
    }
    const start = await command("host1", { type: "start", application: "sip1", pairEpoch: 5, role: null });
    expect(start.outcome).toBe("ok");
  });

  it("reports a killed agent disconnected after the heartbeat timeout, and resyncs it after restart", async () => {
    const marker = consoleSrv.rec.hostStates.length;
    agent2.child.kill("SIGKILL");
    await agent2.exited;
    const down = await waitFor("host2 disconnected", () => consoleSrv.rec.hostStates.slice(marker).find((s) => s.hostName === "host2" && s.state === "disconnected"));
    expect(down.reason).toMatch(/^no heartbeat for \d+ ms \(timeout 2000 ms\)$/);
    expect(consoleSrv.gateway.host("host2")?.state).toBe("disconnected");
    // A command sent while the host is away is delivered once it is back (same id, retried).
    const pending = command("host2", { type: "start", application: "sip2", pairEpoch: 2, role: null });

    const resyncMarker = consoleSrv.rec.resyncs.length;
    agent2 = spawnAgent({ consoleUrl: consoleSrv.url, host: "host2", token: TOKEN_2, stateDir: path.join(tmp, "a2") });
    await waitFor("host2 connected again", () => connectedSince("host2", marker));
    const resync = await waitFor("host2 resync", () => consoleSrv.rec.resyncs.slice(resyncMarker).find((r) => r.host === "host2"));
    // Fencing survives the restart: the epoch applied before the kill is still held.
    expect(resync.snap.epochs["pair-a"]).toBe(1);
    expect((await pending).outcome).toBe("ok");
    const stale = await command("host2", { type: "stop", application: "sip2", pairEpoch: 1 });
    expect(stale.outcome).toBe("stale-epoch");
  });

  it("a host's own heartbeat: its agent runs with it once its configuration says so, and the console loses the host after its own timeout", async () => {
    const healthOf = () => JSON.parse(fs.readFileSync(path.join(tmp, "a2", "health.json"), "utf8")) as { heartbeat: { intervalMs: number; timeoutMs: number } | null };
    const base = consoleSrv.configs.get("host2")!;
    consoleSrv.configs.set("host2", { ...base, revision: "rev-host2-fast", heartbeat: { intervalMs: 100, timeoutMs: 600 } });
    expect(await consoleSrv.gateway.pushConfig("host2")).toBe(true);
    await waitFor("host2's agent on the fast heartbeat", () => healthOf().heartbeat?.intervalMs === 100 && healthOf().heartbeat?.timeoutMs === 600);
    const marker = consoleSrv.rec.hostStates.length;
    agent2.child.kill("SIGSTOP");
    try {
      const down = await waitFor("host2 lost", () => consoleSrv.rec.hostStates.slice(marker).find((s) => s.hostName === "host2" && s.state === "disconnected"));
      expect(down.reason).toMatch(/^no heartbeat for \d+ ms \(timeout 600 ms\)$/);
    } finally {
      agent2.child.kill("SIGCONT");
    }
    await waitFor("host2 back", () => connectedSince("host2", marker));
    // The welcome of the new connection carries the host's own heartbeat too.
    await waitFor("the agent connected again, on the fast heartbeat", () => healthOf().heartbeat?.intervalMs === 100 && healthOf().heartbeat?.timeoutMs === 600);
    consoleSrv.configs.set("host2", { ...base, revision: "rev-host2-default", heartbeat: { intervalMs: 500, timeoutMs: 2000 } });
    await consoleSrv.gateway.pushConfig("host2");
    await waitFor("host2's agent back on the default heartbeat", () => healthOf().heartbeat?.intervalMs === 500);
  });

  it("stops cleanly on SIGTERM, leaving the applications it supervises running", async () => {
    const running = await waitFor("sip1 running again", () =>
      consoleSrv.rec.statuses.filter((s) => s.msg.application === "sip1").at(-1)?.msg.status === "running"
        ? consoleSrv.rec.statuses.filter((s) => s.msg.application === "sip1").at(-1)
        : null,
    );
    agent1.child.kill("SIGTERM");
    expect((await agent1.exited).code).toBe(0);
    expect(isAlive(running.msg.pid!)).toBe(true);
    expect(agent1.output()).toContain("stopping (leaving applications running under their keepers)");
    const stats = (await (await fetch(`http://127.0.0.1:${port1}/test/stats`)).json()) as { pid: number };
    expect(stats.pid).toBe(running.msg.pid);
    const health = JSON.parse(fs.readFileSync(path.join(tmp, "a1", "health.json"), "utf8")) as { connection: string };
    expect(health.connection).toBe("stopped");
  });
});
