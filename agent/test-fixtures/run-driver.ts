// Runs one control-script driver action and prints the DriverRun as JSON, with `background`: what the
// driver did after its result (linux-ip's gratuitous ARPs), once that is done. The netns test runs it
// inside a host's network namespace (`ip netns exec`) so the real driver acts on that host.
// Usage: run-driver.ts enable|disable|presence '<pair config JSON>' HOST
import { pairConfigSchema } from "../../protocol/agent-wire";
import { createDriver } from "../drivers";

async function main(): Promise<void> {
  const [action, pairJson, host] = process.argv.slice(2);
  if (!action || !pairJson || !host) throw new Error("usage: run-driver.ts enable|disable|presence PAIR_JSON HOST");
  const pair = pairConfigSchema.parse(JSON.parse(pairJson));
  const driver = createDriver({ hostName: host, application: "app", pair, stateDir: "/nonexistent" });
  const out = action === "presence" ? await driver.presence(pair.scriptTimeoutMs) : await driver.run(action === "enable" ? "enable" : "disable", pair.scriptTimeoutMs);
  const background = action === "presence" ? [] : ((await driver.background?.()) ?? []);
  process.stdout.write(`${JSON.stringify({ ...out, background })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
