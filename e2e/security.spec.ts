// Browser tests of the hostile-input findings (#13) that only a real browser shows: the Content-Security-
// Policy lets every page of the console run (no CSP violation on any page the other tests visit) while
// each page gets its own nonce, and the login page's next= never leads to another site.
import { expect, test, type ConsoleMessage, type Page } from "@playwright/test";
import { e2eAdmin } from "../playwright.config";
import { login, navigate } from "./helpers";

/** Every message the browser logs about the page's CSP, whatever the page does meanwhile. */
function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  const note = (text: string) => {
    if (/Content Security Policy|Content-Security-Policy|Refused to (execute|load|apply|connect|frame)/i.test(text)) seen.push(text);
  };
  page.on("console", (m: ConsoleMessage) => note(m.text()));
  page.on("pageerror", (e) => note(e.message));
  return seen;
}

test("#13.9 every page runs under the Content-Security-Policy: a fresh nonce per page and no CSP violation", async ({ page }) => {
  const violations = cspViolations(page);
  const first = await page.goto("/login");
  const second = await page.request.get("/login");
  const policy = first!.headers()["content-security-policy"] ?? "";
  expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'(;|$)/);
  expect(policy).toMatch(/frame-ancestors 'none'/);
  expect(first!.headers()["x-frame-options"]).toBe("DENY");
  expect(first!.headers()["x-content-type-options"]).toBe("nosniff");
  expect(first!.headers()["referrer-policy"]).toBe("same-origin");
  const nonceOf = (p: string) => /'nonce-([^']+)'/.exec(p)?.[1];
  expect(nonceOf(second.headers()["content-security-policy"] ?? "")).not.toBe(nonceOf(policy));
  // Next.js marked its inline scripts with this response's nonce (none runs without it).
  const inline = await page.locator("script:not([src])").evaluateAll((scripts) => scripts.map((s) => (s as HTMLScriptElement).nonce));
  expect(inline.length).toBeGreaterThan(0);
  expect(new Set(inline)).toEqual(new Set([nonceOf(policy)]));

  await login(page);
  for (const name of ["HA pairs", "Alarms", "Applications", "Hosts", "Options", "Audit", "Lab", "Users", "Export / import", "Dashboard"]) {
    await navigate(page, name);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  }
  // A full load of a signed-in page and of a detail page, not only client-side navigation.
  await page.goto("/alarms/conditions");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await page.goto("/log-events");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  const pairs = (await (await page.request.get("/api/trpc/pairs.list")).json()) as { result: { data: { json: { id: string; primaryApp: { id: string } }[] } } };
  const pair = pairs.result.data.json[0]!;
  for (const detail of [`/pairs/${pair.id}`, `/applications/${pair.primaryApp.id}`]) {
    await page.goto(detail);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  }
  expect(violations).toEqual([]);
});

test("#13.2 after login, next= leads only to a path of this console", async ({ page, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  await page.goto("/login?next=/%5Cevil.example/x");
  await page.getByLabel("Username").fill(e2eAdmin.username);
  await page.getByLabel("Password").fill(e2eAdmin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("current-user")).toContainText(e2eAdmin.username);
  expect(new URL(page.url()).origin).toBe(origin);
  expect(new URL(page.url()).pathname).toBe("/");
  // A path of the console is kept.
  await page.goto("/login?next=%2Fhosts");
  await page.getByLabel("Username").fill(e2eAdmin.username);
  await page.getByLabel("Password").fill(e2eAdmin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${origin}/hosts`);
});
