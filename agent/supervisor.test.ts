// Unit tests for process supervision with real short-lived processes.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { applicationConfigSchema, type AppStatusMessage } from "../protocol/agent-wire";
import { Supervisor } from "./supervisor";

let dir = "";
afterEach(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

function setup(app: object) {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "supervisor-"));
  const statuses: AppStatusMessage[] = [];
  const sup = new Supervisor({
    hostName: "h1",
    logDir: path.join(dir, "logs"),
    logMaxFileBytes: 4096,
    logMaxRotatedFiles: 1,
    stateDir: dir,
    agentUrl: () => "http://127.0.0.1:1",
    onStatus: (m) => statuses.push(m),
    log: () => {},
  });
  sup.setConfig([applicationConfigSchema.parse({ name: "app", type: "t", pair: null, ...app })]);
  return { sup, statuses };
}

async function until(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((r) => setTimeout(r, 10));
}

describe("Supervisor", () => {
  it("restarts nothing by default: an exit is reported failed and stays so", async () => {
    const { sup, statuses } = setup({ start: { command: process.execPath, args: ["-e", "process.exit(7)"] } });
    expect((await sup.start("app", "test")).ok).toBe(true);
    await until(() => statuses.some((s) => s.status === "failed"));
    await new Promise((r) => setTimeout(r, 200));
    expect(statuses.map((s) => s.status)).toEqual(["starting", "running", "failed"]);
    expect(statuses[2]).toMatchObject({ exitCode: 7, detail: "exited unexpectedly (exit code 7)" });
  });

  it("restarts within its policy's bound, then stays failed", async () => {
    const { sup, statuses } = setup({
      start: { command: process.execPath, args: ["-e", "process.exit(1)"] },
      restart: { enabled: true, maxRestarts: 2, restartWindowMs: 60_000, restartDelayMs: 0 },
    });
    await sup.start("app", "test");
    await until(() => statuses.some((s) => s.detail.includes("not restarted")));
    expect(statuses.filter((s) => s.status === "starting")).toHaveLength(3);
    expect(statuses.at(-1)?.detail).toContain("not restarted: 2 restarts within 60000 ms already");
  });

  it("reports a program that cannot be started as failed", async () => {
    const { sup, statuses } = setup({ start: { command: "/nonexistent/sip-server" } });
    const r = await sup.start("app", "test");
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("could not be started");
    expect(statuses.at(-1)?.status).toBe("failed");
  });

  it("captures output to the application's log file", async () => {
    const { sup, statuses } = setup({ start: { command: process.execPath, args: ["-e", "console.log('hello from app'); console.error('oops')"] } });
    await sup.start("app", "test");
    await until(() => statuses.some((s) => s.status === "failed"));
    const text = fs.readFileSync(path.join(dir, "logs", "app.log"), "utf8");
    expect(text).toContain("hello from app");
    expect(text).toContain("oops");
  });
});
