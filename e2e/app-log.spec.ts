// Browser test of issue 14.4 on the lab: a server that cannot start says why. The backup of the
// single-host pair is stopped, its HTTP port is taken by this test (as another program on the host would),
// and it is started from its card: the card shows the cause (EADDRINUSE) instead of only the exit code,
// its link opens the application's log (read through the host's agent), and the log — whole and searched —
// has the line. Then the port is given back and the server runs again. Waits are give-up limits.
import net from "node:net";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { login, trpcMutation, trpcQuery } from "./helpers";

const PAIR = "pair-c-single";
/** The lab's HTTP interfaces in the browser tests' block (scripts/e2e-lab.ts: 127.2.x.y; demo-config.yaml). */
const HTTP_ADDRESS: Record<string, { address: string; port: number }> = {
  "sip-c1": { address: "127.2.5.1", port: 17080 },
  "sip-c2": { address: "127.2.5.1", port: 17081 },
};
const WAIT_MS = 120_000;

interface ServerView {
  appId: string;
  name: string;
  role: string;
  status: string;
}

async function servers(request: APIRequestContext): Promise<ServerView[]> {
  const pairs = await trpcQuery<{ name: string; servers: ServerView[] }[]>(request, "live.pairs");
  return pairs.find((p) => p.name === PAIR)!.servers;
}

/** Waits until the pair has a running primary and a running backup; returns the backup. */
async function runningBackup(request: APIRequestContext): Promise<ServerView> {
  let backup: ServerView | undefined;
  await expect
    .poll(
      async () => {
        const s = await servers(request);
        backup = s.find((x) => x.role === "backup" && x.status === "running");
        return s.some((x) => x.role === "primary" && x.status === "running") && backup ? "both running" : JSON.stringify(s);
      },
      { timeout: WAIT_MS },
    )
    .toBe("both running");
  return backup!;
}

async function statusOf(request: APIRequestContext, name: string): Promise<string> {
  return (await servers(request)).find((s) => s.name === name)!.status;
}

test("a server that cannot start: the card says why (EADDRINUSE) and its log shows the line", async ({ page }) => {
  test.setTimeout(4 * WAIT_MS);
  await login(page);
  const request = page.request;
  const backup = await runningBackup(request);
  const { address, port } = HTTP_ADDRESS[backup.name]!;

  await trpcMutation(request, "live.application", { appId: backup.appId, action: "stop" });
  await expect.poll(() => statusOf(request, backup.name), { timeout: WAIT_MS }).toBe("stopped");

  // Another program takes the server's HTTP port on its host.
  // (The agent may connect to it, taking it for the server's interface: those connections are cut at the end.)
  const connections = new Set<net.Socket>();
  const squatter = net.createServer((socket) => {
    connections.add(socket);
    socket.on("close", () => connections.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    squatter.once("error", reject);
    squatter.listen(port, address, () => resolve());
  });
  try {
    await page.goto("/");
    const card = page.getByTestId(`server-${backup.name}`);
    await card.getByRole("button", { name: `Start ${backup.name}` }).click();
    const cause = card.getByTestId("failure-cause");
    await expect(cause).toContainText("EADDRINUSE", { timeout: WAIT_MS });
    await expect(cause).toContainText(`cannot open the HTTP interface on ${address}:${port}`);

    // The card's link to the whole log, read through the host's agent.
    await cause.getByRole("link", { name: `${backup.name}'s log` }).click();
    await expect(page).toHaveURL(new RegExp(`/applications/${backup.appId}/log$`));
    const text = page.getByTestId("log-text");
    await expect(text).toContainText(`sip-server-sim: cannot open the HTTP interface on ${address}:${port}: listen EADDRINUSE`, { timeout: WAIT_MS });

    // Searched: only the lines that have it, the match marked.
    await page.getByRole("search", { name: "Search the log" }).getByLabel("Search the log").fill("EADDRINUSE");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await expect(text.locator("mark").first()).toHaveText("EADDRINUSE", { timeout: WAIT_MS });
    // The search's own answer, not the tail shown while it was read.
    await expect(text).toHaveAttribute("aria-busy", "false");
    const lines = (await text.innerText()).split("\n").filter((l) => l.trim() !== "");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toContain("EADDRINUSE");
  } finally {
    const closed = new Promise((resolve) => squatter.close(resolve));
    for (const socket of connections) socket.destroy();
    await closed;
  }

  // The port given back: started again (its restart policy may have done it already), it runs as backup.
  await expect
    .poll(
      async () => {
        const status = await statusOf(request, backup.name);
        if (status === "failed" || status === "stopped") await trpcMutation(request, "live.application", { appId: backup.appId, action: "start" }).catch(() => undefined);
        return status;
      },
      { timeout: WAIT_MS, intervals: [2_000] },
    )
    .toBe("running");
  await page.goto("/");
  await expect(page.getByTestId(`server-${backup.name}`).getByTestId("failure-cause")).toHaveCount(0, { timeout: WAIT_MS });
});
