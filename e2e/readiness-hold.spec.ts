// Issue 18 on screen: a failover whose cause lets the primary keep its calls (W7, the SIP port cannot be
// bound) waits for a backup still synchronising calls, and says so live on the pair's card and in its
// timeline — "waiting for sip-c1 to synchronise N calls before switching". The soak's sequence on pair C
// of the demo lab: its primary holds 20,000 calls (live-replicated), crashes, its partner takes over, the
// crashed server comes back as backup and resyncs them in batches (500 a second: about 40 s); during the
// resync the new primary cannot bind its SIP port. The pair's failover hold is set on the HA pairs page
// (5 minutes here, so the hold cannot end before the page shows it however slow the machine), and put
// back to the default at the end. Earlier spec files move primaries around: the primary is looked up.
import { expect, test, type Page } from "@playwright/test";
import { login, navigate, settledPair as settled, trpcMutation, trpcQuery, type LiveServer } from "./helpers";

const PAIR = "pair-c-single";
const CALLS = 20_000;
const HOLD_MS = 300_000;

type Hold = { cause: string; from: string; to: string; unsyncedCalls: number | null };
type Pair = { name: string; plan: unknown; hold: Hold | null; servers: LiveServer[] };

const pairView = async (page: Page) => (await trpcQuery<Pair[]>(page.request, "live.pairs")).find((x) => x.name === PAIR)!;
const settledPair = (page: Page) => settled(page, PAIR, 120_000);

/** Sets pair C's failover hold on the HA pairs page, as an admin would. */
async function setHold(page: Page, ms: number): Promise<void> {
  await navigate(page, "HA pairs");
  await page.getByTestId(`pair-row-${PAIR}`).getByRole("button", { name: "Edit" }).click();
  const form = page.getByRole("form", { name: "HA pair" });
  // The application choices load with the form: saving before they are there fails the form's own check.
  for (const which of ["Primary application", "Backup application"]) await expect(form.getByLabel(which)).not.toHaveValue("");
  await form.getByLabel("Failover hold (ms)").fill(String(ms));
  await form.getByRole("button", { name: "Save pair" }).click();
  await expect(form).toBeHidden();
}

function pairCard(page: Page) {
  return page.locator("section").filter({ has: page.getByTestId(`pair-${PAIR}`) });
}

test("#18 W7 during a restarted backup's resync: the failover waits, and the card and the timeline say for whom, how many calls and how long at most", async ({ page }) => {
  test.setTimeout(480_000);
  await login(page);
  await setHold(page, HOLD_MS);
  try {
    const { primary, backup } = await settledPair(page);
    expect((await trpcQuery<{ failoverHoldMs: number; name: string }[]>(page.request, "pairs.list")).find((p) => p.name === PAIR)!.failoverHoldMs).toBe(HOLD_MS);

    // Alarms raised (or raised again) from here on are this test's: an earlier spec's forced switchover of
    // the same lab pair may have left a double-failure alarm active.
    const startedAtMs = Date.now();
    await trpcMutation(page.request, "lab.calls", { application: primary.name, count: CALLS });
    await trpcMutation(page.request, "lab.fault", { application: primary.name, kind: "crash", on: true });
    // The partner takes over; the crashed server is started again as backup and resyncs the calls.
    await expect.poll(async () => (await pairView(page)).servers.find((s) => s.name === backup.name)!.role, { timeout: 60_000 }).toBe("primary");
    await expect
      .poll(
        async () => {
          const s = (await pairView(page)).servers.find((x) => x.name === primary.name)!;
          return s.role === "backup" && s.haLink === "up" && s.readyForSwitchover === 0 && s.notReadyReasons.some((r) => /calls not yet received/.test(r));
        },
        { timeout: 90_000 },
      )
      .toBe(true);

    await trpcMutation(page.request, "lab.fault", { application: backup.name, kind: "bind-fail", on: true });
    try {
      await page.goto("/");
      const card = pairCard(page);
      const banner = card.getByTestId("failover-hold");
      await expect(banner).toBeVisible({ timeout: 60_000 });
      await expect(banner).toContainText(`Failover held: ${backup.name} cannot open its SIP port; waiting for ${primary.name} to synchronise`);
      await expect(banner).toContainText(/synchronise [\d,]+ calls before switching, at most until/);
      await expect(card.getByTestId("situation")).toContainText(new RegExp(`waiting for ${primary.name} to synchronise [\\d,]+ calls before switching(, at most| \\(\\d+ s of at most) ${HOLD_MS / 1000} s`));
      await card.getByRole("button", { name: "Timeline" }).click();
      await expect(card.getByTestId("timeline")).toContainText(
        new RegExp(`${backup.name} cannot open its SIP listening port \\(00-04200\\), but ${primary.name} is not ready for switchover .*: waiting for ${primary.name} to synchronise [\\d,]+ calls before switching, at most ${HOLD_MS / 1000} s`),
      );

      // Once it holds every call it takes over: the banner goes, no call was lost, no double failure.
      await expect(banner).toBeHidden({ timeout: 180_000 });
      await expect(card.getByTestId("timeline")).toContainText(new RegExp(`${primary.name} promoted to primary and ${backup.name} demoted because ${backup.name} cannot open its SIP listening port.*; ${primary.name} became ready after \\d+ s of waiting`), { timeout: 30_000 });
      const alarms = await trpcQuery<{ source: string; pair: string | null; lastSeen: string | Date }[]>(page.request, "alarms.active");
      expect(alarms.filter((a) => a.source === "double-failure" && a.pair === PAIR && new Date(a.lastSeen).getTime() >= startedAtMs)).toEqual([]);
    } finally {
      await trpcMutation(page.request, "lab.fault", { application: backup.name, kind: "bind-fail", on: false });
    }
    await settledPair(page);
  } finally {
    await setHold(page, 30_000);
  }
});
