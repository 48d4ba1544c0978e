// Unit tests for running scripts without a shell: exit codes, output, timeouts, missing programs.
import { describe, expect, it } from "vitest";
import { runArgv, startArgv } from "./run-script";

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

describe("startArgv (a process started ahead of need)", () => {
  const cat = [node, "-e", "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{console.log(s.toUpperCase());process.exit(s.includes('fail')?3:0)})"];

  it("waits on its stdin and runs when given its input", async () => {
    const p = startArgv(cat, { driver: "t" });
    expect(p.waiting).toBe(true);
    const r = await p.feed({ timeoutMs: 10_000, input: "hello\n" });
    expect(r).toMatchObject({ ok: true, exitCode: 0, stdout: "HELLO\n\n", timedOut: false, driver: "t" });
    expect(p.waiting).toBe(false);
    const bad = await startArgv(cat, { driver: "t" }).feed({ timeoutMs: 10_000, input: "fail" });
    expect(bad).toMatchObject({ ok: false, exitCode: 3 });
  });

  it("close kills one that was never fed, with nothing left running", async () => {
    const p = startArgv([node, "-e", "process.stdin.resume(); setInterval(() => {}, 1000)"], { driver: "t" });
    const pid = p.pid!;
    expect(() => process.kill(pid, 0)).not.toThrow();
    p.close();
    await p.exited;
    expect(p.waiting).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
    const r = await p.feed({ timeoutMs: 1000, input: "x" });
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain("closed before it was given its input");
  });

  it("one that died while it waited is reported failed when fed, with why", async () => {
    const p = startArgv([node, "-e", "process.exit(0)"], { driver: "t" });
    await p.exited;
    expect(p.waiting).toBe(false);
    const r = await p.feed({ timeoutMs: 1000, input: "x" });
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain("it exited before it was given its input");
    const missing = startArgv(["/nonexistent/switchyard-script"], { driver: "t" });
    await missing.exited;
    expect((await missing.feed({ timeoutMs: 1000 })).stderr).toContain("could not run /nonexistent/switchyard-script");
  });

  it("the timeout counts from the feed, not from the start", async () => {
    const p = startArgv([node, "-e", "process.stdin.on('end', () => setInterval(() => {}, 1000)).resume()"], { driver: "t" });
    const r = await p.feed({ timeoutMs: 300, input: "" });
    expect(r).toMatchObject({ ok: false, timedOut: true, exitCode: null });
    expect(r.stderr).toContain("killed after its timeout of 300 ms");
  });
});
