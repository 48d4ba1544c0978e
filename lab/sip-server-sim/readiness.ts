// Readiness for switchover and for upgrade, computed exactly as W13 says (docs/workflows.md, seed
// ha-enhanced-upgrade-procedure). Pure: the caller passes the time, so tests step an injected clock.
import type { AppRole } from "../../protocol/app-contract";

/** The primary needs the HA link up this long before it is ready for a switchover (W13). */
export const primaryLinkSettleMs = 60_000;

export interface ReadinessInput {
  role: AppRole;
  nowMs: number;
  /** When the HA link last came up, or null while it is down. */
  haLinkUpSinceMs: number | null;
  /** Primary: non-multisite calls it holds, and how many of them the backup confirmed holding. */
  nonMultisiteCalls: number;
  nonMultisiteCallsSynced: number;
  /** Primary: multisite calls created before the HA link came up that have not ended yet. */
  multisiteCallsPredatingLink: number;
  /** Backup: the primary told it the call synchronisation after the last link-up is complete. */
  backupSyncComplete: boolean;
  /** Backup: the primary's non-multisite calls as last heard, and how many of them it holds (for the reason). */
  backupCalls?: { expected: number; held: number };
  /** How long the HA link must be up before the primary is ready; the W13 60 s unless a lab knob shortens it. */
  linkSettleMs?: number;
}

export interface Readiness {
  readyForSwitchover: 0 | 1;
  readyForUpgrade: 0 | 1;
  notReadyReasons: string[];
}

export function computeReadiness(input: ReadinessInput): Readiness {
  const reasons: string[] = [];
  if (input.haLinkUpSinceMs === null) {
    reasons.push("HA link to the other server is down");
  }
  if (input.role === "primary") {
    if (input.haLinkUpSinceMs !== null) {
      const settleMs = input.linkSettleMs ?? primaryLinkSettleMs;
      const upMs = Math.max(0, input.nowMs - input.haLinkUpSinceMs);
      if (upMs < settleMs) {
        reasons.push(
          `HA link up for ${Math.floor(upMs / 1000)} s of the ${settleMs / 1000} s needed`,
        );
      }
    }
    const unsynced = input.nonMultisiteCalls - input.nonMultisiteCallsSynced;
    if (unsynced > 0) {
      reasons.push(`${unsynced} of ${input.nonMultisiteCalls} non-multisite calls not yet synchronised to the backup`);
    }
    if (input.multisiteCallsPredatingLink > 0) {
      reasons.push(`${input.multisiteCallsPredatingLink} multisite calls from before the HA link came up have not ended`);
    }
  } else {
    if (input.haLinkUpSinceMs !== null && !input.backupSyncComplete) {
      const c = input.backupCalls;
      const missing = c ? Math.max(0, c.expected - c.held) : 0;
      reasons.push(`call synchronisation from the primary is not complete${missing > 0 ? `: ${missing} of ${c!.expected} calls not yet received` : ""}`);
    }
  }
  // W13: the primary is never ready for upgrade, the backup always is. notReadyReasons explain
  // readiness for switchover only (what the console shows before the switchover button).
  const readyForUpgrade = input.role === "backup" ? 1 : 0;
  return {
    readyForSwitchover: reasons.length === 0 ? 1 : 0,
    readyForUpgrade,
    notReadyReasons: reasons,
  };
}
