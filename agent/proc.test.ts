// The PID-reuse guard: a recorded process is the same one only when pid, start time and boot id match.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { identityOf, livenessOf, parseProcStat, type ProcStat } from "./proc";

const statLine = (comm: string, state: string, start: number) => `4242 (${comm}) ${state} 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 ${start} 1000 200 18446744073709551615`;

describe("process identity", () => {
  it("reads state and start time after the last parenthesis, whatever the command name holds", () => {
    expect(parseProcStat(statLine("sip) (server x", "S", 987654))).toEqual({ state: "S", startTimeTicks: 987654 });
    expect(parseProcStat("garbage")).toBeNull();
  });

  it("tells a reused pid from the recorded process by its start time", () => {
    const recorded = { pid: 4242, startTimeTicks: 1000, bootId: "boot-a" };
    const reader = (stat: ProcStat | null) => () => stat;
    expect(livenessOf(recorded, reader({ state: "S", startTimeTicks: 1000 }), "boot-a")).toBe("alive");
    expect(livenessOf(recorded, reader({ state: "S", startTimeTicks: 5555 }), "boot-a")).toBe("gone");
    expect(livenessOf(recorded, reader(null), "boot-a")).toBe("gone");
    // After a reboot the same pid and tick count mean nothing.
    expect(livenessOf(recorded, reader({ state: "S", startTimeTicks: 1000 }), "boot-b")).toBe("gone");
    // A zombie has exited; only its parent has not collected it yet.
    expect(livenessOf(recorded, reader({ state: "Z", startTimeTicks: 1000 }), "boot-a")).toBe("gone");
    // Without a recorded start time it cannot be told.
    expect(livenessOf({ ...recorded, startTimeTicks: null }, reader({ state: "S", startTimeTicks: 1000 }), "boot-a")).toBe("unknown");
  });

  it("recognises a live process and forgets an exited one (Linux /proc)", () => {
    const me = identityOf(process.pid);
    expect(me.startTimeTicks).not.toBeNull();
    expect(livenessOf(me)).toBe("alive");
    const child = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    const gone = { pid: Number(child.stdout.trim()), startTimeTicks: me.startTimeTicks, bootId: me.bootId };
    expect(livenessOf(gone)).toBe("gone");
  });
});
