// The monitoring examples in docs/monitoring/ stay true: every metric the alert rules, the Grafana
// dashboard and the READMEs name is one the console (ConsoleMetrics) or an agent (AgentMetrics)
// exports; counters are read only through rate()/increase() (each console counts its own); and with
// Prometheus's promtool (Debian: prometheus, installed by the pre-test step) the rules load, their unit
// tests pass, the example prometheus.yml is a valid configuration, and the dashboard's stat panels
// count a pair, host or alarm once when two consoles report it.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ConsoleMetrics } from "./metrics";
import { AgentMetrics } from "../../agent/metrics";
import type { Db } from "../db";
import type { ControlPlane } from "../control-plane/control-plane";
import { promtool } from "../../harness/prometheus-text";

const DIR = path.resolve(__dirname, "../../docs/monitoring");
const rulesText = fs.readFileSync(path.join(DIR, "prometheus-alerts.yml"), "utf8");
const dashboard = JSON.parse(fs.readFileSync(path.join(DIR, "grafana-dashboard.json"), "utf8")) as { panels: { targets?: { expr: string }[] }[]; templating: { list: { definition?: string }[] }; annotations: { list: { expr?: string }[] } };

/** Every series name the console and an agent export, with its type (a histogram's _bucket, _count and _sum as "histogram"). */
function exportedTypes(): Map<string, string> {
  const consoleMetrics = new ConsoleMetrics({ db: {} as Db, controlPlane: {} as ControlPlane, version: "test" });
  const agentMetrics = new AgentMetrics({ connectionState: () => "connected", applications: () => [] }, "test", "h");
  const types = new Map<string, string>([["up", "gauge"]]);
  for (const m of [...consoleMetrics.registry.getMetricsAsArray(), ...agentMetrics.registry.getMetricsAsArray()]) {
    const { name, type } = m as unknown as { name: string; type: string };
    types.set(name, type);
    if (type === "histogram") for (const suffix of ["_bucket", "_count", "_sum"]) types.set(`${name}${suffix}`, type);
  }
  return types;
}

function exported(): Set<string> {
  return new Set(exportedTypes().keys());
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

  it("every metric the README and agent/README name is exported (`a_{b,c}_d` read as a_b_d and a_c_d; `a{label}` as a)", () => {
    const names = exported();
    const root = path.resolve(__dirname, "../..");
    const text = ["README.md", "agent/README.md"].map((f) => fs.readFileSync(path.join(root, f), "utf8")).join("\n");
    const expanded = text.replace(/\b((?:switchyard|nodejs|process)_[a-z0-9_]*)\{([a-z0-9_]+,[a-z0-9_,]+)\}(_[a-z0-9_]+)/g, (_m, head: string, alts: string, tail: string) => alts.split(",").map((a) => `${head}${a}${tail}`).join(" "));
    const named = new Set([...expanded.matchAll(/\b(switchyard_[a-z0-9_]*[a-z0-9])\b/g)].map((m) => m[1]!));
    expect(named.size).toBeGreaterThan(25);
    expect([...named].filter((n) => !names.has(n))).toEqual([]);
  });

  it("counters and histograms appear only inside rate() or increase(): each console counts its own, so a raw value drops at a restart or takeover", () => {
    const rules = (parse(rulesText) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
    const exprs = [...rules.map((r) => r.expr), ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))];
    const counters = [...exportedTypes()].filter(([n, type]) => type === "counter" || (type === "histogram" && /_(bucket|count|sum)$/.test(n))).map(([n]) => n);
    expect(counters).toContain("switchyard_failovers_total");
    // A counter's selector and its range, e.g. `switchyard_failovers_total{…}[10m]`, must sit directly in rate( or increase(.
    const raw = exprs.flatMap((e) =>
      counters.flatMap((c) => [...e.matchAll(new RegExp(`(\\w*)\\(?\\s*\\b${c}\\b(\\{[^}]*\\})?(\\[[^\\]]+\\])?`, "g"))].filter((m) => !m[3] || !["rate", "increase", "irate"].includes(m[1]!)).map(() => `${c} in ${e}`)),
    );
    expect(raw).toEqual([]);
  });

  it("promtool: with two consoles reporting the same state, the dashboard's stat panels count each pair, host and alarm once", () => {
    expect(promtool(), "promtool is not installed: apt-get install -y prometheus").not.toBeNull();
    const stats: Record<string, number> = { "Pairs without a primary": 1, "Split brains": 1, "Agents disconnected": 1, "Critical alarms": 2 };
    const panels = dashboard.panels as { title?: string; targets?: { expr: string }[] }[];
    const rules = Object.keys(stats).map((title, i) => {
      const expr = panels.find((p) => p.title === title)?.targets?.[0]?.expr;
      expect(expr, title).toBeDefined();
      return { record: `stat_${i}`, expr: expr!.replaceAll("$instance", ".*").replaceAll("$pair", ".*") };
    });
    // Every console (leader and follower) reports the same pairs, hosts and alarms: its mirror and the shared database.
    const series: { series: string; values: string }[] = [];
    for (const instance of ["c1", "c2"]) {
      const at = `instance="${instance}",job="switchyard-console"`;
      series.push(
        { series: `switchyard_server_role{${at},pair="p",server="s1",host="h1",role="primary"}`, values: "1x5" },
        { series: `switchyard_server_role{${at},pair="p",server="s2",host="h2",role="primary"}`, values: "0x5" },
        { series: `switchyard_server_role{${at},pair="q",server="s3",host="h3",role="primary"}`, values: "0x5" },
        { series: `switchyard_server_role{${at},pair="q",server="s4",host="h3",role="primary"}`, values: "0x5" },
        { series: `switchyard_pair_split_brain{${at},pair="p"}`, values: "1x5" },
        { series: `switchyard_pair_split_brain{${at},pair="q"}`, values: "0x5" },
        { series: `switchyard_agent_connected{${at},host="h1"}`, values: "1x5" },
        { series: `switchyard_agent_connected{${at},host="h2"}`, values: "0x5" },
        { series: `switchyard_agent_connected{${at},host="h3"}`, values: "1x5" },
        { series: `switchyard_alarms_active{${at},severity="critical"}`, values: "2x5" },
      );
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-dash-"));
    try {
      fs.writeFileSync(path.join(dir, "panels.yml"), stringify({ groups: [{ name: "panels", rules }] }));
      const tests = {
        rule_files: ["panels.yml"],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: series,
            promql_expr_test: Object.values(stats).map((value, i) => ({ expr: `stat_${i}`, eval_time: "3m", exp_samples: [{ labels: `stat_${i}`, value }] })),
          },
        ],
      };
      fs.writeFileSync(path.join(dir, "panels.test.yml"), stringify(tests));
      const run = spawnSync("promtool", ["test", "rules", "panels.test.yml"], { cwd: dir, encoding: "utf8" });
      expect(run.status, `${Object.keys(stats).join(", ")}\n${run.stdout}${run.stderr}`).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
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
