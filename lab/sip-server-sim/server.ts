// One simulated SIP Server, composed: roles and epochs (fencing), status and readiness, the configuration
// in effect (reload, running) and the lab faults live here; the SIP side is sip-uas.ts, the partner link
// ha-session.ts, traffic monitoring traffic-watch.ts, the W8–W10 monitors network-monitors.ts. The timing
// rules live in the pure modules (readiness, traffic-monitor, call-sync, monitors, live-config); this
// class wires them to each other, to timers and to the agent.
import type { LabFault } from "../../protocol/vocabulary";
import type { AppConfig, AppRole, AppStatusReport, RunningConfig, SetRoleRequest, SipServerStatus } from "../../protocol/app-contract";
import type { AgentClient } from "./agent-client";
import { CallTable, Registrar, type CallRecord } from "./calls";
import { HaSession, type HaSyncRecord } from "./ha-session";
import { applyAtHaLink, liveConfigAtStart, planReload, reloadSummary, runningConfig, type LiveConfig } from "./live-config";
import { NetworkMonitors } from "./network-monitors";
import { computeReadiness } from "./readiness";
import { SettingsError, settingsFromConfig, type SimSettings } from "./settings";
import { randomTag, SipUas } from "./sip-uas";
import { TrafficWatch, type TrafficWatchConfig } from "./traffic-watch";

export type { HaSyncRecord } from "./ha-session";

export interface Clock {
  nowMs(): number;
}
export const systemClock: Clock = { nowMs: () => Date.now() };

export type LabFaultKind = LabFault;

/** Traffic monitor resolution: SERVICE_UNAVAILABLE is reported at most this late. */
const trafficTickMs = 200;

export type RoleChangeResult =
  | { ok: true; role: AppRole; epoch: number }
  | { ok: false; epoch: number; message: string };

function trafficConfigOf(settings: SimSettings): TrafficWatchConfig {
  return { sipPassCheck: settings.sipPassCheck, devices: settings.oosDevices, contacts: settings.oosContacts };
}

export class SimServer {
  role: AppRole;
  /** The epoch of the last role order; starts at the one the start order came with (initialEpoch). */
  epoch: number;
  private lastRoleCommand: { commandId: string; result: RoleChangeResult } | null = null;

  readonly calls = new CallTable();
  readonly registrar = new Registrar();

  private readonly sip: SipUas | null;
  private readonly ha: HaSession | null;
  private readonly traffic: TrafficWatch;

  private readonly monitors: NetworkMonitors;
  /** The configuration in effect (what /running reports); `settings` is always derived from it. */
  private live: LiveConfig;

  readonly faults: Record<LabFaultKind, boolean> = {
    "sip-silent": false,
    "bind-fail": false,
    hang: false,
    crash: false,
    "tlib-nic-down": false,
    "console-lost": false,
  };
  /** What the agent last said about the console (POST /switchyard/v1/console); the console-lost fault overrides it. */
  private agentSaysConsoleConnected = true;

