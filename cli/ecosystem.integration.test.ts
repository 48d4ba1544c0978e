// Switchyard wired into an operations team's tools, on a live lab (the console with its controller in
// this process, real agent processes, simulated SIP Servers): /metrics read back with a Prometheus
// text-format parser (and promtool's, when installed) against a known state — roles, a failover
// counted and timed, an alarm counted — and the `switchyard` CLI run as a child process with API
// tokens: a switchover followed to its end with the final roles printed, a forced one with its reason
// and `--json`, `status --json` and `--watch` parsed, `--help` of every command, exit codes for a
// viewer's switchover, a bad token, alarms and configuration. Waits are give-up limits.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLabStack, waitFor, type LabStack } from "../harness/lab-stack";
import { labChecks } from "../harness/lab-checks";
import { histogramCount, parseMetrics, promtool, promtoolCheckMetrics, sample } from "../harness/prometheus-text";
import { EXIT } from "./exit-codes";
import type { Status } from "./format";

const A = "pair-a-iptakeover";
const WAIT_MS = 40_000;
const ROOT = path.resolve(__dirname, "..");

let stack: LabStack;
const tokens = { viewer: "", operator: "", admin: "" };
const { server, describePair, healthy } = labChecks(() => stack, WAIT_MS);

beforeAll(async () => {
  stack = await startLabStack({ pairs: [A], appEnv: { [A]: { SWITCHYARD_LAB_READINESS_SETTLE_MS: "2000" } } });
  for (const role of ["viewer", "operator", "admin"] as const) {
    tokens[role] = (await stack.caller().apiTokens.create({ name: `eco-${role}`, role, description: "ecosystem test", expiresInDays: 1 })).token;
  }
  await healthy(A, "sip-a1");
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

async function scrape(token: string | null = tokens.viewer): Promise<{ status: number; text: string }> {
  const res = await fetch(stack.running.metricsUrl, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text() };
}

/** Runs `switchyard …` (bin/switchyard.cjs, as npx runs it) against the lab console; never throws on a non-zero exit. */
function cli(args: string[], opts: { token?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "switchyard.cjs"), ...args], {
      cwd: ROOT,
      env: { ...process.env, SWITCHYARD_URL: stack.running.url, SWITCHYARD_TOKEN: opts.token ?? tokens.operator, NODE_OPTIONS: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 90_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `switchyard …` (a --watch) run until what it printed satisfies `enough`, then stopped with SIGTERM; its output. */
function cliUntil(args: string[], enough: (stdout: string) => boolean): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "switchyard.cjs"), ...args], {
      cwd: ROOT,
      env: { ...process.env, SWITCHYARD_URL: stack.running.url, SWITCHYARD_TOKEN: tokens.viewer, NODE_OPTIONS: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (enough(stdout)) child.kill("SIGTERM");
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", () => {
      clearTimeout(timer);
      resolve({ stdout, stderr });
    });
  });
}

