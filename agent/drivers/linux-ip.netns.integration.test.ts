// Real network test (runs as root): two hosts and a client in their own network namespaces on a
// bridge that lives in a fourth namespace, test-only addresses 10.213.0.0/24 that exist only inside
// them. The linux-ip driver, run inside each host's namespace, moves a VIP from host 1 to host 2 with
// gratuitous ARP; the client's ARP entry follows and a UDP echo to the VIP is answered by host 2, and
// by nobody once it is disabled there.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ScriptRun } from "../../protocol/agent-wire";
import type { DriverRun } from "./types";

const REPO_ROOT = path.resolve(__dirname, "../..");
const id = `${process.pid % 100000}`;
const NS = { h1: `sy-h1-${id}`, h2: `sy-h2-${id}`, client: `sy-cl-${id}`, bridge: `sy-br-${id}` };
const ADDR = { h1: "10.213.0.1", h2: "10.213.0.2", client: "10.213.0.100", vip: "10.213.0.50" };
const ECHO_PORT = 7777;
const PAIR = JSON.stringify({
  name: "pair-net",
  haType: "ip-takeover",
  configuredRole: "primary",
  driver: { kind: "linux-ip", vip: ADDR.vip, prefix: 24, interface: "eth0", gratuitousArp: true, arpCount: 2 },
  scriptTimeoutMs: 10_000,
});
const echoServers: ChildProcess[] = [];

