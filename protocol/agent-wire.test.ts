// Unit tests for the agent wire schemas: strictness, defaults and the rules they encode.
import { describe, expect, it } from "vitest";
import {
  LOG_READ_DEFAULT_BYTES,
  LOG_READ_MAX_BYTES,
  LOG_SEARCH_MAX_CHARS,
  agentCommandSchema,
  agentHelloSchema,
  commandResultSchema,
  describeZodError,
  hostConfigSchema,
  logReadReplySchema,
  logReadRequestSchema,
  refusalSchema,
  splitCommandLine,
  welcomeSchema,
} from "./agent-wire";

const deadline = "2030-01-01T00:00:00.000Z";

describe("agent wire schemas", () => {
  it("refuses unknown fields in a hello (strict)", () => {
    const r = agentHelloSchema.safeParse({ hostName: "h1", token: "x".repeat(16), agentVersion: "1", protocolVersion: 1, admin: true });
    expect(r.success).toBe(false);
    expect(describeZodError(r.error!)).toContain("admin");
  });

  it("parses each command type and refuses a set-role without a role", () => {
    const base = { id: "c1", application: "sip1", pairEpoch: 3, term: 1, deadline };
    expect(agentCommandSchema.parse({ ...base, type: "start", role: "backup" }).type).toBe("start");
    expect(agentCommandSchema.parse({ ...base, type: "start", role: null }).type).toBe("start");
    // Every start says which role to start in: a server never picks one itself.
    expect(agentCommandSchema.safeParse({ ...base, type: "start" }).success).toBe(false);
    expect(agentCommandSchema.parse({ ...base, type: "run-control-script", action: "enable" })).toMatchObject({ reason: "" });
    expect(agentCommandSchema.safeParse({ ...base, type: "set-role" }).success).toBe(false);
    expect(agentCommandSchema.safeParse({ ...base, type: "start", role: "backup", pairEpoch: -1 }).success).toBe(false);
    expect(agentCommandSchema.safeParse({ ...base, type: "reboot" }).success).toBe(false);
  });

  it("set-role may carry the enable to run with the promotion: an id and a bounded reason, nothing else", () => {
    const base = { id: "c1", type: "set-role", application: "sip1", pairEpoch: 3, role: "primary", term: 1, deadline };
    expect(agentCommandSchema.parse({ ...base, thenEnable: { id: "script:p:h:enable:e3" } })).toMatchObject({ thenEnable: { id: "script:p:h:enable:e3", reason: "" } });
    expect(agentCommandSchema.parse(base)).not.toHaveProperty("thenEnable");
    expect(agentCommandSchema.safeParse({ ...base, thenEnable: { id: "" } }).success).toBe(false);
    expect(agentCommandSchema.safeParse({ ...base, thenEnable: { id: "x".repeat(129) } }).success).toBe(false);
    expect(agentCommandSchema.safeParse({ ...base, thenEnable: { id: "e", reason: "r".repeat(501) } }).success).toBe(false);
    expect(agentCommandSchema.safeParse({ ...base, thenEnable: { id: "e", action: "disable" } }).success).toBe(false);
  });

  it("a host configuration may carry the host's heartbeat, bounded, with a timeout of at least three intervals", () => {
    const cfg = { hostName: "h1", revision: "r1", applications: [] };
    expect(hostConfigSchema.parse({ ...cfg, heartbeat: { intervalMs: 100, timeoutMs: 600 } }).heartbeat).toEqual({ intervalMs: 100, timeoutMs: 600 });
    expect(hostConfigSchema.parse(cfg).heartbeat).toBeUndefined();
    expect(hostConfigSchema.safeParse({ ...cfg, heartbeat: { intervalMs: 49, timeoutMs: 600 } }).success).toBe(false);
    expect(hostConfigSchema.safeParse({ ...cfg, heartbeat: { intervalMs: 100, timeoutMs: 600_001 } }).success).toBe(false);
    expect(describeZodError(hostConfigSchema.safeParse({ ...cfg, heartbeat: { intervalMs: 300, timeoutMs: 600 } }).error!)).toContain("at least 3 heartbeat intervals");
    expect(hostConfigSchema.safeParse({ ...cfg, heartbeat: { intervalMs: 100, timeoutMs: 600, jitter: 1 } }).success).toBe(false);
  });

  it("run-os-command: argv without application or epoch, bounded, with a default timeout", () => {
    const cmd = { id: "o1", type: "run-os-command", deadline, term: 1, argv: ["/usr/bin/logger", "alarm; rm -rf /"] };
    expect(agentCommandSchema.parse(cmd)).toEqual({ ...cmd, timeoutMs: 30_000, reason: "" });
    // Not tied to an application: the strict schema refuses the fields of application commands.
    expect(describeZodError(agentCommandSchema.safeParse({ ...cmd, application: "sip1" }).error!)).toContain("application");
    expect(agentCommandSchema.safeParse({ ...cmd, pairEpoch: 1 }).success).toBe(false);
    expect(agentCommandSchema.safeParse({ ...cmd, argv: [] }).success).toBe(false);
    expect(describeZodError(agentCommandSchema.safeParse({ ...cmd, argv: ["", "x"] }).error!)).toContain("argv[0] must name the program");
    expect(agentCommandSchema.safeParse({ ...cmd, argv: Array.from({ length: 65 }, () => "a") }).success).toBe(false);
    expect(agentCommandSchema.safeParse({ ...cmd, argv: ["x", "a".repeat(4097)] }).success).toBe(false);
    expect(agentCommandSchema.safeParse({ ...cmd, timeoutMs: 99 }).success).toBe(false);
    expect(agentCommandSchema.safeParse({ ...cmd, timeoutMs: 600_001 }).success).toBe(false);
    expect(agentCommandSchema.safeParse({ ...cmd, reason: "r".repeat(501) }).success).toBe(false);
    expect(agentCommandSchema.safeParse({ ...cmd, shell: true }).success).toBe(false);
  });

  it("every command carries the leadership term of the console that sends it (an integer from 1)", () => {
    const commands = [
      { id: "c1", type: "start", application: "sip1", pairEpoch: 3, role: null, deadline },
      { id: "c2", type: "stop", application: "sip1", pairEpoch: 3, deadline },
      { id: "c3", type: "set-role", application: "sip1", pairEpoch: 3, role: "primary", deadline },
      { id: "c4", type: "run-control-script", application: "sip1", pairEpoch: 3, action: "enable", deadline },
      { id: "c5", type: "run-os-command", argv: ["/bin/true"], deadline },
    ];
    for (const c of commands) {
      expect(agentCommandSchema.parse({ ...c, term: 7 }).term).toBe(7);
      expect(describeZodError(agentCommandSchema.safeParse(c).error!)).toContain("term");
      expect(agentCommandSchema.safeParse({ ...c, term: 0 }).success).toBe(false);
      expect(agentCommandSchema.safeParse({ ...c, term: 1.5 }).success).toBe(false);
    }
    // The agent's answer to an older term's command.
    const result = { commandId: "c1", type: "start", application: "sip1", outcome: "stale-term", reason: "term 6 < 7", pairEpoch: 3, finishedAt: deadline };
    expect(commandResultSchema.parse(result).outcome).toBe("stale-term");
  });

  it("the welcome carries the console's leadership term", () => {
    const welcome = { protocolVersion: 5, hostName: "h1", consoleVersion: "1", heartbeatIntervalMs: 500, heartbeatTimeoutMs: 2000, consoleTimeMs: 0, term: 3 };
    expect(welcomeSchema.parse(welcome).term).toBe(3);
    const { term: _term, ...withoutTerm } = welcome;
    expect(describeZodError(welcomeSchema.safeParse(withoutTerm).error!)).toContain("term");
    expect(welcomeSchema.safeParse({ ...welcome, term: 0 }).success).toBe(false);
  });

  it("a follower refuses with not-leader and, when it knows it, the leader's URL", () => {
    expect(refusalSchema.parse({ code: "not-leader", message: "a follower", leaderUrl: "https://console-b:3001" }).leaderUrl).toBe("https://console-b:3001");
    expect(refusalSchema.parse({ code: "not-leader", message: "no leader", leaderUrl: null }).leaderUrl).toBeNull();
    // The refusals of earlier protocol versions carry no leaderUrl and still parse.
    expect(refusalSchema.parse({ code: "bad-token", message: "unknown token" })).toEqual({ code: "bad-token", message: "unknown token" });
    expect(refusalSchema.safeParse({ code: "not-leader", message: "x", leaderUrl: "the other one" }).success).toBe(false);
    expect(refusalSchema.safeParse({ code: "not-leader", message: "x", leaderHost: "b" }).success).toBe(false);
  });

  it("a run-os-command result has no application or epoch and carries the run", () => {
    const run = { argv: ["/bin/true"], driver: "os-command", ok: true, exitCode: 0, stdout: "", stderr: "", durationMs: 2, timedOut: false };
    const result = { commandId: "o1", type: "run-os-command", application: null, outcome: "ok", reason: "exited 0", pairEpoch: null, finishedAt: deadline, scripts: [run] };
    expect(commandResultSchema.parse(result).scripts[0]).toMatchObject({ exitCode: 0 });
    expect(commandResultSchema.safeParse({ ...result, application: undefined }).success).toBe(false);
  });

  it("readLog: a bounded request with defaults, and a bounded, strict reply", () => {
    expect(logReadRequestSchema.parse({ application: "sip1" })).toEqual({ application: "sip1", maxBytes: LOG_READ_DEFAULT_BYTES, search: null });
    expect(logReadRequestSchema.safeParse({ application: "sip1", maxBytes: LOG_READ_MAX_BYTES + 1 }).success).toBe(false);
    expect(logReadRequestSchema.safeParse({ application: "sip1", maxBytes: 1023 }).success).toBe(false);
    expect(logReadRequestSchema.safeParse({ application: "sip1", search: "" }).success).toBe(false);
    expect(logReadRequestSchema.safeParse({ application: "sip1", search: "x".repeat(LOG_SEARCH_MAX_CHARS + 1) }).success).toBe(false);
    expect(logReadRequestSchema.safeParse({ application: "../etc/passwd" }).success).toBe(false);
    expect(describeZodError(logReadRequestSchema.safeParse({ application: "sip1", path: "/etc/shadow" }).error!)).toContain("path");
    const reply = { application: "sip1", ok: true, error: null, file: "/var/log/sip1.log", sizeBytes: 10, text: "a\n", truncated: false, matches: null, scannedBytes: 10, readAt: deadline };
    expect(logReadReplySchema.parse(reply)).toEqual(reply);
    expect(logReadReplySchema.safeParse({ ...reply, text: "x".repeat(LOG_READ_MAX_BYTES + 1) }).success).toBe(false);
    expect(logReadReplySchema.safeParse({ ...reply, error: "e".repeat(1001) }).success).toBe(false);
    expect(logReadReplySchema.safeParse({ ...reply, extra: 1 }).success).toBe(false);
  });

  it("splits a command line like a shell would, without expanding anything", () => {
    expect(splitCommandLine(`/usr/bin/logger -t switchyard "disk full; reboot" '$HOME'`)).toEqual(["/usr/bin/logger", "-t", "switchyard", "disk full; reboot", "$HOME"]);
    expect(() => splitCommandLine(`notify "open`)).toThrow("unclosed");
  });

  it("fills host configuration defaults and refuses duplicate application names", () => {
    const app = {
      name: "sip1",
      type: "sip-server",
      start: { command: "/opt/sip/run" },
      pair: { name: "p", haType: "nlb-cluster", configuredRole: "primary", driver: { kind: "nlb", vip: "10.0.0.5", port: 5060 } },
    };
    const cfg = hostConfigSchema.parse({ hostName: "h1", revision: "r1", applications: [app] });
    const parsed = cfg.applications[0]!;
    expect(parsed.stop).toEqual({ command: null, timeoutMs: 10_000 });
    // Like SCS autorestart: a crashed application is restarted unless its policy says otherwise.
    expect(parsed.restart.enabled).toBe(true);
    expect(parsed.startupTimeoutMs).toBe(60_000);
    expect(parsed.pair?.scriptTimeoutMs).toBe(30_000);
    expect(parsed.pair?.driver).toMatchObject({ enable: "nlb.exe enable {vip}:{port}", disable: "nlb.exe disable {vip}:{port}" });
    const dup = hostConfigSchema.safeParse({ hostName: "h1", revision: "r1", applications: [app, app] });
    expect(dup.success).toBe(false);
    expect(describeZodError(dup.error!)).toContain("application sip1 appears twice");
  });

  it("refuses a linux-ip VIP that is not an address and an interface name with a space", () => {
    const pair = (driver: object) => ({ name: "p", haType: "ip-takeover", configuredRole: "primary", driver });
    const app = (driver: object) => ({ name: "a", type: "t", start: { command: "x" }, pair: pair(driver) });
    expect(hostConfigSchema.safeParse({ hostName: "h", revision: "r", applications: [app({ kind: "linux-ip", vip: "10.0.0.1; reboot", prefix: 24, interface: "eth0" })] }).success).toBe(false);
    expect(hostConfigSchema.safeParse({ hostName: "h", revision: "r", applications: [app({ kind: "linux-ip", vip: "10.0.0.1", prefix: 24, interface: "eth 0" })] }).success).toBe(false);
  });

  it("accepts a result with script steps and refuses an unknown outcome", () => {
    const result = { commandId: "c", type: "stop", application: "a", outcome: "ok", reason: "stopped", pairEpoch: 1, finishedAt: deadline };
    expect(commandResultSchema.parse(result).scripts).toEqual([]);
    expect(commandResultSchema.safeParse({ ...result, outcome: "maybe" }).success).toBe(false);
  });
});
