// Shared steps for browser tests.
import { expect, type Page } from "@playwright/test";
import { e2eAdmin } from "../playwright.config";

export async function login(page: Page, user = e2eAdmin) {
  await page.goto("/login");
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("current-user")).toContainText(user.username);
}

/** Follows a link of the main navigation (pages also link to each other; this one is unambiguous). */
export async function navigate(page: Page, name: string) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();
}
