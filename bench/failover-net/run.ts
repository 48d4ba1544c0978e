// Failover as a SIP client sees it (benchmark, not a test; root, Linux): the lab on a real network
// (harness/net-lab.ts: hosts and a client in network namespaces on a bridge, real host agents in the
// host namespaces, the linux-ip driver moving a real VIP, the console in the root namespace). A SIP
// client in the client namespace sends OPTIONS to the VIP (and to the NLB cluster address) every 5 ms;
// the outage is the time from the fault until the first 200 OK from the other host. Scenarios: the
// primary's process killed with SIGKILL, the primary host's link cut (default and fast heartbeat
// profiles), an operator's switchover (W1), and the NLB port moved after a crash. Each stage of the
// takeover is timed from the console's log, the agents' logs, the ARP frames the client receives and
// the client's answers, all on this machine's clock. Writes its section of BENCHMARKS.md.
//
//   sudo npx tsx bench/failover-net/run.ts
//   RUNS=20 SCENARIOS=crash,switchover,nlb,link,link-fast NET_BLOCK=77 (defaults)
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { NET_LAB_NLB_PAIR, NET_LAB_PAIR, netLabRefusal, startNetLab, type NetLab, type NetLabHost } from "../../harness/net-lab";
import { describeView } from "../../harness/lab-stack";
import type { PairView } from "../../server/runtime/live-view";
import { replaceSection } from "../support/benchmarks-md";
import { machineLine, summarise, type Summary } from "../support/stats";
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_HEARTBEAT_TIMEOUT_MS } from "../../protocol/vocabulary";

