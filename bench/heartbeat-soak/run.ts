// Heartbeat profiles under load (benchmark, not a test): how many hosts the console wrongly declares
// disconnected while both cores are busy. The control plane in its own process (bench/support/
// plane-process.ts) with hosts of two profiles side by side — the default (the console's
// HEARTBEAT_INTERVAL_MS / HEARTBEAT_TIMEOUT_MS, 500 / 2000 ms) and the fast one (each host's own
// heartbeat, 100 / 600 ms) — their agents fake ones in this process (harness/fake-agents.ts: real wire
// protocol, heartbeats on a timer as the real agent's) that never stop, so every "host disconnected"
// is a false one. A busy loop per core runs for the whole window. Counts, per profile, the hosts
// declared disconnected, and for the console the stalls it survived and the mass-silence holds.
//
//   npx tsx bench/heartbeat-soak/run.ts [--minutes 10] [--pairs 10] [--busy 2] [--write]
//   (--pairs per profile; --busy: busy-loop processes, default one per CPU)
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { connectFakeAgents } from "../../harness/fake-agents";
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_HEARTBEAT_TIMEOUT_MS } from "../../protocol/vocabulary";
import { systemActor } from "../../server/audit/audit.repository";
import { createDb } from "../../server/db";
import { migrateSqlite } from "../../server/db/migrate";
import { importConfig } from "../../server/transfer/transfer.service";
import { replaceSection } from "../support/benchmarks-md";
import { manyPairsHosts, manyPairsYaml } from "../support/many-pairs";
import { startPlaneProcess } from "../support/plane-process";
import { machineLine } from "../support/stats";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const DEFAULT_PROFILE = { intervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS, timeoutMs: DEFAULT_HEARTBEAT_TIMEOUT_MS };
const FAST_PROFILE = { intervalMs: 100, timeoutMs: 600 };

