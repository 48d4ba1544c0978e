// An application's servers-side picture for its page: process status, restart policy (configured) and
// where it stands (reported), the last output of a failed process, the last option delivery, and
// configured against running values with the reason for each difference. Configuration comes from the
// database; what the agent reported comes from the control plane's mirror (control-plane.ts).
import type { Db } from "../db";
import { AppError, notFound } from "../errors";
import { findApplicationShape } from "../config/config.repository";
import type { ControlPlane } from "../control-plane/control-plane";
import type { ConfigDeliveryMessage, LogReadReply, RestartState } from "../../protocol/agent-wire";
import type { ReportedProcessStatus } from "../../protocol/vocabulary";
import type { RestartPolicyShape } from "../config/config.schema";
import { compareOptions, type OptionDelivery } from "./option-delivery";

export interface ApplicationRuntimeView extends OptionDelivery {
  application: string;
  hostName: string;
  /** False on a console without agents and controller: nothing below was reported. */
  controllerRunning: boolean;
  process: { status: ReportedProcessStatus; detail: string; at: string | null; restart: RestartState | null; lastOutput: string } | null;
  restartPolicy: RestartPolicyShape;
  startupTimeoutMs: number;
  running: { revision: string | null; version: string; at: string } | null;
  delivery: ConfigDeliveryMessage | null;
}

export async function applicationRuntimeView(db: Db, controlPlane: ControlPlane, appId: string): Promise<ApplicationRuntimeView> {
  const app = await findApplicationShape(db, appId);
  if (!app) throw notFound(`application ${appId}`);
  const reported = controlPlane.applicationRuntime(app.name);
  const running = reported?.running ?? null;
  const delivery = reported?.delivery ?? null;
  return {
    application: app.name,
    hostName: app.host,
    controllerRunning: controlPlane.enabled,
    process:
      reported?.status != null
        ? { status: reported.status, detail: reported.statusDetail, at: reported.statusAt, restart: reported.restart, lastOutput: reported.lastOutput }
        : null,
    restartPolicy: app.restartPolicy,
    startupTimeoutMs: app.startupTimeoutMs,
    running: running ? { revision: running.configRevision, version: running.version, at: running.time } : null,
    delivery,
    ...compareOptions(app.options, running, delivery),
  };
}

/** An application's log as its host's agent reads it: the newest maxBytes, or the newest lines containing `search`. */
export async function applicationLog(db: Db, controlPlane: ControlPlane, appId: string, opts: { maxBytes: number; search: string | null }): Promise<LogReadReply & { hostName: string }> {
  const app = await findApplicationShape(db, appId);
  if (!app) throw notFound(`application ${appId}`);
  if (app.startCommand === "") throw new AppError("CONFLICT", `${app.name} has no start command, so no agent runs it and there is no log of it to read`);
  const reply = await controlPlane.readLog(app.host, { application: app.name, maxBytes: opts.maxBytes, search: opts.search });
  return { ...reply, hostName: app.host };
}
