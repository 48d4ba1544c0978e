// Benchmark (not a test): the dashboard's table view with many pairs in many real browsers. A production
// build of the console (pages included) gets N pairs (default 2,000) on H hosts through the import, fake
// agents (harness/fake-agents.ts: the real wire protocol, servers that only report roles and readiness)
// for every host, and B Chromium browsers (default 50, Debian's /usr/bin/chromium through Playwright),
// each signed in with its own session and showing the table. Measured:
//   - initial load: from navigation to the table showing every pair — one browser while the others are
//     open and live, and all browsers opening at once;
//   - a role change: from an operator's switchover request to the new primary in the pair's row in every
//     browser, timed inside each page (a MutationObserver takes Date.now(), the same clock the benchmark
//     reads);
//   - smoothness under a burst of role changes: the longest task on each page's main thread.
//   npx tsx bench/dashboard/run.ts [--pairs 2000] [--hosts 200] [--browsers 50] [--changes 20] [--burst 200]
//                                  [--write] [--screenshot docs/dashboard-table.png]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "@playwright/test";
import { startConsole } from "../../server/console";
import { createDb } from "../../server/db";
import { migrateSqlite } from "../../server/db/migrate";
import { importConfig } from "../../server/transfer/transfer.service";
import { systemActor } from "../../server/audit/audit.repository";
import { connectFakeAgents, type FakeAgent } from "../../harness/fake-agents";
import { ensureBuild, root } from "../../harness/lab-console";
import { replaceSection } from "../support/benchmarks-md";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
function textArg(name: string): string | null {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? null) : null;
}
const pairCount = arg("pairs", 2000);
const hostCount = arg("hosts", 200);
const browserCount = arg("browsers", 50);
const changes = arg("changes", 20);
const burst = arg("burst", 200);
const screenshot = textArg("screenshot");
const ADMIN = { username: "bench", password: "bench-password-1" };
/** Give-up limit of every wait (a benchmark that hangs says where). */
const GIVE_UP_MS = arg("give-up-s", 300) * 1000;

/**
 * Pairs of two servers on two hosts; each host carries many servers (ports apart), as a site with a few
 * hundred hosts does, so 2,000 pairs need a few hundred agents, not 4,000.
 */
export function manyPairsConfig(pairs: number, hosts: number): string {
  const perHost = Math.ceil((pairs * 2) / hosts);
  const lines = ["version: 1", "hosts:"];
  for (let h = 0; h < hosts; h++) lines.push(`  - { name: h${h}, nics: [{ name: eth0, address: 10.${Math.floor(h / 250)}.${h % 250}.1, carriesManagement: true, carriesSip: true }] }`);
  lines.push("applications:");
  for (let p = 0; p < pairs; p++) {
    for (const k of [0, 1]) {
      const host = (2 * Math.floor(p / perHost) + k) % hosts;
      lines.push(`  - { name: s${2 * p + k}, type: sip-server, host: h${host}, sipPort: ${5060 + (p % perHost) * 3}, startCommand: sim }`);
    }
  }
  lines.push("pairs:");
  for (let p = 0; p < pairs; p++) {
    const vip = `10.200.${Math.floor(p / 250)}.${p % 250}`;
    // Every fifth an NLB cluster, as sites mix them.
    lines.push(
      p % 5 === 4
        ? `  - { name: p${p}, haType: nlb-cluster, primary: s${2 * p}, backup: s${2 * p + 1}, vipAddress: ${vip}, nlbClusterName: nlb-${p}, nlbPort: 5060, controlDriver: nlb, enableScript: "nlb enable {host}", disableScript: "nlb disable {host}" }`
        : `  - { name: p${p}, haType: ip-takeover, primary: s${2 * p}, backup: s${2 * p + 1}, vipAddress: ${vip}, vipPrefixLength: 32, vipInterface: eth0, controlDriver: linux-ip }`,
    );
  }
  return lines.join("\n");
}