const RUNS = Number(process.env.RUNS ?? 20);
const SCENARIOS = (process.env.SCENARIOS ?? "crash,switchover,nlb,link,link-fast").split(",").map((s) => s.trim()).filter(Boolean);
const BLOCK = Number(process.env.NET_BLOCK ?? 77);
const PROBE_INTERVAL_MS = 5;
/** The fast heartbeat profile (README, DECISIONS.md): what link-fast runs with. */
const FAST_PROFILE = { intervalMs: 100, timeoutMs: 600 };
const here = __dirname;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sh(...argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number, describe?: () => Promise<string> | string, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${describe ? `\n${await describe()}` : ""}`);
    await sleep(intervalMs);
  }
}

// ───────────────────────────── what the parts say, with times ─────────────────────────────

interface ConsoleLine {
  t: number;
  component: string;
  msg: string;
  fields: Record<string, string>;
}

/** The console's log lines (LOG_FORMAT=text, both threads write through process.stdout). */
class ConsoleLog {
  lines: ConsoleLine[] = [];
  private buffer = "";
  readonly write: typeof process.stdout.write;

  constructor() {
    this.write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      this.buffer += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      let nl: number;
      while ((nl = this.buffer.indexOf("\n")) >= 0) {
        this.parse(this.buffer.slice(0, nl));
        this.buffer = this.buffer.slice(nl + 1);
      }
      return true;
    }) as typeof process.stdout.write;
  }

  private parse(line: string): void {
    const m = /^(\S+) (\w+)\s+\[([^\]]+)\] (.*)$/.exec(line);
    if (!m) return;
    const t = Date.parse(m[1]!);
    if (Number.isNaN(t)) return;
    const rest = m[4]!;
    const firstField = rest.search(/ [a-zA-Z]+=/);
    const msg = firstField < 0 ? rest : rest.slice(0, firstField);
    const fields: Record<string, string> = {};
    for (const f of (firstField < 0 ? "" : rest.slice(firstField)).matchAll(/ ([a-zA-Z]+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
      try {
        fields[f[1]!] = String(JSON.parse(f[2]!));
      } catch {
        fields[f[1]!] = f[2]!;
      }
    }
    this.lines.push({ t, component: m[3]!, msg, fields });
  }

  since(t: number): ConsoleLine[] {
    return this.lines.filter((l) => l.t >= Math.floor(t));
  }

  trim(): void {
    if (this.lines.length > 20_000) this.lines = this.lines.slice(-5_000);
  }
}

interface AgentLine {
  t: number;
  host: string;
  text: string;
}

/** The agents' output, written to one file (their log lines: protocol/log.ts's text format, the host a field). */
class AgentLog {
  private offset = 0;
  lines: AgentLine[] = [];
  constructor(readonly file: string) {}

  read(): void {
    const size = fs.statSync(this.file).size;
    if (size <= this.offset) return;
    const fd = fs.openSync(this.file, "r");
    const buf = Buffer.alloc(size - this.offset);
    fs.readSync(fd, buf, 0, buf.length, this.offset);
    fs.closeSync(fd);
    const text = buf.toString("utf8");
    const end = text.lastIndexOf("\n");
    if (end < 0) return;
    this.offset += Buffer.byteLength(text.slice(0, end + 1));
    for (const line of text.slice(0, end).split("\n")) {
      // protocol/log.ts's text line: `<ISO time> <LEVEL> [agent] <message> host="<host>"`.
      const m = /^(\S+) \w+\s+\[agent\] (.*) host="([^"]+)"$/.exec(line);
      if (!m) continue;
      const t = Date.parse(m[1]!);
      if (!Number.isNaN(t)) this.lines.push({ t, host: m[3]!, text: m[2]! });
    }
    if (this.lines.length > 20_000) this.lines = this.lines.slice(-5_000);
  }

  since(t: number): AgentLine[] {
    this.read();
    return this.lines.filter((l) => l.t >= Math.floor(t));
  }
}

interface Answer {
  i: number;
  t: number;
  st: number;
  sv: string;
}

/** A process in a namespace that prints JSON lines. */
class JsonLines<T> {
  items: T[] = [];
  private readonly child: ChildProcess;
  readonly ready: Promise<void>;
  constructor(argv: string[]) {
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
    let buffer = "";
    let resolveReady: () => void = () => {};
    this.ready = new Promise((r) => (resolveReady = r));
    this.child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const msg = JSON.parse(line) as T & { ready?: boolean };
        if (msg.ready) resolveReady();
        else this.items.push(msg);
      }
    });
  }
  trim(keep = 4000): void {
    if (this.items.length > keep * 2) this.items = this.items.slice(-keep);
  }
  stop(): void {
    this.child.kill("SIGKILL");
  }
}

interface ArpFrame {
  t: number;
  op: number;
  sha: string;
  spa: string;
  tpa: string;
}

// ───────────────────────────── the scene ─────────────────────────────

interface Scene {
  net: NetLab;
  consoleLog: ConsoleLog;
  agentLog: AgentLog;
  vipProbe: JsonLines<Answer>;
  nlbProbe: JsonLines<Answer> | null;
  arp: JsonLines<ArpFrame> | null;
  macs: Record<string, string>;
  heartbeat: { intervalMs: number; timeoutMs: number };
}

async function startScene(consoleLog: ConsoleLog, opts: { nlb: boolean; heartbeat: { intervalMs: number; timeoutMs: number } | null }): Promise<Scene> {
  const agentLogFile = path.join(os.tmpdir(), `failover-net-agents-${process.pid}-${Date.now()}.log`);
  const fd = fs.openSync(agentLogFile, "a");
  const heartbeat = opts.heartbeat ?? { intervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS, timeoutMs: DEFAULT_HEARTBEAT_TIMEOUT_MS };
  const net = await startNetLab({
    block: BLOCK,
    nlb: opts.nlb,
    // Every run crashes a server: restarted at once, and never given up on.
    restartPolicy: { enabled: true, maxRestarts: 100, restartWindowMs: 1000, restartDelayMs: 200, restartDelayMaxMs: 200, backoffMultiplier: 1 },
    // Ready for switchover half a second after the HA link is up (W13's 60 s would make W1 runs a minute each).
    serverEnv: { SWITCHYARD_LAB_READINESS_SETTLE_MS: "500" },
    consoleEnv: {
      LOG_LEVEL: "info",
      LOG_FORMAT: "text",
      ...(opts.heartbeat ? { HEARTBEAT_INTERVAL_MS: String(opts.heartbeat.intervalMs), HEARTBEAT_TIMEOUT_MS: String(opts.heartbeat.timeoutMs) } : {}),
    },
    agentOutput: fd,
  });
  const a = net.addresses;
  const inClient = ["ip", "netns", "exec", net.namespaces.client];
  const vipProbe = new JsonLines<Answer>([...inClient, process.execPath, path.join(here, "sip-prober.cjs"), a.vip, "5060", a.client, "5097", String(PROBE_INTERVAL_MS)]);
  const nlbProbe = opts.nlb ? new JsonLines<Answer>([...inClient, process.execPath, path.join(here, "sip-prober.cjs"), a.cluster, "5062", a.client, "5096", String(PROBE_INTERVAL_MS)]) : null;
  let arp: JsonLines<ArpFrame> | null = null;
  try {
    sh("sh", "-c", "command -v python3");
    arp = new JsonLines<ArpFrame>([...inClient, "python3", path.join(here, "arp-capture.py"), "eth0"]);
  } catch {
    process.stderr.write("python3 not found: the gratuitous ARP stage is not measured\n");
  }
  await Promise.all([vipProbe.ready, nlbProbe?.ready, arp?.ready]);
  const macs: Record<string, string> = {};
  for (const host of ["net-host-1", "net-host-2"] as const) {
    macs[host] = (JSON.parse(sh("ip", "-n", net.namespaces[host], "-j", "link", "show", "eth0")) as { address: string }[])[0]!.address;
  }
  return { net, consoleLog, agentLog: new AgentLog(agentLogFile), vipProbe, nlbProbe, arp, macs, heartbeat };
}

async function stopScene(scene: Scene): Promise<void> {
  scene.vipProbe.stop();
  scene.nlbProbe?.stop();
  scene.arp?.stop();
  await scene.net.stop();
  if (process.env.KEEP_AGENT_LOG === "1") process.stderr.write(`agents' log kept: ${scene.agentLog.file}\n`);
  else fs.rmSync(scene.agentLog.file, { force: true });
}

