// Unit tests for bounded, rotating application logs.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RotatingLog } from "./rotating-log";

let dir = "";
afterEach(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

describe("RotatingLog", () => {
  it("rotates at the size limit and keeps at most maxRotatedFiles copies", () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotlog-"));
    const file = path.join(dir, "app.log");
    const log = new RotatingLog(file, { maxFileBytes: 1024, maxRotatedFiles: 2 });
    for (let i = 0; i < 10; i++) log.write(`${String(i).repeat(600)}\n`);
    log.close();
    expect(fs.readdirSync(dir).sort()).toEqual(["app.log", "app.log.1", "app.log.2"]);
    for (const f of fs.readdirSync(dir)) expect(fs.statSync(path.join(dir, f)).size).toBeLessThanOrEqual(1024);
    expect(fs.readFileSync(file, "utf8")).toBe(`${"9".repeat(600)}\n`);
    expect(fs.readFileSync(`${file}.2`, "utf8")).toBe(`${"7".repeat(600)}\n`);
  });
});
