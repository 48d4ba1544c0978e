// The REST API and API tokens over real HTTP (issue 16): a token per role against /api/v1 (a viewer is
// refused a switchover), tokens shown once, stored hashed, revoked and expired ones refused, failed
// attempts limited per address, session cookies never accepted on /api/v1, bearer calls to /api/trpc,
// the OpenAPI document valid and naming each operation's role (as the README's table does), a real
// configuration import, request bodies over the limit, and the audit / alarm-history exports.
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validate } from "@readme/openapi-parser";
import { startHostileConsole, loggedIn, type HostileConsole } from "../security/hostile-support";
import type { Role } from "../auth/roles";
import { restRoutes } from "./rest-routes";
import { auditPageSchema, statusSchema, createdApiTokenSchema, apiTokenSchema, pairViewSchema } from "./rest-schemas";
import type { z } from "zod";
import packageJson from "../../package.json";

/** The OpenAPI document's info.version follows package.json (as /metrics' build info does). */
const packageVersion = packageJson.version;

let c: HostileConsole;
const tokens = {} as Record<Role, string>;

const CONFIG = `version: 1
hosts:
  - { name: h1, nics: [{ name: eth0, address: 10.0.0.1, carriesManagement: true, carriesSip: true }] }
  - { name: h2, nics: [{ name: eth0, address: 10.0.0.2, carriesManagement: true, carriesSip: true }] }
applications:
  - { name: s1, type: sip-server, host: h1, sipPort: 5060, haPort: 5070, options: { TServer: { http-port: "8080" } } }
  - { name: s2, type: sip-server, host: h1, sipPort: 5160, haPort: 5170, options: { TServer: { http-port: "8180" } } }
pairs:
  - { name: pair-x, haType: single-host, primary: s1, backup: s2, controlDriver: none }
`;

/** JSON dates arrive as ISO text: revived so the documented zod schemas (z.date()) can check real answers. */
function revive(value: unknown): unknown {
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value)) return new Date(value);
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  return value;
}

async function api(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${c.url}${path}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
      ...opts.headers,
    },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // a file (CSV, YAML)
  }
  return { status: res.status, headers: res.headers, text, json: json as { error?: { code: string; message: string; problems: unknown[] } } & Record<string, unknown> };
}

function parsed<T extends z.ZodType>(schema: T, json: unknown): z.infer<T> {
  return schema.parse(revive(json));
}

beforeAll(async () => {
  c = await startHostileConsole();
  await c.callerAs("admin").config.import({ text: CONFIG, replace: false, dryRun: false });
  for (const role of ["viewer", "operator", "admin"] as const) {
    tokens[role] = (await c.callerAs("admin").apiTokens.create({ name: `ci-${role}`, role, description: "", expiresInDays: 30 })).token;
  }
}, 60_000);
afterAll(async () => {
  await c?.close();
});

