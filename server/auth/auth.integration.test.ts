// Integration tests of users, sessions and roles through the real HTTP server (cookies, origin
// check) and the real database: login, logout, rate limiting, first-admin setup, role declarations.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "../api/root";
import { startHttpServer, type ConsoleServer } from "../http";
import { createTestConsole, type TestConsole } from "../test-support";
import { SESSION_COOKIE } from "./auth.service";

let t: TestConsole;
let http: ConsoleServer;

beforeAll(async () => {
  t = await createTestConsole({ LOGIN_MAX_FAILURES: "3" });
  http = await startHttpServer(t.services, { host: "127.0.0.1", port: 0 });
});
afterAll(async () => {
  await http.close();
  await t.close();
});

async function call(path: string, body: unknown, cookie = "", headers: Record<string, string> = {}) {
  const res = await fetch(`${http.url}/api/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie, ...headers },
    body: JSON.stringify({ json: body }),
  });
  return { status: res.status, setCookie: res.headers.get("set-cookie") ?? "", body: (await res.json()) as { result?: { data?: { json?: unknown } }; error?: { json?: { message: string; data: { code: string } } } } };
}

async function query(path: string, cookie = "") {
  const res = await fetch(`${http.url}/api/trpc/${path}`, { headers: { cookie } });
  return { status: res.status, body: (await res.json()) as { result?: { data?: { json?: unknown } }; error?: { json?: { data: { code: string } } } } };
}

describe("sessions over HTTP", () => {
  it("logs in with an HttpOnly SameSite cookie, reads with it, and logs out", async () => {
    const login = await call("auth.login", { username: "operator1", password: "operator-password-123" });
    expect(login.status).toBe(200);
    expect(login.setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{40,};`));
    expect(login.setCookie).toContain("HttpOnly");
    expect(login.setCookie).toContain("SameSite=Lax");
    const cookie = login.setCookie.split(";")[0]!;

    const me = await query("auth.me", cookie);
    expect(me.body.result?.data?.json).toMatchObject({ username: "operator1", role: "operator" });
    expect((await query("hosts.list", cookie)).status).toBe(200);

    // An operator may not change configuration.
    const refused = await call("hosts.create", { name: "x", nics: [{ name: "e", address: "10.0.0.1", carriesManagement: true, carriesSip: true }] }, cookie);
    expect(refused.body.error?.json?.data.code).toBe("FORBIDDEN");

    expect((await call("auth.logout", null, cookie)).status).toBe(200);
    expect((await query("auth.me", cookie)).body.result?.data?.json).toBeNull();
    expect((await query("hosts.list", cookie)).body.error?.json?.data.code).toBe("UNAUTHORIZED");
  });

  it("stores only a hash of the session token", async () => {
    const login = await call("auth.login", { username: "viewer1", password: "viewer-password-123" });
    const token = login.setCookie.split(";")[0]!.split("=")[1]!;
    const rows = await t.services.db.session.findMany({ select: { id: true } });
    expect(rows.some((r) => r.id === token)).toBe(false);
    expect(rows).not.toHaveLength(0);
  });

  it("refuses a cross-origin API request", async () => {
    const res = await call("auth.login", { username: "admin1", password: "admin-password-123" }, "", { origin: "http://evil.example" });
    expect(res.status).toBe(403);
  });

  it("rate-limits failed logins per address and user, even with the right password afterwards", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await call("auth.login", { username: "admin1", password: "wrong-password" });
      expect(r.body.error?.json?.data.code).toBe("UNAUTHORIZED");
    }
    const blocked = await call("auth.login", { username: "admin1", password: "admin-password-123" });
    expect(blocked.body.error?.json?.data.code).toBe("TOO_MANY_REQUESTS");
    expect(blocked.body.error?.json?.message).toMatch(/too many failed logins; try again in \d+ s/);
    const audit = await t.services.db.auditEntry.count({ where: { action: "user.login-failed", actorName: "admin1" } });
    expect(audit).toBe(3);
  });
});

describe("keep-alive connections", () => {
  it("a connection idle for longer than Node's default 5 s still answers its next request (no reset under a reusing client)", async () => {
    const { port } = new URL(http.url);
    const socket = net.connect(Number(port), "127.0.0.1");
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    const ask = async () => {
      const before = received.length;
      socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n");
      for (let i = 0; i < 100 && !received.slice(before).includes('{"ok":true}'); i++) await new Promise((r) => setTimeout(r, 50));
      return received.slice(before);
    };
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    expect(await ask()).toMatch(/^HTTP\/1.1 200/);
    await new Promise((r) => setTimeout(r, 6000));
    expect(socket.destroyed).toBe(false);
    expect(await ask()).toMatch(/^HTTP\/1.1 200/);
    socket.end();
    await closed;
  }, 20_000);
});

