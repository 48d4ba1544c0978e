// The hostile-input battery (issue #13): each test attacks a real console over HTTP the way a browser,
// a script or a careless export would, and names the finding it keeps closed. Sockets (browsers' and
// agents') are in hostile-sockets.integration.test.ts, a kill -9 during a large import in
// import-kill.integration.test.ts. The findings outside the console have their tests beside their code:
// #13.2 and #13.9 in a browser (e2e/security.spec.ts), the agent's /health and Host check (#13.9) in
// agent/agent.keeper.integration.test.ts, the lab's authenticated HA link (#13.10) in
// lab/sip-server-sim/ha-auth.integration.test.ts. Waits are give-up limits, never measurements.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { appRouter } from "../api/root";
import { parseEnv } from "../env";
import { safeNextPath } from "../../lib/safe-next-path";
import { sipServerInput, twoNicHost } from "../test-support";
import { agentHello, agentSocket, ApiClient, connectOutcome, loggedIn, startHostileConsole, type HostileConsole } from "./hostile-support";
import { waitFor } from "../../harness/lab-stack";
import type { Role } from "../auth/roles";
import { buildHostConfig } from "../runtime/host-config";
import { restRoutes } from "../api/rest-routes";
import { procedureOf } from "../api/rest";
import { loadSnapshot } from "../config/config.repository";
import { MASKED_VALUE } from "../config/masking";
import { describeZodError, hostConfigSchema } from "../../protocol/agent-wire";
import {
  COMMAND_MAX_CHARS,
  DESCRIPTION_MAX_CHARS,
  ENV_MAX_COUNT,
  ENV_VALUE_MAX_CHARS,
  ID_MAX_CHARS,
  OPTION_VALUE_MAX_CHARS,
  SCRIPT_TEMPLATE_MAX_CHARS,
} from "../../protocol/limits";

let c: HostileConsole;

beforeAll(async () => {
  c = await startHostileConsole();
});
afterAll(async () => {
  await c?.close();
});

const roleRank = { public: -1, viewer: 0, operator: 1, admin: 2 } as const;

