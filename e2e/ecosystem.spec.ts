// Issue 16 in the browser: an admin creates an API token on the Users page (shown once) that the REST
// API then accepts; the audit log and the alarm history download as CSV with the page's filters.
import { expect, test } from "@playwright/test";
import fs from "node:fs";
import { login, navigate, trpcMutation, trpcQuery } from "./helpers";

test("an admin creates an API token, sees it once, and the REST API accepts it; revoking it ends that", async ({ page, request }) => {
  await login(page);
  await navigate(page, "Users");
  await page.getByLabel("Token name").fill("e2e-robot");
  await page.getByLabel("Token role").selectOption("operator");
  await page.getByRole("button", { name: "Create API token" }).click();
  const token = (await page.getByTestId("new-api-token").textContent())!.trim();
  expect(token).toMatch(/^syt_/);
  await expect(page.getByTestId("api-token-e2e-robot")).toContainText("operator");
  const me = await request.get("/api/v1/whoami", { headers: { authorization: `Bearer ${token}` } });
  expect(await me.json()).toMatchObject({ username: "token:e2e-robot", role: "operator" });
  // The page's own session cookie opens nothing on the REST API.
  expect((await page.request.get("/api/v1/status")).status()).toBe(401);

  page.once("dialog", (d) => void d.accept());
  await page.getByTestId("api-token-e2e-robot").getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByTestId("api-token-e2e-robot")).toContainText("revoked");
  expect((await request.get("/api/v1/whoami", { headers: { authorization: `Bearer ${token}` } })).status()).toBe(401);
});

test("the audit log downloads as CSV with the page's filters", async ({ page }) => {
  await login(page);
  await navigate(page, "Audit");
  await page.getByLabel("Action starts with").fill("api-token");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
  expect(download.suggestedFilename()).toMatch(/^switchyard-audit-\d{8}T\d{6}Z\.csv$/);
  const lines = fs.readFileSync((await download.path())!, "utf8").trimEnd().split("\r\n");
  expect(lines[0]).toBe("at,actor,action,objectType,objectName,objectId,detail,before,after,id");
  // The first test created and revoked a token; logins and the rest are left out by the filter.
  expect(lines.length).toBeGreaterThan(2);
  expect(lines.slice(1).every((l) => l.includes(",api-token."))).toBe(true);
  await expect(page.getByRole("status").filter({ hasText: "audit entries saved as" })).toBeVisible();
});

test("the alarm history downloads as JSON with the page's severity and application filters", async ({ page }) => {
  await login(page);
  // Cleared alarms of an application no other test uses: a critical one, a major one, and a critical one
  // of a second application. Only the first matches both filters.
  const stamp = Date.now().toString(36);
  const app = `e2e-export-${stamp}`;
  const other = `e2e-other-${stamp}`;
  const inject = (application: string, id: string) => trpcMutation(page.request, "alarms.injectLogEvent", { host: "e2e-host", application, id, text: `export test ${id}` });
  await inject(app, "00-04200");
  await inject(app, "00-52027");
  await inject(other, "00-04200");
  const active = await trpcQuery<{ id: string; application: string }[]>(page.request, "alarms.active");
  const mine = active.filter((a) => a.application === app || a.application === other);
  expect(mine).toHaveLength(3);
  for (const a of mine) await trpcMutation(page.request, "alarms.clear", { id: a.id, comment: "export test" });

  await navigate(page, "Alarms");
  await page.getByRole("tab", { name: "History" }).click();
  await page.getByLabel("Severity").selectOption("critical");
  await page.getByLabel("Application").fill(app);
  await expect(page.getByTestId(`history-row-00-04200-${app}`)).toBeVisible();
  await expect(page.getByTestId(`history-row-00-52027-${app}`)).toHaveCount(0);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download JSON" }).click()]);
  expect(download.suggestedFilename()).toMatch(/^switchyard-alarm-history-.*\.json$/);
  const rows = JSON.parse(fs.readFileSync((await download.path())!, "utf8")) as { severity: string; application: string; source: string }[];
  expect(rows.map((r) => [r.severity, r.application, r.source])).toEqual([["critical", app, "00-04200"]]);
});
