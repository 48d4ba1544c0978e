// What the benchmarks share for their figures: nearest-rank percentiles over the samples and the line
// that names the machine a result was measured on.
import { execFileSync } from "node:child_process";
import os from "node:os";

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest rank: the smallest value with at least p % of the (sorted) samples at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function summarise(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, min: s[0]!, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1]!, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/** "Linux 6.x, AMD EPYC …, 2 CPUs (nproc), Node.js v20…" */
export function machineLine(): string {
  let cpus = `${os.cpus().length} CPUs`;
  try {
    cpus = `${execFileSync("nproc").toString().trim()} CPUs (nproc)`;
  } catch {
    // no nproc: os.cpus() it is
  }
  return `${os.type()} ${os.release()}, ${os.cpus()[0]?.model.trim() ?? "unknown CPU"}, ${cpus}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node.js ${process.version}`;
}
