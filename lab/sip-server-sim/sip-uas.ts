// The SIP user agent server of one simulated SIP Server: owns the SIP listener (on the VIP only while
// primary for an ip-takeover pair; W7 bind failures), answers requests as the primary does (or 503 as the
// backup), keeps the dialog bits a UAS needs (pending INVITEs, To tags) and sends OPTIONS pings for traffic
// monitoring, with the advertised address in what it writes. Calls and contacts live in the shared tables;
// what must reach the backup or the traffic monitor is handed out through `SipUasEvents`.
import { randomBytes } from "node:crypto";
import type { AppRole } from "../../protocol/app-contract";
import type { AgentClient } from "./agent-client";
import type { CallRecord, CallTable, ContactBinding, Registrar } from "./calls";
import { SipEndpoint, type SipListenerState } from "./sip-endpoint";
import {
  buildBadRequest,
  buildOptionsPing,
  buildResponse,
  parseDatagram,
  servedMethods,
  serverProduct,
  uriTarget,
  uriUser,
  type SipRequest,
} from "./sip-message";

/** Default registration lifetime when neither the Contact nor an Expires header gives one (RFC 3261 §10.2.1.1). */
const defaultRegisterExpiresSec = 3600;
const maxRegisterExpiresSec = 86_400;

type Peer = { address: string; port: number };

export interface SipUasEvents {
  /** Any SIP message arrived; `response` is set for responses (the traffic monitor matches its pings). */
  onSipMessage(nowMs: number, response?: { callId: string; status: number }): void;
  /** A call was created or changed state on the primary: the backup must learn it (W12). */
  onCallChanged(call: CallRecord): void;
  /** A call ended on the primary (BYE, CANCEL): the backup drops it. */
  onCallEnded(callId: string): void;
  /** An AOR's bindings changed on the primary (W11). */
  onContactsChanged(aor: string, bindings: ContactBinding[]): void;
}

export interface SipUasOptions {
  name: string;
  version: string;
  /** Where the UDP listener binds. */
  listenAddress: string;
  /** Written into Via/Contact/SDP of what this server sends: the VIP for ip-takeover. */
  advertisedAddress: string;
  port: number;
  /**
   * The listen address is the pair's VIP: the listener is open only while primary (two servers never
   * answer on the VIP), and the VIP may reach the interface only after the promotion (waited for up to
   * `vipBindWaitMs`).
   */
  listensOnVip: boolean;
  vipBindWaitMs: number;
  bindRetryMs: number;
  role: () => AppRole;
  /** The lab `hang` fault: nothing is answered. */
  hung: () => boolean;
  calls: CallTable;
  registrar: Registrar;
  nowMs: () => number;
  agent: AgentClient;
  log: (line: string) => void;
  events: SipUasEvents;
}

export class SipUas {
  private readonly endpoint: SipEndpoint;
  private readonly pendingInvites = new Map<string, SipRequest>();
  private readonly toTags = new Map<string, string>();
  private bindFailureLogged = false;
  private readonly product: string;

  constructor(private readonly options: SipUasOptions) {
    this.product = serverProduct(options.version, options.name);
    this.endpoint = new SipEndpoint({
      address: options.listenAddress,
      port: options.port,
      bindRetryMs: options.bindRetryMs,
      addressWaitMs: options.listensOnVip ? options.vipBindWaitMs : 0,
      shareAddress: options.listensOnVip,
      onDatagram: (data, from) => this.onDatagram(data, from),
      onBindResult: (result) => this.onBindResult(result),
    });
  }

  /** The listener as it is (the lab state shows it; readiness only distinguishes bind-failed). */
  get listenerState(): SipListenerState {
    return this.endpoint.state;
  }

  /** Opens the listener unless it is the VIP and this server is backup. */
  async start(): Promise<void> {
    if (this.wantsListener(this.options.role())) await this.endpoint.open();
  }

  /**
   * The VIP listener follows the role: closed at once on demotion (the port is free before the role
   * command is answered, so the new primary can bind it), opened on promotion without waiting (on a real
   * network the VIP reaches this host only after the promotion is confirmed).
   */
  roleChanged(role: AppRole): void {
    if (!this.options.listensOnVip) return;
    if (this.wantsListener(role)) void this.endpoint.open();
    else void this.endpoint.close();
  }

  private wantsListener(role: AppRole): boolean {
    return !this.options.listensOnVip || role === "primary";
  }

  async stop(): Promise<void> {
    await this.endpoint.stop();
  }

  setSilent(silent: boolean): void {
    this.endpoint.setSilent(silent);
  }

  async setForcedBindFailure(on: boolean): Promise<void> {
    await this.endpoint.setForcedBindFailure(on);
  }

  /** The UAS's dialog state for a call that ended elsewhere (HA drop, lab end). */
  forgetCall(callId: string): void {
    this.pendingInvites.delete(callId);
    this.toTags.delete(callId);
  }

