// The monitoring examples in docs/monitoring/ stay true: every metric the alert rules and the Grafana
// dashboard name is one the console (ConsoleMetrics) or an agent (AgentMetrics) exports, and with
// Prometheus's promtool (Debian: prometheus, installed by the pre-test step) the rules load, their unit
// tests pass and the example prometheus.yml is a valid configuration.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConsoleMetrics } from "./metrics";
import { AgentMetrics } from "../../agent/metrics";
import type { Db } from "../db";
import type { ControlPlane } from "../control-plane/control-plane";
import { promtool } from "../../harness/prometheus-text";

const DIR = path.resolve(__dirname, "../../docs/monitoring");
const rulesText = fs.readFileSync(path.join(DIR, "prometheus-alerts.yml"), "utf8");
const dashboard = JSON.parse(fs.readFileSync(path.join(DIR, "grafana-dashboard.json"), "utf8")) as { panels: { targets?: { expr: string }[] }[]; templating: { list: { definition?: string }[] }; annotations: { list: { expr?: string }[] } };

function exported(): Set<string> {
  const consoleMetrics = new ConsoleMetrics({ db: {} as Db, controlPlane: {} as ControlPlane, version: "test" });
  const agentMetrics = new AgentMetrics({ connectionState: () => "connected", applications: () => [] }, "test", "h");
  const names = new Set<string>(["up"]);
  for (const m of [...consoleMetrics.registry.getMetricsAsArray(), ...agentMetrics.registry.getMetricsAsArray()]) {
    const { name, type } = m as unknown as { name: string; type: string };
    names.add(name);
    if (type === "histogram") for (const suffix of ["_bucket", "_count", "_sum"]) names.add(`${name}${suffix}`);
  }
  return names;
}

/** Metric names in a PromQL expression (identifiers followed by `{`, `[`, `)` or a space, not functions or labels). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:switchyard|nodejs|process)_[a-z0-9_]+|up)\b(?=\s*[{[)\s]|$)/g)].map((m) => m[1]!);
}

describe("docs/monitoring", () => {
  it("every metric the alert rules and the Grafana dashboard use is exported by the console or an agent", () => {
    const names = exported();
    const rules = (parse(rulesText) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(10);
    const exprs = [
      ...rules.map((r) => [r.alert, r.expr] as const),
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ["dashboard", t.expr] as const)),
      ...dashboard.templating.list.map((v) => ["dashboard variable", v.definition ?? ""] as const),
      ...dashboard.annotations.list.map((a) => ["dashboard annotation", a.expr ?? ""] as const),
    ];
    const unknown = exprs.flatMap(([where, expr]) => metricNames(expr).filter((n) => !names.has(n)).map((n) => `${where}: ${n}`));
    expect(unknown).toEqual([]);
    expect(exprs.flatMap(([, e]) => metricNames(e)).length).toBeGreaterThan(30);
  });

  it("promtool: the rules load, their unit tests pass, the example prometheus.yml is valid", () => {
    expect(promtool(), "promtool is not installed: apt-get install -y prometheus (npm test's pre-test step does it as root)").not.toBeNull();
    const run = (args: string[], cwd = DIR) => spawnSync("promtool", args, { cwd, encoding: "utf8" });
    const check = run(["check", "rules", "prometheus-alerts.yml"]);
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const tests = run(["test", "rules", "prometheus-alerts.test.yml"]);
    expect(tests.status, tests.stdout + tests.stderr).toBe(0);
    // check config opens the token file it names: a copy points at a scratch one.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-prom-"));
    try {
      fs.writeFileSync(path.join(dir, "token"), "syt_example");
      fs.copyFileSync(path.join(DIR, "prometheus-alerts.yml"), path.join(dir, "prometheus-alerts.yml"));
      fs.writeFileSync(path.join(dir, "prometheus.yml"), fs.readFileSync(path.join(DIR, "prometheus.yml"), "utf8").replace("/etc/prometheus/switchyard-console.token", path.join(dir, "token")));
      const config = run(["check", "config", "prometheus.yml"], dir);
      expect(config.status, config.stdout + config.stderr).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
