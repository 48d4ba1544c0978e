// A host agent restarted or upgraded under a live pair (console + agents + simulated SIP Servers): its
// servers outlive it under their keepers, the restarted agent re-attaches and resyncs, and the
// controller sees no change for a healthy pair; a server that died while its agent was down is handled
// as W2 the moment the agent is back, and its restart policy starts it again as backup.
//
// The agents here run as production agents do (no --stop-apps-on-exit, which the lab otherwise sets),
// so their SIGTERM leaves the servers running; SIP is probed throughout each restart with OPTIONS kept as
// SIP client transactions (harness/sip-prober.ts). An upgrade runs another copy of the agent's code, with
// another version string and a newer keeper protocol, on the same state directory.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLabStack, waitFor, type LabStack } from "../../harness/lab-stack";
import { labChecks } from "../../harness/lab-checks";
import { startSipProber, type SipProbe, type SipProber } from "../../harness/sip-prober";
import { makeAgentRelease } from "../../harness/agent-release";
import { keepersIn, killKeepersIn } from "../../agent/test-fixtures/test-console";
import { livenessOf } from "../../agent/proc";
import { KEEPER_PROTOCOL_VERSION } from "../../agent/keeper/protocol";
import { AGENT_VERSION } from "../../agent/agent";

const A = "pair-a-iptakeover";
const HOST = "lab-host-1";
/** Generous: the machine is shared and every process here is a tsx-compiled node. Never a timing assertion. */
const WAIT_MS = 60_000;
/** How often the prober starts an OPTIONS transaction (a rate, not a limit: each waits up to Timer F). */
const PROBE_EVERY_MS = 100;

let stack: LabStack;

beforeAll(async () => {
  stack = await startLabStack({
    pairs: [A],
    appEnv: { [A]: { SWITCHYARD_LAB_READINESS_SETTLE_MS: "2000" } },
    // Longer than an agent's restart on a loaded machine: the host is not lost while its agent restarts.
    heartbeatTimeoutMs: 20_000,
  });
  await healthy(A, "sip-a1");
}, 120_000);

afterAll(async () => {
  if (!stack) return;
  // Production agents leave their servers running when they stop: end the agents, then what their keepers hold.
  await stack.lab.stopAll().catch(() => {});
  for (const host of ["lab-host-1", "lab-host-2"]) killKeepersIn(stack.lab.agentStateDir(host));
  await stack.stop();
}, 60_000);

const { server, describePair, healthy, historySince } = labChecks(() => stack, WAIT_MS);

const roleChanges = (rows: string[]) => rows.filter((r) => /promoted|demoted|set-role/.test(r));

/** The application process sip-a1's keeper holds (pid with its start time), from the agent's state directory. */
function sipA1Process() {
  const k = keepersIn(stack.lab.agentStateDir(HOST)).find((x) => x.application === "sip-a1" && x.app);
  if (!k?.app || !k.keeper) throw new Error("no keeper recorded for sip-a1");
  return { app: k.app, keeper: k.keeper };
}

async function hostId(name: string): Promise<string> {
  return (await stack.running.services.db.host.findUniqueOrThrow({ where: { name }, select: { id: true } })).id;
}

/** The controller's record of which agent process last resynced for the host (its start time). */
async function agentIncarnation(host: string): Promise<string | null> {
  return (await stack.controllerState())?.hosts[await hostId(host)]?.agentIncarnation ?? null;
}

/** Waits until a new agent process of the host has connected and resynced, and the pair is as it was: sip-a1 primary and running. */
async function resyncedBy(host: string, previousIncarnation: string | null) {
  return waitFor(
    `${host}'s new agent resynced, sip-a1 running as primary`,
    async () => {
      const incarnation = await agentIncarnation(host);
      const live = stack.running.services.controlPlane.hosts().find((x) => x.hostName === host);
      const v = await stack.view(A);
      return incarnation !== null && incarnation !== previousIncarnation && live?.state === "connected" && live.socketOpen && server(v, "sip-a1").role === "primary" && server(v, "sip-a1").status === "running" && v.plan === null
        ? { view: v, live, incarnation }
        : undefined;
    },
    { timeoutMs: WAIT_MS, describe: () => describePair(A) },
  );
}

/** Alarms raised or seen again since a moment, anywhere (an agent restart must raise none). */
async function alarmsSince(since: Date): Promise<string[]> {
  const rows = await stack.running.services.db.alarm.findMany({ where: { OR: [{ firstSeen: { gte: since } }, { lastSeen: { gte: since } }] }, select: { source: true, host: true, application: true, lastText: true } });
  return rows.map((a) => `${a.source} ${a.application || a.host}: ${a.lastText}`);
}

/** Starts probing sip-a1's SIP listener (where its simulator says it serves SIP). */
async function probeSipA1(): Promise<SipProber> {
  const sip = (await stack.labState("sip-a1")).sip as { listenAddress: string; advertisedAddress: string; port: number; listener: string } | null;
  if (!sip) throw new Error("sip-a1 reports no SIP listener");
  expect(sip.listener).toBe("bound");
  const prober = await startSipProber({ address: sip.listenAddress === "0.0.0.0" ? sip.advertisedAddress : sip.listenAddress, port: sip.port, intervalMs: PROBE_EVERY_MS });
  await waitFor("the first OPTIONS answered", () => prober.probes()[0]?.answeredAt != null, { timeoutMs: WAIT_MS });
  return prober;
}

