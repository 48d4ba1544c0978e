// Alarm engine benchmark (not a test): log events per second through the pure matcher alone, and end
// to end through the engine (validation, SQLite insert of the log events, matching, alarm rows, audit)
// in batches as agents send them. Prints a Markdown section for BENCHMARKS.md.
// Run: npx tsx bench/alarms/run.ts   (EVENTS, BATCH change the end-to-end volume and batch size)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDb } from "../../server/db";
import { migrateSqlite } from "../../server/db/migrate";
import { createAlarmEngine } from "../../server/alarms/engine";
import { AlarmMatcher, type MatchCondition, type Subject } from "../../server/alarms/matcher";

const EVENTS = Number(process.env.EVENTS ?? 20_000);
const BATCH = Number(process.env.BATCH ?? 100);
const MATCHER_EVENTS = Number(process.env.MATCHER_EVENTS ?? 1_000_000);

/** The event mix: mostly ids no condition watches (ordinary standard-level events), some that raise or repeat, some cancels. */
function eventIdAt(i: number): string {
  const r = i % 100;
  if (r < 80) return `00-${String(10000 + (i % 5000)).padStart(5, "0")}`; // unmatched noise
  if (r < 90) return "00-04200"; // raises once per application, then repeats
  if (r < 95) return "00-52029";
  return "00-52030"; // cancels 00-52029
}
const apps = Array.from({ length: 50 }, (_, i) => `sip-${i}`);
/** Blocks of 100 consecutive events come from one application, so each sees the whole mix (raise, repeat, cancel). */
const appIndexAt = (i: number) => Math.floor(i / 100) % apps.length;

function benchMatcher() {
  const conditions: MatchCondition[] = [
    { id: "bind", eventId: "00-04200", controllerKind: null, scopeKind: "all", scopeValues: [], severity: "critical", cancelEventId: null, cancelControllerKind: null, autoClearSeconds: 3600, description: "", enabled: true },
    { id: "vip", eventId: "00-52029", controllerKind: null, scopeKind: "type", scopeValues: ["sip-server"], severity: "major", cancelEventId: "00-52030", cancelControllerKind: null, autoClearSeconds: null, description: "", enabled: true },
    // 200 more conditions on other ids, so the index is not trivially small.
    ...Array.from({ length: 200 }, (_, i): MatchCondition => ({ id: `c${i}`, eventId: `01-${String(i).padStart(5, "0")}`, controllerKind: null, scopeKind: "applications", scopeValues: ["sip-1"], severity: "minor", cancelEventId: null, cancelControllerKind: null, autoClearSeconds: null, description: "", enabled: true })),
  ];
  const m = new AlarmMatcher(conditions);
  const subjects: Subject[] = apps.map((a, i) => ({ application: a, host: `host-${i % 10}`, pair: `pair-${i >> 1}`, applicationType: "sip-server" }));
  let effects = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < MATCHER_EVENTS; i++) effects += m.logEvent(eventIdAt(i), subjects[appIndexAt(i)]!, "text", i).length;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { events: MATCHER_EVENTS, seconds, perSecond: MATCHER_EVENTS / seconds, effects };
}

async function benchEngine() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-bench-alarms-"));
  const url = `file:${path.join(dir, "bench.db")}`;
  migrateSqlite(url);
  const db = createDb(url);
  const engine = createAlarmEngine({ db, retentionDays: 30, ports: { switchover: null, agents: null } }, { log: { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} } });
  await engine.conditionsChanged(); // built-in conditions created before timing starts
  const time = new Date().toISOString();
  let raised = 0;
  let repeated = 0;
  let cleared = 0;
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < EVENTS; sent += BATCH) {
    const events = Array.from({ length: Math.min(BATCH, EVENTS - sent) }, (_, j) => {
      const i = sent + j;
      return { application: apps[appIndexAt(i)]!, id: eventIdAt(i), text: `event ${i}`, time, level: "standard" };
    });
    const r = await engine.ingestLogEvents(`host-${(sent / BATCH) % 10}`, events);
    raised += r.raised;
    repeated += r.repeated;
    cleared += r.cleared;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await engine.stop();
  await db.$disconnect();
  fs.rmSync(dir, { recursive: true, force: true });
  return { events: EVENTS, seconds, perSecond: EVENTS / seconds, raised, repeated, cleared };
}

async function main() {
  const matcher = benchMatcher();
  const engine = await benchEngine();
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  console.log(`## Alarms (\`bench/alarms\`)

Command: \`npx tsx bench/alarms/run.ts\` (\`EVENTS\`, \`BATCH\`, \`MATCHER_EVENTS\` change the volume).
Run on ${new Date().toISOString()}, ${os.type()} ${os.release()}, ${cpu}, ${os.cpus().length} CPUs, Node.js ${process.version},
machine shared with other work while it ran; one run, expect tens of percent between runs.

Event mix: 80 % ids no condition watches, 10 % \`00-04200\` (raise once per application, then repeats),
5 % \`00-52029\` and 5 % its cancel event \`00-52030\`; 50 applications.

| path | events | seconds | events/s | effects |
|---|---|---|---|---|
| matcher alone (pure, in memory; 202 conditions) | ${fmt(matcher.events)} | ${matcher.seconds.toFixed(2)} | **${fmt(matcher.perSecond)}** | ${fmt(matcher.effects)} raise/repeat/clear |
| engine end to end (SQLite file, batches of ${BATCH}: validate, store, match, persist alarms + audit) | ${fmt(engine.events)} | ${engine.seconds.toFixed(2)} | **${fmt(engine.perSecond)}** | ${fmt(engine.raised)} raised, ${fmt(engine.repeated)} repeats, ${fmt(engine.cleared)} cleared |
`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
