// A SIP client for tests that must show a server answered throughout something (an agent restart, an
// upgrade): it sends an OPTIONS every `intervalMs` and keeps each one as a SIP client transaction does
// over UDP (RFC 3261 §17.1.2): retransmitted after T1 = 500 ms, doubling up to T2 = 4 s, and given up
// only when Timer F (64·T1 = 32 s) fires with no final answer. So a probe fails the way a real SIP client
// would see a failure — not by an arbitrary timeout that a loaded machine could trip.
import dgram from "node:dgram";

const T1_MS = 500;
const T2_MS = 4_000;
const TIMER_F_MS = 64 * T1_MS;

export interface SipProbe {
  n: number;
  sentAt: number;
  /** When the final answer arrived (ms since the epoch), or null when Timer F fired first. */
  answeredAt: number | null;
  status: number | null;
  /** Times the request went out (1 = answered without a retransmission). */
  transmissions: number;
}

export interface SipProber {
  /** Probes sent so far (answered, failed, or still pending). */
  probes(): readonly SipProbe[];
  /** Sends no new probe and resolves once every probe sent has its final answer or has failed. */
  stop(): Promise<SipProbe[]>;
}

export async function startSipProber(opts: { address: string; port: number; intervalMs: number }): Promise<SipProber> {
  const socket = dgram.createSocket("udp4");
  // ICMP port unreachable (nobody listens for a moment) arrives as a socket error: the transaction goes on.
  socket.on("error", () => {});
  await new Promise<void>((done) => socket.bind(0, "127.0.0.1", () => done()));
  const own = socket.address();
  const tag = `probe-${process.pid}-${Date.now().toString(36)}`;
  const all: SipProbe[] = [];
  const pending = new Map<string, { probe: SipProbe; timers: NodeJS.Timeout[]; done: () => void }>();
  const settled: Promise<void>[] = [];

  const request = (n: number, callId: string) =>
    [
      `OPTIONS sip:${opts.address}:${opts.port} SIP/2.0`,
      `Via: SIP/2.0/UDP ${own.address}:${own.port};branch=z9hG4bK-${callId}`,
      "Max-Forwards: 70",
      `From: <sip:prober@${own.address}>;tag=p${n}`,
      `To: <sip:${opts.address}:${opts.port}>`,
      `Call-ID: ${callId}`,
      "CSeq: 1 OPTIONS",
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n");

  socket.on("message", (m) => {
    const text = m.toString("utf8");
    const callId = /^Call-ID:\s*(.+)$/im.exec(text)?.[1]?.trim() ?? "";
    const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1] ?? 0);
    const entry = pending.get(callId);
    if (!entry || status < 200) return; // a provisional answer does not end a transaction
    entry.probe.answeredAt = Date.now();
    entry.probe.status = status;
    entry.done();
  });

  const send = () => {
    const n = all.length + 1;
    const callId = `${tag}-${n}`;
    const text = request(n, callId);
    const probe: SipProbe = { n, sentAt: Date.now(), answeredAt: null, status: null, transmissions: 0 };
    all.push(probe);
    const transmit = () => {
      probe.transmissions += 1;
      socket.send(text, opts.port, opts.address);
    };
    settled.push(
      new Promise<void>((resolve) => {
        const timers: NodeJS.Timeout[] = [];
        const done = () => {
          for (const t of timers) clearTimeout(t);
          pending.delete(callId);
          resolve();
        };
        pending.set(callId, { probe, timers, done });
        transmit();
        // Timer E: retransmit at T1, then doubling up to T2, until Timer F.
        for (let at = T1_MS, gap = T1_MS; at < TIMER_F_MS; gap = Math.min(gap * 2, T2_MS), at += gap) timers.push(setTimeout(transmit, at));
        timers.push(setTimeout(done, TIMER_F_MS));
      }),
    );
  };
  send();
  const interval = setInterval(send, opts.intervalMs);
  return {
    probes: () => all,
    async stop() {
      clearInterval(interval);
      await Promise.all(settled);
      await new Promise<void>((done) => socket.close(() => done()));
      return all;
    },
  };
}