/** While no agent runs on the host: a few more OPTIONS, each answered (so the window without an agent is covered for sure). */
async function answeredWhileAgentDown(prober: SipProber): Promise<SipProbe[]> {
  const from = prober.probes().length;
  return waitFor(
    "5 OPTIONS sent and answered while the host has no agent",
    () => {
      const later = prober.probes().slice(from);
      return later.length >= 5 && later.slice(0, 5).every((p) => p.answeredAt !== null) ? later.slice(0, 5) : undefined;
    },
    { timeoutMs: WAIT_MS },
  );
}

/** One line for the run's output: how SIP fared during a restart (figures for the issue's record). */
function sayProbes(what: string, probes: SipProbe[], whileDown: SipProbe[]): void {
  const retransmitted = probes.filter((p) => p.transmissions > 1).length;
  process.stderr.write(`${what}: ${probes.length} OPTIONS every ${PROBE_EVERY_MS} ms, ${probes.filter((p) => p.status === 200).length} answered 200, ${retransmitted} needed a retransmission, ${whileDown.length} sent and answered after the agent had exited, before the next one started\n`);
}

const unanswered = (probes: SipProbe[]) => probes.filter((p) => p.status !== 200).map((p) => `#${p.n} sent ${new Date(p.sentAt).toISOString()}: ${p.status ?? `no answer after ${p.transmissions} transmissions`}`);

