// Browser tests of the live dashboard against the lab (real agents and simulated SIP Servers): roles
// shown, forced switchover with a reason in the timeline (W12), switchover after readiness 1 (W1),
// a crash seen live (W2), split brain banner while a host is cut off (W3), and viewers get no button.
// A crashed server comes back by itself (its restart policy, as backup), so its "failed" lasts about a
// second: the tests wait for the policy's restart (live.applicationRuntime) rather than for that moment.
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { login, signInAndEnsureUsers } from "./helpers";

const operator = { username: "e2e-operator", password: "e2e-operator-pass-1" };
const viewer = { username: "e2e-viewer", password: "e2e-viewer-password" };

async function trpc(request: APIRequestContext, path: string, input: unknown) {
  const res = await request.post(`/api/trpc/${path}`, { data: { json: input } });
  const body = await res.json();
  if (!res.ok()) throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body;
}

async function query(request: APIRequestContext, path: string, input: unknown) {
  const res = await request.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  const body = await res.json();
  if (!res.ok()) throw new Error(`${path}: ${JSON.stringify(body)}`);
  return (body as { result: { data: { json: unknown } } }).result.data.json;
}

/** The automatic restarts its restart policy made of an application since it was last started by hand. */
async function policyRestarts(request: APIRequestContext, app: string): Promise<number> {
  const apps = (await query(request, "applications.list", undefined)) as { id: string; name: string }[];
  const id = apps.find((a) => a.name === app)!.id;
  const view = (await query(request, "live.applicationRuntime", { appId: id })) as { process: { status: string; restart: { attempts: number } | null } | null };
  return view.process?.status === "running" ? (view.process.restart?.attempts ?? 0) : 0;
}

function pairCard(page: Page, name: string) {
  return page.locator("section").filter({ has: page.getByTestId(`pair-${name}`) });
}

function roleOf(page: Page, pair: string, server: string) {
  return pairCard(page, pair).getByTestId(`server-${server}`).getByTestId("role");
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ playwright, baseURL }) => {
  const request = await playwright.request.newContext({ baseURL });
  await signInAndEnsureUsers(request, [{ ...operator, role: "operator" }, { ...viewer, role: "viewer" }]);
  await request.dispose();
});

test("the dashboard shows the seeded pairs with their roles", async ({ page }) => {
  await login(page, operator);
  await expect(roleOf(page, "pair-a-iptakeover", "sip-a1")).toHaveText("primary", { timeout: 45_000 });
  await expect(roleOf(page, "pair-a-iptakeover", "sip-a2")).toHaveText("backup");
  await expect(roleOf(page, "pair-b-nlb", "sip-b1")).toHaveText("primary");
  await expect(roleOf(page, "pair-c-single", "sip-c1")).toHaveText("primary");
  await expect(pairCard(page, "pair-a-iptakeover").getByTestId("server-sip-a1").getByTestId("vip")).toContainText("VIP here");
});

