// Several consoles in a real browser (issue 17): three console processes on one PostgreSQL with lab
// agents and pair-a-iptakeover, started by scripts/e2e-cluster.ts as a child process (no server code in
// Playwright's process; the single e2e console of playwright.config.ts runs too, untouched). A browser
// signed in on a FOLLOWER sees on the dashboard that this console follows and which one leads, the pair's
// current primary, and switches the pair over from there: the leader carries it out and the follower's
// page shows the other server as primary live, without a reload. The leader's own page says it leads.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";

// As harness/console-cluster.ts's CLUSTER_ADMIN (not imported: that module loads server code).
const admin = { username: "admin", password: "ha-admin-password-1" };
const PAIR = "pair-a-iptakeover";
const root = path.resolve(__dirname, "..");

type Server = { name: string; hostName: string; role: string; hostConnection: string };
type Pair = { name: string; plan: unknown; splitBrain: unknown; switchoverBlockers: string[]; servers: Server[] };
type Health = { console: { instance: string; role: "leader" | "follower"; leader: { id: string } | null; followers: { id: string }[] } | null };

let child: ChildProcess | null = null;
let childOutput = "";
let urls: { leader: string; followers: string[] };

/** Starts the cluster script and waits for its one JSON line; fails with its output when it exits first. */
function startCluster(): Promise<{ leader: string; followers: string[] }> {
  // Its own process group: the last resort in afterAll can then kill it with every console and agent.
  const c = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts", "e2e-cluster.ts")], { cwd: root, stdio: ["pipe", "pipe", "pipe"], detached: true });
  child = c;
  return new Promise((resolve, reject) => {
    let stdout = "";
    c.stderr!.on("data", (d: Buffer) => (childOutput = (childOutput + d.toString()).slice(-20_000)));
    c.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split("\n").find((l) => l.startsWith("{"));
      if (line && stdout.includes("\n")) resolve(JSON.parse(line) as { leader: string; followers: string[] });
    });
    c.once("exit", (code, signal) => reject(new Error(`scripts/e2e-cluster.ts exited (${code ?? signal}) before the cluster was ready:\n${childOutput}`)));
  });
}

async function stopCluster(): Promise<void> {
  const c = child;
  child = null;
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once("exit", () => r()));
  c.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 90_000))]);
  if (c.exitCode === null && c.signalCode === null) {
    process.kill(-c.pid!, "SIGKILL");
    await exited;
  }
}

async function health(request: APIRequestContext, url: string): Promise<NonNullable<Health["console"]>> {
  const res = await request.get(`${url}/healthz`);
  expect(res.ok()).toBe(true);
  const h = ((await res.json()) as Health).console;
  expect(h).not.toBeNull();
  return h!;
}

/** The pair as a console's live view has it (tRPC over the page's session: sessions live in the shared database). */
async function pairOn(request: APIRequestContext, url: string): Promise<Pair> {
  const res = await request.get(`${url}/api/trpc/live.pairs`);
  const body = await res.json();
  if (!res.ok()) throw new Error(`live.pairs on ${url}: ${JSON.stringify(body)}`);
  return (body as { result: { data: { json: Pair[] } } }).result.data.json.find((p) => p.name === PAIR)!;
}

const primaryOf = (p: Pair) => p.servers.find((s) => s.role === "primary")?.name ?? null;
const settled = (p: Pair) => p.plan === null && !p.splitBrain && p.servers.every((s) => s.hostConnection === "connected") && p.servers.filter((s) => s.role === "primary").length === 1;

async function login(page: Page, url: string) {
  await page.goto(`${url}/login`);
  await page.getByLabel("Username").fill(admin.username);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("current-user")).toContainText(admin.username);
}

function pairCard(page: Page) {
  return page.locator("section").filter({ has: page.getByTestId(`pair-${PAIR}`) });
}

function roleOf(page: Page, server: string) {
  return pairCard(page).getByTestId(`server-${server}`).getByTestId("role");
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  // PostgreSQL, three consoles each loading the production build, agents and servers: a minute or more
  // on a loaded machine (the script's own waits end well before this).
  test.setTimeout(360_000);
  urls = await startCluster();
  expect(urls.followers).toHaveLength(2);
});

test.afterAll(async () => {
  test.setTimeout(120_000);
  await stopCluster();
});

