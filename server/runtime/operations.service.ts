// Operations people (and alarm reactions, guided procedures, the API) ask of the live side: a
// switchover of a pair, its maintenance, and starting or stopping a server through its agent. Each goes
// to the control plane, then is audited with its outcome.
import type { Db } from "../db";
import { AppError, notFound } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.repository";
import type { ControlPlane } from "../control-plane/control-plane";
import type { SwitchoverOutcome } from "./runner";
import { DESCRIPTION_MAX_CHARS } from "../../protocol/limits";

/** The longest maintenance that may be set with an end (a longer one is set without an end, on purpose). */
export const MAINTENANCE_MAX_DURATION_MS = 30 * 24 * 3600_000;

export interface MaintenanceRequest {
  /** true: put the pair in maintenance (or change its reason or end); false: end it. */
  on: boolean;
  /** Why (required to set it), at most DESCRIPTION_MAX_CHARS. */
  reason?: string;
  /** When it ends by itself (null or absent: until someone ends it); at most 30 days ahead. */
  until?: Date | null;
}

export class OperationsService {
  constructor(
    private readonly db: Db,
    private readonly controlPlane: ControlPlane,
  ) {}

  /** Asks the controller for a switchover (W1; forced only with a reason, W12) and audits its answer. */
  async switchOver(actor: Actor, pairId: string, opts: { force: boolean; reason: string }): Promise<string> {
    return (await this.switchOverOutcome(actor, pairId, opts)).sentence;
  }

  /** The same, and whether the controller ordered it or refused it (a scheduled switchover, a W14 upgrade step). */
  async switchOverOutcome(actor: Actor, pairId: string, opts: { force: boolean; reason: string }): Promise<SwitchoverOutcome> {
    const name = await this.pairName(pairId);
    const outcome = await this.controlPlane.switchOverOutcome(pairId, actor.name, opts.force, opts.reason);
    // A refused switchover is audited as what it was, not under the action of one that happened.
    const action = !outcome.ordered ? (opts.force ? "pair.switchover-forced-refused" : "pair.switchover-refused") : opts.force ? "pair.switchover-forced" : "pair.switchover";
    await recordAudit(this.db, actor, {
      action,
      objectType: "pair",
      objectId: pairId,
      objectName: name,
      detail: `${opts.reason ? `reason: ${opts.reason}; ` : ""}controller: ${outcome.sentence}`,
    });
    return outcome;
  }

  /**
   * Puts a pair in maintenance or ends it (issue 14): the controller then observes the pair and takes
   * no decision of its own — no failover, no autostart — until it ends, by hand or at `until`. Changing
   * the reason or the end of a pair already in maintenance keeps since when. Refused (CONFLICT, with the
   * controller's sentence) when the controller does not accept it; audited as pair.maintenance-on /
   * pair.maintenance-off. This is the one entry point: tRPC, the REST API and the CLI call it.
   */
  async setMaintenance(actor: Actor, pairId: string, req: MaintenanceRequest, now: Date = new Date()): Promise<string> {
    const name = await this.pairName(pairId);
    const reason = (req.reason ?? "").trim();
    if (req.on) {
      if (reason === "") throw new AppError("INVALID", `maintenance of ${name} needs a reason (why the controller should leave the pair alone)`);
      if (reason.length > DESCRIPTION_MAX_CHARS) throw new AppError("INVALID", `reason: is ${reason.length} characters long; at most ${DESCRIPTION_MAX_CHARS} are allowed`);
      if (req.until) {
        if (Number.isNaN(req.until.getTime())) throw new AppError("INVALID", "until: is not a time");
        if (req.until.getTime() <= now.getTime()) throw new AppError("INVALID", `until: ${req.until.toISOString()} is not in the future`);
        if (req.until.getTime() - now.getTime() > MAINTENANCE_MAX_DURATION_MS) throw new AppError("INVALID", `until: ${req.until.toISOString()} is more than 30 days ahead; set no end instead, on purpose`);
      }
    }
    const { sentence, accepted } = await this.controlPlane.maintenance(pairId, actor.name, req.on, reason, req.on ? (req.until?.getTime() ?? null) : null);
    await recordAudit(this.db, actor, {
      action: req.on ? "pair.maintenance-on" : "pair.maintenance-off",
      objectType: "pair",
      objectId: pairId,
      objectName: name,
      after: req.on ? { reason, until: req.until?.toISOString() ?? null } : undefined,
      detail: `controller: ${sentence}`,
    });
    if (!accepted) throw new AppError("CONFLICT", sentence);
    return sentence;
  }

  /** Starts or stops a server through its host's agent (e.g. restarts a failed server) and audits it. */
  async controlApplication(actor: Actor, appId: string, action: "start" | "stop"): Promise<string> {
    const app = await this.db.application.findUnique({ where: { id: appId }, select: { name: true, host: { select: { name: true } } } });
    if (!app) throw notFound(`application ${appId}`);
    const result = await this.controlPlane.applicationCommand(appId, action, actor.name);
    await recordAudit(this.db, actor, {
      action: `application.${action}`,
      objectType: "application",
      objectId: appId,
      objectName: app.name,
      detail: `${result.outcome}: ${result.reason}`,
    });
    if (result.outcome !== "ok") throw new AppError("CONFLICT", `${action} ${app.name} on ${app.host.name}: ${result.outcome} — ${result.reason}`);
    return result.reason;
  }

  private async pairName(pairId: string): Promise<string> {
    const pair = await this.db.haPair.findUnique({ where: { id: pairId }, select: { name: true } });
    if (!pair) throw notFound(`pair ${pairId}`);
    return pair.name;
  }
}
