// Configuration file options → typed settings (W6 devices, W12 batch size range).
import { describe, expect, it } from "vitest";
import { settingsFromConfig, simEnvSchema, SettingsError } from "./settings";
import { simConfig } from "./testing";

const env = simEnvSchema.parse({});

describe("simulator settings", () => {
  it("W12 ha-max-calls-sync-at-once outside 200-1000 falls back to 500 with a warning; the pause defaults to 1 s", () => {
    const ok = settingsFromConfig(simConfig({ name: "s", sipPort: 5060, httpPort: 8080, initialRole: "primary", options: { "ha-max-calls-sync-at-once": "400" } }), env);
    expect(ok.haSyncBatchSize).toBe(400);
    expect(ok.haSyncPauseMs).toBe(1000);
    const bad = settingsFromConfig(simConfig({ name: "s", sipPort: 5060, httpPort: 8080, initialRole: "primary", options: { "ha-max-calls-sync-at-once": "150" } }), env);
    expect(bad.haSyncBatchSize).toBe(500);
    expect(bad.warnings).toEqual(['option ha-max-calls-sync-at-once="150" is outside 200-1000; using 500']);
  });

  it("W6 only DNs with oos-check > 0 are Active-OOS devices", () => {
    const settings = settingsFromConfig(
      simConfig({
        name: "s",
        sipPort: 5060,
        httpPort: 8080,
        initialRole: "primary",
        options: { "sip-pass-check": "true" },
        dns: { gw1: { "oos-check": "10", "oos-force": "2", contact: "sip:gw1@127.0.0.1:5090" }, agent1: { "oos-check": "0" } },
      }),
      env,
    );
    expect(settings.sipPassCheck).toBe(true);
    expect(settings.oosDevices).toEqual([{ dn: "gw1", oosCheckSec: 10, oosForceSec: 2 }]);
    expect(settings.oosContacts).toEqual({ gw1: "sip:gw1@127.0.0.1:5090" });
  });

  it("refuses a configuration without a valid http-port, naming option and value", () => {
    const config = simConfig({ name: "s", sipPort: 5060, httpPort: 8080, initialRole: "primary" });
    config.options["http-port"] = "http";
    expect(() => settingsFromConfig(config, env)).toThrow(SettingsError);
    expect(() => settingsFromConfig(config, env)).toThrow('option http-port="http" must be a port number 1-65535');
  });

  it("W13 readiness settle time is the real 60 s unless the lab knob SWITCHYARD_LAB_READINESS_SETTLE_MS shortens it", () => {
    const config = simConfig({ name: "s", sipPort: 5060, httpPort: 8080, initialRole: "primary" });
    expect(settingsFromConfig(config, env).readinessSettleMs).toBe(60_000);
    expect(settingsFromConfig(config, simEnvSchema.parse({ SWITCHYARD_LAB_READINESS_SETTLE_MS: "1500" })).readinessSettleMs).toBe(1500);
  });
});
