// Picks the control-script driver a pair is configured with (linux-ip, nlb, command, none, lab).
import type { ControlDriver, DriverContext } from "./types";
import { createLinuxIpDriver } from "./linux-ip";
import { createTemplateDriver } from "./template-driver";
import { createLabDriver } from "./lab";

export type { ControlDriver, DriverContext, DriverRun, ControlAction, Presence } from "./types";

const noneDriver: ControlDriver = {
  kind: "none",
  async presence() {
    return { present: null, address: "", detail: "single-host pair: no VIP to observe" };
  },
  async run(action) {
    return { ok: true, summary: `no control script for this pair (single-host); ${action} is a no-op`, steps: [], present: null };
  },
};

export function createDriver(ctx: DriverContext): ControlDriver {
  switch (ctx.pair.driver.kind) {
    case "linux-ip":
      return createLinuxIpDriver(ctx);
    case "nlb":
    case "command":
      return createTemplateDriver(ctx);
    case "lab":
      return createLabDriver(ctx);
    case "none":
      return noneDriver;
  }
}

/** Configuration problems this host can see before anything runs (e.g. linux-ip on Windows). */
export function driverProblems(ctx: DriverContext): string[] {
  if (ctx.pair.driver.kind === "linux-ip" && process.platform !== "linux") {
    return [`pair ${ctx.pair.name}: the linux-ip driver needs Linux, this host runs ${process.platform}`];
  }
  return [];
}
