// HA link between two real simulator processes: call sync in batches (W12), contact sync (W11),
// live replication, the sync direction following a switchover, and epoch fencing on role changes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sipServerStatusSchema, staleEpochResponseSchema, type SipServerStatus } from "../../protocol/app-contract";
import { freePort, removeTempDirs, simConfig, sipRequest, startSim, udpExchange, waitFor, type SimProcess } from "./testing";

let primary: SimProcess;
let backup: SimProcess;
const batchSize = 400;

async function status(sim: SimProcess): Promise<SipServerStatus> {
  return sipServerStatusSchema.parse((await sim.http("/server?sipServer")).body);
}

interface LabState {
  role: string;
  calls: number;
  haSync: Array<{ syncId: number; batchSizes: number[]; done: boolean }>;
  contacts: Record<string, Array<{ uri: string; expiresAtMs: number }>>;
}
async function labState(sim: SimProcess): Promise<LabState> {
  return (await sim.http("/lab/v1/state")).body as LabState;
}

beforeAll(async () => {
  const [sipA, sipB, httpA, httpB, haA, haB] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  const options = { "ha-max-calls-sync-at-once": String(batchSize) };
  // The pause between batches is shortened for the test only; the default (1 s) is unit-tested.
  const env = { SWITCHYARD_LAB_HA_SYNC_PAUSE_MS: "20", SWITCHYARD_LAB_HA_RECONNECT_MS: "100" };
  primary = await startSim(
    simConfig({ name: "SIP_A", sipPort: sipA, httpPort: httpA, haPort: haA, peer: { name: "SIP_B", address: "127.0.0.1", haPort: haB }, initialRole: "primary", options }),
    env,
  );
  const created = await primary.http("/lab/v1/calls", { body: { count: 2000 } });
  expect(created.body).toEqual({ created: 2000, total: 2000 });
  await primary.http("/lab/v1/calls", { body: { count: 3, multisite: true } });
  backup = await startSim(
    simConfig({ name: "SIP_B", sipPort: sipB, httpPort: httpB, haPort: haB, peer: { name: "SIP_A", address: "127.0.0.1", haPort: haA }, initialRole: "backup", options }),
    env,
  );
});

afterAll(async () => {
  await Promise.all([primary?.stop(), backup?.stop()]);
  removeTempDirs();
});

describe("W12 call synchronisation over the HA link", () => {
  it("W12 2,000 calls created on the primary are all on the backup after the link connects, in batches of ha-max-calls-sync-at-once", async () => {
    const synced = await waitFor("the backup to hold 2,000 calls", async () => {
      const backupStatus = await status(backup);
      return backupStatus.calls.synced === 2000 && backupStatus.readyForSwitchover === 1 ? backupStatus : undefined;
    });
    expect(synced.haLink).toBe("up");
    expect(synced.calls.total).toBe(2000);
    const state = await labState(backup);
    expect(state.calls).toBe(2000);
    expect(state.haSync).toHaveLength(1);
    expect(state.haSync[0]?.batchSizes).toEqual([400, 400, 400, 400, 400]);
    expect(state.haSync[0]?.done).toBe(true);
    // Standalone (no SWITCHYARD_AGENT_URL): status reports go to stdout as JSON lines.
    expect(primary.output()).toContain('{"status":"running","role":"primary","epoch":0,"detail":"started as primary"');
  });

  it("W12 W13 the primary counts the backup's confirmations; multisite calls stay and block readiness", async () => {
    const primaryStatus = await waitFor("the primary to see 2,000 synced calls", async () => {
      const current = await status(primary);
      return current.calls.synced === 2000 ? current : undefined;
    });
    expect(primaryStatus.calls).toEqual({ total: 2003, synced: 2000, multisite: 3 });
    expect(primaryStatus.readyForSwitchover).toBe(0);
    expect(primaryStatus.notReadyReasons).toContain("3 multisite calls from before the HA link came up have not ended");
    expect(primaryStatus.notReadyReasons.some((reason) => /^HA link up for \d+ s of the 60 s needed$/.test(reason))).toBe(true);
  });

  it("W12 calls created and ended on the primary after the sync are replicated at once", async () => {
    await primary.http("/lab/v1/calls", { body: { count: 5 } });
    await waitFor("5 more calls on the backup", async () => ((await labState(backup)).calls === 2005 ? true : undefined));
    const ended = await primary.http("/lab/v1/calls/end", { body: { multisite: false } });
    expect(ended.body).toEqual({ ended: 2005, total: 3 });
    await waitFor("the backup to drop the ended calls", async () => ((await labState(backup)).calls === 0 ? true : undefined));
  });
});

describe("W11 contact synchronisation", () => {
  it("W11 a REGISTER on the primary reaches the backup's registrar over the HA link", async () => {
    const answers = await udpExchange(
      primary.sipPort,
      sipRequest({ method: "REGISTER", port: primary.sipPort, callId: "w11-reg", extraHeaders: ["Contact: <sip:2002@127.0.0.1:5999>;expires=300"] }),
    );
    expect(answers[0]).toMatch(/^SIP\/2\.0 200 OK/);
    const contacts = await waitFor("the contact on the backup", async () => {
      const state = await labState(backup);
      return state.contacts[`sip:sim@127.0.0.1:${primary.sipPort}`];
    });
    expect(contacts.map((binding) => binding.uri)).toEqual(["sip:2002@127.0.0.1:5999"]);
  });
});

describe("roles through the contract with epoch fencing", () => {
  it("W1 switchover at epoch 1 turns the sync around; a command at epoch 0 is then refused with 409 stale-epoch", async () => {
    expect((await primary.http("/switchyard/v1/role", { body: { role: "backup", epoch: 1, commandId: "c-1" } })).body).toEqual({ role: "backup", epoch: 1 });
    expect((await backup.http("/switchyard/v1/role", { body: { role: "primary", epoch: 1, commandId: "c-2" } })).body).toEqual({ role: "primary", epoch: 1 });
    // SIP_B is primary now: it exchanges call lists with SIP_A and records its own (empty) sync.
    const newPrimaryState = await waitFor("a sync started by the new primary", async () => {
      const state = await labState(backup);
      return state.role === "primary" && state.haSync.some((record) => record.done) ? state : undefined;
    });
    expect(newPrimaryState.haSync.at(-1)?.batchSizes).toEqual([]);
    const oldPrimary = await status(primary);
    expect(oldPrimary.role).toBe("backup");
    expect(oldPrimary.readyForUpgrade).toBe(1);

    const stale = await backup.http("/switchyard/v1/role", { body: { role: "backup", epoch: 0, commandId: "c-3" } });
    expect(stale.status).toBe(409);
    const body = staleEpochResponseSchema.parse(stale.body);
    expect(body.epoch).toBe(1);
    expect(body.message).toBe("refused role backup at epoch 0: this server holds epoch 1");
    expect((await status(backup)).role).toBe("primary");
  });

  it("W1 a role body that breaks the contract schema is refused with 400 and changes nothing", async () => {
    const refused = await backup.http("/switchyard/v1/role", { body: { role: "leader", epoch: 2, commandId: "c-4" } });
    expect(refused.status).toBe(400);
    expect((await status(backup)).epoch).toBe(1);
  });
});
