// Unit tests of the client address behind trusted proxies: X-Forwarded-For believed only from listed
// proxies, the right-most untrusted hop, IPv4-mapped peers, garbage hops, and the entries' syntax.
import { describe, expect, it } from "vitest";
import { parseProxyEntry, TrustedProxies } from "./client-address";

describe("TrustedProxies.clientAddress", () => {
  const trusted = new TrustedProxies(["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"]);

  it("ignores X-Forwarded-For when nothing is trusted, or when the peer is not a trusted proxy", () => {
    expect(new TrustedProxies([]).clientAddress("10.1.1.1", "203.0.113.9")).toBe("10.1.1.1");
    expect(trusted.clientAddress("198.51.100.4", "203.0.113.9")).toBe("198.51.100.4");
  });

  it("takes the right-most hop that is not a trusted proxy", () => {
    expect(trusted.clientAddress("10.1.1.1", "203.0.113.9")).toBe("203.0.113.9");
    // The client wrote the left-most entries itself; the proxies appended the rest.
    expect(trusted.clientAddress("10.1.1.1", "1.1.1.1, 203.0.113.9, 192.0.2.1")).toBe("203.0.113.9");
    expect(trusted.clientAddress("192.0.2.1", ["1.1.1.1", "203.0.113.9, 10.2.2.2"])).toBe("203.0.113.9");
    expect(trusted.clientAddress("2001:db8::5", "[2001:dba::7]:443, 2001:db8::9")).toBe("2001:dba::7");
  });

  it("answers the left-most trusted hop when every hop is a proxy, and never a garbage hop", () => {
    expect(trusted.clientAddress("10.1.1.1", "10.2.2.2, 10.3.3.3")).toBe("10.2.2.2");
    expect(trusted.clientAddress("10.1.1.1", "")).toBe("10.1.1.1");
    expect(trusted.clientAddress("10.1.1.1", "203.0.113.9, not-an-address, 10.3.3.3")).toBe("10.3.3.3");
    expect(trusted.clientAddress("10.1.1.1", "203.0.113.9:5060")).toBe("203.0.113.9");
  });

  it("reads IPv4 peers of a dual-stack socket as IPv4", () => {
    expect(trusted.clientAddress("::ffff:10.1.1.1", "203.0.113.9")).toBe("203.0.113.9");
    expect(new TrustedProxies([]).clientAddress("::ffff:127.0.0.1", undefined)).toBe("127.0.0.1");
  });
});

describe("parseProxyEntry", () => {
  it("accepts addresses and CIDR blocks of both families and refuses the rest", () => {
    expect(parseProxyEntry("127.0.0.1")).toEqual({ address: "127.0.0.1", prefix: null, family: "ipv4" });
    expect(parseProxyEntry(" 10.0.0.0/8 ")).toEqual({ address: "10.0.0.0", prefix: 8, family: "ipv4" });
    expect(parseProxyEntry("::1/128")).toEqual({ address: "::1", prefix: 128, family: "ipv6" });
    for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8/8", "proxy.example", "10.0.0.0/-1", ""]) expect(parseProxyEntry(bad), bad).toBeNull();
  });
});
