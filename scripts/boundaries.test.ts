// The boundary check (`npm run check:boundaries`, .dependency-cruiser.cjs) must bite: each rule is run
// against a small scene of files, one that breaks the rule and one that keeps it, so loosening a rule
// (or a change of dependency-cruiser's behaviour) fails here rather than letting a wrong import through.
// Two runs of the check: a scene that keeps every rule, and one that breaks each rule in its own file.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");
const CONFIG = path.join(ROOT, ".dependency-cruiser.cjs");
const DEPCRUISE = path.join(ROOT, "node_modules/.bin/depcruise");

/** Files every scene has: a module in each folder that others may (or may not) import. */
const BASE: Record<string, string> = {
  "tsconfig.json": JSON.stringify({ compilerOptions: { module: "esnext", moduleResolution: "bundler", baseUrl: ".", paths: { "@/*": ["./*"] } } }),
  "protocol/vocabulary.ts": "export const words = 1;\n",
  "server/log.ts": "export const log = 1;\n",
  "server/controller/core.ts": "export const core = 1;\n",
  "server/controller/types.ts": "export type T = number;\n",
  "agent/proc.ts": "export const proc = 1;\n",
  "lab/sim.ts": "export const sim = 1;\n",
  "lib/ip.ts": "export const ip = 1;\n",
  "cli/format.ts": "export const format = 1;\n",
  "harness/stack.ts": "export const stack = 1;\n",
  "components/ui.tsx": "export const ui = 1;\n",
  "generated/prisma/client.ts": "export const client = 1;\n",
};

/** Each row: the rule, a file that breaks it, its import, and the arrow the check reports. */
const BROKEN: [rule: string, file: string, line: string, arrow: string][] = [
  ["agent-imports-only-protocol", "agent/bad1.ts", 'import { log } from "../server/log";', "agent/bad1.ts → server/log.ts"],
  ["agent-imports-only-protocol", "agent/bad2.ts", 'import { sim } from "../lab/sim";', "agent/bad2.ts → lab/sim.ts"],
  ["agent-imports-only-protocol", "agent/bad3.ts", 'import { format } from "../cli/format";', "agent/bad3.ts → cli/format.ts"],
  ["agent-imports-only-protocol", "agent/bad4.ts", 'import { client } from "../generated/prisma/client";', "agent/bad4.ts → generated/prisma/client.ts"],
  ["lab-imports-only-protocol", "lab/bad5.ts", 'import { proc } from "../agent/proc";', "lab/bad5.ts → agent/proc.ts"],
  ["lab-imports-only-protocol", "lab/bad6.ts", 'import { ip } from "../lib/ip";', "lab/bad6.ts → lib/ip.ts"],
  ["browser-code-never-imports-server", "components/bad7.tsx", 'import { log } from "../server/log";', "components/bad7.tsx → server/log.ts"],
  ["browser-code-never-imports-server", "app/bad8.tsx", 'import { log } from "@/server/log";', "app/bad8.tsx → server/log.ts"],
  ["browser-code-never-imports-server", "app/bad9.tsx", 'import { client } from "../generated/prisma/client";', "app/bad9.tsx → generated/prisma/client.ts"],
  ["controller-core-is-pure", "server/controller/bad10.ts", 'import fs from "node:fs";', "server/controller/bad10.ts → fs"],
  ["controller-core-is-pure", "server/controller/bad11.ts", 'import { log } from "../log";', "server/controller/bad11.ts → server/log.ts"],
  ["lib-imports-only-protocol", "lib/bad12.ts", 'import { log } from "../server/log";', "lib/bad12.ts → server/log.ts"],
  ["server-reaches-agent-and-lab-only-through-protocol", "server/bad13.ts", 'import { proc } from "../agent/proc";', "server/bad13.ts → agent/proc.ts"],
  ["product-code-never-imports-the-harness", "server/bad14.ts", 'import { stack } from "../harness/stack";', "server/bad14.ts → harness/stack.ts"],
  ["protocol-stands-alone", "protocol/bad15.ts", 'import { log } from "../server/log";', "protocol/bad15.ts → server/log.ts"],
  ["protocol-stands-alone", "protocol/bad17.ts", 'import { format } from "../cli/format";', "protocol/bad17.ts → cli/format.ts"],
  ["cli-speaks-only-http", "cli/bad16.ts", 'import { log } from "../server/log";', "cli/bad16.ts → server/log.ts"],
];

