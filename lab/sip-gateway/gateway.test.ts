import dgram from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { startSipGateway, type SipGateway } from "./gateway";
import { buildOptionsPing, parseDatagram } from "../sip-server-sim/sip-message";

let gateway: SipGateway | null = null;
let client: dgram.Socket | null = null;
afterEach(() => {
  gateway?.close();
  client?.close();
  gateway = client = null;
});

describe("the lab's SIP gateway (behind a service DN)", () => {
  it("W4 answers an OPTIONS ping with 200 OK and counts it, and refuses a port already taken", async () => {
    const seen: string[] = [];
    gateway = await startSipGateway("127.0.0.1", { onAnswered: (from) => seen.push(from.address) });
    const port = Number(/:(\d+)$/.exec(gateway.contact)![1]);
    client = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => client!.bind(0, "127.0.0.1", () => resolve()));
    const ping = buildOptionsPing({ targetUri: gateway.contact, localAddress: "127.0.0.1", localPort: client.address().port, dn: "7001", sequence: 1, token: "t1" });
    const answer = new Promise<Buffer>((resolve) => client!.once("message", (data) => resolve(data)));
    client.send(ping.text, port, "127.0.0.1");
    const parsed = parseDatagram(await answer);
    expect(parsed.kind).toBe("response");
    if (parsed.kind === "response") expect(parsed.response.status).toBe(200);
    expect(gateway.answered()).toBe(1);
    expect(seen).toEqual(["127.0.0.1"]);
    await expect(startSipGateway("127.0.0.1", { port })).rejects.toThrow(/EADDRINUSE/);
  });
});
