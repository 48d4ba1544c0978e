// Call synchronisation over the HA link (W12): which calls the backup is missing, cut into batches of
// ha-max-calls-sync-at-once with a pause between batches. The planning is pure; the pacing loop takes
// its sleep function as a parameter so tests count pauses instead of waiting for them.

export const haSyncBatchDefault = 500;
export const haSyncBatchMin = 200;
export const haSyncBatchMax = 1000;
/** The seed: "before waiting for 1 second to continue with synchronization". */
export const haSyncPauseDefaultMs = 1000;

export interface CallSyncPlan {
  /** Non-multisite calls on the primary that the backup does not hold, oldest first. */
  missingOnBackup: string[];
  /** Calls the backup holds that the primary does not: the backup drops them (it mirrors the primary). */
  extraOnBackup: string[];
  /** Calls both hold: already synchronised. */
  alreadySynced: string[];
}

export function planCallSync(primaryCallIds: readonly string[], backupCallIds: readonly string[]): CallSyncPlan {
  const onBackup = new Set(backupCallIds);
  const onPrimary = new Set(primaryCallIds);
  return {
    missingOnBackup: primaryCallIds.filter((id) => !onBackup.has(id)),
    extraOnBackup: backupCallIds.filter((id) => !onPrimary.has(id)),
    alreadySynced: primaryCallIds.filter((id) => onBackup.has(id)),
  };
}

export function splitIntoBatches<T>(items: readonly T[], batchSize: number): T[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += batchSize) batches.push(items.slice(start, start + batchSize));
  return batches;
}

export interface PacedSyncIo<T> {
  /** Sends one batch; resolves when written. Items that no longer exist are filtered by the caller. */
  sendBatch: (batch: T[], index: number) => Promise<void>;
  sleepMs: (ms: number) => Promise<void>;
  /** False once the link went down or a newer sync replaced this one: stop without sending more. */
  stillWanted: () => boolean;
}

/**
 * Sends the batches with `pauseMs` between them (not after the last). Returns how many batches were
 * sent, which is less than planned when the sync was abandoned.
 */
export async function runPacedSync<T>(batches: readonly T[][], pauseMs: number, io: PacedSyncIo<T>): Promise<number> {
  let sent = 0;
  for (const [index, batch] of batches.entries()) {
    if (!io.stillWanted()) return sent;
    if (index > 0) {
      await io.sleepMs(pauseMs);
      if (!io.stillWanted()) return sent;
    }
    await io.sendBatch(batch, index);
    sent += 1;
  }
  return sent;
}
