// The SIP UDP socket of one simulated server: opened and closed on request (an ip-takeover server holds
// the VIP only while primary), binding with retry (W7), waiting briefly for a VIP that is not on an
// interface yet, receiving datagrams and sending answers, and the lab faults that act on the wire (SIP
// NIC unplugged, forced bind failure).
import * as dgram from "node:dgram";
import { isIPv6 } from "node:net";
import { performance } from "node:perf_hooks";

/**
 * closed: not wanted (a backup's VIP listener); waiting-for-address: wanted, but the address is on no
 * interface yet (the agent adds the VIP after the promotion); bind-failed: W7.
 */
export type SipListenerState = "closed" | "bound" | "waiting-for-address" | "bind-failed";

/** How often a bind is retried while its address is not on an interface yet. */
export const addressRetryMs = 25;

export type BindFailureStep =
  | { kind: "wait-for-address"; retryInMs: number; waitingSinceMs: number }
  | { kind: "failed"; retryInMs: number; reason: string };

/**
 * What a failed bind means. EADDRNOTAVAIL on an address that appears only once this server serves (the
 * VIP: the agent's driver adds it after the promotion is confirmed) is waited for, quickly and for at most
 * `addressWaitMs`; anything else (EADDRINUSE, EACCES, or the address still missing after the wait) is a
 * bind failure (W7), retried every `bindRetryMs`.
 */
export function afterBindFailure(args: {
  errorCode: string | undefined;
  errorMessage: string;
  addressWaitMs: number;
  /** When this wait began (the first EADDRNOTAVAIL since the listener was opened), or null. */
  waitingSinceMs: number | null;
  nowMs: number;
  bindRetryMs: number;
}): BindFailureStep {
  if (args.errorCode === "EADDRNOTAVAIL" && args.addressWaitMs > 0) {
    const since = args.waitingSinceMs ?? args.nowMs;
    if (args.nowMs - since < args.addressWaitMs) return { kind: "wait-for-address", retryInMs: addressRetryMs, waitingSinceMs: since };
    return {
      kind: "failed",
      retryInMs: args.bindRetryMs,
      reason: `${args.errorMessage}: the address is still on no interface after ${args.addressWaitMs} ms`,
    };
  }
  return { kind: "failed", retryInMs: args.bindRetryMs, reason: args.errorMessage };
}

export interface SipEndpointOptions {
  address: string;
  port: number;
  bindRetryMs: number;
  /** How long EADDRNOTAVAIL is waited for before it counts as a bind failure; 0 = never (an own address). */
  addressWaitMs: number;
  /**
   * SO_REUSEADDR: lets a newly promoted server bind the VIP on loopback while a primary that was cut off
   * (W3) still holds it; Linux then delivers each datagram to the newest socket, as a gratuitous ARP sends
   * the traffic to the new host on a real network. A foreign process holding the port without it is
   * still a bind failure.
   */
  shareAddress: boolean;
  onDatagram: (data: Buffer, from: { address: string; port: number }) => void;
  /** Called on every bind failure (the caller logs 00-04200 once per outage) and on success; not while waiting for the address. */
  onBindResult: (result: { ok: true } | { ok: false; error: string }) => void;
}

export class SipEndpoint {
  private socket: dgram.Socket | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private wanted = false;
  /** Bumped on every open/close, so a bind that finishes after a close does not keep its socket. */
  private generation = 0;
  private waitingSinceMs: number | null = null;
  /** One bind attempt at a time: a fault lifted while a bind is under way must not start a second socket. */
  private binding = false;
  private forcedBindFailure = false;
  /** "SIP NIC unplugged": nothing comes in, nothing goes out, the socket stays bound. */
  private silent = false;
  state: SipListenerState = "closed";

  constructor(private readonly options: SipEndpointOptions) {}

  /** Wants the listener: binds now (retrying as needed). Resolves after the first attempt. */
  async open(): Promise<void> {
    if (this.stopped || this.wanted) return;
    this.wanted = true;
    this.generation += 1;
    this.waitingSinceMs = null;
    await this.tryBind(this.generation);
  }

  /** Gives the listener up: the port is free when this returns (no retries left behind). */
  async close(): Promise<void> {
    this.wanted = false;
    this.generation += 1;
    this.cancelRetry();
    this.state = "closed";
    await this.closeSocket();
  }

  setSilent(silent: boolean): void {
    this.silent = silent;
  }

  /** Lab fault: close the listener and fail every bind attempt until lifted (W7 without a port clash). */
  async setForcedBindFailure(on: boolean): Promise<void> {
    this.forcedBindFailure = on;
    if (!this.wanted) return;
    if (on) {
      await this.closeSocket();
      this.state = "bind-failed";
      this.options.onBindResult({ ok: false, error: "lab fault bind-fail: listener closed and bind refused" });
      this.scheduleRetry(this.options.bindRetryMs, this.generation);
    } else if (this.socket === null) {
      this.cancelRetry();
      await this.tryBind(this.generation);
    }
  }

  send(text: string, to: { address: string; port: number }): void {
    if (this.silent || this.socket === null) return;
    this.socket.send(text, to.port, to.address, () => {
      // Send errors on UDP (e.g. ICMP unreachable) are not the server's problem; ignore them.
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.close();
  }

  private current(generation: number): boolean {
    return !this.stopped && this.wanted && generation === this.generation;
  }

  private async tryBind(generation: number): Promise<void> {
    if (!this.current(generation) || this.binding) return;
    if (this.forcedBindFailure) {
      this.state = "bind-failed";
      this.options.onBindResult({ ok: false, error: "lab fault bind-fail" });
      this.scheduleRetry(this.options.bindRetryMs, generation);
      return;
    }
    const socket = dgram.createSocket({ type: isIPv6(this.options.address) ? "udp6" : "udp4", reuseAddr: this.options.shareAddress });
    this.binding = true;
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      socket.once("error", (bindError) => resolve(bindError));
      socket.bind(this.options.port, this.options.address, () => resolve(null));
    });
    this.binding = false;
    if (!this.current(generation)) {
      socket.close();
      // Closed and opened again while this bind was under way: the new opening skipped its attempt.
      if (this.wanted && !this.stopped && this.socket === null) void this.tryBind(this.generation);
      return;
    }
    if (error !== null) {
      socket.close();
      const step = afterBindFailure({
        errorCode: error.code,
        errorMessage: error.message,
        addressWaitMs: this.options.addressWaitMs,
        waitingSinceMs: this.waitingSinceMs,
        nowMs: performance.now(),
        bindRetryMs: this.options.bindRetryMs,
      });
      if (step.kind === "wait-for-address") {
        this.state = "waiting-for-address";
        this.waitingSinceMs = step.waitingSinceMs;
      } else {
        this.state = "bind-failed";
        this.options.onBindResult({ ok: false, error: step.reason });
      }
      this.scheduleRetry(step.retryInMs, generation);
      return;
    }
    socket.on("error", () => {
      // After binding, errors are per datagram (e.g. ICMP); the listener stays.
    });
    socket.on("message", (data, rinfo) => {
      if (this.silent) return;
      this.options.onDatagram(data, { address: rinfo.address, port: rinfo.port });
    });
    this.socket = socket;
    this.state = "bound";
    this.waitingSinceMs = null;
    this.options.onBindResult({ ok: true });
  }

  private scheduleRetry(delayMs: number, generation: number): void {
    if (!this.current(generation) || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.tryBind(generation);
    }, delayMs);
  }

  private cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private async closeSocket(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    // close() releases the port at once (libuv closes the descriptor synchronously); the callback is later.
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
