// Shared steps for browser tests.
import { expect, type APIRequestContext, type Page } from "@playwright/test";
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

/** A tRPC mutation over HTTP as the request's session; throws with the answer when refused. */
export async function trpcMutation(request: APIRequestContext, path: string, input: unknown): Promise<unknown> {
  const res = await request.post(`/api/trpc/${path}`, { data: { json: input } });
  const body = await res.json();
  if (!res.ok()) throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body;
}

/** A tRPC query over HTTP as the request's session; its result. */
export async function trpcQuery<T>(request: APIRequestContext, path: string, input?: unknown): Promise<T> {
  const res = await request.get(`/api/trpc/${path}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`}`);
  const body = await res.json();
  if (!res.ok()) throw new Error(`${path}: ${JSON.stringify(body)}`);
  return (body as { result: { data: { json: T } } }).result.data.json;
}

/**
 * Signs `request` in as the e2e admin and creates each user that does not exist yet: every spec runs
 * against the one e2e console, and a spec run again (or after another) finds its users already there.
 */
export async function signInAndEnsureUsers(request: APIRequestContext, users: readonly { username: string; password: string; role: "viewer" | "operator" | "admin" }[]): Promise<void> {
  await trpcMutation(request, "auth.login", e2eAdmin);
  for (const user of users) {
    await trpcMutation(request, "users.create", user).catch((e: Error) => {
      if (!/already exists/.test(e.message)) throw e;
    });
  }
}

/** A server as the live pair views give it (the fields the browser tests read). */
export type LiveServer = { name: string; hostName: string; role: string; status: string; hostConnection: string; readyForSwitchover: number | null; haLink: string; notReadyReasons: string[] };

/** A pair once it is settled: no role change under way, both running and connected, the backup ready to take over. */
export async function settledPair(page: Page, pairName: string, timeoutMs = 90_000): Promise<{ primary: LiveServer; backup: LiveServer }> {
  let found: { primary: LiveServer; backup: LiveServer } | null = null;
  await expect
    .poll(
      async () => {
        const p = (await trpcQuery<{ name: string; plan: unknown; servers: LiveServer[] }[]>(page.request, "live.pairs")).find((x) => x.name === pairName)!;
        const primary = p.servers.find((s) => s.role === "primary");
        const backup = p.servers.find((s) => s.role === "backup");
        const ok = p.plan === null && !!primary && !!backup && p.servers.every((s) => s.status === "running" && s.hostConnection === "connected") && backup.readyForSwitchover === 1;
        found = ok ? { primary: primary!, backup: backup! } : null;
        return ok;
      },
      { timeout: timeoutMs },
    )
    .toBe(true);
  return found!;
}

export type PairServer = { name: string; hostName: string; role: string; hostConnection: string };

/** The pair's one primary and its backup, once the controller has settled on them (earlier specs move primaries around). */
export async function primaryAndBackup(request: APIRequestContext, pair: string): Promise<{ primary: PairServer; backup: PairServer }> {
  let found: { primary: PairServer; backup: PairServer } | null = null;
  await expect
    .poll(
      async () => {
        const pairs = await trpcQuery<{ name: string; plan: unknown; servers: PairServer[] }[]>(request, "live.pairs");
        const p = pairs.find((x) => x.name === pair)!;
        const primaries = p.servers.filter((s) => s.role === "primary");
        const ok = p.plan === null && primaries.length === 1 && p.servers.every((s) => s.hostConnection === "connected");
        found = ok ? { primary: primaries[0]!, backup: p.servers.find((s) => s !== primaries[0])! } : null;
        return ok;
      },
      { timeout: 45_000 },
    )
    .toBe(true);
  return found!;
}
