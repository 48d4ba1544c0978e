// What the REST API answers, as zod schemas: the OpenAPI document's response bodies are generated from
// these (server/api/openapi.ts), and the REST tests check real answers against them, so the document
// cannot drift from what the console sends. Dates travel as ISO 8601 strings (JSON has no dates); in
// these schemas they are z.date(), which the document shows as `string, format: date-time`.
import { z } from "zod";
import { pairViewSchema } from "../../lib/ui-events";
import { roles } from "../auth/roles";
import { clearedHows, severities } from "../alarms/alarms.schema";
import { exportFileSchema } from "../export/tabular";

export { pairViewSchema, exportFileSchema };

export const hostLiveStateSchema = z.object({
  hostName: z.string(),
  state: z.enum(["connected", "disconnected"]),
  reason: z.string().describe("why it is in this state, in words"),
  since: z.date(),
  lastHeartbeatAt: z.date().nullable(),
  agentVersion: z.string().nullable(),
  socketOpen: z.boolean(),
});

export const alarmCountsSchema = z.object({
  total: z.number().int(),
  unacknowledged: z.number().int(),
  critical: z.number().int(),
  major: z.number().int(),
  minor: z.number().int(),
});

/** Which console instance leads and which follow (several consoles on one PostgreSQL; server/control-plane/cluster-view.ts). */
export const consoleClusterSchema = z
  .object({
    instance: z.string(),
    role: z.enum(["leader", "follower"]),
    term: z.number().int(),
    leader: z.object({ id: z.string(), webUrl: z.string().nullable(), term: z.number().int(), since: z.date() }).nullable(),
    followers: z.array(z.object({ id: z.string(), webUrl: z.string(), seenAgoMs: z.number() })),
    expected: z.number().int(),
  })
  .nullable();

export const statusSchema = z.object({
  pairs: z.array(pairViewSchema),
  hosts: z.array(hostLiveStateSchema),
  alarms: alarmCountsSchema,
  console: consoleClusterSchema,
});

export const timelineEntrySchema = z.object({
  id: z.string(),
  at: z.date(),
  epoch: z.number().int(),
  kind: z.string().describe("decision | command | command-result | script | operator | alarm"),
  text: z.string(),
  data: z.unknown(),
});

export const switchoverOutcomeSchema = z.object({
  accepted: z.boolean().describe("true: the controller started the switchover plan; false: it refused (the sentence says why)"),
  sentence: z.string().describe("the controller's sentence, as the pair's timeline records it"),
  epoch: z.number().int().describe("the pair's epoch after the request (the plan's epoch when accepted)"),
});

export const maintenanceOutcomeSchema = z.string().describe("the controller's sentence: what it did (a refusal is a 409 with it)");

export const alarmSchema = z.object({
  id: z.string(),
  conditionId: z.string(),
  description: z.string(),
  severity: z.enum(severities),
  source: z.string().describe("the log event id (00-04200) or the controller alarm kind"),
  application: z.string(),
  host: z.string(),
  pair: z.string(),
  activeKey: z.string().nullable(),
  state: z.enum(["active", "cleared"]),
  count: z.number().int(),
  firstSeen: z.date(),
  lastSeen: z.date(),
  lastText: z.string(),
  acknowledgedBy: z.string().nullable(),
  acknowledgedAt: z.date().nullable(),
  acknowledgeNote: z.string().nullable(),
  clearedBy: z.string().nullable(),
  clearedAt: z.date().nullable(),
  clearComment: z.string().nullable(),
  clearedHow: z.enum(clearedHows).nullable(),
  runs: z.array(z.object({ id: z.string(), reactionId: z.string(), kind: z.string(), trigger: z.string(), at: z.date(), ok: z.boolean(), detail: z.string() })),
});

export const alarmPageSchema = z.object({ items: z.array(alarmSchema), nextCursor: z.string().nullable() });

export const auditEntrySchema = z.object({
  id: z.string(),
  at: z.date(),
  actorId: z.string().nullable(),
  actorName: z.string().describe('a user name, "token:<name>" for an API token, or "system"'),
  action: z.string(),
  objectType: z.string(),
  objectId: z.string().nullable(),
  objectName: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  detail: z.string(),
});

export const auditPageSchema = z.object({ items: z.array(auditEntrySchema), nextCursor: z.string().nullable() });

const namesChanged = z.object({ created: z.array(z.string()), updated: z.array(z.string()), deleted: z.array(z.string()) });
export const importPlanSchema = z.object({ hosts: namesChanged, applications: namesChanged, pairs: namesChanged });

export const apiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(roles),
  prefix: z.string().describe("the token's first characters, to tell tokens apart"),
  description: z.string(),
  createdAt: z.date(),
  createdBy: z.string(),
  expiresAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
  revokedBy: z.string().nullable(),
  lastUsedAt: z.date().nullable(),
  lastUsedFrom: z.string().nullable(),
});

export const createdApiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  token: z.string().describe("the secret, shown this once: keep it (the console stores only its hash)"),
  expiresAt: z.date().nullable(),
});

export const whoamiSchema = z.object({ id: z.string(), username: z.string(), role: z.enum(roles) }).nullable();

export const okSchema = z.literal(true);

export const yamlTextSchema = z.string().describe("the configuration file in the import format (YAML)");

export const errorSchema = z.object({
  error: z.object({
    code: z.string().describe("BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, TOO_MANY_REQUESTS, PAYLOAD_TOO_LARGE, INTERNAL_SERVER_ERROR"),
    message: z.string(),
    problems: z.array(z.object({ path: z.string(), message: z.string() })).describe("each problem with where it is (a field, or a path in an imported file)"),
  }),
});