/** A POST that declares a body over MAX_REQUEST_BYTES (fetch will not send a length it does not send). */
function declaredTooLarge(): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${c.url}/api/trpc/auth.login`, { method: "POST", headers: { "content-length": String(c.running.env.MAX_REQUEST_BYTES + 1) } }, (res) => {
      res.resume();
      const headers = new Headers(Object.entries(res.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as [string, string]])));
      resolve(new Response(null, { status: res.statusCode ?? 0, headers }));
    });
    req.on("error", reject);
    req.flushHeaders();
  });
}

describe("hostile input over HTTP", () => {
  it("role matrix: every procedure refuses anonymous callers and roles below its meta.role, and admits the rest", async () => {
    const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { meta?: { role?: keyof typeof roleRank }; type: string } }>)
      // Logging out ends the caller's session: it goes last.
      .sort(([a], [b]) => Number(a === "auth.logout") - Number(b === "auth.logout"));
    expect(procedures.length).toBeGreaterThan(40);
    const callers: { who: Role | "anonymous"; client: ApiClient }[] = [
      { who: "anonymous", client: new ApiClient(c.url) },
      ...(await Promise.all((["viewer", "operator", "admin"] as const).map(async (who) => ({ who, client: await loggedIn(c.url, who) })))),
    ];
    const wrong: string[] = [];
    for (const [name, proc] of procedures) {
      const needed = proc._def.meta?.role;
      expect(needed, `${name} declares meta.role`).toBeDefined();
      for (const { who, client } of callers) {
        // An input no procedure accepts: admitted callers get BAD_REQUEST (or the result of a procedure
        // without input), refused ones the role refusal, which comes before the input is read.
        const input = { hostileUnknownField: true };
        const r = proc._def.type === "query" ? await client.query(name, input) : await client.mutation(name, input);
        const expected = needed === "public" ? "admitted" : who === "anonymous" ? "UNAUTHORIZED" : roleRank[who] < roleRank[needed!] ? "FORBIDDEN" : "admitted";
        const got = r.code === "UNAUTHORIZED" || r.code === "FORBIDDEN" ? r.code : "admitted";
        if (got !== expected) wrong.push(`${name} (${needed}) as ${who}: expected ${expected}, got ${r.code ?? "success"} ${r.message}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("REST role matrix: every /api/v1 route refuses no token and a session cookie (401) and tokens below its procedure's role (403), and admits the rest; /metrics needs a token", async () => {
    const tokens = {} as Record<Role, string>;
    for (const role of ["viewer", "operator", "admin"] as const) {
      tokens[role] = (await c.callerAs("admin").apiTokens.create({ name: `matrix-${role}`, role, description: "", expiresInDays: 1 })).token;
    }
    const browser = await loggedIn(c.url, "admin");
    const wrong: string[] = [];
    for (const route of restRoutes) {
      const needed = procedureOf(route).role;
      const path = route.path.replace(/\{\w+\}/g, "no-such-object");
      const callers: { who: Role | "anonymous" | "cookie"; headers: Record<string, string> }[] = [
        { who: "anonymous", headers: {} },
        { who: "cookie", headers: { cookie: browser.cookie, origin: c.url } },
        ...(["viewer", "operator", "admin"] as const).map((who) => ({ who, headers: { authorization: `Bearer ${tokens[who]}` } })),
      ];
      for (const { who, headers } of callers) {
        // An input no route accepts: admitted callers get 400 or 404 (or the answer of a route without
        // input), refused ones the role refusal, which comes before the input is read.
        const res = await fetch(`${c.url}${path}${route.method === "GET" ? "?hostileUnknownField=1" : ""}`, {
          method: route.method,
          headers: { ...headers, ...(route.method === "POST" ? { "content-type": "application/json" } : {}) },
          body: route.method === "POST" ? JSON.stringify({ hostileUnknownField: true }) : undefined,
        });
        await res.arrayBuffer();
        const expected = needed === "public" ? "admitted" : who === "anonymous" || who === "cookie" ? 401 : roleRank[who] < roleRank[needed] ? 403 : "admitted";
        const got = res.status === 401 || res.status === 403 ? res.status : "admitted";
        if (got !== expected) wrong.push(`${route.method} ${route.path} (${needed}) as ${who}: expected ${expected}, got ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
    // /metrics: METRICS_AUTH=token (the default) takes a token of any role, never a cookie.
    expect((await fetch(`${c.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${c.url}/metrics`, { headers: { cookie: browser.cookie } })).status).toBe(401);
    expect((await fetch(`${c.url}/metrics`, { headers: { authorization: `Bearer ${tokens.viewer}` } })).status).toBe(200);
    expect((await fetch(`${c.url}/metrics`, { method: "POST", headers: { authorization: `Bearer ${tokens.viewer}` } })).status).toBe(405);
  });

  it("role matrix, issue 14: acting on a pair (maintenance, a W14 upgrade, scheduled switchovers) needs an operator; the install command is admin configuration; reading is for viewers", async () => {
    const roles = Object.fromEntries(
      Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { meta?: { role?: string } } }>)
        .filter(([name]) => /^(maintenance|upgrade|schedules)\./.test(name))
        .map(([name, proc]) => [name, proc._def.meta?.role]),
    );
    expect(roles).toEqual({
      "maintenance.set": "operator",
      "upgrade.runs": "viewer",
      "upgrade.start": "operator",
      "upgrade.pause": "operator",
      "upgrade.resume": "operator",
      "upgrade.abort": "operator",
      "upgrade.confirmInstalled": "operator",
      "upgrade.installCommands": "viewer",
      "upgrade.setInstallCommand": "admin",
      "schedules.list": "viewer",
      "schedules.create": "operator",
      "schedules.cancel": "operator",
    });
    // Over HTTP: a viewer is refused each action by its role before its input is read; an operator is
    // refused the install command; an admin gets the rule's own message for bad input.
    const viewer = await loggedIn(c.url, "viewer");
    for (const name of ["maintenance.set", "upgrade.start", "upgrade.abort", "schedules.create", "schedules.cancel"]) {
      expect((await viewer.mutation(name, { pairId: "p", id: "x", runId: "r", on: true })).code, name).toBe("FORBIDDEN");
    }
    const operator = await loggedIn(c.url, "operator");
    expect((await operator.mutation("upgrade.setInstallCommand", { appId: "a", command: "x" })).code).toBe("FORBIDDEN");
    const admin = await loggedIn(c.url, "admin");
    const long = await admin.mutation("upgrade.setInstallCommand", { appId: "a", command: "x".repeat(COMMAND_MAX_CHARS + 1) });
    expect(long.message).toMatch(/command: is 1025 characters long; at most 1024 are allowed/);
    const unknownPair = await operator.mutation("maintenance.set", { pairId: "no-such-pair", on: true, reason: "r" });
    expect(unknownPair.message).toMatch(/pair no-such-pair does not exist/);
  });

  it("#13.1 login rate limit holds under a race: of 100 concurrent wrong passwords for one user only LOGIN_MAX_FAILURES are checked", async () => {
    const maxFailures = c.running.env.LOGIN_MAX_FAILURES;
    const target = "race-victim";
    await c.running.services.auth.createUser({ id: null, name: "test" }, { username: target, password: "race-victim-password-1", role: "viewer" });
    const client = new ApiClient(c.url);
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => client.mutation("auth.login", { username: target, password: `wrong-password-${i}` })));
    const codes = replies.map((r) => r.code);
    expect(codes.filter((code) => code === "UNAUTHORIZED")).toHaveLength(maxFailures);
    expect(codes.filter((code) => code === "TOO_MANY_REQUESTS")).toHaveLength(100 - maxFailures);
    expect(await c.running.services.db.auditEntry.count({ where: { action: "user.login-failed", actorName: target } })).toBe(maxFailures);
    // The right password is still refused: this user's failures are used up for the window.
    expect((await client.login(target, "race-victim-password-1")).code).toBe("TOO_MANY_REQUESTS");
  });

  it("#13.3 behind the TLS proxy: failures with random user names never lock out a right password; X-Forwarded-For and X-Forwarded-Proto count only from TRUSTED_PROXIES", async () => {
    // Consoles of their own: the guessing below slows every later login from this address down.
    // Without TRUSTED_PROXIES every user behind the proxy shares its address (here 127.0.0.1).
    const unlisted = await startHostileConsole({ SWITCHYARD_CONTROLLER: "false" });
    try {
      const maxFailures = unlisted.running.env.LOGIN_MAX_FAILURES;
      const attacker = new ApiClient(unlisted.url);
      for (let i = 0; i < maxFailures * 5; i++) {
        expect((await attacker.login(`random-user-${i}`, "wrong-password")).code).not.toBeNull();
      }
      expect((await new ApiClient(unlisted.url).login("admin1", "admin-password-123")).code).toBeNull();
      // A forged X-Forwarded-For from an unlisted peer changes nothing: failures still count for the peer.
      const spoofer = new ApiClient(unlisted.url);
      for (let i = 0; i < maxFailures; i++) {
        await spoofer.login("operator1", "wrong-password", { "x-forwarded-for": `198.51.100.${i + 1}` });
      }
      expect((await spoofer.login("operator1", "operator-password-123", { "x-forwarded-for": "198.51.100.200" })).code).toBe("TOO_MANY_REQUESTS");
      // Nor does a forged X-Forwarded-Proto: the session cookie is Secure only on HTTPS the console can believe.
      const claimsHttps = await new ApiClient(unlisted.url).login("viewer1", "viewer-password-123", { "x-forwarded-proto": "https" });
      expect(claimsHttps.code).toBeNull();
      expect(claimsHttps.setCookie).not.toMatch(/;\s*Secure/i);
    } finally {
      await unlisted.close();
    }

    // With the proxy listed, each client is known by the right-most address the proxy did not add.
    const proxied = await startHostileConsole({ TRUSTED_PROXIES: "10.0.0.0/8, 127.0.0.1", SWITCHYARD_CONTROLLER: "false" });
    try {
      const viaProxy = (client: string) => ({ "x-forwarded-for": `203.0.113.250, ${client}, 10.1.2.3` });
      const guesser = new ApiClient(proxied.url);
      for (let i = 0; i < proxied.running.env.LOGIN_MAX_FAILURES; i++) {
        expect((await guesser.login("viewer1", "wrong-password", viaProxy("203.0.113.7"))).code).toBe("UNAUTHORIZED");
      }
      expect((await guesser.login("viewer1", "viewer-password-123", viaProxy("203.0.113.7"))).code).toBe("TOO_MANY_REQUESTS");
      // The same user from another client behind the same proxy is not locked out by the guesser.
      const owner = new ApiClient(proxied.url);
      expect((await owner.login("viewer1", "viewer-password-123", viaProxy("203.0.113.8"))).code).toBeNull();
      const logins = await proxied.running.services.db.auditEntry.findMany({ where: { actorName: "viewer1" }, select: { action: true, detail: true } });
      expect(logins.filter((l) => l.action === "user.login-failed").map((l) => l.detail)).toEqual(Array(proxied.running.env.LOGIN_MAX_FAILURES).fill("from 203.0.113.7"));
      expect(logins.find((l) => l.action === "user.login")?.detail).toBe("from 203.0.113.8");
      // The listed proxy's X-Forwarded-Proto is believed: its HTTPS clients get Secure cookies.
      const overTls = await new ApiClient(proxied.url).login("admin1", "admin-password-123", { ...viaProxy("203.0.113.9"), "x-forwarded-proto": "https" });
      expect(overTls.code).toBeNull();
      expect(overTls.setCookie).toMatch(/;\s*Secure/i);
    } finally {
      await proxied.close();
    }
    expect(() => parseEnv({ NODE_ENV: "test", TRUSTED_PROXIES: "127.0.0.1, 10.0.0.0/33" })).toThrow(/TRUSTED_PROXIES: 10\.0\.0\.0\/33 is not an address or CIDR block/);
  });

  it("#13.2 open redirect: the login page's next= leads only to this console's own paths", () => {
    // As the login page reads it: URLSearchParams decodes /login?next=/%5Cevil.example/x once.
    const next = (query: string) => safeNextPath(new URLSearchParams(query).get("next"), c.url);
    expect(next("next=/%5Cevil.example/x")).toBe("/");
    expect(next("next=%2F%2Fevil.example")).toBe("/");
    expect(next("next=/%09/evil.example")).toBe("/");
    expect(next("next=https://evil.example")).toBe("/");
    expect(next("next=%2Fhosts%3Fx%3D1")).toBe("/hosts?x=1");
  });

  it("#13.5 unbounded values: every string has a limit with a clear message, the same in the API, the import and the wire to the agents", async () => {
    const admin = await loggedIn(c.url, "admin");
    const created = async (procedure: string, input: unknown) => {
      const r = await admin.mutation(procedure, input);
      if (r.code !== null) throw new Error(`${procedure}: ${r.code} ${r.message}`);
      return r.data as string;
    };
    const hostId = await created("hosts.create", twoNicHost("bounds-host-1", "10.55.0.1", "10.55.1.1"));
    const otherHostId = await created("hosts.create", twoNicHost("bounds-host-2", "10.55.0.2", "10.55.1.2"));
    const app = (name: string, onHost: string, extra: Record<string, unknown> = {}) => ({ ...sipServerInput(name, onHost, 5100), startCommand: "/opt/sip/bin/sip_server", ...extra });
    const manyVariables = (count: number, valueChars: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`VAR_${i}`, "v".repeat(valueChars)]));

    const refusals: { what: string; procedure: string; input: unknown; message: RegExp }[] = [
      { what: "an environment value", procedure: "applications.create", input: app("bounds-a", hostId, { environment: { BIG: "x".repeat(ENV_VALUE_MAX_CHARS + 1) } }), message: /environment\.BIG: is 4097 characters long; at most 4096 are allowed/ },
      { what: "too many variables", procedure: "applications.create", input: app("bounds-a", hostId, { environment: manyVariables(ENV_MAX_COUNT + 1, 1) }), message: /environment: has 129 variables; at most 128 are allowed/ },
      { what: "a variable name", procedure: "applications.create", input: app("bounds-a", hostId, { environment: { ["N".repeat(200)]: "v" } }), message: /the name is 200 characters long; at most 128 are allowed/ },
      { what: "a start argument", procedure: "applications.create", input: app("bounds-a", hostId, { startArgs: ["a".repeat(COMMAND_MAX_CHARS + 1)] }), message: /startArgs\.0: is 1025 characters long; at most 1024 are allowed/ },
      { what: "a host description", procedure: "hosts.create", input: { ...twoNicHost("bounds-host-3", "10.55.0.3", "10.55.1.3"), description: "d".repeat(DESCRIPTION_MAX_CHARS + 1) }, message: /description: is 501 characters long; at most 500 are allowed/ },
      { what: "a NIC address", procedure: "hosts.create", input: twoNicHost("bounds-host-3", "1".repeat(100_000), "10.55.1.3"), message: /nics\.0\.address: is 100000 characters long; at most 64 are allowed/ },
      { what: "an id", procedure: "hosts.delete", input: { id: "x".repeat(ID_MAX_CHARS + 1) }, message: /id: is 65 characters long; at most 64 are allowed/ },
      { what: "an alarm note", procedure: "alarms.acknowledge", input: { id: "alarm", note: "n".repeat(DESCRIPTION_MAX_CHARS + 1) }, message: /note: is 501 characters long; at most 500 are allowed/ },
      { what: "a password", procedure: "users.create", input: { username: "bounds-user", password: "p".repeat(100_000), role: "viewer" }, message: /password: is 100000 characters long; at most 256 are allowed/ },
    ];
    for (const { what, procedure, input, message } of refusals) {
      const r = await admin.mutation(procedure, input);
      expect(r.code, what).toBe("BAD_REQUEST");
      expect(r.message, what).toMatch(message);
    }

    // The import refuses what the API refuses, naming the place in the file.
    const importing = async (application: string) =>
      admin.mutation("config.import", { text: `version: 1\napplications:\n  - { name: bounds-imported, type: generic, host: bounds-host-1, ${application} }\n`, dryRun: true, replace: false });
    expect((await importing(`environment: { BIG: "${"x".repeat(ENV_VALUE_MAX_CHARS + 1)}" }`)).message).toMatch(/applications\[0\]\.environment\.BIG: is 4097 characters long/);
    expect((await importing(`options: { TServer: { my-option: "${"v".repeat(OPTION_VALUE_MAX_CHARS + 1)}" } }`)).message).toMatch(/applications\[0\]\.options\.TServer\.my-option: is 1025 characters long/);

    // Control scripts: the console took 4096 characters, its agents take 2000.
    const appId = await created("applications.create", app("bounds-primary", hostId, { environment: manyVariables(ENV_MAX_COUNT, ENV_VALUE_MAX_CHARS) }));
    const backupId = await created("applications.create", app("bounds-backup", otherHostId));
    const script = (chars: number) => `ip addr add {vip} dev eth1 ${"#".repeat(chars)}`.slice(0, chars);
    const pair = (scriptChars: number) => ({
      name: "bounds-pair",
      haType: "ip-takeover",
      primaryAppId: appId,
      backupAppId: backupId,
      vipAddress: "10.55.1.100",
      vipPrefixLength: 24,
      vipInterface: "eth1",
      controlDriver: "command",
      enableScript: script(scriptChars),
      disableScript: script(scriptChars),
    });
    const tooLong = await admin.mutation("pairs.create", pair(SCRIPT_TEMPLATE_MAX_CHARS + 1));
    expect(tooLong.code).toBe("BAD_REQUEST");
    expect(tooLong.message).toMatch(/enableScript: is 2001 characters long; at most 2000 are allowed/);
    await created("pairs.create", pair(SCRIPT_TEMPLATE_MAX_CHARS));

    // At the limits the console accepts, and its agent accepts the host's configuration built from it…
    const config = buildHostConfig(await loadSnapshot(c.running.services.db), "bounds-host-1", "bounds-revision");
    const onTheWire = hostConfigSchema.safeParse(config);
    expect(onTheWire.success, onTheWire.success ? "" : describeZodError(onTheWire.error)).toBe(true);
    // …and one character more is refused on the wire too: the console's limits are the agents' limits.
    const over = structuredClone(config!);
    over.applications[0]!.start.env = { ...over.applications[0]!.start.env, VAR_0: "v".repeat(ENV_VALUE_MAX_CHARS + 1) };
    expect(hostConfigSchema.safeParse(over).success).toBe(false);
  });

  it("#13.6 billion-laughs YAML import is refused with a message naming the aliases; deep nesting too", async () => {
    const admin = await loggedIn(c.url, "admin");
    const laughs = ["version: 1", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [name, prev] of [["b", "a"], ["c", "b"], ["d", "c"], ["e", "d"], ["f", "e"], ["g", "f"], ["h", "g"], ["i", "h"]]) {
      laughs.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(",")}]`);
    }
    const bomb = await admin.mutation("config.import", { text: `${laughs.join("\n")}\n`, dryRun: true, replace: false });
    expect(bomb.code).toBe("BAD_REQUEST");
    expect(bomb.message).toMatch(/YAML aliases .* more than \d+ alias expansions/);
    // A few aliases, as a person writes them, are fine.
    const fine = await admin.mutation("config.import", { text: "version: 1\nhosts: &none []\npairs: *none\n", dryRun: true, replace: false });
    expect(fine.code).toBeNull();
    for (const depth of [40, 5000]) {
      const deep = await admin.mutation("config.import", { text: `version: 1\nhosts: ${"[".repeat(depth)}${"]".repeat(depth)}\n`, dryRun: true, replace: false });
      expect(deep.code, `depth ${depth}`).toBe("BAD_REQUEST");
      expect(deep.message, `depth ${depth}`).toMatch(/nests deeper than \d+ levels/);
    }
  });

  it("#13.8 environment values and start arguments are masked for viewers and operators in application lists, details and the audit log and its export", async () => {
    const secret = "s3cret-database-password";
    const argSecret = "s3cret-argument-token";
    const admin = c.callerAs("admin");
    const hostId = await admin.hosts.create(twoNicHost("secret-host", "10.88.0.1", "10.88.1.1"));
    const appId = await admin.applications.create({ ...sipServerInput("secret-app", hostId, 5060), environment: { DB_PASSWORD: secret, PLAIN: "visible-to-admins" }, startArgs: [`--token=${argSecret}`] });
    await admin.applications.update({ id: appId, application: { ...sipServerInput("secret-app", hostId, 5060), environment: { DB_PASSWORD: `${secret}-2` }, startArgs: ["--token", `${argSecret}-2`] } });
    for (const role of ["viewer", "operator"] as const) {
      const client = await loggedIn(c.url, role);
      const replies = [
        await client.query("applications.list"),
        await client.query("applications.get", { id: appId }),
        await client.query("audit.list", { objectName: "secret-app" }),
        await client.query("audit.export", { objectName: "secret-app", format: "json" }),
        await client.query("audit.export", { objectName: "secret-app", format: "csv" }),
      ];
      for (const r of replies) {
        expect(r.code, role).toBeNull();
        const text = JSON.stringify(r.data);
        expect(text, role).not.toContain(secret);
        expect(text, role).not.toContain("visible-to-admins");
        expect(text, role).not.toContain(argSecret);
        // The names stay: a viewer sees which variables are set, not their values.
        expect(text, role).toContain("DB_PASSWORD");
      }
      // The arguments' count stays: two masked arguments after the update.
      expect((replies[1]!.data as { startArgs: string[] }).startArgs).toEqual([MASKED_VALUE, MASKED_VALUE]);
      const audit = replies[2]!.data as { items: { action: string; before: unknown; after: unknown }[] };
      expect(audit.items.map((e) => e.action).sort()).toEqual(["application.create", "application.update"]);
    }
    const asAdmin = await loggedIn(c.url, "admin");
    expect(JSON.stringify((await asAdmin.query("applications.get", { id: appId })).data)).toContain(`${secret}-2`);
    expect(JSON.stringify((await asAdmin.query("applications.get", { id: appId })).data)).toContain(`${argSecret}-2`);
    expect(JSON.stringify((await asAdmin.query("audit.list", { objectName: "secret-app" })).data)).toContain("visible-to-admins");
  });

  it("#13.9 every response carries a Content-Security-Policy with frame-ancestors 'none', X-Frame-Options DENY, nosniff and a Referrer-Policy", async () => {
    const responses: [string, Response][] = [
      ["health", await fetch(`${c.url}/healthz`)],
      ["API query", await fetch(`${c.url}/api/trpc/auth.me`)],
      ["API refusal", await fetch(`${c.url}/api/trpc/hosts.list`)],
      ["cross-origin refusal", await fetch(`${c.url}/api/trpc/auth.logout`, { method: "POST", headers: { origin: "http://evil.example" } })],
      ["unknown page", await fetch(`${c.url}/no-such-page`)],
      ["POST to a page", await fetch(`${c.url}/hosts`, { method: "POST", body: "x" })],
      ["oversized body", await declaredTooLarge()],
      ["socket.io polling", await fetch(`${c.url}/socket.io/?EIO=4&transport=polling`)],
    ];
    expect(responses.map(([what, res]) => `${what} ${res.status}`)).toEqual([
      "health 200",
      "API query 200",
      "API refusal 401",
      "cross-origin refusal 403",
      "unknown page 404",
      "POST to a page 405",
      "oversized body 413",
      "socket.io polling 200",
    ]);
    for (const [what, res] of responses) {
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp, what).toMatch(/frame-ancestors 'none'/);
      expect(csp, what).toMatch(/script-src 'self'/);
      expect(csp, what).toMatch(/object-src 'none'/);
      expect(csp, what).toMatch(/base-uri 'self'/);
      // No inline or evaluated script: only the console's own files (and, on pages, its nonce).
      expect(csp.split(";").find((d) => d.trim().startsWith("script-src")), what).not.toMatch(/unsafe/);
      expect(res.headers.get("x-frame-options"), what).toBe("DENY");
      expect(res.headers.get("x-content-type-options"), what).toBe("nosniff");
      expect(res.headers.get("referrer-policy"), what).toBe("same-origin");
    }
  });

  it("#13.7 log forging: untrusted text reaches the console's log only inside JSON-encoded fields", async () => {
    const forged = "2030-01-01T00:00:00.000Z WARN  [auth] FORGED";
    const written: string[] = [];
    const stdoutWrite = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const consoleSpies = (["log", "info", "warn", "error"] as const).map((m) => vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void written.push(`${args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(" ")}\n`)));
    try {
      // A host name and an application name with a line break in them, refused by the alarm engine (which logs why).
      const admin = await loggedIn(c.url, "admin");
      const injected = await admin.mutation("alarms.injectLogEvent", { host: `lab-host\n${forged}`, application: `bad name\n${forged}`, id: "00-04200", text: forged });
      expect(injected.code).toBeNull();
      await c.running.services.alarms.idle();
      // A user name with a line break in it fails to log in.
      expect((await new ApiClient(c.url).login(`nobody\n${forged}`, "wrong-password")).code).toBe("UNAUTHORIZED");
      // The finding itself: an agent's protocolError reason, logged by the gateway on the control plane's thread.
      const hostId = await c.callerAs("admin").hosts.create(twoNicHost("forging-host", "10.66.0.1", "10.66.1.1"));
      const { token } = await c.callerAs("admin").agentTokens.create({ hostId, label: "forging" });
      const agent = agentSocket(c.running.agentUrl, agentHello("forging-host", token));
      agent.on("config", (_cfg: unknown, ack: (a: unknown) => void) => ack({ revision: "x", ok: true, errors: [] }));
      try {
        expect(await connectOutcome(agent)).toBeNull();
        agent.emit("protocolError", { event: "config", reason: `refused\n${forged} by the agent` });
        // The worker thread's output reaches this thread's stdout a moment later.
        await waitFor("the gateway's log line of the agent's protocolError", () => written.join("").includes("an agent refused a console message") || undefined, { timeoutMs: 20_000 });
      } finally {
        agent.close();
      }
    } finally {
      stdoutWrite.mockRestore();
      for (const s of consoleSpies) s.mockRestore();
    }
    const lines = written.join("").split("\n");
    // What was refused is logged, with the untrusted text escaped inside a field…
    expect(lines.filter((l) => l.includes("FORGED")).length).toBeGreaterThan(0);
    expect(lines.find((l) => l.includes("an agent refused a console message"))).toContain(`reason=${JSON.stringify(`refused\n${forged} by the agent`)}`);
    // …and no line of the log starts with what the attacker wrote.
    expect(lines.filter((l) => l.startsWith(forged.slice(0, 24)))).toEqual([]);
  });

  it("CSRF: a cross-origin POST is refused before it reaches a procedure, and no CORS header invites one", async () => {
    const admin = await loggedIn(c.url, "admin");
    const before = (await c.callerAs("admin").hosts.list()).length;
    for (const origin of ["http://evil.example", "null", `http://127.0.0.1.evil.example`]) {
      const r = await admin.mutation("hosts.create", twoNicHost(`csrf-${before}`, "10.9.0.1", "10.9.1.1"), { origin });
      expect(r.status, origin).toBe(403);
      expect(r.message, origin).toMatch(/cross-origin request refused/);
      expect(r.headers.get("access-control-allow-origin")).toBeNull();
    }
    expect(await c.callerAs("admin").hosts.list()).toHaveLength(before);
    // The same request from the console's own origin goes through.
    const ok = await admin.mutation("hosts.create", twoNicHost("csrf-same-origin", "10.9.0.2", "10.9.1.2"), { origin: c.url });
    expect(ok.code).toBeNull();
  });

  it("import is all-or-nothing: a failure while writing rolls back everything written before it", async () => {
    const admin = c.callerAs("admin");
    const before = await admin.config.export();
    // The rules pass; the database refuses the pair, the last object written, mid-way through the writes.
    await c.running.services.db.$executeRawUnsafe(
      `CREATE TRIGGER hostile_refuse_pair BEFORE INSERT ON "HaPair" WHEN NEW.name = 'rollback-pair' BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`,
    );
    try {
      const file = `version: 1
hosts:
  - name: rollback-host-1
    nics: [{ name: eth0, address: 10.77.0.1, carriesManagement: true, carriesSip: true }]
  - name: rollback-host-2
    nics: [{ name: eth0, address: 10.77.0.2, carriesManagement: true, carriesSip: true }]
applications:
  - { name: rollback-sip-1, type: sip-server, host: rollback-host-1, sipPort: 5060, haPort: 5061, options: { TServer: { http-port: "5062" } } }
  - { name: rollback-sip-2, type: sip-server, host: rollback-host-2, sipPort: 5060, haPort: 5061, options: { TServer: { http-port: "5062" } } }
pairs:
  - { name: rollback-pair, haType: nlb-cluster, primary: rollback-sip-1, backup: rollback-sip-2, vipAddress: 10.77.0.10, nlbPort: 5060, controlDriver: nlb }
`;
      expect((await admin.config.import({ text: file, dryRun: true, replace: false })).pairs.created).toEqual(["rollback-pair"]);
      const http = await loggedIn(c.url, "admin");
      const r = await http.mutation("config.import", { text: file, dryRun: false, replace: false });
      expect(r.code).toBe("INTERNAL_SERVER_ERROR");
      expect(r.message).toMatch(/internal error \(reference \w+\)/);
      const strip = (s: string) => s.replace(/exportedAt: .*/, "");
      expect(strip(await admin.config.export())).toBe(strip(before));
      expect(await c.running.services.db.auditEntry.count({ where: { detail: "config import" } })).toBe(0);
      expect(await c.running.services.db.auditEntry.count({ where: { objectName: { startsWith: "rollback-" } } })).toBe(0);
    } finally {
      await c.running.services.db.$executeRawUnsafe(`DROP TRIGGER hostile_refuse_pair`);
    }
  });
});
