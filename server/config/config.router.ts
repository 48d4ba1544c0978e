// tRPC endpoints for hosts, applications, options and HA pairs: validate, authorise, call the service.
import { z } from "zod";
import { configChangeProcedure as adminProcedure, createTRPCRouter, viewerProcedure } from "../api/trpc";
import { applicationShapeSchema, hostShapeSchema, optionEntrySchema, pairShapeSchema } from "./config.schema";
import * as service from "./config.service";
import * as repo from "./config.repository";
import { optionCatalogue, validValuesText } from "../../lib/options-catalogue";
import { notFound } from "../errors";
import { withSecretsFor } from "./masking";
import { boundedString, ID_MAX_CHARS, OPTION_VALUE_MAX_CHARS } from "../../protocol/limits";

const id = boundedString(ID_MAX_CHARS).min(1);

export const applicationInputSchema = applicationShapeSchema.omit({ host: true }).extend({ hostId: id });
export const pairInputSchema = pairShapeSchema.omit({ primary: true, backup: true }).extend({ primaryAppId: id, backupAppId: id });
export const optionChangeSchema = optionEntrySchema.omit({ value: true }).extend({ value: boundedString(OPTION_VALUE_MAX_CHARS).nullable() });

export const hostsRouter = createTRPCRouter({
  list: viewerProcedure.query(({ ctx }) => repo.listHosts(ctx.services.db)),
  create: adminProcedure.input(hostShapeSchema).mutation(({ ctx, input }) => service.saveHost(ctx.services.db, ctx.actor, null, input)),
  update: adminProcedure
    .input(z.object({ id, host: hostShapeSchema }).strict())
    .mutation(({ ctx, input }) => service.saveHost(ctx.services.db, ctx.actor, input.id, input.host)),
  delete: adminProcedure.input(z.object({ id }).strict()).mutation(async ({ ctx, input }) => {
    await service.deleteHost(ctx.services.db, ctx.actor, input.id);
    return true;
  }),
});

export const applicationsRouter = createTRPCRouter({
  list: viewerProcedure.query(async ({ ctx }) => (await repo.listApplications(ctx.services.db)).map((a) => withSecretsFor(a, ctx.user.role))),
  get: viewerProcedure.input(z.object({ id }).strict()).query(async ({ ctx, input }) => {
    const app = (await repo.listApplications(ctx.services.db)).find((a) => a.id === input.id);
    if (!app) throw notFound(`application ${input.id}`);
    return withSecretsFor(app, ctx.user.role);
  }),
  create: adminProcedure
    .input(applicationInputSchema)
    .mutation(({ ctx, input }) => service.saveApplication(ctx.services.db, ctx.actor, null, input)),
  update: adminProcedure
    .input(z.object({ id, application: applicationInputSchema }).strict())
    .mutation(({ ctx, input }) => service.saveApplication(ctx.services.db, ctx.actor, input.id, input.application)),
  delete: adminProcedure.input(z.object({ id }).strict()).mutation(async ({ ctx, input }) => {
    await service.deleteApplication(ctx.services.db, ctx.actor, input.id);
    return true;
  }),
});

export const optionsRouter = createTRPCRouter({
  catalogue: viewerProcedure.query(() => optionCatalogue.map((o) => ({ ...o, validValues: validValuesText(o) }))),
  set: adminProcedure
    .input(z.object({ applicationId: id, changes: z.array(optionChangeSchema).min(1).max(500) }).strict())
    .mutation(async ({ ctx, input }) => {
      await service.setOptions(ctx.services.db, ctx.actor, input.applicationId, input.changes);
      return true;
    }),
  bulkSet: adminProcedure
    .input(z.object({ applicationIds: z.array(id).min(1).max(5000), change: optionChangeSchema }).strict())
    .mutation(({ ctx, input }) => service.bulkSetOption(ctx.services.db, ctx.actor, input.applicationIds, input.change)),
});

export const pairsRouter = createTRPCRouter({
  list: viewerProcedure.query(({ ctx }) => repo.listPairs(ctx.services.db)),
  create: adminProcedure.input(pairInputSchema).mutation(({ ctx, input }) => service.savePair(ctx.services.db, ctx.actor, null, input)),
  update: adminProcedure
    .input(z.object({ id, pair: pairInputSchema }).strict())
    .mutation(({ ctx, input }) => service.savePair(ctx.services.db, ctx.actor, input.id, input.pair)),
  delete: adminProcedure.input(z.object({ id }).strict()).mutation(async ({ ctx, input }) => {
    await service.deletePair(ctx.services.db, ctx.actor, input.id);
    return true;
  }),
});
