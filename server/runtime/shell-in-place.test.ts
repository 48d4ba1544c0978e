// The shell steps the core in place (stepInPlace): what it reports about a step must still be what the
// step changed — plan endings (for /metrics) and what to persist — for the pair the event concerns.
import { describe, expect, it } from "vitest";
import { Directory } from "../config/directory";
import type { PairConfig } from "../controller/core";
import { testPair } from "../controller/test-pairs";
import { ControllerShell } from "./shell";

const pair: PairConfig = testPair({ id: "p1", failoverHoldMs: 0, apps: ["s1", "s2"], hosts: ["h1", "h2"] });
const other: PairConfig = { ...pair, id: "p2", name: "p2", apps: [{ ...pair.apps[0], appId: "s3", appName: "s3", hostId: "h3", hostName: "h3" }, { ...pair.apps[1], appId: "s4", appName: "s4", hostId: "h4", hostName: "h4" }] };
const directory = new Directory({
  hosts: ["h1", "h2", "h3", "h4"].map((h) => ({ id: h, name: h })),
  apps: ["s1", "s2", "s3", "s4"].map((s, i) => ({ id: s, name: s, type: "sip-server", hostId: `h${i + 1}`, hostName: `h${i + 1}` })),
  pairs: [pair, other].map((p) => ({ id: p.id, name: p.name, appIds: p.apps.map((a) => a.appId) })),
});

describe("the shell with the in-place step", () => {
  it("W2: a crash's failover plan, once done, is reported as ended (completed); only the crashed pair is persisted", () => {
    const shell = new ControllerShell({ pairs: [pair, other], directory, persisted: {}, nowMs: 0 });
    let t = 0;
    let stamp = 0;
    const time = () => new Date(++stamp).toISOString();
    for (const h of ["h1", "h2", "h3", "h4"]) shell.handle({ kind: "host-connected", hostName: h }, t);
    for (const [i, s] of ["s1", "s2", "s3", "s4"].entries()) {
      const hostName = `h${i + 1}`;
      shell.handle({ kind: "app-status", hostName, msg: { application: s, status: "running", previous: null, detail: "", pid: 1, exitCode: null, signal: null, time: time(), restart: null, lastOutput: "" } }, t);
      shell.handle({ kind: "role-report", hostName, msg: { application: s, role: i % 2 ? "backup" : "primary", epoch: 0, time: time() } }, t);
    }
    t = shell.state.timing.recoveryGraceMs + 1_000;
    shell.handle({ kind: "tick" }, t);
    for (const p of ["p1", "p2"]) shell.confirmPersisted({ [p]: { epoch: shell.state.pairStates[p]!.epoch, intendedPrimaryAppId: shell.state.pairStates[p]!.intendedPrimaryAppId, stoppedAppIds: [], maintenance: null } });

    const crash = shell.handle({ kind: "app-status", hostName: "h1", msg: { application: "s1", status: "failed", previous: "running", detail: "killed", pid: null, exitCode: null, signal: "SIGKILL", time: time(), restart: null, lastOutput: "" } }, t + 10);
    expect(Object.keys(crash.persist?.pairs ?? {})).toEqual(["p1"]);
    expect(crash.persist?.pairs["p1"]?.epoch).toBe(1);
    const promote = crash.send.find((c) => c.command.type === "set-role")!;
    const disable = crash.send.find((c) => c.command.type === "run-control-script")!;
    shell.confirmPersisted(crash.persist!.pairs);
    const results: ReturnType<ControllerShell["handle"]>[] = [];
    for (const [hostName, cmd] of [["h2", promote], ["h1", disable]] as const) {
      results.push(shell.handle({ kind: "command-result", hostName, result: { commandId: cmd.command.id, type: cmd.command.type, application: cmd.appId, pairEpoch: 1, outcome: "ok", reason: "done", finishedAt: time(), scripts: [], heldEpoch: null } as never }, t + 20));
    }
    const enable = results.flatMap((r) => r.send).find((c) => c.command.type === "run-control-script" && c.hostName === "h2")!;
    const last = shell.handle({ kind: "command-result", hostName: "h2", result: { commandId: enable.command.id, type: "run-control-script", application: "s2", pairEpoch: 1, outcome: "ok", reason: "done", finishedAt: time(), scripts: [], heldEpoch: null } as never }, t + 30);
    const ends = [...results, last].flatMap((r) => r.planEnds);
    expect(ends).toEqual([expect.objectContaining({ pairId: "p1", outcome: "completed", cause: "primary-failed", epoch: 1 })]);
  });
});
