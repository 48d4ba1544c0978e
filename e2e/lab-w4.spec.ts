// W4 shown from the Lab page alone, against the demo lab of the browser tests: pair A's servers watch
// their SIP traffic (sip-pass-check, service DN 7001 pinged at the lab's SIP gateway). Pressing
// "Unplug SIP NIC (W4)" on pair A's primary makes it hear nothing, not even the gateway's answers: it
// reports SERVICE_UNAVAILABLE and the dashboard shows the pair switched over; "Plug SIP NIC back" leaves
// it healthy on the other server. Pairs without a service DN say on their button why W4 cannot happen
// there. Earlier spec files move primaries around: the primary is looked up.
import { expect, test, type Page } from "@playwright/test";
import { login, navigate, settledPair as settled, signInAndEnsureUsers } from "./helpers";

const operator = { username: "e2e-w4-operator", password: "e2e-w4-operator-pass" };
const PAIR = "pair-a-iptakeover";
const settledPair = (page: Page) => settled(page, PAIR);

function pairCard(page: Page) {
  return page.locator("section").filter({ has: page.getByTestId(`pair-${PAIR}`) });
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ playwright, baseURL }) => {
  const request = await playwright.request.newContext({ baseURL });
  await signInAndEnsureUsers(request, [{ ...operator, role: "operator" }]);
  await request.dispose();
});

test("W4 from the Lab page: unplugging pair A's primary SIP NIC switches the pair over on the dashboard; plugging it back leaves it healthy", async ({ page }) => {
  test.setTimeout(240_000);
  await login(page, operator);
  const { primary, backup } = await settledPair(page);

  await navigate(page, "Lab");
  // The gateway behind pair A's service DN answers its primary's pings.
  const gateway = page.getByRole("table", { name: "Lab SIP gateways" }).getByRole("row").filter({ hasText: "sip-a1, sip-a2" });
  await expect(gateway).toContainText("answering");
  await expect.poll(async () => Number(await gateway.getByTestId("gateway-answered").textContent()), { timeout: 30_000 }).toBeGreaterThan(0);
  // A pair without a service DN: its button is not W4 and says why.
  const b1 = page.getByTestId("lab-server-sip-b1");
  await expect(b1.getByRole("button", { name: "Unplug SIP NIC", exact: true })).toBeVisible();
  await expect(b1.getByTestId("w4-note")).toHaveText("No W4 here: no service DN with oos-check, so nothing watches this server's SIP traffic.");
  // Pair A's backup can be unplugged too, but W4 acts only on the primary.
  await expect(page.getByTestId(`lab-server-${backup.name}`).getByTestId("w4-note")).toHaveText("W4 acts while this server is primary (a backup does not watch its traffic).");

  const row = page.getByTestId(`lab-server-${primary.name}`);
  await expect(row.getByTestId("w4-note")).toHaveCount(0);
  await row.getByRole("button", { name: "Unplug SIP NIC (W4)" }).click();
  await expect(row.getByTestId("faults-on")).toContainText("sip-silent");
  await expect(row.getByRole("button", { name: "Plug SIP NIC back" })).toBeVisible();

  // The dashboard: the other server is primary, the VIP moved with it, and the timeline says why.
  await page.goto("/");
  const card = pairCard(page);
  await expect(card.getByTestId(`server-${backup.name}`).getByTestId("role")).toHaveText("primary", { timeout: 60_000 });
  await expect(card.getByTestId(`server-${primary.name}`).getByTestId("role")).toHaveText("backup");
  await expect(card.getByTestId(`server-${backup.name}`).getByTestId("vip")).toContainText("VIP here", { timeout: 30_000 });
  await card.getByRole("button", { name: "Timeline" }).click();
  await expect(card.getByTestId("timeline")).toContainText(`${backup.name} promoted to primary and ${primary.name} demoted because ${primary.name} reported SERVICE_UNAVAILABLE`);

  // Plug it back: the fault is gone and the pair is healthy, the new primary staying.
  await navigate(page, "Lab");
  await row.getByRole("button", { name: "Plug SIP NIC back" }).click();
  await expect(row.getByTestId("faults-on")).toHaveText("none");
  const after = await settledPair(page);
  expect(after.primary.name).toBe(backup.name);
});