/** The pid of a simulated server in its host's namespace (its environment names the application). */
function serverPid(scene: Scene, host: string, app: string): number {
  const pids = sh("ip", "netns", "pids", scene.net.namespaces[host as NetLabHost]).split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmdline.includes("sip-server-sim/main.ts")) continue;
      if (fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`SWITCHYARD_APP_NAME=${app}`)) return Number(pid);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no process of ${app} in ${host}'s namespace`);
}

function probeOf(scene: Scene, pair: string): JsonLines<Answer> {
  const p = pair === NET_LAB_NLB_PAIR ? scene.nlbProbe : scene.vipProbe;
  if (!p) throw new Error(`no probe for ${pair}`);
  return p;
}

/** The NLB port rule ("disabled") is present in this host's policy routing. */
function nlbPortBlocked(scene: Scene, host: string): boolean {
  return sh("ip", "-n", scene.net.namespaces[host as NetLabHost], "rule", "list").includes("prohibit");
}

interface Settled {
  view: PairView;
  primary: PairView["servers"][number];
  backup: PairView["servers"][number];
}

/** One primary and one backup, both running and reachable, no plan, the VIP (or NLB port) only with the primary, and the client answered by it. */
async function settled(scene: Scene, pair: string, opts: { ready?: boolean } = {}): Promise<Settled> {
  const probe = probeOf(scene, pair);
  return until(
    `${pair} settled`,
    async () => {
      const view = await scene.net.pairView(pair);
      const primary = view.servers.find((s) => s.role === "primary");
      const backup = view.servers.find((s) => s.role === "backup");
      if (!primary || !backup || view.plan || view.splitBrain) return null;
      if (![primary, backup].every((s) => s.status === "running" && s.hostConnection === "connected" && s.haLink === "up")) return null;
      if (opts.ready && ![primary, backup].every((s) => s.readyForSwitchover === 1)) return null;
      if (pair === NET_LAB_PAIR) {
        const holders = scene.net.vipHolders();
        if (holders.length !== 1 || holders[0] !== primary.hostName) return null;
        const seen = scene.net.observedVip();
        if (seen[primary.hostName as NetLabHost] !== true || seen[backup.hostName as NetLabHost] !== false) return null;
      } else if (nlbPortBlocked(scene, primary.hostName) || !nlbPortBlocked(scene, backup.hostName)) {
        return null;
      }
      const recent = probe.items.slice(-20);
      const t = now();
      if (recent.length < 20 || t - recent[recent.length - 1]!.t > 50 || !recent.every((a) => a.st === 200 && a.sv === primary.name)) return null;
      return { view, primary, backup };
    },
    90_000,
    async () => `${describeView(await scene.net.pairView(pair))}\n  last answers: ${probe.items.slice(-5).map((a) => `${a.st} ${a.sv}`).join(", ")}`,
    50,
  );
}

// ───────────────────────────── one run ─────────────────────────────

