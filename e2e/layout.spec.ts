// Browser tests of two layout rough edges (issue 14.6): a single-host pair's topology draws its host once
// (both servers in it, the HA link between them), a two-host pair's draws two hosts with the link between
// them; and the audit page's rows stay a line or two high, their columns not squeezed until text wraps at
// every character (50 rows were 4,000–10,000 px tall).
import { expect, test } from "@playwright/test";
import { login, trpcMutation, trpcQuery } from "./helpers";

test("topology: a single-host pair's host drawn once with both servers and the HA link inside; two hosts for a two-host pair", async ({ page }) => {
  await login(page);
  const pairs = await trpcQuery<{ id: string; name: string }[]>(page.request, "live.pairs");
  const idOf = (name: string) => pairs.find((p) => p.name === name)!.id;

  await page.goto(`/pairs/${idOf("pair-c-single")}`);
  const single = page.getByRole("figure", { name: "Topology of pair-c-single" });
  await expect(single.getByTestId("topology-lab-host-5")).toHaveCount(1);
  await expect(single.locator('[data-testid^="topology-"]')).toHaveCount(1);
  await expect(single.getByText("host lab-host-5", { exact: true })).toHaveCount(1);
  const host = single.getByTestId("topology-lab-host-5");
  await expect(host).toContainText("sip-c1");
  await expect(host).toContainText("sip-c2");
  await expect(host.getByLabel(/^HA link (up|down)$/)).toHaveCount(1);

  await page.goto(`/pairs/${idOf("pair-a-iptakeover")}`);
  const two = page.getByRole("figure", { name: "Topology of pair-a-iptakeover" });
  await expect(two.locator('[data-testid^="topology-"]')).toHaveCount(2);
  await expect(two.getByLabel(/^HA link (up|down)$/)).toHaveCount(1);
  for (const h of ["lab-host-1", "lab-host-2"]) await expect(two.getByTestId(`topology-${h}`).getByLabel(/^HA link/)).toHaveCount(0);
});

test("audit: 50 rows stay one or two lines each, no column wrapped per character", async ({ page }) => {
  await login(page);
  // Entries with long details (alarms raised from long log events, through the test hook) and long JSON
  // values (new users), beside the lab's own (its import, agent tokens, alarms). Before the fix such rows
  // were 57–121 px high (6,386 px for 50 at this width).
  const run = Date.now().toString(36);
  const long = "the SIP Server could not reach the configuration database and retried with a longer interval each time; ".repeat(3);
  for (let i = 0; i < 5; i++) await trpcMutation(page.request, "alarms.injectLogEvent", { host: "e2e-audit-host", application: `e2e-audit-${run}-${i}`, id: "00-04200", text: long });
  for (let i = 0; i < 45; i++) await trpcMutation(page.request, "users.create", { username: `e2e-audit-${run}-${i}`, password: "e2e-audit-password-1", role: "viewer" });
  await page.goto("/audit");
  const rows = page.getByTestId("audit-row");
  await expect(rows).toHaveCount(50);
  // The page has long values to lay out: a detail of over 100 characters (three lines or more in the old layout).
  const details = await rows.evaluateAll((trs) => trs.map((tr) => tr.children[4]?.textContent?.length ?? 0));
  expect(Math.max(...details)).toBeGreaterThan(100);
  // A line of the table's 12 px text is 16 px; a row with padding and two lines is under 48 px.
  const heights = await rows.evaluateAll((trs) => trs.map((tr) => tr.getBoundingClientRect().height));
  for (const h of heights) expect(h).toBeLessThan(48);
  const table = await page.getByRole("table", { name: "Audit entries" }).boundingBox();
  expect(table!.height).toBeLessThan(50 * 48 + 60);
  // The action and the actor are on one line: their cells are as high as one line of text (no per-character wrap).
  const first = rows.first();
  for (const cell of [first.locator("td").nth(1), first.locator("td").nth(2)]) {
    const lines = await cell.evaluate((td) => {
      const range = document.createRange();
      range.selectNodeContents(td);
      return range.getClientRects().length;
    });
    expect(lines).toBe(1);
  }
});
