// Issue 17 end to end: three console processes on one real PostgreSQL, lab agents given every console's
// agent URL, one ip-takeover pair of simulated SIP servers (harness/console-cluster.ts). Exactly one
// console leads; a browser and the API on a follower see the leader's live views and their switchover is
// carried out by the leader; kill -9 of the leader (idle, and in the middle of a switchover) and SIGSTOP
// past its lease hand the pair to a new leader without a role flap and with one primary throughout; the
// woken old leader steps down and commands nothing; with no follower left the leader raises no-follower.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { io as connectSocket, type Socket } from "socket.io-client";
import superjson, { type SuperJSONResult } from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../harness/lab-stack";
import { CLUSTER_ADMIN, primaryOf, settled, startConsoleCluster, switchable, type ClusterConsole, type ConsoleCluster } from "../../harness/console-cluster";
import { createTestDatabase, type TestDatabase } from "../test-database";
import type { PairView } from "../runtime/live-view";

const A = "pair-a-iptakeover";
const WAIT_MS = 90_000;

let dir: string;
let database: TestDatabase;
let cluster: ConsoleCluster;

const pairRuntime = () => cluster.db.pairRuntime.findFirstOrThrow({ select: { epoch: true, intendedPrimaryAppId: true } });

async function roleChangesSince(since: Date): Promise<string[]> {
  const pair = await cluster.db.haPair.findUniqueOrThrow({ where: { name: A }, select: { id: true } });
  const rows = await cluster.db.pairHistory.findMany({ where: { pairId: pair.id, at: { gte: since } }, orderBy: [{ at: "asc" }, { id: "asc" }], select: { kind: true, text: true } });
  return rows.map((r) => `${r.kind}: ${r.text}`).filter((r) => /set-role|promoted|demoted/.test(r));
}

/** Samples both simulated servers' own roles until stopped: how many times both said primary at once. */
function watchPrimaries(apps: string[]): { stop(): Promise<{ samples: number; bothPrimary: number }> } {
  let running = true;
  let samples = 0;
  let bothPrimary = 0;
  const loop = (async () => {
    while (running) {
      const roles = await Promise.all(apps.map((a) => cluster.labState(a).then((s) => s.role).catch(() => "unknown")));
      samples += 1;
      if (roles.filter((r) => r === "primary").length > 1) bothPrimary += 1;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, bothPrimary };
    },
  };
}

const describeAll = () => cluster.describe();
const newLeader = () => waitFor("a new leader", cluster.agreedLeader, { timeoutMs: WAIT_MS, describe: describeAll });
const threeAgain = (leader: ClusterConsole) => waitFor("three consoles again", async () => (await cluster.health(leader))?.followers.length === 2 || undefined, { timeoutMs: WAIT_MS, describe: describeAll });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-ha-"));
  database = await createTestDatabase(dir);
  cluster = await startConsoleCluster({ databaseUrl: database.url, pairs: [A] });
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
}, 90_000);

