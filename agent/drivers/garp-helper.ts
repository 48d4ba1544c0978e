// Gratuitous ARP from a kept packet socket: one small helper process per agent, started when the first
// linux-ip pair that announces its VIP is configured, opens an AF_PACKET socket once and then writes
// one ARP frame per request it reads on stdin. Enabling a VIP therefore costs a line on a pipe, not an
// arping process (whose start — and, for Habets' arping, its libpcap ring — put tens of ms between the
// address and its first announcement: BENCHMARKS.md, issue 15). Node has no packet sockets, so the
// helper is Perl (perl-base is part of every Debian/Ubuntu system; most other distributions install
// perl too); where it cannot run — no perl, no CAP_NET_RAW — the driver falls back to arping, as before.
//
// Protocol (one line each way): `<id> <interface> <IPv4>` → `<id> ok` | `<id> err <why>`; at start the
// helper prints `ready`, or `fatal <why>` and exits. The frame is the kernel's own gratuitous ARP
// (arp_notify): a broadcast request whose sender and target address are both the VIP, sender MAC the
// interface's (read from /sys at each request, so a re-created interface is followed).
import { spawn, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";

export const GARP_HELPER_SCRIPT = String.raw`
use strict; use warnings;
$| = 1;
$SIG{PIPE} = 'IGNORE';
# AF_PACKET (17), SOCK_RAW (3), protocol 0: send only, so no receive ring to set up or fill.
socket(my $s, 17, 3, 0) or do { print "fatal cannot open a packet socket: $!\n"; exit 2 };
print "ready\n";
while (my $line = <STDIN>) {
  chomp $line;
  my ($id, $ifname, $ip) = split / /, $line;
  next unless defined $id && $id =~ /^\d+$/;
  my $err = eval {
    die "bad request\n" unless defined $ip;
    die "bad interface name $ifname\n" unless $ifname =~ m{^[^/\s]{1,15}$};
    my @o = split /\./, $ip;
    die "not an IPv4 address: $ip\n" unless @o == 4 && !grep { !/^\d{1,3}$/ || $_ > 255 } @o;
    open(my $f, '<', "/sys/class/net/$ifname/ifindex") or die "no interface $ifname ($!)\n";
    my $idx = <$f>; close $f; chomp $idx;
    open($f, '<', "/sys/class/net/$ifname/address") or die "no interface $ifname ($!)\n";
    my $mac = <$f>; close $f; chomp $mac;
    die "$ifname has no Ethernet address ($mac)\n" unless $mac =~ /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
    my $sha = pack('H12', join('', split /:/, $mac));
    my $spa = pack('C4', @o);
    my $bcast = "\xff" x 6;
    # Ethernet header, then ARP: Ethernet/IPv4, request, sender = target = the VIP.
    my $frame = $bcast . $sha . pack('n', 0x0806) . pack('n n C C n', 1, 0x0800, 6, 4, 1) . $sha . $spa . ("\0" x 6) . $spa;
    $frame .= "\0" x (60 - length $frame);
    my $sll = pack('S n i S C C a8', 17, 0x0806, $idx, 1, 0, 6, $bcast);
    defined(send($s, $frame, 0, $sll)) or die "sending on $ifname failed ($!)\n";
    '';
  };
  $err = $@ unless defined $err;
  chomp $err; $err =~ s/\s+/ /g;
  print $err eq '' ? "$id ok\n" : "$id err $err\n";
}
`;

export interface GarpSend {
  ok: boolean;
  /** The helper could not be used (not running, could not start): the caller announces another way. */
  unavailable: boolean;
  /** Why it failed, in words; "" when it was sent. */
  detail: string;
  durationMs: number;
}

interface Pending {
  resolve: (r: GarpSend) => void;
  started: number;
  timer: NodeJS.Timeout;
}

const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 60_000;

/**
 * The helper process and its requests. Restarts it when it dies (1 s, doubling up to 60 s while it
 * keeps dying); `close` ends it, and it also exits by itself when the agent dies (its stdin closes).
 */
export class GarpHelper {
  private child: ChildProcess | null = null;
  private state: "starting" | "ready" | "unavailable" | "closed" = "unavailable";
  private why = "not started";
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffer = "";
  private restartTimer: NodeJS.Timeout | null = null;
  private restartDelayMs = RESTART_MIN_MS;
  private readyWaiters: (() => void)[] = [];
  private saidUnavailable = false;
  /** What the helper said before it exited, when it could not open its socket. */
  private fatal: string | null = null;

  constructor(
    private readonly log: (line: string) => void = () => {},
    private readonly argv: string[] = ["perl", "-e", GARP_HELPER_SCRIPT],
  ) {
    this.start();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get status(): { state: GarpHelper["state"]; detail: string } {
    return { state: this.state, detail: this.why };
  }

  private start(): void {
    if (this.state === "closed") return;
    this.restartTimer = null;
    this.state = "starting";
    this.fatal = null;
    this.buffer = "";
    const startedAt = performance.now();
    const child = spawn(this.argv[0]!, this.argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], windowsHide: true });
    this.child = child;
    let stderr = "";
    child.stdin!.on("error", () => {});
    child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-500)));
    child.stdout!.on("data", (c: Buffer) => {
      if (this.child !== child) return;
      this.buffer += c.toString("utf8");
      let nl: number;
      while ((nl = this.buffer.indexOf("\n")) >= 0) {
        this.onLine(this.buffer.slice(0, nl));
        this.buffer = this.buffer.slice(nl + 1);
      }
    });
    let gone = false;
    const onGone = (why: string) => {
      if (gone) return;
      gone = true;
      if (this.child !== child) return;
      this.child = null;
      for (const [id, p] of this.pending) this.settle(id, p, { ok: false, unavailable: false, detail: `the gratuitous ARP helper exited before answering (${why})` });
      if (this.state === "closed") return;
      this.state = "unavailable";
      this.why = this.fatal ?? `the gratuitous ARP helper (${this.argv[0]}) ${why}${stderr.trim() ? `: ${stderr.trim().slice(0, 200)}` : ""}`;
      this.wakeReadyWaiters();
      // Short-lived again and again (perl missing, no CAP_NET_RAW): back off; lived a while: restart soon.
      this.restartDelayMs = performance.now() - startedAt > 30_000 ? RESTART_MIN_MS : Math.min(this.restartDelayMs * 2, RESTART_MAX_MS);
      if (!this.saidUnavailable) this.log(`${this.why}; restarting it in ${this.restartDelayMs} ms (meanwhile gratuitous ARP is sent with arping)`);
      this.saidUnavailable = true;
      this.restartTimer = setTimeout(() => this.start(), this.restartDelayMs);
      this.restartTimer.unref();
    };
    child.on("error", (err) => onGone(`could not start: ${err.message}`));
    child.on("close", (code, signal) => onGone(signal ? `was killed by ${signal}` : `exited with code ${code}`));
  }

  private onLine(line: string): void {
    if (line === "ready") {
      this.state = "ready";
      this.why = "ready";
      if (this.saidUnavailable) this.log("the gratuitous ARP helper runs again");
      this.saidUnavailable = false;
      this.wakeReadyWaiters();
      return;
    }
    if (line.startsWith("fatal ")) {
      this.fatal = `the gratuitous ARP helper ${line.slice(6)}`;
      return;
    }
    const m = /^(\d+) (ok|err)(?: (.*))?$/.exec(line);
    if (!m) return;
    const id = Number(m[1]);
    const p = this.pending.get(id);
    if (p) this.settle(id, p, { ok: m[2] === "ok", unavailable: false, detail: m[2] === "ok" ? "" : (m[3] ?? "failed") });
  }

  private settle(id: number, p: Pending, r: Omit<GarpSend, "durationMs">): void {
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve({ ...r, durationMs: Math.round((performance.now() - p.started) * 10) / 10 });
  }

  private wakeReadyWaiters(): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  /** One gratuitous ARP for `ipv4` out of `iface`; `unavailable` when the helper cannot be used now. */
  async send(iface: string, ipv4: string, timeoutMs: number): Promise<GarpSend> {
    const started = performance.now();
    if (this.state === "starting") {
      // Only right after the agent (re)started it; the failover path finds it ready.
      await new Promise<void>((resolve) => {
        this.readyWaiters.push(resolve);
        setTimeout(resolve, Math.min(timeoutMs, 2000)).unref();
      });
    }
    const child = this.child;
    if (this.state !== "ready" || !child?.stdin?.writable) {
      return { ok: false, unavailable: true, detail: this.state === "closed" ? "the gratuitous ARP helper is closed" : this.why, durationMs: Math.round((performance.now() - started) * 10) / 10 };
    }
    const id = this.nextId++;
    return new Promise<GarpSend>((resolve) => {
      const timer = setTimeout(() => {
        const p = this.pending.get(id);
        if (p) this.settle(id, p, { ok: false, unavailable: false, detail: `the gratuitous ARP helper did not answer within ${timeoutMs} ms` });
      }, timeoutMs);
      this.pending.set(id, { resolve, started, timer });
      child.stdin!.write(`${id} ${iface} ${ipv4}\n`);
    });
  }

  /** Ends the helper (and any restart), answering what is still pending. */
  close(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    this.child = null;
    for (const [id, p] of this.pending) this.settle(id, p, { ok: false, unavailable: false, detail: "the gratuitous ARP helper was closed" });
    this.wakeReadyWaiters();
    if (child) {
      child.stdin?.end();
      child.kill("SIGKILL");
    }
  }
}

let shared: { helper: GarpHelper; users: number } | null = null;

/**
 * The agent's one helper, shared by its linux-ip drivers; started by the first, ended when the last
 * releases it (a configuration change creates the new drivers before it releases the old ones).
 */
export function acquireGarpHelper(log?: (line: string) => void): { helper: GarpHelper; release: () => void } {
  shared ??= { helper: new GarpHelper(log), users: 0 };
  const mine = shared;
  mine.users++;
  let released = false;
  return {
    helper: mine.helper,
    release: () => {
      if (released) return;
      released = true;
      mine.users--;
      if (mine.users === 0) {
        mine.helper.close();
        if (shared === mine) shared = null;
      }
    },
  };
}
