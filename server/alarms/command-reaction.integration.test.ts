// End to end on loopback: a log event raises an alarm whose "command" reaction runs an OS command on a
// host through that host's real agent process (started with --allow-os-commands), and the reaction run
// recorded on the alarm carries the exit code and the command's output. A reaction naming a host with
// no agent is recorded as not run. Database: a SQLite file; gateway: the agent test console's.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, spawnAgent, startTestConsole, waitFor, type AgentProcess, type TestConsole as AgentTestConsole } from "../../agent/test-fixtures/test-console";
import { createTestConsole, type TestConsole } from "../test-support";
import type { AlarmEngine } from "./engine";

const TOKEN = "token-reaction-host-0123456789";
const host = "reaction-host";

let tc: TestConsole;
let agentConsole: AgentTestConsole;
let agent: AgentProcess;
let engine: AlarmEngine;
let tmp: string;

beforeAll(async () => {
  tmp = makeTempDir("switchyard-command-reaction-it-");
  agentConsole = await startTestConsole();
  agentConsole.tokens.set(host, TOKEN);
  agentConsole.configs.set(host, { hostName: host, revision: "r1", applications: [] });
  agent = spawnAgent({ consoleUrl: agentConsole.url, host, token: TOKEN, stateDir: path.join(tmp, "agent"), extraArgs: ["--allow-os-commands"] });
  await waitFor("the agent to resync", () => agentConsole.rec.resyncs.some((r) => r.host === host && r.snap.configRevision === "r1"));
  tc = await createTestConsole({}, { reactionPorts: { switchover: null, agents: agentConsole.gateway } });
  engine = tc.services.alarms;
});

afterAll(async () => {
  await engine?.stop();
  if (agent && agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill("SIGKILL");
  await agent?.exited;
  await agentConsole?.close();
  await tc?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("the OS command reaction through a real agent", () => {
  it("runs the command on the chosen host and records exit code and output on the alarm", async () => {
    const marker = path.join(tmp, "paged.txt");
    const admin = tc.callerAs("admin");
    const cid = await admin.alarms.conditions.create({ eventId: "00-44444", severity: "critical", description: "trunk down" });
    // The command line is split into argv on the console; the quoted script stays one argument.
    const script = `require('fs').writeFileSync(process.argv[1], 'paged'); console.log('paged on-call')`;
    await admin.alarms.reactions.create({ conditionId: cid, kind: "command", settings: { host, command: `"${process.execPath}" -e "${script}" "${marker}"` } });
    await admin.alarms.reactions.create({ conditionId: cid, kind: "command", settings: { host: "host-without-agent", command: "/usr/local/bin/page-oncall" } });

    await engine.ingestLogEvents("sip-host", [{ application: "sip-1", id: "00-44444", text: "trunk to carrier down", time: new Date().toISOString(), level: "standard" }]);
    await engine.idle();

    expect(fs.readFileSync(marker, "utf8")).toBe("paged");
    const alarm = (await tc.callerAs("viewer").alarms.active()).find((a) => a.source === "00-44444")!;
    const ran = alarm.runs.find((r) => r.detail.startsWith(`OS command on ${host}`))!;
    expect(ran).toMatchObject({ kind: "command", trigger: "raise", ok: true });
    expect(ran.detail).toContain(`OS command on ${host}: ok, exit code 0: ${process.execPath} exited with code 0`);
    expect(ran.detail).toContain('stdout "paged on-call"');
    const notRun = alarm.runs.find((r) => r.detail.includes("host-without-agent"))!;
    expect(notRun).toMatchObject({ ok: false, detail: "OS command on host-without-agent not run: host host-without-agent has no agent connected to this console" });
    // The agent's result also reached the gateway, as every command result does.
    expect(agentConsole.rec.results.some((r) => r.host === host && r.result.type === "run-os-command" && r.result.outcome === "ok")).toBe(true);
  });
});
