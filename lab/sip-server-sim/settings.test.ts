// Configuration file options → typed settings (W6 devices, W12 batch size range).
import { describe, expect, it } from "vitest";
import { settingsFromConfig, simEnvSchema, SettingsError, withInstalledVersion } from "./settings";
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

  it("SWITCHYARD_LAB_SIP_LISTEN_ADDRESS replaces the configured listen address (an NLB cluster address local on every host)", () => {
    const base = { name: "s", sipPort: 5062, httpPort: 8080, initialRole: "backup" as const, sipAddress: "10.213.0.1" };
    const wildcard = settingsFromConfig(simConfig(base), { ...env, SWITCHYARD_LAB_SIP_LISTEN_ADDRESS: "0.0.0.0" });
    expect(wildcard).toMatchObject({ sipListenAddress: "0.0.0.0", listensOnVip: false });
    expect(() => simEnvSchema.parse({ SWITCHYARD_LAB_SIP_LISTEN_ADDRESS: "cluster" })).toThrow();
  });

  it("a listen address other than the host's own (and not a wildcard) is a VIP held while primary; it must be an IP address", () => {
    const base = { name: "s", sipPort: 5060, httpPort: 8080, initialRole: "primary" as const, sipAddress: "127.0.1.2" };
    const vip = settingsFromConfig(simConfig({ ...base, sipListenAddress: "127.0.10.100" }), env);
    expect(vip).toMatchObject({ listensOnVip: true, sipListenAddress: "127.0.10.100", sipAdvertisedAddress: "127.0.10.100", vipBindWaitMs: 10_000 });
    expect(settingsFromConfig(simConfig(base), env).listensOnVip).toBe(false);
    expect(settingsFromConfig(simConfig({ ...base, sipListenAddress: "0.0.0.0", sipAdvertisedAddress: "127.0.1.2" }), env).listensOnVip).toBe(false);
    expect(() => settingsFromConfig(simConfig({ ...base, sipListenAddress: "vip.example" }), env)).toThrow(
      'sipListenAddress "vip.example" must be an IPv4 or IPv6 address (the SIP listener binds it)',
    );
  });

  it("the version reported is the lab's default unless SWITCHYARD_LAB_VERSION says (a rolling upgrade changes it)", () => {
    const config = simConfig({ name: "s", sipPort: 5060, httpPort: 8080, initialRole: "primary" });
    expect(settingsFromConfig(config, env).version).toBe("1.0.0-sim");
    expect(settingsFromConfig(config, simEnvSchema.parse({ SWITCHYARD_LAB_VERSION: "8.1.103.64" })).version).toBe("8.1.103.64");
    expect(simEnvSchema.safeParse({ SWITCHYARD_LAB_VERSION: "x".repeat(65) }).success).toBe(false);
  });

  it("W14 the version installed in the lab's version directory is the one a (re)started server reports", () => {
    const files: Record<string, string> = { "/lab/versions/sip-a2": "1.1.0-sim\n", "/lab/versions/bad": "two words" };
    const read = (p: string) => files[p] ?? null;
    const dirEnv = simEnvSchema.parse({ SWITCHYARD_LAB_VERSION_DIR: "/lab/versions" });
    expect(withInstalledVersion(dirEnv, "sip-a2", read).SWITCHYARD_LAB_VERSION).toBe("1.1.0-sim");
    expect(withInstalledVersion(dirEnv, "sip-a1", read).SWITCHYARD_LAB_VERSION).toBe("1.0.0-sim");
    expect(withInstalledVersion(env, "sip-a2", read)).toBe(env);
    expect(() => withInstalledVersion(dirEnv, "bad", read)).toThrow("installed version file /lab/versions/bad: must be 1–64 characters without spaces");
  });

  it("W13 readiness settle time is the real 60 s unless the lab knob SWITCHYARD_LAB_READINESS_SETTLE_MS shortens it", () => {
    const config = simConfig({ name: "s", sipPort: 5060, httpPort: 8080, initialRole: "primary" });
    expect(settingsFromConfig(config, env).readinessSettleMs).toBe(60_000);
    expect(settingsFromConfig(config, simEnvSchema.parse({ SWITCHYARD_LAB_READINESS_SETTLE_MS: "1500" })).readinessSettleMs).toBe(1500);
  });
});