function sh(...argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
function inNs(ns: string, ...argv: string[]): string {
  return sh("ip", "netns", "exec", ns, ...argv);
}
/** The driver's result, and what it did after it (the gratuitous ARPs), once that is done. */
type Children = Record<"before" | "restarted" | "afterClose", { pid: number; cmd: string }[]>;
function driver(ns: string, action: "enable" | "disable" | "enable-after-deaths", host: string, env: string[] = []): DriverRun & { background: ScriptRun[]; logs: string[]; children?: Children } {
  const out = inNs(ns, ...(env.length ? ["env", ...env] : []), process.execPath, "--import", "tsx", path.join(REPO_ROOT, "agent/test-fixtures/run-driver.ts"), action, PAIR, host);
  return JSON.parse(out) as DriverRun & { background: ScriptRun[]; logs: string[]; children?: Children };
}
function macOf(ns: string): string {
  return inNs(ns, "cat", "/sys/class/net/eth0/address").trim();
}
function deleteNamespaces(): void {
  for (const ns of Object.values(NS)) {
    try {
      sh("ip", "netns", "del", ns);
    } catch {
      // not there: nothing to clean
    }
  }
}
/** One UDP request to the VIP from the client namespace; prints who answered. */
function askVip(): string {
  const script = `const s=require("dgram").createSocket("udp4");const t=setTimeout(()=>{console.log("timeout");process.exit(0)},3000);s.on("message",m=>{clearTimeout(t);console.log(String(m));process.exit(0)});s.send("who",${ECHO_PORT},"${ADDR.vip}")`;
  return inNs(NS.client, process.execPath, "-e", script).trim();
}

beforeAll(() => {
  deleteNamespaces();
  for (const ns of Object.values(NS)) sh("ip", "netns", "add", ns);
  sh("ip", "-n", NS.bridge, "link", "add", "br0", "type", "bridge");
  sh("ip", "-n", NS.bridge, "link", "set", "br0", "up");
  for (const [key, ns] of [["h1", NS.h1], ["h2", NS.h2], ["client", NS.client]] as const) {
    const port = `p-${key}`;
    sh("ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", port, "netns", NS.bridge);
    sh("ip", "-n", NS.bridge, "link", "set", port, "master", "br0");
    sh("ip", "-n", NS.bridge, "link", "set", port, "up");
    sh("ip", "-n", ns, "addr", "add", `${ADDR[key]}/24`, "dev", "eth0");
    sh("ip", "-n", ns, "link", "set", "eth0", "up");
    sh("ip", "-n", ns, "link", "set", "lo", "up");
  }
  // Accept a neighbour update at once (default locktime 1 s would ignore a GARP right after a reply).
  inNs(NS.client, "sysctl", "-q", "-w", "net.ipv4.neigh.eth0.locktime=0");
  for (const [ns, name] of [[NS.h1, "host1"], [NS.h2, "host2"]] as const) {
    const script = `const s=require("dgram").createSocket("udp4");s.on("message",(m,r)=>s.send("${name}",r.port,r.address));s.bind(${ECHO_PORT},"0.0.0.0",()=>console.log("ready"))`;
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    echoServers.push(child);
  }
  return Promise.all(echoServers.map((c) => new Promise<void>((r) => c.stdout!.once("data", () => r())))).then(() => undefined);
}, 60_000);

afterAll(() => {
  for (const c of echoServers) c.kill("SIGKILL");
  deleteNamespaces();
  const left = sh("ip", "netns", "list");
  expect(Object.values(NS).filter((ns) => left.includes(ns))).toEqual([]);
});

describe("linux-ip driver in network namespaces", () => {
  it("moves the VIP from host 1 to host 2 with gratuitous ARP and the client follows", () => {
    const up1 = driver(NS.h1, "enable", "host1");
    expect(up1.ok).toBe(true);
    expect(up1.present).toBe(true);
    expect(inNs(NS.h1, "ip", "-o", "addr", "show", "dev", "eth0")).toContain(`inet ${ADDR.vip}/24`);
    expect(askVip()).toBe("host1");
    expect(inNs(NS.client, "ip", "neigh", "show", ADDR.vip)).toContain(macOf(NS.h1));

    const down1 = driver(NS.h1, "disable", "host1");
    expect(down1.ok).toBe(true);
    expect(down1.present).toBe(false);
    expect(inNs(NS.h1, "ip", "-o", "addr", "show", "dev", "eth0")).not.toContain(ADDR.vip);

    const up2 = driver(NS.h2, "enable", "host2");
    expect(up2.ok).toBe(true);
    expect(up2.summary).toContain("gratuitous ARP sent in the background");
    // Both ARPs (arpCount 2) from the agent's packet-socket helper, no arping process.
    expect(up2.background.map((s) => [s.argv.join(" "), s.ok])).toEqual([
      [`garp-helper eth0 ${ADDR.vip}`, true],
      [`garp-helper eth0 ${ADDR.vip}`, true],
    ]);
    // The client's existing entry now points at host 2: the gratuitous ARP did it, not a new lookup.
    expect(inNs(NS.client, "ip", "neigh", "show", ADDR.vip)).toContain(macOf(NS.h2));
    expect(askVip()).toBe("host2");
  });

  it("is idempotent: enabling a present VIP or disabling an absent one succeeds (already in that state)", () => {
    const again = driver(NS.h2, "enable", "host2");
    expect(again.ok).toBe(true);
    expect(again.summary).toContain("(it was already assigned)");
    expect(again.steps).toMatchObject([{ argv: ["ip", "-force", "-o", "-batch", "-"], ok: true }]);
    const absent = driver(NS.h1, "disable", "host1");
    expect(absent.ok).toBe(true);
    expect(absent.summary).toContain("(it was already absent)");
    expect(absent.steps).toMatchObject([{ argv: ["ip", "-force", "-o", "-batch", "-"], ok: true }]);
  });

  it("enable is one ip process (the address, then the interface read back); one ARP goes out at once, the repeats after it, none before the result", () => {
    const up = driver(NS.h2, "enable", "host2");
    expect(up.steps.map((s) => s.argv.join(" "))).toEqual(["ip -force -o -batch -"]);
    expect(up.present).toBe(true);
    expect(up.background).toHaveLength(2);
    expect(up.background.every((s) => s.argv[0] === "garp-helper" && s.ok)).toBe(true);
  });

  it("the processes it keeps (the waiting ip, the ARP helper) are started again when they die, and gone after close", () => {
    const client = inNs(NS.client, "ip", "neigh", "show", ADDR.vip);
    expect(client).toContain(macOf(NS.h2));
    const down = driver(NS.h2, "disable", "host2");
    expect(down.ok).toBe(true);
    const up = driver(NS.h1, "enable-after-deaths", "host1");
    const { before, restarted, afterClose } = up.children!;
    expect(before.map((c) => c.cmd).sort()).toEqual(["ip -force", "perl -e"]);
    expect(restarted.map((c) => c.cmd).sort()).toEqual(["ip -force", "perl -e"]);
    expect(restarted.some((c) => before.some((b) => b.pid === c.pid))).toBe(false);
    expect(up.logs.join("\n")).toMatch(/the waiting ip process exited unasked; starting another/);
    expect(up.logs.join("\n")).toMatch(/gratuitous ARP helper \(perl\) was killed by SIGKILL/);
    expect(up).toMatchObject({ ok: true, present: true });
    expect(up.background.map((s) => [s.argv[0], s.ok])).toEqual([
      ["garp-helper", true],
      ["garp-helper", true],
    ]);
    expect(afterClose).toEqual([]);
    expect(inNs(NS.client, "ip", "neigh", "show", ADDR.vip)).toContain(macOf(NS.h1));
    expect(askVip()).toBe("host1");
    expect(driver(NS.h1, "disable", "host1").ok).toBe(true);
    expect(driver(NS.h2, "enable", "host2").ok).toBe(true);
  });

  it("where the ARP helper cannot run (no perl), arping announces the VIP as before", () => {
    expect(driver(NS.h2, "disable", "host2").ok).toBe(true);
    const up = driver(NS.h1, "enable", "host1", ["PATH=/usr/sbin:/sbin"]);
    expect(up).toMatchObject({ ok: true, present: true });
    expect(up.summary).toContain("gratuitous ARP sent in the background");
    expect(up.logs.join("\n")).toMatch(/gratuitous ARP helper \(perl\) could not start: .*ENOENT.*meanwhile gratuitous ARP is sent with arping/);
    expect(up.background.map((s) => [s.argv[0], s.ok])).toEqual([
      ["arping", true],
      ["arping", true],
    ]);
    expect(inNs(NS.client, "ip", "neigh", "show", ADDR.vip)).toContain(macOf(NS.h1));
    expect(driver(NS.h1, "disable", "host1").ok).toBe(true);
    expect(driver(NS.h2, "enable", "host2").ok).toBe(true);
    expect(inNs(NS.client, "ip", "neigh", "show", ADDR.vip)).toContain(macOf(NS.h2));
  });

  it("a failing change is reported with ip's own words and the presence it read back", () => {
    const bad = driver(NS.h2, "disable", "host2");
    expect(bad.ok).toBe(true);
    const wrongIface = JSON.parse(inNs(NS.h1, process.execPath, "--import", "tsx", path.join(REPO_ROOT, "agent/test-fixtures/run-driver.ts"), "enable", PAIR.replace('"eth0"', '"nosuch0"'), "host1")) as DriverRun;
    expect(wrongIface.ok).toBe(false);
    expect(wrongIface.present).toBeNull();
    expect(wrongIface.summary).toMatch(/still unknown on nosuch0 of host1 after enable: ip addr add failed: Cannot find device "nosuch0"/);
    const up = driver(NS.h2, "enable", "host2");
    expect(up.ok).toBe(true);
  });

  it("after disable the VIP is gone: nobody answers at it", () => {
    expect(askVip()).toBe("host2");
    const down = driver(NS.h2, "disable", "host2");
    expect(down.ok).toBe(true);
    expect(down.present).toBe(false);
    expect(inNs(NS.h2, "ip", "-o", "addr", "show", "dev", "eth0")).not.toContain(ADDR.vip);
    expect(askVip()).toBe("timeout");
  });
});
