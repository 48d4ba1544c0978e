// Issue 19 end to end with real processes: servers run under keepers and outlive their agent
// (SIGTERM, kill -9 of the agent's whole process group, a new agent process on the same state dir);
// a restarted agent re-attaches and its first resync carries the real status, role and epoch; a
// server that died while its agent was down is reported failed with its exit code and restarted by
// its policy as backup; a killed keeper falls back to pid + start time. Also the v3 agent side:
// command receipts, option delivery (reload, running config), VIP presence, last output, and the
// loopback contract's Host check.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppStatusMessage, CommandResult, HostConfigInput, Resync } from "../protocol/agent-wire";
import { keeperPaths, keeperSpecSchema } from "./keeper/protocol";
import { readKeeperDir } from "./keeper-client";
import type { AgentProcess, TestConsole } from "./test-fixtures/test-console";
import { REPO_ROOT, agentSocketOf, freePort, getJson, isAlive, keepersIn, killKeepersIn, makeTempDir } from "./test-fixtures/test-console";
import { sendCommand, spawnAgent, startTestConsole, waitFor } from "./test-fixtures/test-console";

const HOST = "keeper-host";
const TOKEN = "token-keeper-host-0123456789";
const DUMMY = path.join(REPO_ROOT, "agent/test-fixtures/dummy-app.mjs");
const LONG_MS = 90_000;

let consoleSrv: TestConsole;
let tmp: string;
let stateDir: string;
let labDir: string;
let sipPort: number;
let plainPort: number;
const agents: AgentProcess[] = [];

interface Stats {
  pid: number;
  role: string;
  epoch: number;
  startedAs: { role: string; epoch: number };
  reloads: number;
  lastReloadAuth: string | null;
  configRevision: string | null;
}

function appConfigFor(name: string, revision: string, options: Record<string, string>) {
  return { name, type: "dummy", host: HOST, configRevision: revision, sipAddress: "127.0.0.1", sipListenAddress: "127.0.0.1", sipAdvertisedAddress: "127.0.0.1", sipPort: null, haPort: null, peer: null, initialRole: "backup" as const, options, dns: {} };
}

function hostConfig(revision: string, sipOptions: Record<string, string>): HostConfigInput {
  return {
    hostName: HOST,
    revision,
    readinessPollMs: 200,
    vipCheckIntervalMs: 300,
    applications: [
      {
        name: "sip1",
        type: "dummy",
        start: { command: process.execPath, args: [DUMMY, "--http-port", String(sipPort)] },
        stop: { command: null, timeoutMs: 3000 },
        restart: { enabled: true, maxRestarts: 5, restartDelayMs: 200 },
        options: { "http-port": String(sipPort) },
        appConfig: appConfigFor("sip1", revision, sipOptions),
        pair: { name: "pair-k", haType: "ip-takeover", configuredRole: "primary", driver: { kind: "lab", vip: "192.0.2.77", stateDir: labDir }, scriptTimeoutMs: 5000 },
      },
      {
        // Implements no GET /switchyard/v1/running: said once in a delivery detail.
        name: "plain",
        type: "dummy",
        start: { command: process.execPath, args: [DUMMY, "--http-port", String(plainPort), "--no-running"] },
        restart: { enabled: false },
        options: { "http-port": String(plainPort) },
        appConfig: appConfigFor("plain", revision, sipOptions),
        pair: null,
      },
      {
        // Same port as sip1: fails with EADDRINUSE, which its last output shows.
        name: "dup",
        type: "dummy",
        start: { command: process.execPath, args: [DUMMY, "--http-port", String(sipPort)] },
        restart: { enabled: false },
        options: {},
        pair: null,
      },
    ],
  };
}

function startAgent(): AgentProcess {
  const a = spawnAgent({ consoleUrl: consoleSrv.url, host: HOST, token: TOKEN, stateDir, ownProcessGroup: true });
  agents.push(a);
  return a;
}

/** The first resync (with configuration) a new agent sends after `marker`. */
function resyncAfter(marker: number): Promise<Resync> {
  return waitFor("resync", () => consoleSrv.rec.resyncs.slice(marker).find((r) => r.host === HOST && r.snap.configRevision !== null)?.snap, LONG_MS);
}

function statusesAfter(marker: number, app: string): AppStatusMessage[] {
  return consoleSrv.rec.statuses.slice(marker).filter((s) => s.host === HOST && s.msg.application === app).map((s) => s.msg);
}