  private lastReportedStatus = "";
  private statusDetail = "";
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    public settings: SimSettings,
    private readonly agent: AgentClient,
    private readonly clock: Clock,
    private readonly log: (line: string) => void,
  ) {
    const { config } = settings;
    this.live = liveConfigAtStart(config);
    // The controller decides the start role and its epoch; claiming epoch 0 would let an older order win.
    this.role = config.initialRole;
    this.epoch = config.initialEpoch;
    const nowMs = () => this.clock.nowMs();
    this.traffic = new TrafficWatch({
      role: this.role,
      nowMs: clock.nowMs(),
      config: trafficConfigOf(settings),
      sendPing: (dn, contact, sequence) => this.sip?.sendOptionsPing(dn, contact, sequence) ?? null,
      onStatusChange: (change) => {
        this.log(change.reason);
        this.reportStatus(`${change.reason}; back-off ${change.backoff}x`);
      },
    });
    this.sip =
      settings.sipPort === null
        ? null
        : new SipUas({
            name: config.name,
            version: settings.version,
            listenAddress: settings.sipListenAddress,
            advertisedAddress: settings.sipAdvertisedAddress,
            port: settings.sipPort,
            listensOnVip: settings.listensOnVip,
            vipBindWaitMs: settings.vipBindWaitMs,
            bindRetryMs: settings.bindRetryMs,
            role: () => this.role,
            hung: () => this.faults.hang,
            calls: this.calls,
            registrar: this.registrar,
            nowMs,
            agent,
            log,
            events: {
              onSipMessage: (atMs, response) => this.traffic.sipMessage(atMs, response),
              onCallChanged: (call) => this.ha?.replicateCall(call),
              onCallEnded: (callId) => this.ha?.callEnded(callId),
              onContactsChanged: (aor, bindings) => this.ha?.contactsChanged(aor, bindings),
            },
          });
    this.ha =
      config.peer === null
        ? null
        : new HaSession({
            name: config.name,
            peer: config.peer,
            listen: settings.haPort === null ? null : { address: settings.sipAddress, port: settings.haPort },
            haSecret: config.haSecret,
            reconnectMs: settings.haReconnectMs,
            syncPauseMs: settings.haSyncPauseMs,
            batchSize: () => this.settings.haSyncBatchSize,
            role: () => this.role,
            epoch: () => this.epoch,
            calls: this.calls,
            registrar: this.registrar,
            nowMs,
            log,
            forgetCall: (callId) => this.sip?.forgetCall(callId),
            onLinkEstablished: () => this.onHaLinkEstablished(),
          });
    this.monitors = new NetworkMonitors({
      settings: () => this.settings,
      self: () => ({ name: this.name, role: this.role, epoch: this.epoch }),
      peer: () => this.ha?.peer ?? null,
      nicFaults: () => ({ tlibNicDown: this.faults["tlib-nic-down"], sipNicUnplugged: this.faults["sip-silent"] }),
      agent,
      log,
      demote: (reason) => this.applyRole("backup", reason),
      statusChanged: (detail) => this.reportStatus(detail),
      stopped: () => this.stopped,
    });
  }

  get name(): string {
    return this.settings.config.name;
  }

  /** Lab state: the HA call syncs this server took part in. */
  get haSyncLog(): readonly HaSyncRecord[] {
    return this.ha?.syncLog ?? [];
  }

  async start(): Promise<void> {
    for (const warning of this.settings.warnings) this.log(`configuration: ${warning}`);
    await this.sip?.start();
    await this.ha?.start();
    this.timers.push(setInterval(() => this.onTrafficTick(), trafficTickMs));
    this.timers.push(setInterval(() => void this.runMonitors(), this.settings.monitorIntervalMs));
    this.reportStatus(`started as ${this.role}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.sip?.stop();
    await this.ha?.stop();
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
    this.traffic.roleChanged(role, this.clock.nowMs());
    if (changed) {
      this.log(reason);
      this.sip?.roleChanged(role);
      this.ha?.roleChanged();
    }
    this.reportStatus(reason);
  }

  // ---- configuration (contract: POST /switchyard/v1/reload, GET /switchyard/v1/running) -----------

  /**
   * Applies a re-read configuration file. A file that is not valid for this server throws SettingsError
   * and changes nothing. Otherwise each option takes effect when the catalogue says: immediately ones
   * now, ha-max-calls-sync-at-once at the next HA link establishment, ports and addresses at a restart;
   * one log line names the three groups.
   */
  reload(file: AppConfig): void {
    if (file.name !== this.name) throw new SettingsError(`the configuration file is for ${file.name}; this server is ${this.name}`);
    // Validates the whole file as a start would (http-port, addresses), even where the change waits.
    const fileSettings = settingsFromConfig(file, this.settings.env);
    const plan = planReload(this.live, file);
    this.live = plan.next;
    this.applyEffectiveConfig();
    if (plan.atHaLink.includes("haSecret")) this.ha?.setSecret(file.haSecret);
    for (const warning of fileSettings.warnings) this.log(`reload: configuration: ${warning}`);
    this.log(reloadSummary(plan, file.configRevision));
  }

  runningConfig(): RunningConfig {
    return runningConfig(this.live, this.settings.version);
  }

  private onHaLinkEstablished(): void {
    const { next, applied } = applyAtHaLink(this.live);
    if (applied.length === 0) return;
    this.live = next;
    this.applyEffectiveConfig();
    this.log(`HA link established: now in effect: ${applied.join(", ")}`);
  }

  /** Derives the settings from the configuration in effect and hands the parts what changed. */
  private applyEffectiveConfig(): void {
    this.settings = settingsFromConfig(this.live.effective, this.settings.env);
    this.traffic.setConfig(trafficConfigOf(this.settings), this.clock.nowMs());
  }

  setConsoleConnected(connected: boolean): void {
    this.agentSaysConsoleConnected = connected;
    this.monitors.setConsoleConnected(connected && !this.faults["console-lost"]);
  }

  // ---- status and readiness (contract: GET /server?sipServer) -------------------------------

  private get serviceUnavailable(): boolean {
    return this.traffic.serviceUnavailable || this.monitors.serviceUnavailable;
  }

  sipServerStatus(): SipServerStatus {
    const nowMs = this.clock.nowMs();
    const nonMultisite = this.calls.nonMultisiteIds();
    const syncedCount = this.ha?.countSyncedOnBackup(nonMultisite) ?? 0;
    const haLinkUpSinceMs = this.ha?.linkUpSinceMs ?? null;
    const fromPrimary = this.role === "backup" ? (this.ha?.primaryCallList(nonMultisite) ?? { expected: 0, held: 0 }) : null;
    const readiness = computeReadiness({
      role: this.role,
      nowMs,
      haLinkUpSinceMs,
      nonMultisiteCalls: nonMultisite.length,
      nonMultisiteCallsSynced: syncedCount,
      multisiteCallsPredatingLink:
        haLinkUpSinceMs === null ? this.calls.countMultisite() : this.calls.countMultisiteExistingAt(haLinkUpSinceMs),
      backupSyncComplete: this.ha?.backupSyncComplete ?? false,
      backupCalls: fromPrimary ?? undefined,
      linkSettleMs: this.settings.readinessSettleMs,
    });
    let calls: SipServerStatus["calls"];
    if (this.role === "primary") {
      calls = { total: this.calls.size, synced: syncedCount, multisite: this.calls.countMultisite() };
    } else {
      const { expected, held } = fromPrimary!;
      calls = { total: Math.max(expected, this.calls.size), synced: held, multisite: this.calls.countMultisite() };
    }
    return {
      role: this.role,
      epoch: this.epoch,
      status: this.serviceUnavailable ? "service-unavailable" : "running",
      haLink: haLinkUpSinceMs === null ? "down" : "up",
      haLinkUpSince: haLinkUpSinceMs === null ? null : new Date(haLinkUpSinceMs).toISOString(),
      calls,
      readyForSwitchover: readiness.readyForSwitchover,
      readyForUpgrade: readiness.readyForUpgrade,
      notReadyReasons: readiness.notReadyReasons,
      // The contract knows only bound / bind-failed: an ip-takeover backup holding no listener, or a new
      // primary waiting for its VIP to reach the interface, is not failing (W7 is a real bind failure).
      sipListener: this.sip?.listenerState === "bind-failed" ? "bind-failed" : "bound",
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

  // ---- traffic monitoring (W4, W5, W6) --------------------------------------------------------

  private onTrafficTick(): void {
    if (this.stopped || this.faults.hang) return;
    this.traffic.tick(this.clock.nowMs());
  }

  // ---- monitors (W8, W9, W10) -----------------------------------------------------------------

  async runMonitors(): Promise<void> {
    if (this.stopped || this.faults.hang) return;
    await this.monitors.run();
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
      case "console-lost":
        // W8 as the server sees it: no console, whatever its agent last said.
        this.monitors.setConsoleConnected(this.agentSaysConsoleConnected && !on);
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
      const callId = `lab-${nowMs}-${randomTag()}@${this.name}`;
      const call: CallRecord = { callId, from: "sip:lab@switchyard", to: `sip:${index}@switchyard`, state: "established", multisite, createdAtMs: nowMs };
      if (!this.calls.put(call)) break;
      this.ha?.replicateCall(call);
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
      this.sip?.forgetCall(call.callId);
      this.ha?.callEnded(call.callId);
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
      // Where SIP is served and how the listener really is (closed on an ip-takeover backup, waiting
      // for the VIP), which the readiness report cannot say.
      sip:
        this.sip === null
          ? null
          : { listenAddress: this.settings.sipListenAddress, advertisedAddress: this.settings.sipAdvertisedAddress, port: this.settings.sipPort, listener: this.sip.listenerState },
      trafficMonitor: {
        serviceUnavailable: this.traffic.serviceUnavailable,
        backoff: this.traffic.backoff,
        lastSipMessageAt: new Date(this.traffic.lastSipMessageAtMs).toISOString(),
      },
    };
  }
}
