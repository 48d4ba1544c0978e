// W14 guided upgrades: a pair's runs (viewers), starting and steering one (operators and admins), and
// the install command per application (admins configure it; everyone sees what will run).
import { z } from "zod";
import { adminProcedure, createTRPCRouter, operatorProcedure, viewerProcedure } from "../api/trpc";
import { boundedString, COMMAND_MAX_CHARS, ID_MAX_CHARS } from "../../protocol/limits";
import { OS_COMMAND_MAX_TIMEOUT_MS } from "../../protocol/agent-wire";

const id = boundedString(ID_MAX_CHARS).min(1);

export const upgradeRouter = createTRPCRouter({
  /** The pair's upgrade runs, newest first, each with its steps (who, when, result), gates and versions. */
  runs: viewerProcedure.input(z.object({ pairId: id }).strict()).query(({ ctx, input }) => ctx.services.upgrades.runs(input.pairId)),
  start: operatorProcedure.input(z.object({ pairId: id }).strict()).mutation(({ ctx, input }) => ctx.services.upgrades.start(ctx.actor, input.pairId)),
  pause: operatorProcedure.input(z.object({ runId: id }).strict()).mutation(({ ctx, input }) => ctx.services.upgrades.command(ctx.actor, input.runId, { type: "pause" })),
  resume: operatorProcedure.input(z.object({ runId: id }).strict()).mutation(({ ctx, input }) => ctx.services.upgrades.command(ctx.actor, input.runId, { type: "resume" })),
  /** Ends the run, leaving the pair with both servers running (a server the run stopped is started again). */
  abort: operatorProcedure.input(z.object({ runId: id }).strict()).mutation(({ ctx, input }) => ctx.services.upgrades.command(ctx.actor, input.runId, { type: "abort" })),
  /** The new version is installed on the stopped server the run waits for (the install step without a command). */
  confirmInstalled: operatorProcedure
    .input(z.object({ runId: id, appId: id }).strict())
    .mutation(({ ctx, input }) => ctx.services.upgrades.command(ctx.actor, input.runId, { type: "confirm-installed", appId: input.appId })),
  installCommands: viewerProcedure.input(z.object({ pairId: id }).strict()).query(({ ctx, input }) => ctx.services.upgrades.installCommands(input.pairId)),
  /** An empty command removes it (an operator then confirms the install). */
  setInstallCommand: adminProcedure
    .input(z.object({ appId: id, command: boundedString(COMMAND_MAX_CHARS), timeoutMs: z.number().int().min(1_000).max(OS_COMMAND_MAX_TIMEOUT_MS).optional() }).strict())
    .mutation(({ ctx, input }) => ctx.services.upgrades.setInstallCommand(ctx.actor, input.appId, { command: input.command, timeoutMs: input.timeoutMs })),
});
