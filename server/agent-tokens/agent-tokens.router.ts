// Agent token management (admin): list a host's tokens, create one (the secret is returned once), revoke.
import { z } from "zod";
import { adminProcedure, createTRPCRouter } from "../api/trpc";
import { createAgentToken, listAgentTokens, revokeAgentToken } from "./agent-tokens.service";
import { boundedString, ID_MAX_CHARS } from "../../protocol/limits";

const id = boundedString(ID_MAX_CHARS).min(1);

export const agentTokensRouter = createTRPCRouter({
  list: adminProcedure.input(z.object({ hostId: id }).strict()).query(({ ctx, input }) => listAgentTokens(ctx.services.db, input.hostId)),
  create: adminProcedure
    .input(z.object({ hostId: id, label: z.string().trim().max(100).default("") }).strict())
    .mutation(({ ctx, input }) => createAgentToken(ctx.services.db, ctx.actor, input.hostId, input.label)),
  revoke: adminProcedure.input(z.object({ id }).strict()).mutation(async ({ ctx, input }) => {
    const hostName = await revokeAgentToken(ctx.services.db, ctx.actor, input.id);
    // A revoked token must not keep a live session: the agent has to authenticate again, and is refused
    // unless another live token of the host is what it holds.
    if (hostName) await ctx.services.controlPlane.dropHost(hostName, "agent token revoked");
    return true;
  }),
});
