// The Linux VIP driver for ip-takeover pairs: `ip addr add|del VIP/prefix dev IFACE`, gratuitous ARP,
// and a presence check; the check, not the exit codes, decides success. The only Linux-specific code in
// the agent.
//
// Enable is on the failover path, measured from the clients' side (bench/failover-net), so no process
// is started between the order and the first gratuitous ARP:
// - the address is changed, and the interface read back, by an `ip -force -o -batch -` process started
//   ahead of need (at configuration, and again after each use) that waits on its stdin: the action writes
//   its two lines and closes stdin, ip runs them and exits, and its output is judged as before (the
//   presence check needs no second process); a standby that dies is restarted, and one that is not
//   there (died just now, two actions at once) is replaced by a process started on the spot;
// - the first gratuitous ARP is one line to the agent's packet-socket helper (garp-helper.ts) the moment
//   ip has returned, the repeats follow from timers; where the helper cannot run, arping is started as
//   before. The result does not wait for any ARP: they run in the background, their failures are logged,
//   and a disable (or a new enable, or the driver's close) cancels them, so a host that gave the VIP up
//   never announces it again.
import type { ControlDriverConfig, ScriptRun } from "../../protocol/agent-wire";
import { runArgv, startArgv, type WaitingProcess } from "../run-script";
import { acquireGarpHelper } from "./garp-helper";
import type { ControlAction, ControlDriver, DriverContext, DriverRun, Presence } from "./types";

const IP_BATCH = ["ip", "-force", "-o", "-batch", "-"];
/** Between the gratuitous ARPs after the first (as Habets' arping spaced them, `-W 0.2`). */
export const ARP_REPEAT_INTERVAL_MS = 200;
const STANDBY_RESTART_MIN_MS = 1000;
const STANDBY_RESTART_MAX_MS = 60_000;

type ArpingFlavour = "iputils" | "habets" | "missing";

let arpingFlavourCache: Promise<ArpingFlavour> | null = null;

/** Both arpings are called `arping` but take different flags; ask the installed one which it is. */
export function detectArpingFlavour(arpingCommand = "arping"): Promise<ArpingFlavour> {
  arpingFlavourCache ??= runArgv([arpingCommand, "--help"], { timeoutMs: 5000, driver: "linux-ip" }).then((r) => {
    const text = `${r.stdout}\n${r.stderr}`;
    if (/habets/i.test(text)) return "habets";
    if (/iputils|-I device|Usage: arping \[-?[AbBDfhqUV]/i.test(text)) return "iputils";
    return r.exitCode === null ? "missing" : "iputils";
  });
  return arpingFlavourCache;
}

/**
 * One burst of unsolicited ARP. `first` is a single packet, sent as soon as arping has opened its
 * socket (Habets' returns right after it; iputils' waits its interval for replies nobody sends, which
 * no result waits for: the bursts run in the background); the repeats are spaced as each arping does.
 */
export function gratuitousArpArgv(flavour: Exclude<ArpingFlavour, "missing">, vip: string, iface: string, count: number, first = false): string[] {
  if (flavour === "habets") {
    return ["arping", "-q", "-U", "-c", String(count), "-W", first ? "0.001" : "0.2", "-i", iface, "-S", vip, vip];
  }
  return ["arping", "-q", "-U", "-c", String(count), "-w", String(first ? 1 : count + 1), "-I", iface, "-s", vip, vip];
}

export function parseAddresses(ipOutput: string): string[] {
  const out: string[] = [];
  for (const m of ipOutput.matchAll(/\binet6?\s+([0-9A-Fa-f:.]+)\/\d+/g)) out.push(m[1]!.toLowerCase());
  return out;
}

/** `ip addr add` of an address already there, or `del` of one that is not: the wanted state holds. */
export function alreadyInState(action: ControlAction, stderr: string): boolean {
  return action === "enable" ? /already assigned|File exists/i.test(stderr) : /Address not found|Cannot assign requested address/i.test(stderr);
}

/** Habets' arping exits 1 when nobody answers, which is normal for an unsolicited ARP. */
function arpSent(flavour: Exclude<ArpingFlavour, "missing">, run: ScriptRun): boolean {
  return run.exitCode === 0 || (flavour === "habets" && run.exitCode === 1 && !run.timedOut);
}

/** Which lines of an `ip -force -batch` run failed, with the error text each printed before it. */
export function batchErrors(stderr: string): Map<number, string> {
  const failed = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split("\n")) {
    const m = /^Command failed \S*:(\d+)\s*$/.exec(line.trim());
    if (m) {
      failed.set(Number(m[1]), pending.join(" ").trim());
      pending = [];
    } else if (line.trim()) {
      pending.push(line.trim());
    }
  }
  return failed;
}

