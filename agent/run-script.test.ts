// Unit tests for running scripts without a shell: exit codes, output, timeouts, missing programs.
import { describe, expect, it } from "vitest";
import { runArgv } from "./run-script";

const node = process.execPath;

describe("runArgv", () => {
  it("reports exit code and output, passing shell characters literally", async () => {
    const r = await runArgv([node, "-e", "console.log(process.argv[1]); console.error('warn'); process.exit(4)", "a; echo injected"], { timeoutMs: 10_000, driver: "t" });
    expect(r).toMatchObject({ ok: false, exitCode: 4, stdout: "a; echo injected\n", stderr: "warn\n", timedOut: false, driver: "t" });
    expect(r.durationMs).toBeGreaterThan(0);
  });

  it("kills a hanging script at its timeout and reports it failed", async () => {
    const r = await runArgv([node, "-e", "setInterval(() => {}, 1000)"], { timeoutMs: 300, driver: "t" });
    expect(r.ok).toBe(false);
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.stderr).toContain("killed after its timeout of 300 ms");
  });

  it("reports a missing program as failed, not thrown", async () => {
    const r = await runArgv(["/nonexistent/switchyard-script"], { timeoutMs: 1000, driver: "t" });
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBeNull();
    expect(r.stderr).toContain("could not run /nonexistent/switchyard-script");
  });

  it("kills a command when its abort signal fires (cancelled ARP repeats)", async () => {
    const controller = new AbortController();
    const run = runArgv([node, "-e", "setInterval(() => {}, 1000)"], { timeoutMs: 60_000, driver: "t", signal: controller.signal });
    controller.abort();
    const r = await run;
    expect(r).toMatchObject({ ok: false, timedOut: false });
    expect(r.stderr).toContain("cancelled");
  });
});
