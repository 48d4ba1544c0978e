// What every control-script driver offers the agent: run the enable/disable action for a pair's VIP
// (or NLB port) on this host, and say whether the VIP is present here.
import type { AgentPairConfig, ScriptRun } from "../../protocol/agent-wire";

export type ControlAction = "enable" | "disable";

export interface DriverRun {
  ok: boolean;
  /** One sentence on what happened, for the command result. */
  summary: string;
  steps: ScriptRun[];
  /** VIP presence checked after the action, null when the driver cannot tell. */
  present: boolean | null;
}

export interface Presence {
  /** null when the driver cannot observe it (no presence check, or the check failed). */
  present: boolean | null;
  address: string;
  /** What was seen, or why it is unknown, in words (vipPresence.detail). */
  detail: string;
}

export interface ControlDriver {
  readonly kind: string;
  run(action: ControlAction, timeoutMs: number): Promise<DriverRun>;
  presence(timeoutMs: number): Promise<Presence>;
  /**
   * What the last run still does after its result (linux-ip: the gratuitous ARPs), with how each went,
   * once it is done; nothing for drivers that do all their work before the result.
   */
  background?(): Promise<ScriptRun[]>;
  /**
   * Ends what the driver keeps running between actions (linux-ip: its waiting ip process, its share of
   * the gratuitous ARP helper, ARPs still to repeat); called when its configuration is replaced and at
   * agent exit. An action already running finishes.
   */
  close?(): void;
}

export interface DriverContext {
  hostName: string;
  application: string;
  pair: AgentPairConfig;
  /** The agent's state directory (the lab driver's default place for its VIP files). */
  stateDir: string;
  /** For what happens after a result was returned (gratuitous ARP repeats in the background). */
  log?: (line: string) => void;
}
