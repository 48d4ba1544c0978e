// Browser tests of the alarm view: an operator acknowledges and then clears an alarm while the list and
// the header badge update live; a viewer sees alarms but cannot acknowledge or clear them. Alarms are
// created through the test-only alarms.injectLogEvent (SWITCHYARD_TEST_HOOKS=1 in playwright.config.ts),
// as if an agent had forwarded the log event.
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { login, navigate, signInAndEnsureUsers } from "./helpers";

const operator = { username: "e2e-alarm-operator", password: "e2e-alarm-operator-pass" };
const viewer = { username: "e2e-alarm-viewer", password: "e2e-alarm-viewer-pass1" };

async function trpc(request: APIRequestContext, path: string, input: unknown) {
  const res = await request.post(`/api/trpc/${path}`, { data: { json: input } });
  const body = (await res.json()) as unknown;
  if (!res.ok()) throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body;
}

let admin: APIRequestContext;

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ playwright, baseURL }) => {
  admin = await playwright.request.newContext({ baseURL });
  await signInAndEnsureUsers(admin, [{ ...operator, role: "operator" }, { ...viewer, role: "viewer" }]);
});

test.afterAll(async () => {
  await admin.dispose();
});

/** An application name no other test or lab alarm uses, so rows and counts are this test's own. */
const uniqueApp = (what: string) => `e2e-${what}-${Date.now().toString(36)}`;

const inject = (application: string, text: string) => trpc(admin, "alarms.injectLogEvent", { host: "e2e-host", application, id: "00-04200", text });

async function badgeTotal(page: Page): Promise<number> {
  const text = await page.getByTestId("alarm-badge-total").textContent();
  return Number(text);
}

/**
 * The header's badge counts exactly the active alarms the list shows. Compared with the list rather
 * than a number taken earlier: the lab raises and clears its own alarms while a test runs (hosts
 * connecting, the test pair's host that has no agent), and both views must follow them live.
 */
async function expectBadgeMatchesList(page: Page) {
  await expect(async () => {
    const rows = await page.locator('[data-testid^="alarm-row-"]').count();
    expect(await badgeTotal(page)).toBe(rows);
  }).toPass();
}

test("W7 alarms: an operator acknowledges then clears a 00-04200 alarm; list and header badge update live", async ({ page }) => {
  const app = uniqueApp("bind");
  await login(page, operator);
  await navigate(page, "Alarms");
  await expect(page.getByTestId("alarm-badge-total")).toHaveText(/^\d+$/);

  // Raised elsewhere: this page learns of it over the socket, no reload.
  await inject(app, "cannot bind 127.0.0.1:5060");
  const row = page.getByTestId(`alarm-row-00-04200-${app}`);
  await expect(row).toBeVisible();
  await expect(row).toContainText("critical");
  await expect(row).toContainText("cannot bind 127.0.0.1:5060");
  await expectBadgeMatchesList(page);

  // A repeat counts on the same row.
  await inject(app, "still cannot bind");
  await expect(row.getByTestId("alarm-count")).toHaveText("2");
  await expect(row).toContainText("still cannot bind");

  // Acknowledge: "I'm on it", the alarm stays active.
  await row.getByRole("button", { name: "Acknowledge" }).click();
  await row.getByLabel("Acknowledgement note").fill("on it: port 5060 held by a stray process");
  await row.getByRole("button", { name: "Save acknowledgement" }).click();
  await expect(row.getByTestId("alarm-ack")).toContainText(`acknowledged by ${operator.username}`);
  await expect(row.getByTestId("alarm-ack")).toContainText("port 5060 held by a stray process");

  // Clear with a comment: it leaves the active list and the badge; history keeps who and why.
  await row.getByRole("button", { name: "Clear" }).click();
  await row.getByLabel("Clear comment").fill("killed the stray process, listener bound");
  await row.getByRole("button", { name: "Clear alarm" }).click();
  await expect(row).toHaveCount(0);
  await expectBadgeMatchesList(page);
  await page.getByRole("tab", { name: "History" }).click();
  const history = page.getByTestId(`history-row-00-04200-${app}`);
  await expect(history).toContainText(`manual by ${operator.username}`);
  await expect(history).toContainText("killed the stray process, listener bound");
});

test("alarms: a viewer sees an active alarm but cannot acknowledge or clear it", async ({ page, playwright, baseURL }) => {
  const app = uniqueApp("viewer");
  await inject(app, "cannot bind");
  await login(page, viewer);
  await navigate(page, "Alarms");
  const row = page.getByTestId(`alarm-row-00-04200-${app}`);
  await expect(row).toBeVisible();
  await expect(row.getByRole("button", { name: "Acknowledge" })).toHaveCount(0);
  await expect(row.getByRole("button", { name: "Clear" })).toHaveCount(0);
  await expect(row).toContainText("operators clear alarms");

  // The API refuses too, naming the role needed.
  const request = await playwright.request.newContext({ baseURL });
  try {
    await trpc(request, "auth.login", viewer);
    const res = await request.get(`/api/trpc/alarms.active`);
    const list = ((await res.json()) as { result: { data: { json: { id: string; application: string }[] } } }).result.data.json;
    const id = list.find((a) => a.application === app)!.id;
    for (const [path, input] of [["alarms.acknowledge", { id, note: "mine" }], ["alarms.clear", { id, comment: "fixed" }]] as const) {
      const refused = await request.post(`/api/trpc/${path}`, { data: { json: input } });
      expect(refused.status()).toBe(403);
      expect(JSON.stringify(await refused.json())).toContain("this needs the operator role");
    }
  } finally {
    await request.dispose();
  }
});
