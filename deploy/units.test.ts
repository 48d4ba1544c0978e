// The systemd units in deploy/ (issue 16): systemd itself reads them without a complaint (an unknown or
// misspelt directive is only a warning there, so the test reads the warnings), their hardening scores
// what the README says, every environment variable they set is one the console or the agent reads and
// the console accepts the unit's values, and the ports agree with docs/monitoring/prometheus.yml.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { envSchema, parseEnv } from "../server/env";

const DIR = __dirname;
const ROOT = path.resolve(DIR, "..");
const units = ["switchyard-console.service", "switchyard-agent.service"] as const;
const text = (unit: string) => fs.readFileSync(path.join(DIR, unit), "utf8");

/** The unit's Environment= settings, those commented out (documented, off by default) too. */
function environment(unit: string): Record<string, string> {
  return Object.fromEntries([...text(unit).matchAll(/^#?Environment=([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

const analyze = (args: string[]) => spawnSync("systemd-analyze", args, { encoding: "utf8" });
const haveAnalyze = analyze(["--version"]).status === 0;

describe("deploy/ systemd units", () => {
  it("systemd-analyze verify reads both without a warning", () => {
    expect(haveAnalyze, "systemd-analyze is not installed (Debian: systemd)").toBe(true);
    for (const unit of units) {
      const r = analyze(["verify", path.join(DIR, unit)]);
      expect(r.status, `${unit}: ${r.stderr}`).toBe(0);
      expect(r.stderr.trim(), unit).toBe("");
    }
  });

  it("are hardened: systemd-analyze security scores the console at most 2.0 and the agent (which needs CAP_NET_ADMIN for the VIP) at most 4.5", () => {
    expect(haveAnalyze, "systemd-analyze is not installed (Debian: systemd)").toBe(true);
    for (const [unit, threshold] of [
      ["switchyard-console.service", 2.0],
      ["switchyard-agent.service", 4.5],
    ] as const) {
      const r = analyze(["security", "--offline=true", path.join(DIR, unit)]);
      const score = /Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout)?.[1];
      expect(Number(score), `${unit}\n${r.stdout.split("\n").filter((l) => l.startsWith("✗")).join("\n")}`).toBeLessThanOrEqual(threshold);
    }
    expect(text("switchyard-console.service")).toMatch(/^CapabilityBoundingSet=$/m);
    expect(text("switchyard-agent.service")).toMatch(/^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW$/m);
  });

  it("the console unit sets only variables the console reads, with values it accepts", () => {
    const env = environment("switchyard-console.service");
    const known = Object.keys(envSchema.shape);
    expect(Object.keys(env).filter((k) => !known.includes(k))).toEqual([]);
    const parsed = parseEnv(env as NodeJS.ProcessEnv);
    expect(parsed).toMatchObject({ NODE_ENV: "production", HOST: "127.0.0.1", METRICS_PORT: 9464, METRICS_AUTH: "token", LOG_FORMAT: "json" });
    expect(text("switchyard-console.service")).toMatch(/^ExecStart=\/usr\/bin\/node --import tsx \/opt\/switchyard\/server\/main\.ts$/m);
  });

  it("the agent unit sets only variables the agent reads", () => {
    const env = environment("switchyard-agent.service");
    const main = fs.readFileSync(path.join(ROOT, "agent", "main.ts"), "utf8");
    const read = new Set([...main.matchAll(/\benv\.([A-Z_]+)/g)].map((m) => m[1]!));
    expect(read.size).toBeGreaterThan(5);
    expect(Object.keys(env).filter((k) => !read.has(k))).toEqual([]);
    expect(text("switchyard-agent.service")).toMatch(/^ExecStart=\/usr\/bin\/node --import tsx \/opt\/switchyard\/agent\/main\.ts$/m);
  });

  it("Prometheus' example scrapes the ports the units serve metrics on", () => {
    const prom = parse(fs.readFileSync(path.join(ROOT, "docs", "monitoring", "prometheus.yml"), "utf8")) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const ports = (job: string) => new Set(prom.scrape_configs.find((c) => c.job_name === job)!.static_configs.flatMap((s) => s.targets.map((t) => t.split(":").pop())));
    expect(ports("switchyard-console")).toEqual(new Set([environment("switchyard-console.service").METRICS_PORT]));
    expect(ports("switchyard-agents")).toEqual(new Set([environment("switchyard-agent.service").SWITCHYARD_METRICS_PORT]));
  });
});
