// The console at scale (benchmark, not a test): the control plane (agent gateway and controller, what
// the console runs in its control-plane thread) in a process of its own, with N ip-takeover pairs and
// 2N host agents connected to it — fake agents in one other process (harness/fake-agents.ts) that speak
// the real wire protocol with real tokens, send heartbeats at the console's interval and a stream of
// reports, and answer commands. Measures, in the control plane's process: its event-loop delay at
// steady state (monitorEventLoopDelay, 1 ms resolution, so every figure includes the 1 ms sampler) and
// its memory; then, one pair at a time, a primary's crash (its agent reports the process failed) until
// the backup's agent receives the promotion and until it receives the console's enable order — the
// console's share of a failover, to compare with the same bench at one pair.
//
//   npx tsx bench/scale/run.ts [--pairs 2000] [--seconds 60] [--crashes 20] [--reports <per s, default agents/10>] [--write]
//   (--write puts the section into BENCHMARKS.md; run it at --pairs 1 first, then at 2000 with --write
//   --baseline <the 1-pair result file> so the section shows both)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { AgentCommand } from "../../protocol/agent-wire";
import { createFakeAgentTokens, FakeAgent } from "../../harness/fake-agents";
import { systemActor } from "../../server/audit/audit.repository";
import { createDb } from "../../server/db";
import { migrateSqlite } from "../../server/db/migrate";
import { importConfig } from "../../server/transfer/transfer.service";
import { replaceSection } from "../support/benchmarks-md";
import { manyPairsHosts, manyPairsYaml } from "../support/many-pairs";
import { startPlaneProcess, type LoopFigures } from "../support/plane-process";
import { machineLine, summarise, type Summary } from "../support/stats";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Agents connecting at once (the next batch waits until these are connected). */
const CONNECT_BATCH = 250;

// ───────────────────────────── the bench ─────────────────────────────

export interface ScaleResult {
  pairs: number;
  agents: number;
  heartbeatIntervalMs: number;
  reportsPerSecond: number;
  measuredSeconds: number;
  /** Heartbeats the fake agents sent in the window / what 2N agents at the interval should send. */
  heartbeatShare: number;
  loop: LoopFigures;
  promotion: Summary;
  enableOrder: Summary;
  crashes: number;
  /** From the first connection attempt until every agent was connected (in batches of CONNECT_BATCH). */
  connectSeconds: number;
  startedAt: string;
}

