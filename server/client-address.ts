// Who is calling: the address a request came from, as the login limits, the audit log and sessions
// see it. Behind the recommended TLS proxy every request arrives from the proxy, so one guesser would
// lock everyone out; X-Forwarded-For names the real client — but anyone can send that header, so it is
// believed only from the proxies listed in TRUSTED_PROXIES, and only up to the right-most hop that is
// not one of them (the hops to its left were written by the client itself).
import net from "node:net";

/** One TRUSTED_PROXIES entry: an address or a CIDR block, IPv4 or IPv6. Null when it is neither. */
export function parseProxyEntry(entry: string): { address: string; prefix: number | null; family: "ipv4" | "ipv6" } | null {
  const [address = "", prefixText, ...rest] = entry.trim().split("/");
  const version = net.isIP(address);
  if (version === 0 || rest.length) return null;
  const family = version === 4 ? "ipv4" : "ipv6";
  if (prefixText === undefined) return { address, prefix: null, family };
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > (version === 4 ? 32 : 128)) return null;
  return { address, prefix, family };
}

/** An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; lists and keys use a.b.c.d. */
function normalise(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** A hop as a proxy writes it: a bare address, [IPv6]:port or IPv4:port. Null when it is not an address. */
function hopAddress(hop: string): string | null {
  const text = hop.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  const withPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(text);
  const address = normalise(bracketed?.[1] ?? withPort?.[1] ?? text);
  return net.isIP(address) ? address : null;
}

export class TrustedProxies {
  private readonly list = new net.BlockList();
  readonly count: number;

  /** Entries are validated by the environment schema (server/env.ts); an invalid one here is a bug. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const parsed = parseProxyEntry(entry);
      if (!parsed) throw new Error(`TRUSTED_PROXIES: ${entry} is not an address or CIDR block`);
      const address = normalise(parsed.address);
      const family = net.isIP(address) === 4 ? "ipv4" : "ipv6";
      if (parsed.prefix === null) this.list.addAddress(address, family);
      else this.list.addSubnet(address, parsed.prefix, family);
    }
    this.count = entries.length;
  }

  has(address: string): boolean {
    const a = normalise(address);
    const version = net.isIP(a);
    return version !== 0 && this.list.check(a, version === 4 ? "ipv4" : "ipv6");
  }

  /**
   * The client's address: the socket's peer, unless that peer is a trusted proxy; then the right-most
   * X-Forwarded-For hop that is not a trusted proxy. A hop that is not an address ends the walk at the
   * trusted hop to its right, so a client cannot choose its own key by sending garbage.
   */
  clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    let current = normalise(peer ?? "unknown");
    if (this.count === 0 || !this.has(current)) return current;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? "")).split(",").filter((h) => h.trim() !== "");
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hopAddress(hops[i]!);
      if (hop === null) return current;
      current = hop;
      if (!this.has(hop)) return hop;
    }
    return current;
  }
}
