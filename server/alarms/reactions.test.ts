// Unit tests for the OS command reaction against an in-memory gateway: what it sends (argv split
// without a shell, run-os-command with a deadline beyond the timeout) and what it records for each
// answer (ran, failed, refused by the agent, no answer) and when it cannot send at all.
import { describe, expect, it } from "vitest";
import type { AgentCommandInput, CommandResult } from "../../protocol/agent-wire";
import type { HostLiveState } from "../agents/gateway";
import { OS_COMMAND_EXCERPT_CHARS, runReaction, settingsProblem, type AlarmNotice, type ReactionDeps } from "./reactions";

const alarm: AlarmNotice = {
  id: "a1",
  state: "active",
  severity: "critical",
  source: "00-22222",
  description: "disk full",
  application: "sip-1",
  host: "host-1",
  pair: "",
  count: 1,
  firstSeen: "2025-06-01T10:00:00.000Z",
  lastSeen: "2025-06-01T10:00:00.000Z",
  text: "disk /var is full",
  clearedHow: null,
  clearedBy: null,
  clearedAt: null,
  clearComment: null,
};

const liveHost = (state: HostLiveState["state"], reason = "agent connected"): HostLiveState => ({
  hostName: "host-1",
  state,
  reason,
  since: new Date(0),
  lastHeartbeatAt: null,
  agentVersion: "0.1.0",
  socketOpen: state === "connected",
});

function fakeGateway(host: HostLiveState | null, answer: (cmd: AgentCommandInput) => Partial<CommandResult>) {
  const sent: AgentCommandInput[] = [];
  const agents: NonNullable<ReactionDeps["agents"]> = {
    host: () => host,
    sendCommand: async (_hostName, cmd) => {
      sent.push(cmd);
      return { commandId: cmd.id ?? "", type: cmd.type, application: null, outcome: "ok", reason: "", pairEpoch: null, finishedAt: new Date().toISOString(), scripts: [], heldEpoch: null, ...answer(cmd) };
    },
  };
  return { agents, sent };
}

const run = (over: Partial<CommandResult["scripts"][number]>): CommandResult["scripts"][number] => ({
  argv: ["/usr/local/bin/page-oncall"],
  driver: "os-command",
  ok: true,
  exitCode: 0,
  stdout: "",
  stderr: "",
  durationMs: 5,
  timedOut: false,
  ...over,
});

const settings = { host: "host-1", command: `/usr/local/bin/page-oncall --team "sip ops" 'a;b'` };

describe("the OS command reaction", () => {
  it("sends run-os-command with the command split into argv and records exit code and output", async () => {
    const { agents, sent } = fakeGateway(liveHost("connected"), () => ({
      outcome: "ok",
      reason: "/usr/local/bin/page-oncall exited with code 0 after 5 ms",
      scripts: [run({ stdout: "paged 2 people\n", stderr: "x".repeat(OS_COMMAND_EXCERPT_CHARS + 50) })],
    }));
    const before = Date.now();
    const outcome = await runReaction("command", settings, "raise", alarm, { switchover: null, agents });
    expect(sent).toHaveLength(1);
    const cmd = sent[0]!;
    expect(cmd).toMatchObject({
      type: "run-os-command",
      argv: ["/usr/local/bin/page-oncall", "--team", "sip ops", "a;b"],
      timeoutMs: 30_000,
      reason: "alarm 00-22222 raised on sip-1: disk full",
    });
    // The gateway must wait for the run itself: the deadline lies beyond the command's timeout.
    expect(Date.parse(cmd.deadline) - before).toBeGreaterThan(30_000);
    expect(outcome.ok).toBe(true);
    expect(outcome.detail).toContain('OS command on host-1: ok, exit code 0: /usr/local/bin/page-oncall exited with code 0 after 5 ms; stdout "paged 2 people"; stderr "xxx');
    expect(outcome.detail).toContain("…");
  });

  it("records a failing command as failed with its exit code and stderr", async () => {
    const { agents } = fakeGateway(liveHost("connected"), () => ({
      outcome: "failed",
      reason: "/usr/local/bin/page-oncall exited with code 3 after 5 ms",
      scripts: [run({ ok: false, exitCode: 3, stderr: "no pager configured\n" })],
    }));
    const outcome = await runReaction("command", settings, "clear", alarm, { switchover: null, agents });
    expect(outcome).toEqual({ ok: false, detail: 'OS command on host-1: failed, exit code 3: /usr/local/bin/page-oncall exited with code 3 after 5 ms; stderr "no pager configured"' });
  });

  it("records the agent's refusal with its reason", async () => {
    const why = "host host-1 does not run OS commands: its agent was started without --allow-os-commands; /usr/local/bin/page-oncall was not run";
    const { agents } = fakeGateway(liveHost("connected"), () => ({ outcome: "rejected", reason: why }));
    const outcome = await runReaction("command", settings, "raise", alarm, { switchover: null, agents });
    expect(outcome).toEqual({ ok: false, detail: `OS command on host-1: rejected: ${why}` });
  });

  it("does not send when the host is not connected, or there is no gateway, or the command line is broken", async () => {
    const never = fakeGateway(null, () => ({}));
    expect(await runReaction("command", settings, "raise", alarm, { switchover: null, agents: never.agents })).toEqual({
      ok: false,
      detail: "OS command on host-1 not run: host host-1 has no agent connected to this console",
    });
    const gone = fakeGateway(liveHost("disconnected", "no heartbeat for 2100 ms (timeout 2000 ms)"), () => ({}));
    expect((await runReaction("command", settings, "raise", alarm, { switchover: null, agents: gone.agents })).detail).toBe(
      "OS command on host-1 not run: host host-1 is disconnected (no heartbeat for 2100 ms (timeout 2000 ms))",
    );
    const live = fakeGateway(liveHost("connected"), () => ({}));
    expect((await runReaction("command", { host: "host-1", command: `notify "open` }, "raise", alarm, { switchover: null, agents: live.agents })).detail).toContain(
      "not run: command line has an unclosed \" quote",
    );
    expect(await runReaction("command", settings, "raise", alarm, { switchover: null })).toEqual({
      ok: false,
      detail: "OS command on host-1 not run: the agent gateway does not run in this console",
    });
    expect([...never.sent, ...gone.sent, ...live.sent]).toEqual([]);
  });
});

describe("saving an OS command reaction", () => {
  it("refuses a command line an agent would refuse: too many arguments, an unclosed quote", () => {
    expect(settingsProblem("command", { host: "host-1", command: "notify-ops --alarm" })).toBeNull();
    expect(settingsProblem("command", { host: "host-1", command: "a ".repeat(65) })).toBe("command reaction setting command: has 65 arguments; an agent runs at most 64");
    expect(settingsProblem("command", { host: "host-1", command: `notify "open` })).toMatch(/unclosed " quote/);
  });
});
