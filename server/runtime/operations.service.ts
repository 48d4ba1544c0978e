// Operations people (and alarm reactions) ask of the live side: a switchover of a pair and starting or
// stopping a server through its agent. Each goes to the control plane, then is audited with its outcome.
import type { Db } from "../db";
import { AppError, notFound } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.repository";
import type { ControlPlane } from "../control-plane/control-plane";

export class OperationsService {
  constructor(
    private readonly db: Db,
    private readonly controlPlane: ControlPlane,
  ) {}

  /** Asks the controller for a switchover (W1; forced only with a reason, W12) and audits its answer. */
  async switchOver(actor: Actor, pairId: string, opts: { force: boolean; reason: string }): Promise<string> {
    const name = await this.pairName(pairId);
    const answer = await this.controlPlane.switchOver(pairId, actor.name, opts.force, opts.reason);
    // A refused switchover is audited as what it was, not under the action of one that happened.
    const action = !answer.accepted ? (opts.force ? "pair.switchover-forced-refused" : "pair.switchover-refused") : opts.force ? "pair.switchover-forced" : "pair.switchover";
    await recordAudit(this.db, actor, {
      action,
      objectType: "pair",
      objectId: pairId,
      objectName: name,
      detail: `${opts.reason ? `reason: ${opts.reason}; ` : ""}controller: ${answer.sentence}`,
    });
    return answer.sentence;
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