describe("users", () => {
  it("refuses short passwords and never leaves the console without an admin", async () => {
    const admin = t.callerAs("admin");
    await expect(admin.users.create({ username: "shorty", password: "short", role: "viewer" })).rejects.toThrow(/at least 12 characters/);
    await expect(admin.users.update({ id: t.userIds.admin, role: "viewer" })).rejects.toThrow(/last active admin/);
    await expect(t.callerAs("operator").users.list()).rejects.toThrow(/needs the admin role/);
  });

  it("disabling a user ends their sessions", async () => {
    const admin = t.callerAs("admin");
    const u = await admin.users.create({ username: "temp", password: "temporary-pass-1", role: "viewer" });
    const login = await call("auth.login", { username: "temp", password: "temporary-pass-1" });
    const cookie = login.setCookie.split(";")[0]!;
    await admin.users.update({ id: u.id, disabled: true });
    expect((await query("auth.me", cookie)).body.result?.data?.json).toBeNull();
    expect((await call("auth.login", { username: "temp", password: "temporary-pass-1" })).body.error?.json?.data.code).toBe("UNAUTHORIZED");
  });
});

describe("the lab's fixed admin (ensureAdmin)", () => {
  it("leaves a matching admin and its sessions alone; resets one that differs, which ends its sessions", async () => {
    const admin = { username: "lab-admin", password: "lab-admin-password-1" };
    expect(await t.services.auth.ensureAdmin(admin)).toBe("created");
    const cookie = (await call("auth.login", admin)).setCookie.split(";")[0]!;
    expect(await t.services.auth.ensureAdmin(admin)).toBe("unchanged");
    expect((await query("auth.me", cookie)).body.result?.data?.json).toMatchObject({ username: "lab-admin", role: "admin" });

    const changed = { ...admin, password: "another-password-2" };
    expect(await t.services.auth.ensureAdmin(changed)).toBe("reset");
    expect((await query("auth.me", cookie)).body.result?.data?.json).toBeNull();
    expect((await call("auth.login", changed)).status).toBe(200);
    const user = await t.services.db.user.findUnique({ where: { username: "lab-admin" } });
    await t.callerAs("admin").users.update({ id: user!.id, role: "viewer" });
    expect(await t.services.auth.ensureAdmin(changed)).toBe("reset");
    expect((await t.services.db.user.findUnique({ where: { username: "lab-admin" } }))?.role).toBe("admin");
  });
});

describe("first admin", () => {
  it("prints a one-time setup link when no user exists; the link works once", async () => {
    const fresh = await createTestConsole();
    try {
      await fresh.services.db.user.deleteMany();
      const boot = await fresh.services.auth.bootstrap({});
      expect(boot.kind).toBe("setup");
      const token = boot.kind === "setup" ? boot.token : "";
      await expect(fresh.services.auth.completeSetup({ token: "wrong", username: "root", password: "a-long-password-1" })).rejects.toThrow(/not valid/);
      const user = await fresh.services.auth.completeSetup({ token, username: "root", password: "a-long-password-1" });
      expect(user.role).toBe("admin");
      await expect(fresh.services.auth.completeSetup({ token, username: "root2", password: "a-long-password-1" })).rejects.toThrow(/not valid/);
      expect((await fresh.services.auth.bootstrap({})).kind).toBe("exists");
    } finally {
      await fresh.close();
    }
  });

  it("creates the first admin from the environment", async () => {
    const fresh = await createTestConsole();
    try {
      await fresh.services.db.user.deleteMany();
      expect(await fresh.services.auth.bootstrap({ username: "boss", password: "boss-password-12" })).toEqual({ kind: "created", username: "boss" });
      const u = await fresh.services.db.user.findUnique({ where: { username: "boss" } });
      expect(u?.role).toBe("admin");
      expect(u?.passwordHash).toMatch(/^\$argon2id\$/);
    } finally {
      await fresh.close();
    }
  });
});

describe("role declarations", () => {
  it("every procedure declares the role it needs; only login, setup and whoami are public", () => {
    const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { meta?: { role?: string }; type: string } }>;
    const publicOnes: string[] = [];
    for (const [name, proc] of Object.entries(procedures)) {
      const role = proc._def.meta?.role;
      expect(["public", "viewer", "operator", "admin"], name).toContain(role);
      if (role === "public") publicOnes.push(name);
      // No mutation is open to viewers except logging out.
      if (proc._def.type === "mutation" && role === "viewer") expect(name).toBe("auth.logout");
    }
    expect(publicOnes.sort()).toEqual(["auth.completeSetup", "auth.login", "auth.me", "auth.setupNeeded"]);
  });
});