function sipStats(): Promise<Stats> {
  return getJson<Stats>(`http://127.0.0.1:${sipPort}/test/stats`);
}

function currentKeeper(app: string) {
  const k = keepersIn(stateDir).find((x) => x.application === app && x.app);
  if (!k?.keeper || !k.app) throw new Error(`no keeper recorded for ${app}`);
  return { dir: k.dir, keeperPid: k.keeper.pid, appPid: k.app.pid };
}

function secretOf(app: string): string {
  const { dir } = currentKeeper(app);
  return keeperSpecSchema.parse(JSON.parse(fs.readFileSync(keeperPaths(dir).spec, "utf8"))).secret;
}

async function killAgentGroup(a: AgentProcess): Promise<void> {
  // What systemd does to a service's processes (KillMode=control-group): the whole group, at once.
  process.kill(-a.child.pid!, "SIGKILL");
  await a.exited;
}

function getWithHost(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: "/health", headers: { host } }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  tmp = makeTempDir("switchyard-keeper-it-");
  stateDir = path.join(tmp, "state");
  labDir = path.join(tmp, "lab-vip");
  consoleSrv = await startTestConsole({ heartbeatTimeoutMs: 2000 });
  [sipPort, plainPort] = await Promise.all([freePort(), freePort()]);
  consoleSrv.tokens.set(HOST, TOKEN);
  consoleSrv.configs.set(HOST, hostConfig("r1", { "sip-port": "5060" }));
  startAgent();
  await resyncAfter(0);
});

