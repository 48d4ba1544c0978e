// Real processes on loopback: the test console (socket.io + the real agent gateway) and two real
// agent processes, one started with --allow-os-commands and one without, exercising run-os-command
// end to end: it runs without a shell and reports exit code and output, is refused without the
// opt-in, answers a repeated id with the first result, and is killed at its timeout.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket as ServerSocket } from "socket.io";
import type { AgentCommand, CommandResult } from "../protocol/agent-wire";
import { isAlive, makeTempDir, nextResultOf, spawnAgent, startTestConsole, waitFor, type AgentProcess, type TestConsole } from "./test-fixtures/test-console";

const TOKEN_ALLOWED = "token-os-allowed-0123456789";
const TOKEN_REFUSING = "token-os-refusing-012345678";
const node = process.execPath;

let consoleSrv: TestConsole;
let tmp: string;
let allowed: AgentProcess;
let refusing: AgentProcess;
let seq = 0;

function osCommand(host: string, argv: string[], extra: { id?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  seq += 1;
  return consoleSrv.gateway.sendCommand(host, {
    id: extra.id ?? `os-${seq}`,
    type: "run-os-command",
    argv,
    timeoutMs: extra.timeoutMs,
    reason: "integration test",
    deadline: new Date(Date.now() + 30_000).toISOString(),
  });
}

function agentSocket(host: string): ServerSocket {
  for (const s of consoleSrv.io.of("/agent").sockets.values()) if (s.data.hostName === host) return s;
  throw new Error(`no socket for ${host}`);
}

beforeAll(async () => {
  tmp = makeTempDir("switchyard-os-command-it-");
  consoleSrv = await startTestConsole();
  consoleSrv.tokens.set("os-allowed", TOKEN_ALLOWED).set("os-refusing", TOKEN_REFUSING);
  for (const host of ["os-allowed", "os-refusing"]) consoleSrv.configs.set(host, { hostName: host, revision: `rev-${host}`, applications: [] });
  allowed = spawnAgent({ consoleUrl: consoleSrv.url, host: "os-allowed", token: TOKEN_ALLOWED, stateDir: path.join(tmp, "allowed"), extraArgs: ["--allow-os-commands"] });
  refusing = spawnAgent({ consoleUrl: consoleSrv.url, host: "os-refusing", token: TOKEN_REFUSING, stateDir: path.join(tmp, "refusing") });
  await waitFor("both agents resynced", () =>
    ["os-allowed", "os-refusing"].every((h) => consoleSrv.rec.resyncs.some((r) => r.host === h && r.snap.configRevision !== null)),
  );
});

afterAll(async () => {
  const all = [allowed, refusing].filter(Boolean);
  for (const a of all) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill("SIGKILL");
  await Promise.all(all.map((a) => a.exited));
  await consoleSrv?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("run-os-command over loopback", () => {
  it("with --allow-os-commands runs the argv without a shell and returns exit code and stdout", async () => {
    const ok = await osCommand("os-allowed", [node, "-e", "console.log(process.argv[1])", "a; echo injected"]);
    expect(ok).toMatchObject({ type: "run-os-command", application: null, pairEpoch: null, outcome: "ok" });
    expect(ok.reason).toMatch(/exited with code 0 after \d+ ms$/);
    // Shell characters arrive as one literal argument: nothing ran `echo injected`.
    expect(ok.scripts).toHaveLength(1);
    expect(ok.scripts[0]).toMatchObject({ driver: "os-command", exitCode: 0, stdout: "a; echo injected\n", timedOut: false });

    const failed = await osCommand("os-allowed", [node, "-e", "console.error('no pager configured'); process.exit(3)"]);
    expect(failed.outcome).toBe("failed");
    expect(failed.reason).toContain("exited with code 3");
    expect(failed.scripts[0]).toMatchObject({ exitCode: 3, stderr: "no pager configured\n" });

    const missing = await osCommand("os-allowed", [path.join(tmp, "no-such-program")]);
    expect(missing.outcome).toBe("failed");
    expect(missing.reason).toContain(`could not run ${path.join(tmp, "no-such-program")}`);
    expect(missing.scripts[0]?.exitCode).toBeNull();
  });

  it("without --allow-os-commands refuses with outcome rejected and says why; nothing runs", async () => {
    const marker = path.join(tmp, "must-not-exist");
    const result = await osCommand("os-refusing", [node, "-e", "require('fs').writeFileSync(process.argv[1], 'ran')", marker]);
    expect(result.outcome).toBe("rejected");
    expect(result.reason).toBe(`host os-refusing does not run OS commands: its agent was started without --allow-os-commands; ${node} was not run`);
    expect(result.scripts).toEqual([]);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it("answers a repeated id with the first result without running the command again", async () => {
    const counter = path.join(tmp, "runs.txt");
    const argv = [node, "-e", "require('fs').appendFileSync(process.argv[1], 'run\\n'); console.log('run')", counter];
    const first = await osCommand("os-allowed", argv, { id: "os-repeat" });
    expect(first.outcome).toBe("ok");
    // Straight to the agent, bypassing the gateway's own memory of results.
    const socket = agentSocket("os-allowed");
    const repeated = nextResultOf(socket, "os-repeat");
    const again: AgentCommand = { id: "os-repeat", type: "run-os-command", argv, timeoutMs: 30_000, reason: "repeat", term: 1, deadline: new Date(Date.now() + 10_000).toISOString() };
    socket.emit("command", again);
    expect(await repeated).toEqual(first);
    expect(fs.readFileSync(counter, "utf8")).toBe("run\n");
  });

  it("kills a hanging command (and its process group) at its timeout and reports it failed", async () => {
    const pidFile = path.join(tmp, "hanging.pid");
    const result = await osCommand("os-allowed", [node, "-e", "require('fs').writeFileSync(process.argv[1], String(process.pid)); setInterval(() => {}, 1000)", pidFile], {
      timeoutMs: 500,
    });
    expect(result.outcome).toBe("failed");
    expect(result.reason).toBe(`${node} was killed after its timeout of 500 ms`);
    expect(result.scripts[0]).toMatchObject({ timedOut: true, exitCode: null });
    expect(result.scripts[0]?.stderr).toContain("killed after its timeout of 500 ms");
    const pid = Number(fs.readFileSync(pidFile, "utf8"));
    await waitFor("the hanging process to be gone", () => !isAlive(pid));
  });
});
