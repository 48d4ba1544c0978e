// Process supervision with real keepers and real short-lived processes: the restart policy (back-off,
// give-up, explicit stop and start), the startup timeout, last output, start role and epoch in the
// config file, and output capture.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { applicationConfigSchema, type AppStatusMessage } from "../protocol/agent-wire";
import { Supervisor } from "./supervisor";
import { freePort, killKeepersIn, waitFor } from "./test-fixtures/test-console";

const DUMMY = path.resolve(__dirname, "test-fixtures/dummy-app.mjs");
let dir = "";
let supervisor: Supervisor | null = null;
afterEach(async () => {
  await supervisor?.detachAll();
  if (dir) {
    killKeepersIn(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function setup(app: object, heldEpoch = 0) {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "supervisor-"));
  const statuses: AppStatusMessage[] = [];
  supervisor = new Supervisor({
    hostName: "h1",
    logDir: path.join(dir, "logs"),
    logMaxFileBytes: 4096,
    logMaxRotatedFiles: 1,
    stateDir: dir,
    agentUrl: () => "http://127.0.0.1:1",
    heldEpoch: () => heldEpoch,
    onStatus: (m) => statuses.push(m),
    log: () => {},
  });
  supervisor.setConfig([applicationConfigSchema.parse({ name: "app", type: "t", pair: null, ...app })]);
  return { sup: supervisor, statuses };
}

const explicit = { role: null, epoch: 0, explicit: true };
const exitAfter = (code: number, text = "") => ({ command: process.execPath, args: ["-e", `${text ? `console.error(${JSON.stringify(text)});` : ""} setTimeout(() => process.exit(${code}), 100)`] });
const failedOnes = (statuses: AppStatusMessage[]) => statuses.filter((s) => s.status === "failed");

describe("Supervisor", () => {
  it("reports an exit failed with its exit code and restarts nothing when the policy is off", async () => {
    const { sup, statuses } = setup({ start: exitAfter(7), restart: { enabled: false } });
    expect((await sup.start("app", "test", explicit)).ok).toBe(true);
    const failed = await waitFor("failed", () => failedOnes(statuses)[0]);
    expect(failed).toMatchObject({ exitCode: 7, detail: "exited unexpectedly (exit code 7)" });
    expect(failed.restart).toEqual({ attempts: 0, maxRestarts: 5, nextAttemptAt: null, gaveUp: false });
    expect(statuses.filter((s) => s.status === "starting")).toHaveLength(1);
  });

  it("restarts with growing back-off delays, then gives up naming the count and the window", async () => {
    const { sup, statuses } = setup({
      start: exitAfter(1),
      restart: { enabled: true, maxRestarts: 3, restartWindowMs: 60_000, restartDelayMs: 50, backoffMultiplier: 2, restartDelayMaxMs: 150 },
    });
    await sup.start("app", "test", explicit);
    const last = await waitFor("give-up", () => failedOnes(statuses).find((s) => s.restart?.gaveUp), 60_000);
    expect(failedOnes(statuses).map((s) => s.detail.replace(/^exited unexpectedly \(exit code 1\); /, ""))).toEqual([
      "restarting it in 50 ms (automatic restart 1 of 3 within 60 s)",
      "restarting it in 100 ms (automatic restart 2 of 3 within 60 s)",
      "restarting it in 150 ms (automatic restart 3 of 3 within 60 s)",
      "gave up restarting it: 3 automatic restarts within 60 s already (at most 3)",
    ]);
    expect(last.restart).toEqual({ attempts: 3, maxRestarts: 3, nextAttemptAt: null, gaveUp: true });
    expect(failedOnes(statuses).slice(0, 3).every((s) => s.restart?.nextAttemptAt !== null)).toBe(true);
  });

  it("an explicit stop cancels a pending restart", async () => {
    const { sup, statuses } = setup({ start: exitAfter(2), restart: { enabled: true, maxRestarts: 1, restartDelayMs: 600_000 } }); // capped at the default restartDelayMaxMs of 60 s
    await sup.start("app", "test", explicit);
    const pending = await waitFor("restart pending", () => failedOnes(statuses).find((s) => s.restart?.nextAttemptAt));
    expect(pending.detail).toContain("restarting it in 60000 ms (automatic restart 1 of 1 within 600 s)");
    const stop = await sup.stop("app", "operator");
    expect(stop.reason).toBe("app was not running; its pending automatic restart was cancelled");
    expect(sup.state("app")).toMatchObject({ status: "stopped", restart: { nextAttemptAt: null } });
    expect(statuses.at(-1)?.detail).toBe("stopped (operator); its pending automatic restart was cancelled");
  });

  it("an explicit start resets the give-up", async () => {
    const { sup: sup2, statuses: st2 } = setup({ start: exitAfter(2), restart: { enabled: true, maxRestarts: 1, restartDelayMs: 10 } });
    await sup2.start("app", "test", explicit);
    await waitFor("gave up", () => failedOnes(st2).find((s) => s.restart?.gaveUp), 60_000);
    const marker = st2.length;
    await sup2.start("app", "operator starts it again", explicit);
    expect(st2[marker]).toMatchObject({ status: "starting", restart: { attempts: 0, gaveUp: false } });
  });

  it("kills an application that does not answer within its startup timeout and reports it failed", async () => {
    const port = await freePort();
    const { sup, statuses } = setup({
      start: { command: process.execPath, args: [DUMMY, "--never-answer", "--http-port", String(port)] },
      options: { "http-port": String(port) },
      startupTimeoutMs: 1000,
      restart: { enabled: false },
    });
    const started = await sup.start("app", "test", explicit);
    expect(started.ok).toBe(true);
    expect(sup.state("app")?.status).toBe("starting");
    const failed = await waitFor("startup timeout", () => failedOnes(statuses)[0]);
    expect(failed.detail).toBe("did not answer within 1 s of its start; killed (killed by SIGKILL)");
    expect(failed.lastOutput).toContain("started but will never answer");
  });

  it("is starting until the application answers, then running", async () => {
    const port = await freePort();
    const { sup, statuses } = setup({ start: { command: process.execPath, args: [DUMMY, "--never-answer"] }, options: { "http-port": String(port) }, restart: { enabled: false } });
    await sup.start("app", "test", explicit);
    expect(sup.state("app")?.status).toBe("starting");
    sup.noteAnswer("app");
    expect(statuses.at(-1)).toMatchObject({ status: "running", previous: "starting" });
  });

  it("keeps the last output of a failed process for its status", async () => {
    const { sup, statuses } = setup({ start: exitAfter(1, "Error: listen EADDRINUSE: address already in use 127.0.0.1:5060"), restart: { enabled: false } });
    await sup.start("app", "test", explicit);
    const failed = await waitFor("failed", () => failedOnes(statuses)[0]);
    expect(failed.lastOutput).toContain("EADDRINUSE: address already in use 127.0.0.1:5060");
    expect(sup.state("app")?.lastOutput).toContain("EADDRINUSE");
  });

  it("writes the start's role and epoch into the config file; a policy restart starts as backup at the held epoch", async () => {
    const appConfig = { name: "app", type: "t", host: "h1", sipAddress: "127.0.0.1", sipListenAddress: "127.0.0.1", sipAdvertisedAddress: "127.0.0.1", sipPort: null, haPort: null, peer: null, initialRole: "backup", options: {}, dns: {} };
    const pair = { name: "pair-x", haType: "ip-takeover", configuredRole: "primary", driver: { kind: "none" } };
    const { sup, statuses } = setup({ start: exitAfter(5), appConfig, pair, restart: { enabled: true, maxRestarts: 1, restartDelayMs: 10 } }, 9);
    await sup.start("app", "test", { role: "primary", epoch: 4, explicit: true });
    const file = sup.configFileOf("app");
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toMatchObject({ initialRole: "primary", initialEpoch: 4 });
    const restarted = await waitFor("automatic restart", () => statuses.find((s) => s.status === "starting" && s.detail.startsWith("starting (automatic restart 1 of 1)")));
    expect(restarted.detail).toContain("as backup at epoch 9");
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toMatchObject({ initialRole: "backup", initialEpoch: 9 });
  });

  it("reports a program that cannot be started as failed", async () => {
    const { sup, statuses } = setup({ start: { command: "/nonexistent/sip-server" } });
    const r = await sup.start("app", "test", explicit);
    expect(r.ok).toBe(false);
    expect(r.reason).toContain("could not be started: spawn /nonexistent/sip-server ENOENT");
    expect(statuses.at(-1)?.status).toBe("failed");
  });

  it("captures output to the application's log file", async () => {
    const { sup, statuses } = setup({ start: { command: process.execPath, args: ["-e", "console.log('hello from app'); console.error('oops'); setTimeout(() => {}, 100)"] }, restart: { enabled: false } });
    await sup.start("app", "test", explicit);
    await waitFor("failed", () => failedOnes(statuses)[0]);
    const text = fs.readFileSync(path.join(dir, "logs", "app.log"), "utf8");
    expect(text).toContain("hello from app");
    expect(text).toContain("oops");
  });
});
