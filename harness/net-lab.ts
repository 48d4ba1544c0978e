// The lab on a real network (Linux, root): two hosts and a SIP client in network namespaces of their own,
// joined by a bridge that lives in a fourth namespace, with one veth into the root namespace where the
// console runs. Each host namespace runs a real host agent (`ip netns exec`), which starts a simulated SIP
// Server; the pair is ip-takeover with the linux-ip driver, so the VIP is a real secondary address that
// moves between the hosts' eth0 with gratuitous ARP, and the client sends SIP to it. Every address is a
// test-only one of NET_LAB_SUBNET and exists only on these interfaces. Namespaces are named with this
// process's pid; leftovers of a lab that died are removed on start, everything is removed on stop.
// Used by `npm run demo -- --net`, the real-network integration test and benchmarks.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startConsole, type RunningConsole } from "../server/console";
import type { Lab } from "../server/lab/lab";
import type { PairView } from "../server/runtime/live-view";

/** The lab's addresses in subnet block `block` (10.213.<block>.0/24): every one is test-only and exists only in the lab's namespaces. */
export function netLabAddresses(block = 0) {
  if (!Number.isInteger(block) || block < 0 || block > 255) throw new Error(`net lab: subnet block ${block} is not 0–255`);
  const a = (last: number) => `10.213.${block}.${last}`;
  return { subnet: `10.213.${block}.0/24`, console: a(254), host1: a(1), host2: a(2), client: a(100), vip: a(50), cluster: a(60) };
}
export type NetLabAddresses = ReturnType<typeof netLabAddresses>;
export const NET_LAB_SUBNET = "10.213.0.0/24";
export const NET_LAB_ADDRESSES = netLabAddresses(0);
export const NET_LAB_PAIR = "pair-net";
export const NET_LAB_HOSTS = ["net-host-1", "net-host-2"] as const;
export const NET_LAB_APPS = { "net-host-1": "sip-n1", "net-host-2": "sip-n2" } as const;
export type NetLabHost = (typeof NET_LAB_HOSTS)[number];
/**
 * The optional NLB pair (`nlb: true`): Windows NLB in multicast mode, emulated with the kernel. The client
 * reaches the cluster address through a multicast MAC (a static neighbour entry), so the bridge floods every
 * request to both hosts; each host has the cluster address on lo and an NLB "port rule" in its policy
 * routing: the nlb driver's disable adds a `prohibit` rule for the cluster's UDP port, its enable removes it.
 */
export const NET_LAB_NLB_PAIR = "pair-nlb";
export const NET_LAB_NLB_APPS = { "net-host-1": "sip-l1", "net-host-2": "sip-l2" } as const;
/** Priority of the NLB port rule in each host's policy routing (the local table is moved behind it). */
const NLB_RULE_PREF = 100;
const SIP_PORT = 5060;
const HA_PORT = 5070;
const HTTP_PORT = 8080;
const NLB_SIP_PORT = 5062;
const NLB_HA_PORT = 5072;
const NLB_HTTP_PORT = 8082;
const CLIENT_PORT = 5099;
/** Where the running lab writes who owns the subnet, so a second one refuses and a dead one's leftovers can be removed. */
const lockFileOf = (block: number) => (block === 0 ? "/run/switchyard-net-lab.json" : `/run/switchyard-net-lab-${block}.json`);

const rootDir = path.resolve(__dirname, "..");

