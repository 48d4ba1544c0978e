// A stand-in for the SIP gateway behind a service DN: a real UDP SIP endpoint on a given address that
// answers every OPTIONS with 200 OK and counts them, so traffic monitoring's Active-OOS pings (W4, W6)
// have someone to reach. The demo lab runs one per pair whose servers ping a service DN (main.ts, started
// by server/lab/lab.ts); tests start one in-process (harness/sip-gateway.ts) and point a DN's `contact` at it.
import dgram from "node:dgram";
import { buildResponse, parseDatagram } from "../sip-server-sim/sip-message";

export interface SipGateway {
  /** sip:gw@address:port, for a DN's contact option. */
  contact: string;
  /** OPTIONS answered so far. */
  answered(): number;
  close(): void;
}

export interface SipGatewayOptions {
  /** UDP port; 0 (the default) takes a free one. */
  port?: number;
  /** Called after each OPTIONS answered, with where it came from. */
  onAnswered?: (from: { address: string; port: number }) => void;
}

/** Binds address:port and answers OPTIONS; rejects when the address or port cannot be bound. */
export async function startSipGateway(address: string, options: SipGatewayOptions = {}): Promise<SipGateway> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(options.port ?? 0, address, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  socket.on("error", () => {
    // After binding, errors are per datagram (ICMP unreachable); the gateway stays.
  });
  let answered = 0;
  socket.on("message", (data, from) => {
    const parsed = parseDatagram(data);
    if (parsed.kind !== "request" || parsed.request.method !== "OPTIONS") return;
    answered++;
    socket.send(buildResponse(parsed.request, 200, "OK", { toTag: "gw" }), from.port, from.address);
    options.onAnswered?.({ address: from.address, port: from.port });
  });
  return { contact: `sip:gw@${address}:${socket.address().port}`, answered: () => answered, close: () => socket.close() };
}
