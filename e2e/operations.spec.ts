// Browser tests of issue 14 against the lab (real agents, simulated SIP Servers, readiness settle
// shortened to 30 s by scripts/e2e-lab.ts): a full guided W14 upgrade with its gates on screen, an abort
// midway that leaves the pair healthy, maintenance holding back an automatic failover (and the card
// saying why), and a scheduled switchover skipped because the pair was not ready. Earlier spec files
// move roles around, so each test asks which server is primary first. Waits are give-up limits.
import path from "node:path";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { e2eAdmin } from "../playwright.config";
import { login, signInAndEnsureUsers, trpcMutation, trpcQuery } from "./helpers";

const operator = { username: "e2e-ops-operator", password: "e2e-ops-operator-pass-1" };
/** A readiness settle of 30 s, a restart and a resync per half of an upgrade, on a shared machine. */
const GATE_MS = 180_000;

interface ServerView {
  name: string;
  role: string;
  status: string;
  hostConnection: string;
}
interface PairView {
  id: string;
  name: string;
  plan: unknown;
  servers: ServerView[];
}

async function pairView(request: APIRequestContext, name: string): Promise<PairView> {
  const pairs = await trpcQuery<PairView[]>(request, "live.pairs");
  return pairs.find((p) => p.name === name)!;
}

/** Waits until the pair has one running primary and one running backup, both hosts connected, nothing in progress; returns their names. */
async function healthyRoles(request: APIRequestContext, name: string): Promise<{ primary: string; backup: string; id: string }> {
  let roles: { primary: string; backup: string; id: string } | undefined;
  await expect
    .poll(
      async () => {
        const v = await pairView(request, name);
        const p = v.servers.find((s) => s.role === "primary");
        const b = v.servers.find((s) => s.role === "backup");
        const ok = p && b && v.plan === null && v.servers.every((s) => s.status === "running" && s.hostConnection === "connected");
        roles = ok ? { primary: p.name, backup: b.name, id: v.id } : undefined;
        return ok ? "healthy" : JSON.stringify(v.servers);
      },
      { timeout: GATE_MS },
    )
    .toBe("healthy");
  return roles!;
}

async function openPair(page: Page, name: string): Promise<void> {
  await page.getByTestId(`pair-${name}`).getByRole("link", { name }).click();
  await expect(page.getByRole("heading", { name: new RegExp(name) })).toBeVisible();
}

function pairCard(page: Page, name: string) {
  return page.locator("section").filter({ has: page.getByTestId(`pair-${name}`) });
}

/** "2025-05-01T10:02:03" in this machine's time zone (the browser's), for a datetime-local field. */
function localInputValue(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ playwright, baseURL }) => {
  const request = await playwright.request.newContext({ baseURL });
  await signInAndEnsureUsers(request, [{ ...operator, role: "operator" }]);
  await request.dispose();
});

