// One simulated SIP Server: role and epoch (fencing), SIP handling, HA link protocol (call and
// contact sync), readiness, traffic monitoring, network monitors and lab faults. The timing rules
// live in the pure modules (readiness, traffic-monitor, call-sync, monitors); this class wires them
// to sockets and timers.
import { randomBytes } from "node:crypto";
import { networkInterfaces } from "node:os";
import type { AppRole, AppStatusReport, SetRoleRequest, SipServerStatus } from "../../protocol/app-contract";
import type { AgentClient } from "./agent-client";
import { planCallSync, runPacedSync, splitIntoBatches } from "./call-sync";
import { CallTable, Registrar, type CallRecord } from "./calls";
import { HaLink, type HaMessage } from "./ha-link";
import { checkVip, shouldDemoteForBothPrimary, sipNicUp, type VipCheckState } from "./monitors";
import { computeReadiness } from "./readiness";
import { SipEndpoint } from "./sip-endpoint";
import {
  buildBadRequest,
  buildOptionsPing,
  buildResponse,
  parseDatagram,
  servedMethods,
  uriTarget,
  uriUser,
  type SipRequest,
} from "./sip-message";
import type { SimSettings } from "./settings";
import {
  duePings,
  initialTrafficMonitorState,
  stepTrafficMonitor,
  type TrafficMonitorConfig,
  type TrafficMonitorEvent,
  type TrafficMonitorState,
} from "./traffic-monitor";

export interface Clock {
  nowMs(): number;
}
export const systemClock: Clock = { nowMs: () => Date.now() };

export const labFaultKinds = ["sip-silent", "bind-fail", "hang", "crash", "tlib-nic-down"] as const;
export type LabFaultKind = (typeof labFaultKinds)[number];

/** Default registration lifetime when neither the Contact nor an Expires header gives one (RFC 3261 §10.2.1.1). */
const defaultRegisterExpiresSec = 3600;
const maxRegisterExpiresSec = 86_400;
/** Traffic monitor resolution: SERVICE_UNAVAILABLE is reported at most this late. */
const trafficTickMs = 200;
/** Outstanding OPTIONS pings remembered (per DN one at a time in practice). */
const maxOutstandingPings = 1000;

export type RoleChangeResult =
  | { ok: true; role: AppRole; epoch: number }
  | { ok: false; epoch: number; message: string };

export interface HaSyncRecord {
  syncId: number;
  /** Sizes of the batches received (backup) or sent (primary), in order. */
  batchSizes: number[];
  done: boolean;
}

export class SimServer {
  role: AppRole;
  epoch = 0;
  private lastRoleCommand: { commandId: string; result: RoleChangeResult } | null = null;

  readonly calls = new CallTable();
  readonly registrar = new Registrar();
  private readonly pendingInvites = new Map<string, SipRequest>();
  private readonly toTags = new Map<string, string>();

  private haLink: HaLink | null = null;
  private haLinkUpSinceMs: number | null = null;
  private peer: { name: string; role: AppRole; epoch: number } | null = null;
  private syncSequence = 0;
  private activeSyncId = -1;
  /** Primary: non-multisite calls the backup confirmed holding. */
  private readonly syncedOnBackup = new Set<string>();
  /** Backup: the primary's call list (from its hello and live updates), to show sync progress. */
  private readonly expectedFromPrimary = new Set<string>();
  private backupSyncComplete = false;
  readonly haSyncLog: HaSyncRecord[] = [];

  private readonly sip: SipEndpoint | null;
  private bindFailureLogged = false;

  private traffic: TrafficMonitorState;
  private trafficConfig: TrafficMonitorConfig;
  private readonly outstandingPings = new Map<string, string>();
  private pingSequence = 0;

  private consoleConnected = true;
  private vipState: VipCheckState = { consecutiveMismatches: 0, failing: false };
  private vipUnavailable = false;
  private sipNicFailing = false;

  readonly faults: Record<LabFaultKind, boolean> = {
    "sip-silent": false,
    "bind-fail": false,
    hang: false,
    crash: false,
    "tlib-nic-down": false,
  };

  private lastReportedStatus = "";
  private statusDetail = "";
  private timers: NodeJS.Timeout[] = [];
  private monitorRunning = false;
  private stopped = false;

