// Runs one control-script driver action and prints the DriverRun as JSON, with `background`: what the
// driver did after its result (linux-ip's gratuitous ARPs), once that is done. The netns test runs it
// inside a host's network namespace (`ip netns exec`) so the real driver acts on that host.
// Usage: run-driver.ts enable|disable|presence|enable-after-deaths '<pair config JSON>' HOST
// enable-after-deaths: the processes the driver keeps (its waiting ip, the ARP helper) are killed
// first, then the enable runs once they have been started again; the output adds `children` (the
// command lines of this process's children before the kill, after the restart, and after close).
import fs from "node:fs";
import { pairConfigSchema } from "../../protocol/agent-wire";
import { createDriver } from "../drivers";

/** This process's children that the driver keeps (not a short-lived `arping --help`, nor a zombie). */
function children(): { pid: number; cmd: string }[] {
  const pids = fs
    .readdirSync(`/proc/${process.pid}/task`)
    .flatMap((tid) => fs.readFileSync(`/proc/${process.pid}/task/${tid}/children`, "utf8").trim().split(/\s+/))
    .filter(Boolean)
    .map(Number);
  return pids.flatMap((pid) => {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, 2).join(" ");
      return /^(ip|perl) /.test(cmd) ? [{ pid, cmd }] : [];
    } catch {
      return [];
    }
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(probe: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !probe(); i++) await sleep(20);
}

async function main(): Promise<void> {
  const [action, pairJson, host] = process.argv.slice(2);
  if (!action || !pairJson || !host) throw new Error("usage: run-driver.ts enable|disable|presence|enable-after-deaths PAIR_JSON HOST");
  const pair = pairConfigSchema.parse(JSON.parse(pairJson));
  const logs: string[] = [];
  const driver = createDriver({ hostName: host, application: "app", pair, stateDir: "/nonexistent", log: (l) => logs.push(l) });
  let seen: Record<string, { pid: number; cmd: string }[]> | null = null;
  if (action === "enable-after-deaths") {
    await until(() => children().length >= 2);
    const before = children();
    for (const c of before) process.kill(c.pid, "SIGKILL");
    // Both are started again after 1 s (the ip standby) and 1–2 s (the helper).
    await until(() => children().filter((c) => !before.some((b) => b.pid === c.pid)).length >= 2);
    await sleep(200);
    seen = { before, restarted: children() };
  }
  const out = action === "presence" ? await driver.presence(pair.scriptTimeoutMs) : await driver.run(action === "disable" ? "disable" : "enable", pair.scriptTimeoutMs);
  const background = action === "presence" ? [] : ((await driver.background?.()) ?? []);
  driver.close?.();
  if (seen) {
    await until(() => children().length === 0);
    seen.afterClose = children();
  }
  process.stdout.write(`${JSON.stringify({ ...out, background, logs, ...(seen ? { children: seen } : {}) })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
