// The gratuitous ARP helper (a kept packet socket in a small Perl process): answers, clear errors,
// restart after its death, nothing left running after close, and "unavailable" (so the driver uses
// arping) when it cannot run. Runs as root (tests and CI do): the frames go out on the loopback
// interface only; the real-network test (linux-ip.netns.integration.test.ts) checks that a client's
// ARP entry follows them.
import { afterEach, describe, expect, it } from "vitest";
import { acquireGarpHelper, GarpHelper } from "./garp-helper";

const helpers: GarpHelper[] = [];
function helper(argv?: string[]): { h: GarpHelper; lines: string[] } {
  const lines: string[] = [];
  const h = new GarpHelper((l) => lines.push(l), argv);
  helpers.push(h);
  return { h, lines };
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function until(probe: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never happened: ${what}`);
}

afterEach(() => {
  for (const h of helpers.splice(0)) h.close();
});

describe("GarpHelper", () => {
  it("sends, and says why when it cannot (no such interface, not an IPv4 address)", async () => {
    const { h } = helper();
    expect(await h.send("lo", "127.0.0.9", 5000)).toMatchObject({ ok: true, unavailable: false, detail: "" });
    expect(await h.send("nosuch0", "10.213.0.50", 5000)).toMatchObject({ ok: false, unavailable: false, detail: expect.stringContaining("no interface nosuch0") });
    expect(await h.send("lo", "10.213.0", 5000)).toMatchObject({ ok: false, detail: "not an IPv4 address: 10.213.0" });
    expect(h.status.state).toBe("ready");
  });

  it("is started again when it dies, and sends again", async () => {
    const { h, lines } = helper();
    await h.send("lo", "127.0.0.9", 5000);
    const first = h.pid!;
    process.kill(first, "SIGKILL");
    await until(() => h.status.state === "unavailable", "the death noticed");
    expect(await h.send("lo", "127.0.0.9", 5000)).toMatchObject({ ok: false, unavailable: true });
    expect(lines.join("\n")).toMatch(/gratuitous ARP helper \(perl\) was killed by SIGKILL; restarting it in \d+ ms/);
    await until(() => h.status.state === "ready", "the restart");
    expect(h.pid).not.toBe(first);
    expect(await h.send("lo", "127.0.0.9", 5000)).toMatchObject({ ok: true });
    expect(lines.at(-1)).toBe("the gratuitous ARP helper runs again");
  });

  it("leaves nothing running after close, and answers sends after it as unavailable", async () => {
    const { h } = helper();
    await h.send("lo", "127.0.0.9", 5000);
    const pid = h.pid!;
    h.close();
    await until(() => !alive(pid), "the helper gone");
    expect(await h.send("lo", "127.0.0.9", 5000)).toMatchObject({ ok: false, unavailable: true, detail: "the gratuitous ARP helper is closed" });
  });

  it("one that cannot run is unavailable with the reason (the driver then uses arping)", async () => {
    const { h, lines } = helper(["/nonexistent/perl", "-e", "1"]);
    const r = await h.send("lo", "127.0.0.9", 5000);
    expect(r).toMatchObject({ ok: false, unavailable: true });
    expect(r.detail).toContain("could not start");
    expect(lines[0]).toContain("meanwhile gratuitous ARP is sent with arping");
    const fatal = helper(["perl", "-e", 'print "fatal cannot open a packet socket: Operation not permitted\\n"; exit 2']);
    await until(() => fatal.h.status.state === "unavailable", "the fatal line");
    expect(fatal.h.status.detail).toBe("the gratuitous ARP helper cannot open a packet socket: Operation not permitted");
  });

  it("is one per agent: shared by the drivers, ended when the last one releases it", async () => {
    const a = acquireGarpHelper();
    const b = acquireGarpHelper();
    expect(b.helper).toBe(a.helper);
    expect(await a.helper.send("lo", "127.0.0.9", 5000)).toMatchObject({ ok: true });
    const pid = a.helper.pid!;
    a.release();
    a.release(); // twice is once
    expect(alive(pid)).toBe(true);
    b.release();
    await until(() => !alive(pid), "the helper gone");
    const c = acquireGarpHelper();
    expect(c.helper).not.toBe(a.helper);
    c.release();
  });
});
