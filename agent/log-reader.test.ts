// Unit tests of the agent's log reader (readLog): whole lines from the end, bounded text, search through
// the live file and its rotated copies newest first, and the read budget — on real files in a temp dir.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readApplicationLog } from "./log-reader";

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-log-reader-"));
  file = path.join(dir, "sip1.log");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const req = (over: Partial<{ maxBytes: number; search: string | null }> = {}) => ({ application: "sip1", maxBytes: 1024, search: null, ...over });
const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix} line ${i}`).join("\n") + "\n";

describe("readApplicationLog", () => {
  it("an application that wrote nothing yet: ok, empty", async () => {
    const r = await readApplicationLog({ file, rotated: 2 }, req());
    expect(r).toMatchObject({ ok: true, error: null, text: "", sizeBytes: 0, truncated: false, matches: null, file });
  });

  it("the tail is whole lines, at most maxBytes, and says older output was left out", async () => {
    fs.writeFileSync(file, lines("out", 500));
    const r = await readApplicationLog({ file, rotated: 0 }, req({ maxBytes: 1024 }));
    expect(r.ok).toBe(true);
    expect(r.truncated).toBe(true);
    expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(1024);
    expect(r.text.endsWith("out line 499\n")).toBe(true);
    expect(r.text.startsWith("out line ")).toBe(true); // the cut first line was dropped
    expect(r.sizeBytes).toBe(fs.statSync(file).size);
    const all = await readApplicationLog({ file, rotated: 0 }, req({ maxBytes: 256 * 1024 }));
    expect(all).toMatchObject({ truncated: false, text: lines("out", 500) });
  });

  it("a multi-byte character cut at the start never leaves a broken character behind", async () => {
    fs.writeFileSync(file, "é".repeat(2000));
    const r = await readApplicationLog({ file, rotated: 0 }, req({ maxBytes: 1025 }));
    expect(r.text).toMatch(/^é+$/);
  });

  it("search: matching lines, case-insensitive, from the rotated copies too, oldest first", async () => {
    fs.writeFileSync(`${file}.2`, "old start\nError: listen EADDRINUSE 127.0.0.1:15080\n");
    fs.writeFileSync(`${file}.1`, lines("middle", 10));
    fs.writeFileSync(file, "started\neaddrinuse again\n");
    const r = await readApplicationLog({ file, rotated: 2 }, req({ search: "EADDRINUSE" }));
    expect(r).toMatchObject({ ok: true, matches: 2, truncated: false });
    expect(r.text).toBe("Error: listen EADDRINUSE 127.0.0.1:15080\neaddrinuse again");
    expect(r.scannedBytes).toBe([file, `${file}.1`, `${file}.2`].reduce((n, f) => n + fs.statSync(f).size, 0));
  });

  it("search: lines cut by the read chunks are found whole, and the newest matches win when they do not all fit", async () => {
    // Over one read chunk (1 MiB), so lines straddle chunk boundaries.
    const body = Array.from({ length: 60_000 }, (_, i) => (i % 1000 === 7 ? `needle ${i} ${"x".repeat(20)}` : `hay ${i} ${"y".repeat(20)}`)).join("\n") + "\n";
    fs.writeFileSync(file, body);
    const all = await readApplicationLog({ file, rotated: 0 }, req({ search: "needle", maxBytes: 256 * 1024 }));
    expect(all.matches).toBe(60);
    expect(all.text.split("\n").every((l) => /^needle \d+ x{20}$/.test(l))).toBe(true);
    const few = await readApplicationLog({ file, rotated: 0 }, req({ search: "needle", maxBytes: 1024 }));
    expect(few.truncated).toBe(true);
    expect(few.text.split("\n").at(-1)).toBe(`needle 59007 ${"x".repeat(20)}`);
  });

  it("search stops at its read budget and says so", async () => {
    fs.writeFileSync(`${file}.1`, "needle in the old file\n");
    fs.writeFileSync(file, lines("hay", 1000));
    const r = await readApplicationLog({ file, rotated: 1 }, req({ search: "needle" }), { searchMaxBytes: 4096 });
    expect(r).toMatchObject({ ok: true, matches: 0, truncated: true, scannedBytes: 4096, text: "" });
  });
});