type Stage =
  | "exit"
  | "hostLost"
  | "demotionOrdered"
  | "lastOld"
  | "promotionOrdered"
  | "promoted"
  | "enableByAgent"
  | "enableByConsole"
  | "enabled"
  | "garp"
  | "answer";

interface Sample {
  /** ms after the fault, per stage (absent: the stage did not happen or was not seen). */
  stages: Partial<Record<Stage, number>>;
  /** The client's gap: last 200 OK from the old primary → first 200 OK from the new one. */
  gapMs: number;
  from: string;
  to: string;
}

type Fault = "kill" | "cut" | "switchover";

async function run(scene: Scene, pair: string, fault: Fault): Promise<Sample> {
  const { primary, backup, view } = await settled(scene, pair, { ready: fault === "switchover" });
  await sleep(200);
  const probe = probeOf(scene, pair);
  probe.trim();
  scene.arp?.trim();
  scene.consoleLog.trim();
  const oldApp = primary.name;
  const newApp = backup.name;
  const oldHost = primary.hostName;
  const newHost = backup.hostName;
  let t0: number;
  if (fault === "kill") {
    const pid = serverPid(scene, oldHost, oldApp);
    t0 = now();
    process.kill(pid, "SIGKILL");
  } else if (fault === "cut") {
    t0 = now();
    scene.net.cutLink(oldHost as NetLabHost);
  } else {
    t0 = now();
    const said = await scene.net.running.services.controlPlane.switchOver(view.id, "bench", false, "");
    if (!/switchover|promot/i.test(said)) throw new Error(`switchover refused: ${said}`);
  }
  try {
    const answer = await until(
      `a 200 OK from ${newApp}`,
      () => probe.items.find((a) => a.t >= t0 && a.st === 200 && a.sv === newApp) ?? null,
      60_000,
      async () => describeView(await scene.net.pairView(pair)),
      5,
    );
    // The logs of what happened up to the answer (and the VIP result just after) reach their files.
    await sleep(400);
    const stages: Partial<Record<Stage, number>> = { answer: answer.t - t0 };
    const at = (name: Stage, t: number | undefined) => {
      if (t !== undefined) stages[name] = t - t0;
    };
    const agents = scene.agentLog.since(t0 - 1);
    const consoleLines = scene.consoleLog.since(t0 - 1);
    const firstAgent = (host: string, test: (text: string) => boolean) => agents.find((l) => l.host === host && test(l.text))?.t;
    const firstConsole = (test: (l: ConsoleLine) => boolean) => consoleLines.find(test)?.t;
    at("exit", firstAgent(oldHost, (x) => x.startsWith(`${oldApp}: `) && x.includes("→ failed")));
    at("hostLost", firstConsole((l) => l.msg === "host disconnected" && l.fields.host === oldHost));
    at("demotionOrdered", firstConsole((l) => l.msg === "sent set-role" && l.fields.application === oldApp));
    at("promotionOrdered", firstConsole((l) => l.msg === "sent set-role" && l.fields.application === newApp));
    at("promoted", firstAgent(newHost, (x) => new RegExp(`^command set-role:\\S+:primary:\\S+ set-role ${newApp}: ok`).test(x)));
    at("enableByAgent", firstAgent(newHost, (x) => x.includes("with the promotion") && x.includes("enabling")));
    at("enableByConsole", firstConsole((l) => l.msg === "sent run-control-script" && l.fields.host === newHost));
    at("enabled", firstAgent(newHost, (x) => /^command script:\S+:enable:\S+ run-control-script \S+: ok/.test(x) || (x.includes("with the promotion") && /: ok: .*( enabled|: enable succeeded)/.test(x))));
    if (pair === NET_LAB_PAIR && scene.arp) {
      at("garp", scene.arp.items.find((f) => f.t >= t0 && f.spa === scene.net.addresses.vip && f.sha === scene.macs[newHost])?.t);
    }
    if (process.env.TRACE === "1") {
      const lines = [
        ...consoleLines.map((l) => ({ t: l.t, text: `console [${l.component}] ${l.msg} ${JSON.stringify(l.fields)}` })),
        ...agents.map((l) => ({ t: l.t, text: `${l.host} ${l.text}` })),
        ...(scene.arp?.items.filter((f) => f.t >= t0 && f.spa === scene.net.addresses.vip).map((f) => ({ t: f.t, text: `ARP op ${f.op} from ${f.sha}` })) ?? []),
        { t: answer.t, text: `first 200 OK from ${newApp}` },
      ].sort((a, b) => a.t - b.t);
      for (const l of lines) process.stderr.write(`  +${(l.t - t0).toFixed(1).padStart(7)} ${l.text.slice(0, 220)}\n`);
    }
    const lastOld = [...probe.items].reverse().find((a) => a.t < answer.t && a.st === 200 && a.sv === oldApp);
    if (lastOld && lastOld.t >= t0) stages.lastOld = lastOld.t - t0;
    const gapMs = lastOld ? answer.t - lastOld.t : answer.t - t0;
    return { stages, gapMs, from: oldHost, to: newHost };
  } finally {
    if (fault === "cut") scene.net.restoreLink(oldHost as NetLabHost);
  }
}