describe("/metrics on a live lab", () => {
  it("W2: shows the roles, counts and times the failover of a crashed primary, counts an alarm; parsed as Prometheus text", async () => {
    expect((await scrape(null)).status).toBe(401);
    await stack.lab.fault("sip-a1", "crash");
    await waitFor(
      "sip-a2 primary after sip-a1 crashed, plan done",
      async () => {
        const v = await stack.view(A);
        return server(v, "sip-a2").role === "primary" && v.plan === null;
      },
      { timeoutMs: WAIT_MS, describe: () => describePair(A) },
    );
    await stack.startApp("sip-a1").catch(() => "already restarted by its policy");
    const view = await healthy(A, "sip-a2", { ready: true });
    await stack.running.services.alarms.ingestLogEvents("lab-host-2", [{ application: "sip-a2", id: "00-04200", text: "listener bind failed (test)", time: new Date().toISOString(), level: "standard" }]);

    // The alarms table around the scrape (an alarm of the crash may clear meanwhile): the metric is within.
    const countsBefore = await stack.caller().alarms.counts();
    const { status, text } = await scrape();
    const countsAfter = await stack.caller().alarms.counts();
    expect(status).toBe(200);
    const m = parseMetrics(text);
    const at = { pair: A };
    expect(sample(m, "switchyard_server_role", { ...at, server: "sip-a2", role: "primary" })).toBe(1);
    expect(sample(m, "switchyard_server_role", { ...at, server: "sip-a1", role: "backup" })).toBe(1);
    expect(sample(m, "switchyard_server_role", { ...at, server: "sip-a1", role: "primary" })).toBe(0);
    expect(sample(m, "switchyard_pair_epoch", at)).toBe(view.epoch);
    expect(sample(m, "switchyard_server_ha_link_up", { ...at, server: "sip-a1" })).toBe(1);
    // Both ready for switchover (waited for above): the restarted sip-a1's readiness came back too.
    expect(sample(m, "switchyard_server_ready", { ...at, server: "sip-a1" })).toBe(1);
    expect(sample(m, "switchyard_server_ready", { ...at, server: "sip-a2" })).toBe(1);
    expect(sample(m, "switchyard_server_running", { ...at, server: "sip-a2" })).toBe(1);
    expect(sample(m, "switchyard_pair_maintenance", at)).toBe(0);
    expect(sample(m, "switchyard_server_vip", { ...at, server: "sip-a2", state: "present" })).toBe(1);
    expect(sample(m, "switchyard_vip_observed", { ...at, host: "lab-host-2" })).toBe(1);
    expect(sample(m, "switchyard_agent_connected", { host: "lab-host-1" })).toBe(1);
    expect(sample(m, "switchyard_agent_heartbeat_age_seconds", { host: "lab-host-1" })).toBeGreaterThanOrEqual(0);
    expect(sample(m, "switchyard_failovers_total", { ...at, cause: "primary-failed", outcome: "completed" })).toBe(1);
    expect(histogramCount(text, "switchyard_role_change_duration_seconds", { kind: "failover", outcome: "completed" })).toBeGreaterThanOrEqual(1);
    const critical = sample(m, "switchyard_alarms_active", { severity: "critical" })!;
    expect(critical).toBeGreaterThanOrEqual(Math.min(countsBefore.critical, countsAfter.critical));
    expect(critical).toBeLessThanOrEqual(Math.max(countsBefore.critical, countsAfter.critical));
    expect(countsBefore.critical).toBeGreaterThanOrEqual(1);
    const bindAlarm = (await stack.caller().alarms.active()).find((a) => a.source === "00-04200" && a.application === "sip-a2");
    expect(bindAlarm?.severity).toBe("critical");
    expect(sample(m, "switchyard_control_plane_up")).toBe(1);
    expect(sample(m, "switchyard_control_plane_event_loop_delay_p99_seconds")).toBeGreaterThanOrEqual(0);
    expect(m.find((f) => f.name === "nodejs_eventloop_lag_seconds")?.type).toBe("GAUGE");
    expect(m.find((f) => f.name === "process_cpu_seconds_total")?.type).toBe("COUNTER");
    if (promtool()) {
      // Prometheus's own parser reads it (a parse error is exit 1); its linter's only findings are about
      // prom-client's default nodejs_* gauges named *_total, which are the library's names, not ours.
      const check = promtoolCheckMetrics(text);
      expect([0, 3]).toContain(check.status);
      expect(check.output.split("\n").filter((l) => l && !l.startsWith("nodejs_"))).toEqual([]);
    }
  }, 180_000);
  it("a VIP put on the backup's host behind the controller's back: switchyard_vip_observed and switchyard_pair_vip_mismatch say so; taken off, both clear", async () => {
    const v = await healthy(A, (await stack.view(A)).servers.find((s) => s.role === "primary")!.name);
    const backupHost = v.servers.find((s) => s.role === "backup")!.hostName;
    const at = { pair: A };
    expect(sample(parseMetrics((await scrape()).text), "switchyard_pair_vip_mismatch", at)).toBe(0);
    await stack.lab.setVip(A, backupHost, true);
    try {
      await waitFor("the vip mismatch raised", async () => (await stack.view(A)).vipMismatch !== null, { timeoutMs: WAIT_MS, describe: () => describePair(A) });
      const m = parseMetrics((await scrape()).text);
      expect(sample(m, "switchyard_pair_vip_mismatch", at)).toBe(1);
      expect(sample(m, "switchyard_vip_observed", { ...at, host: backupHost })).toBe(1);
    } finally {
      await stack.lab.setVip(A, backupHost, false);
    }
    await waitFor("the vip mismatch cleared", async () => (await stack.view(A)).vipMismatch === null, { timeoutMs: WAIT_MS, describe: () => describePair(A) });
    const m = parseMetrics((await scrape()).text);
    expect(sample(m, "switchyard_pair_vip_mismatch", at)).toBe(0);
    expect(sample(m, "switchyard_vip_observed", { ...at, host: backupHost })).toBe(0);
  }, 180_000);
});

