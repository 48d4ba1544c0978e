// The console's environment: the heartbeat profile's variables (the rest is exercised by every test that starts a console).
import { describe, expect, it } from "vitest";
import { parseEnv as parse } from "./env";

const parseEnv = (vars: Record<string, string>) => parse({ NODE_ENV: "test", ...vars } as NodeJS.ProcessEnv);

describe("heartbeat profile (HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_MS)", () => {
  it("defaults to a heartbeat every 500 ms and a host lost after 2000 ms; the fast profile is accepted", () => {
    expect(parseEnv({})).toMatchObject({ HEARTBEAT_INTERVAL_MS: 500, HEARTBEAT_TIMEOUT_MS: 2000 });
    expect(parseEnv({ HEARTBEAT_INTERVAL_MS: "100", HEARTBEAT_TIMEOUT_MS: "600" })).toMatchObject({ HEARTBEAT_INTERVAL_MS: 100, HEARTBEAT_TIMEOUT_MS: 600 });
  });

  it("refuses a timeout shorter than three intervals, and values out of range, naming the variable", () => {
    expect(() => parseEnv({ HEARTBEAT_TIMEOUT_MS: "1000" })).toThrow(
      "HEARTBEAT_TIMEOUT_MS: the heartbeat timeout 1000 ms must be at least 3 heartbeat intervals (1500 ms), so one late heartbeat is not a lost host (HEARTBEAT_INTERVAL_MS is 500)",
    );
    expect(() => parseEnv({ HEARTBEAT_INTERVAL_MS: "10" })).toThrow(/HEARTBEAT_INTERVAL_MS: .*50/);
    expect(() => parseEnv({ HEARTBEAT_TIMEOUT_MS: "100" })).toThrow(/HEARTBEAT_TIMEOUT_MS: .*200/);
  });
});