// ───────────────────────────── scenarios ─────────────────────────────

interface ScenarioResult {
  key: string;
  title: string;
  samples: Sample[];
  heartbeat: { intervalMs: number; timeoutMs: number };
  fault: Fault;
  pair: string;
}

const scenarioDefs: Record<string, { title: string; pair: string; fault: Fault; nlb: boolean; profile: "default" | "fast" }> = {
  crash: { title: "Primary process killed (SIGKILL) → first 200 OK on the VIP from the other host", pair: NET_LAB_PAIR, fault: "kill", nlb: true, profile: "default" },
  switchover: { title: "Operator switchover (W1) → first 200 OK on the VIP from the new primary", pair: NET_LAB_PAIR, fault: "switchover", nlb: true, profile: "default" },
  nlb: { title: "NLB pair: primary process killed (SIGKILL) → first 200 OK on the cluster address from the other host", pair: NET_LAB_NLB_PAIR, fault: "kill", nlb: true, profile: "default" },
  link: { title: "Primary host's link cut → first 200 OK on the VIP from the other host (default heartbeat profile)", pair: NET_LAB_PAIR, fault: "cut", nlb: false, profile: "default" },
  "link-fast": { title: `Primary host's link cut → first 200 OK on the VIP from the other host (fast profile: ${FAST_PROFILE.intervalMs} ms / ${FAST_PROFILE.timeoutMs} ms)`, pair: NET_LAB_PAIR, fault: "cut", nlb: false, profile: "fast" },
};