function hostOf(app: number, pairs: number, hosts: number): number {
  const perHost = Math.ceil((pairs * 2) / hosts);
  const p = Math.floor(app / 2);
  return (2 * Math.floor(p / perHost) + (app % 2)) % hosts;
}

function stats(values: number[]): { n: number; min: number; p50: number; p95: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { n: s.length, min: Math.round(s[0]!), p50: Math.round(at(0.5)), p95: Math.round(at(0.95)), max: Math.round(s[s.length - 1]!) };
}

/** What the benchmark is waiting on, said when it gives up (e.g. the console's view of the pair). */
let explain: () => Promise<string> = async () => "";

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, everyMs = 200): Promise<T> {
  const giveUpAt = Date.now() + GIVE_UP_MS;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what} ${await explain()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Opens the table in a page and resolves with the ms from navigation to every pair listed and rows drawn. */
async function openTable(page: Page, url: string): Promise<number> {
  const t0 = Date.now();
  await page.goto(`${url}/?view=table`, { timeout: GIVE_UP_MS });
  await page.getByTestId("pairs-shown").filter({ hasText: `${pairCount} of ${pairCount} pairs` }).waitFor({ timeout: GIVE_UP_MS });
  await page.locator('[data-testid^="pair-row-"]').first().waitFor({ timeout: GIVE_UP_MS });
  return Date.now() - t0;
}

/**
 * In the page: note when the pair's row shows `server` as its primary (Date.now(), the benchmark's clock).
 * Page code is given as text: the TypeScript runner would wrap named functions in a helper the page lacks.
 */
function watchPrimary(page: Page, pair: string, server: string): Promise<void> {
  return page.evaluate(`(() => {
    const w = window;
    if (w.__obs) w.__obs.disconnect();
    w.__seenAt = null;
    const check = () => {
      const cell = document.querySelector('[data-testid="pair-row-${pair}"] [data-testid="primary"]');
      if (cell && cell.textContent && cell.textContent.startsWith("${server} ")) {
        w.__seenAt = Date.now();
        w.__obs.disconnect();
      }
    };
    w.__obs = new MutationObserver(check);
    w.__obs.observe(document.body, { subtree: true, childList: true, characterData: true });
    check();
  })()`);
}

/** In the page: the longest main-thread task, and all long tasks added up, from now on. */
function watchLongTasks(page: Page): Promise<void> {
  return page.evaluate(`(() => {
    const w = window;
    w.__longest = 0;
    w.__longTotal = 0;
    if (w.__lt) w.__lt.disconnect();
    w.__lt = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        w.__longest = Math.max(w.__longest, e.duration);
        w.__longTotal += e.duration;
      }
    });
    w.__lt.observe({ type: "longtask" });
  })()`);
}

async function main() {
  ensureBuild();
  const machine = `${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} CPUs, Node.js ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} at the start`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-bench-dashboard-"));
  const databaseUrl = `file:${path.join(dir, "b.db")}`;
  // The configuration goes in before the console starts, with each pair's intended primary as a console
  // that ran before would have persisted it: the console then starts as after a restart, and every pair
  // is steady once its agents have resynced — no VIP adoption of 2,000 pairs to wait for.
  const tSetup = performance.now();
  migrateSqlite(databaseUrl);
  const seedDb = createDb(databaseUrl);
  await importConfig(seedDb, systemActor, manyPairsConfig(pairCount, hostCount), { replace: false, dryRun: false });
  const importMs = performance.now() - tSetup;
  const appIds = new Map((await seedDb.application.findMany({ select: { id: true, name: true } })).map((a) => [a.name, a.id]));
  const pairRows = await seedDb.haPair.findMany({ select: { id: true, name: true } });
  await seedDb.pairRuntime.createMany({ data: pairRows.map((p) => ({ pairId: p.id, epoch: 0, intendedPrimaryAppId: appIds.get(`s${2 * Number(p.name.slice(1))}`)! })) });
  await seedDb.$disconnect();
  const running = await startConsole({
    withPages: true,
    dev: false,
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: databaseUrl,
      HOST: "127.0.0.1",
      PORT: "0",
      AGENT_PORT: "0",
      LOG_LEVEL: "error",
      SWITCHYARD_ADMIN_USER: ADMIN.username,
      SWITCHYARD_ADMIN_PASSWORD: ADMIN.password,
      // Fake agents on a busy machine: no host is declared lost because the benchmark kept the CPU.
      HEARTBEAT_TIMEOUT_MS: "600000",
    },
  });
  let browser: Browser | null = null;
  let agents: FakeAgent[] = [];
  try {
    const rolesByHost = new Map<number, Record<string, "primary" | "backup">>();
    for (let a = 0; a < pairCount * 2; a++) {
      const h = hostOf(a, pairCount, hostCount);
      const roles = rolesByHost.get(h) ?? {};
      roles[`s${a}`] = a % 2 === 0 ? "primary" : "backup";
      rolesByHost.set(h, roles);
    }
    agents = await connectFakeAgents(
      running.services.db,
      running.agentUrl!,
      [...rolesByHost.entries()].map(([h, roles]) => ({ hostName: `h${h}`, roles })),
      { ready: true },
    );
    // Every pair steady with its primary (the controller's start grace passes first).
    let lastProgressAt = Date.now();
    await until("every pair to have its primary and nothing in progress", async () => {
      const views = await running.services.controlPlane.pairViews();
      const withPrimary = views.filter((v) => v.servers.filter((s) => s.role === "primary").length === 1).length;
      const inProgress = views.filter((v) => v.plan).length;
      const stale = views.filter((v) => v.servers.some((s) => s.vip === "stale")).length;
      if (Date.now() - lastProgressAt > 10_000) {
        lastProgressAt = Date.now();
        console.error(`settling: ${withPrimary} of ${pairCount} pairs with one primary, ${inProgress} plans in progress, ${stale} stale VIPs`);
      }
      return views.length === pairCount && withPrimary === pairCount && inProgress === 0 && stale === 0 ? true : undefined;
    }, 500);
    const setupMs = performance.now() - tSetup;
    console.error(`setup: import ${(importMs / 1000).toFixed(1)} s, every pair steady after ${(setupMs / 1000).toFixed(1)} s`);
    const agentOf = (app: number) => agents.find((a) => a.hostName === `h${hostOf(app, pairCount, hostCount)}`)!;

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--disable-renderer-backgrounding", "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows"],
    });
    const pages: Page[] = [];
    for (let b = 0; b < browserCount; b++) {
      const login = await fetch(`${running.url}/api/trpc/auth.login`, { method: "POST", headers: { "content-type": "application/json", origin: running.url }, body: JSON.stringify({ json: ADMIN }) });
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
      const [name, value] = [cookie.slice(0, cookie.indexOf("=")), cookie.slice(cookie.indexOf("=") + 1)];
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      await context.addCookies([{ name, value, url: running.url }]);
      pages.push(await context.newPage());
    }

    // Initial load. Everyone at once first (a shift change), then one browser again and again while the
    // others are open and live.
    const together = await Promise.all(pages.map((p) => openTable(p, running.url)));
    const alone: number[] = [];
    for (let i = 0; i < 5; i++) alone.push(await openTable(pages[0]!, running.url));
    console.error(`load: ${browserCount} at once ${JSON.stringify(stats(together))}, one of ${browserCount} ${JSON.stringify(stats(alone))}`);

    // Sort by name in every browser, so the pairs that change (p0 …) are in view.
    for (const p of pages) {
      await p.locator("th button", { hasText: "Pair" }).click();
      await p.getByTestId("pair-row-p0").waitFor();
    }
    const rowsInPage = await pages[0]!.locator('[data-testid^="pair-row-"]').count();

    // Role changes, one at a time: the time until every browser shows the new primary. A change is an
    // operator's switchover (what the Switch over button asks the control plane), carried out by the
    // controller with the fake agents: the primary demoted, the other server promoted, the VIP moved.
    const pairIds = new Map((await running.services.controlPlane.pairViews()).map((v) => [Number(v.name.slice(1)), v.id]));
    const primaryApp = new Map<number, number>();
    const swap = async (p: number): Promise<void> => {
      const from = primaryApp.get(p) ?? 2 * p;
      primaryApp.set(p, from === 2 * p ? 2 * p + 1 : 2 * p);
      const outcome = await running.services.controlPlane.switchOverOutcome(pairIds.get(p)!, "bench", false, "");
      if (!outcome.ordered) throw new Error(`the switchover of p${p} was refused: ${outcome.sentence}`);
    };
    const samples: number[] = [];
    for (let k = 0; k < changes; k++) {
      const p = k % Math.min(changes, 10);
      const to = (primaryApp.get(p) ?? 2 * p) === 2 * p ? 2 * p + 1 : 2 * p;
      await Promise.all(pages.map((pg) => watchPrimary(pg, `p${p}`, `s${to}`)));
      explain = async () => {
        const v = (await running.services.controlPlane.pairViews()).find((x) => x.name === `p${p}`);
        const shown = await pages[0]!.locator(`[data-testid="pair-row-p${p}"] [data-testid="primary"]`).first().textContent().catch(() => null);
        return `(the console: ${JSON.stringify(v && { epoch: v.epoch, servers: v.servers.map((s) => `${s.name} ${s.role} e${s.roleEpoch}`), situation: v.situation })}; the first browser's primary cell: ${JSON.stringify(shown)})`;
      };
      const t0 = Date.now();
      await swap(p);
      const seen = await until(`p${p}'s new primary s${to} in every browser`, async () => {
        const at = await Promise.all(pages.map((pg) => pg.evaluate<number | null>("window.__seenAt")));
        return at.every((x) => x !== null) ? (at as number[]) : undefined;
      }, 100);
      samples.push(...seen.map((t) => t - t0));
    }
    const roleChange = stats(samples);
    console.error(`role change: ${JSON.stringify(roleChange)}`);

    // A burst: `burst` role changes over pairs all through the list within about two seconds, while every
    // browser shows the table; the longest main-thread task on each page says whether it stayed smooth.
    await Promise.all(pages.map(watchLongTasks));
    const burstStart = Date.now();
    let last = 0;
    const asked: Promise<void>[] = [];
    for (let k = 0; k < burst; k++) {
      last = 10 + Math.floor((k * (pairCount - 10)) / burst);
      asked.push(swap(last));
      if (k % 10 === 9) await new Promise((r) => setTimeout(r, 100));
    }
    await Promise.all(asked);
    // Until the last change of the burst is in the console's views, plus a moment for the browsers.
    await until("the burst's last change", async () => {
      const v = (await running.services.controlPlane.pairViews()).find((x) => x.name === `p${last}`);
      return v?.servers.find((s) => s.role === "primary")?.name === `s${primaryApp.get(last)}` ? true : undefined;
    });
    const burstMs = Date.now() - burstStart;
    await new Promise((r) => setTimeout(r, 2000));
    const longest = await Promise.all(pages.map((pg) => pg.evaluate<number>("window.__longest")));
    const longTotal = await Promise.all(pages.map((pg) => pg.evaluate<number>("window.__longTotal")));
    const smooth = { longest: stats(longest), total: stats(longTotal) };
    console.error(`burst of ${burst} in ${burstMs} ms: longest task ${JSON.stringify(smooth.longest)}, long tasks in total ${JSON.stringify(smooth.total)}`);

    if (screenshot) {
      // A few of the problems an operator looks for, then the table as the first browser shows it.
      agentOf(2 * 3).reportFailed("s6", "exited unexpectedly (exit code 2)", "s6: cannot open the HTTP interface on 10.0.1.1:8080: listen EADDRINUSE: address already in use 10.0.1.1:8080\n");
      await new Promise((r) => setTimeout(r, 3000));
      const page = pages[0]!;
      await page.getByRole("button", { name: "Table" }).click();
      await page.locator("th button", { hasText: "Ready" }).click();
      await page.getByTestId("pair-row-p3").waitFor();
      await page.screenshot({ path: path.resolve(root, screenshot), fullPage: false });
      console.error(`screenshot: ${screenshot}`);
    }

    const section = `## Dashboard table with many pairs (\`bench/dashboard\`)

Command: \`npx tsx bench/dashboard/run.ts --pairs ${pairCount} --hosts ${hostCount} --browsers ${browserCount} --changes ${changes} --burst ${burst}\`
(\`--write\` puts this section here). Run on ${new Date().toISOString().slice(0, 10)}, ${machine}; the machine was
shared with other work while it ran, and the ${browserCount} browsers, the console and the fake agents all ran on it.

Setup: a production build of the console (pages, API, live sockets) on a fresh SQLite file; ${pairCount} pairs
(ip-takeover, every fifth an NLB cluster) of ${pairCount * 2} servers on ${hostCount} hosts, imported (${(importMs / 1000).toFixed(1)} s) and every pair adopted by the
controller ${(setupMs / 1000).toFixed(1)} s after the import began; one fake agent per host (real wire protocol, servers that
report roles and readiness, \`harness/fake-agents.ts\`); ${browserCount} Chromium contexts (Debian's \`/usr/bin/chromium\`,
1400×900), each with its own session, showing \`/?view=table\`. A page draws only the rows near its
viewport (${rowsInPage} of ${pairCount} rows were in the page).

| what | samples | min | p50 | p95 | max |
|---|---|---|---|---|---|
| initial load, ${browserCount} browsers opening at once (navigation → every pair listed, rows drawn), ms | ${together.length} | ${stats(together).min} | ${stats(together).p50} | ${stats(together).p95} | ${stats(together).max} |
| initial load, one browser while ${browserCount - 1} others are open and live, ms | ${alone.length} | ${stats(alone).min} | ${stats(alone).p50} | ${stats(alone).p95} | ${stats(alone).max} |
| role change → new primary in the pair's row, in each of ${browserCount} browsers, ms | ${roleChange.n} | ${roleChange.min} | ${roleChange.p50} | ${roleChange.p95} | ${roleChange.max} |
| burst of ${burst} role changes in ${(burstMs / 1000).toFixed(1)} s: longest main-thread task per page, ms | ${smooth.longest.n} | ${smooth.longest.min} | ${smooth.longest.p50} | ${smooth.longest.p95} | ${smooth.longest.max} |
| the same burst: all long tasks (> 50 ms) per page added up, ms | ${smooth.total.n} | ${smooth.total.min} | ${smooth.total.p50} | ${smooth.total.p95} | ${smooth.total.max} |

A role change is an operator's switchover (the control plane's \`switchOver\`, as the Switch over button asks
for it), timed from the request to the new primary in the pair's row, taken inside each page by a
MutationObserver with \`Date.now()\` (the same clock): the controller's plan (demote the primary, the agent's
answer, promote the backup, its answer and role report, persisting each step), the control plane's push
(coalesced to one per 50 ms), the web tier, socket.io to ${browserCount} browsers, the patch of the query cache,
sorting and filtering ${pairCount} pairs, and drawing the visible rows.
The initial load includes the page, the sign-in check, the pair list over tRPC (${pairCount} pair views) and the first
drawing.
`;
    process.stdout.write(section);
    if (process.argv.includes("--write")) replaceSection(section);
  } finally {
    await browser?.close().catch(() => undefined);
    for (const a of agents) a.close();
    await running.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
