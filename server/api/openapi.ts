// The OpenAPI 3.1 document of the REST API, served at /api/openapi.json. Generated, never written by
// hand: paths and methods from rest-routes.ts, each input from its tRPC procedure's own zod schema (the
// one that validates the call), each answer from rest-schemas.ts, the role from the procedure's
// declaration — all through zod's own JSON Schema conversion (z.toJSONSchema, JSON Schema 2020-12,
// which OpenAPI 3.1 uses). Dates, which JSON carries as ISO 8601 text, appear as `format: date-time`.
import { z } from "zod";
import type { OpenAPIV3_1 } from "openapi-types";
import { restRoutes, type RestRoute } from "./rest-routes";
import { procedureOf, inputShape } from "./rest";
import { errorSchema } from "./rest-schemas";
import { CONSOLE_VERSION } from "../version";

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const out = z.toJSONSchema(schema, {
    io,
    target: "draft-2020-12",
    unrepresentable: "any",
    override: (ctx) => {
      const def = (ctx.zodSchema as unknown as { _zod: { def: { type: string } } })._zod.def;
      if (def.type === "date") {
        ctx.jsonSchema.type = "string";
        ctx.jsonSchema.format = "date-time";
      }
    },
  }) as JsonSchema;
  delete out.$schema;
  return out;
}

const errorResponses: Record<string, string> = {
  "400": "the input is invalid: `problems` lists each field or file path with what is wrong",
  "401": "no API token, or it is unknown, revoked or expired",
  "403": "the token's role is below what this needs",
  "404": "the named object does not exist",
  "409": "refused in the current state (the controller's or the service's sentence says why)",
  "429": "too many failed token attempts from this address",
};

const roleText: Record<string, string> = {
  public: "no token needed",
  viewer: "viewer, operator or admin",
  operator: "operator or admin",
  admin: "admin",
};

function operation(route: RestRoute): OpenAPIV3_1.OperationObject {
  const proc = procedureOf(route);
  const pathFields = new Set(Object.values(route.params ?? {}).map((p) => p.field));
  const skip = (name: string) => pathFields.has(name) || (route.hidden ?? []).includes(name);
  const parameters: OpenAPIV3_1.ParameterObject[] = Object.entries(route.params ?? {}).map(([name, p]) => ({
    name,
    in: "path",
    required: true,
    description: p.description,
    schema: { type: "string" },
  }));
  let requestBody: OpenAPIV3_1.RequestBodyObject | undefined;
  if (proc.input) {
    const input = jsonSchema(proc.input, "input");
    const properties = (input.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((input.required ?? []) as string[]);
    if (route.method === "GET") {
      for (const name of Object.keys(inputShape(proc.input))) {
        if (skip(name) || !properties[name]) continue;
        const { description, ...schema } = properties[name];
        parameters.push({ name, in: "query", required: required.has(name), ...(typeof description === "string" ? { description } : {}), schema: schema as OpenAPIV3_1.ParameterObject["schema"] });
      }
    } else {
      for (const name of Object.keys(properties)) if (skip(name)) delete properties[name];
      const left = [...required].filter((n) => !skip(n));
      if (left.length) input.required = left;
      else delete input.required;
      if (Object.keys(properties).length) {
        requestBody = { required: left.length > 0, content: { "application/json": { schema: input as OpenAPIV3_1.SchemaObject } } };
      }
    }
  }
  const ok = String(route.status ?? 200);
  const okContent: OpenAPIV3_1.ResponseObject["content"] =
    route.respond === "file"
      ? {
          "text/csv": { schema: { type: "string", description: "format=csv: one header line, then one row per entry (RFC 4180)" } },
          "application/json": { schema: { type: "array", items: { type: "object" }, description: "format=json: one object per entry, with the CSV's columns" } },
        }
      : route.respond === "yaml"
        ? { "application/yaml": { schema: jsonSchema(route.response, "output") as OpenAPIV3_1.SchemaObject } }
        : { "application/json": { schema: jsonSchema(route.response, "output") as OpenAPIV3_1.SchemaObject } };
  const responses: OpenAPIV3_1.ResponsesObject = { [ok]: { description: route.respond === "file" ? "the file (Content-Disposition: attachment)" : "done", content: okContent } };
  for (const [status, description] of Object.entries(errorResponses)) {
    if (proc.role === "public" && (status === "401" || status === "403")) continue;
    responses[status] = { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
  }
  return {
    operationId: route.procedure.replace(/\.(\w)/g, (_m, c: string) => c.toUpperCase()),
    summary: route.summary,
    description: `${route.description ? `${route.description}\n\n` : ""}**Role:** ${roleText[proc.role]}. Calls the console's \`${route.procedure}\` ${proc.type}.`,
    tags: [route.tag],
    "x-switchyard-role": proc.role,
    ...(proc.role === "public" ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
  } as OpenAPIV3_1.OperationObject;
}

let cached: OpenAPIV3_1.Document | null = null;

export function openApiDocument(version = CONSOLE_VERSION): OpenAPIV3_1.Document {
  if (cached) return cached;
  const paths: OpenAPIV3_1.PathsObject = {};
  for (const route of restRoutes) {
    const item = (paths[route.path] ??= {}) as Record<string, unknown>;
    item[route.method.toLowerCase()] = operation(route);
  }
  cached = {
    openapi: "3.1.0",
    info: {
      title: "Switchyard console API",
      version,
      description:
        "REST API for automation: status of pairs, hosts and alarms; switchover; maintenance on and off; alarm acknowledge and clear; configuration export and import; audit and alarm-history exports; API tokens. Every call needs an API token (`Authorization: Bearer syt_…`, created by an admin on the Users page or with POST /api/v1/tokens) with the role the operation names. Session cookies are not accepted here.",
    },
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: "status", description: "everything at a glance" },
      { name: "pairs", description: "HA pairs: live view, timeline, switchover" },
      { name: "hosts", description: "host agents" },
      { name: "alarms", description: "active alarms, history, acknowledge and clear" },
      { name: "audit", description: "the audit log" },
      { name: "config", description: "configuration export and import" },
      { name: "tokens", description: "API tokens (service accounts)" },
    ],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "an API token (syt_…)" } },
      schemas: { Error: jsonSchema(errorSchema, "output") as OpenAPIV3_1.SchemaObject },
    },
  };
  return cached;
}