describe("host agent restarts under a live pair", () => {
  it("agent SIGTERM: it exits 0, the server keeps running (same process), SIP is answered throughout, the next agent re-attaches; no role change, no alarm", async () => {
    // The lab starts its agents with --stop-apps-on-exit; a production agent has no such flag. Swap it.
    const first = await agentIncarnation(HOST);
    await stack.lab.stopAgent(HOST, "SIGKILL");
    await stack.lab.startAgent(HOST, { stopAppsOnExit: false });
    const current = await resyncedBy(HOST, first);
    const before = await healthy(A, "sip-a1");
    const proc = sipA1Process();

    const since = new Date();
    const prober = await probeSipA1();
    const exit = await stack.lab.stopAgent(HOST, "SIGTERM");
    expect(exit).toEqual({ code: 0, signal: null });
    // No agent runs now; the server and its keeper do, and SIP is answered.
    expect(livenessOf(proc.app)).toBe("alive");
    expect(livenessOf(proc.keeper)).toBe("alive");
    const whileDown = await answeredWhileAgentDown(prober);
    expect(unanswered(whileDown)).toEqual([]);

    await stack.lab.startAgent(HOST, { stopAppsOnExit: false });
    const back = await resyncedBy(HOST, current.incarnation);
    await healthy(A, "sip-a1");
    const probes = await prober.stop();
    sayProbes("agent SIGTERM", probes, whileDown);
    expect(unanswered(probes)).toEqual([]);
    expect(probes.length).toBeGreaterThan(whileDown.length);

    // The same process under the same keeper, re-attached: no restart, no role change, no flap.
    expect(sipA1Process()).toEqual(proc);
    expect(livenessOf(proc.app)).toBe("alive");
    expect(server(back.view, "sip-a1").statusDetail).not.toContain("keeper is gone");
    expect(back.view.epoch).toBe(before.epoch);
    expect(server(back.view, "sip-a1").roleEpoch).toBe(server(before, "sip-a1").roleEpoch);
    expect((await stack.labState("sip-a1")).epoch).toBe(server(before, "sip-a1").roleEpoch);
    expect(roleChanges(await historySince(A, since))).toEqual([]);
    expect(await alarmsSince(since)).toEqual([]);
  }, 180_000);

  it("W2 agent kill -9 and restart: the servers keep running, the agent re-attaches, no role change, no alarm", async () => {
    const before = await healthy(A, "sip-a1");
    const serverEpochBefore = (await stack.labState("sip-a1")).epoch;
    const proc = sipA1Process();
    const incarnation = await agentIncarnation(HOST);
    const since = new Date();
    const prober = await probeSipA1();
    await stack.lab.stopAgent(HOST, "SIGKILL");
    // The server outlives its agent.
    expect((await stack.labState("sip-a1")).role).toBe("primary");
    const whileDown = await answeredWhileAgentDown(prober);
    expect(unanswered(whileDown)).toEqual([]);
    await stack.lab.startAgent(HOST, { stopAppsOnExit: false });
    // A new agent process resynced (its start time is the controller's incarnation of the host), not the old view.
    await resyncedBy(HOST, incarnation);
    const after = await healthy(A, "sip-a1");
    const probes = await prober.stop();
    sayProbes("agent kill -9", probes, whileDown);
    expect(unanswered(probes)).toEqual([]);
    expect(sipA1Process()).toEqual(proc);
    expect(after.epoch).toBe(before.epoch);
    expect((await stack.labState("sip-a1")).epoch).toBe(serverEpochBefore);
    expect(roleChanges(await historySince(A, since))).toEqual([]);
    expect(await alarmsSince(since)).toEqual([]);
  }, 180_000);

  it("an upgrade (a newer release of the agent, same state directory): SIGTERM, the new version re-attaches to the old keepers; SIP answered throughout, no role change, no alarm", async () => {
    const release = makeAgentRelease(path.resolve(__dirname, "../.."), path.join(stack.dir, "agent-release-next"), {
      agentVersion: `${AGENT_VERSION}-next`,
      // The new release speaks a newer keeper protocol; the keepers of the running servers stay on the old one.
      keeperProtocolVersion: KEEPER_PROTOCOL_VERSION + 1,
    });
    const before = await healthy(A, "sip-a1");
    const proc = sipA1Process();
    const oldLive = stack.running.services.controlPlane.hosts().find((x) => x.hostName === HOST);
    expect(oldLive?.agentVersion).toBe(AGENT_VERSION);
    const incarnation = await agentIncarnation(HOST);
    const since = new Date();
    const prober = await probeSipA1();
    // systemctl restart after the new release is in place: SIGTERM to the old agent, the new one started.
    expect(await stack.lab.stopAgent(HOST, "SIGTERM")).toEqual({ code: 0, signal: null });
    const whileDown = await answeredWhileAgentDown(prober);
    expect(unanswered(whileDown)).toEqual([]);
    await stack.lab.startAgent(HOST, { stopAppsOnExit: false, agentRoot: release.root });
    const back = await resyncedBy(HOST, incarnation);
    // It is the new version that connected (the console records the agent version of the session).
    expect(back.live.agentVersion).toBe(release.agentVersion);
    await healthy(A, "sip-a1");
    const probes = await prober.stop();
    sayProbes("agent upgrade", probes, whileDown);
    expect(unanswered(probes)).toEqual([]);
    // Re-attached through the old keeper (keeper protocol 1 inside the new agent's range), not by the pid fallback.
    expect(sipA1Process()).toEqual(proc);
    // agent/README.md, "Upgrading the agent", step 3, as printed there (run from the install directory).
    const stateDir = stack.lab.agentStateDir(HOST);
    const check = spawnSync(process.execPath, ["--import", "tsx", "agent/main.ts", "--check-health", "--state-dir", stateDir], { cwd: release.root, encoding: "utf8" });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const health = JSON.parse(fs.readFileSync(path.join(stateDir, "health.json"), "utf8")) as { applications: { name: string; pid: number | null }[] };
    expect(health.applications.find((a) => a.name === "sip-a1")?.pid).toBe(proc.app.pid);
    expect(server(back.view, "sip-a1").statusDetail).not.toContain("keeper is gone");
    expect(back.view.epoch).toBe(before.epoch);
    expect(roleChanges(await historySince(A, since))).toEqual([]);
    expect(await alarmsSince(since)).toEqual([]);

    // Back to this checkout's agent (with --stop-apps-on-exit, as the lab runs it) for the next test.
    expect(await stack.lab.stopAgent(HOST, "SIGTERM")).toEqual({ code: 0, signal: null });
    expect(livenessOf(proc.app)).toBe("alive");
    await stack.lab.startAgent(HOST);
    await resyncedBy(HOST, back.incarnation);
  }, 180_000);

  it("W2 a server that died while its agent was down: failed over when the agent returns, and started again as backup by its policy", async () => {
    await healthy(A, "sip-a1");
    const since = new Date();
    await stack.lab.stopAgent(HOST, "SIGKILL");
    await stack.lab.fault("sip-a1", "crash");
    await waitFor("sip-a1's process gone", async () => (await stack.labState("sip-a1").then(() => false).catch(() => true)) || undefined, { timeoutMs: WAIT_MS });
    // No failover while the host's agent is away: the controller has not heard of the exit (the host is not lost either).
    expect(server(await stack.view(A), "sip-a1").role).toBe("primary");
    await stack.lab.startAgent(HOST);
    await waitFor(
      "sip-a2 primary and sip-a1 running again as backup",
      async () => {
        const v = await stack.view(A);
        return server(v, "sip-a2").role === "primary" && server(v, "sip-a1").role === "backup" && server(v, "sip-a1").status === "running" && v.plan === null ? v : undefined;
      },
      { timeoutMs: WAIT_MS, describe: () => describePair(A) },
    );
    const rows = (await historySince(A, since)).join("\n");
    expect(rows).toMatch(/sip-a2 promoted to primary because sip-a1's process failed/);
    // Started again as backup, never claiming primary on its own.
    expect(rows).not.toMatch(/both .* are primary/);
    // W2's alarm, raised once the agent told of the exit (and the alarm query the tests above rely on sees it).
    await waitFor("the application-failed alarm of sip-a1", async () => (await alarmsSince(since)).some((a) => a.startsWith("application-failed sip-a1:")), { timeoutMs: WAIT_MS });
  }, 180_000);
});
