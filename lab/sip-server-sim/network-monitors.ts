// The network monitors of one server, run on a timer (W8 control-vip-scripts, W9 sip-iptakeover-
// monitoring, W10 tlib-nic-monitoring and sip-nic-monitoring): they gather what they check (console
// connection, partner's role, NIC addresses, the agent's view of the VIP), let the pure decisions in
// monitors.ts judge, and hand the outcome back as a demotion or a status change.
import { networkInterfaces } from "node:os";
import type { AppRole } from "../../protocol/app-contract";
import type { AgentClient } from "./agent-client";
import type { HaPeerState } from "./ha-session";
import { checkVip, shouldDemoteForBothPrimary, sipNicUp, type VipCheckState } from "./monitors";

/** The options the monitors read, as in effect at each run (a reload changes them between runs). */
export interface MonitorSettings {
  controlVipScripts: boolean;
  sipIptakeoverMonitoring: boolean;
  tlibNicMonitoring: boolean;
  sipNicMonitoring: boolean;
  sipNicAddress: string | null;
}

export interface NetworkMonitorsOptions {
  settings: () => MonitorSettings;
  self: () => { name: string; role: AppRole; epoch: number };
  peer: () => HaPeerState | null;
  /** Lab faults the monitors observe: the application NIC down, the SIP NIC unplugged. */
  nicFaults: () => { tlibNicDown: boolean; sipNicUnplugged: boolean };
  agent: AgentClient;
  log: (line: string) => void;
  /** Switch this server to backup; `reason` is the log line and the status detail. */
  demote: (reason: string) => void;
  /** serviceUnavailable changed (or a recovery worth reporting); `detail` says why. */
  statusChanged: (detail: string) => void;
  stopped: () => boolean;
}

export class NetworkMonitors {
  private consoleConnected = true;
  private vipState: VipCheckState = { consecutiveMismatches: 0, failing: false };
  private vipUnavailable = false;
  private sipNicFailing = false;
  private running = false;

  constructor(private readonly options: NetworkMonitorsOptions) {}

  /** SERVICE_UNAVAILABLE from the VIP check (W9) or the SIP NIC (W10). */
  get serviceUnavailable(): boolean {
    return this.vipUnavailable || this.sipNicFailing;
  }

  setConsoleConnected(connected: boolean): void {
    this.consoleConnected = connected;
  }

  /** One round of every enabled monitor; a round still running (a slow agent) is not overlapped. */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const settings = this.options.settings();
      const faults = this.options.nicFaults();
      if (settings.controlVipScripts) {
        const decision = shouldDemoteForBothPrimary({ consoleConnected: this.consoleConnected, self: this.options.self(), peer: this.options.peer() });
        if (decision.demote) this.options.demote(decision.reason);
      }
      if (settings.tlibNicMonitoring && faults.tlibNicDown && this.options.self().role === "primary") {
        this.options.demote("NIC failure detected (tlib-nic-monitoring): switched self to backup");
      }
      if (settings.sipNicMonitoring && settings.sipNicAddress !== null) this.checkSipNic(settings.sipNicAddress, faults.sipNicUnplugged);
      if (settings.sipIptakeoverMonitoring) await this.checkVipPresence();
    } finally {
      this.running = false;
    }
  }

  private checkSipNic(address: string, unplugged: boolean): void {
    const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((entry) => entry.address));
    const up = sipNicUp({ address, interfaceAddresses: addresses, unplugged });
    if (!up && !this.sipNicFailing) {
      this.sipNicFailing = true;
      this.options.agent.logEvent({ id: "00-52027", text: `SIP NIC ${address} failure detected` });
      this.options.statusChanged(`SIP NIC ${address} failure`);
    } else if (up && this.sipNicFailing) {
      this.sipNicFailing = false;
      this.options.agent.logEvent({ id: "00-52028", text: `SIP NIC ${address} success: NIC up again` });
      this.options.statusChanged(`SIP NIC ${address} up again`);
    }
  }

  private async checkVipPresence(): Promise<void> {
    const { agent } = this.options;
    const vip = await agent.vipPresence();
    if (vip === null || this.options.stopped()) return;
    const role = this.options.self().role;
    const decision = checkVip(this.vipState, role, vip);
    this.vipState = decision.state;
    if (decision.event) agent.logEvent(decision.event);
    if (decision.serviceUnavailable !== this.vipUnavailable) {
      this.vipUnavailable = decision.serviceUnavailable;
      this.options.statusChanged(decision.serviceUnavailable ? `VIP ${vip.address} still wrong after running the control script` : `VIP ${vip.address} correct again`);
    } else if (!decision.serviceUnavailable && this.vipUnavailable === false && decision.event?.id === "00-52030") {
      this.options.statusChanged(`VIP ${vip.address} correct again`);
    }
    if (decision.runScript !== null) {
      const result = await agent.runControlScript(decision.runScript, decision.event?.text ?? `VIP mismatch while ${role}`);
      if (result !== null && !result.ok) this.options.log(`control script ${decision.runScript} failed: exit ${result.exitCode ?? "none"}`);
    }
  }
}
