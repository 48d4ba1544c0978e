// SIP parsing and response building: good requests, garbage and missing headers (dropped or 400).
import { describe, expect, it } from "vitest";
import { buildBadRequest, buildResponse, parseDatagram, uriTarget } from "./sip-message";
import { sipRequest } from "./testing";

const parse = (text: string) => parseDatagram(Buffer.from(text));

describe("SIP message parsing", () => {
  it("parses a REGISTER with contacts and Expires", () => {
    const parsed = parse(sipRequest({ method: "REGISTER", port: 5060, callId: "r1", extraHeaders: ["Contact: <sip:1001@127.0.0.1:5070>;expires=60", "Expires: 120"] }));
    expect(parsed.kind).toBe("request");
    if (parsed.kind !== "request") return;
    expect(parsed.request.method).toBe("REGISTER");
    expect(parsed.request.expiresHeaderSec).toBe(120);
    expect(parsed.request.contact).toEqual([{ name: undefined, uri: "sip:1001@127.0.0.1:5070", params: { expires: "60" } }]);
  });

  it("drops garbage: random bytes, a bare start line, an empty datagram, CRLF keep-alives", () => {
    expect(parseDatagram(Buffer.from([0xff, 0x00, 0x13, 0x37, 0x0d, 0x0a])).kind).toBe("garbage");
    expect(parse("HELLO WORLD\r\n\r\n").kind).toBe("garbage");
    expect(parseDatagram(Buffer.alloc(0)).kind).toBe("garbage");
    expect(parse("\r\n\r\n").kind).toBe("garbage");
  });

  it("a request missing Call-ID is a bad request answered with 400 that echoes the Via", () => {
    const parsed = parse(sipRequest({ method: "OPTIONS", port: 5060, callId: "c1", omit: ["Call-ID"] }));
    expect(parsed.kind).toBe("bad-request");
    if (parsed.kind !== "bad-request") return;
    expect(parsed.reason).toContain("call-id");
    const text = buildBadRequest(parsed);
    expect(text.startsWith("SIP/2.0 400 Bad Request\r\n")).toBe(true);
    expect(text).toContain("Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-test-c1");
  });

  it("a request without any Via cannot be answered and is dropped", () => {
    expect(parse(sipRequest({ method: "OPTIONS", port: 5060, callId: "c2", omit: ["Via"] })).kind).toBe("garbage");
  });

  it("a CSeq method that differs from the request method is a bad request", () => {
    const parsed = parse(sipRequest({ method: "INVITE", cseqMethod: "BYE", port: 5060, callId: "c3" }));
    expect(parsed.kind).toBe("bad-request");
  });

  it("builds a response with a To tag, the request's Via, Call-ID and CSeq", () => {
    const parsed = parse(sipRequest({ method: "OPTIONS", port: 5060, callId: "c4" }));
    if (parsed.kind !== "request") throw new Error("expected a request");
    const text = buildResponse(parsed.request, 200, "OK", { toTag: "abc" });
    const again = parse(text);
    expect(again.kind).toBe("response");
    if (again.kind !== "response") return;
    expect(again.response.status).toBe(200);
    expect(again.response.callId).toBe("c4");
    expect(text).toMatch(/To: +<sip:sim@127\.0\.0\.1:5060>;tag=abc/);
  });

  it("resolves a DN contact to where its OPTIONS pings go", () => {
    expect(uriTarget("sip:gw1@127.0.0.1:5090")).toEqual({ uri: "sip:gw1@127.0.0.1:5090", host: "127.0.0.1", port: 5090 });
    expect(uriTarget("127.0.0.1")).toEqual({ uri: "sip:127.0.0.1", host: "127.0.0.1", port: 5060 });
  });
});

describe("SIP REGISTER wildcard", () => {
  it("W11 Contact: * is the wildcard that removes all bindings", () => {
    const parsed = parse(sipRequest({ method: "REGISTER", port: 5060, callId: "w1", extraHeaders: ["Contact: *", "Expires: 0"] }));
    expect(parsed.kind === "request" && parsed.request.contact).toBe("*");
  });
});
