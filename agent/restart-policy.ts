// The restart policy as a pure decision: given an application's policy, the times of its automatic
// restarts so far and the time now, whether and when to restart it after an unexpected exit. Delays
// grow by the back-off multiplier up to the cap; past maxRestarts inside the window it gives up. The
// supervisor owns the timers; this module owns the rule (and its sentences, which tests assert).
import type { RestartPolicy, RestartState } from "../protocol/agent-wire";

export type RestartDecision =
  | { kind: "disabled"; sentence: string }
  | { kind: "restart"; delayMs: number; attempt: number; timesMs: number[]; sentence: string }
  | { kind: "give-up"; timesMs: number[]; sentence: string };

export function formatWindow(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Restarts that still count: those inside the window ending now. */
export function restartsInWindow(policy: RestartPolicy, timesMs: number[], nowMs: number): number[] {
  return timesMs.filter((t) => nowMs - t < policy.restartWindowMs);
}

/** The delay before automatic restart number attempt (1-based): restartDelayMs × multiplier^(attempt−1), capped. */
export function restartDelayMs(policy: RestartPolicy, attempt: number): number {
  const grown = policy.restartDelayMs * policy.backoffMultiplier ** Math.max(0, attempt - 1);
  return Math.round(Math.min(grown, policy.restartDelayMaxMs, Number.MAX_SAFE_INTEGER));
}

/** startsAs names the role an automatic restart starts in ("backup" for a server in a pair), for the sentence. */
export function decideRestart(policy: RestartPolicy, timesMs: number[], nowMs: number, startsAs: string | null = null): RestartDecision {
  if (!policy.enabled) return { kind: "disabled", sentence: "its restart policy is off, so it stays down" };
  const recent = restartsInWindow(policy, timesMs, nowMs);
  if (recent.length >= policy.maxRestarts) {
    return {
      kind: "give-up",
      timesMs: recent,
      sentence: `gave up restarting it: ${recent.length} automatic restart${recent.length === 1 ? "" : "s"} within ${formatWindow(policy.restartWindowMs)} already (at most ${policy.maxRestarts})`,
    };
  }
  const attempt = recent.length + 1;
  const delayMs = restartDelayMs(policy, attempt);
  return {
    kind: "restart",
    delayMs,
    attempt,
    timesMs: [...recent, nowMs],
    sentence: `restarting it in ${delayMs} ms${startsAs ? ` as ${startsAs}` : ""} (automatic restart ${attempt} of ${policy.maxRestarts} within ${formatWindow(policy.restartWindowMs)})`,
  };
}

export function restartStateOf(policy: RestartPolicy, timesMs: number[], nowMs: number, nextAttemptAtMs: number | null, gaveUp: boolean): RestartState {
  return {
    attempts: restartsInWindow(policy, timesMs, nowMs).length,
    maxRestarts: policy.maxRestarts,
    nextAttemptAt: nextAttemptAtMs === null ? null : new Date(nextAttemptAtMs).toISOString(),
    gaveUp,
  };
}