describe("API tokens", () => {
  it("are shown once and stored only as a hash; creation and revocation are audited", async () => {
    const created = await api("POST", "/api/v1/tokens", { token: tokens.admin, body: { name: "prometheus", role: "viewer", description: "scrapes /metrics", expiresInDays: null } });
    expect(created.status).toBe(201);
    const token = parsed(createdApiTokenSchema, created.json);
    expect(token.token).toMatch(/^syt_[A-Za-z0-9_-]{43}$/);
    expect(token.expiresAt).toBeNull();
    const rows = await c.running.services.db.apiToken.findMany({ select: { id: true, tokenHash: true, prefix: true } });
    expect(rows.some((r) => r.tokenHash === token.token || r.tokenHash.includes(token.token))).toBe(false);
    // Kept as its SHA-256 (hex), as the README says: nothing in the database gives the token back.
    expect(rows.find((r) => r.id === token.id)?.tokenHash).toBe(createHash("sha256").update(token.token).digest("hex"));
    const list = await api("GET", "/api/v1/tokens", { token: tokens.admin });
    const listed = parsed(apiTokenSchema.array(), list.json).find((t) => t.id === token.id)!;
    expect(JSON.stringify(list.json)).not.toContain(token.token);
    expect(listed.prefix).toBe(token.token.slice(0, 10));

    const twice = await api("POST", "/api/v1/tokens", { token: tokens.admin, body: { name: "prometheus", role: "viewer" } });
    expect(twice.status).toBe(409);
    expect(twice.json.error?.message).toMatch(/an API token named prometheus already exists/);

    expect((await api("GET", "/api/v1/whoami", { token: token.token })).json).toMatchObject({ username: "token:prometheus", role: "viewer" });
    expect((await api("POST", `/api/v1/tokens/${token.id}/revoke`, { token: tokens.admin })).status).toBe(200);
    const refused = await api("GET", "/api/v1/status", { token: token.token });
    expect(refused.status).toBe(401);
    expect(refused.json.error?.message).toBe("the API token is not valid (unknown, revoked or expired)");
    const audit = await c.running.services.db.auditEntry.findMany({ where: { objectType: "api-token", objectName: "prometheus" }, orderBy: { at: "asc" } });
    expect(audit.map((a) => `${a.actorName} ${a.action}`)).toEqual(["token:ci-admin api-token.create", "token:ci-admin api-token.revoke"]);
  });

  it("an expired token is refused", async () => {
    const { token, id } = await c.callerAs("admin").apiTokens.create({ name: "short-lived", role: "viewer", description: "", expiresInDays: 1 });
    expect((await api("GET", "/api/v1/status", { token })).status).toBe(200);
    await c.running.services.db.apiToken.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await api("GET", "/api/v1/status", { token })).status).toBe(401);
  });

  it("refuses bad input by name: a name with spaces, an expiry past ten years", async () => {
    const r = await api("POST", "/api/v1/tokens", { token: tokens.admin, body: { name: "two words", role: "viewer", expiresInDays: 4000 } });
    expect(r.status).toBe(400);
    expect(r.json.error?.message).toMatch(/name: may only contain letters/);
    expect(r.json.error?.message).toMatch(/expiresInDays/);
  });

  it("limits failed token attempts per client address like failed logins, a right token is not counted, and a guesser on the same address does not lock a right token out", async () => {
    const limited = await startHostileConsole({ LOGIN_MAX_FAILURES: "2" });
    try {
      const { token } = await limited.callerAs("admin").apiTokens.create({ name: "good", role: "viewer", description: "", expiresInDays: 1 });
      const get = (t: string) => fetch(`${limited.url}/api/v1/status`, { headers: { authorization: `Bearer ${t}` } });
      for (let i = 0; i < 10; i++) expect((await get(token)).status).toBe(200);
      // LOGIN_MAX_FAILURES × 4 failures per address in the window; concurrent guesses cannot slip past it.
      const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) => get(`syt_${String(i).padStart(43, "x")}`)));
      expect(guesses.filter((r) => r.status === 401)).toHaveLength(8);
      const refused = guesses.find((r) => r.status === 429)!;
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/too many failed API token attempts from 127\.0\.0\.1; try again in \d+ s/);
      // The address is over its limit: a right token from it still gets in (slowed down), a wrong one is refused.
      expect((await get(token)).status).toBe(200);
      expect((await get(`syt_${"y".repeat(43)}`)).status).toBe(429);
    } finally {
      await limited.close();
    }
  });
});

