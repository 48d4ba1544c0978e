import { describe, expect, it } from "vitest";
import { labGatewayAddress, labGatewayTargets, w4Readiness } from "./service-dns";

const opt = (name: string, value: string, dn = "") => ({ dn, section: "TServer", name, value });
const armed = [opt("sip-pass-check", "true"), opt("oos-check", "2", "7001"), opt("oos-force", "5", "7001"), opt("contact", "sip:gw@127.7.9.1:25060", "7001")];

describe("W4 readiness of a lab server (the Lab page's SIP NIC button)", () => {
  it("W4 armed with sip-pass-check and a service DN with oos-check and a contact", () => {
    expect(w4Readiness({ options: armed })).toEqual({ armed: true, serviceDns: [{ dn: "7001", contact: "sip:gw@127.7.9.1:25060" }] });
    expect(w4Readiness({ options: [opt("sip-pass-check", "TRUE"), ...armed.slice(1)] }).armed).toBe(true);
  });

  it("W4 says why not: no service DN, oos-check 0, no contact, sip-pass-check off", () => {
    expect(w4Readiness({ options: [opt("http-port", "16080")] })).toEqual({ armed: false, why: "no service DN with oos-check, so nothing watches this server's SIP traffic" });
    expect(w4Readiness({ options: [opt("sip-pass-check", "true"), opt("oos-check", "0", "7001"), opt("contact", "sip:gw@127.7.9.1:25060", "7001")] })).toMatchObject({ armed: false, why: expect.stringMatching(/^no service DN with oos-check/) });
    expect(w4Readiness({ options: [opt("sip-pass-check", "true"), opt("oos-check", "2", "7001")] })).toEqual({ armed: false, why: "service DN 7001 has oos-check but no contact" });
    expect(w4Readiness({ options: [opt("sip-pass-check", "false"), ...armed.slice(1)] })).toEqual({ armed: false, why: "sip-pass-check is off, so the server does not watch its SIP traffic" });
    expect(w4Readiness({ options: armed.slice(1) })).toMatchObject({ armed: false, why: expect.stringMatching(/^sip-pass-check is off/) });
  });
});

describe("the lab's SIP gateways", () => {
  it("a gateway listens on loopback contacts with a port only", () => {
    expect(labGatewayAddress("sip:gw@127.7.9.1:25060")).toEqual({ address: "127.7.9.1", port: 25060 });
    expect(labGatewayAddress("sip:127.0.9.1:25060;transport=udp")).toEqual({ address: "127.0.9.1", port: 25060 });
    expect(labGatewayAddress("sip:gw@10.0.0.1:5060")).toBeNull();
    expect(labGatewayAddress("sip:gw@127.0.9.1")).toBeNull();
    expect(labGatewayAddress("sip:gw@127.0.9.1:70000")).toBeNull();
  });

  it("one gateway per contact the armed servers ping, naming them; unarmed servers start none", () => {
    const targets = labGatewayTargets([
      { name: "sip-a1", options: armed },
      { name: "sip-a2", options: armed },
      { name: "sip-b1", options: [opt("sip-pass-check", "false"), opt("oos-check", "2", "7001"), opt("contact", "sip:gw@127.7.9.2:25060", "7001")] },
    ]);
    expect(targets).toEqual([{ address: "127.7.9.1", port: 25060, servers: ["sip-a1", "sip-a2"] }]);
  });
});