test("W12: a switchover while readiness is 0 needs force and a reason, and is in the timeline", async ({ page }) => {
  await login(page, operator);
  const card = pairCard(page, "pair-c-single");
  await expect(roleOf(page, "pair-c-single", "sip-c1")).toHaveText("primary", { timeout: 45_000 });
  // The backup crashes and its restart policy starts it again: the HA link comes up anew, readiness is 0.
  await trpc(page.request, "lab.fault", { application: "sip-c2", kind: "crash", on: true });
  await expect.poll(() => policyRestarts(page.request, "sip-c2"), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect(roleOf(page, "pair-c-single", "sip-c2")).toHaveText("backup", { timeout: 30_000 });
  await expect(card.getByTestId("server-sip-c1")).toContainText("HA link up for", { timeout: 30_000 });
  // Right after the HA link came up readiness is 0: the plain button is disabled and says why.
  await expect(card.getByRole("button", { name: "Switch over", exact: true })).toBeDisabled();
  await expect(card).toContainText("Switchover is not safe now");
  await card.getByRole("button", { name: "Force switchover…" }).click();
  const dialog = card.getByRole("dialog", { name: "Force switchover" });
  await expect(dialog.getByRole("button", { name: "Force switchover" })).toBeDisabled();
  await dialog.getByLabel("Reason for forcing").fill("e2e: primary host needs an urgent reboot");
  await dialog.getByRole("button", { name: "Force switchover" }).click();
  await expect(roleOf(page, "pair-c-single", "sip-c2")).toHaveText("primary", { timeout: 30_000 });
  await expect(roleOf(page, "pair-c-single", "sip-c1")).toHaveText("backup");
  await card.getByRole("button", { name: "Timeline" }).click();
  await expect(card.getByTestId("timeline")).toContainText("e2e: primary host needs an urgent reboot");
});

test("W1: after readiness 1 an operator switches over; primary and NLB port move without reload", async ({ page }) => {
  await login(page, operator);
  const card = pairCard(page, "pair-b-nlb");
  const button = card.getByRole("button", { name: "Switch over", exact: true });
  await expect(button).toBeEnabled({ timeout: 60_000 });
  await button.click();
  const dialog = card.getByRole("dialog", { name: "Confirm switchover" });
  await expect(dialog).toContainText("sip-b1 becomes backup and sip-b2 becomes primary; the NLB port moves from lab-host-3 to lab-host-4");
  await dialog.getByRole("button", { name: "Switch over now" }).click();
  await expect(roleOf(page, "pair-b-nlb", "sip-b2")).toHaveText("primary", { timeout: 30_000 });
  await expect(roleOf(page, "pair-b-nlb", "sip-b1")).toHaveText("backup");
  await expect(card.getByTestId("server-sip-b2").getByTestId("vip")).toContainText("NLB port here");
});

test("W2: a primary killed through the lab is seen live", async ({ page }) => {
  await login(page, operator);
  await expect(roleOf(page, "pair-a-iptakeover", "sip-a1")).toHaveText("primary", { timeout: 30_000 });
  await trpc(page.request, "lab.fault", { application: "sip-a1", kind: "crash", on: true });
  await expect(roleOf(page, "pair-a-iptakeover", "sip-a2")).toHaveText("primary", { timeout: 30_000 });
  // And sip-a1 is back, restarted by its restart policy as backup.
  await expect.poll(() => policyRestarts(page.request, "sip-a1"), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect(roleOf(page, "pair-a-iptakeover", "sip-a1")).toHaveText("backup", { timeout: 30_000 });
  await expect(pairCard(page, "pair-a-iptakeover").getByTestId("server-sip-a2").getByTestId("vip")).toContainText("VIP here");
});

test("W3: split brain banner while the old primary's host is cut off, gone after it returns", async ({ page }) => {
  await login(page, operator);
  // pair-b's primary is now sip-b2 on lab-host-4 (W1 above).
  await expect(roleOf(page, "pair-b-nlb", "sip-b2")).toHaveText("primary", { timeout: 30_000 });
  await trpc(page.request, "lab.host", { host: "lab-host-4", connected: false });
  const banner = page.getByTestId("split-brain-banner");
  await expect(banner).toContainText("pair-b-nlb", { timeout: 30_000 });
  const card = pairCard(page, "pair-b-nlb");
  await expect(card.getByRole("alert").filter({ hasText: "Split brain" })).toContainText("sip-b2 on lab-host-4: claims primary");
  await expect(card.getByTestId("server-sip-b2").getByTestId("vip")).toContainText("stale NLB port on lab-host-4");
  await trpc(page.request, "lab.host", { host: "lab-host-4", connected: true });
  await expect(banner).toHaveCount(0, { timeout: 30_000 });
  await expect(roleOf(page, "pair-b-nlb", "sip-b2")).toHaveText("backup");
  await expect(roleOf(page, "pair-b-nlb", "sip-b1")).toHaveText("primary");
});

test("a viewer sees the dashboard but no switchover button", async ({ page }) => {
  await login(page, viewer);
  await expect(roleOf(page, "pair-b-nlb", "sip-b1")).toHaveText(/primary|backup/, { timeout: 30_000 });
  await expect(page.getByRole("button", { name: "Switch over", exact: true })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Force switchover…" })).toHaveCount(0);
});