describe("REST API", () => {
  it("a token per role: viewers read, a viewer is refused a switchover, an operator's reaches the controller, only admins export the configuration", async () => {
    for (const role of ["viewer", "operator", "admin"] as const) {
      const status = await api("GET", "/api/v1/status", { token: tokens[role] });
      expect(status.status, role).toBe(200);
      expect(parsed(statusSchema, status.json).pairs.map((p) => p.name)).toEqual(["pair-x"]);
    }
    const byViewer = await api("POST", "/api/v1/pairs/pair-x/switchover", { token: tokens.viewer, body: {} });
    expect(byViewer.status).toBe(403);
    expect(byViewer.json.error).toMatchObject({ code: "FORBIDDEN", message: "token:ci-viewer is a viewer; this needs the operator role" });
    // No agent runs here: the controller refuses, and says why (409).
    const byOperator = await api("POST", "/api/v1/pairs/pair-x/switchover", { token: tokens.operator, body: {} });
    expect(byOperator.status).toBe(409);
    expect(byOperator.json.error?.message).toMatch(/switchover of pair-x requested by token:ci-operator refused: /);
    const audited = await c.running.services.db.auditEntry.findFirst({ where: { action: "pair.switchover-refused", actorName: "token:ci-operator" } });
    expect(audited?.objectName).toBe("pair-x");
    const forcedWithoutReason = await api("POST", "/api/v1/pairs/pair-x/switchover", { token: tokens.operator, body: { force: true } });
    expect(forcedWithoutReason.status).toBe(400);
    expect(forcedWithoutReason.json.error?.message).toBe("reason: a forced switchover needs a reason (at least 5 characters)");
    expect((await api("GET", "/api/v1/config/export", { token: tokens.operator })).status).toBe(403);
    const yaml = await api("GET", "/api/v1/config/export", { token: tokens.admin });
    expect(yaml.status).toBe(200);
    expect(yaml.headers.get("content-type")).toMatch(/^application\/yaml/);
    expect(yaml.text).toContain("name: pair-x");
    const check = await api("POST", "/api/v1/config/import", { token: tokens.admin, body: { text: yaml.text, dryRun: true } });
    expect(check.status).toBe(200);
    expect(check.json).toMatchObject({ pairs: { created: [], deleted: [] } });
    // A real import: a host added by the file is there afterwards (and a dry run of it changed nothing).
    const withHost = yaml.text.replace(/^hosts:\n/m, "hosts:\n  - { name: h9, nics: [{ name: eth0, address: 10.0.0.99, carriesManagement: true, carriesSip: true }] }\n");
    expect(withHost).not.toBe(yaml.text);
    expect((await api("POST", "/api/v1/config/import", { token: tokens.admin, body: { text: withHost, dryRun: true } })).json).toMatchObject({ hosts: { created: ["h9"] } });
    expect((await api("GET", "/api/v1/config/export", { token: tokens.admin })).text).not.toContain("name: h9");
    expect((await api("POST", "/api/v1/config/import", { token: tokens.operator, body: { text: withHost } })).status).toBe(403);
    const imported = await api("POST", "/api/v1/config/import", { token: tokens.admin, body: { text: withHost } });
    expect(imported.status, imported.text).toBe(200);
    expect(imported.json).toMatchObject({ hosts: { created: ["h9"] } });
    expect((await api("GET", "/api/v1/config/export", { token: tokens.admin })).text).toContain("name: h9");
  });

  it("names pairs by name or id, and answers unknown ones, unknown routes, methods and query parameters by name", async () => {
    const one = await api("GET", "/api/v1/pairs/pair-x", { token: tokens.viewer });
    const view = parsed(pairViewSchema, one.json);
    expect((await api("GET", `/api/v1/pairs/${view.id}`, { token: tokens.viewer })).json).toMatchObject({ name: "pair-x" });
    expect((await api("GET", "/api/v1/pairs/nope", { token: tokens.viewer })).json.error?.message).toBe("pair nope does not exist");
    expect((await api("GET", "/api/v1/nothing", { token: tokens.viewer })).status).toBe(404);
    const wrongMethod = await api("DELETE", "/api/v1/pairs", { token: tokens.viewer });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET");
    const unknownParam = await api("GET", "/api/v1/audit?actor=x", { token: tokens.viewer });
    expect(unknownParam.status).toBe(400);
    expect(unknownParam.json.error?.message).toMatch(/unknown query parameter actor; GET \/api\/v1\/audit takes actorName, action/);
    const badNumber = await api("GET", "/api/v1/audit?limit=many", { token: tokens.viewer });
    expect(badNumber.status).toBe(400);
    expect(badNumber.json.error?.problems).toEqual([expect.objectContaining({ path: "limit" })]);
    const notJson = await api("POST", "/api/v1/alarms/x/clear", { token: tokens.operator, headers: { "content-type": "text/plain" }, body: "hello" as unknown });
    expect(notJson.status).toBe(415);
    expect(notJson.json.error?.message).toBe("the body must be JSON (Content-Type: application/json); it was text/plain");
  });

  it("a body over MAX_REQUEST_BYTES is refused with 413: a declared one before it is read, a chunked one where it passes the limit", async () => {
    const limit = c.running.env.MAX_REQUEST_BYTES;
    const post = (headers: Record<string, string | number>, write: (req: http.ClientRequest) => void) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(`${c.url}/api/v1/config/import`, { method: "POST", headers: { authorization: `Bearer ${tokens.admin}`, "content-type": "application/json", ...headers } }, (res) => {
          let text = "";
          res.on("data", (chunk: Buffer) => (text += chunk.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        });
        // The console closes the connection once it has answered: the rest of the body has nowhere to go.
        req.on("error", (err) => (/EPIPE|ECONNRESET/.test(String(err)) ? undefined : reject(err)));
        write(req);
      });
    const declared = await post({ "content-length": 300 * 1024 * 1024 }, (req) => void req.write(Buffer.alloc(64 * 1024, 0x20)));
    expect(declared.status).toBe(413);
    expect(declared.text).toContain(`over the limit of ${limit} bytes (MAX_REQUEST_BYTES)`);
    const chunked = await post({ "transfer-encoding": "chunked" }, (req) => {
      const chunk = Buffer.alloc(1024 * 1024, 0x20); // JSON whitespace: only the size can refuse it
      let sent = 0;
      const pump = () => {
        while (sent * chunk.length <= limit) {
          sent++;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      pump();
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.text)).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE", message: `request body is over the limit of ${limit} bytes (MAX_REQUEST_BYTES)` } });
  });

  it("never accepts a session cookie (no CSRF protection there), even from the console's own origin", async () => {
    const browser = await loggedIn(c.url, "admin");
    const r = await api("GET", "/api/v1/status", { headers: { cookie: browser.cookie, origin: c.url } });
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toBe('Bearer realm="switchyard"');
    expect(r.json.error?.message).toMatch(/needs an API token with the viewer role: send Authorization: Bearer <token> \(a browser session cookie is not accepted here/);
    const malformed = await api("GET", "/api/v1/status", { headers: { authorization: "Basic YWRtaW46YWRtaW4=" } });
    expect(malformed.json.error?.message).toBe("the Authorization header must be `Bearer <API token>`");
  });

  it("tRPC accepts a bearer token too: its cookies are ignored and the origin check (for cookies) does not apply", async () => {
    const browser = await loggedIn(c.url, "admin");
    const res = await fetch(`${c.url}/api/trpc/auth.me`, { headers: { authorization: `Bearer ${tokens.viewer}`, cookie: browser.cookie } });
    expect(((await res.json()) as { result: { data: { json: { username: string } } } }).result.data.json.username).toBe("token:ci-viewer");
    const mutation = await fetch(`${c.url}/api/trpc/alarms.clear`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.viewer}`, "content-type": "application/json", origin: "http://elsewhere.example" },
      body: JSON.stringify({ json: { id: "x", comment: "y" } }),
    });
    expect(((await mutation.json()) as { error: { json: { data: { code: string } } } }).error.json.data.code).toBe("FORBIDDEN");
  });
});

describe("OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document with every REST route, the role each needs, and inputs from the procedures' schemas", async () => {
    const res = await fetch(`${c.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; info: { version: string }; paths: Record<string, Record<string, { "x-switchyard-role": string; requestBody?: { content: { "application/json": { schema: { properties: Record<string, { maxLength?: number }> } } } }; parameters?: { name: string; in: string }[] }>> };
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, JSON.stringify(result)).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.version).toBe(packageVersion);
    for (const r of restRoutes) expect(doc.paths[r.path]?.[r.method.toLowerCase()], `${r.method} ${r.path}`).toBeDefined();
    const switchover = doc.paths["/api/v1/pairs/{pair}/switchover"]!.post!;
    expect(switchover["x-switchyard-role"]).toBe("operator");
    // The body is the procedure's own schema: its bound (DESCRIPTION_MAX_CHARS) and no pairId (it comes from the path).
    expect(switchover.requestBody!.content["application/json"].schema.properties).toEqual({
      force: expect.objectContaining({ type: "boolean" }),
      reason: expect.objectContaining({ type: "string", maxLength: 500 }),
    });
    expect(doc.paths["/api/v1/audit/export"]!.get!.parameters!.map((p) => p.name)).toEqual(["actorName", "action", "objectType", "objectName", "from", "to", "format"]);
    expect(doc.paths["/api/v1/config/import"]!.post!["x-switchyard-role"]).toBe("admin");
    const maintenance = doc.paths["/api/v1/pairs/{pair}/maintenance"]!.post!;
    expect(maintenance["x-switchyard-role"]).toBe("operator");
    expect(maintenance.requestBody!.content["application/json"].schema.properties.until).toMatchObject({ anyOf: [{ type: "string", format: "date-time" }, { type: "null" }] });
  });
});

describe("README", () => {
  it("its REST table names every route with the role the OpenAPI document gives it", async () => {
    const doc = (await (await fetch(`${c.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { "x-switchyard-role": string }>> };
    const readme = fs.readFileSync(path.resolve(__dirname, "../../README.md"), "utf8");
    const start = readme.indexOf("| method and path | role | what |");
    expect(start).toBeGreaterThan(0);
    const rows = readme.slice(start).split("\n").slice(2).filter((l) => l.startsWith("|"));
    const documented = new Map<string, string>();
    for (const row of rows) {
      const [ops, role] = row.split(" | ");
      for (const m of ops!.matchAll(/`(GET|POST) (\/api\/v1\/[^`?\s]*)/g)) documented.set(`${m[1]} ${m[2]}`, role === "any" ? "public" : role!);
      // `POST …/acknowledge`, `…/clear`: the second is the first's sibling.
      const sibling = /`(GET|POST) (\/api\/v1\/\S+)\/\w+`, `…\/(\w+)`/.exec(ops!);
      if (sibling) documented.set(`${sibling[1]} ${sibling[2]}/${sibling[3]}`, role!);
    }
    const actual = new Map(Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).map(([method, op]) => [`${method.toUpperCase()} ${p}`, op["x-switchyard-role"]] as const)));
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(actual));
  });
});

describe("exports: audit log and alarm history", () => {
  it("the audit log as CSV and JSON with the list's filters; CSV defuses spreadsheet formulas", async () => {
    await c.callerAs("admin").hosts.create({ name: "=cmd", description: "", nics: [{ name: "eth0", address: "10.0.0.9", carriesManagement: true, carriesSip: true }] }).catch(() => undefined);
    const csv = await api("GET", "/api/v1/audit/export?format=csv&action=api-token", { token: tokens.viewer });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toMatch(/^attachment; filename="switchyard-audit-\d{8}T\d{6}Z\.csv"$/);
    const lines = csv.text.trimEnd().split("\r\n");
    expect(lines[0]).toBe("at,actor,action,objectType,objectName,objectId,detail,before,after,id");
    expect(lines.slice(1).every((l) => l.includes(",api-token.") )).toBe(true);
    const json = await api("GET", "/api/v1/audit/export?format=json&action=api-token", { token: tokens.viewer });
    expect((json.json as unknown as unknown[]).length).toBe(lines.length - 1);
    const page = parsed(auditPageSchema, (await api("GET", "/api/v1/audit?action=api-token&limit=500", { token: tokens.viewer })).json);
    expect(page.items.length).toBe(lines.length - 1);
    const from = new Date(Date.now() + 3600_000).toISOString();
    const none = await api("GET", `/api/v1/audit/export?format=json&from=${encodeURIComponent(from)}`, { token: tokens.viewer });
    expect(none.json).toEqual([]);
  });

  it("the alarm history as CSV with the page's filters, over tRPC for the page too", async () => {
    const engine = c.running.services.alarms;
    await engine.ingestLogEvents("h1", [{ application: "s1", id: "00-04200", text: "=HYPERLINK(\"x\")", time: new Date().toISOString(), level: "standard" }]);
    const active = await c.callerAs("operator").alarms.active();
    const alarm = active.find((a) => a.source === "00-04200")!;
    expect((await api("POST", `/api/v1/alarms/${alarm.id}/acknowledge`, { token: tokens.operator, body: { note: "on it" } })).status).toBe(200);
    expect((await api("POST", `/api/v1/alarms/${alarm.id}/clear`, { token: tokens.viewer, body: { comment: "fixed" } })).status).toBe(403);
    expect((await api("POST", `/api/v1/alarms/${alarm.id}/clear`, { token: tokens.operator, body: { comment: "fixed" } })).status).toBe(200);
    const csv = await api("GET", "/api/v1/alarms/history/export?severity=critical&application=s1", { token: tokens.viewer });
    expect(csv.status).toBe(200);
    const [header, row] = csv.text.trimEnd().split("\r\n");
    expect(header).toMatch(/^id,severity,description,source,application,host,pair,count,firstSeen/);
    expect(row).toContain(`${alarm.id},critical,`);
    expect(row).toContain(`"'=HYPERLINK(""x"")"`);
    expect(row).toContain("token:ci-operator");
    const other = await api("GET", "/api/v1/alarms/history/export?severity=minor&format=json", { token: tokens.viewer });
    expect(other.json).toEqual([]);
    const fromPage = await c.callerAs("viewer").alarms.exportHistory({ severity: "critical", format: "csv" });
    expect(fromPage.text).toContain(alarm.id);
  });
});
