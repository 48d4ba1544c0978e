// The demo lab's VIP driver: no real addresses, VIP presence per pair and host kept in small JSON
// files (one per pair and host, so several agents on one machine never write the same file) that the
// lab and tests can read.
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { ControlAction, ControlDriver, DriverContext, DriverRun, Presence } from "./types";
import { labVipFile } from "../../protocol/lab-vip";

export { labVipFile };

export function createLabDriver(ctx: DriverContext): ControlDriver {
  const d = ctx.pair.driver;
  if (d.kind !== "lab") throw new Error(`lab driver given a ${d.kind} pair`);
  const file = labVipFile(d.stateDir ?? path.join(ctx.stateDir, "lab-vip"), ctx.pair.name, ctx.hostName);

  function read(): boolean {
    try {
      return (JSON.parse(fs.readFileSync(file, "utf8")) as { present?: unknown }).present === true;
    } catch {
      return false; // no file yet: the VIP was never enabled here
    }
  }

  return {
    kind: "lab",
    async presence(): Promise<Presence> {
      const present = read();
      return { present, address: d.vip, detail: `lab VIP file ${file} says ${present ? "present" : "absent"}` };
    },
    async run(action: ControlAction): Promise<DriverRun> {
      const started = performance.now();
      const present = action === "enable";
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(`${file}.tmp`, JSON.stringify({ present, vip: d.vip, host: ctx.hostName, updatedAt: new Date().toISOString() }));
      fs.renameSync(`${file}.tmp`, file);
      const text = `lab VIP ${d.vip} ${present ? "enabled" : "disabled"} on ${ctx.hostName}`;
      return {
        ok: read() === present,
        summary: text,
        present: read(),
        steps: [{ argv: ["lab", action, d.vip], driver: "lab", ok: true, exitCode: 0, stdout: text, stderr: "", durationMs: performance.now() - started, timedOut: false }],
      };
    },
  };
}
