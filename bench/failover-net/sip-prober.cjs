// The SIP client of bench/failover-net, run by plain node inside the client's network namespace: sends an
// OPTIONS to the target every INTERVAL ms from one UDP socket and prints one JSON line per answer:
// {"i": request number, "t": when it arrived (ms since the epoch, sub-ms), "st": status, "sv": the server
// that answered (the simulator names itself in the Server header)}. Plain JavaScript so it starts in
// milliseconds and does nothing but send, receive and print.
//
//   node sip-prober.cjs <target address> <target port> <own address> <own port> <interval ms>
"use strict";
const dgram = require("node:dgram");
const { performance } = require("node:perf_hooks");

const [target, targetPort, from, fromPort, intervalMs] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const socket = dgram.createSocket("udp4");
let n = 0;

socket.on("message", (m) => {
  const t = now();
  const text = String(m);
  const callId = ((/^Call-ID:\s*(.+)$/im.exec(text) || [])[1] || "").trim();
  if (!callId.startsWith("bp-")) return;
  const status = Number((/^SIP\/2\.0 (\d{3})/.exec(text) || [])[1] || 0);
  const server = ((/^Server:.*\(([^)]+)\)/im.exec(text) || /^Server:\s*(.+)$/im.exec(text) || [])[1] || "?").trim();
  process.stdout.write(`${JSON.stringify({ i: Number(callId.slice(3)), t, st: status, sv: server })}\n`);
});
// ICMP errors (port unreachable while nobody listens) are expected during a failover.
socket.on("error", () => {});

function send() {
  const id = ++n;
  const cid = `bp-${id}`;
  const req = [
    `OPTIONS sip:${target}:${targetPort} SIP/2.0`,
    `Via: SIP/2.0/UDP ${from}:${fromPort};branch=z9hG4bK-${cid}`,
    "Max-Forwards: 70",
    `From: <sip:bench@${from}>;tag=b${id}`,
    `To: <sip:${target}:${targetPort}>`,
    `Call-ID: ${cid}`,
    "CSeq: 1 OPTIONS",
    `Contact: <sip:bench@${from}:${fromPort}>`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  socket.send(req, Number(targetPort), target);
}

socket.bind(Number(fromPort), from, () => {
  process.stdout.write(`${JSON.stringify({ ready: true, t: now() })}\n`);
  setInterval(send, Number(intervalMs));
});
