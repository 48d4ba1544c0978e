// The log line format every Switchyard process writes (console threads and host agents): text from
// outside — a server's output, an agent's refusal reason — can never forge a line of its own.
import { afterEach, describe, expect, it } from "vitest";
import { configureLogging, logger } from "./log";

const forged = "refused\n2030-01-01T00:00:00.000Z WARN  [auth] FORGED login of admin";

afterEach(() => configureLogging({ level: "silent", format: "text" }));

function capture(format: "text" | "json"): string[] {
  const lines: string[] = [];
  configureLogging({ level: "info", format, write: (line) => lines.push(line) });
  return lines;
}

describe("log lines", () => {
  it("#13.7 text format: a newline in the message or a field stays inside one escaped line", () => {
    const lines = capture("text");
    logger("agent").info(`the console refused our appStatus: ${forged}`, { host: "lab-host-1", reason: forged });
    const out = lines.join("");
    expect(out.split("\n").filter(Boolean)).toHaveLength(1);
    expect(out).toMatch(/^\S+ INFO  \[agent\] the console refused our appStatus: refused\\n2030-01-01/);
    expect(out).toContain('reason="refused\\n2030-01-01');
    expect(out).not.toMatch(/^2030-01-01.*FORGED/m);
  });

  it("#13.7 json format: one JSON object per event, the outside text a value in it", () => {
    const lines = capture("json");
    logger("agent").warn(forged, { reason: forged });
    const events = lines.join("").split("\n").filter(Boolean);
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!)).toMatchObject({ component: "agent", msg: forged, reason: forged, level: 40 });
  });
});