afterAll(async () => {
  for (const a of agents) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill("SIGKILL");
  await Promise.all(agents.map((a) => a.exited));
  if (stateDir) killKeepersIn(stateDir);
  await consoleSrv?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("servers outlive their agent; a restarted agent re-attaches", () => {
  it("acknowledges a command on receipt, before its result", async () => {
    const socket = agentSocketOf(consoleSrv, HOST);
    const order: string[] = [];
    const result = new Promise<CommandResult>((resolve) => {
      const listener = (r: CommandResult) => {
        if (r.commandId !== "receipt-1") return;
        socket.off("commandResult", listener);
        order.push("result");
        resolve(r);
      };
      socket.on("commandResult", listener);
    });
    const receipt = await socket
      .timeout(10_000)
      .emitWithAck("command", { id: "receipt-1", type: "start", application: "sip1", pairEpoch: 3, role: "primary", term: 1, deadline: new Date(Date.now() + 30_000).toISOString() })
      .then((r: unknown) => {
        order.push("receipt");
        return r;
      });
    expect(receipt).toEqual({ commandId: "receipt-1" });
    expect((await result).outcome).toBe("ok");
    expect(order).toEqual(["receipt", "result"]);
  });

  it("starts the server in the role and epoch of its start command, starting until it answers, then running", async () => {
    const msgs = await waitFor("sip1 running", () => {
      const all = statusesAfter(0, "sip1");
      return all.some((m) => m.status === "running") ? all : null;
    });
    expect(msgs.map((m) => m.status)).toEqual(["starting", "starting", "running"]);
    expect(msgs[0]!.detail).toContain("as primary at epoch 3");
    const stats = await sipStats();
    expect(stats.startedAs).toEqual({ role: "primary", epoch: 3 });
    // After every start: what the server runs with.
    const running = await waitFor("running config", () => consoleSrv.rec.runningConfigs.find((r) => r.msg.application === "sip1"));
    expect(running.msg).toMatchObject({ configRevision: "r1", version: "dummy-1.0", options: { "sip-port": "5060" } });
  });

  it("reports VIP presence when it changes, after each control script", async () => {
    const vip = () => consoleSrv.rec.vipPresence.filter((v) => v.msg.pair === "pair-k").map((v) => v.msg.present);
    await waitFor("first observation", () => vip().length > 0);
    expect(vip()).toEqual([false]);
    expect((await sendCommand(consoleSrv, HOST, { type: "run-control-script", application: "sip1", pairEpoch: 3, action: "enable" })).outcome).toBe("ok");
    await waitFor("present", () => vip().at(-1) === true);
    expect((await sendCommand(consoleSrv, HOST, { type: "run-control-script", application: "sip1", pairEpoch: 3, action: "disable" })).outcome).toBe("ok");
    await waitFor("absent again", () => vip().at(-1) === false);
    // Only changes travel: periodic checks of the same presence send nothing.
    expect(vip()).toEqual([false, true, false]);
  });

  it("shows why a server failed: its last output (EADDRINUSE)", async () => {
    const r = await sendCommand(consoleSrv, HOST, { type: "start", application: "dup", pairEpoch: 0, role: null });
    expect(r.outcome).toBe("ok");
    const failed = await waitFor("dup failed", () => statusesAfter(0, "dup").find((m) => m.status === "failed"));
    expect(failed.exitCode).toBe(1);
    expect(failed.lastOutput).toContain("EADDRINUSE");
  });

  it("delivers an option change: reload with the secret, configDelivery and runningConfig; 404 on /running said once", async () => {
    expect((await sendCommand(consoleSrv, HOST, { type: "start", application: "plain", pairEpoch: 0, role: null })).outcome).toBe("ok");
    await waitFor("plain running", () => statusesAfter(0, "plain").some((m) => m.status === "running"));
    consoleSrv.configs.set(HOST, hostConfig("r2", { "sip-port": "5070" }));
    await consoleSrv.gateway.pushConfig(HOST);
    const delivered = await waitFor("sip1 reloaded", () => consoleSrv.rec.configDeliveries.find((d) => d.msg.application === "sip1" && d.msg.revision === "r2"));
    expect(delivered.msg).toMatchObject({ outcome: "reloaded", detail: "sip1 re-read its configuration file (revision r2)" });
    const stats = await sipStats();
    expect(stats.reloads).toBe(1);
    expect(stats.lastReloadAuth).toBe(`Bearer ${secretOf("sip1")}`);
    const running = await waitFor("running r2", () => consoleSrv.rec.runningConfigs.find((r) => r.msg.application === "sip1" && r.msg.configRevision === "r2"));
    expect(running.msg.options).toEqual({ "sip-port": "5070" });
    const plain = await waitFor("plain delivery", () => consoleSrv.rec.configDeliveries.find((d) => d.msg.application === "plain" && d.msg.revision === "r2"));
    expect(plain.msg.outcome).toBe("reloaded");
    expect(plain.msg.detail).toContain("it does not implement GET /switchyard/v1/running (404)");
    // A server that is not running reads the file at its next start.
    const dup = consoleSrv.rec.configDeliveries.filter((d) => d.msg.application === "dup");
    expect(dup).toEqual([]); // dup has no appConfig, so no file and no delivery

    consoleSrv.configs.set(HOST, hostConfig("r3", { "sip-port": "5080" }));
    await consoleSrv.gateway.pushConfig(HOST);
    const plain3 = await waitFor("plain r3", () => consoleSrv.rec.configDeliveries.find((d) => d.msg.application === "plain" && d.msg.revision === "r3"));
    expect(plain3.msg).toMatchObject({ outcome: "reloaded", detail: "plain re-read its configuration file (revision r3)" });
    expect((await sendCommand(consoleSrv, HOST, { type: "stop", application: "plain", pairEpoch: 0 })).outcome).toBe("ok");
    consoleSrv.configs.set(HOST, hostConfig("r4", { "sip-port": "5080", extra: "1" }));
    await consoleSrv.gateway.pushConfig(HOST);
    const written = await waitFor("plain r4", () => consoleSrv.rec.configDeliveries.find((d) => d.msg.application === "plain" && d.msg.revision === "r4"));
    expect(written.msg.outcome).toBe("written");
    expect(written.msg.detail).toMatch(/^plain is not running; it reads .*plain\.json at its next start$/);
    await waitFor("sip1 r4", () => consoleSrv.rec.configDeliveries.find((d) => d.msg.application === "sip1" && d.msg.revision === "r4" && d.msg.outcome === "reloaded"));
  });

  it(
    "on SIGTERM the agent exits and its server keeps running and answering",
    async () => {
      const before = await sipStats();
      const agent = agents.at(-1)!;
      agent.child.kill("SIGTERM");
      expect((await agent.exited).code).toBe(0);
      expect(agent.output()).toContain("leaving applications running under their keepers");
      const after = await sipStats();
      expect(after.pid).toBe(before.pid);
      expect(isAlive(currentKeeper("sip1").keeperPid)).toBe(true);
    },
    LONG_MS,
  );

  it(
    "a restarted agent re-attaches; kill -9 of its whole process group spares the server; the next resync has the same pid, role and epoch",
    async () => {
      const { appPid } = currentKeeper("sip1");
      let marker = consoleSrv.rec.resyncs.length;
      const second = startAgent();
      let snap = await resyncAfter(marker);
      expect(snap.applications.find((a) => a.application === "sip1")).toMatchObject({ status: "running", pid: appPid, role: "primary", roleEpoch: 3 });

      await killAgentGroup(second);
      expect((await sipStats()).pid).toBe(appPid);
      marker = consoleSrv.rec.resyncs.length;
      const statusMarker = consoleSrv.rec.statuses.length;
      startAgent();
      snap = await resyncAfter(marker);
      // No flap: whatever the re-attaching agent said of sip1 before and with its resync, it never left running.
      expect(statusesAfter(statusMarker, "sip1").filter((m) => m.status !== "running").map((m) => `${m.status}: ${m.detail}`)).toEqual([]);
      const sip1 = snap.applications.find((a) => a.application === "sip1");
      expect(sip1).toMatchObject({ status: "running", pid: appPid, role: "primary", roleEpoch: 3 });
      expect(sip1?.readiness?.report).toMatchObject({ role: "primary", epoch: 3 });
      expect(sip1?.running).toMatchObject({ configRevision: "r4" });
      expect(snap.epochs["pair-k"]).toBe(3);
    },
    LONG_MS,
  );

  it(
    "an upgrade (a new agent process on the same state dir) re-attaches the same way, and the server still reaches its agent",
    async () => {
      const { appPid } = currentKeeper("sip1");
      const old = agents.at(-1)!;
      // While the old agent runs, a second one on its state dir refuses to start: both would act on the same keepers.
      const early = startAgent();
      expect((await early.exited).code).toBe(2);
      expect(early.output()).toContain(`another agent (pid ${old.child.pid}) uses the state directory ${stateDir}; stop it first`);
      old.child.kill("SIGTERM");
      await old.exited;
      const marker = consoleSrv.rec.resyncs.length;
      startAgent();
      const snap = await resyncAfter(marker);
      expect(snap.applications.find((a) => a.application === "sip1")).toMatchObject({ status: "running", pid: appPid, role: "primary", roleEpoch: 3 });
      // The contract port is kept across agent processes, so SWITCHYARD_AGENT_URL of the server still works.
      const logged = await fetch(`http://127.0.0.1:${sipPort}/test/event`, { method: "POST", body: JSON.stringify({ id: "00-04200", text: "after the upgrade" }) });
      expect(((await logged.json()) as { status: number }).status).toBe(204);
      await waitFor("log event", () => consoleSrv.rec.logEvents.some((e) => e.msg.events.some((x) => x.text === "after the upgrade")));
    },
    LONG_MS,
  );

  /** sip1 (exit code 3 while its agent was down) is reported failed as such, then running again in a new process. */
  async function failedWhileDownThenRestarted(marker: number, appPid: number) {
    const failed = await waitFor("failed reported", () => statusesAfter(marker, "sip1").find((m) => m.status === "failed"), LONG_MS);
    expect(failed.exitCode).toBe(3);
    expect(failed.detail).toMatch(/^exited unexpectedly \(exit code 3\) at .+, while the agent was down; restarting it in 200 ms as backup \(automatic restart 1 of 5 within 600 s\)$/);
    const restarted = await waitFor("restarted", () => statusesAfter(marker, "sip1").find((m) => m.status === "running"), LONG_MS);
    expect(restarted.pid).not.toBe(appPid);
    return restarted;
  }

  it(
    "a server that died while its agent was down is reported failed with its exit code, then restarted as backup at the held epoch",
    async () => {
      await killAgentGroup(agents.at(-1)!);
      const { appPid } = currentKeeper("sip1");
      await fetch(`http://127.0.0.1:${sipPort}/test/crash`, { method: "POST" });
      await waitFor("sip1 gone", () => !isAlive(appPid));
      const marker = consoleSrv.rec.statuses.length;
      startAgent();
      const restarted = await failedWhileDownThenRestarted(marker, appPid);
      expect(statusesAfter(marker, "sip1").find((m) => m.status === "starting")?.detail).toContain("automatic restart 1 of 5) as backup at epoch 3");
      const stats = await waitFor("new process answers", async () => {
        const s = await sipStats().catch(() => null);
        return s?.pid === restarted.pid ? s : null;
      });
      expect(stats.startedAs).toEqual({ role: "backup", epoch: 3 });
    },
    LONG_MS,
  );

  it(
    "an exit whose keeper has since gone (after recording it in state.json, as at the end of its linger): reported failed with the recorded code, then restarted",
    async () => {
      await killAgentGroup(agents.at(-1)!);
      const { dir, keeperPid, appPid } = currentKeeper("sip1");
      await fetch(`http://127.0.0.1:${sipPort}/test/crash`, { method: "POST" });
      await waitFor("the exit recorded in state.json", () => readKeeperDir(dir).state?.exit?.code === 3);
      // A keeper ends once its exit is on disk and it is signalled (or nobody acknowledged it for 10 minutes).
      process.kill(keeperPid, "SIGTERM");
      await waitFor("keeper gone", () => !isAlive(keeperPid));
      expect(isAlive(appPid)).toBe(false);
      const marker = consoleSrv.rec.statuses.length;
      startAgent();
      const restarted = await failedWhileDownThenRestarted(marker, appPid);
      // The dead keeper's directory went with the acknowledgement; the new start has its own keeper.
      await waitFor("old keeper directory removed", () => !fs.existsSync(dir));
      expect(currentKeeper("sip1").appPid).toBe(restarted.pid);
    },
    LONG_MS,
  );

  it(
    "a keeper killed: the agent keeps watching the server by pid and start time; its later exit is failed with an unknown code and restarted",
    async () => {
      const { keeperPid, appPid } = currentKeeper("sip1");
      const marker = consoleSrv.rec.statuses.length;
      process.kill(keeperPid, "SIGKILL");
      const noticed = await waitFor("keeper loss noticed", () => statusesAfter(marker, "sip1").find((m) => m.detail.includes("its keeper is gone")));
      expect(noticed).toMatchObject({ status: "running", pid: appPid });
      expect((await sipStats()).pid).toBe(appPid);

      // The same after an agent restart: the keeper's socket is gone, the pid (with its start time) is not.
      await killAgentGroup(agents.at(-1)!);
      const resyncMarker = consoleSrv.rec.resyncs.length;
      startAgent();
      const snap = await resyncAfter(resyncMarker);
      const sip1 = snap.applications.find((a) => a.application === "sip1");
      expect(sip1).toMatchObject({ status: "running", pid: appPid, role: "backup", roleEpoch: 3 });
      expect(sip1?.detail).toContain("its keeper is gone, so its exit is noticed by checking pid");

      const exitMarker = consoleSrv.rec.statuses.length;
      process.kill(appPid, "SIGKILL");
      const failed = await waitFor("exit noticed by pid check", () => statusesAfter(exitMarker, "sip1").find((m) => m.status === "failed"));
      expect(failed.exitCode).toBeNull();
      expect(failed.detail).toContain("exit code unknown");
      expect(failed.detail).toContain("its keeper had died");
      const again = await waitFor("restarted under a new keeper", () => statusesAfter(exitMarker, "sip1").find((m) => m.status === "running"), LONG_MS);
      expect(currentKeeper("sip1").appPid).toBe(again.pid);
    },
    LONG_MS,
  );

  it("#13.9 keeps /health to liveness and refuses a Host that is not its loopback address (DNS rebinding)", async () => {
    const port = Number(fs.readFileSync(path.join(stateDir, "local-port"), "utf8").trim());
    const ok = await getWithHost(port, `127.0.0.1:${port}`);
    expect(ok).toEqual({ status: 200, body: JSON.stringify({ ok: true }) });
    expect((await getWithHost(port, `localhost:${port}`)).status).toBe(200);
    const rebound = await getWithHost(port, `attacker.example:${port}`);
    expect(rebound.status).toBe(421);
    expect((await getWithHost(port, `127.0.0.1:${port + 1}`)).status).toBe(421);
    // The health file keeps the details, for the agent's user only.
    const file = path.join(stateDir, "health.json");
    expect(fs.statSync(file).mode & 0o077).toBe(0);
    expect(JSON.parse(fs.readFileSync(file, "utf8")).applications.map((a: { name: string }) => a.name)).toContain("sip1");
  });
});
