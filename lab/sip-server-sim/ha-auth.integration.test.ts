// The HA link proves the pair's shared secret before anything crosses it, with real processes: the right
// secret syncs calls (W12); a partner with a wrong secret is refused, named in the log, and nothing it
// sent is applied; a handshake recorded from a good session and replayed is refused; a hello sent before
// authenticating is refused.
import * as net from "node:net";
import { describe, expect, it } from "vitest";
import { sipServerStatusSchema } from "../../protocol/app-contract";
import { haAuthProof, newHaNonce } from "./ha-auth";
import { freePort, loopbackBlock, simConfig, startSim, stopAfterEach, waitFor, type SimProcess } from "./testing";

const track = stopAfterEach();
const env = { SWITCHYARD_LAB_HA_SYNC_PAUSE_MS: "20", SWITCHYARD_LAB_HA_RECONNECT_MS: "100" };

async function status(sim: SimProcess) {
  return sipServerStatusSchema.parse((await sim.http("/server?sipServer")).body);
}
async function labState(sim: SimProcess): Promise<{ calls: number; haSync: Array<{ batchSizes: number[]; done: boolean }> }> {
  return (await sim.http("/lab/v1/state")).body as { calls: number; haSync: Array<{ batchSizes: number[]; done: boolean }> };
}

/** A server without SIP (the HA link is what matters here) on `host`, partnered with `peer`. */
async function haOnlyConfig(name: string, host: string, haPort: number, peer: { name: string; address: string; haPort: number }, role: "primary" | "backup", haSecret: string | null) {
  return { ...simConfig({ name, sipAddress: host, sipPort: 0, httpPort: await freePort(), haPort, peer, initialRole: role, haSecret }), sipPort: null };
}

/** A pair on 127.B.1.2 / 127.B.2.2 whose servers hold the given secrets; SIP_A starts primary with `calls` calls. */
async function startPair(secretA: string | null, secretB: string | null, calls: number) {
  const { address } = loopbackBlock();
  const hostA = address(1, 2);
  const hostB = address(2, 2);
  const [haA, haB] = await Promise.all([freePort(hostA), freePort(hostB)]);
  const a = await startSim(await haOnlyConfig("SIP_A", hostA, haA, { name: "SIP_B", address: hostB, haPort: haB }, "primary", secretA), env);
  track(a);
  if (calls > 0) expect((await a.http("/lab/v1/calls", { body: { count: calls } })).body).toEqual({ created: calls, total: calls });
  const b = await startSim(await haOnlyConfig("SIP_B", hostB, haB, { name: "SIP_A", address: hostA, haPort: haA }, "backup", secretB), env);
  track(b);
  return { a, b, hostA, hostB, haA, haB };
}

/** A hand-made HA peer: a TCP connection that reads the server's lines and writes ours. */
async function haClient(address: string, port: number) {
  const socket = net.connect({ host: address, port });
  await new Promise<void>((done, fail) => {
    socket.once("connect", () => done());
    socket.once("error", fail);
  });
  const lines: unknown[] = [];
  let buffered = "";
  let closed = false;
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      lines.push(JSON.parse(buffered.slice(0, newline)) as unknown);
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  });
  socket.on("error", () => {});
  socket.on("close", () => (closed = true));
  return {
    lines,
    isClosed: () => closed,
    nextOfType: <T>(type: string) => waitFor(`an HA ${type} from the server`, () => lines.find((line) => (line as { type?: string }).type === type) as T | undefined),
    send: (...messages: unknown[]) => socket.write(messages.map((message) => JSON.stringify(message) + "\n").join("")),
    close: () => socket.destroy(),
  };
}

const labCall = (callId: string) => ({ callId, from: "sip:lab@switchyard", to: "sip:1@switchyard", state: "established", multisite: false, createdAtMs: 1 });

