// Browser test of what reaches the servers (lab: real agents, simulated SIP Servers): on an application's
// page the operator sees its restart policy (and edits it), the configured and the running value of each
// option side by side, "restart needed" for an after-restart option until the server is restarted, and
// then the new value running. A delivery that fails (the server hangs) is shown on its page and raises the
// config-delivery-failed alarm; the next delivery that works clears both.
import { expect, test } from "@playwright/test";
import { login, navigate, primaryAndBackup, trpcMutation } from "./helpers";

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

test("a delivery that fails is shown on the application and raises an alarm; the next one that works clears both", async ({ page }) => {
  await login(page);
  // The backup of the pair, so its hang moves no role; the earlier test restarted sip-c1, so it is looked up.
  const { backup } = await primaryAndBackup(page.request, "pair-c-single");
  const open = async () => {
    await navigate(page, "Applications");
    await page.getByRole("link", { name: backup.name, exact: true }).click();
  };
  const alarmRow = page.getByTestId(`alarm-row-config-delivery-failed-${backup.name}`);
  await trpcMutation(page.request, "lab.fault", { application: backup.name, kind: "hang", on: true });
  try {
    await open();
    await expect(page.getByTestId("running-sip-pass-check")).toContainText("in effect", { timeout: 30_000 });
    await page.getByLabel("sip-pass-check").fill("true");
    await page.getByRole("button", { name: /Save 1 change/ }).click();
    await expect(page.getByTestId("delivery")).toContainText("failed", { timeout: 45_000 });
    const row = page.getByTestId("running-sip-pass-check");
    await expect(row).toContainText("not delivered");
    await expect(row).toContainText(/not delivered: the last delivery \(revision \d+\) failed: /);
    await navigate(page, "Alarms");
    await expect(alarmRow).toContainText("major");
    await expect(alarmRow).toContainText(new RegExp(`configuration \\d+ did not reach ${backup.name} on ${backup.hostName}: `));
  } finally {
    await trpcMutation(page.request, "lab.fault", { application: backup.name, kind: "hang", on: false });
  }

  // The server answers again: the next change is delivered, the page says so and the alarm is cleared.
  await open();
  await page.getByLabel("sip-pass-check").fill("false");
  await page.getByRole("button", { name: /Save 1 change/ }).click();
  await expect(page.getByTestId("delivery")).toContainText("reloaded", { timeout: 45_000 });
  await expect(page.getByTestId("running-sip-pass-check")).toContainText("in effect");
  await expect(page.getByTestId("running-summary")).toContainText("running as configured");
  await navigate(page, "Alarms");
  await expect(alarmRow).toHaveCount(0, { timeout: 30_000 });
});
