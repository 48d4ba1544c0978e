// Drivers that run operator-given command templates: `nlb` (Windows NLB: enable/disable the VIP port,
// nlb.exe or PowerShell) and `command` (anything). Templates become argv without a shell.
import type { ControlDriverConfig, ScriptRun } from "../../protocol/agent-wire";
import { runArgv } from "../run-script";
import { renderTemplate, type TemplateValues } from "../template";
import type { ControlAction, ControlDriver, DriverContext, DriverRun, Presence } from "./types";

function failedStep(driver: string, message: string): ScriptRun {
  return { argv: [], driver, ok: false, exitCode: null, stdout: "", stderr: message, durationMs: 0, timedOut: false };
}

export function createTemplateDriver(ctx: DriverContext): ControlDriver {
  const given = ctx.pair.driver;
  if (given.kind !== "nlb" && given.kind !== "command") throw new Error(`template driver given a ${given.kind} pair`);
  const d: Extract<ControlDriverConfig, { kind: "nlb" | "command" }> = given;
  const values: TemplateValues = {
    vip: d.vip,
    port: String(d.port),
    cluster: d.cluster,
    host: ctx.hostName,
    application: ctx.application,
    pair: ctx.pair.name,
    ...(d.kind === "command" ? { prefix: String(d.prefix), interface: d.interface } : {}),
  };
  const address = d.kind === "nlb" ? `${d.vip}:${d.port}` : d.vip;
  // Without a presence template the last successful action is what a script run reports as its
  // outcome; it is not an observation, so presence() says null then.
  let lastKnown: boolean | null = null;

  async function runTemplate(template: string, timeoutMs: number): Promise<ScriptRun> {
    let argv: string[];
    try {
      argv = renderTemplate(template, values);
    } catch (err) {
      return failedStep(d.kind, `template not run: ${err instanceof Error ? err.message : String(err)}`);
    }
    return runArgv(argv, { timeoutMs, driver: d.kind });
  }

  async function presence(timeoutMs: number): Promise<Presence> {
    if (!d.presence) return { present: null, address, detail: "no presence template configured, so presence cannot be observed" };
    const step = await runTemplate(d.presence, timeoutMs);
    if (step.timedOut || step.exitCode === null) {
      return { present: null, address, detail: `presence check failed: ${step.timedOut ? `killed after ${timeoutMs} ms` : step.stderr.trim().slice(0, 300)}` };
    }
    return { present: step.exitCode === 0, address, detail: `presence check exited ${step.exitCode}` };
  }

  return {
    kind: d.kind,
    presence,
    async run(action: ControlAction, timeoutMs: number): Promise<DriverRun> {
      const step = await runTemplate(action === "enable" ? d.enable : d.disable, timeoutMs);
      if (step.ok) lastKnown = action === "enable";
      const present = d.presence ? (await presence(timeoutMs)).present : lastKnown;
      const what = d.kind === "nlb" ? `NLB port ${address}` : `control script for ${address || ctx.pair.name}`;
      const summary = step.ok
        ? `${what}: ${action} succeeded on ${ctx.hostName} in ${step.durationMs} ms`
        : `${what}: ${action} failed on ${ctx.hostName} (${step.timedOut ? `killed after ${timeoutMs} ms` : `exit code ${step.exitCode}`})${step.stderr ? `: ${step.stderr.trim().slice(0, 300)}` : ""}`;
      return { ok: step.ok, summary, steps: [step], present };
    },
  };
}