let dir = "";
let broken: string[] = [];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-boundaries-"));
  broken = violations({
    ...Object.fromEntries(BROKEN.map(([, file, line]) => [file, `${line}\nexport const x = 1;\n`])),
    "server/a.ts": 'import { b } from "./b";\nexport const a = () => b;\n',
    "server/b.ts": 'import { a } from "./a";\nexport const b = () => a;\n',
  });
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the repository's boundary check over a scene (BASE plus `files`) and returns the rules broken, as "rule: from → to". */
function violations(files: Record<string, string>): string[] {
  const scene = fs.mkdtempSync(path.join(dir, "scene-"));
  for (const [file, text] of Object.entries({ ...BASE, ...files })) {
    fs.mkdirSync(path.dirname(path.join(scene, file)), { recursive: true });
    fs.writeFileSync(path.join(scene, file), text);
  }
  const folders = ["protocol", "server", "agent", "lab", "lib", "cli", "harness", "components", "app"].filter((f) => fs.existsSync(path.join(scene, f)));
  const run = spawnSync(DEPCRUISE, ["--config", CONFIG, "--output-type", "json", ...folders], { cwd: scene, encoding: "utf8" });
  if (!run.stdout) throw new Error(`depcruise printed nothing: ${run.stderr}`);
  const result = JSON.parse(run.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

describe("the boundary check bites", () => {
  it("a scene that keeps every rule passes (the rules allow what the repository does)", () => {
    expect(
      violations({
        "agent/main.ts": 'import { words } from "../protocol/vocabulary";\nimport { proc } from "./proc";\nimport fs from "node:fs";\nexport const x = [words, proc, fs];\n',
        "lab/main.ts": 'import { words } from "../protocol/vocabulary";\nimport { sim } from "./sim";\nexport const x = [words, sim];\n',
        "lib/words.ts": 'import { words } from "../protocol/vocabulary";\nexport const x = words;\n',
        "server/console.ts": 'import { core } from "./controller/core";\nimport { log } from "./log";\nimport { ip } from "../lib/ip";\nimport { client } from "../generated/prisma/client";\nexport const x = [core, log, ip, client];\n',
        "server/controller/rules.ts": 'import { core } from "./core";\nimport { words } from "../../protocol/vocabulary";\nimport type { T } from "./types";\nexport const x: T = core + words;\n',
        "app/page.tsx": 'import { ui } from "../components/ui";\nimport type { log } from "../server/log";\nexport const x: typeof log = ui;\n',
        "harness/scene.ts": 'import { log } from "../server/log";\nimport { proc } from "../agent/proc";\nexport const x = [log, proc];\n',
        "agent/proc.test.ts": 'import { log } from "../server/log";\nexport const x = log;\n',
      }),
    ).toEqual([]);
  });

  it.each(BROKEN)("%s: %s importing `%s` is refused", (rule, _file, _line, arrow) => {
    expect(broken).toContain(`${rule}: ${arrow}`);
  });

  it("no-circular: an import circle is refused, in server/ as anywhere", () => {
    expect(broken).toContain("no-circular: server/a.ts → server/b.ts");
  });

  it("nothing else in the broken scene is refused (each file breaks only its own rule)", () => {
    const expected = [...BROKEN.map(([rule, , , arrow]) => `${rule}: ${arrow}`), "no-circular: server/a.ts → server/b.ts", "no-circular: server/b.ts → server/a.ts"];
    expect(broken.filter((v) => !expected.includes(v))).toEqual([]);
  });
});
