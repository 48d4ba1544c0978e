// W14 guided upgrades as people use them: a pair's runs, starting one, pausing, resuming, aborting,
// confirming an install; and the install command an admin configures per application (run by the
// application's host agent as the install step, instead of an operator's confirmation).
import type { Db } from "../db";
import { AppError, notFound } from "../errors";
import { recordAudit, type Actor } from "../audit/audit.repository";
import { COMMAND_MAX_CHARS } from "../../protocol/limits";
import { OS_COMMAND_MAX_ARGS, OS_COMMAND_MAX_ARG_CHARS, OS_COMMAND_MAX_TIMEOUT_MS, splitCommandLine } from "../../protocol/agent-wire";
import type { UpgradeState } from "./procedure";
import type { UpgradeRunner } from "./upgrade.runner";
import * as repo from "./upgrade.repository";

/** Runs of a pair shown on its page (the newest first). */
export const UPGRADE_RUNS_SHOWN = 10;
/** An install command runs at most this long by default before the agent kills it. */
export const DEFAULT_INSTALL_TIMEOUT_MS = 300_000;

export interface RunView {
  id: string;
  status: string;
  startedBy: string;
  startedAt: Date;
  endedAt: Date | null;
  state: UpgradeState;
}

export class UpgradeService {
  constructor(
    private readonly db: Db,
    private readonly runner: UpgradeRunner,
  ) {}

  async runs(pairId: string): Promise<RunView[]> {
    return (await repo.runsOfPair(this.db, pairId, UPGRADE_RUNS_SHOWN)).map(({ pairId: _pairId, ...r }) => r);
  }

  async start(actor: Actor, pairId: string): Promise<RunView> {
    const { id, state } = await this.runner.begin(actor, pairId);
    return { id, status: state.status, startedBy: state.startedBy, startedAt: new Date(state.startedAtMs), endedAt: null, state };
  }

  async command(actor: Actor, runId: string, cmd: Parameters<UpgradeRunner["command"]>[2]): Promise<UpgradeState> {
    return this.runner.command(actor, runId, cmd);
  }

  /** The install commands of a pair's two servers (null where an operator confirms the install instead). */
  async installCommands(pairId: string): Promise<{ appId: string; appName: string; hostName: string; command: string | null; timeoutMs: number; updatedBy: string | null; updatedAt: Date | null }[]> {
    const pair = await this.db.haPair.findUnique({ where: { id: pairId }, select: { primaryApp: { select: appSelect }, backupApp: { select: appSelect } } });
    if (!pair) throw notFound(`pair ${pairId}`);
    const apps = [pair.primaryApp, pair.backupApp];
    const rows = await repo.installCommands(this.db, apps.map((a) => a.id));
    return apps.map((a) => {
      const row = rows.find((r) => r.applicationId === a.id);
      return { appId: a.id, appName: a.name, hostName: a.host.name, command: row?.command ?? null, timeoutMs: row?.timeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS, updatedBy: row?.updatedBy ?? null, updatedAt: row?.updatedAt ?? null };
    });
  }

  /**
   * Sets (or, with an empty command, removes) the install command of an application: a command line
   * its host agent runs without a shell (words and quotes only, as an alarm's OS command), which needs
   * the agent started with --allow-os-commands. Audited with before and after.
   */
  async setInstallCommand(actor: Actor, appId: string, input: { command: string; timeoutMs?: number }): Promise<void> {
    const app = await this.db.application.findUnique({ where: { id: appId }, select: { name: true } });
    if (!app) throw notFound(`application ${appId}`);
    const line = input.command.trim();
    const timeoutMs = input.timeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS;
    if (line !== "") checkInstallCommand(line, timeoutMs);
    const before = await repo.installCommand(this.db, appId);
    await this.db.$transaction(async (tx) => {
      await repo.setInstallCommand(tx, appId, line === "" ? null : line, timeoutMs, actor.name);
      await recordAudit(tx, actor, {
        action: line === "" ? "application.install-command-remove" : "application.install-command-set",
        objectType: "application",
        objectId: appId,
        objectName: app.name,
        before: before ? { command: before.command, timeoutMs: before.timeoutMs } : null,
        after: line === "" ? null : { command: line, timeoutMs },
      });
    });
  }
}

const appSelect = { id: true, name: true, host: { select: { name: true } } } as const;

/** What the agent would refuse is refused here, with the rule: its length, its words, its timeout. */
export function checkInstallCommand(line: string, timeoutMs: number): void {
  if (line.length > COMMAND_MAX_CHARS) throw new AppError("INVALID", `command: is ${line.length} characters long; at most ${COMMAND_MAX_CHARS} are allowed`);
  let argv: string[];
  try {
    argv = splitCommandLine(line);
  } catch (err) {
    throw new AppError("INVALID", `command: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (argv.length === 0 || argv[0] === "") throw new AppError("INVALID", "command: must name the program to run");
  if (argv.length > OS_COMMAND_MAX_ARGS) throw new AppError("INVALID", `command: has ${argv.length} words; at most ${OS_COMMAND_MAX_ARGS} are allowed`);
  const long = argv.find((a) => a.length > OS_COMMAND_MAX_ARG_CHARS);
  if (long) throw new AppError("INVALID", `command: a word is ${long.length} characters long; at most ${OS_COMMAND_MAX_ARG_CHARS} are allowed`);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1_000 || timeoutMs > OS_COMMAND_MAX_TIMEOUT_MS) {
    throw new AppError("INVALID", `timeoutMs: ${timeoutMs} is outside 1000–${OS_COMMAND_MAX_TIMEOUT_MS} ms`);
  }
}