export function createLinuxIpDriver(ctx: DriverContext): ControlDriver {
  const given = ctx.pair.driver;
  if (given.kind !== "linux-ip") throw new Error(`linux-ip driver given a ${given.kind} pair`);
  const d: Extract<ControlDriverConfig, { kind: "linux-ip" }> = given;
  const cidr = `${d.vip}/${d.prefix}`;
  const isIpv4 = d.vip.includes(".");
  const wantsArp = isIpv4 && d.gratuitousArp;
  // Known before the first enable, so the failover path never waits for `arping --help`.
  let flavourKnown: ArpingFlavour | null = null;
  if (wantsArp) void detectArpingFlavour().then((f) => (flavourKnown = f));
  let announcing: { controller: AbortController; done: Promise<ScriptRun[]> } | null = null;
  const garp = wantsArp ? acquireGarpHelper(ctx.log) : null;
  let closed = false;

  // The waiting `ip -batch` process; restarted when it dies unasked (backing off while it keeps dying).
  let standby: WaitingProcess | null = null;
  let standbyTimer: NodeJS.Timeout | null = null;
  let standbyDelayMs = STANDBY_RESTART_MIN_MS;
  function prepareIp(): void {
    if (closed || standby?.waiting) return;
    if (standbyTimer) clearTimeout(standbyTimer);
    standbyTimer = null;
    const p = startArgv(IP_BATCH, { driver: "linux-ip" });
    const startedAt = Date.now();
    standby = p;
    void p.exited.then(() => {
      if (standby !== p || closed) return; // used, or closed: not a death
      standby = null;
      standbyDelayMs = Date.now() - startedAt > 30_000 ? STANDBY_RESTART_MIN_MS : Math.min(standbyDelayMs * 2, STANDBY_RESTART_MAX_MS);
      ctx.log?.(`pair ${ctx.pair.name}: the waiting ip process exited unasked; starting another in ${standbyDelayMs} ms (meanwhile an action starts its own)`);
      standbyTimer = setTimeout(prepareIp, standbyDelayMs);
      standbyTimer.unref();
    });
  }
  prepareIp();

  function presenceIn(stdout: string): boolean {
    return parseAddresses(stdout).includes(d.vip.toLowerCase());
  }

  async function check(timeoutMs: number): Promise<{ presence: Presence; step: ScriptRun }> {
    const step = await runArgv(["ip", "-o", "addr", "show", "dev", d.interface], { timeoutMs, driver: "linux-ip" });
    if (!step.ok) {
      return { presence: { present: null, address: cidr, detail: `ip -o addr show dev ${d.interface} failed: ${step.stderr.trim().slice(0, 300)}` }, step };
    }
    const present = presenceIn(step.stdout);
    return { presence: { present, address: cidr, detail: `${cidr} is ${present ? "" : "not "}on ${d.interface} of ${ctx.hostName}` }, step };
  }

  /** One gratuitous ARP from the helper, as a step; null when the helper cannot be used (arping then). */
  async function helperArp(timeoutMs: number): Promise<ScriptRun | null> {
    if (!garp) return null;
    const r = await garp.helper.send(d.interface, d.vip, timeoutMs);
    if (r.unavailable) return null;
    return { argv: ["garp-helper", d.interface, d.vip], driver: "linux-ip", ok: r.ok, exitCode: r.ok ? 0 : null, stdout: "", stderr: r.detail, durationMs: r.durationMs, timedOut: false };
  }

  /** The first gratuitous ARP now, then the repeats; all in the background, cancelled by the next run. */
  function announce(timeoutMs: number): void {
    const controller = new AbortController();
    const { signal } = controller;
    const done = (async (): Promise<ScriptRun[]> => {
      const runs: ScriptRun[] = [];
      const note = (run: ScriptRun): boolean => {
        runs.push(run);
        if (!run.ok && !signal.aborted) ctx.log?.(`pair ${ctx.pair.name}: gratuitous ARP for ${d.vip} failed: ${run.stderr.trim().slice(0, 200)}`);
        return run.ok && !signal.aborted;
      };
      const first = await helperArp(timeoutMs);
      if (first) {
        if (!note(first)) return runs;
        for (let i = 1; i < d.arpCount; i++) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, ARP_REPEAT_INTERVAL_MS);
            signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
          });
          if (signal.aborted) return runs;
          const again = await helperArp(timeoutMs);
          if (!again || !note(again)) return runs;
        }
        return runs;
      }
      // No helper here: arping, one process per burst.
      const flavour = await detectArpingFlavour();
      if (flavour === "missing" || signal.aborted) return runs;
      const burst = async (count: number, isFirst: boolean): Promise<boolean> => {
        const run = await runArgv(gratuitousArpArgv(flavour, d.vip, d.interface, count, isFirst), { timeoutMs, driver: "linux-ip", signal });
        return note({ ...run, ok: arpSent(flavour, run) });
      };
      if ((await burst(1, true)) && d.arpCount > 1) await burst(d.arpCount - 1, false);
      return runs;
    })();
    announcing = { controller, done };
    void done.then(() => {
      if (announcing?.controller === controller) announcing = null;
    });
  }

  return {
    kind: "linux-ip",
    async presence(timeoutMs): Promise<Presence> {
      return (await check(timeoutMs)).presence;
    },
    async background(): Promise<ScriptRun[]> {
      return announcing ? announcing.done : [];
    },
    close(): void {
      if (closed) return;
      closed = true;
      announcing?.controller.abort();
      if (standbyTimer) clearTimeout(standbyTimer);
      standby?.close();
      standby = null;
      garp?.release();
    },
    async run(action: ControlAction, timeoutMs: number): Promise<DriverRun> {
      announcing?.controller.abort();
      announcing = null;
      const want = action === "enable";
      const verb = want ? "add" : "del";
      // One process: the change, then the interface as it is now (-force runs the second line even when
      // the first fails, e.g. an address already assigned). Started ahead of need when it can be.
      const input = `addr ${verb} ${cidr} dev ${d.interface}\naddr show dev ${d.interface}\n`;
      const warm = standby?.waiting ? standby : null;
      standby = null;
      const step = await (warm ? warm.feed({ timeoutMs, input }) : runArgv(IP_BATCH, { timeoutMs, driver: "linux-ip", input }));
      const failed = batchErrors(step.stderr);
      const changeError = failed.get(1) ?? null;
      const inState = !step.timedOut && (changeError === null || alreadyInState(action, changeError));
      const present = step.timedOut || step.exitCode === null || failed.has(2) ? null : presenceIn(step.stdout);
      const ok = present === want;
      if (want && wantsArp && present === true && !closed) announce(timeoutMs);
      // The next one after this result went out (its spawn would delay the ARP and the answer).
      if (!closed) {
        standbyDelayMs = STANDBY_RESTART_MIN_MS;
        setImmediate(prepareIp);
      }
      const viaHelper = garp?.helper.status.state === "ready";
      const arpNote = !want || !wantsArp || present !== true ? "" : !viaHelper && flavourKnown === "missing" ? "; no arping installed and the gratuitous ARP helper cannot run, gratuitous ARP not sent" : "; gratuitous ARP sent in the background";
      const already = changeError === null ? "" : inState ? ` (it was already ${want ? "assigned" : "absent"})` : "";
      const why = step.timedOut ? `ip killed after ${timeoutMs} ms` : changeError !== null && !inState ? `ip addr ${verb} failed: ${changeError.slice(0, 200)}` : failed.has(2) ? `ip addr show failed: ${failed.get(2)!.slice(0, 200)}` : step.exitCode === null ? step.stderr.trim().slice(0, 200) : "";
      const summary = ok
        ? `VIP ${cidr} ${want ? "enabled" : "disabled"} on ${d.interface} of ${ctx.hostName}${already}${arpNote}`
        : `VIP ${cidr} still ${present === null ? "unknown" : present ? "present" : "absent"} on ${d.interface} of ${ctx.hostName} after ${action}${why ? `: ${why}` : ""}`;
      return { ok, summary, steps: [{ ...step, ok }], present };
    },
  };
}
