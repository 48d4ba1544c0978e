// Browser tests of the dashboard's table view (issue 14.5) and of rough edges a new operator hit
// (issue 14.6): one row per pair, sortable and filterable, the card opening under its row, the view kept
// in the address; a viewer told "not permitted" on admin pages; the Lab page showing which faults are on.
import { expect, test } from "@playwright/test";
import { login, signInAndEnsureUsers } from "./helpers";

const viewer = { username: "e2e-table-viewer", password: "e2e-table-viewer-pw-1" };

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ playwright, baseURL }) => {
  const request = await playwright.request.newContext({ baseURL });
  await signInAndEnsureUsers(request, [{ ...viewer, role: "viewer" }]);
  await request.dispose();
});

test("the table view: a row per pair, filtered and sorted, the card under its row, kept in the address", async ({ page }) => {
  await login(page);
  await page.getByRole("group", { name: "Dashboard view" }).getByRole("button", { name: "Table" }).click();
  await expect(page).toHaveURL(/[?&]view=table/);
  const table = page.getByTestId("pair-table");
  const row = (name: string) => table.getByTestId(`pair-row-${name}`);
  await expect(row("pair-a-iptakeover")).toBeVisible({ timeout: 45_000 });
  await expect(row("pair-b-nlb").getByTestId("primary")).toContainText(/sip-b[12] lab-host-[34]/, { timeout: 45_000 });
  await expect(row("pair-b-nlb")).toContainText("nlb-cluster");
  await expect(row("pair-b-nlb").getByTestId("vip")).toContainText(/NLB port on lab-host-[34]/);
  await expect(row("pair-c-single").getByTestId("vip")).toHaveText("—");

  // Sorted by name, then the other way round.
  const sortBy = (column: string) => table.locator("thead").getByRole("button", { name: new RegExp(`^${column}`) }).click();
  const names = () => table.locator('[data-testid^="pair-row-"]').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-testid")!.slice("pair-row-".length)));
  await sortBy("Pair");
  await expect(table.getByRole("columnheader", { name: /Pair/ })).toHaveAttribute("aria-sort", "ascending");
  const ascending = await names();
  expect(ascending).toEqual([...ascending].sort());
  await sortBy("Pair");
  await expect.poll(names).toEqual([...ascending].reverse());

  // Filtered by HA type, then by a server's name.
  await page.getByLabel("HA type").selectOption("nlb-cluster");
  await expect.poll(names).toEqual(["pair-b-nlb"]);
  await page.getByLabel("HA type").selectOption("");
  await page.getByLabel("Search pairs").fill("sip-c2");
  await expect.poll(names).toEqual(["pair-c-single"]);
  await expect(page.getByTestId("pairs-shown")).toContainText(/^1 of \d+ pairs/);

  // The card is the detail: it opens under the row, and closes again.
  await row("pair-c-single").getByRole("button", { name: "Open the card of pair-c-single" }).click();
  await expect(table.getByTestId("pair-pair-c-single")).toBeVisible();
  await expect(table.getByTestId("server-sip-c2")).toBeVisible();
  await row("pair-c-single").getByRole("button", { name: "Close the card of pair-c-single" }).click();
  await expect(table.getByTestId("pair-pair-c-single")).toHaveCount(0);

  // The view is remembered: the dashboard opened again without it in the address shows the table.
  await page.goto("/");
  await expect(page).toHaveURL(/[?&]view=table/);
  await expect(page.getByTestId("pair-table")).toBeVisible();
  // The header's alarm badge says what its numbers are (no "(5/1/0)").
  await expect(page.getByTestId("alarm-badge")).not.toContainText("/");
  // And the pair's name leads to its page.
  await page.getByTestId("pair-table").getByRole("link", { name: "pair-b-nlb" }).click();
  await expect(page).toHaveURL(/\/pairs\/[^/?]+$/);
});

test("the HA pairs list links each pair to its page; no page asks for a favicon that is not there", async ({ page }) => {
  const missing: string[] = [];
  page.on("response", (r) => {
    if (r.status() === 404) missing.push(r.url());
  });
  await login(page);
  await page.goto("/pairs");
  await page.getByRole("table").getByRole("link", { name: "pair-a-iptakeover" }).click();
  await expect(page).toHaveURL(/\/pairs\/[^/?]+$/);
  await expect(page.getByText("pair-a-iptakeover").first()).toBeVisible();
  expect(missing).toEqual([]);
});

test("a viewer opening the Users or Export / import page is told it is not theirs, without forms", async ({ page }) => {
  await login(page, viewer);
  for (const [url, what] of [["/users", "The Users page"], ["/config", "Export / import"]] as const) {
    await page.goto(url);
    await expect(page.getByTestId("not-permitted")).toContainText(`${what} needs the admin role; you are signed in as ${viewer.username}, a viewer.`);
    await expect(page.locator("form")).toHaveCount(0);
  }
});

test("the Lab page shows which faults a server has on, and turns them off again", async ({ page }) => {
  await login(page);
  await page.goto("/lab");
  const server = page.getByTestId("lab-server-sip-c2");
  await expect(server.getByTestId("faults-on")).toHaveText("none", { timeout: 30_000 });
  await server.getByRole("button", { name: "Lose the console (W8)" }).click();
  await expect(server.getByTestId("faults-on")).toHaveText("console-lost");
  await server.getByRole("button", { name: "Console back" }).click();
  await expect(server.getByTestId("faults-on")).toHaveText("none");
});