async function main(): Promise<void> {
  const minutes = arg("minutes", 10);
  const pairsPerProfile = arg("pairs", 10);
  const busy = arg("busy", os.cpus().length);
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-bench-soak-"));
  const url = `file:${path.join(dir, "soak.db")}`;
  migrateSqlite(url);
  const db = createDb(url);
  const pairs = pairsPerProfile * 2;
  // Hosts of the first half of the pairs keep the console's default; the second half run fast.
  const isFast = (hostIndex: number) => Math.floor(hostIndex / 2) >= pairsPerProfile;
  await importConfig(
    db,
    systemActor,
    manyPairsYaml(pairs, (i) => (isFast(i) ? `heartbeatIntervalMs: ${FAST_PROFILE.intervalMs}, heartbeatTimeoutMs: ${FAST_PROFILE.timeoutMs}` : "")),
    { replace: false, dryRun: false },
  );
  const plane = await startPlaneProcess({
    databaseUrl: url,
    logFile: path.join(dir, "plane.log"),
    env: { HEARTBEAT_INTERVAL_MS: String(DEFAULT_PROFILE.intervalMs), HEARTBEAT_TIMEOUT_MS: String(DEFAULT_PROFILE.timeoutMs) },
  });
  const agents = await connectFakeAgents(db, plane.agentUrl, manyPairsHosts(pairs));
  while (agents.some((a) => !a.connected())) await sleep(100);
  const socketDrops = new Map<string, number>();
  const dropReasons = new Map<string, number>();
  for (const a of agents) {
    a.socket.on("disconnect", (why) => {
      socketDrops.set(a.hostName, (socketDrops.get(a.hostName) ?? 0) + 1);
      dropReasons.set(why, (dropReasons.get(why) ?? 0) + 1);
    });
  }
  await sleep(3000);
  const logStart = plane.log().length;

  say(`${agents.length} agents connected; ${busy} busy loops for ${minutes} min…`);
  const loops: ChildProcess[] = Array.from({ length: busy }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
  const sentBefore = agents.map((a) => a.heartbeatsSent);
  const t0 = performance.now();
  await sleep(minutes * 60_000);
  const windowMs = performance.now() - t0;
  for (const l of loops) l.kill("SIGKILL");
  const loadAfter = os.loadavg();

  const log = plane.log().slice(logStart).split("\n");
  const disconnected = log.filter((l) => / host disconnected /.test(l)).map((l) => /host=(\S+)/.exec(l)?.[1] ?? "?");
  const stalls = log.filter((l) => l.includes("the control plane was stalled")).length;
  const holds = log.filter((l) => l.includes("many hosts fell silent at once")).length;
  const rows = [
    { name: "default", profile: DEFAULT_PROFILE, fast: false },
    { name: "fast", profile: FAST_PROFILE, fast: true },
  ].map(({ name, profile, fast }) => {
    const idx = agents.map((_, i) => i).filter((i) => isFast(i) === fast);
    const names = new Set(idx.map((i) => agents[i]!.hostName));
    const sent = idx.reduce((n, i) => n + agents[i]!.heartbeatsSent - sentBefore[i]!, 0);
    const share = sent / ((idx.length * windowMs) / profile.intervalMs);
    const falseDisconnects = disconnected.filter((h) => names.has(h)).length;
    const drops = [...socketDrops.entries()].filter(([h]) => names.has(h)).reduce((n, [, c]) => n + c, 0);
    say(`${name}: ${falseDisconnects} hosts declared disconnected, ${drops} sockets dropped, heartbeats sent ${(share * 100).toFixed(0)} %`);
    return `| ${name} | ${profile.intervalMs} ms | ${profile.timeoutMs} ms | ${idx.length} | ${(share * 100).toFixed(0)} % | **${falseDisconnects}** | ${drops} |`;
  });
  const reasons = [...dropReasons.entries()].map(([why, n]) => `${n} × ${why}`).join(", ") || "none";
  const refusals = log.filter((l) => l.includes("refused what an agent sent")).length;
  say(`socket drops, as the agents' socket.io saw them: ${reasons}; console refusals logged: ${refusals}`);
  for (const a of agents) a.close();
  await plane.stop();
  await db.$disconnect();
  fs.rmSync(dir, { recursive: true, force: true });

  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" / ");
  const section = `## Heartbeat profiles under load (\`bench/heartbeat-soak\`)

Command: \`npx tsx bench/heartbeat-soak/run.ts\` (\`--minutes\`, default 10; \`--pairs\` per profile, default 10;
\`--busy\`, busy-loop processes, default one per CPU; \`--write\` updates this section).
Run on ${startedAt.toISOString()}, ${machineLine()}; load average (1/5/15 min) ${load(loadBefore)} before,
${load(loadAfter)} after (the busy loops, and other work that shared the machine).

Setup: the control plane (agent gateway and controller) in its own process; hosts of both profiles
side by side in it (the default from the console's environment, the fast one each host's own); their
agents are fake ones in the benchmark's process (\`harness/fake-agents.ts\`: the real wire protocol, a
heartbeat on a timer as the real agent sends it) that never stop, so every host declared disconnected
is a false disconnect. ${busy} busy loops (\`node -e "for (;;) {}"\`) keep the cores busy for the whole
window of ${(windowMs / 60_000).toFixed(1)} min. "Heartbeats sent": how much of its rate the agents' process managed under
the load.

| profile | interval | timeout | hosts | heartbeats sent | hosts declared disconnected (false) | agent sockets dropped |
|---|---|---|---|---|---|---|
${rows.join("\n")}

The console's own trouble over the window: ${stalls} stall${stalls === 1 ? "" : "s"} long enough to log (half the shortest timeout or
more: every host got a fresh timeout instead of a loss), ${holds} mass-silence hold${holds === 1 ? "" : "s"} (DECISIONS.md).
Agent sockets dropped, by the reason the agents' socket.io gave: ${reasons}; messages refused by the
console's rate limit (log lines): ${refusals}. A dropped socket that reconnects before the timeout is no
disconnect (the timeout decides), but the controller treats it as a new connection and awaits its resync.
`;
  process.stdout.write(section);
  if (process.argv.includes("--write")) replaceSection(section);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
