// The shared words are defined once, in protocol/vocabulary.ts: no other source file spells out one of
// its lists again (four of its words in a row, in its order, or the whole list when it is shorter),
// which is how a second definition starts to drift from the first. A subset a module names for its own
// use (three alarm kinds it raises, `satisfies readonly ControllerAlarmKind[]`) is not a second
// definition. Tests may spell words out to set a scene.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import * as vocabulary from "../protocol/vocabulary";

const ROOT = path.resolve(__dirname, "..");
const VOCABULARY = "protocol/vocabulary.ts";

const sources = execFileSync("git", ["ls-files", "-z", "*.ts", "*.tsx"], { cwd: ROOT, encoding: "utf8" })
  .split("\0")
  .filter((f) => f && f !== VOCABULARY && !/\.(test|spec)\.tsx?$|\/test-fixtures\//.test(f) && fs.existsSync(path.join(ROOT, f)));

const lists: [name: string, words: readonly string[]][] = Object.entries(vocabulary as Record<string, unknown>).flatMap(([name, value]) =>
  Array.isArray(value) && value.length >= 3 ? [[name, value as string[]] as [string, string[]]] : [],
);

describe("protocol/vocabulary.ts is the one definition of the shared words", () => {
  it("has lists to guard (HA types, process statuses, control drivers, placeholders, alarm kinds, lab faults)", () => {
    expect(lists.map(([name]) => name)).toEqual(expect.arrayContaining(["haTypes", "reportedProcessStatuses", "controlDrivers", "scriptPlaceholders", "controllerAlarmKinds", "labFaults"]));
  });

  it.each(lists)("no other source file spells out %s again", (_name: string, words: readonly string[]) => {
    const n = Math.min(4, words.length);
    const runs = words.slice(0, words.length - n + 1).map((_, i) => new RegExp(words.slice(i, i + n).map((w) => `["'\`]${w}["'\`]`).join(",\\s*")));
    const found = sources.filter((file) => {
      const text = fs.readFileSync(path.join(ROOT, file), "utf8");
      return runs.some((run) => run.test(text));
    });
    expect(found).toEqual([]);
  });
});