test("W14: a full guided upgrade of the lab pair — install command for the backup, an operator's confirmation for the other, every gate on screen, versions before and after", async ({ page }) => {
  test.setTimeout(600_000);
  page.on("dialog", (dialog) => void dialog.accept());
  const pair = "pair-a-iptakeover";
  // The admin configures the install command (configuration); the run itself needs an operator, and an admin is one.
  await login(page);
  const { backup, primary } = await healthyRoles(page.request, pair);
  await openPair(page, pair);
  const card = page.getByTestId("upgrade-card");
  await card.locator("summary", { hasText: "Install step per server" }).click();
  await card.getByRole("button", { name: `Edit install command of ${backup}` }).click();
  await card.getByLabel(new RegExp(`^Install command of ${backup}`)).fill(`${process.execPath} lab/install-version.mjs ${backup}`);
  await card.getByRole("button", { name: "Save", exact: true }).click();
  await expect(card.getByTestId(`install-command-${backup}`)).toContainText("lab/install-version.mjs");
  await expect(card.getByTestId(`install-command-${primary}`)).toContainText("an operator installs the new version and confirms it");

  // Readiness for upgrade beside readiness for switchover: the backup 1, the primary 0.
  await expect(page.getByTestId(`server-${backup}`).getByTestId("ready-to-upgrade")).toHaveText("1");
  await expect(page.getByTestId(`server-${primary}`).getByTestId("ready-to-upgrade")).toHaveText("0");
  await expect(page.getByTestId(`server-${backup}`).getByTestId("version")).toHaveText("1.0.0-sim");

  await card.getByRole("button", { name: "Start upgrade…" }).click();
  const dialog = card.getByRole("dialog", { name: "Confirm upgrade" });
  await expect(dialog).toContainText(`${backup} (backup) is upgraded first`);
  await dialog.getByRole("button", { name: "Start the upgrade" }).click();
  await expect(card.getByTestId("upgrade-status")).toHaveText("running");

  // The backup is stopped, installed by its command (output shown), started again; then the gate
  // "both ready for switchover" waits, with the servers' own reasons, live.
  await expect(card.getByTestId(`install-output-${backup}`)).toContainText(`installed ${backup} 1.1.0-sim (was 1.0.0-sim)`, { timeout: GATE_MS });
  const waiting = card.getByTestId("upgrade-waiting");
  await expect(waiting).toContainText("waiting for both servers to be ready for switchover", { timeout: GATE_MS });
  // The countdown of the settle time, in the servers' own words (W13).
  await expect(waiting).toContainText(/HA link up for \d+ s of the 30 s needed/, { timeout: GATE_MS });
  await expect(card.getByTestId("upgrade-step-4")).toContainText("done");
  if (process.env.SWITCHYARD_DOC_SCREENSHOTS === "1") {
    await card.scrollIntoViewIfNeeded();
    await card.screenshot({ path: path.join(__dirname, "..", "docs", "upgrade.png") });
  }
  await expect(card.getByTestId("upgrade-step-2")).toContainText(`stop ${backup}`);
  await expect(card.getByTestId("upgrade-step-2")).toContainText("done");
  await expect(card.getByTestId("upgrade-step-3")).toContainText(`install command of ${backup} succeeded`);

  // Switched over; the other server's turn: it waits for an operator to confirm its install.
  const confirm = card.getByRole("button", { name: `Confirm ${primary} installed` });
  await expect(confirm).toBeVisible({ timeout: GATE_MS * 2 });
  await expect(card.getByTestId("upgrade-waiting")).toContainText(`confirm ${primary} is installed`);
  await expect(page.getByTestId(`server-${backup}`).getByTestId("role")).toHaveText("primary");
  await confirm.click();
  await expect(card.getByTestId("upgrade-step-9")).toContainText(`${e2eAdmin.username} confirmed the new version of ${primary} is installed`);

  await expect(card.getByTestId("upgrade-status")).toHaveText("done", { timeout: GATE_MS * 2 });
  await expect(card.getByTestId("upgrade-outcome")).toContainText(`${backup} 1.0.0-sim → 1.1.0-sim, ${primary} 1.0.0-sim → 1.0.0-sim`);
  await expect(card.getByTestId(`upgrade-version-${backup}`)).toContainText("1.1.0-sim");
  await expect(page.getByTestId(`server-${backup}`).getByTestId("version")).toHaveText("1.1.0-sim");
  // The roles are back where they were, and the timeline tells the story.
  await expect(page.getByTestId(`server-${primary}`).getByTestId("role")).toHaveText("primary");
  await expect(page.getByTestId("timeline")).toContainText(`W14 upgrade of ${pair} done`);
  await expect(page.getByTestId("timeline")).toContainText(`W14 upgrade of ${pair} started by ${e2eAdmin.username}`);
});

test("W14: an abort midway starts the stopped server again and says what state each server is in", async ({ page }) => {
  test.setTimeout(300_000);
  page.on("dialog", (dialog) => void dialog.accept());
  const pair = "pair-b-nlb";
  await login(page, operator);
  const { backup, primary } = await healthyRoles(page.request, pair);
  await openPair(page, pair);
  const card = page.getByTestId("upgrade-card");
  await card.getByRole("button", { name: "Start upgrade…" }).click();
  await card.getByRole("dialog", { name: "Confirm upgrade" }).getByRole("button", { name: "Start the upgrade" }).click();
  // Midway: the backup is stopped and waits for its install.
  await expect(card.getByRole("button", { name: `Confirm ${backup} installed` })).toBeVisible({ timeout: GATE_MS });
  await expect(page.getByTestId(`server-${backup}`)).toContainText("stopped");
  await card.getByRole("button", { name: "Abort" }).click();
  await expect(card.getByTestId("upgrade-status")).toHaveText("aborted", { timeout: GATE_MS });
  const outcome = card.getByTestId("upgrade-outcome");
  await expect(outcome).toContainText(`aborted by ${operator.username} at step 3/12 (install ${backup})`);
  await expect(outcome).toContainText(`${backup} is backup, running`);
  await expect(outcome).toContainText(`${primary} is primary, running`);
  await healthyRoles(page.request, pair);
});

