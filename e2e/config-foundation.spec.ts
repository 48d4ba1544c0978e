// Browser test of the configuration store: log in, create a host and two applications, pair them,
// refuse an out-of-range option with the catalogue's message, save a valid one and see it audited.
import { expect, test } from "@playwright/test";
import { login, navigate } from "./helpers";

test("W12 config: create host, applications and pair; ha-max-calls-sync-at-once 1001 refused, 800 saved and audited", async ({ page }) => {
  await login(page);

  // A host with one NIC carrying management and SIP.
  await navigate(page, "Hosts");
  await page.getByRole("button", { name: "New host" }).click();
  const hostForm = page.getByRole("form", { name: "Host" });
  await hostForm.getByLabel("Host name").fill("e2e-host");
  await hostForm.getByLabel("NIC 1 address").fill("10.77.0.1");
  await hostForm.getByRole("button", { name: "Save host" }).click();
  await expect(page.getByTestId("host-row-e2e-host")).toBeVisible();

  // Two SIP Server applications on it.
  await navigate(page, "Applications");
  for (const [name, port] of [["e2e-sip-1", "5060"], ["e2e-sip-2", "5062"]] as const) {
    await page.getByRole("button", { name: "New application" }).click();
    const form = page.getByRole("form", { name: "Application" });
    await form.getByLabel("Application name").fill(name);
    await form.getByLabel("Host").selectOption({ label: "e2e-host" });
    await form.getByLabel("SIP port").fill(port);
    await form.getByRole("button", { name: "Save application" }).click();
    await expect(page.getByTestId(`app-row-${name}`)).toBeVisible();
  }

  // Paired on one host: the single-host HA type.
  await navigate(page, "HA pairs");
  await page.getByRole("button", { name: "New pair" }).click();
  const pairForm = page.getByRole("form", { name: "HA pair" });
  await pairForm.getByLabel("Pair name").fill("e2e-pair");
  await pairForm.getByLabel("HA type").selectOption("single-host");
  await pairForm.getByLabel("Primary application").selectOption({ label: "e2e-sip-1 (sip-server on e2e-host)" });
  await pairForm.getByLabel("Backup application").selectOption({ label: "e2e-sip-2 (sip-server on e2e-host)" });
  await pairForm.getByRole("button", { name: "Save pair" }).click();
  await expect(page.getByTestId("pair-row-e2e-pair")).toContainText("e2e-sip-1");

  // Options editor: 1001 is refused with the catalogue's message and nothing is saved.
  await navigate(page, "Applications");
  await page.getByRole("link", { name: "e2e-sip-1" }).click();
  const field = page.getByLabel("ha-max-calls-sync-at-once");
  await field.fill("1001");
  await page.getByRole("button", { name: /Save 1 change/ }).click();
  await expect(page.getByRole("alert").filter({ hasText: "ha-max-calls-sync-at-once=1001 is out of range 200–1000" }).first()).toBeVisible();
  await page.reload();
  await expect(page.getByLabel("ha-max-calls-sync-at-once")).toHaveValue("");

  // 800 is saved.
  await page.getByLabel("ha-max-calls-sync-at-once").fill("800");
  await page.getByRole("button", { name: /Save 1 change/ }).click();
  await expect(page.getByTestId("option-row-ha-max-calls-sync-at-once")).toContainText("stored: 800");
  await page.reload();
  await expect(page.getByLabel("ha-max-calls-sync-at-once")).toHaveValue("800");

  // And audited, with who and the new value.
  await navigate(page, "Audit");
  await page.getByLabel("Action starts with").fill("option.set");
  const row = page.getByTestId("audit-row").filter({ hasText: "TServer/ha-max-calls-sync-at-once" });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("e2e-admin");
  await expect(row).toContainText('{"value":"800"}');

  // An option the catalogue does not know is kept and flagged.
  await navigate(page, "Applications");
  await page.getByRole("link", { name: "e2e-sip-2" }).click();
  await page.getByLabel("Custom option name").fill("my-site-option");
  await page.getByLabel("Custom option value").fill("42");
  await page.getByRole("button", { name: "Add option" }).click();
  await expect(page.getByTestId("unknown-option-my-site-option")).toContainText("unknown to the catalogue");
});

test("a wrong password is refused with a clear message", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Username").fill("e2e-admin");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "wrong username or password" })).toBeVisible();
});

test("pages need a login", async ({ page }) => {
  await page.goto("/hosts");
  await expect(page).toHaveURL(/\/login\?next=%2Fhosts/);
});

test("a host's own heartbeat: a timeout under three intervals refused with the rule's reason, the fast profile saved and shown", async ({ page }) => {
  await login(page);
  await navigate(page, "Hosts");
  await page.getByRole("button", { name: "New host" }).click();
  const hostForm = page.getByRole("form", { name: "Host" });
  await hostForm.getByLabel("Host name").fill("e2e-fast-host");
  await hostForm.getByLabel("NIC 1 address").fill("10.77.0.2");
  await hostForm.getByLabel("Heartbeat interval (ms)").fill("100");
  await hostForm.getByLabel("Heartbeat timeout (ms)").fill("250");
  await hostForm.getByRole("button", { name: "Save host" }).click();
  await expect(hostForm).toContainText("must be at least 3 heartbeat intervals (300 ms)");
  await hostForm.getByLabel("Heartbeat timeout (ms)").fill("600");
  await hostForm.getByRole("button", { name: "Save host" }).click();
  await expect(page.getByTestId("heartbeat-e2e-fast-host")).toHaveText("heartbeat every 100 ms, lost after 600 ms");
});