async function main(): Promise<void> {
  const refusal = netLabRefusal();
  if (refusal) throw new Error(refusal);
  for (const s of SCENARIOS) if (!scenarioDefs[s]) throw new Error(`unknown scenario ${s} (known: ${Object.keys(scenarioDefs).join(", ")})`);
  const started = new Date();
  const loadBefore = os.loadavg();
  const consoleLog = new ConsoleLog();
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const results: ScenarioResult[] = [];
  // Scenarios that can share a lab run in one (same NLB setting and heartbeat profile).
  const groups = new Map<string, string[]>();
  for (const s of SCENARIOS) {
    const d = scenarioDefs[s]!;
    const key = `${d.nlb}/${d.profile}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  let current: Scene | null = null;
  process.on("SIGINT", () => {
    void (current ? stopScene(current) : Promise.resolve()).finally(() => process.exit(130));
  });
  for (const [, names] of groups) {
    const first = scenarioDefs[names[0]!]!;
    say(`starting the lab (nlb: ${first.nlb}, heartbeat profile: ${first.profile})…`);
    const scene = await startScene(consoleLog, { nlb: first.nlb, heartbeat: first.profile === "fast" ? FAST_PROFILE : null });
    current = scene;
    try {
      for (const name of names) {
        const d = scenarioDefs[name]!;
        const samples: Sample[] = [];
        for (let i = 0; i < RUNS; i++) {
          const s = await run(scene, d.pair, d.fault);
          samples.push(s);
          say(`${name} ${i + 1}/${RUNS} ${s.from} → ${s.to}: ${Object.entries(s.stages).map(([k, v]) => `${k} ${v!.toFixed(0)}`).join(", ")}; gap ${s.gapMs.toFixed(0)}`);
        }
        results.push({ key: name, title: d.title, samples, heartbeat: scene.heartbeat, fault: d.fault, pair: d.pair });
      }
    } finally {
      await stopScene(scene);
      current = null;
    }
  }
  const report = render(results, { started, loadBefore, loadAfter: os.loadavg() });
  if (process.env.WRITE_BENCHMARKS !== "0") replaceSection(report);
  consoleLog.write(report);
}

// ───────────────────────────── report ─────────────────────────────

const stageLabels: Record<Stage, string> = {
  exit: "the old primary's agent sees its exit",
  hostLost: "the console declares the old host lost",
  demotionOrdered: "the console orders the demotion",
  lastOld: "last 200 OK from the old primary",
  promotionOrdered: "the console orders the promotion (decided, saved, sent)",
  promoted: "the new primary's server confirms primary (at its agent)",
  enableByAgent: "the agent starts the enable with the promotion",
  enableByConsole: "the console orders the enable",
  enabled: "VIP / NLB port enabled (the driver's result)",
  garp: "first gratuitous ARP for the VIP on the client's wire",
  answer: "first 200 OK from the new primary",
};

function render(results: ScenarioResult[], meta: { started: Date; loadBefore: number[]; loadAfter: number[] }): string {
  const row = (label: string, s: Summary | null) =>
    s ? `| ${label} | ${s.n} | ${s.min.toFixed(0)} | ${s.p50.toFixed(0)} | ${s.p95.toFixed(0)} | ${s.p99.toFixed(0)} | ${s.max.toFixed(0)} |` : null;
  const sections = results.map((r) => {
    const rows: string[] = ["| stage (ms after the fault) | runs | min | p50 | p95 | p99 | max |", "|---|---|---|---|---|---|---|"];
    for (const stage of Object.keys(stageLabels) as Stage[]) {
      if (stage === "answer") continue;
      const values = r.samples.map((s) => s.stages[stage]).filter((v): v is number => v !== undefined);
      if (values.length === 0) continue;
      rows.push(row(stageLabels[stage], summarise(values))!);
    }
    rows.push(row(`**${stageLabels.answer} (the outage)**`, summarise(r.samples.map((s) => s.stages.answer!)))!);
    rows.push(row("the client's gap: last 200 OK from the old primary → first from the new", summarise(r.samples.map((s) => s.gapMs)))!);
    const dirs = r.samples.map((s) => `${s.from.replace("net-host-", "")}→${s.to.replace("net-host-", "")}`);
    return `### ${r.title}

Heartbeat ${r.heartbeat.intervalMs} ms, timeout ${r.heartbeat.timeoutMs} ms; ${r.samples.length} runs, direction alternating (${dirs.slice(0, 4).join(", ")} …).

${rows.join("\n")}`;
  });
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" / ");
  return `## Failover as a SIP client sees it (\`bench/failover-net\`)

Command (root): \`npx tsx bench/failover-net/run.ts\` (\`RUNS\`, default 20; \`SCENARIOS\`, default
\`crash,switchover,nlb,link,link-fast\`; \`NET_BLOCK\`, the lab's subnet block, default 77).
Run on ${meta.started.toISOString()}, ${machineLine()}; load average (1/5/15 min) ${load(meta.loadBefore)} before,
${load(meta.loadAfter)} after (the machine is shared: other work ran beside it).

Setup: the lab on a real network (\`harness/net-lab.ts\`): two hosts and a SIP client in network
namespaces on a bridge, a real host agent in each host namespace, simulated SIP Servers started by the
agents, the console (web tier and control-plane thread) in the root namespace reached over the bridge.
The ip-takeover pair's VIP is moved by the \`linux-ip\` driver (\`ip addr\` + gratuitous ARP from the agent's packet-socket helper);
the NLB pair emulates Windows NLB in multicast mode (the client reaches the cluster address through a
multicast MAC, so both hosts receive every request; the \`nlb\` driver's enable/disable scripts remove
or add a \`prohibit\` port rule in the host's policy routing). The client sends an OPTIONS to the VIP
and one to the cluster address every ${PROBE_INTERVAL_MS} ms; a fault's outage ends with the first 200 OK
from the other host's server. Stages come from the console's log, the agents' logs (ms resolution), the
ARP frames the client's interface receives (\`arp-capture.py\`) and the client's answers, all on this
machine's clock; every figure is ms after the fault (the driver's result is logged once it has
returned, after its first gratuitous ARP went out, so that row may come after the ARP's). Restart policy: restart after 200 ms (the crashed
server comes back as backup between runs); servers ready for switchover 0.5 s after their HA link is up.

${sections.join("\n\n")}
`;
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
