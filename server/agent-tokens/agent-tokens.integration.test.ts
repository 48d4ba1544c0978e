// Agent tokens: shown once, stored hashed, bound to one host, revocable, admin only, audited.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestConsole, twoNicHost, type TestConsole } from "../test-support";
import { flushAgentTokenUses, TOKEN_USE_WRITE_INTERVAL_MS, verifyAgentToken } from "./agent-tokens.service";

let t: TestConsole;
let hostId: string;
beforeAll(async () => {
  t = await createTestConsole();
  hostId = await t.callerAs("admin").hosts.create(twoNicHost("agent-host", "10.5.0.1", "10.5.1.1"));
  await t.callerAs("admin").hosts.create(twoNicHost("other-host", "10.6.0.1", "10.6.1.1"));
});
afterAll(() => t.close());

describe("agent tokens", () => {
  it("creates a token that verifies for its host only, stores no secret, and can be revoked", async () => {
    const admin = t.callerAs("admin");
    const { id, token } = await admin.agentTokens.create({ hostId, label: "first" });
    expect(token).toMatch(/^sya_[A-Za-z0-9_-]{43}$/);
    expect(await verifyAgentToken(t.services.db, "agent-host", token)).toBe(true);
    expect(await verifyAgentToken(t.services.db, "other-host", token)).toBe(false);
    expect(await verifyAgentToken(t.services.db, "agent-host", `${token}x`)).toBe(false);

    const rows = await t.services.db.agentToken.findMany();
    expect(JSON.stringify(rows)).not.toContain(token);
    // Its use is written with the next batch.
    await flushAgentTokenUses(t.services.db);
    const listed = await admin.agentTokens.list({ hostId });
    expect(listed[0]).toMatchObject({ id, label: "first", revokedAt: null });
    expect(listed[0]!.lastUsedAt).not.toBeNull();

    await admin.agentTokens.revoke({ id });
    expect(await verifyAgentToken(t.services.db, "agent-host", token)).toBe(false);
    const audit = await admin.audit.list({ action: "agent-token", limit: 10 });
    expect(audit.items.map((e) => e.action).sort()).toEqual(["agent-token.create", "agent-token.revoke"]);
  });

  it("writes a token's last use at most once per interval, however often its agent connects", async () => {
    const admin = t.callerAs("admin");
    const { token } = await admin.agentTokens.create({ hostId, label: "reconnecting" });
    const lastUse = async () => (await admin.agentTokens.list({ hostId })).find((r) => r.label === "reconnecting")!.lastUsedAt?.getTime() ?? null;
    const t0 = Date.UTC(2030, 0, 1);
    expect(await verifyAgentToken(t.services.db, "agent-host", token, t0)).toBe(true);
    await flushAgentTokenUses(t.services.db);
    expect(await lastUse()).toBe(t0);
    for (const dt of [1, 1_000, TOKEN_USE_WRITE_INTERVAL_MS - 1]) expect(await verifyAgentToken(t.services.db, "agent-host", token, t0 + dt)).toBe(true);
    await flushAgentTokenUses(t.services.db);
    expect(await lastUse()).toBe(t0);
    expect(await verifyAgentToken(t.services.db, "agent-host", token, t0 + TOKEN_USE_WRITE_INTERVAL_MS)).toBe(true);
    await flushAgentTokenUses(t.services.db);
    expect(await lastUse()).toBe(t0 + TOKEN_USE_WRITE_INTERVAL_MS);
  });

  it("is admin only", async () => {
    await expect(t.callerAs("operator").agentTokens.create({ hostId, label: "" })).rejects.toThrow(/needs the admin role/);
    await expect(t.callerAs("viewer").agentTokens.list({ hostId })).rejects.toThrow(/needs the admin role/);
  });
});
