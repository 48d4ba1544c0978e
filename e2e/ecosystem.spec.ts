// Issue 16 in the browser: an admin creates an API token on the Users page (shown once) that the REST
// API then accepts; the audit log and the alarm history download as CSV with the page's filters.
import { expect, test } from "@playwright/test";
import fs from "node:fs";
import { login, navigate } from "./helpers";

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
  expect(lines.slice(1).every((l) => l.includes(",api-token."))).toBe(true);
  await expect(page.getByRole("status").filter({ hasText: "audit entries saved as" })).toBeVisible();
});

test("the alarm history downloads as JSON with its severity filter", async ({ page }) => {
  await login(page);
  await navigate(page, "Alarms");
  await page.getByRole("tab", { name: "History" }).click();
  await page.getByLabel("Severity").selectOption("minor");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download JSON" }).click()]);
  expect(download.suggestedFilename()).toMatch(/^switchyard-alarm-history-.*\.json$/);
  const rows = JSON.parse(fs.readFileSync((await download.path())!, "utf8")) as { severity: string }[];
  expect(rows.every((r) => r.severity === "minor")).toBe(true);
});
