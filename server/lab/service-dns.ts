// What W4 (Active-OOS check, docs/workflows.md) needs of a lab server's configuration, read from the
// configured options: sip-pass-check on and at least one service DN with oos-check > 0 and a contact.
// The Lab page says per server whether its "Unplug SIP NIC (W4)" can cause a switchover, and why not;
// the lab starts a SIP gateway for each contact the armed servers ping (lab/sip-gateway/main.ts).
import type { ApplicationShape } from "../config/config.schema";

/** A service DN with an Active-OOS check. */
export interface ServiceDn {
  dn: string;
  contact: string;
}

/** Whether the W4 fault can switch this server's pair over; when not, why (for the Lab page). */
export type W4Readiness = { armed: true; serviceDns: ServiceDn[] } | { armed: false; why: string };

type Options = ApplicationShape["options"];

function option(options: Options, dn: string, name: string): string | undefined {
  return options.find((o) => o.dn === dn && o.name === name)?.value;
}

export function w4Readiness(app: Pick<ApplicationShape, "options">): W4Readiness {
  const dns = [...new Set(app.options.filter((o) => o.dn !== "").map((o) => o.dn))];
  const checked = dns.filter((dn) => Number(option(app.options, dn, "oos-check") ?? "0") > 0);
  const serviceDns = checked.flatMap((dn) => {
    const contact = option(app.options, dn, "contact") ?? "";
    return contact === "" ? [] : [{ dn, contact }];
  });
  if (checked.length === 0) return { armed: false, why: "no service DN with oos-check, so nothing watches this server's SIP traffic" };
  if (serviceDns.length < checked.length) return { armed: false, why: `service DN ${checked.find((dn) => !serviceDns.some((s) => s.dn === dn))} has oos-check but no contact` };
  if ((option(app.options, "", "sip-pass-check") ?? "false").toLowerCase() !== "true") return { armed: false, why: "sip-pass-check is off, so the server does not watch its SIP traffic" };
  return { armed: true, serviceDns };
}

/** Where a lab SIP gateway must listen for a DN contact: loopback IPv4 with a port (sip:[user@]127.a.b.c:port); null otherwise. */
export function labGatewayAddress(contact: string): { address: string; port: number } | null {
  const m = /^sips?:(?:[^@;>]*@)?(127\.\d{1,3}\.\d{1,3}\.\d{1,3}):(\d{1,5})(?:[;>].*)?$/i.exec(contact.trim());
  if (!m) return null;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { address: m[1]!, port } : null;
}

/** One gateway per distinct loopback contact that armed lab servers ping, with the servers that ping it. */
export function labGatewayTargets(apps: Pick<ApplicationShape, "name" | "options">[]): { address: string; port: number; servers: string[] }[] {
  const targets = new Map<string, { address: string; port: number; servers: string[] }>();
  for (const app of apps) {
    const w4 = w4Readiness(app);
    if (!w4.armed) continue;
    for (const { contact } of w4.serviceDns) {
      const at = labGatewayAddress(contact);
      if (!at) continue;
      const key = `${at.address}:${at.port}`;
      const target = targets.get(key) ?? { ...at, servers: [] };
      if (!target.servers.includes(app.name)) target.servers.push(app.name);
      targets.set(key, target);
    }
  }
  return [...targets.values()];
}