test("on a follower the dashboard says it follows and which console leads; a switchover asked for there is carried out by the leader and shown live", async ({ page }) => {
  test.setTimeout(180_000);
  const follower = urls.followers[0]!;
  const leaderView = await health(page.request, urls.leader);
  const followerView = await health(page.request, follower);
  expect(leaderView.role).toBe("leader");
  expect(followerView.role).toBe("follower");
  expect(followerView.leader?.id).toBe(leaderView.instance);

  await login(page, follower);
  await expect(page.getByTestId("console-instance")).toHaveText(followerView.instance, { timeout: 30_000 });
  await expect(page.getByTestId("console-role")).toHaveText("follower");
  await expect(page.getByTestId("console-leader")).toHaveText(leaderView.instance);
  // Both followers are alive (this one among them), so no warning.
  await expect(page.getByTestId("console-follower")).toHaveCount(2, { timeout: 30_000 });
  await expect(page.getByTestId("console-follower").filter({ hasText: followerView.instance })).toHaveCount(1);
  await expect(page.getByTestId("no-follower-banner")).toHaveCount(0);

  // The pair ready for a switchover, as the follower serves it; the card shows its current primary.
  let before: Pair | null = null;
  await expect
    .poll(
      async () => {
        const p = await pairOn(page.request, follower);
        before = settled(p) && p.switchoverBlockers.length === 0 ? p : null;
        return before !== null;
      },
      { timeout: 90_000 },
    )
    .toBe(true);
  const from = before!.servers.find((s) => s.role === "primary")!;
  const to = before!.servers.find((s) => s !== from)!;
  await expect(roleOf(page, from.name)).toHaveText("primary", { timeout: 30_000 });
  await expect(roleOf(page, to.name)).toHaveText("backup");
  await expect(pairCard(page).getByTestId(`server-${from.name}`).getByTestId("vip")).toContainText("VIP here");

  // A mark in the page: still there at the end, the page was not reloaded.
  await page.evaluate(() => ((window as unknown as { haMark: string }).haMark = "not reloaded"));

  // The switchover on the follower, as an operator does it on the dashboard.
  const card = pairCard(page);
  const button = card.getByRole("button", { name: "Switch over", exact: true });
  await expect(button).toBeEnabled({ timeout: 60_000 });
  await button.click();
  const dialog = card.getByRole("dialog", { name: "Confirm switchover" });
  await expect(dialog).toContainText(`${from.name} becomes backup and ${to.name} becomes primary; the VIP moves from ${from.hostName} to ${to.hostName}`);
  await dialog.getByRole("button", { name: "Switch over now" }).click();
  await expect(card.getByTestId("switchover-outcome")).toContainText("Controller:");

  // Live on the follower's page: the other server is primary, the VIP moved, the plan finished.
  await expect(roleOf(page, to.name)).toHaveText("primary", { timeout: 45_000 });
  await expect(roleOf(page, from.name)).toHaveText("backup", { timeout: 30_000 });
  await expect(card.getByTestId(`server-${to.name}`).getByTestId("vip")).toContainText("VIP here", { timeout: 30_000 });
  await expect(card.getByTestId("switchover-outcome")).toContainText("Finished:", { timeout: 30_000 });
  expect(await page.evaluate(() => (window as unknown as { haMark?: string }).haMark)).toBe("not reloaded");

  // The leader carried it out and agrees; it is still the same leader (no takeover on the way).
  await expect.poll(async () => primaryOf(await pairOn(page.request, urls.leader)), { timeout: 30_000 }).toBe(to.name);
  expect((await health(page.request, urls.leader)).instance).toBe(leaderView.instance);
  expect((await health(page.request, follower)).role).toBe("follower");
});

test("the leader's own dashboard says it leads, with both followers alive", async ({ page }) => {
  const leaderView = await health(page.request, urls.leader);
  await login(page, urls.leader);
  await expect(page.getByTestId("console-instance")).toHaveText(leaderView.instance, { timeout: 30_000 });
  await expect(page.getByTestId("console-role")).toHaveText("leader");
  await expect(page.getByTestId("console-leader")).toHaveText(leaderView.instance);
  await expect(page.getByTestId("console-follower")).toHaveCount(2, { timeout: 30_000 });
  await expect(page.getByTestId("no-follower-banner")).toHaveCount(0);
});
