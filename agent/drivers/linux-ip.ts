// The Linux VIP driver for ip-takeover pairs: `ip addr add|del VIP/prefix dev IFACE`, gratuitous ARP
// with whichever arping is installed (iputils or Thomas Habets'), and a presence check afterwards;
// the check, not the exit codes, decides success. The only Linux-specific code in the agent.
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

export function gratuitousArpArgv(flavour: Exclude<ArpingFlavour, "missing">, vip: string, iface: string, count: number): string[] {
  return flavour === "habets"
    ? ["arping", "-U", "-c", String(count), "-W", "0.2", "-i", iface, "-S", vip, vip]
    : ["arping", "-U", "-c", String(count), "-w", String(count + 1), "-I", iface, "-s", vip, vip];
}

export function parseAddresses(ipOutput: string): string[] {
  const out: string[] = [];
  for (const m of ipOutput.matchAll(/\binet6?\s+([0-9A-Fa-f:.]+)\/\d+/g)) out.push(m[1]!.toLowerCase());
  return out;
}

export function createLinuxIpDriver(ctx: DriverContext): ControlDriver {
  const given = ctx.pair.driver;
  if (given.kind !== "linux-ip") throw new Error(`linux-ip driver given a ${given.kind} pair`);
  const d: Extract<ControlDriverConfig, { kind: "linux-ip" }> = given;
  const cidr = `${d.vip}/${d.prefix}`;
  const isIpv4 = d.vip.includes(".");

  async function check(timeoutMs: number): Promise<{ present: boolean | null; step: ScriptRun }> {
    const step = await runArgv(["ip", "-o", "addr", "show", "dev", d.interface], { timeoutMs, driver: "linux-ip" });
    if (!step.ok) return { present: null, step };
    return { present: parseAddresses(step.stdout).includes(d.vip.toLowerCase()), step };
  }

  return {
    kind: "linux-ip",
    async presence(timeoutMs): Promise<Presence> {
      return { present: (await check(timeoutMs)).present, address: cidr };
    },
    async run(action: ControlAction, timeoutMs: number): Promise<DriverRun> {
      const steps: ScriptRun[] = [];
      const before = await check(timeoutMs);
      steps.push(before.step);
      const want = action === "enable";
      if (before.present !== want) {
        const verb = want ? "add" : "del";
        steps.push(await runArgv(["ip", "addr", verb, cidr, "dev", d.interface], { timeoutMs, driver: "linux-ip" }));
      }
      let arpNote = "";
      if (want && isIpv4 && d.gratuitousArp) {
        const flavour = await detectArpingFlavour();
        if (flavour === "missing") {
          arpNote = "; no arping installed, gratuitous ARP not sent";
        } else {
          const arp = await runArgv(gratuitousArpArgv(flavour, d.vip, d.interface, d.arpCount), { timeoutMs, driver: "linux-ip" });
          // Habets' arping exits 1 when nobody answers, which is normal for an unsolicited ARP.
          const sent = arp.exitCode === 0 || (flavour === "habets" && arp.exitCode === 1 && !arp.timedOut);
          steps.push({ ...arp, ok: sent });
          arpNote = sent ? `; gratuitous ARP sent (${flavour} arping)` : `; gratuitous ARP failed: ${arp.stderr.trim().slice(0, 200)}`;
        }
      }
      const after = await check(timeoutMs);
      steps.push(after.step);
      const ok = after.present === want;
      const summary = ok
        ? `VIP ${cidr} ${want ? "enabled" : "disabled"} on ${d.interface} of ${ctx.hostName}${arpNote}`
        : `VIP ${cidr} still ${after.present === null ? "unknown" : after.present ? "present" : "absent"} on ${d.interface} of ${ctx.hostName} after ${action}${arpNote}`;
      return { ok, summary, steps, present: after.present };
    },
  };
}