async function benchMain(): Promise<void> {
  const pairs = arg("pairs", 2000);
  const seconds = arg("seconds", 60);
  const crashes = arg("crashes", 20);
  const pairsAgents = pairs * 2;
  // Each agent repeats its report every 10 s by default (the rate limiter allows far more per host).
  const reportsPerSecond = arg("reports", pairsAgents / 10);
  const startedAt = new Date().toISOString();
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-bench-scale-"));
  const url = `file:${path.join(dir, "scale.db")}`;
  migrateSqlite(url);
  const db = createDb(url);
  say(`importing ${pairs} pairs…`);
  await importConfig(db, systemActor, manyPairsYaml(pairs), { replace: false, dryRun: false });

  // Tokens first, so the console's start does not compete with 2N token writes for SQLite's one writer.
  const hosts = await createFakeAgentTokens(db, manyPairsHosts(pairs));
  const heartbeatIntervalMs = Number(process.env.HEARTBEAT_INTERVAL_MS ?? 500);
  const plane = await startPlaneProcess({ databaseUrl: url, logFile: path.join(dir, "plane.log"), env: { HEARTBEAT_INTERVAL_MS: String(heartbeatIntervalMs) } });
  say(`connecting ${pairs * 2} fake agents to ${plane.agentUrl}…`);
  // In batches, as a site's agents come up after a console restart spread over their reconnect back-off.
  const agents: FakeAgent[] = [];
  const connectStart = performance.now();
  for (let i = 0; i < hosts.length; i += CONNECT_BATCH) {
    const batch = hosts.slice(i, i + CONNECT_BATCH).map((h) => new FakeAgent(plane.agentUrl, h.hostName, h.token, h.roles));
    agents.push(...batch);
    const deadline = Date.now() + 120_000;
    while (batch.some((a) => !a.connected())) {
      if (Date.now() > deadline) throw new Error(`${agents.filter((a) => !a.connected()).length} of ${agents.length} agents not connected after 120 s; the control plane's log: ${path.join(dir, "plane.log")}`);
      await sleep(100);
    }
  }
  const connectSeconds = (performance.now() - connectStart) / 1000;
  say(`${agents.length} agents connected in ${connectSeconds.toFixed(0)} s`);
  // The controller's start grace passes and every primary is adopted.
  say("all connected; waiting out the controller's start grace…");
  await sleep(15_000);

  // Reports beside the heartbeats: agents repeating their roles, spread over the hosts.
  let next = 0;
  let owed = 0;
  const reports = setInterval(() => {
    owed += reportsPerSecond / 10;
    for (; owed >= 1; owed--) agents[next++ % agents.length]!.repeatReports();
  }, 100);

  say(`measuring the control plane's event loop for ${seconds} s…`);
  const sentBefore = agents.reduce((n, a) => n + a.heartbeatsSent, 0);
  const t0 = performance.now();
  plane.measureStart();
  await sleep(seconds * 1000);
  const loop = await plane.measureStop();
  const windowMs = performance.now() - t0;
  const sent = agents.reduce((n, a) => n + a.heartbeatsSent, 0) - sentBefore;
  const heartbeatShare = sent / ((agents.length * windowMs) / heartbeatIntervalMs);
  say(`event loop p50 ${loop.p50Ms.toFixed(1)} ms, p99 ${loop.p99Ms.toFixed(1)} ms, max ${loop.maxMs.toFixed(1)} ms; rss ${loop.rssMiB.toFixed(0)} MiB; heartbeats sent ${(heartbeatShare * 100).toFixed(0)} % of the offered rate`);

  // Crashes, one pair at a time, spread over the pairs; the crashed server comes back as backup. The
  // primary is the server its agent holds primary now, not the configured one: a pair whose primary's
  // agent connected after the controller's recovery grace was failed over to its backup while the
  // agents came up (the controller's job), and crashing the configured primary there would crash a
  // backup, which orders no promotion.
  const promotion: number[] = [];
  const enableOrder: number[] = [];
  for (let k = 0; k < crashes; k++) {
    const p = (k * 7919) % pairs;
    const holds = (i: number) => agents[i]!.roleOf(`s${i}`);
    const primaries = [2 * p, 2 * p + 1].filter((i) => holds(i)?.role === "primary");
    if (primaries.length !== 1) throw new Error(`pair p${p}: ${primaries.length} servers hold primary before the crash`);
    const oldIdx = primaries[0]!;
    const newIdx = oldIdx === 2 * p ? 2 * p + 1 : 2 * p;
    const backup = agents[newIdx]!;
    let promotedAt: number | null = null;
    let epoch = 0;
    const enabled = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pair p${p}: no promotion and enable order for s${newIdx} within 20 s`)), 20_000);
      backup.onCommand = (cmd: AgentCommand) => {
        if (cmd.type === "set-role" && cmd.role === "primary") {
          promotedAt = performance.now();
          epoch = cmd.pairEpoch;
        }
        if (cmd.type === "run-control-script" && cmd.action === "enable" && promotedAt !== null) {
          clearTimeout(timer);
          resolve(performance.now());
        }
      };
    });
    const t = performance.now();
    agents[oldIdx]!.reportStatus(`s${oldIdx}`, "failed", "running", "exited unexpectedly (killed by SIGKILL) (fake agent)");
    const enabledAt = await enabled;
    backup.onCommand = null;
    promotion.push(promotedAt! - t);
    enableOrder.push(enabledAt - t);
    say(`crash ${k + 1}/${crashes} p${p} s${oldIdx} → s${newIdx}: promotion received ${(promotedAt! - t).toFixed(1)} ms, enable order received ${(enabledAt - t).toFixed(1)} ms`);
    await sleep(300);
    agents[oldIdx]!.restartedAsBackup(`s${oldIdx}`, epoch);
    await sleep(1500);
  }
  clearInterval(reports);

  const result: ScaleResult = {
    pairs,
    agents: agents.length,
    heartbeatIntervalMs,
    reportsPerSecond,
    measuredSeconds: Math.round(windowMs / 1000),
    heartbeatShare,
    loop,
    promotion: summarise(promotion),
    enableOrder: summarise(enableOrder),
    crashes,
    connectSeconds,
    startedAt,
  };
  const out = path.join(os.tmpdir(), `switchyard-scale-${pairs}.json`);
  fs.writeFileSync(out, JSON.stringify(result, null, 2));
  say(`result written to ${out}`);
  for (const a of agents) a.close();
  await plane.stop();
  await db.$disconnect();
  fs.rmSync(dir, { recursive: true, force: true });

  const baselineAt = process.argv.indexOf("--baseline");
  const baseline: ScaleResult | null = baselineAt > 0 ? (JSON.parse(fs.readFileSync(process.argv[baselineAt + 1]!, "utf8")) as ScaleResult) : null;
  const section = render(baseline ? [baseline, result] : [result]);
  process.stdout.write(section);
  if (process.argv.includes("--write")) replaceSection(section);
}

function render(results: ScaleResult[]): string {
  const f = (x: number) => x.toFixed(1);
  const loopRows = results.map(
    (r) => `| ${r.pairs} | ${r.agents} | ${r.connectSeconds.toFixed(0)} s | ${r.heartbeatIntervalMs} ms | ${r.reportsPerSecond} | ${(r.heartbeatShare * 100).toFixed(0)} % | ${r.measuredSeconds} s | ${f(r.loop.p50Ms)} | ${f(r.loop.p99Ms)} | ${f(r.loop.maxMs)} | ${r.loop.rssMiB.toFixed(0)} MiB | ${r.loop.heapMiB.toFixed(0)} MiB |`,
  );
  const crashRows = results.flatMap((r) => [
    `| ${r.pairs} | promotion received by the backup's agent | ${r.promotion.n} | ${f(r.promotion.min)} | ${f(r.promotion.p50)} | ${f(r.promotion.p95)} | ${f(r.promotion.p99)} | ${f(r.promotion.max)} |`,
    `| ${r.pairs} | enable order received by the backup's agent | ${r.enableOrder.n} | ${f(r.enableOrder.min)} | ${f(r.enableOrder.p50)} | ${f(r.enableOrder.p95)} | ${f(r.enableOrder.p99)} | ${f(r.enableOrder.max)} |`,
  ]);
  return `## The console at scale (\`bench/scale\`)

Command: \`npx tsx bench/scale/run.ts --pairs 1\`, then \`npx tsx bench/scale/run.ts --pairs 2000 --write
--baseline /tmp/switchyard-scale-1.json\` (\`--seconds\`, \`--crashes\`, \`--reports\` change the window, the
crash count and the report rate). Run on ${results[results.length - 1]!.startedAt}, ${machineLine()};
the machine was shared with other work while it ran.

Setup: the control plane (agent gateway and controller: what the console runs in its control-plane
thread) in a process of its own on SQLite, with the console's default timing; 2 agents per pair, all
fake agents in one other process, connecting ${CONNECT_BATCH} at a time (\`harness/fake-agents.ts\`: the real wire protocol over socket.io with
real tokens, a heartbeat every interval, reports — agents repeating their roles, spread over the hosts —
and commands answered as an agent would, without running anything). The event-loop delay is the control
plane's process over the window (\`monitorEventLoopDelay\` at 1 ms resolution: each figure includes the
1 ms sampler); memory is that process's at the end of the window. "Heartbeats sent" is how much of the
offered heartbeat rate the fake agents' process managed (below 100 % it could not keep up, and the
console had less to do). Then one pair at a time (spread over the pairs, the reports still flowing), a
primary's agent reports its process failed; timed to when the backup's agent receives the promotion
(the real agent starts the enable with it, wire protocol 4) and the console's own enable order.

| pairs | agents | all connected in | heartbeat | reports/s | heartbeats sent | window | loop delay p50 (ms) | p99 (ms) | max (ms) | RSS | heap used |
|---|---|---|---|---|---|---|---|---|---|---|---|
${loopRows.join("\n")}

| pairs | crash → (ms) | runs | min | p50 | p95 | p99 | max |
|---|---|---|---|---|---|---|---|
${crashRows.join("\n")}
`;
}

benchMain().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
