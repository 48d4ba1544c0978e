// The REST API's routes: each one is an HTTP face of one tRPC procedure (server/api/root.ts), so the
// role it needs, its input's validation and bounds, its audit entry and its errors are the procedure's
// own — there is no second set of rules. A route says only what HTTP adds: its method and path, where
// each input field comes from (path, query or JSON body), how the answer is sent (JSON, a file, YAML)
// and what its answer looks like (rest-schemas.ts). server/api/rest.ts serves them; openapi.ts
// documents them at /api/openapi.json.
import type { z } from "zod";
import type { ConsoleServices } from "./trpc";
import { findPairId } from "../config/config.repository";
import * as s from "./rest-schemas";

export type HttpMethod = "GET" | "POST";

export interface PathParam {
  /** The procedure's input field this path segment fills. */
  field: string;
  description: string;
  /** Turns what the caller wrote (a name) into the id the procedure takes; null: no such object. */
  resolve?: (services: ConsoleServices, value: string) => Promise<string | null>;
}

export interface RestRoute {
  method: HttpMethod;
  /** OpenAPI-style template: /api/v1/pairs/{pair}/switchover. */
  path: string;
  /** The tRPC procedure this route calls, e.g. "live.switchover". */
  procedure: string;
  summary: string;
  description?: string;
  tag: "status" | "pairs" | "hosts" | "alarms" | "audit" | "config" | "tokens";
  params?: Record<string, PathParam>;
  /** Input fields the HTTP face does not offer (paging direction sent by the browser's infinite lists). */
  hidden?: string[];
  /** How the answer goes out: JSON (default), a download (an ExportFile), or YAML text. */
  respond?: "json" | "file" | "yaml";
  /** The answer's body (JSON), documented and checked by the tests. */
  response: z.ZodType;
  /** Status of a successful answer (default 200). */
  status?: number;
  /** An answer that is a refusal (a switchover the controller refused): sent as 409 with this message. */
  refusal?: (output: unknown) => string | null;
}

const pairParam: PathParam = {
  field: "pairId",
  description: "the pair's name (or its id)",
  resolve: (services, value) => findPairId(services.db, value),
};

