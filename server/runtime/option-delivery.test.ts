// Configured against running values: each difference gets the reason the catalogue's "takes effect"
// gives it, and a failed delivery is named in "not delivered".
import { describe, expect, it } from "vitest";
import { compareOptions, NO_REPORT, RESTART_NEEDED, WAITS_FOR_HA_LINK } from "./option-delivery";
import type { RunningConfig } from "../../protocol/app-contract";

const opt = (name: string, value: string, dn = "") => ({ dn, section: "TServer", name, value });
const running = (options: Record<string, string>, dns: Record<string, Record<string, string>> = {}): RunningConfig => ({ configRevision: "r2", version: "1.0.0-sim", options, dns });

describe("compareOptions", () => {
  it("same values are in effect; every catalogue option has a row, defaults apply where nothing is set", () => {
    const r = compareOptions([opt("http-port", "8080"), opt("sip-pass-check", "true")], running({ "http-port": "8080", "sip-pass-check": "true" }), null);
    expect(r.differences).toBe(0);
    expect(r.options.find((o) => o.name === "sip-pass-check")).toMatchObject({ configured: "true", running: "true", state: "in-effect", why: "in effect" });
    expect(r.options.find((o) => o.name === "ha-max-calls-sync-at-once")).toMatchObject({ configured: null, running: null, default: "500", state: "in-effect" });
  });

  it("an after-restart option that differs: restart needed", () => {
    const r = compareOptions([opt("backup-sip-port-check", "true")], running({}), null);
    expect(r.options.find((o) => o.name === "backup-sip-port-check")).toMatchObject({ configured: "true", running: null, state: "restart-needed", why: RESTART_NEEDED });
    expect(r.differences).toBe(1);
  });

  it("ha-max-calls-sync-at-once that differs waits for the HA link", () => {
    const r = compareOptions([opt("ha-max-calls-sync-at-once", "200")], running({ "ha-max-calls-sync-at-once": "500" }), null);
    expect(r.options[0]).toMatchObject({ name: "ha-max-calls-sync-at-once", configured: "200", running: "500", state: "waits-for-ha-link", why: WAITS_FOR_HA_LINK });
  });

  it("an immediate option, a DN option or an unknown option that differs was not delivered, saying why when the delivery failed", () => {
    const failed = { application: "a", revision: "r3", outcome: "failed" as const, detail: "POST /switchyard/v1/reload answered 400", time: "2024-01-01T00:00:00Z" };
    const r = compareOptions([opt("sip-pass-check", "true"), opt("oos-check", "5", "7001"), opt("my-site-option", "1")], running({ "sip-pass-check": "false" }, { "7001": { "oos-check": "10" } }), failed);
    expect(r.options.find((o) => o.name === "sip-pass-check")).toMatchObject({ state: "not-delivered", why: "not delivered: the last delivery (revision r3) failed: POST /switchyard/v1/reload answered 400" });
    expect(r.options.find((o) => o.name === "my-site-option")).toMatchObject({ configured: "1", running: null, default: null, takesEffect: null, state: "not-delivered" });
    expect(r.dns).toEqual([{ dn: "7001", options: expect.arrayContaining([expect.objectContaining({ name: "oos-check", configured: "5", running: "10", state: "not-delivered" })]) }]);
    expect(r.differences).toBe(3);
  });

  it("an option the server runs with but the console no longer stores is a difference too", () => {
    const r = compareOptions([], running({ "sip-pass-check": "true" }), null);
    expect(r.options.find((o) => o.name === "sip-pass-check")).toMatchObject({ configured: null, running: "true", state: "not-delivered" });
  });

  it("without a report from the server nothing is compared", () => {
    const r = compareOptions([opt("sip-pass-check", "true")], null, null);
    expect(r.options.every((o) => o.state === "no-report" && o.why === NO_REPORT)).toBe(true);
    expect(r.differences).toBe(0);
  });
});
