// Pure decisions of the network monitors: SCS connection (W8, control-vip-scripts), VIP presence
// (W9, sip-iptakeover-monitoring) and NIC state (W10, tlib-nic-monitoring, sip-nic-monitoring).
// Each returns a sentence that is the log line and the status detail.
import type { AppRole } from "../../protocol/app-contract";

export interface BothPrimaryInput {
  consoleConnected: boolean;
  self: { name: string; role: AppRole; epoch: number };
  /** What the peer said over the HA link; null while the link is down (then nothing is known). */
  peer: { name: string; role: AppRole; epoch: number } | null;
}

/**
 * W8: without the console and with both servers primary, exactly one demotes itself. The rule must
 * give opposite answers on the two servers: the holder of the lower epoch (the stale one) demotes; on
 * equal epochs, the server whose name sorts last demotes.
 */
export function shouldDemoteForBothPrimary(input: BothPrimaryInput): { demote: boolean; reason: string } {
  const { self, peer } = input;
  if (input.consoleConnected || self.role !== "primary" || peer === null || peer.role !== "primary") {
    return { demote: false, reason: "" };
  }
  if (self.epoch !== peer.epoch) {
    const demote = self.epoch < peer.epoch;
    return {
      demote,
      reason: demote
        ? `console connection lost and both servers primary: demoted self because ${peer.name} holds the newer epoch ${peer.epoch}`
        : "",
    };
  }
  const demote = self.name > peer.name;
  return {
    demote,
    reason: demote
      ? `console connection lost and both servers primary (epoch ${self.epoch}): demoted self because ${self.name} sorts after ${peer.name}`
      : "",
  };
}

export interface VipCheckState {
  /** Consecutive checks that found the VIP where it should not be (or missing where it should be). */
  consecutiveMismatches: number;
  failing: boolean;
}

export type VipCheckDecision = {
  state: VipCheckState;
  /** Ask the agent to run the control script that fixes the mismatch. */
  runScript: "enable" | "disable" | null;
  event: { id: "00-52029" | "00-52030"; text: string } | null;
  /** The problem persisted after a script run: report SERVICE_UNAVAILABLE. */
  serviceUnavailable: boolean;
};

/** Mismatches in a row after which a script run is considered to have failed to fix it. */
export const vipMismatchesBeforeUnavailable = 2;

export function checkVip(state: VipCheckState, role: AppRole, vip: { present: boolean; address: string }): VipCheckDecision {
  const wanted = role === "primary";
  if (vip.present === wanted) {
    const event = state.failing
      ? { id: "00-52030" as const, text: `Virtual IP ${vip.address} ${wanted ? "present" : "absent"} on this host as the ${role} needs: VIP success` }
      : null;
    return { state: { consecutiveMismatches: 0, failing: false }, runScript: null, event, serviceUnavailable: false };
  }
  const consecutiveMismatches = state.consecutiveMismatches + 1;
  const text = `Virtual IP ${vip.address} ${vip.present ? "present" : "absent"} on this host while ${role}: VIP failure`;
  return {
    state: { consecutiveMismatches, failing: true },
    runScript: wanted ? "enable" : "disable",
    // One event when the failure starts, not one per check.
    event: state.failing ? null : { id: "00-52029", text },
    serviceUnavailable: consecutiveMismatches >= vipMismatchesBeforeUnavailable,
  };
}

/**
 * W10: is the SIP NIC (sip-nic-address) up? In the lab a NIC is simulated: loopback addresses are
 * always present unless the "sip-silent" fault unplugs it; other addresses must be on an interface.
 */
export function sipNicUp(args: { address: string; interfaceAddresses: readonly string[]; unplugged: boolean }): boolean {
  if (args.unplugged) return false;
  if (/^127\./.test(args.address) || args.address === "::1") return true;
  return args.interfaceAddresses.includes(args.address);
}
