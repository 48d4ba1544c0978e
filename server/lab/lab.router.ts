// The demo lab's controls (only when the console runs the lab, `npm run demo`): inject the faults of
// the workflows — crash a server (W2), cut a host off and bring it back (W3), unplug a SIP NIC (W4),
// fail the SIP bind (W7), put a VIP where it should not be or take it away (the vip-mismatch alarm) —
// and create calls to watch the HA sync (W12). Operators; audited.
import { z } from "zod";
import { createTRPCRouter, operatorProcedure, viewerProcedure } from "../api/trpc";
import { recordAudit } from "../audit/audit.repository";
import { labFaults } from "./lab";

const name = z.string().min(1).max(128);

export const labRouter = createTRPCRouter({
  status: viewerProcedure.query(async ({ ctx }) => ({ enabled: ctx.services.lab.enabled, hosts: ctx.services.lab.hosts(), gateways: ctx.services.lab.gateways(), servers: await ctx.services.lab.servers() })),
  fault: operatorProcedure.input(z.object({ application: name, kind: z.enum(labFaults), on: z.boolean() }).strict()).mutation(async ({ ctx, input }) => {
    await ctx.services.lab.fault(input.application, input.kind, input.on);
    await recordAudit(ctx.services.db, ctx.actor, { action: "lab.fault", objectType: "application", objectName: input.application, detail: `${input.kind} ${input.on ? "on" : "off"}` });
    return true;
  }),
  host: operatorProcedure.input(z.object({ host: name, connected: z.boolean() }).strict()).mutation(async ({ ctx, input }) => {
    const lab = ctx.services.lab;
    if (input.connected) lab.reconnectHost(input.host);
    else lab.disconnectHost(input.host);
    await recordAudit(ctx.services.db, ctx.actor, { action: input.connected ? "lab.host-reconnect" : "lab.host-disconnect", objectType: "host", objectName: input.host });
    return true;
  }),
  vip: operatorProcedure.input(z.object({ pair: name, host: name, present: z.boolean() }).strict()).mutation(async ({ ctx, input }) => {
    await ctx.services.lab.setVip(input.pair, input.host, input.present);
    await recordAudit(ctx.services.db, ctx.actor, { action: "lab.vip", objectType: "pair", objectName: input.pair, detail: `VIP ${input.present ? "put on" : "taken off"} ${input.host} behind the controller's back` });
    return true;
  }),
  calls: operatorProcedure.input(z.object({ application: name, count: z.number().int().min(1).max(100_000) }).strict()).mutation(async ({ ctx, input }) => {
    await ctx.services.lab.createCalls(input.application, input.count);
    await recordAudit(ctx.services.db, ctx.actor, { action: "lab.calls", objectType: "application", objectName: input.application, detail: `${input.count} calls` });
    return true;
  }),
});