test("maintenance: a crashed primary is not failed over while the pair is in maintenance; the card says who, why and what the controller would do", async ({ page }) => {
  test.setTimeout(300_000);
  const pair = "pair-a-iptakeover";
  await login(page, operator);
  const { primary, backup } = await healthyRoles(page.request, pair);
  await openPair(page, pair);
  const form = page.getByRole("form", { name: "Put in maintenance" });
  await form.getByLabel("Reason").fill("e2e: network work on the lab hosts");
  await form.getByRole("button", { name: "Put in maintenance" }).click();
  await expect(page.getByTestId("maintenance-banner")).toContainText(`Set by ${operator.username}`);
  await expect(page.getByTestId("maintenance-banner")).toContainText("e2e: network work on the lab hosts");

  await page.goto("/");
  const dashboardCard = pairCard(page, pair);
  await expect(dashboardCard.getByTestId("maintenance-banner")).toContainText("In maintenance — no automatic failover");
  await trpcMutation(page.request, "lab.fault", { application: primary, kind: "crash", on: true });
  // Nothing happens: the other server stays backup, and the card says why and what would happen.
  await expect(dashboardCard.getByTestId("situation")).toContainText("the controller observes only; without the maintenance it would act now:", { timeout: 60_000 });
  await expect(dashboardCard.getByTestId("situation")).toContainText(`${backup} promoted to primary`);
  await expect(dashboardCard.getByTestId(`server-${backup}`).getByTestId("role")).toHaveText("backup");

  // Ending the maintenance lets the controller act: a primary again.
  await openPair(page, pair);
  await page.getByRole("button", { name: "End maintenance" }).click();
  await expect(page.getByTestId("maintenance-banner")).toHaveCount(0);
  await expect.poll(async () => (await pairView(page.request, pair)).servers.some((s) => s.role === "primary"), { timeout: 60_000 }).toBe(true);
  await expect(page.getByTestId("timeline")).toContainText(`${operator.username} ended the maintenance of ${pair}`);
  await healthyRoles(page.request, pair);
});

test("scheduled switchover: skipped at its time because the pair is not ready (its backup is stopped), with an alarm; listed on the pair's page", async ({ page }) => {
  test.setTimeout(300_000);
  page.on("dialog", (dialog) => void dialog.accept());
  const pair = "pair-b-nlb";
  await login(page, operator);
  const { primary, backup } = await healthyRoles(page.request, pair);
  await openPair(page, pair);
  // Not ready: the backup is stopped, so the primary's HA link is down (readiness 0) and nothing can take over.
  await page.getByTestId(`server-${backup}`).getByRole("button", { name: `Stop ${backup}` }).click();
  await expect(page.getByTestId(`server-${backup}`)).toContainText("stopped", { timeout: 60_000 });

  const schedules = page.getByTestId("schedules-card");
  const form = schedules.getByRole("form", { name: "Schedule a switchover" });
  await form.getByLabel("Switch over at").fill(localInputValue(new Date(Date.now() + 15_000)));
  await form.getByLabel("Reason (optional)").fill("e2e: planned move");
  await form.getByRole("button", { name: "Schedule switchover" }).click();
  const row = schedules.getByTestId("schedule-row").filter({ hasText: "e2e: planned move" });
  await expect(row).toContainText("pending");
  await expect(row).toContainText(operator.username);
  await expect(row).toContainText("skipped", { timeout: 90_000 });
  await expect(row).toContainText(`cannot take over: ${backup} is stopped`);
  await expect(page.getByTestId(`server-${primary}`).getByTestId("role")).toHaveText("primary");
  await expect(page.getByTestId("timeline")).toContainText("was skipped: the controller did not switch over");

  // The operator is told: the alarm (its reactions notify whoever the admin chose).
  await page.goto("/alarms");
  await expect(page.getByTestId(`alarm-row-scheduled-switchover-skipped-${pair}`)).toContainText("was skipped");

  // Leave the pair healthy for whatever runs next.
  await page.goto("/");
  await openPair(page, pair);
  await page.getByTestId(`server-${backup}`).getByRole("button", { name: `Start ${backup}` }).click();
  await healthyRoles(page.request, pair);
});
