// The SIP UDP socket of one simulated server: binding with retry (W7), receiving datagrams and sending
// answers, and the lab faults that act on the wire (SIP NIC unplugged, forced bind failure).
import * as dgram from "node:dgram";
import { isIPv6 } from "node:net";

export type SipListenerState = "bound" | "bind-failed";

export interface SipEndpointOptions {
  address: string;
  port: number;
  bindRetryMs: number;
  onDatagram: (data: Buffer, from: { address: string; port: number }) => void;
  /** Called on every bind failure (the caller logs 00-04200 once per outage) and on success. */
  onBindResult: (result: { ok: true } | { ok: false; error: string }) => void;
}

export class SipEndpoint {
  private socket: dgram.Socket | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private forcedBindFailure = false;
  /** "SIP NIC unplugged": nothing comes in, nothing goes out, the socket stays bound. */
  private silent = false;
  state: SipListenerState = "bind-failed";

  constructor(private readonly options: SipEndpointOptions) {}

  get localPort(): number {
    return this.options.port;
  }

  async start(): Promise<void> {
    await this.tryBind();
  }

  setSilent(silent: boolean): void {
    this.silent = silent;
  }

  /** Lab fault: close the listener and fail every bind attempt until lifted (W7 without a port clash). */
  async setForcedBindFailure(on: boolean): Promise<void> {
    this.forcedBindFailure = on;
    if (on) {
      await this.closeSocket();
      this.state = "bind-failed";
      this.options.onBindResult({ ok: false, error: "lab fault bind-fail: listener closed and bind refused" });
      this.scheduleRetry();
    } else if (this.socket === null) {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      await this.tryBind();
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
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.closeSocket();
  }

  private async tryBind(): Promise<void> {
    if (this.stopped) return;
    if (this.forcedBindFailure) {
      this.options.onBindResult({ ok: false, error: "lab fault bind-fail" });
      this.scheduleRetry();
      return;
    }
    const socket = dgram.createSocket({ type: isIPv6(this.options.address) ? "udp6" : "udp4", reuseAddr: false });
    const error = await new Promise<Error | null>((resolve) => {
      socket.once("error", (bindError) => resolve(bindError));
      socket.bind(this.options.port, this.options.address, () => resolve(null));
    });
    if (error !== null || this.stopped) {
      socket.close();
      if (this.stopped) return;
      this.state = "bind-failed";
      this.options.onBindResult({ ok: false, error: error?.message ?? "stopped" });
      this.scheduleRetry();
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
    this.options.onBindResult({ ok: true });
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.tryBind();
    }, this.options.bindRetryMs);
  }

  private async closeSocket(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
