// Benchmark (not a test): how long a role change decided by the controller takes to be visible in N
// connected browsers. Each browser is a socket.io client on /ui with a real session; it receives the
// changed pair views ("live:pairs") and patches its list, as the dashboard does; the time is taken when
// the new role is in what it received. The agents are fake ones in this process speaking the real wire
// protocol (harness/fake-agents.ts), so the figure is the console's part: agent gateway, core
// step, persistence, push from the control plane's thread to the web tier, socket.io to browsers.
//   npx tsx bench/ui-latency/run.ts [--pairs 200] [--clients 50] [--changes 40]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { io as connect, type Socket } from "socket.io-client";
import superjson, { type SuperJSONResult } from "superjson";
import { startConsole } from "../../server/console";
import { importConfig } from "../../server/transfer/transfer.service";
import { systemActor } from "../../server/audit/audit.repository";
import { connectFakeAgents } from "../../harness/fake-agents";
import { manyPairsHosts, manyPairsYaml } from "../support/many-pairs";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const pairCount = arg("pairs", 200);
const clientCount = arg("clients", 50);
const changes = arg("changes", 40);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-bench-ui-"));
  const running = await startConsole({
    withPages: false,
    env: { NODE_ENV: "production", DATABASE_URL: `file:${path.join(dir, "b.db")}`, PORT: "0", AGENT_PORT: "0", LOG_LEVEL: "warn", SWITCHYARD_ADMIN_USER: "bench", SWITCHYARD_ADMIN_PASSWORD: "bench-password-1", HEARTBEAT_TIMEOUT_MS: "600000" },
  });
  await importConfig(running.services.db, systemActor, manyPairsYaml(pairCount), { replace: false, dryRun: false });
  await running.services.controlPlane.configChanged();
  const agents = await connectFakeAgents(
    running.services.db,
    running.agentUrl!,
    manyPairsHosts(pairCount),
  );
  // Let the controller's start grace pass and adopt every primary.
  await new Promise((r) => setTimeout(r, 11_000));

  const login = await fetch(`${running.url}/api/trpc/auth.login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ json: { username: "bench", password: "bench-password-1" } }) });
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;

  type Waiter = { pair: string; server: string; t0: number; resolve: (ms: number) => void };
  const waiting = new Map<Socket, Waiter | null>();
  const clients: Socket[] = [];
  for (let c = 0; c < clientCount; c++) {
    const socket = connect(`${running.url}/ui`, { path: "/socket.io", transports: ["websocket"], extraHeaders: { cookie }, forceNew: true });
    // What the dashboard does: patch its list with the pushed pair views.
    socket.on("live:pairs", (payload: SuperJSONResult) => {
      const w = waiting.get(socket);
      if (!w) return;
      const { changed } = superjson.deserialize<{ changed: { name: string; servers: { name: string; role: string }[] }[] }>(payload);
      const pair = changed.find((p) => p.name === w.pair);
      if (pair?.servers.find((s) => s.name === w.server)?.role === "primary") {
        waiting.set(socket, null);
        w.resolve(performance.now() - w.t0);
      }
    });
    clients.push(socket);
  }
  await Promise.all(clients.map((s) => new Promise<void>((r) => (s.connected ? r() : s.once("connect", () => r())))));

  const samples: number[] = [];
  let epochOf = new Map<number, number>();
  for (let k = 0; k < changes; k++) {
    const p = k % pairCount;
    // Alternate which server of the pair becomes primary so every change is a real role change.
    const round = Math.floor(k / pairCount);
    const from = round % 2 === 0 ? 2 * p : 2 * p + 1;
    const to = round % 2 === 0 ? 2 * p + 1 : 2 * p;
    const epoch = (epochOf.get(p) ?? 0) + 1;
    epochOf.set(p, epoch);
    const t0 = performance.now();
    const done = clients.map((socket) => new Promise<number>((resolve) => waiting.set(socket, { pair: `p${p}`, server: `s${to}`, t0, resolve })));
    // What the agents would report after a switchover: the old primary backup, the new one primary.
    agents[from]!.reportRole(`s${from}`, "backup", epoch);
    agents[to]!.reportRole(`s${to}`, "primary", epoch);
    samples.push(...(await Promise.all(done)));
  }
  samples.sort((a, b) => a - b);
  const result = {
    pairs: pairCount,
    clients: clientCount,
    changes,
    samples: samples.length,
    p50Ms: Math.round(percentile(samples, 50)),
    p99Ms: Math.round(percentile(samples, 99)),
    maxMs: Math.round(samples[samples.length - 1]!),
  };
  console.log(JSON.stringify(result));
  for (const s of clients) s.close();
  for (const a of agents) a.close();
  await running.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
