// API token management (admin): list, create (the secret is returned once), revoke.
import { z } from "zod";
import { adminProcedure, createTRPCRouter } from "../api/trpc";
import { roles } from "../auth/roles";
import { boundedString, DESCRIPTION_MAX_CHARS, ID_MAX_CHARS, OBJECT_NAME_MAX_CHARS } from "../../protocol/limits";
import { API_TOKEN_MAX_EXPIRY_DAYS } from "./api-tokens.service";

export const apiTokenCreateInputSchema = z
  .object({
    name: boundedString(OBJECT_NAME_MAX_CHARS)
      .trim()
      .min(1, "name the token after what uses it (prometheus, ci-deploy)")
      .regex(/^[A-Za-z0-9._@-]+$/, "may only contain letters, digits, '.', '_', '@' and '-'"),
    role: z.enum(roles),
    description: boundedString(DESCRIPTION_MAX_CHARS).trim().default(""),
    /** Days until it expires; null: never (chosen explicitly). */
    expiresInDays: z.number().int().min(1).max(API_TOKEN_MAX_EXPIRY_DAYS).nullable().default(90),
  })
  .strict();

export const apiTokensRouter = createTRPCRouter({
  list: adminProcedure.query(({ ctx }) => ctx.services.apiTokens.list()),
  create: adminProcedure.input(apiTokenCreateInputSchema).mutation(({ ctx, input }) => ctx.services.apiTokens.create(ctx.actor, input)),
  revoke: adminProcedure.input(z.object({ id: boundedString(ID_MAX_CHARS).min(1) }).strict()).mutation(async ({ ctx, input }) => {
    await ctx.services.apiTokens.revoke(ctx.actor, input.id);
    return true;
  }),
});
