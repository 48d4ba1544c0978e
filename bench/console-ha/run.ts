// Console takeover benchmark (not a test): three console processes on one PostgreSQL (started here from
// Debian's packages), lab agents given every console's agent URL, one ip-takeover pair of simulated SIP
// servers (harness/console-cluster.ts). Each run kills the leading console with SIGKILL and, in the
// same instant, crashes the pair's primary server; it measures, from that instant:
//   - lead: until the other consoles agree on a new leader (/healthz),
//   - failover: until a server of the pair reports primary again (the simulators' own state, polled),
//     which only a leading console can order — the figure that matters to the calls;
// then starts the killed console again (a follower) and waits for the pair to be ready before the next
// run. Writes its section of BENCHMARKS.md (WRITE_BENCHMARKS=0: print only).
//
//   npx tsx bench/console-ha/run.ts            (RUNS=20 by default; as root or not)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { startPostgresServer } from "../../harness/postgres-server";
import { waitFor } from "../../harness/lab-stack";
import { primaryOf, startConsoleCluster, switchable, type ConsoleCluster } from "../../harness/console-cluster";
import { migrateDatabase } from "../../server/db/migrate";
import { DEFAULT_LEASE_TIMING } from "../../server/leader/lease-core";
import { machineLine, summarise, type Summary } from "../support/stats";
import { replaceSection } from "../support/benchmarks-md";

const PAIR = "pair-a-iptakeover";
const runs = Number(process.env.RUNS ?? 20);
const POLL_MS = 20;

interface Sample {
  leadMs: number;
  failoverMs: number;
}

async function oneRun(cluster: ConsoleCluster): Promise<Sample> {
  const leader = await waitFor("a leader", cluster.agreedLeader, { timeoutMs: 90_000, describe: () => cluster.describe() });
  const view = await waitFor("the pair ready", async () => {
    const v = await cluster.pair(leader, PAIR);
    // Crashed in every run, a server's restart policy gives up after its maximum: start it as an operator would.
    for (const s of v.servers.filter((x) => x.status === "failed" && x.hostConnection === "connected")) {
      await fetch(`${leader.url}/api/trpc/live.application`, { method: "POST", headers: { authorization: `Bearer ${cluster.token}`, "content-type": "application/json" }, body: JSON.stringify({ json: { appId: s.appId, action: "start" } }) });
    }
    return switchable(v) ? v : undefined;
  }, { timeoutMs: 120_000, intervalMs: 500, describe: async () => `${JSON.stringify((await cluster.pair(leader, PAIR)).switchoverBlockers)}\n${await cluster.describe()}` });
  const primary = primaryOf(view)!;
  const apps = view.servers.map((s) => s.name);
  const t0 = performance.now();
  leader.proc!.signal("SIGKILL");
  leader.proc = null;
  await cluster.lab.fault(primary, "crash");
  let leadMs: number | null = null;
  let failoverMs: number | null = null;
  // The crashed server is down at once; from then on, the first report of a primary is the failover.
  while (leadMs === null || failoverMs === null) {
    if (performance.now() - t0 > 120_000) throw new Error(`run did not finish in 120 s: lead ${leadMs}, failover ${failoverMs}\n${await cluster.describe()}`);
    const [agreed, roles] = await Promise.all([leadMs === null ? cluster.agreedLeader() : Promise.resolve(undefined), failoverMs === null ? Promise.all(apps.map((a) => cluster.labState(a).then((s) => s.role).catch(() => "down"))) : Promise.resolve([])]);
    const now = performance.now() - t0;
    if (leadMs === null && agreed) leadMs = now;
    if (failoverMs === null && roles.includes("primary")) failoverMs = now;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  await cluster.start(leader);
  return { leadMs, failoverMs };
}

function row(name: string, s: Summary): string {
  const f = (v: number) => Math.round(v).toLocaleString("en");
  return `| ${name} | ${s.n} | ${f(s.min)} | ${f(s.p50)} | ${f(s.p95)} | ${f(s.p99)} | ${f(s.max)} |`;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-ha-bench-"));
  process.stderr.write("starting PostgreSQL, three consoles and the lab…\n");
  const server = await startPostgresServer();
  const url = await server.createDatabase("ha_bench");
  await migrateDatabase(url);
  const cluster = await startConsoleCluster({ databaseUrl: url, pairs: [PAIR] });
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const s = await oneRun(cluster);
      samples.push(s);
      process.stderr.write(`run ${i + 1}/${runs}: new leader after ${Math.round(s.leadMs)} ms, a primary again after ${Math.round(s.failoverMs)} ms\n`);
    }
  } finally {
    await cluster.stop().catch(() => undefined);
    server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const lead = summarise(samples.map((s) => s.leadMs));
  const failover = summarise(samples.map((s) => s.failoverMs));
  const report = `## Console takeover (\`bench/console-ha\`)

Three console processes on one PostgreSQL (lease TTL ${DEFAULT_LEASE_TIMING.ttlMs} ms, renewed every ${DEFAULT_LEASE_TIMING.renewIntervalMs} ms), lab agents given every
console's agent URL, one ip-takeover pair. Each run kills the leading console with SIGKILL and crashes the
pair's primary server in the same instant; measured from then until the other consoles agree on a new
leader (\`/healthz\`), and until a server of the pair reports primary again — a failover only a leading
console can order (detection by the new leader after the agents reconnected and resynced, then the
promotion). Polled every ${POLL_MS} ms; milliseconds.

Command: \`npx tsx bench/console-ha/run.ts\` (RUNS=${runs}). Machine: ${machineLine()}. ${new Date().toISOString().slice(0, 10)}.

| from SIGKILL of the leader (and the primary's crash) to | runs | min | p50 | p95 | p99 | max |
|---|---|---|---|---|---|---|
${row("a new leader agreed by every console", lead)}
${row("a primary again (failover served by the new leader)", failover)}

The lease TTL is most of it: a follower may take the lease only once the dead leader's has expired by
the database's clock (up to TTL after its last renewal, then up to one attempt interval). The rest is the
agents finding the new leader (their console list; a follower points them to it) and resyncing, and the
new controller's decision. A shorter \`LEASE_TTL_MS\` shortens the first figure at the price described in
README, "Several consoles".
`;
  process.stdout.write(`${report}\n`);
  if (process.env.WRITE_BENCHMARKS !== "0") replaceSection(report);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
