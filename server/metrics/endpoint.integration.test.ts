// /metrics on a port of its own (METRICS_PORT) and open (METRICS_AUTH=none): the web port no longer
// serves it, the metrics port serves nothing else. The lab test (cli/ecosystem.integration.test.ts)
// checks the values; this one the wiring.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startHostileConsole, type HostileConsole } from "../security/hostile-support";
import { parseMetrics, sample } from "../../harness/prometheus-text";

let c: HostileConsole;

beforeAll(async () => {
  c = await startHostileConsole({ METRICS_PORT: "0", METRICS_AUTH: "none" });
});
afterAll(async () => {
  await c?.close();
});

it("METRICS_PORT serves /metrics alone, open with METRICS_AUTH=none; the web port then does not", async () => {
  expect(c.running.metricsUrl).not.toContain(c.running.url);
  const res = await fetch(c.running.metricsUrl);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const m = parseMetrics(await res.text());
  expect(sample(m, "switchyard_build_info", { version: "0.1.0" })).toBe(1);
  expect(sample(m, "switchyard_alarms_active", { severity: "critical" })).toBe(0);
  expect(sample(m, "switchyard_control_plane_up")).toBe(1);
  const elsewhere = await fetch(c.running.metricsUrl.replace(/\/metrics$/, "/api/v1/status"));
  expect(elsewhere.status).toBe(404);
  expect((await fetch(`${c.running.url}/metrics`)).status).toBe(404);
  // #13.9: this port's answers carry the web port's security headers.
  for (const r of [res, elsewhere]) {
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
    expect(r.headers.get("referrer-policy")).toBe("same-origin");
  }
});
