// Operations people (and alarm reactions) ask of the live side: a switchover of a pair and starting or
// stopping a server through its agent. Each is ordered, then audited with the outcome.
import type { Services } from "../services";
import { AppError, notFound } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.repository";
import type { Live } from "./live";

/** How long a start or stop may take to reach its agent and be carried out. */
export const APPLICATION_COMMAND_DEADLINE_MS = 30_000;

function liveOf(services: Services): Live {
  if (!services.live) throw new AppError("CONFLICT", "the controller is not running on this console");
  return services.live;
}

async function pairName(services: Services, pairId: string): Promise<string> {
  const pair = await services.db.haPair.findUnique({ where: { id: pairId }, select: { name: true } });
  if (!pair) throw notFound(`pair ${pairId}`);
  return pair.name;
}

/** Asks the controller for a switchover (W1; forced only with a reason, W12) and audits its answer. */
export async function switchOver(services: Services, actor: Actor, pairId: string, opts: { force: boolean; reason: string }): Promise<string> {
  const live = liveOf(services);
  const name = await pairName(services, pairId);
  const outcome = await live.runner.operatorSwitchover(pairId, actor.name, opts.force, opts.reason);
  await recordAudit(services.db, actor, {
    action: opts.force ? "pair.switchover-forced" : "pair.switchover",
    objectType: "pair",
    objectId: pairId,
    objectName: name,
    detail: `${opts.reason ? `reason: ${opts.reason}; ` : ""}controller: ${outcome}`,
  });
  return outcome;
}

/** Starts or stops a server through its host's agent (e.g. restarts a failed server) and audits it. */
export async function controlApplication(services: Services, actor: Actor, appId: string, action: "start" | "stop"): Promise<string> {
  const live = liveOf(services);
  const app = await services.db.application.findUnique({ where: { id: appId }, select: { name: true, host: { select: { name: true } } } });
  if (!app) throw notFound(`application ${appId}`);
  const state = live.runner.current;
  const pairId = state?.apps[appId]?.pairId;
  const epoch = (pairId && state?.pairStates[pairId]?.epoch) || 0;
  const base = { id: `${action}-${appId}-${Date.now()}`, application: app.name, pairEpoch: epoch, deadline: new Date(Date.now() + APPLICATION_COMMAND_DEADLINE_MS).toISOString() };
  const result = await live.gateway.sendCommand(app.host.name, action === "start" ? { ...base, type: "start", role: null } : { ...base, type: "stop" });
  await recordAudit(services.db, actor, {
    action: `application.${action}`,
    objectType: "application",
    objectId: appId,
    objectName: app.name,
    detail: `${result.outcome}: ${result.reason}`,
  });
  if (result.outcome !== "ok") throw new AppError("CONFLICT", `${action} ${app.name} on ${app.host.name}: ${result.outcome} — ${result.reason}`);
  return result.reason;
}
