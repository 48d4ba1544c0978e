// Real SIP traffic from sipp against a real simulator process on loopback: OPTIONS, REGISTER,
// INVITE/ACK/BYE (sipp's built-in uac), as a primary serves them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sipServerStatusSchema } from "../../protocol/app-contract";
import { freePort, removeTempDirs, runSipp, simConfig, sippScenarioDir, startSim, waitFor, type SimProcess } from "./testing";
import { join } from "node:path";

let sim: SimProcess;

beforeAll(async () => {
  sim = await startSim(simConfig({ name: "SIP_Sipp", sipPort: await freePort(), httpPort: await freePort(), initialRole: "primary" }));
});

afterAll(async () => {
  await sim?.stop();
  removeTempDirs();
});

async function sippArgs(extra: string[]): Promise<string[]> {
  // An explicit local port: sipp's default is 5060, which may belong to someone else on this machine.
  return [...extra, "-i", "127.0.0.1", "-p", String(await freePort()), `127.0.0.1:${sim.sipPort}`];
}

async function labState(): Promise<{ calls: number; contacts: Record<string, Array<{ uri: string; expiresAtMs: number }>> }> {
  return (await sim.http("/lab/v1/state")).body as { calls: number; contacts: Record<string, Array<{ uri: string; expiresAtMs: number }>> };
}

describe("SIP over UDP driven by sipp", () => {
  it("W4 OPTIONS: the primary answers 200 OK with Allow (sipp options.xml, 3 calls)", async () => {
    const result = await runSipp(await sippArgs(["-sf", join(sippScenarioDir, "options.xml"), "-m", "3", "-r", "10"])).done;
    expect(result.output).not.toContain("Aborting");
    expect(result.code).toBe(0);
  });

  it("W11 REGISTER stores the contact with its expiry; REGISTER Contact: * with Expires: 0 removes it (sipp)", async () => {
    const registered = await runSipp(await sippArgs(["-sf", join(sippScenarioDir, "register.xml"), "-s", "1001", "-m", "1"])).done;
    expect(registered.code).toBe(0);
    const state = await labState();
    const bindings = state.contacts["sip:1001@127.0.0.1"] ?? [];
    expect(bindings).toHaveLength(1);
    expect(bindings[0]?.uri).toMatch(/^sip:1001@127\.0\.0\.1:\d+$/);
    // The binding lasts what the REGISTER asked for (Expires: 120 in register.xml), not a default.
    const expiresInSeconds = Math.round(((bindings[0]?.expiresAtMs ?? 0) - Date.now()) / 1000);
    expect(expiresInSeconds).toBeGreaterThan(100);
    expect(expiresInSeconds).toBeLessThanOrEqual(120);

    const removed = await runSipp(await sippArgs(["-sf", join(sippScenarioDir, "unregister.xml"), "-s", "1001", "-m", "1"])).done;
    expect(removed.code).toBe(0);
    expect((await labState()).contacts["sip:1001@127.0.0.1"]).toBeUndefined();
  });

  it("W12 INVITE → 100/180/200, ACK, BYE with sipp's built-in uac: calls exist while up and end with BYE", async () => {
    // 5 calls held 3 s each: long enough to see them all in /server, bounded by -m so sipp ends.
    const sipp = runSipp(await sippArgs(["-sn", "uac", "-m", "5", "-r", "50", "-l", "5", "-d", "3000"]));
    const during = await waitFor("5 calls up on the primary", async () => {
      const status = sipServerStatusSchema.parse((await sim.http("/server?sipServer")).body);
      return status.calls.total === 5 ? status : undefined;
    });
    expect(during.calls.multisite).toBe(0);
    const result = await sipp.done;
    expect(result.code).toBe(0);
    const after = sipServerStatusSchema.parse((await sim.http("/server?sipServer")).body);
    expect(after.calls.total).toBe(0);
  });
});
