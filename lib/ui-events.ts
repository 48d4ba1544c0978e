// The browsers' live channel (socket.io namespace /ui, same login as the pages): one map of event →
// payload schema, used by the console to emit and by the browser to check what arrives — as the agent
// wire protocol is. The pair view is defined here once; the console computes it, the dashboard shows it.
import superjson, { type SuperJSONResult } from "superjson";
import { z } from "zod";
import { haTypes } from "../protocol/vocabulary";

export const UI_NAMESPACE = "/ui";

export const serverViewSchema = z.object({
  appId: z.string(),
  name: z.string(),
  hostName: z.string(),
  configuredRole: z.enum(["primary", "backup"]),
  role: z.enum(["primary", "backup", "unknown"]),
  roleEpoch: z.number().nullable(),
  status: z.string(),
  statusDetail: z.string(),
  hostConnection: z.enum(["connected", "disconnected", "unknown"]),
  /** When its host was last heard from; in live pushes only while the host is not connected. */
  lastHeartbeatAt: z.date().nullable(),
  readyForSwitchover: z.union([z.literal(0), z.literal(1)]).nullable(),
  /** W13/W14: readiness for upgrade as the server reports it (the backup 1, the primary 0); null when unknown. */
  readyForUpgrade: z.union([z.literal(0), z.literal(1)]).nullable(),
  notReadyReasons: z.array(z.string()),
  haLink: z.string(),
  sipListener: z.string(),
  oosBackoff: z.number(),
  /** present: the VIP (or NLB port) should be enabled here; stale: may still be enabled though this server is not primary. */
  vip: z.enum(["present", "absent", "stale", "none"]),
  /**
   * A failed process: the line of its last output that most likely says why (an error line, else the last
   * line; null when it wrote nothing) and its last few lines. Null unless the process failed.
   */
  failure: z.object({ cause: z.string().nullable(), output: z.string() }).nullable(),
  /** The version the server reports running (GET /switchyard/v1/running); null until it said. */
  version: z.string().nullable(),
  /**
   * Where this host's agent observes the VIP (or NLB port): present or not (null: its driver cannot
   * tell), when it reported that (it reports every change, and checks every few seconds) and what it
   * saw. For a host that is not connected it is the last known observation. null: nothing reported yet,
   * or a single-host pair (no VIP).
   */
  vipObserved: z.object({ present: z.boolean().nullable(), at: z.date(), detail: z.string() }).nullable(),
});
export type ServerView = z.infer<typeof serverViewSchema>;

export const pairViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  haType: z.enum(haTypes),
  epoch: z.number(),
  situation: z.string(),
  servers: z.array(serverViewSchema),
  splitBrain: z.boolean(),
  /** The controller's plan in progress: a role change (switchover, failover, demotion) or a VIP-only plan. */
  plan: z
    .object({
      title: z.string(),
      cause: z.string(),
      from: z.string().nullable(),
      to: z.string().nullable(),
      forced: z.boolean(),
      steps: z.array(z.object({ label: z.string(), status: z.string(), note: z.string() })),
    })
    .nullable(),
  /**
   * An automatic failover held until its target is ready (its primary can keep its calls meanwhile):
   * who takes over, how many calls it still has to synchronise, and until when it waits at most.
   */
  hold: z
    .object({
      cause: z.string(),
      from: z.string(),
      to: z.string(),
      unsyncedCalls: z.number().nullable(),
      since: z.date(),
      until: z.date(),
    })
    .nullable(),
  /** The pair is in maintenance: the controller observes it and decides nothing of its own (who, why, since, until). */
  maintenance: z
    .object({
      by: z.string(),
      reason: z.string(),
      since: z.date(),
      until: z.date().nullable(),
    })
    .nullable(),
  activeAlarms: z.array(z.string()),
  /**
   * The VIP (or NLB port) is not where the controller wants it, as the agents observe it, for longer
   * than a switchover's settle time (the vip-mismatch alarm is raised): where it should be, and each
   * host that contradicts that (lastKnown: its host is disconnected or a switchover runs, so it is what
   * was last observed).
   */
  vipMismatch: z
    .object({
      since: z.date(),
      /** The intended primary's host; null when no primary is intended yet. */
      expectedHost: z.string().nullable(),
      hosts: z.array(z.object({ hostName: z.string(), server: z.string(), expected: z.boolean(), observed: z.boolean(), lastKnown: z.boolean() })),
      text: z.string(),
    })
    .nullable(),
  /** Problems first: 0 healthy, higher is worse. */
  severity: z.number(),
  switchoverBlockers: z.array(z.string()),
  /**
   * A forced switchover would be accepted: what blocks the switchover is readiness alone (W12). False
   * when nothing blocks it, or when the controller would refuse even a forced one (no single primary,
   * a partner that cannot serve, a host cut off, a role change in progress).
   */
  forceable: z.boolean(),
});
export type PairView = z.infer<typeof pairViewSchema>;

/** "live:pairs": pair views that changed (already computed by the console) and pairs that are gone. */
export const livePairsSchema = z.object({ changed: z.array(pairViewSchema), removed: z.array(z.string()) });
export type LivePairs = z.infer<typeof livePairsSchema>;

/** "live:applications": what agents report about these applications changed (running options, delivery, restart state). */
export const liveApplicationsSchema = z.object({ applications: z.array(z.string()), vipChanged: z.boolean() });
export type LiveApplications = z.infer<typeof liveApplicationsSchema>;

/**
 * Every event the console sends to browsers, with its payload's schema. "live:pairs" travels as
 * superjson (dates); the others carry nothing and mean "refetch what you show of this".
 */
export const uiEventSchemas = {
  "live:pairs": livePairsSchema,
  /** Live state other than pair views changed (timelines, agent connections). */
  "live:changed": z.undefined(),
  /** Alarms changed. */
  "alarms:changed": z.undefined(),
  /** A guided procedure changed: a W14 upgrade run, a scheduled switchover. */
  "procedures:changed": z.undefined(),
  "live:applications": liveApplicationsSchema,
} as const;

export type UiEventName = keyof typeof uiEventSchemas;

/** A payload as it travels: "live:pairs" as superjson (its views carry dates), the others as their schema says. */
type OnTheWire<E extends UiEventName> = E extends "live:pairs" ? SuperJSONResult : z.input<(typeof uiEventSchemas)[E]>;

/** socket.io's typed map for the console → browser direction, derived from uiEventSchemas: an event exists here only if it has a schema. */
export type UiServerToClientEvents = {
  [E in UiEventName]: OnTheWire<E> extends undefined ? () => void : (payload: OnTheWire<E>) => void;
};

/** "live:pairs" for the wire: the console can send only what the schema describes. */
export function encodeLivePairs(pairs: LivePairs): SuperJSONResult {
  return superjson.serialize(pairs);
}
