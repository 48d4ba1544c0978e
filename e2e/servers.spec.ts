// Browser test of what reaches the servers (lab: real agents, simulated SIP Servers): on an application's
// page the operator sees its restart policy (and edits it), the configured and the running value of each
// option side by side, "restart needed" for an after-restart option until the server is restarted, and
// then the new value running.
import { expect, test } from "@playwright/test";
import { login, navigate } from "./helpers";

test("options delivered: configured vs running, restart needed until a restart; the restart policy in the editor", async ({ page }) => {
  page.on("dialog", (dialog) => void dialog.accept());
  await login(page);
  await navigate(page, "Applications");
  await page.getByRole("link", { name: "sip-c1", exact: true }).click();

  // Configured and running side by side, once the server reported what it runs with.
  await expect(page.getByLabel("http-port")).toHaveValue("17080");
  const httpPort = page.getByTestId("running-http-port");
  await expect(httpPort).toContainText("running: 17080", { timeout: 30_000 });
  await expect(httpPort).toContainText("in effect");
  await expect(page.getByTestId("running-summary")).toContainText("running as configured");

  // The restart policy: shown on the page, edited in the application's settings.
  await expect(page.getByTestId("restart-policy")).toContainText("on: up to 5 restarts within 600 s, the first after 1 s, each next ×2 up to 60 s");
  await page.getByRole("button", { name: "Edit settings" }).click();
  const form = page.getByRole("form", { name: "Application" });
  await expect(form.getByLabel("Restart automatically")).toBeChecked();
  await expect(form.getByLabel("Maximum restarts")).toHaveValue("5");
  await form.getByLabel("Maximum restarts").fill("3");
  await form.getByLabel("Startup timeout (ms)").fill("45000");
  await form.getByRole("button", { name: "Save application" }).click();
  await expect(page.getByTestId("restart-policy")).toContainText("on: up to 3 restarts within 600 s");
  await expect(page.getByTestId("server-card")).toContainText("startup timeout 45 s");

  // A value the agents would take but the rules refuse is refused with the rule.
  await page.getByRole("button", { name: "Edit settings" }).click();
  await form.getByLabel("Delay multiplier").fill("20");
  await form.getByRole("button", { name: "Save application" }).click();
  await expect(form.getByRole("alert").filter({ hasText: "20 is above the allowed 1–10" }).first()).toBeVisible();
  await form.getByRole("button", { name: "Cancel" }).click();

  // An after-restart option: delivered, but the running server keeps its value until it restarts.
  await page.getByLabel("backup-sip-port-check").fill("true");
  await page.getByRole("button", { name: /Save 1 change/ }).click();
  const portCheck = page.getByTestId("running-backup-sip-port-check");
  await expect(portCheck).toContainText("restart needed", { timeout: 30_000 });
  await expect(portCheck).toContainText("takes effect at restart — restart needed");
  await expect(portCheck).toContainText("running: default (false)");
  await expect(page.getByTestId("running-summary")).toContainText("1 option differs from the configuration");

  // Restarted from the page: the new value runs.
  await page.getByRole("button", { name: "Restart sip-c1" }).click();
  await expect(portCheck).toContainText("running: true", { timeout: 60_000 });
  await expect(portCheck).toContainText("in effect");
  await expect(page.getByTestId("running-summary")).toContainText("running as configured");
});
