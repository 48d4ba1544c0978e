// Login, logout, who am I, first-admin setup, and user management (admin).
import { z } from "zod";
import { adminProcedure, createTRPCRouter, publicProcedure, viewerProcedure } from "../api/trpc";
import { roles } from "./roles";
import { boundedString, ID_MAX_CHARS, SECRET_MAX_CHARS } from "../../protocol/limits";

export const loginInputSchema = z.object({ username: z.string().trim().min(1).max(64), password: boundedString(SECRET_MAX_CHARS).min(1) }).strict();
const usernameSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._@-]+$/, "may only contain letters, digits, '.', '_', '@' and '-'");

export const authRouter = createTRPCRouter({
  me: publicProcedure.query(({ ctx }) => ctx.user),

  setupNeeded: publicProcedure.query(({ ctx }) => ctx.services.auth.setupNeeded()),

  login: publicProcedure.input(loginInputSchema).mutation(async ({ ctx, input }) => {
    const { token, user, expiresAt } = await ctx.services.auth.login({ ...input, ip: ctx.ip, userAgent: ctx.userAgent });
    ctx.cookies.setSession(token, expiresAt);
    return user;
  }),

  completeSetup: publicProcedure
    .input(z.object({ token: boundedString(SECRET_MAX_CHARS).min(1), username: usernameSchema, password: boundedString(SECRET_MAX_CHARS) }).strict())
    .mutation(async ({ ctx, input }) => {
      await ctx.services.auth.completeSetup(input);
      const { token, user, expiresAt } = await ctx.services.auth.login({ ...input, ip: ctx.ip, userAgent: ctx.userAgent });
      ctx.cookies.setSession(token, expiresAt);
      return user;
    }),

  logout: viewerProcedure.mutation(async ({ ctx }) => {
    if (ctx.sessionId) await ctx.services.auth.logout(ctx.sessionId, ctx.actor);
    ctx.cookies.clearSession();
    return true;
  }),
});

export const usersRouter = createTRPCRouter({
  list: adminProcedure.query(({ ctx }) => ctx.services.auth.listUsers()),
  create: adminProcedure
    .input(z.object({ username: usernameSchema, password: boundedString(SECRET_MAX_CHARS), role: z.enum(roles) }).strict())
    .mutation(({ ctx, input }) => ctx.services.auth.createUser(ctx.actor, input)),
  update: adminProcedure
    .input(z.object({ id: boundedString(ID_MAX_CHARS), role: z.enum(roles).optional(), disabled: z.boolean().optional(), password: boundedString(SECRET_MAX_CHARS).optional() }).strict())
    .mutation(async ({ ctx, input }) => {
      const { id, ...rest } = input;
      await ctx.services.auth.updateUser(ctx.actor, id, rest);
      return true;
    }),
});