describe("several consoles on one PostgreSQL, one leader by lease (issue 17)", () => {
  it("W1 on a follower: the API and a browser's live socket there show the leader's views, and its switchover is carried out by the leader", async () => {
    const leader = (await cluster.agreedLeader())!;
    const follower = cluster.consoles.find((c) => c !== leader)!;
    const h = (await cluster.health(follower))!;
    expect(h.role).toBe("follower");
    expect(h.followers).toHaveLength(2);
    // /metrics of each says which leads; a follower's control-plane thread is up (it keeps the lease and answers agents).
    const metricsOf = async (c: ClusterConsole) => (await fetch(`${c.url}/metrics`, { headers: { authorization: `Bearer ${cluster.token}` } })).text();
    const [fm, lm] = await Promise.all([metricsOf(follower), metricsOf(leader)]);
    expect(fm).toMatch(/^switchyard_console_leader 0$/m);
    expect(fm).toMatch(/^switchyard_control_plane_up 1$/m);
    expect(lm).toMatch(/^switchyard_console_leader 1$/m);
    expect(lm).toMatch(/^switchyard_console_peers 2$/m);
    // A browser signed in on the follower.
    const login = await fetch(`${follower.url}/api/trpc/auth.login`, { method: "POST", headers: { "content-type": "application/json", origin: follower.url }, body: JSON.stringify({ json: CLUSTER_ADMIN }) });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const socket: Socket = connectSocket(`${follower.url}/ui`, { path: "/socket.io", transports: ["websocket"], extraHeaders: { cookie, origin: follower.url } });
    const pushed: PairView[] = [];
    socket.on("live:pairs", (payload: SuperJSONResult) => pushed.push(...superjson.deserialize<{ changed: PairView[] }>(payload).changed));
    await waitFor("the follower's browser socket", () => socket.connected || undefined, { timeoutMs: 10_000 });
    try {
      const before = await waitFor("the pair ready for a switchover", async () => {
        const v = await cluster.pair(follower, A);
        return switchable(v) ? v : undefined;
      }, { timeoutMs: WAIT_MS, describe: describeAll });
      const from = primaryOf(before)!;
      const answer = await cluster.api<{ accepted: boolean; sentence: string }>(follower, "POST", `/api/v1/pairs/${A}/switchover`, {});
      expect(answer).toMatchObject({ status: 200, json: { accepted: true } });
      const after = await waitFor(
        "the switchover done, as the follower shows it",
        async () => {
          const v = await cluster.pair(follower, A);
          return settled(v) && primaryOf(v) !== from ? v : undefined;
        },
        { timeoutMs: WAIT_MS, describe: describeAll },
      );
      // The leader agrees, and the follower's browser was told as it happened.
      expect(primaryOf(await cluster.pair(leader, A))).toBe(primaryOf(after));
      await waitFor("the new primary pushed to the follower's browser", () => pushed.some((v) => v.name === A && primaryOf(v) === primaryOf(after) && v.plan === null) || undefined, { timeoutMs: 10_000 });
      // A logout through the LEADER ends this session: its socket on the follower is dropped (the
      // broadcast crosses consoles through PostgreSQL, the socket.io adapter).
      let dropped = false;
      socket.on("disconnect", (reason) => (dropped ||= reason === "io server disconnect"));
      const logout = await fetch(`${leader.url}/api/trpc/auth.logout`, { method: "POST", headers: { "content-type": "application/json", origin: leader.url, cookie }, body: JSON.stringify({ json: null }) });
      expect(logout.status).toBe(200);
      await waitFor("the follower's socket of the ended session dropped", () => dropped || undefined, { timeoutMs: 10_000 });
    } finally {
      socket.close();
    }
  }, 120_000);

  it("an alarm cleared on a follower is gone from the leader's engine too: the same event raises a new alarm there", async () => {
    const leader = (await cluster.agreedLeader())!;
    const follower = cluster.consoles.find((c) => c !== leader)!;
    const login = await fetch(`${leader.url}/api/trpc/auth.login`, { method: "POST", headers: { "content-type": "application/json", origin: leader.url }, body: JSON.stringify({ json: CLUSTER_ADMIN }) });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    // The event comes to the leader (as an agent's log event would); the test hook stands in for the agent.
    const inject = () =>
      fetch(`${leader.url}/api/trpc/alarms.injectLogEvent`, { method: "POST", headers: { "content-type": "application/json", origin: leader.url, cookie }, body: JSON.stringify({ json: { host: "lab-host-1", application: "sip-a1", id: "00-04200", text: "bind failed (test)" } }) });
    const active = () => cluster.db.alarm.findFirst({ where: { source: "00-04200", application: "sip-a1", state: "active" }, select: { id: true } });
    expect((await inject()).status).toBe(200);
    const first = await waitFor("the alarm raised on the leader", async () => (await active()) ?? undefined, { timeoutMs: 10_000 });
    const cleared = await cluster.api(follower, "POST", `/api/v1/alarms/${first.id}/clear`, { comment: "cleared on a follower" });
    expect(cleared.status).toBe(200);
    // The leader's engine hears of it through the database (the adapter) and reads its alarms again; until
    // then a repeat would count on the cleared alarm. Repeated until a new alarm is raised.
    const second = await waitFor(
      "a new alarm for the same event on the leader",
      async () => {
        await inject();
        const a = await active();
        return a && a.id !== first.id ? a : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 500 },
    );
    expect(second.id).not.toBe(first.id);
  }, 60_000);

  it("kill -9 of the leader: a follower leads after the lease expires, the agents follow it, and nothing flaps", async () => {
    const old = (await cluster.agreedLeader())!;
    const runtime = await pairRuntime();
    const since = new Date();
    const killedAt = Date.now();
    old.proc!.signal("SIGKILL");
    old.proc = null;
    const leader = await newLeader();
    const ledAfterMs = Date.now() - killedAt;
    await waitFor("both agents with the new leader and the pair settled", async () => settled(await cluster.pair(leader, A)) || undefined, { timeoutMs: WAIT_MS, describe: describeAll });
    const servingAfterMs = Date.now() - killedAt;
    // Longer than a heartbeat timeout more, for a careless controller to act.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await pairRuntime()).toEqual(runtime);
    expect(await roleChangesSince(since)).toEqual([]);
    expect((await cluster.health(leader))!.term).toBeGreaterThan(1);
    process.stdout.write(`leader killed: a new leader after ${ledAfterMs} ms, the pair settled under it after ${servingAfterMs} ms\n`);
    await cluster.start(old); // back, as a follower
    await threeAgain(leader);
  }, 180_000);

  it("kill -9 of the leader in the middle of a switchover: the new leader completes it, with one primary throughout", async () => {
    const old = (await cluster.agreedLeader())!;
    const before = await waitFor("the pair ready for a switchover", async () => {
      const v = await cluster.pair(old, A);
      return switchable(v) ? v : undefined;
    }, { timeoutMs: WAIT_MS, describe: describeAll });
    const from = primaryOf(before)!;
    const watch = watchPrimaries(before.servers.map((s) => s.name));
    const answer = await cluster.api<{ accepted: boolean; sentence: string }>(old, "POST", `/api/v1/pairs/${A}/switchover`, {});
    expect(answer.json).toMatchObject({ accepted: true });
    old.proc!.signal("SIGKILL");
    old.proc = null;
    const leader = await newLeader();
    const done = await waitFor(
      "the pair settled under the new leader",
      async () => {
        const v = await cluster.pair(leader, A);
        return settled(v) ? v : undefined;
      },
      { timeoutMs: WAIT_MS, describe: describeAll },
    );
    const sampled = await watch.stop();
    expect(sampled.samples).toBeGreaterThan(10);
    expect(sampled.bothPrimary).toBe(0);
    // Completed, not rolled back: the backup the operator asked for is primary.
    expect(primaryOf(done)).not.toBe(from);
    await cluster.start(old);
    await threeAgain(leader);
  }, 180_000);

  it("SIGSTOP of the leader past its lease: a follower leads; woken with SIGCONT the old one steps down and orders nothing", async () => {
    const old = (await cluster.agreedLeader())!;
    const oldId = (await cluster.health(old))!.instance;
    const runtime = await pairRuntime();
    const since = new Date();
    old.proc!.signal("SIGSTOP");
    const leader = await waitFor(
      "a new leader while the old one is frozen",
      async () => {
        for (const c of cluster.consoles.filter((x) => x !== old)) {
          const h = await cluster.health(c);
          if (h?.role === "leader" && h.instance !== oldId) return c;
        }
        return undefined;
      },
      { timeoutMs: WAIT_MS, describe: describeAll },
    );
    await waitFor("the pair settled under the new leader", async () => settled(await cluster.pair(leader, A)) || undefined, { timeoutMs: WAIT_MS, describe: describeAll });
    const outputBefore = old.proc!.output().length;
    old.proc!.signal("SIGCONT");
    await waitFor(
      "the woken console following the new leader",
      async () => {
        const h = await cluster.health(old);
        return h?.role === "follower" && h.leader !== null && h.leader.id !== oldId ? h : undefined;
      },
      { timeoutMs: WAIT_MS, describe: describeAll },
    );
    const woke = old.proc!.output().slice(outputBefore);
    expect(woke).toMatch(/this console stepped down from leading/);
    // What only the leader does (guided upgrades, scheduled switchovers) stopped with it: never two drivers of one run.
    expect(woke).toMatch(/this console stepped down: guided upgrades and scheduled switchovers are left to the leading console/);
    // It ordered nothing after it woke: no command of its (older) term left it.
    expect(woke).not.toMatch(/"msg":"sent /);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await pairRuntime()).toEqual(runtime);
    expect(await roleChangesSince(since)).toEqual([]);
    const alarm = await cluster.db.alarm.findFirst({ where: { source: "control-plane-stall", lastSeen: { gte: since } } });
    expect(alarm?.lastText ?? "").toMatch(/stopped leading at term/);
  }, 180_000);

  it("with no follower alive the leader raises no-follower; a follower back cancels it", async () => {
    const leader = (await cluster.agreedLeader())!;
    const followers = cluster.consoles.filter((c) => c !== leader);
    const since = new Date();
    await Promise.all(followers.map((c) => c.proc!.stop()));
    for (const c of followers) c.proc = null;
    const raised = await waitFor("the no-follower alarm", async () => (await cluster.db.alarm.findFirst({ where: { source: "no-follower", state: "active", firstSeen: { gte: since } } })) ?? undefined, { timeoutMs: WAIT_MS, describe: describeAll });
    expect(raised.lastText).toMatch(/no other console instance is alive/);
    await cluster.start(followers[0]!);
    await waitFor("no-follower cancelled", async () => (await cluster.db.alarm.findUnique({ where: { id: raised.id } }))?.state === "cleared" || undefined, { timeoutMs: WAIT_MS, describe: describeAll });
  }, 180_000);
});