/** Why the lab on a real network cannot run here, or null when it can. */
export function netLabRefusal(): string | null {
  if (process.platform !== "linux") return `the lab on a real network needs Linux network namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "the lab on a real network needs root: it creates network namespaces, a bridge and veth links (run it as root, e.g. sudo npm run demo -- --net)";
  for (const tool of ["ip", "arping"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      return `the lab on a real network needs ${tool} (Debian packages iproute2 and arping; scripts/ensure-system-deps.sh installs them)`;
    }
  }
  return null;
}

function sh(...argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
function trySh(...argv: string[]): void {
  try {
    sh(...argv);
  } catch {
    // already gone: nothing to clean
  }
}

interface Names {
  block: number;
  id: string;
  pid: number;
  host1: string;
  host2: string;
  client: string;
  bridge: string;
  /** The root namespace's end of the veth to the bridge. */
  rootLink: string;
}

function namesFor(pid: number, block: number): Names {
  const id = String(pid % 100_000);
  return { block, id, pid, host1: `sy-nl-h1-${id}`, host2: `sy-nl-h2-${id}`, client: `sy-nl-cl-${id}`, bridge: `sy-nl-br-${id}`, rootLink: `synl${id}` };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Removes a lab's namespaces (killing only the processes inside them) and its root link. */
function removeNetwork(n: Names): void {
  for (const ns of [n.host1, n.host2, n.client, n.bridge]) {
    let pids: string[] = [];
    try {
      pids = sh("ip", "netns", "pids", ns).split(/\s+/).filter(Boolean);
    } catch {
      continue; // no such namespace
    }
    for (const pid of pids) trySh("kill", "-9", pid);
    trySh("ip", "netns", "del", ns);
  }
  trySh("ip", "link", "del", n.rootLink);
}

/** Takes the subnet for this process: refuses while another lab holds it, clears what a dead one left. */
function claimSubnet(mine: Names): void {
  const lockFile = lockFileOf(mine.block);
  const subnet = netLabAddresses(mine.block).subnet;
  if (fs.existsSync(lockFile)) {
    let owner: Names | null = null;
    try {
      owner = JSON.parse(fs.readFileSync(lockFile, "utf8")) as Names;
    } catch {
      owner = null;
    }
    if (owner && owner.pid !== mine.pid && alive(owner.pid)) {
      throw new Error(`a lab on the real network already runs here (pid ${owner.pid}, namespaces ${owner.host1}, ${owner.host2}, ${owner.client}, ${owner.bridge}) and holds ${subnet}; stop it first`);
    }
    if (owner) removeNetwork(owner);
  }
  removeNetwork(mine);
  const taken = sh("ip", "-o", "-4", "addr", "show")
    .split("\n")
    .filter((l) => l.includes(` 10.213.${mine.block}.`));
  if (taken.length) {
    throw new Error(`${subnet} is already in use in the root network namespace (${taken[0]!.trim().split(/\s+/).slice(1, 4).join(" ")}); the lab uses only that test-only subnet and will not share it`);
  }
  fs.writeFileSync(lockFile, JSON.stringify(mine));
}

function releaseSubnet(mine: Names): void {
  removeNetwork(mine);
  try {
    const owner = JSON.parse(fs.readFileSync(lockFileOf(mine.block), "utf8")) as Names;
    if (owner.pid === mine.pid) fs.rmSync(lockFileOf(mine.block), { force: true });
  } catch {
    // no lock file: nothing to release
  }
}

/** Bridge, veths, addresses; ip_nonlocal_bind in the host namespaces (a promoted server may bind the VIP before the agent adds it). */
function buildNetwork(n: Names, addr: NetLabAddresses, nlb: boolean): void {
  for (const ns of [n.host1, n.host2, n.client, n.bridge]) {
    sh("ip", "netns", "add", ns);
    sh("ip", "-n", ns, "link", "set", "lo", "up");
  }
  // No multicast snooping: a frame to a multicast MAC (the NLB cluster's) is flooded to every port, as a switch does.
  sh("ip", "-n", n.bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0");
  sh("ip", "-n", n.bridge, "link", "set", "br0", "up");
  const plug = (port: string) => {
    sh("ip", "-n", n.bridge, "link", "set", port, "master", "br0");
    sh("ip", "-n", n.bridge, "link", "set", port, "up");
  };
  for (const [ns, port, address] of [
    [n.host1, "p-h1", addr.host1],
    [n.host2, "p-h2", addr.host2],
    [n.client, "p-cl", addr.client],
  ] as const) {
    sh("ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", port, "netns", n.bridge);
    plug(port);
    sh("ip", "-n", ns, "addr", "add", `${address}/24`, "dev", "eth0");
    sh("ip", "-n", ns, "link", "set", "eth0", "up");
  }
  // The console's way in: a veth from the root namespace onto the bridge, with the one root-side address.
  sh("ip", "link", "add", n.rootLink, "type", "veth", "peer", "name", "p-root", "netns", n.bridge);
  plug("p-root");
  sh("ip", "addr", "add", `${addr.console}/24`, "dev", n.rootLink);
  sh("ip", "link", "set", n.rootLink, "up");
  for (const ns of [n.host1, n.host2]) sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ip_nonlocal_bind=1");
  // The client takes a gratuitous ARP at once (the default locktime of 1 s would ignore one right after a reply).
  sh("ip", "netns", "exec", n.client, "sysctl", "-q", "-w", "net.ipv4.neigh.eth0.locktime=0");
  if (nlb) {
    for (const ns of [n.host1, n.host2]) {
      // The cluster address is local on both hosts and never answered by ARP (the client knows its MAC).
      sh("ip", "-n", ns, "addr", "add", `${addr.cluster}/32`, "dev", "lo");
      sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.conf.eth0.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2");
      // Port rules must be consulted before local delivery: the local table moves behind them. Both hosts
      // start with the port disabled; the controller enables it where the primary is.
      sh("ip", "-n", ns, "rule", "add", "pref", "1000", "lookup", "local");
      sh("ip", "-n", ns, "rule", "del", "pref", "0");
      sh("ip", "-n", ns, "rule", "add", ...nlbPortRule(addr.cluster));
    }
    sh("ip", "-n", n.client, "neigh", "replace", addr.cluster, "lladdr", nlbMulticastMac(addr.cluster), "dev", "eth0", "nud", "permanent");
  }
}

/** The rule that keeps the cluster's SIP port from a host (NLB's port rule "disabled"). */
function nlbPortRule(cluster: string): string[] {
  return ["pref", String(NLB_RULE_PREF), "iif", "eth0", "to", cluster, "ipproto", "udp", "dport", String(NLB_SIP_PORT), "prohibit"];
}

/** Windows NLB's multicast MAC for a cluster address: 03-BF-<the address>. */
export function nlbMulticastMac(cluster: string): string {
  return ["03", "bf", ...cluster.split(".").map((o) => Number(o).toString(16).padStart(2, "0"))].join(":");
}

export interface NetLabConfigOptions {
  /** Extra environment for every simulated server (lab knobs). */
  serverEnv?: Record<string, string>;
  /** Subnet block (addresses 10.213.<block>.x). */
  block?: number;
  /** Add the NLB pair (sip-l1, sip-l2 on the cluster address) beside the ip-takeover pair. */
  nlb?: boolean;
  /** Each application's restart policy (the import's restartPolicy); the application default when absent. */
  restartPolicy?: Record<string, number | boolean>;
  /** Per-host fields of the import (e.g. heartbeat settings), as YAML flow-map entries. */
  hostFields?: Record<string, number | string>;
}

/** The lab's configuration in the import format: one ip-takeover pair on the two hosts, linux-ip driver on eth0 (and the NLB pair when asked). */
export function netLabConfigText(o: NetLabConfigOptions = {}): string {
  const addr = netLabAddresses(o.block ?? 0);
  const env = (address: string, extra: Record<string, string> = {}) =>
    JSON.stringify({ SWITCHYARD_LAB_FAULTS: "1", SWITCHYARD_LAB_HTTP_ADDRESS: address, SWITCHYARD_LAB_HA_RECONNECT_MS: "200", SWITCHYARD_LAB_BIND_RETRY_MS: "300", ...o.serverEnv, ...extra });
  const restart = o.restartPolicy ? `    restartPolicy: ${JSON.stringify(o.restartPolicy)}\n` : "";
  const app = (name: string, host: string, address: string, ports: { sip: number; ha: number; http: number }, extraEnv: Record<string, string> = {}) => `  - name: ${name}
    type: sip-server
    host: ${host}
    startCommand: ${JSON.stringify(process.execPath)}
    startArgs: ["--import", "tsx", "lab/sip-server-sim/main.ts"]
    workingDirectory: ${JSON.stringify(rootDir)}
    environment: ${env(address, extraEnv)}
    sipPort: ${ports.sip}
    haPort: ${ports.ha}
${restart}    options:
      TServer: { http-port: "${ports.http}" }
`;
  const vipPorts = { sip: SIP_PORT, ha: HA_PORT, http: HTTP_PORT };
  // NLB servers listen on every address (the cluster address is on lo); the port rule decides who hears the client.
  const nlbPorts = { sip: NLB_SIP_PORT, ha: NLB_HA_PORT, http: NLB_HTTP_PORT };
  const nlbEnv = { SWITCHYARD_LAB_SIP_LISTEN_ADDRESS: "0.0.0.0" };
  const hostFields = Object.entries(o.hostFields ?? {}).map(([k, v]) => `, ${k}: ${JSON.stringify(v)}`).join("");
  const rule = nlbPortRule("{vip}").join(" ");
  return `# The lab on a real network (harness/net-lab.ts): test-only addresses ${addr.subnet} inside network namespaces.
version: 1
hosts:
  - { name: net-host-1, description: "Network namespace host 1", nics: [{ name: eth0, address: ${addr.host1}, carriesManagement: true, carriesSip: true }]${hostFields} }
  - { name: net-host-2, description: "Network namespace host 2", nics: [{ name: eth0, address: ${addr.host2}, carriesManagement: true, carriesSip: true }]${hostFields} }
applications:
${app("sip-n1", "net-host-1", addr.host1, vipPorts)}${app("sip-n2", "net-host-2", addr.host2, vipPorts)}${
    o.nlb ? `${app("sip-l1", "net-host-1", addr.host1, nlbPorts, nlbEnv)}${app("sip-l2", "net-host-2", addr.host2, nlbPorts, nlbEnv)}` : ""
  }pairs:
  - name: ${NET_LAB_PAIR}
    haType: ip-takeover
    primary: sip-n1
    backup: sip-n2
    vipAddress: ${addr.vip}
    vipPrefixLength: 24
    vipInterface: eth0
    controlDriver: linux-ip
${
  o.nlb
    ? `  - name: ${NET_LAB_NLB_PAIR}
    haType: nlb-cluster
    primary: sip-l1
    backup: sip-l2
    vipAddress: ${addr.cluster}
    nlbClusterName: net-nlb
    nlbPort: ${NLB_SIP_PORT}
    controlDriver: nlb
    enableScript: ${JSON.stringify(`sh -c "ip rule del pref ${NLB_RULE_PREF} 2>/dev/null; true"`)}
    disableScript: ${JSON.stringify(`sh -c "ip rule del pref ${NLB_RULE_PREF} 2>/dev/null; ip rule add ${rule}"`)}
`
    : ""
}`;
}

/** One OPTIONS request from the client namespace to the VIP and every answer to it within its window. */
export interface Probe {
  id: number;
  sentAt: number;
  answers: { status: number; server: string }[];
}

/** OPTIONS to the VIP from the client namespace, one process for the lab's life (no start-up per request). */
export interface SipClient {
  /** Sends one OPTIONS and resolves with every answer that came within `windowMs`. */
  probe(windowMs?: number): Promise<Probe>;
  /** Every probe sent so far, with its answers (late ones included). */
  probes(): Probe[];
  close(): void;
}

// Runs in the client namespace: reads "<id> <windowMs>" lines, sends OPTIONS with Call-ID probe-<id> to the
// VIP, prints {id, answers} when the window ends and {late} for an answer after it. Each answer is named by
// its Server header (the simulator names itself there).
const clientScript = (vip: string, from: string, port: number, sipPort: number) => `
const dgram = require("dgram"); const rl = require("readline").createInterface({ input: process.stdin });
const s = dgram.createSocket("udp4"); const pending = new Map();
s.bind(${port}, "${from}", () => console.log(JSON.stringify({ ready: true })));
s.on("message", (m) => {
  const t = String(m); const cid = ((/^Call-ID:\\s*(.+)$/im.exec(t) || [])[1] || "").trim();
  const status = Number((/^SIP\\/2\\.0 (\\d{3})/.exec(t) || [])[1] || 0);
  const server = ((/^Server:.*\\(([^)]+)\\)/im.exec(t) || /^Server:\\s*(.+)$/im.exec(t) || [])[1] || "?").trim();
  const p = pending.get(cid);
  if (p) p.answers.push({ status, server }); else console.log(JSON.stringify({ late: cid, status, server }));
});
rl.on("line", (line) => {
  const [id, windowMs] = line.trim().split(" "); const cid = "probe-" + id; pending.set(cid, { answers: [] });
  const req = ["OPTIONS sip:${vip}:${sipPort} SIP/2.0", "Via: SIP/2.0/UDP ${from}:${port};branch=z9hG4bK-" + cid,
    "Max-Forwards: 70", "From: <sip:probe@${from}>;tag=p" + id, "To: <sip:${vip}:${sipPort}>", "Call-ID: " + cid,
    "CSeq: 1 OPTIONS", "Contact: <sip:probe@${from}:${port}>", "Content-Length: 0", "", ""].join("\\r\\n");
  s.send(req, ${sipPort}, "${vip}");
  setTimeout(() => { const p = pending.get(cid); pending.delete(cid); console.log(JSON.stringify({ id: Number(id), answers: p.answers })); }, Number(windowMs));
});
`;

function startSipClient(ns: string, addr: NetLabAddresses): Promise<SipClient> {
  const child: ChildProcess = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", clientScript(addr.vip, addr.client, CLIENT_PORT, SIP_PORT)], { stdio: ["pipe", "pipe", "inherit"] });
  const all = new Map<number, Probe>();
  const waiting = new Map<number, (p: Probe) => void>();
  let nextId = 1;
  let buffer = "";
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const msg = JSON.parse(line) as { ready?: boolean; id?: number; answers?: Probe["answers"]; late?: string; status?: number; server?: string };
        if (msg.ready) {
          resolve({
            probe(windowMs = 1000) {
              const id = nextId++;
              const probe: Probe = { id, sentAt: Date.now(), answers: [] };
              all.set(id, probe);
              child.stdin!.write(`${id} ${windowMs}\n`);
              return new Promise((done) => waiting.set(id, done));
            },
            probes: () => [...all.values()],
            close: () => child.kill("SIGKILL"),
          });
        } else if (msg.id !== undefined) {
          const probe = all.get(msg.id)!;
          probe.answers.push(...(msg.answers ?? []));
          waiting.get(msg.id)?.(probe);
          waiting.delete(msg.id);
        } else if (msg.late) {
          all.get(Number(msg.late.replace("probe-", "")))?.answers.push({ status: msg.status ?? 0, server: msg.server ?? "?" });
        }
      }
    });
  });
}

export interface NetLabOptions {
  /** Console web port ("0": any free one). */
  port?: string;
  /** Serve the pages too (the demo); tests use the API only. */
  withPages?: boolean;
  /** SQLite file URL; a temporary one when absent. */
  databaseUrl?: string;
  admin?: { username: string; password: string };
  /** Extra environment for every simulated server (lab knobs). */
  serverEnv?: Record<string, string>;
  /** Console and agent output: quiet unless true. */
  verbose?: boolean;
  /** Subnet block: addresses 10.213.<block>.x, so a benchmark's lab can run beside a test's (default 0). */
  block?: number;
  /** Add the NLB pair (NET_LAB_NLB_PAIR) with its emulated NLB (see buildNetwork). */
  nlb?: boolean;
  /** The applications' restart policy (import format); the default policy when absent. */
  restartPolicy?: Record<string, number | boolean>;
  /** Extra per-host fields of the import (heartbeat settings). */
  hostFields?: Record<string, number | string>;
  /** Extra console environment (HEARTBEAT_*, LOG_*), applied last. */
  consoleEnv?: Record<string, string>;
  /** Where the agents' output goes: a file descriptor (benchmarks read the agents' log lines), else by `verbose`. */
  agentOutput?: number;
}

export interface NetLab {
  running: RunningConsole;
  lab: Lab;
  /** The lab's addresses (its subnet block). */
  addresses: NetLabAddresses;
  /** Namespace of each lab host, and of the client and the bridge. */
  namespaces: Record<NetLabHost | "client" | "bridge", string>;
  /** The ip-takeover pair's live view (or the named pair's). */
  pairView(pair?: string): Promise<PairView>;
  /** The lab hosts whose eth0 carries the VIP now (`ip -n <namespace> addr`), sorted. */
  vipHolders(): NetLabHost[];
  /** Where the agents last observed the VIP (their vipPresence), per host. */
  observedVip(): Partial<Record<NetLabHost, boolean | null>>;
  /** OPTIONS to the VIP from the client namespace. */
  client: SipClient;
  /** Runs sipp in the client namespace against the VIP (lab/sipp/options.xml); resolves with its exit code and output. */
  sipp(calls?: number): Promise<{ code: number | null; output: string }>;
  /** Pulls the host's cable: its port on the bridge goes down (the host keeps its addresses, VIP included). */
  cutLink(host: NetLabHost): void;
  restoreLink(host: NetLabHost): void;
  stop(): Promise<void>;
}

export async function startNetLab(opts: NetLabOptions = {}): Promise<NetLab> {
  const refusal = netLabRefusal();
  if (refusal) throw new Error(refusal);
  const block = opts.block ?? 0;
  const addr = netLabAddresses(block);
  const n = namesFor(process.pid, block);
  claimSubnet(n);
  // Short: agents put keeper sockets under their state directory (≤ 107 bytes).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sy-nl-${n.id}-`));
  const namespaces = { "net-host-1": n.host1, "net-host-2": n.host2, client: n.client, bridge: n.bridge } as const;
  let running: RunningConsole | null = null;
  let client: SipClient | null = null;
  const cleanup = async () => {
    client?.close();
    await running?.stop().catch(() => {});
    releaseSubnet(n);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    buildNetwork(n, addr, opts.nlb ?? false);
    running = await startConsole({
      withPages: opts.withPages ?? false,
      env: {
        ...process.env,
        NODE_ENV: opts.withPages ? "production" : "test",
        HOST: "127.0.0.1",
        PORT: opts.port ?? "0",
        // Agents reach the console over the bridge: its agent port listens on the root namespace's lab address.
        AGENT_HOST: addr.console,
        AGENT_PORT: "0",
        DATABASE_URL: opts.databaseUrl ?? `file:${path.join(dir, "console.db")}`,
        SWITCHYARD_ADMIN_USER: opts.admin?.username ?? "admin",
        SWITCHYARD_ADMIN_PASSWORD: opts.admin?.password ?? "net-lab-admin-password",
        SWITCHYARD_CONTROLLER: "true",
        // No SWITCHYARD_LAB_STATE_DIR: the pair's own driver (linux-ip) moves a real address.
        SWITCHYARD_LAB_STATE_DIR: undefined,
        LOG_LEVEL: opts.verbose ? "info" : "silent",
        ...opts.consoleEnv,
      },
      lab: {
        rootDir,
        stateDir: path.join(dir, "lab"),
        addressBlock: 0,
        configText: netLabConfigText({ serverEnv: opts.serverEnv, block, nlb: opts.nlb, restartPolicy: opts.restartPolicy, hostFields: opts.hostFields }),
        agentPrefix: (host) => ["ip", "netns", "exec", namespaces[host as NetLabHost]],
        output: opts.agentOutput ?? (opts.verbose ? "inherit" : "ignore"),
      },
    });
    client = await startSipClient(n.client, addr);
  } catch (err) {
    await cleanup();
    throw err;
  }
  const r = running;
  const c = client;
  let stopped = false;
  return {
    running: r,
    lab: r.lab!,
    addresses: addr,
    namespaces,
    client: c,
    async pairView(pair = NET_LAB_PAIR) {
      const v = (await r.services.controlPlane.pairViews()).find((p) => p.name === pair);
      if (!v) throw new Error(`no pair ${pair} in the live view`);
      return v;
    },
    vipHolders: () => NET_LAB_HOSTS.filter((h) => sh("ip", "-n", namespaces[h], "-o", "-4", "addr", "show", "dev", "eth0").includes(`inet ${addr.vip}/`)),
    observedVip() {
      const out: Partial<Record<NetLabHost, boolean | null>> = {};
      for (const v of r.services.controlPlane.vipObservations()) if (v.pair === NET_LAB_PAIR) out[v.hostName as NetLabHost] = v.present;
      return out;
    },
    sipp(calls = 1) {
      return new Promise((resolve) => {
        const args = ["netns", "exec", n.client, "sipp", "-sf", path.join(rootDir, "lab/sipp/options.xml"), "-m", String(calls), "-i", addr.client, "-p", String(CLIENT_PORT + 1), `${addr.vip}:${SIP_PORT}`, "-nostdin", "-timeout", "15", "-timeout_error"];
        const child = spawn("ip", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d.toString("utf8")));
        child.stderr.on("data", (d: Buffer) => (output += d.toString("utf8")));
        const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        child.on("exit", (code) => {
          clearTimeout(killer);
          resolve({ code, output });
        });
      });
    },
    cutLink: (host) => sh("ip", "-n", n.bridge, "link", "set", host === "net-host-1" ? "p-h1" : "p-h2", "down"),
    restoreLink: (host) => sh("ip", "-n", n.bridge, "link", "set", host === "net-host-1" ? "p-h1" : "p-h2", "up"),
    async stop() {
      if (stopped) return;
      stopped = true;
      await cleanup();
    },
  };
}
