// A real agent process with a linux-ip pair configured (test console on loopback): what the driver keeps
// running between actions — its waiting `ip -batch` process and the agent's gratuitous ARP helper — is
// there while the pair is configured, is replaced with a new configuration (the helper, shared, stays),
// and is gone once the agent stops. No action runs: the VIP (a TEST-NET address on `lo`) is never added;
// only the presence check reads `lo`'s addresses.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostConfigInput } from "../protocol/agent-wire";
import { isAlive, makeTempDir, spawnAgent, startTestConsole, waitFor, type AgentProcess, type TestConsole } from "./test-fixtures/test-console";

const TOKEN = "token-host-linux-ip-0123456";
let consoleSrv: TestConsole;
let tmp: string;
let agent: AgentProcess | null = null;

function config(revision: string): HostConfigInput {
  return {
    hostName: "hostip",
    revision,
    readinessPollMs: 1000,
    applications: [
      {
        name: "sipip",
        type: "dummy",
        start: { command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"] },
        stop: { command: null, timeoutMs: 3000 },
        restart: { enabled: false },
        options: {},
        pair: { name: "pair-ip", haType: "ip-takeover", configuredRole: "backup", driver: { kind: "linux-ip", vip: "192.0.2.77", prefix: 32, interface: "lo", gratuitousArp: true, arpCount: 2 }, scriptTimeoutMs: 5000 },
      },
    ],
  } as HostConfigInput;
}

/** The agent's children that its linux-ip driver keeps. */
function kept(pid: number): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    for (const child of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) {
      try {
        const cmd = fs.readFileSync(`/proc/${child}/cmdline`, "utf8").split("\0").slice(0, 2).join(" ");
        if (/^(ip -force|perl -e)$/.test(cmd)) out.push({ pid: Number(child), cmd });
      } catch {
        // gone meanwhile
      }
    }
  }
  return out.sort((a, b) => a.cmd.localeCompare(b.cmd));
}

beforeAll(async () => {
  tmp = makeTempDir("switchyard-agent-linux-ip-");
  consoleSrv = await startTestConsole();
  consoleSrv.tokens.set("hostip", TOKEN);
  consoleSrv.configs.set("hostip", config("rev-1"));
});

afterAll(async () => {
  if (agent && agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill("SIGKILL");
  await agent?.exited;
  await consoleSrv?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("agent with a linux-ip pair", () => {
  it("keeps a waiting ip process and the ARP helper while configured, replaces the ip process with a new configuration, and leaves none at exit", async () => {
    agent = spawnAgent({ consoleUrl: consoleSrv.url, host: "hostip", token: TOKEN, stateDir: path.join(tmp, "state") });
    const pid = agent.child.pid!;
    const first = await waitFor("the waiting ip process and the helper", () => {
      const k = kept(pid);
      return k.length === 2 ? k : null;
    });
    expect(first.map((k) => k.cmd)).toEqual(["ip -force", "perl -e"]);

    consoleSrv.configs.set("hostip", config("rev-2"));
    expect(await consoleSrv.gateway.pushConfig("hostip")).toBe(true);
    const second = await waitFor("a new waiting ip process, the helper kept", () => {
      const k = kept(pid);
      return k.length === 2 && k[0]!.pid !== first[0]!.pid ? k : null;
    });
    expect(second[1]!.pid).toBe(first[1]!.pid);
    await waitFor("the old ip process gone", () => !isAlive(first[0]!.pid));

    agent.child.kill("SIGTERM");
    expect((await agent.exited).code).toBe(0);
    await waitFor("nothing the driver kept still runs", () => second.every((k) => !isAlive(k.pid)));
    expect(agent.output()).toContain("stopping");
  });
});