  /** Sends one Active-OOS OPTIONS ping to a DN's contact; returns its Call-ID, or null when it cannot go out. */
  sendOptionsPing(dn: string, contact: string | undefined, sequence: number): string | null {
    const target = contact === undefined ? undefined : uriTarget(contact);
    if (target === undefined) return null;
    const ping = buildOptionsPing({
      targetUri: target.uri,
      localAddress: this.options.advertisedAddress,
      localPort: this.options.port,
      dn,
      sequence,
      token: randomTag(),
      product: this.product,
    });
    this.endpoint.send(ping.text, { address: target.host, port: target.port });
    return ping.callId;
  }

  private onBindResult(result: { ok: true } | { ok: false; error: string }): void {
    const where = `${this.options.listenAddress}:${this.options.port}`;
    if (result.ok) {
      if (this.bindFailureLogged) this.options.log(`SIP listener bound on ${where} after retrying`);
      this.bindFailureLogged = false;
      return;
    }
    // W7: stay Running, raise 00-04200 once per outage, keep retrying.
    if (!this.bindFailureLogged) {
      this.bindFailureLogged = true;
      this.options.agent.logEvent({
        id: "00-04200",
        level: "alarm",
        text: `cannot open SIP listener on ${where} (${result.error}); still running, retrying every ${this.options.bindRetryMs} ms`,
      });
    }
  }

  private onDatagram(data: Buffer, from: Peer): void {
    if (this.options.hung()) return;
    let parsed;
    try {
      parsed = parseDatagram(data);
    } catch (error) {
      // parseDatagram does not throw by design; this guards the process if a library bug says otherwise.
      this.options.log(`dropped datagram from ${from.address}:${from.port}: parser error ${String(error)}`);
      return;
    }
    const nowMs = this.options.nowMs();
    switch (parsed.kind) {
      case "garbage":
        this.options.log(`dropped datagram from ${from.address}:${from.port}: ${parsed.reason}`);
        return;
      case "bad-request":
        this.options.log(`400 to ${from.address}:${from.port}: ${parsed.reason}`);
        this.endpoint.send(buildBadRequest(parsed, this.product), from);
        return;
      case "response":
        this.options.events.onSipMessage(nowMs, { callId: parsed.response.callId, status: parsed.response.status });
        return;
      case "request":
        this.options.events.onSipMessage(nowMs);
        this.onRequest(parsed.request, from, nowMs);
        return;
    }
  }

  private reply(request: SipRequest, to: Peer, status: number, reason: string, extras: Parameters<typeof buildResponse>[3] = {}): void {
    this.endpoint.send(buildResponse(request, status, reason, { ...extras, headers: { Server: this.product, ...extras.headers } }), to);
  }

  private onRequest(request: SipRequest, from: Peer, nowMs: number): void {
    const primary = this.options.role() === "primary";
    if (request.method === "ACK") {
      // ACK never gets a response; it confirms a 2xx (call established) or ends a failed INVITE.
      if (primary) this.onAck(request);
      return;
    }
    const allow = { Allow: servedMethods.join(", ") };
    if (!primary) {
      // The backup does not serve SIP: 503 tells the sender to try the other server (RFC 3263).
      this.reply(request, from, 503, "Service Unavailable", { toTag: randomTag(), headers: { "Retry-After": "5" } });
      return;
    }
    switch (request.method) {
      case "OPTIONS":
        // A Contact in the 200 (RFC 3261 §11.2) tells the client the address to use: the advertised one.
        this.reply(request, from, 200, "OK", { toTag: randomTag(), contact: this.ownContact(), headers: { ...allow, Accept: "application/sdp" } });
        return;
      case "REGISTER":
        this.onRegister(request, from, nowMs);
        return;
      case "INVITE":
        this.onInvite(request, from, nowMs);
        return;
      case "BYE":
        this.onBye(request, from);
        return;
      case "CANCEL":
        this.onCancel(request, from);
        return;
      default:
        this.reply(request, from, 501, "Not Implemented", { toTag: randomTag(), headers: allow });
    }
  }

