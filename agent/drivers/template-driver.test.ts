// Unit tests for the nlb / command drivers: templates become argv, failures and hangs are reported.
import { describe, expect, it } from "vitest";
import { pairConfigSchema } from "../../protocol/agent-wire";
import { createDriver } from ".";

const node = process.execPath;
function driverWith(driver: object, scriptTimeoutMs = 10_000) {
  const pair = pairConfigSchema.parse({ name: "pair-n", haType: "nlb-cluster", configuredRole: "primary", driver, scriptTimeoutMs });
  return { driver: createDriver({ hostName: "host1", application: "sip1", pair, stateDir: "/nonexistent" }), pair };
}

describe("template drivers", () => {
  it("nlb: runs the enable template with placeholders as single arguments; without a presence template presence is unknown", async () => {
    const { driver } = driverWith({
      kind: "nlb",
      vip: "10.1.2.3",
      port: 5060,
      cluster: "sip cluster",
      enable: `${node} -e "console.log(process.argv.slice(1).join('|'))" enable {vip}:{port} {cluster} {host} {pair}`,
      disable: `${node} -e "process.exit(2)"`,
    });
    const up = await driver.run("enable", 10_000);
    expect(up.ok).toBe(true);
    expect(up.steps[0]?.stdout).toBe("enable|10.1.2.3:5060|sip cluster|host1|pair-n\n");
    expect(up.summary).toContain("NLB port 10.1.2.3:5060: enable succeeded on host1");
    // The run reports what its action did; presence is an observation, and there is nothing to observe with.
    expect(up.present).toBe(true);
    expect(await driver.presence(1000)).toEqual({ present: null, address: "10.1.2.3:5060", detail: "no presence template configured, so presence cannot be observed" });
    const down = await driver.run("disable", 10_000);
    expect(down.ok).toBe(false);
    expect(down.summary).toContain("disable failed on host1 (exit code 2)");
    expect(down.present).toBe(true);
  });

  it("command: a hanging script is killed at the pair's timeout and reported failed", async () => {
    const { driver } = driverWith({ kind: "command", enable: `${node} -e "setInterval(()=>{},1000)"`, disable: "true" }, 300);
    const r = await driver.run("enable", 300);
    expect(r.ok).toBe(false);
    expect(r.steps[0]?.timedOut).toBe(true);
    expect(r.summary).toContain("killed after 300 ms");
  });

  it("command: a presence template decides presence by exit code", async () => {
    const { driver } = driverWith({ kind: "command", vip: "10.9.9.9", enable: "true", disable: "true", presence: `${node} -e "process.exit(1)"` });
    expect(await driver.presence(5000)).toEqual({ present: false, address: "10.9.9.9", detail: "presence check exited 1" });
  });
});
