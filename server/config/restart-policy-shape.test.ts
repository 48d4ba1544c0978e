// The console's restart policy and startup timeout (config.schema.ts) must accept exactly what the
// agents accept (protocol/agent-wire.ts), or a saved policy would be refused on the wire: the same
// boundary values go through both schemas and must get the same answer.
import { describe, expect, it } from "vitest";
import { applicationConfigSchema, DEFAULT_RESTART_POLICY, restartPolicySchema } from "../../protocol/agent-wire";
import { defaultRestartPolicy, restartPolicyShapeSchema, startupTimeoutMsSchema } from "./config.schema";

const probes: Record<keyof typeof DEFAULT_RESTART_POLICY, number[]> = {
  enabled: [],
  maxRestarts: [-1, 0, 1, 100, 101, 2.5],
  restartWindowMs: [999, 1000, 86_400_000, 86_400_001],
  restartDelayMs: [-1, 0, 600_000, 600_001],
  restartDelayMaxMs: [-1, 0, 3_600_000, 3_600_001],
  backoffMultiplier: [0.99, 1, 1.5, 10, 10.01],
};

describe("restart policy bounds: console = wire", () => {
  it("the default is the wire's default (on: 5 restarts in 10 min, 1 s doubling to 60 s)", () => {
    expect(defaultRestartPolicy).toEqual(DEFAULT_RESTART_POLICY);
    expect(defaultRestartPolicy).toEqual({ enabled: true, maxRestarts: 5, restartWindowMs: 600_000, restartDelayMs: 1000, restartDelayMaxMs: 60_000, backoffMultiplier: 2 });
  });

  for (const [field, values] of Object.entries(probes)) {
    for (const value of values) {
      it(`${field}=${value}`, () => {
        const policy = { ...DEFAULT_RESTART_POLICY, [field]: value };
        expect(restartPolicyShapeSchema.safeParse(policy).success).toBe(restartPolicySchema.safeParse(policy).success);
      });
    }
  }

  it("startupTimeoutMs", () => {
    const app = (startupTimeoutMs: number) => ({ name: "a", type: "sip-server", start: { command: "x" }, pair: null, startupTimeoutMs });
    for (const v of [999, 1000, 3_600_000, 3_600_001, 1500.5]) {
      expect(startupTimeoutMsSchema.safeParse(v).success).toBe(applicationConfigSchema.safeParse(app(v)).success);
    }
  });
});
