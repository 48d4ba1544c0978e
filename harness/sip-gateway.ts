// A stand-in for the SIP gateway behind a service DN: a real UDP SIP endpoint on a given address that
// answers every OPTIONS with 200 OK and counts them, so traffic monitoring's Active-OOS pings (W4, W6)
// have someone to reach. Tests point a DN's `contact` at it.
import dgram from "node:dgram";
import { buildResponse, parseDatagram } from "../lab/sip-server-sim/sip-message";

export interface SipGateway {
  /** sip:gw@address:port, for a DN's contact option. */
  contact: string;
  /** OPTIONS answered so far. */
  answered(): number;
  close(): void;
}

export async function startSipGateway(address: string): Promise<SipGateway> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
  let answered = 0;
  socket.on("message", (data, from) => {
    const parsed = parseDatagram(data);
    if (parsed.kind !== "request" || parsed.request.method !== "OPTIONS") return;
    answered++;
    socket.send(buildResponse(parsed.request, 200, "OK", { toTag: "gw" }), from.port, from.address);
  });
  return { contact: `sip:gw@${address}:${socket.address().port}`, answered: () => answered, close: () => socket.close() };
}