  private onRegister(request: SipRequest, from: Peer, nowMs: number): void {
    const { registrar } = this.options;
    const aor = request.to.uri;
    if (request.contact === "*") {
      if (request.expiresHeaderSec !== 0) {
        this.reply(request, from, 400, "Bad Request", { toTag: randomTag(), headers: { Warning: '399 switchyard "Contact: * needs Expires: 0"' } });
        return;
      }
      registrar.removeAll(aor);
    } else {
      for (const contact of request.contact ?? []) {
        const paramExpires = contact.params["expires"];
        let expiresSec = request.expiresHeaderSec ?? defaultRegisterExpiresSec;
        if (paramExpires !== undefined && paramExpires !== null) {
          const value = Number(paramExpires);
          if (!Number.isInteger(value) || value < 0) {
            this.reply(request, from, 400, "Bad Request", { toTag: randomTag(), headers: { Warning: `399 switchyard "bad expires ${paramExpires}"` } });
            return;
          }
          expiresSec = value;
        }
        if (!registrar.bind(aor, contact.uri, Math.min(expiresSec, maxRegisterExpiresSec), nowMs)) {
          this.reply(request, from, 503, "Service Unavailable", { toTag: randomTag() });
          return;
        }
      }
    }
    const bindings = registrar.lookup(aor, nowMs);
    this.reply(request, from, 200, "OK", {
      toTag: randomTag(),
      contact: bindings.map((binding) => ({
        uri: binding.uri,
        params: { expires: String(Math.max(0, Math.round((binding.expiresAtMs - nowMs) / 1000))) },
      })),
    });
    // W11: the backup gets the AOR's new bindings at once.
    this.options.events.onContactsChanged(aor, bindings);
  }

  private onInvite(request: SipRequest, from: Peer, nowMs: number): void {
    const { calls } = this.options;
    const existing = calls.get(request.callId);
    const toTag = this.toTags.get(request.callId) ?? randomTag();
    const contact = this.ownContact();
    if (existing === undefined) {
      const call: CallRecord = {
        callId: request.callId,
        from: request.from.uri,
        to: request.to.uri,
        state: "ringing",
        multisite: request.multisite,
        createdAtMs: nowMs,
      };
      if (!calls.put(call)) {
        this.reply(request, from, 503, "Service Unavailable", { toTag, headers: { Warning: '399 switchyard "call table full"' } });
        return;
      }
      this.toTags.set(request.callId, toTag);
      this.options.events.onCallChanged(call);
    }
    this.reply(request, from, 100, "Trying");
    this.reply(request, from, 180, "Ringing", { toTag, contact });
    // Lab convention: a request-URI user starting with "noanswer" keeps ringing until CANCEL.
    if (uriUser(request.uri).toLowerCase().startsWith("noanswer") && existing?.state !== "established") {
      this.pendingInvites.set(request.callId, request);
      return;
    }
    this.reply(request, from, 200, "OK", {
      toTag,
      contact,
      body: { contentType: "application/sdp", content: this.sdpAnswer(nowMs) },
    });
  }

  private onAck(request: SipRequest): void {
    const call = this.options.calls.get(request.callId);
    if (call === undefined || call.state === "established") return;
    if (this.pendingInvites.has(request.callId)) return;
    const established: CallRecord = { ...call, state: "established" };
    this.options.calls.put(established);
    this.options.events.onCallChanged(established);
  }

  private onBye(request: SipRequest, from: Peer): void {
    const call = this.options.calls.remove(request.callId);
    if (call === undefined) {
      this.reply(request, from, 481, "Call/Transaction Does Not Exist", { toTag: randomTag() });
      return;
    }
    this.forgetCall(request.callId);
    this.reply(request, from, 200, "OK");
    this.options.events.onCallEnded(request.callId);
  }

  private onCancel(request: SipRequest, from: Peer): void {
    const invite = this.pendingInvites.get(request.callId);
    const call = this.options.calls.get(request.callId);
    if (call === undefined) {
      this.reply(request, from, 481, "Call/Transaction Does Not Exist", { toTag: randomTag() });
      return;
    }
    // Too late to cancel an answered call: 200 to the CANCEL, no effect (RFC 3261 §9.2).
    this.reply(request, from, 200, "OK", { toTag: this.toTags.get(request.callId) ?? randomTag() });
    if (invite === undefined) return;
    this.reply(invite, from, 487, "Request Terminated", { toTag: this.toTags.get(request.callId) ?? randomTag() });
    this.options.calls.remove(request.callId);
    this.forgetCall(request.callId);
    this.options.events.onCallEnded(request.callId);
  }

  private ownContact(): Array<{ uri: string; params: Record<string, string | null> }> {
    const address = this.options.advertisedAddress;
    return [{ uri: `sip:switchyard@${address.includes(":") ? `[${address}]` : address}:${this.options.port}`, params: {} }];
  }

  private sdpAnswer(nowMs: number): string {
    const session = Math.floor(nowMs / 1000);
    const address = this.options.advertisedAddress;
    const family = address.includes(":") ? "IP6" : "IP4";
    return [
      "v=0",
      `o=switchyard ${session} ${session} IN ${family} ${address}`,
      "s=switchyard simulator",
      `c=IN ${family} ${address}`,
      "t=0 0",
      "m=audio 9 RTP/AVP 0",
      "a=rtpmap:0 PCMU/8000",
      "a=inactive",
      "",
    ].join("\r\n");
  }
}

export function randomTag(): string {
  return randomBytes(6).toString("hex");
}
