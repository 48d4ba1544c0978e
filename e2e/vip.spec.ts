// Browser tests of the observed VIP against the lab (real agents, the lab VIP driver's files): the
// dashboard shows where each host's agent observes the VIP beside where it should be; taken off the
// primary's host behind the controller's back (the Lab page), the pair's card shows the mismatch banner
// and the vip-mismatch alarm is raised; put back, both are gone. A disconnected host's values are shown
// muted as last known, with their age. Earlier spec files move primaries around: the primary is looked up.
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { login, navigate, primaryAndBackup as primaryAndBackupOf, signInAndEnsureUsers, trpcMutation } from "./helpers";

const operator = { username: "e2e-vip-operator", password: "e2e-vip-operator-pass" };
const PAIR = "pair-a-iptakeover";
const primaryAndBackup = (request: APIRequestContext) => primaryAndBackupOf(request, PAIR);

function pairCard(page: Page) {
  return page.locator("section").filter({ has: page.getByTestId(`pair-${PAIR}`) });
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ playwright, baseURL }) => {
  const request = await playwright.request.newContext({ baseURL });
  await signInAndEnsureUsers(request, [{ ...operator, role: "operator" }]);
  await request.dispose();
});

test("W9 (console side): the operator sees where the VIP is observed; taken off the primary's host, a mismatch banner and a vip-mismatch alarm; put back, both go", async ({ page }) => {
  await login(page, operator);
  const { primary, backup } = await primaryAndBackup(page.request);
  const card = pairCard(page);
  await expect(card.getByTestId(`server-${primary.name}`).getByTestId("vip-observed")).toContainText("VIP observed here", { timeout: 30_000 });
  await expect(card.getByTestId(`server-${backup.name}`).getByTestId("vip-observed")).toContainText("not observed here");
  await expect(card.getByTestId("vip-mismatch")).toHaveCount(0);

  // Someone with a shell on the primary's host takes the VIP away; the controller does not put it back.
  await navigate(page, "Lab");
  await page.getByRole("button", { name: `Take the VIP of ${PAIR} off ${primary.hostName}` }).click();
  await navigate(page, "Dashboard");
  await expect(card.getByTestId(`server-${primary.name}`).getByTestId("vip-observed")).toContainText("not observed here", { timeout: 30_000 });
  const banner = card.getByTestId("vip-mismatch");
  await expect(banner).toBeVisible({ timeout: 45_000 });
  await expect(banner).toContainText("VIP not where it should be");
  await expect(banner).toContainText(`Should be: on ${primary.hostName} only (${primary.name}, the intended primary)`);
  await expect(banner).toContainText(`Observed: ${primary.hostName} (${primary.name}) does not hold it`);
  // The pair page says the same, host by host.
  await page.getByTestId(`pair-${PAIR}`).getByRole("link", { name: PAIR }).click();
  await expect(page).toHaveURL(/\/pairs\//);
  await expect(page.getByTestId(`topology-${primary.hostName}`).getByTestId("vip-observed")).toContainText("not observed here");
  await expect(page.getByTestId(`topology-${backup.hostName}`).getByTestId("vip-observed")).toContainText("not observed here");
  await expect(page.getByTestId("vip-mismatch")).toContainText(`${primary.hostName} (${primary.name}) does not hold it`);

  await navigate(page, "Alarms");
  const row = page.getByTestId(`alarm-row-vip-mismatch-${primary.name}`);
  await expect(row).toContainText("major");
  await expect(row).toContainText(`is not on ${primary.hostName}, where the intended primary ${primary.name} runs`);

  // Put back: the banner goes and the alarm is cleared.
  await navigate(page, "Lab");
  await page.getByRole("button", { name: `Put the VIP of ${PAIR} on ${primary.hostName}` }).click();
  await navigate(page, "Alarms");
  await expect(row).toHaveCount(0, { timeout: 45_000 });
  await navigate(page, "Dashboard");
  await expect(card.getByTestId(`server-${primary.name}`).getByTestId("vip-observed")).toContainText("VIP observed here", { timeout: 30_000 });
  await expect(card.getByTestId("vip-mismatch")).toHaveCount(0);
});

test("a disconnected host's values are shown muted as last known, with their age; back, they are live again", async ({ page }) => {
  await login(page, operator);
  const { backup } = await primaryAndBackup(page.request);
  const cell = pairCard(page).getByTestId(`server-${backup.name}`);
  await expect(cell.getByTestId("last-known")).toHaveCount(0, { timeout: 30_000 });
  // The backup's host: cutting it off moves no role.
  await trpcMutation(page.request, "lab.host", { host: backup.hostName, connected: false });
  try {
    await expect(cell).toHaveAttribute("data-host-connection", "disconnected", { timeout: 30_000 });
    await expect(cell.getByTestId("last-known")).toContainText(/last known values from its last heartbeat, \d+ s ago/);
    await expect(cell.getByTestId("vip-observed")).toContainText(/last known \(\d+ s ago\): not observed here/);
    await expect(cell.getByTestId("server-values")).toHaveClass(/opacity-60/);
  } finally {
    await trpcMutation(page.request, "lab.host", { host: backup.hostName, connected: true });
  }
  await expect(cell).toHaveAttribute("data-host-connection", "connected", { timeout: 30_000 });
  await expect(cell.getByTestId("last-known")).toHaveCount(0);
  await expect(cell.getByTestId("server-values")).not.toHaveClass(/opacity-60/);
});