export const restRoutes: RestRoute[] = [
  { method: "GET", path: "/api/v1/whoami", procedure: "auth.me", tag: "status", summary: "Who the token is", description: "The token's principal (`token:<name>`) and role; null without a token.", response: s.whoamiSchema },
  {
    method: "GET",
    path: "/api/v1/status",
    procedure: "live.status",
    tag: "status",
    summary: "Everything at a glance",
    description: "Every pair's live view (roles, epochs, readiness, HA link, VIP, plan in progress), every host agent's connection, active alarms by severity, and which console instance leads (and which follow): what `switchyard status` shows.",
    response: s.statusSchema,
  },
  { method: "GET", path: "/api/v1/pairs", procedure: "live.pairs", tag: "pairs", summary: "Live view of every pair", response: s.pairViewSchema.array() },
  { method: "GET", path: "/api/v1/pairs/{pair}", procedure: "live.pair", tag: "pairs", summary: "Live view of one pair", params: { pair: pairParam }, response: s.pairViewSchema },
  {
    method: "GET",
    path: "/api/v1/pairs/{pair}/timeline",
    procedure: "live.timeline",
    tag: "pairs",
    summary: "A pair's timeline, newest first",
    description: "The controller's decisions with their reasons, commands and their results, operators' requests.",
    params: { pair: pairParam },
    response: s.timelineEntrySchema.array(),
  },
  {
    method: "POST",
    path: "/api/v1/pairs/{pair}/switchover",
    procedure: "live.switchover",
    tag: "pairs",
    summary: "Switch a pair over (W1; forced only with a reason, W12)",
    description:
      "Asks the controller to make the backup primary. Answers once the controller has decided: 200 with the plan's epoch when it started the switchover (follow it with GET /api/v1/pairs/{pair} until `plan` is null), 409 with the controller's sentence when it refused (not ready, a role change in progress, …). `force` needs a `reason` (at least 5 characters) and is recorded in the timeline and the audit log.",
    params: { pair: pairParam },
    response: s.switchoverOutcomeSchema,
    refusal: (o) => ((o as z.infer<typeof s.switchoverOutcomeSchema>).accepted ? null : (o as z.infer<typeof s.switchoverOutcomeSchema>).sentence),
  },
  {
    method: "POST",
    path: "/api/v1/pairs/{pair}/maintenance",
    procedure: "maintenance.set",
    tag: "pairs",
    summary: "Put a pair in maintenance or end it",
    description:
      "`on: true` with a `reason` (and optionally `until`, an ISO 8601 time at most 30 days ahead) puts the pair in maintenance: the controller then observes it and takes no decision of its own (no failover, no autostart) until it ends, by hand (`on: false`) or at `until`. 200 with the controller's sentence; 409 with it when the controller does not take it; audited as pair.maintenance-on / -off.",
    params: { pair: pairParam },
    response: s.maintenanceOutcomeSchema,
  },
  { method: "GET", path: "/api/v1/hosts", procedure: "live.hosts", tag: "hosts", summary: "Host agents' connections", description: "Every host whose agent connected since the console started, with its state, reason and last heartbeat.", response: s.hostLiveStateSchema.array() },
  { method: "GET", path: "/api/v1/alarms", procedure: "alarms.active", tag: "alarms", summary: "Active alarms, most severe first", response: s.alarmSchema.array() },
  { method: "GET", path: "/api/v1/alarms/counts", procedure: "alarms.counts", tag: "alarms", summary: "Active alarms by severity", response: s.alarmCountsSchema },
  { method: "GET", path: "/api/v1/alarms/history", procedure: "alarms.history", tag: "alarms", summary: "Cleared alarms, latest first (paged with cursor)", hidden: ["direction"], response: s.alarmPageSchema },
  {
    method: "GET",
    path: "/api/v1/alarms/history/export",
    procedure: "alarms.exportHistory",
    tag: "alarms",
    summary: "Alarm history as a CSV or JSON file",
    description: "The cleared alarms the history's filters match, as a download (`format=csv` or `json`). At most 100,000 rows; more are refused with the count.",
    respond: "file",
    response: s.exportFileSchema,
  },
  {
    method: "POST",
    path: "/api/v1/alarms/{id}/acknowledge",
    procedure: "alarms.acknowledge",
    tag: "alarms",
    summary: "Acknowledge an alarm (it stays active)",
    params: { id: { field: "id", description: "the alarm's id" } },
    response: s.okSchema,
  },
  {
    method: "POST",
    path: "/api/v1/alarms/{id}/clear",
    procedure: "alarms.clear",
    tag: "alarms",
    summary: "Clear an alarm (it moves to the history)",
    params: { id: { field: "id", description: "the alarm's id" } },
    response: s.okSchema,
  },
  { method: "GET", path: "/api/v1/audit", procedure: "audit.list", tag: "audit", summary: "Audit log, newest first (paged with cursor)", hidden: ["direction"], response: s.auditPageSchema },
  {
    method: "GET",
    path: "/api/v1/audit/export",
    procedure: "audit.export",
    tag: "audit",
    summary: "Audit log as a CSV or JSON file",
    description: "The entries the audit log's filters match, as a download (`format=csv` or `json`). At most 100,000 rows; more are refused with the count.",
    respond: "file",
    response: s.exportFileSchema,
  },
  {
    method: "GET",
    path: "/api/v1/config/export",
    procedure: "config.export",
    tag: "config",
    summary: "Export the configuration (YAML)",
    description: "Hosts, applications and pairs in the import format (audited).",
    respond: "yaml",
    response: s.yamlTextSchema,
  },
  {
    method: "POST",
    path: "/api/v1/config/import",
    procedure: "config.import",
    tag: "config",
    summary: "Import a configuration (YAML in `text`)",
    description: "`dryRun: true` checks only. Any problem refuses the whole import (400, every problem with its path in the file); nothing is changed. `replace: true` also deletes what the file does not name.",
    response: s.importPlanSchema,
  },
  { method: "GET", path: "/api/v1/tokens", procedure: "apiTokens.list", tag: "tokens", summary: "API tokens", response: s.apiTokenSchema.array() },
  { method: "POST", path: "/api/v1/tokens", procedure: "apiTokens.create", tag: "tokens", summary: "Create an API token (its secret is shown once)", status: 201, response: s.createdApiTokenSchema },
  {
    method: "POST",
    path: "/api/v1/tokens/{id}/revoke",
    procedure: "apiTokens.revoke",
    tag: "tokens",
    summary: "Revoke an API token",
    params: { id: { field: "id", description: "the token's id" } },
    response: s.okSchema,
  },
];
