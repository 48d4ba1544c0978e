// Reading /metrics back in tests: parse-prometheus-text-format turns the exposition into families and
// samples (counters and gauges with their labels), and Prometheus's own `promtool check metrics`
// (Debian's `prometheus` package) judges the text with the real parser and its linter when it is
// installed. Histograms with labels are read from their `_count` / `_sum` lines, which the npm parser
// folds away.
import { spawnSync } from "node:child_process";
import parsePrometheusTextFormat from "parse-prometheus-text-format";

export interface MetricFamily {
  name: string;
  help: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string> }[];
}

export function parseMetrics(text: string): MetricFamily[] {
  return parsePrometheusTextFormat(text) as MetricFamily[];
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
export function sample(families: MetricFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.find((f) => f.name === name);
  const found = family?.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)) ?? [];
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}; name more labels`);
  return found[0]?.value === undefined ? undefined : Number(found[0].value);
}

/** A labelled histogram's observation count, from its `_count` line. */
export function histogramCount(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}_count{`)) continue;
    const body = line.slice(line.indexOf("{") + 1, line.lastIndexOf("}"));
    const have = Object.fromEntries([...body.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(line.slice(line.lastIndexOf("}") + 1).trim());
  }
  return undefined;
}

/** `promtool` on PATH (Debian: apt-get install prometheus), or null. */
export function promtool(): string | null {
  const r = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? "promtool" : null;
}

/** `promtool check metrics` on the text: its complaints (empty when the text is clean). */
export function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}
