// Real network (runs as root, like the agent's linux-ip test): one simulated server in a network namespace
// of its own whose VIP is put on the interface only after the server was promoted, as the agent's linux-ip
// driver does. The server waits for the address (EADDRNOTAVAIL, retried quickly) instead of reporting a
// W7 bind failure, then answers OPTIONS on the VIP from a client in the same namespace. Everything is
// reached from inside the namespace (`ip netns exec`), so the test's own network is untouched.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, simConfig, sipRequest, tempDir, removeTempDirs, waitFor, writeConfigFile } from "./testing";

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const ns = `sy-sim-${process.pid % 100_000}`;
// Test-only addresses that exist only inside the namespace.
const ADDR = { host: "10.215.0.1", vip: "10.215.0.50" };
const SIP_PORT = 5060;
const HTTP_PORT = 18080;
let sim: ChildProcess | null = null;
let output = "";

function sh(...argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs a short Node script inside the namespace and returns what it printed. */
async function nodeInNs(script: string): Promise<string> {
  const { stdout } = await run("ip", ["netns", "exec", ns, process.execPath, "-e", script], { timeout: 20_000 });
  return stdout.trim();
}

async function httpInNs(path: string, body?: unknown): Promise<unknown> {
  const init = body === undefined ? "{}" : `{method:"POST",headers:{"content-type":"application/json"},body:${JSON.stringify(JSON.stringify(body))}}`;
  const text = await nodeInNs(`fetch("http://127.0.0.1:${HTTP_PORT}${path}",${init}).then(r=>r.text()).then(t=>console.log(t||"{}"))`);
  return JSON.parse(text) as unknown;
}

async function listener(): Promise<string | undefined> {
  return ((await httpInNs("/lab/v1/state")) as { sip?: { listener?: string } }).sip?.listener;
}

function deleteNamespace(): void {
  try {
    sh("ip", "netns", "del", ns);
  } catch {
    // not there: nothing to clean
  }
}

describe.skipIf(!isRoot)("ip-takeover on a real network: the VIP arrives after the promotion", () => {
  beforeAll(async () => {
    deleteNamespace();
    sh("ip", "netns", "add", ns);
    sh("ip", "-n", ns, "link", "set", "lo", "up");
    // A veth pair inside the namespace stands for the SIP NIC (eth0) and the wire.
    sh("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1");
    sh("ip", "-n", ns, "addr", "add", `${ADDR.host}/24`, "dev", "eth0");
    sh("ip", "-n", ns, "link", "set", "eth0", "up");
    sh("ip", "-n", ns, "link", "set", "eth1", "up");
    const config = simConfig({ name: "SIP_NET", sipPort: SIP_PORT, httpPort: HTTP_PORT, sipAddress: ADDR.host, sipListenAddress: ADDR.vip, initialRole: "backup" });
    const configFile = join(tempDir(), "SIP_NET.json");
    writeConfigFile(configFile, config);
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, "--import", "tsx", join(repoRoot, "lab/sip-server-sim/main.ts"), configFile], {
      cwd: repoRoot,
      env: { NODE_ENV: "test", PATH: process.env["PATH"], HOME: process.env["HOME"], SWITCHYARD_LAB_FAULTS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    sim = child;
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    await waitFor("the simulator to start in the namespace", () => (output.includes(" running as ") ? true : undefined), 30_000);
  }, 60_000);

  afterAll(async () => {
    if (sim && sim.exitCode === null) {
      const exited = new Promise((done) => sim?.once("exit", done));
      sim.kill("SIGTERM");
      await exited;
    }
    deleteNamespace();
    removeTempDirs();
    expect(sh("ip", "netns", "list")).not.toContain(ns);
  });

  it("W1 promoted before its VIP exists, it waits without a W7 bind failure and answers on the VIP once the address is added", async () => {
    expect(await listener()).toBe("closed");
    // The agent's order: the role first; the driver adds the VIP once the promotion is confirmed.
    expect(await httpInNs("/switchyard/v1/role", { role: "primary", epoch: 1, commandId: "net-1" })).toEqual({ role: "primary", epoch: 1 });
    await waitFor("the listener to wait for the VIP", async () => ((await listener()) === "waiting-for-address" ? true : undefined), 20_000);
    expect(((await httpInNs("/server?sipServer")) as { sipListener: string }).sipListener).toBe("bound");

    sh("ip", "-n", ns, "addr", "add", `${ADDR.vip}/32`, "dev", "eth0");
    await waitFor("the VIP listener to bind", async () => ((await listener()) === "bound" ? true : undefined), 20_000);
    const request = sipRequest({ method: "OPTIONS", port: SIP_PORT, callId: "netns-1" });
    const answer = await nodeInNs(
      `const s=require("dgram").createSocket("udp4");const t=setTimeout(()=>{console.log("timeout");process.exit(0)},5000);` +
        `s.on("message",m=>{clearTimeout(t);console.log(String(m));process.exit(0)});s.send(${JSON.stringify(request)},${SIP_PORT},"${ADDR.vip}")`,
    );
    expect(answer).toMatch(/^SIP\/2\.0 200 OK/);
    expect(answer).toMatch(new RegExp(`Contact: +<sip:switchyard@${ADDR.vip.replaceAll(".", "\\.")}:${SIP_PORT}>`));
    expect(output).not.toContain("00-04200");
  });
});
