// The one router registry: every slice's router is mounted here.
import { createCallerFactory, createTRPCRouter } from "./trpc";
import { authRouter, usersRouter } from "../auth/auth.router";
import { applicationsRouter, hostsRouter, optionsRouter, pairsRouter } from "../config/config.router";
import { auditRouter } from "../audit/audit.router";
import { transferRouter } from "../transfer/transfer.router";
import { agentTokensRouter } from "../agent-tokens/agent-tokens.router";
import { apiTokensRouter } from "../api-tokens/api-tokens.router";
import { liveRouter } from "../runtime/live.router";
import { labRouter } from "../lab/lab.router";
import { alarmsRouter } from "../alarms/alarms.router";
import { maintenanceRouter } from "../runtime/maintenance.router";
import { upgradeRouter } from "../upgrade/upgrade.router";
import { scheduleRouter } from "../schedule/schedule.router";

export const appRouter = createTRPCRouter({
  auth: authRouter,
  users: usersRouter,
  hosts: hostsRouter,
  applications: applicationsRouter,
  options: optionsRouter,
  pairs: pairsRouter,
  audit: auditRouter,
  config: transferRouter,
  agentTokens: agentTokensRouter,
  apiTokens: apiTokensRouter,
  live: liveRouter,
  lab: labRouter,
  alarms: alarmsRouter,
  maintenance: maintenanceRouter,
  upgrade: upgradeRouter,
  schedules: scheduleRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
