// The leader's duties (guided upgrades, scheduled switchovers) follow the console's role: started when
// it leads, stopped when it steps down alive, one change after the other.
import { describe, expect, it } from "vitest";
import { LeaderDuties, type LeaderDuty } from "./leader-duties";

const quiet = { info: () => {}, debug: () => {}, warn: () => {}, error: () => {} };

function recorder() {
  const events: string[] = [];
  let releaseStart: (() => void) | null = null;
  const duty = (name: string, slowStart = false): LeaderDuty => ({
    name,
    start: async () => {
      events.push(`${name} starting`);
      if (slowStart) await new Promise<void>((r) => (releaseStart = r));
      events.push(`${name} started`);
    },
    stop: async () => void events.push(`${name} stopped`),
  });
  return { events, duty, release: () => releaseStart?.() };
}

describe("the leader's duties follow this console's role", () => {
  it("start when it leads, stop (in reverse order) when it steps down alive, start again when it leads again; repeated notices change nothing", async () => {
    const r = recorder();
    const lines: string[] = [];
    const duties = new LeaderDuties([r.duty("upgrades"), r.duty("schedules")], { ...quiet, info: (line: string) => void lines.push(line) });
    duties.follow("follower");
    await duties.settled();
    expect(r.events).toEqual([]);
    duties.follow("leader");
    duties.follow("leader");
    await duties.settled();
    duties.follow("follower");
    duties.follow("follower");
    await duties.settled();
    duties.follow("leader");
    await duties.settled();
    expect(r.events).toEqual([
      "upgrades starting", "upgrades started", "schedules starting", "schedules started",
      "schedules stopped", "upgrades stopped",
      "upgrades starting", "upgrades started", "schedules starting", "schedules started",
    ]);
    expect(lines).toEqual(["this console stepped down: guided upgrades and scheduled switchovers are left to the leading console"]);
    await duties.close();
    expect(r.events.slice(-2)).toEqual(["schedules stopped", "upgrades stopped"]);
  });

  it("a step down while the duties are still starting stops them once started, never before (no duty left running, none stopped half-started)", async () => {
    const r = recorder();
    const duties = new LeaderDuties([r.duty("upgrades", true)], quiet);
    duties.follow("leader");
    await new Promise((resolve) => setTimeout(resolve, 10));
    duties.follow("follower");
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(r.events).toEqual(["upgrades starting"]);
    r.release();
    await duties.settled();
    expect(r.events).toEqual(["upgrades starting", "upgrades started", "upgrades stopped"]);
  });

  it("a duty that fails to start is logged and the others still start", async () => {
    const r = recorder();
    const errors: string[] = [];
    const failing: LeaderDuty = { name: "upgrades", start: async () => Promise.reject(new Error("database gone")), stop: async () => undefined };
    const duties = new LeaderDuties([failing, r.duty("schedules")], { ...quiet, error: (line: string, f?: Record<string, unknown>) => void errors.push(`${line}: ${String(f?.error)}`) });
    duties.follow("leader");
    await duties.settled();
    expect(errors).toEqual(["starting the leader's upgrades failed: Error: database gone"]);
    expect(r.events).toEqual(["schedules starting", "schedules started"]);
  });
});