describe("#13.10 HA link authentication with the pair's shared secret", () => {
  it("W12 with the same haSecret on both servers the link comes up and 600 calls sync to the backup", async () => {
    const { a, b } = await startPair("s3cret-pair", "s3cret-pair", 600);
    await waitFor("the backup to hold 600 calls", async () => ((await status(b)).calls.synced === 600 ? true : undefined));
    expect((await status(a)).haLink).toBe("up");
    expect((await labState(b)).haSync[0]).toEqual({ syncId: 1, batchSizes: [500, 100], done: true });
    expect(a.output() + b.output()).not.toContain("refused");
    expect(a.output() + b.output()).not.toContain("not authenticated");
  });

  it("a partner with a wrong haSecret is refused with a log line naming its address, and nothing is synced", async () => {
    const { a, b, hostA, hostB, haB } = await startPair("secret-one", "secret-two", 50);
    // SIP_A dials SIP_B from its own host address: each refuses the other's proof.
    await waitFor("SIP_A to refuse SIP_B", () => (a.output().includes(`HA peer at ${hostB}:${haB} refused: wrong proof of the shared secret`) ? true : undefined));
    await waitFor("SIP_B to refuse SIP_A", () => (b.output().includes(`HA peer at ${hostA}:`) && b.output().includes("refused: wrong proof of the shared secret") ? true : undefined));
    expect(a.output()).toContain("disconnected, nothing it sent was applied");
    expect(await status(b)).toMatchObject({ haLink: "down", calls: { total: 0, synced: 0 } });
    expect(await labState(b)).toMatchObject({ calls: 0, haSync: [] });
    expect((await status(a)).haLink).toBe("down");
    expect(a.output()).not.toContain("HA link up");
  });

  it("a replayed handshake is refused and what follows it is not applied; so is a hello before authenticating", async () => {
    const secret = "replay-test-secret";
    const { address } = loopbackBlock();
    const host = address(2, 2);
    const haPort = await freePort(host);
    // SIP_B accepts (its name sorts last); the test plays SIP_A, the primary, from a port nobody dials.
    const b = await startSim(await haOnlyConfig("SIP_B", host, haPort, { name: "SIP_A", address: address(1, 2), haPort: 9 }, "backup", secret), env);
    track(b);

    // A good session: challenge and proof made with the secret, then a sync of three calls.
    const good = await haClient(host, haPort);
    const challengeB1 = await good.nextOfType<{ nonce: string }>("auth-challenge");
    const nonceA = newHaNonce();
    const recorded = [
      { type: "auth-challenge", authVersion: 1, name: "SIP_A", nonce: nonceA },
      { type: "auth-proof", proof: haAuthProof({ secret, proverName: "SIP_A", proverNonce: nonceA, verifierNonce: challengeB1.nonce }) },
    ];
    good.send(...recorded);
    await good.nextOfType("hello");
    const firstCalls = ["good-1", "good-2", "good-3"].map(labCall);
    good.send(
      { type: "hello", version: 1, name: "SIP_A", role: "primary", epoch: 0, callIds: firstCalls.map((call) => call.callId), wantReply: false },
      { type: "sync-start", syncId: 1, missing: 3, drop: [] },
      { type: "calls", syncId: 1, batchIndex: 0, calls: firstCalls },
      { type: "sync-done", syncId: 1 },
    );
    await waitFor("SIP_B to hold the 3 calls", async () => ((await status(b)).readyForSwitchover === 1 ? true : undefined));
    good.close();
    await waitFor("SIP_B to see the link down", async () => ((await status(b)).haLink === "down" ? true : undefined));

    // The same handshake again (a new challenge from SIP_B), followed by a sync that would add two calls.
    const replay = await haClient(host, haPort);
    await replay.nextOfType("auth-challenge");
    const moreCalls = ["replayed-1", "replayed-2"].map(labCall);
    replay.send(
      ...recorded,
      { type: "hello", version: 1, name: "SIP_A", role: "primary", epoch: 0, callIds: [...firstCalls, ...moreCalls].map((call) => call.callId), wantReply: false },
      { type: "sync-start", syncId: 2, missing: 2, drop: [] },
      { type: "calls", syncId: 2, batchIndex: 0, calls: moreCalls },
      { type: "sync-done", syncId: 2 },
    );
    await waitFor("SIP_B to refuse the replay", () => (/HA peer at [\d.]+:\d+ refused: wrong proof of the shared secret/.test(b.output()) ? true : undefined));
    await waitFor("SIP_B to close the replayed connection", () => (replay.isClosed() ? true : undefined));
    expect(replay.lines.some((line) => (line as { type?: string }).type === "hello")).toBe(false);
    expect(await labState(b)).toMatchObject({ calls: 3, haSync: [{ syncId: 1, batchSizes: [3], done: true }] });

    // No handshake at all: a hello first is refused.
    const rude = await haClient(host, haPort);
    rude.send({ type: "hello", version: 1, name: "SIP_A", role: "primary", epoch: 0, callIds: [], wantReply: false });
    await waitFor("SIP_B to refuse a hello before authentication", () => (b.output().includes('refused: sent "hello" before proving the shared secret') ? true : undefined));
    await waitFor("SIP_B to close that connection", () => (rude.isClosed() ? true : undefined));
    expect((await labState(b)).calls).toBe(3);
    expect((await status(b)).haLink).toBe("down");
  });

  it("without a haSecret (older configurations) the link works unauthenticated and says so once", async () => {
    const { a, b } = await startPair(null, null, 10);
    await waitFor("the backup to hold 10 calls", async () => ((await status(b)).calls.synced === 10 ? true : undefined));
    expect(a.output().match(/the HA link to SIP_B is not authenticated/g)).toHaveLength(1);
  });
});