describe("the switchyard CLI against a live lab console", () => {
  it("W1: `switchyard switchover` follows the plan to the end and prints the final roles; `status --json` parses; metrics count it", async () => {
    const primary = (await stack.view(A)).servers.find((s) => s.role === "primary")!.name;
    const backup = primary === "sip-a1" ? "sip-a2" : "sip-a1";
    await healthy(A, primary, { ready: true });

    const byViewer = await cli(["switchover", A], { token: tokens.viewer });
    expect(byViewer.code).toBe(EXIT.FORBIDDEN);
    expect(byViewer.stderr).toContain("switchyard: token:eco-viewer is a viewer; this needs the operator role");

    const run = await cli(["switchover", A]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(EXIT.OK);
    expect(run.stdout).toContain(`${A}: ${backup} ordered to primary and ${primary} to backup by token:eco-operator's switchover`);
    const epoch = /\(epoch (\d+)\)/.exec(run.stdout)![1];
    expect(run.stdout).toMatch(new RegExp(`^  [\\d:.]+ command-result: set-role ${backup} → primary .*: ok`, "m"));
    expect(run.stdout).toMatch(new RegExp(`^  [\\d:.]+ decision: switchover of ${A} to ${backup} \\(epoch ${epoch}\\) complete: ${backup} is primary, ${primary} is backup`, "m"));
    // The final roles, in the table after the timeline.
    expect(run.stdout).toMatch(new RegExp(`^\\S*\\s+(ip-takeover\\s+\\d+\\s+)?${backup}\\s+lab-host-\\d\\s+primary\\s+running\\s+`, "m"));
    expect(run.stdout).toMatch(new RegExp(`^\\S*\\s+(ip-takeover\\s+\\d+\\s+)?${primary}\\s+lab-host-\\d\\s+backup\\s+running\\s+`, "m"));

    const status = await cli(["status", "--json"], { token: tokens.viewer });
    expect(status.code).toBe(EXIT.OK);
    const parsed = JSON.parse(status.stdout) as Status;
    const pair = parsed.pairs.find((p) => p.name === A)!;
    expect(pair.servers.find((s) => s.name === backup)!.role).toBe("primary");
    expect(pair.servers.find((s) => s.name === primary)!.role).toBe("backup");
    expect(parsed.hosts.map((h) => h.hostName).sort()).toEqual(["lab-host-1", "lab-host-2"]);

    const table = await cli(["status"], { token: tokens.viewer });
    expect(table.stdout).toMatch(/^PAIR\s+TYPE\s+EPOCH\s+SERVER\s+HOST\s+ROLE\s+STATUS\s+READY\s+HA LINK\s+VIP\s+AGENT$/m);
    expect(table.stdout).toMatch(new RegExp(`^${A}\\s+ip-takeover\\s+\\d+\\s+sip-a\\d`, "m"));

    const m = parseMetrics((await scrape()).text);
    expect(sample(m, "switchyard_switchovers_total", { pair: A, forced: "false", outcome: "completed" })).toBe(1);
    expect(histogramCount((await scrape()).text, "switchyard_role_change_duration_seconds", { kind: "switchover", outcome: "completed" })).toBe(1);
  }, 180_000);

  it("W12: `switchyard switchover --force --reason … --json` passes both on, prints the outcome and the final roles as JSON; a force without a reason is a usage error", async () => {
    const primary = await stack.view(A).then((v) => v.servers.find((s) => s.role === "primary")!.name);
    const backup = primary === "sip-a1" ? "sip-a2" : "sip-a1";
    await healthy(A, primary, { ready: true });
    const noReason = await cli(["switchover", A, "--force"]);
    expect(noReason.code).toBe(EXIT.USAGE);
    expect(noReason.stderr).toMatch(/--force needs --reason/);

    const run = await cli(["switchover", A, "--force", "--reason", "cli forced test", "--json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(EXIT.OK);
    const out = JSON.parse(run.stdout) as { outcome: { accepted: boolean; sentence: string; epoch: number }; completed: boolean; result: string | null; pair: { epoch: number; servers: { name: string; role: string }[] } };
    expect(out.outcome.accepted).toBe(true);
    expect(out.outcome.sentence).toBe(`${backup} ordered to primary and ${primary} to backup by token:eco-operator's forced switchover (epoch ${out.outcome.epoch}); reason: cli forced test`);
    expect(out.completed).toBe(true);
    expect(out.result).toMatch(new RegExp(`^switchover of ${A} to ${backup} \\(epoch ${out.outcome.epoch}\\) complete`));
    expect(out.pair.epoch).toBe(out.outcome.epoch);
    expect(Object.fromEntries(out.pair.servers.map((s) => [s.name, s.role]))).toEqual({ [backup]: "primary", [primary]: "backup" });
    const audited = await stack.running.services.db.auditEntry.findFirst({ where: { action: "pair.switchover-forced", actorName: "token:eco-operator" }, orderBy: { at: "desc" } });
    expect(audited?.detail).toMatch(/^reason: cli forced test; /);
    const m = parseMetrics((await scrape()).text);
    expect(sample(m, "switchyard_switchovers_total", { pair: A, forced: "true", outcome: "completed" })).toBe(1);
  }, 180_000);

  it("`switchyard status --watch` redraws until stopped: with --json, one parsable document per line", async () => {
    const lines = (text: string) => text.split("\n").filter((l) => l !== "");
    const watched = await cliUntil(["status", "--watch", "--json", "--interval", "0.2"], (out) => lines(out).length >= 3 && out.endsWith("\n"));
    expect(watched.stderr).toBe("");
    const docs = lines(watched.stdout).map((l) => JSON.parse(l) as Status);
    expect(docs.length).toBeGreaterThanOrEqual(3);
    for (const d of docs) expect(d.pairs.map((p) => p.name)).toEqual([A]);
    const headers = (out: string) => lines(out).filter((l) => /^PAIR\s+TYPE\s+EPOCH/.test(l)).length;
    const table = await cliUntil(["status", "--watch", "--interval", "0.2"], (out) => headers(out) >= 2);
    expect(table.stderr).toBe("");
    expect(headers(table.stdout)).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it("every command answers --help with its own usage (exit 0), without a token", async () => {
    const commands: [string[], RegExp][] = [
      [["--help"], /^switchyard: the Switchyard console from the command line\n[\s\S]*Exit codes:\n  0  done/],
      [["status", "--help"], /^Usage: switchyard status \[--watch\] \[--interval SECONDS\] \[--json\]/],
      [["hosts", "--help"], /^Usage: switchyard hosts/],
      [["switchover", "--help"], /^Usage: switchyard switchover PAIR \[--force --reason TEXT\]/],
      [["alarms", "--help"], /switchyard alarms ack ID --note TEXT/],
      [["alarms", "clear", "--help"], /switchyard alarms clear ID --note TEXT/],
      [["config", "--help"], /switchyard config import FILE \[--check\]/],
      [["config", "import", "--help"], /switchyard config import FILE \[--check\]/],
      [["audit", "export", "--help"], /^Usage: switchyard audit export/],
      [["maintenance", "--help"], /switchyard maintenance PAIR on --reason TEXT/],
      [["whoami", "--help"], /^Usage: switchyard whoami/],
      [["help", "switchover"], /^Usage: switchyard switchover PAIR/],
    ];
    for (const [args, usage] of commands) {
      const r = await cli(args, { token: "" });
      expect(r.code, args.join(" ")).toBe(EXIT.OK);
      expect(r.stdout, args.join(" ")).toMatch(usage);
    }
  }, 120_000);

  it("`switchyard maintenance` puts the pair in maintenance and ends it: status and /metrics show it; a viewer is refused, ending it twice is refused", async () => {
    expect((await cli(["maintenance", A, "on", "--reason", "cli test"], { token: tokens.viewer })).code).toBe(EXIT.FORBIDDEN);
    expect((await cli(["maintenance", A, "on"])).code).toBe(EXIT.USAGE);
    const until = new Date(Date.now() + 3600_000).toISOString();
    const on = await cli(["maintenance", A, "on", "--reason", "cli test window", "--until", until]);
    expect(on.stderr).toBe("");
    expect(on.code).toBe(EXIT.OK);
    expect(on.stdout).toMatch(/maintenance/i);
    const json = JSON.parse((await cli(["status", "--json"])).stdout) as Status;
    expect(json.pairs.find((p) => p.name === A)!.maintenance).toMatchObject({ reason: "cli test window", by: "token:eco-operator", until });
    expect((await cli(["status"])).stdout).toContain(`${A}: IN MAINTENANCE`);
    expect(sample(parseMetrics((await scrape()).text), "switchyard_pair_maintenance", { pair: A })).toBe(1);

    const off = await cli(["maintenance", A, "off"]);
    expect(off.code).toBe(EXIT.OK);
    expect(sample(parseMetrics((await scrape()).text), "switchyard_pair_maintenance", { pair: A })).toBe(0);
    const again = await cli(["maintenance", A, "off"]);
    expect(again.code).toBe(EXIT.REFUSED);
    expect(again.stderr).toMatch(/^switchyard: /);
  }, 120_000);

  it("alarms, hosts, config and tokens: exit codes scripts can use", async () => {
    const alarms = await cli(["alarms", "--json"], { token: tokens.viewer });
    expect(alarms.code).toBe(EXIT.OK);
    const active = JSON.parse(alarms.stdout) as { id: string; source: string }[];
    const bind = active.find((a) => a.source === "00-04200")!;
    expect(bind).toBeDefined();
    expect((await cli(["alarms", "ack", bind.id], { token: tokens.operator })).code).toBe(EXIT.USAGE);
    expect((await cli(["alarms", "ack", bind.id, "--note", "looking"], { token: tokens.operator })).stdout).toBe(`alarm ${bind.id} acknowledged\n`);
    expect((await cli(["alarms", "clear", bind.id, "--note", "fixed"], { token: tokens.viewer })).code).toBe(EXIT.FORBIDDEN);
    expect((await cli(["alarms", "clear", bind.id, "--note", "fixed"], { token: tokens.operator })).code).toBe(EXIT.OK);
    expect((await cli(["alarms", "clear", "no-such-alarm", "--note", "x"], { token: tokens.operator })).code).toBe(EXIT.NOT_FOUND);
    const history = await cli(["alarms", "history", "--format", "csv"], { token: tokens.viewer });
    expect(history.stdout.split("\r\n")[0]).toMatch(/^id,severity,description/);
    expect(history.stdout).toContain(bind.id);

    const hosts = await cli(["hosts"], { token: tokens.viewer });
    expect(hosts.stdout).toMatch(/^lab-host-1\s+connected\s+/m);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-cli-"));
    try {
      const file = path.join(dir, "config.yaml");
      expect((await cli(["config", "export", file], { token: tokens.operator })).code).toBe(EXIT.FORBIDDEN);
      expect((await cli(["config", "export", file], { token: tokens.admin })).code).toBe(EXIT.OK);
      expect(fs.readFileSync(file, "utf8")).toContain(`name: ${A}`);
      const check = await cli(["config", "import", file, "--check"], { token: tokens.admin });
      expect(check.code).toBe(EXIT.OK);
      expect(check.stdout).toContain("checked: no problems");
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/sipPort: \d+/, "sipPort: 99999"));
      const bad = await cli(["config", "import", file, "--check"], { token: tokens.admin });
      expect(bad.code).toBe(EXIT.REFUSED);
      expect(bad.stderr).toMatch(/sipPort/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }

    const wrong = await cli(["status"], { token: `syt_${"x".repeat(43)}` });
    expect(wrong.code).toBe(EXIT.AUTH);
    expect(wrong.stderr).toBe("switchyard: the API token is not valid (unknown, revoked or expired)\n");
    const unreachable = await cli(["status", "--url", "http://127.0.0.1:1"]);
    expect(unreachable.code).toBe(EXIT.UNAVAILABLE);
    expect(unreachable.stderr).toMatch(/^switchyard: cannot reach the console at http:\/\/127\.0\.0\.1:1: /);
    expect((await cli(["status", "--bogus"])).code).toBe(EXIT.USAGE);
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(EXIT.USAGE);
    expect(unknown.stderr).toMatch(/unknown command frobnicate/);
    const help = await cli(["switchover", "--help"]);
    expect(help.code).toBe(EXIT.OK);
    expect(help.stdout).toMatch(/^Usage: switchyard switchover PAIR/);
  }, 180_000);
});