  constructor(
    public settings: SimSettings,
    private readonly agent: AgentClient,
    private readonly clock: Clock,
    private readonly log: (line: string) => void,
  ) {
    this.role = settings.config.initialRole;
    this.trafficConfig = { sipPassCheck: settings.sipPassCheck, devices: settings.oosDevices };
    this.traffic = initialTrafficMonitorState(this.role, clock.nowMs(), this.trafficConfig);
    this.sip =
      settings.sipPort === null
        ? null
        : new SipEndpoint({
            address: settings.sipAddress,
            port: settings.sipPort,
            bindRetryMs: settings.bindRetryMs,
            onDatagram: (data, from) => this.onDatagram(data, from),
            onBindResult: (result) => this.onBindResult(result),
          });
  }

  get name(): string {
    return this.settings.config.name;
  }

  async start(): Promise<void> {
    for (const warning of this.settings.warnings) this.log(`configuration: ${warning}`);
    await this.sip?.start();
    await this.startHaLink();
    this.timers.push(setInterval(() => this.onTrafficTick(), trafficTickMs));
    this.timers.push(setInterval(() => void this.runMonitors(), this.settings.monitorIntervalMs));
    this.reportStatus(`started as ${this.role}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.sip?.stop();
    await this.haLink?.stop();
    await this.agent.flush();
  }

  // ---- roles (contract: POST /switchyard/v1/role) -------------------------------------------

  setRole(request: SetRoleRequest): RoleChangeResult {
    // Retries of the same command get the same answer, even if a newer epoch arrived since.
    if (this.lastRoleCommand?.commandId === request.commandId) return this.lastRoleCommand.result;
    if (request.epoch < this.epoch) {
      return {
        ok: false,
        epoch: this.epoch,
        message: `refused role ${request.role} at epoch ${request.epoch}: this server holds epoch ${this.epoch}`,
      };
    }
    this.epoch = request.epoch;
    const result: RoleChangeResult = { ok: true, role: request.role, epoch: this.epoch };
    this.lastRoleCommand = { commandId: request.commandId, result };
    this.applyRole(request.role, `role set to ${request.role} at epoch ${request.epoch} (command ${request.commandId})`);
    return result;
  }

  private applyRole(role: AppRole, reason: string): void {
    const changed = role !== this.role;
    this.role = role;
    this.feedTraffic({ type: "role", role, nowMs: this.clock.nowMs() });
    if (changed) {
      this.log(reason);
      // The sync direction follows the roles: exchange call lists again.
      this.syncedOnBackup.clear();
      this.backupSyncComplete = false;
      this.activeSyncId = -1;
      this.sendHello(true);
    }
    this.reportStatus(reason);
  }

  /**
   * Applies a re-read configuration (POST /switchyard/v1/reload). Options that "take effect
   * immediately" do; the batch size applies at the next HA connection because it is read then;
   * ports and addresses need a restart and are only reported.
   */
  applySettings(next: SimSettings): string[] {
    const notes: string[] = [...next.warnings];
    const restartNeeded = (["sipAddress", "sipPort", "httpPort", "haPort"] as const).filter((key) => next[key] !== this.settings[key]);
    if (restartNeeded.length > 0) notes.push(`changed ${restartNeeded.join(", ")}: takes effect at restart`);
    // Keep the running ports and addresses; take everything else.
    this.settings = { ...next, sipAddress: this.settings.sipAddress, sipPort: this.settings.sipPort, httpPort: this.settings.httpPort, haPort: this.settings.haPort };
    this.trafficConfig = { sipPassCheck: next.sipPassCheck, devices: next.oosDevices };
    const nowMs = this.clock.nowMs();
    // New service DNs get a full timeout from now instead of counting as failed since forever.
    const answers = { ...this.traffic.deviceLastAnswerAtMs };
    const pings = { ...this.traffic.deviceLastPingAtMs };
    for (const device of next.oosDevices) {
      answers[device.dn] ??= nowMs;
      pings[device.dn] ??= Number.NEGATIVE_INFINITY;
    }
    this.traffic = { ...this.traffic, deviceLastAnswerAtMs: answers, deviceLastPingAtMs: pings };
    for (const note of notes) this.log(`reload: ${note}`);
    return notes;
  }

  setConsoleConnected(connected: boolean): void {
    this.consoleConnected = connected;
  }

  // ---- status and readiness (contract: GET /server?sipServer) -------------------------------

  private get serviceUnavailable(): boolean {
    return this.traffic.serviceUnavailable || this.vipUnavailable || this.sipNicFailing;
  }

  sipServerStatus(): SipServerStatus {
    const nowMs = this.clock.nowMs();
    const nonMultisite = this.calls.nonMultisiteIds();
    const syncedCount = nonMultisite.filter((id) => this.syncedOnBackup.has(id)).length;
    const readiness = computeReadiness({
      role: this.role,
      nowMs,
      haLinkUpSinceMs: this.haLinkUpSinceMs,
      nonMultisiteCalls: nonMultisite.length,
      nonMultisiteCallsSynced: syncedCount,
      multisiteCallsPredatingLink:
        this.haLinkUpSinceMs === null ? this.calls.countMultisite() : this.calls.countMultisiteExistingAt(this.haLinkUpSinceMs),
      backupSyncComplete: this.backupSyncComplete,
      linkSettleMs: this.settings.readinessSettleMs,
    });
    let calls: SipServerStatus["calls"];
    if (this.role === "primary") {
      calls = { total: this.calls.size, synced: syncedCount, multisite: this.calls.countMultisite() };
    } else {
      const held = nonMultisite.filter((id) => this.expectedFromPrimary.has(id)).length;
      calls = { total: Math.max(this.expectedFromPrimary.size, this.calls.size), synced: held, multisite: this.calls.countMultisite() };
    }
    return {
      role: this.role,
      epoch: this.epoch,
      status: this.serviceUnavailable ? "service-unavailable" : "running",
      haLink: this.haLinkUpSinceMs === null ? "down" : "up",
      haLinkUpSince: this.haLinkUpSinceMs === null ? null : new Date(this.haLinkUpSinceMs).toISOString(),
      calls,
      readyForSwitchover: readiness.readyForSwitchover,
      readyForUpgrade: readiness.readyForUpgrade,
      notReadyReasons: readiness.notReadyReasons,
      sipListener: this.sip === null || this.sip.state === "bound" ? "bound" : "bind-failed",
      oosBackoff: this.traffic.backoff,
    };
  }

  private reportStatus(detail: string): void {
    if (detail !== "") this.statusDetail = detail;
    const report: AppStatusReport = {
      status: this.serviceUnavailable ? "service-unavailable" : "running",
      role: this.role,
      epoch: this.epoch,
      detail: this.statusDetail.slice(0, 1000),
      oosBackoff: this.traffic.backoff,
    };
    const key = `${report.status}|${report.role}|${report.epoch}|${report.oosBackoff}|${report.detail}`;
    if (key === this.lastReportedStatus) return;
    this.lastReportedStatus = key;
    this.agent.reportStatus(report);
  }

  // ---- SIP -----------------------------------------------------------------------------------

  private onBindResult(result: { ok: true } | { ok: false; error: string }): void {
    if (result.ok) {
      if (this.bindFailureLogged) this.log(`SIP listener bound on ${this.settings.sipAddress}:${this.settings.sipPort} after retrying`);
      this.bindFailureLogged = false;
      return;
    }
    // W7: stay Running, raise 00-04200 once per outage, keep retrying.
    if (!this.bindFailureLogged) {
      this.bindFailureLogged = true;
      this.agent.logEvent({
        id: "00-04200",
        level: "alarm",
        text: `cannot open SIP listener on ${this.settings.sipAddress}:${this.settings.sipPort} (${result.error}); still running, retrying every ${this.settings.bindRetryMs} ms`,
      });
    }
  }

  private onDatagram(data: Buffer, from: { address: string; port: number }): void {
    if (this.faults.hang) return;
    let parsed;
    try {
      parsed = parseDatagram(data);
    } catch (error) {
      // parseDatagram does not throw by design; this guards the process if a library bug says otherwise.
      this.log(`dropped datagram from ${from.address}:${from.port}: parser error ${String(error)}`);
      return;
    }
    const nowMs = this.clock.nowMs();
    switch (parsed.kind) {
      case "garbage":
        this.log(`dropped datagram from ${from.address}:${from.port}: ${parsed.reason}`);
        return;
      case "bad-request":
        this.log(`400 to ${from.address}:${from.port}: ${parsed.reason}`);
        this.sip?.send(buildBadRequest(parsed), from);
        return;
      case "response": {
        const dn = this.outstandingPings.get(parsed.response.callId);
        const answered = dn !== undefined && parsed.response.status >= 200;
        if (answered) this.outstandingPings.delete(parsed.response.callId);
        this.feedTraffic(answered ? { type: "sip-message", nowMs, answeringDn: dn } : { type: "sip-message", nowMs });
        return;
      }
      case "request":
        this.feedTraffic({ type: "sip-message", nowMs });
        this.onRequest(parsed.request, from, nowMs);
        return;
    }
  }

  private reply(request: SipRequest, to: { address: string; port: number }, status: number, reason: string, extras: Parameters<typeof buildResponse>[3] = {}): void {
    this.sip?.send(buildResponse(request, status, reason, extras), to);
  }

  private onRequest(request: SipRequest, from: { address: string; port: number }, nowMs: number): void {
    if (request.method === "ACK") {
      // ACK never gets a response; it confirms a 2xx (call established) or ends a failed INVITE.
      if (this.role === "primary") this.onAck(request);
      return;
    }
    const allow = { Allow: servedMethods.join(", ") };
    if (this.role !== "primary") {
      // The backup does not serve SIP: 503 tells the sender to try the other server (RFC 3263).
      this.reply(request, from, 503, "Service Unavailable", { toTag: this.randomTag(), headers: { "Retry-After": "5" } });
      return;
    }
    switch (request.method) {
      case "OPTIONS":
        this.reply(request, from, 200, "OK", { toTag: this.randomTag(), headers: { ...allow, Accept: "application/sdp" } });
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
        this.reply(request, from, 501, "Not Implemented", { toTag: this.randomTag(), headers: allow });
    }
  }

  private onRegister(request: SipRequest, from: { address: string; port: number }, nowMs: number): void {
    const aor = request.to.uri;
    if (request.contact === "*") {
      if (request.expiresHeaderSec !== 0) {
        this.reply(request, from, 400, "Bad Request", { toTag: this.randomTag(), headers: { Warning: '399 switchyard "Contact: * needs Expires: 0"' } });
        return;
      }
      this.registrar.removeAll(aor);
    } else {
      for (const contact of request.contact ?? []) {
        const paramExpires = contact.params["expires"];
        let expiresSec = request.expiresHeaderSec ?? defaultRegisterExpiresSec;
        if (paramExpires !== undefined && paramExpires !== null) {
          const value = Number(paramExpires);
          if (!Number.isInteger(value) || value < 0) {
            this.reply(request, from, 400, "Bad Request", { toTag: this.randomTag(), headers: { Warning: `399 switchyard "bad expires ${paramExpires}"` } });
            return;
          }
          expiresSec = value;
        }
        if (!this.registrar.bind(aor, contact.uri, Math.min(expiresSec, maxRegisterExpiresSec), nowMs)) {
          this.reply(request, from, 503, "Service Unavailable", { toTag: this.randomTag() });
          return;
        }
      }
    }
    const bindings = this.registrar.lookup(aor, nowMs);
    this.reply(request, from, 200, "OK", {
      toTag: this.randomTag(),
      contact: bindings.map((binding) => ({
        uri: binding.uri,
        params: { expires: String(Math.max(0, Math.round((binding.expiresAtMs - nowMs) / 1000))) },
      })),
    });
    // W11: the backup gets the AOR's new bindings at once.
    this.sendToBackup({ type: "contacts", full: false, contacts: { [aor]: bindings } });
  }

  private onInvite(request: SipRequest, from: { address: string; port: number }, nowMs: number): void {
    const existing = this.calls.get(request.callId);
    const toTag = this.toTags.get(request.callId) ?? this.randomTag();
    const contact = [{ uri: `sip:switchyard@${this.sipHostPort()}`, params: {} }];
    if (existing === undefined) {
      const call: CallRecord = {
        callId: request.callId,
        from: request.from.uri,
        to: request.to.uri,
        state: "ringing",
        multisite: request.multisite,
        createdAtMs: nowMs,
      };
      if (!this.calls.put(call)) {
        this.reply(request, from, 503, "Service Unavailable", { toTag, headers: { Warning: '399 switchyard "call table full"' } });
        return;
      }
      this.toTags.set(request.callId, toTag);
      this.replicateCall(call);
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
    const call = this.calls.get(request.callId);
    if (call === undefined || call.state === "established") return;
    if (this.pendingInvites.has(request.callId)) return;
    const established: CallRecord = { ...call, state: "established" };
    this.calls.put(established);
    this.replicateCall(established);
  }

  private onBye(request: SipRequest, from: { address: string; port: number }): void {
    const call = this.calls.remove(request.callId);
    if (call === undefined) {
      this.reply(request, from, 481, "Call/Transaction Does Not Exist", { toTag: this.randomTag() });
      return;
    }
    this.forgetCall(request.callId);
    this.reply(request, from, 200, "OK");
    this.sendToBackup({ type: "call-ended", callId: request.callId });
  }

  private onCancel(request: SipRequest, from: { address: string; port: number }): void {
    const invite = this.pendingInvites.get(request.callId);
    const call = this.calls.get(request.callId);
    if (call === undefined) {
      this.reply(request, from, 481, "Call/Transaction Does Not Exist", { toTag: this.randomTag() });
      return;
    }
    // Too late to cancel an answered call: 200 to the CANCEL, no effect (RFC 3261 §9.2).
    this.reply(request, from, 200, "OK", { toTag: this.toTags.get(request.callId) ?? this.randomTag() });
    if (invite === undefined) return;
    this.reply(invite, from, 487, "Request Terminated", { toTag: this.toTags.get(request.callId) ?? this.randomTag() });
    this.calls.remove(request.callId);
    this.forgetCall(request.callId);
    this.sendToBackup({ type: "call-ended", callId: request.callId });
  }

  private forgetCall(callId: string): void {
    this.pendingInvites.delete(callId);
    this.toTags.delete(callId);
    this.syncedOnBackup.delete(callId);
  }

  private sipHostPort(): string {
    const address = this.settings.sipAddress.includes(":") ? `[${this.settings.sipAddress}]` : this.settings.sipAddress;
    return `${address}:${this.settings.sipPort ?? 5060}`;
  }

  private sdpAnswer(nowMs: number): string {
    const session = Math.floor(nowMs / 1000);
    const address = this.settings.sipAddress;
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

  private randomTag(): string {
    return randomBytes(6).toString("hex");
  }

  // ---- traffic monitoring (W4, W5, W6) --------------------------------------------------------

  private feedTraffic(event: TrafficMonitorEvent): void {
    const result = stepTrafficMonitor(this.traffic, event, this.trafficConfig);
    this.traffic = result.state;
    if (result.statusChange) {
      this.log(result.statusChange.reason);
      this.reportStatus(`${result.statusChange.reason}; back-off ${result.statusChange.backoff}x`);
    }
  }

  private onTrafficTick(): void {
    if (this.stopped || this.faults.hang) return;
    const nowMs = this.clock.nowMs();
    this.feedTraffic({ type: "tick", nowMs });
    if (!this.settings.sipPassCheck) return;
    for (const dn of duePings(this.traffic, nowMs, this.trafficConfig)) {
      this.feedTraffic({ type: "ping-sent", dn, nowMs });
      this.sendOptionsPing(dn);
    }
  }

  private sendOptionsPing(dn: string): void {
    const contact = this.settings.oosContacts[dn];
    const target = contact === undefined ? undefined : uriTarget(contact);
    if (target === undefined || this.sip === null || this.settings.sipPort === null) return;
    this.pingSequence += 1;
    const ping = buildOptionsPing({
      targetUri: target.uri,
      localAddress: this.settings.sipAddress,
      localPort: this.settings.sipPort,
      dn,
      sequence: this.pingSequence,
      token: this.randomTag(),
    });
    if (this.outstandingPings.size >= maxOutstandingPings) this.outstandingPings.clear();
    this.outstandingPings.set(ping.callId, dn);
    this.sip.send(ping.text, { address: target.host, port: target.port });
  }

  // ---- HA link (W11, W12) ---------------------------------------------------------------------

  private async startHaLink(): Promise<void> {
    const { config } = this.settings;
    if (config.peer === null) return;
    const dials = config.name < config.peer.name;
    this.haLink = new HaLink({
      listen: this.settings.haPort === null ? null : { address: this.settings.sipAddress, port: this.settings.haPort },
      dial: dials ? { address: config.peer.address, port: config.peer.haPort } : null,
      reconnectMs: this.settings.haReconnectMs,
      events: {
        onConnected: () => this.sendHello(false),
        onMessage: (message) => this.onHaMessage(message),
        onDisconnected: (reason) => this.onHaDown(reason),
        onProtocolError: (reason) => this.log(reason),
      },
    });
    await this.haLink.start();
  }

  private sendHello(wantReply: boolean): void {
    this.haLink?.send({
      wantReply,
      type: "hello",
      version: 1,
      name: this.name,
      role: this.role,
      epoch: this.epoch,
      callIds: this.calls.nonMultisiteIds(),
    });
  }

  private onHaDown(reason: string): void {
    if (this.haLinkUpSinceMs !== null) this.log(`HA link down: ${reason}`);
    this.haLinkUpSinceMs = null;
    this.peer = null;
    this.activeSyncId = -1;
    this.backupSyncComplete = false;
    this.syncedOnBackup.clear();
  }

  private onHaMessage(message: HaMessage): void {
    if (this.stopped) return;
    const expectedPeer = this.settings.config.peer?.name;
    if (message.type === "hello") {
      if (message.name !== expectedPeer) {
        this.log(`HA hello from ${message.name}, expected ${expectedPeer ?? "no peer"}; closing`);
        this.haLink?.disconnect("unexpected peer");
        return;
      }
      if (this.haLinkUpSinceMs === null) {
        this.haLinkUpSinceMs = this.clock.nowMs();
        this.log(`HA link up with ${message.name} (${message.role}, epoch ${message.epoch})`);
      }
      this.peer = { name: message.name, role: message.role, epoch: message.epoch };
      if (message.wantReply) this.sendHello(false);
      this.onPeerHello(message.callIds);
      return;
    }
    if (this.peer === null) {
      this.log(`HA ${message.type} before hello; ignored`);
      return;
    }
    const fromPrimaryToBackup = this.role === "backup" && this.peer.role === "primary";
    switch (message.type) {
      case "calls-ack":
        if (this.role !== "primary") return;
        for (const callId of message.callIds) if (this.calls.has(callId)) this.syncedOnBackup.add(callId);
        return;
      case "sync-start":
        if (!fromPrimaryToBackup) return;
        this.activeSyncId = message.syncId;
        this.backupSyncComplete = false;
        for (const callId of message.drop) {
          this.calls.remove(callId);
          this.forgetCall(callId);
        }
        this.haSyncLog.push({ syncId: message.syncId, batchSizes: [], done: false });
        return;
      case "calls": {
        if (!fromPrimaryToBackup || message.syncId !== this.activeSyncId) return;
        for (const call of message.calls) {
          this.calls.put(call);
          this.expectedFromPrimary.add(call.callId);
        }
        this.currentSyncRecord()?.batchSizes.push(message.calls.length);
        this.haLink?.send({ type: "calls-ack", callIds: message.calls.map((call) => call.callId) });
        return;
      }
      case "sync-done": {
        if (!fromPrimaryToBackup || message.syncId !== this.activeSyncId) return;
        this.backupSyncComplete = true;
        const record = this.currentSyncRecord();
        if (record) record.done = true;
        this.log(`call synchronisation ${message.syncId} from ${this.peer.name} complete: ${this.calls.size} calls held`);
        return;
      }
      case "call":
        if (!fromPrimaryToBackup) return;
        this.calls.put(message.call);
        if (!message.call.multisite) this.expectedFromPrimary.add(message.call.callId);
        this.haLink?.send({ type: "calls-ack", callIds: [message.call.callId] });
        return;
      case "call-ended":
        if (!fromPrimaryToBackup) return;
        this.calls.remove(message.callId);
        this.forgetCall(message.callId);
        this.expectedFromPrimary.delete(message.callId);
        return;
      case "contacts": {
        if (!fromPrimaryToBackup) return;
        const nowMs = this.clock.nowMs();
        if (message.full) this.registrar.clear();
        for (const [aor, bindings] of Object.entries(message.contacts)) this.registrar.replace(aor, bindings, nowMs);
        return;
      }
    }
  }

  private currentSyncRecord(): HaSyncRecord | undefined {
    return this.haSyncLog.find((record) => record.syncId === this.activeSyncId);
  }

  private onPeerHello(peerCallIds: string[]): void {
    if (this.role === "backup" && this.peer?.role === "primary") {
      this.backupSyncComplete = false;
      this.expectedFromPrimary.clear();
      for (const callId of peerCallIds) this.expectedFromPrimary.add(callId);
      return;
    }
    if (this.role === "primary" && this.peer?.role === "backup") {
      void this.syncCallsToBackup(peerCallIds);
    }
  }

  /** W12: send the calls the backup is missing, ha-max-calls-sync-at-once per batch, pausing between. */
  private async syncCallsToBackup(backupCallIds: string[]): Promise<void> {
    const link = this.haLink;
    if (link === null) return;
    this.syncSequence += 1;
    const syncId = this.syncSequence;
    this.activeSyncId = syncId;
    const plan = planCallSync(this.calls.nonMultisiteIds(), backupCallIds);
    this.syncedOnBackup.clear();
    for (const callId of plan.alreadySynced) this.syncedOnBackup.add(callId);
    const record: HaSyncRecord = { syncId, batchSizes: [], done: false };
    this.haSyncLog.push(record);
    if (this.haSyncLog.length > 20) this.haSyncLog.shift();
    link.send({ type: "sync-start", syncId, missing: plan.missingOnBackup.length, drop: plan.extraOnBackup });
    // W11: the whole contact table first, so registrations survive a switchover during the sync.
    link.send({ type: "contacts", full: true, contacts: this.registrar.snapshot(this.clock.nowMs()) });
    const stillWanted = () => !this.stopped && this.activeSyncId === syncId && this.haLinkUpSinceMs !== null && link.connected;
    this.log(`call synchronisation ${syncId}: ${plan.missingOnBackup.length} calls missing on the backup, batches of ${this.settings.haSyncBatchSize}`);
    const sent = await runPacedSync(splitIntoBatches(plan.missingOnBackup, this.settings.haSyncBatchSize), this.settings.haSyncPauseMs, {
      stillWanted,
      sleepMs: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      sendBatch: async (batch, batchIndex) => {
        // Calls that ended while we waited are not sent; the batch may then be smaller.
        const calls = batch.map((callId) => this.calls.get(callId)).filter((call): call is CallRecord => call !== undefined);
        link.send({ type: "calls", syncId, batchIndex, calls });
        record.batchSizes.push(calls.length);
        await link.drain();
      },
    });
    if (!stillWanted()) {
      this.log(`call synchronisation ${syncId} abandoned after ${sent} batches`);
      return;
    }
    link.send({ type: "sync-done", syncId });
    record.done = true;
  }

  private replicateCall(call: CallRecord): void {
    // Multisite calls stay on the primary (W13 waits for them to end instead).
    if (call.multisite) return;
    this.sendToBackup({ type: "call", call });
  }

  private sendToBackup(message: HaMessage): void {
    if (this.role !== "primary" || this.peer?.role !== "backup") return;
    this.haLink?.send(message);
  }

  // ---- monitors (W8, W9, W10) -----------------------------------------------------------------

  async runMonitors(): Promise<void> {
    if (this.stopped || this.faults.hang || this.monitorRunning) return;
    this.monitorRunning = true;
    try {
      const { settings } = this;
      if (settings.controlVipScripts) {
        const decision = shouldDemoteForBothPrimary({
          consoleConnected: this.consoleConnected,
          self: { name: this.name, role: this.role, epoch: this.epoch },
          peer: this.peer,
        });
        if (decision.demote) this.applyRole("backup", decision.reason);
      }
      if (settings.tlibNicMonitoring && this.faults["tlib-nic-down"] && this.role === "primary") {
        this.applyRole("backup", "NIC failure detected (tlib-nic-monitoring): switched self to backup");
      }
      if (settings.sipNicMonitoring && settings.sipNicAddress !== null) {
        const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((entry) => entry.address));
        const up = sipNicUp({ address: settings.sipNicAddress, interfaceAddresses: addresses, unplugged: this.faults["sip-silent"] });
        if (!up && !this.sipNicFailing) {
          this.sipNicFailing = true;
          this.agent.logEvent({ id: "00-52027", text: `SIP NIC ${settings.sipNicAddress} failure detected` });
          this.reportStatus(`SIP NIC ${settings.sipNicAddress} failure`);
        } else if (up && this.sipNicFailing) {
          this.sipNicFailing = false;
          this.agent.logEvent({ id: "00-52028", text: `SIP NIC ${settings.sipNicAddress} success: NIC up again` });
          this.reportStatus(`SIP NIC ${settings.sipNicAddress} up again`);
        }
      }
      if (settings.sipIptakeoverMonitoring) await this.checkVipPresence();
    } finally {
      this.monitorRunning = false;
    }
  }

  private async checkVipPresence(): Promise<void> {
    const vip = await this.agent.vipPresence();
    if (vip === null || this.stopped) return;
    const decision = checkVip(this.vipState, this.role, vip);
    this.vipState = decision.state;
    if (decision.event) this.agent.logEvent(decision.event);
    if (decision.serviceUnavailable !== this.vipUnavailable) {
      this.vipUnavailable = decision.serviceUnavailable;
      this.reportStatus(decision.serviceUnavailable ? `VIP ${vip.address} still wrong after running the control script` : `VIP ${vip.address} correct again`);
    } else if (!decision.serviceUnavailable && this.vipUnavailable === false && decision.event?.id === "00-52030") {
      this.reportStatus(`VIP ${vip.address} correct again`);
    }
    if (decision.runScript !== null) {
      const result = await this.agent.runControlScript(decision.runScript, decision.event?.text ?? `VIP mismatch while ${this.role}`);
      if (result !== null && !result.ok) this.log(`control script ${decision.runScript} failed: exit ${result.exitCode ?? "none"}`);
    }
  }

  // ---- lab faults -----------------------------------------------------------------------------

  async setFault(kind: LabFaultKind, on: boolean): Promise<void> {
    this.faults[kind] = on;
    this.log(`lab fault ${kind} ${on ? "on" : "off"}`);
    switch (kind) {
      case "sip-silent":
        this.sip?.setSilent(on);
        return;
      case "bind-fail":
        await this.sip?.setForcedBindFailure(on);
        return;
      case "crash":
        if (on) {
          // As abrupt as a crash: no goodbye on the HA link, no final status report.
          process.exit(70);
        }
        return;
      case "hang":
      case "tlib-nic-down":
        return;
    }
  }

  /** Lab: create calls without SIP (bulk, for call-sync tests and demos). */
  createLabCalls(count: number, multisite: boolean): number {
    const nowMs = this.clock.nowMs();
    let created = 0;
    for (let index = 0; index < count; index += 1) {
      const callId = `lab-${nowMs}-${this.randomTag()}@${this.name}`;
      const call: CallRecord = { callId, from: "sip:lab@switchyard", to: `sip:${index}@switchyard`, state: "established", multisite, createdAtMs: nowMs };
      if (!this.calls.put(call)) break;
      this.replicateCall(call);
      created += 1;
    }
    return created;
  }

  /** Lab: end calls (all, or only multisite / non-multisite). */
  endLabCalls(filter: { multisite?: boolean | undefined }): number {
    let ended = 0;
    for (const call of this.calls.all()) {
      if (filter.multisite !== undefined && call.multisite !== filter.multisite) continue;
      this.calls.remove(call.callId);
      this.forgetCall(call.callId);
      this.sendToBackup({ type: "call-ended", callId: call.callId });
      ended += 1;
    }
    return ended;
  }

  labState(): object {
    const nowMs = this.clock.nowMs();
    return {
      name: this.name,
      role: this.role,
      epoch: this.epoch,
      faults: this.faults,
      calls: this.calls.size,
      haSync: this.haSyncLog,
      contacts: this.registrar.snapshot(nowMs),
      trafficMonitor: {
        serviceUnavailable: this.traffic.serviceUnavailable,
        backoff: this.traffic.backoff,
        lastSipMessageAt: new Date(this.traffic.lastSipMessageAtMs).toISOString(),
      },
    };
  }
}
