// The Linux VIP driver for ip-takeover pairs: `ip addr add|del VIP/prefix dev IFACE`, gratuitous ARP
// with whichever arping is installed (iputils or Thomas Habets'), and a presence check afterwards;
// the check, not the exit codes, decides success. The only Linux-specific code in the agent.
//
// Enable is on the failover path, measured from the clients' side, so it is ordered for the first
// gratuitous ARP: the address is added at once ("already assigned" counts as done, so no check comes
// first), the first ARP goes out right after, the presence check runs beside it, and the remaining
// ARPs repeat in the background — the result does not wait for them. A disable (or a new enable)
// cancels repeats still running, so a host that gave the VIP up never announces it again.
import type { ControlDriverConfig, ScriptRun } from "../../protocol/agent-wire";
import { runArgv } from "../run-script";
import type { ControlAction, ControlDriver, DriverContext, DriverRun, Presence } from "./types";

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
 * One burst of unsolicited ARP. `first` sends a single packet and returns as soon as it is out (no
 * waiting for replies nobody sends); the repeats are spaced as each arping does by default.
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

export function createLinuxIpDriver(ctx: DriverContext): ControlDriver {
  const given = ctx.pair.driver;
  if (given.kind !== "linux-ip") throw new Error(`linux-ip driver given a ${given.kind} pair`);
  const d: Extract<ControlDriverConfig, { kind: "linux-ip" }> = given;
  const cidr = `${d.vip}/${d.prefix}`;
  const isIpv4 = d.vip.includes(".");
  const wantsArp = isIpv4 && d.gratuitousArp;
  // Known before the first enable, so the failover path never waits for `arping --help`.
  if (wantsArp) void detectArpingFlavour();
  let repeats: AbortController | null = null;

  async function check(timeoutMs: number): Promise<{ presence: Presence; step: ScriptRun }> {
    const step = await runArgv(["ip", "-o", "addr", "show", "dev", d.interface], { timeoutMs, driver: "linux-ip" });
    if (!step.ok) {
      return { presence: { present: null, address: cidr, detail: `ip -o addr show dev ${d.interface} failed: ${step.stderr.trim().slice(0, 300)}` }, step };
    }
    const present = parseAddresses(step.stdout).includes(d.vip.toLowerCase());
    return { presence: { present, address: cidr, detail: `${cidr} is ${present ? "" : "not "}on ${d.interface} of ${ctx.hostName}` }, step };
  }

  async function firstArp(timeoutMs: number): Promise<{ step: ScriptRun | null; note: string; flavour: ArpingFlavour }> {
    const flavour = await detectArpingFlavour();
    if (flavour === "missing") return { step: null, note: "; no arping installed, gratuitous ARP not sent", flavour };
    const run = await runArgv(gratuitousArpArgv(flavour, d.vip, d.interface, 1, true), { timeoutMs, driver: "linux-ip" });
    const sent = arpSent(flavour, run);
    return { step: { ...run, ok: sent }, note: sent ? `; gratuitous ARP sent (${flavour} arping)` : `; gratuitous ARP failed: ${run.stderr.trim().slice(0, 200)}`, flavour };
  }

  function repeatArpInBackground(flavour: Exclude<ArpingFlavour, "missing">, timeoutMs: number): void {
    const count = d.arpCount - 1;
    if (count < 1) return;
    const controller = new AbortController();
    repeats = controller;
    void runArgv(gratuitousArpArgv(flavour, d.vip, d.interface, count), { timeoutMs, driver: "linux-ip", signal: controller.signal }).then((run) => {
      if (repeats === controller) repeats = null;
      if (!controller.signal.aborted && !arpSent(flavour, run)) ctx.log?.(`pair ${ctx.pair.name}: repeated gratuitous ARP for ${d.vip} failed: ${run.stderr.trim().slice(0, 200)}`);
    });
  }

  return {
    kind: "linux-ip",
    async presence(timeoutMs): Promise<Presence> {
      return (await check(timeoutMs)).presence;
    },
    async run(action: ControlAction, timeoutMs: number): Promise<DriverRun> {
      repeats?.abort();
      repeats = null;
      const want = action === "enable";
      const change = await runArgv(["ip", "addr", want ? "add" : "del", cidr, "dev", d.interface], { timeoutMs, driver: "linux-ip" });
      const inState = change.ok || alreadyInState(action, change.stderr);
      const steps: ScriptRun[] = [{ ...change, ok: inState }];
      const [after, arp] = await Promise.all([check(timeoutMs), want && wantsArp && inState ? firstArp(timeoutMs) : Promise.resolve(null)]);
      if (arp?.step) steps.push(arp.step);
      steps.push(after.step);
      if (arp?.step?.ok && arp.flavour !== "missing") repeatArpInBackground(arp.flavour, timeoutMs);
      const arpNote = arp?.note ?? "";
      const already = change.ok ? "" : inState ? ` (it was already ${want ? "assigned" : "absent"})` : "";
      const ok = after.presence.present === want;
      const summary = ok
        ? `VIP ${cidr} ${want ? "enabled" : "disabled"} on ${d.interface} of ${ctx.hostName}${already}${arpNote}`
        : `VIP ${cidr} still ${after.presence.present === null ? "unknown" : after.presence.present ? "present" : "absent"} on ${d.interface} of ${ctx.hostName} after ${action}${
            inState ? "" : `: ip addr ${want ? "add" : "del"} failed: ${change.stderr.trim().slice(0, 200)}`
          }${arpNote}`;
      return { ok, summary, steps, present: after.presence.present };
    },
  };
}
