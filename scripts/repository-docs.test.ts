// The repository's documents against the repository: what they name must exist. Every `npm run X` is a
// script of package.json, every file path they print exists, README's layout lists every folder, nothing
// points outside the repository, docs/workflows.md's tests are real tests, and docs/domain.md describes
// every option of the catalogue. Documentation drifts silently; this makes it fail instead.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { optionCatalogue } from "../lib/options-catalogue";
import { decisionRules } from "../server/controller/rules";

const ROOT = path.resolve(__dirname, "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

/** The files git tracks (a clean clone's view: no node_modules, .next or generated clients). */
const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" })
  .split("\0")
  .filter((f) => f && fs.existsSync(path.join(ROOT, f)));
const markdown = tracked.filter((f) => f.endsWith(".md"));

/** Each problem as "file: what", so a failure lists every one at once. */
function problemsIn(files: string[], find: (file: string, text: string) => string[]): string[] {
  return files.flatMap((file) => find(file, read(file)).map((p) => `${file}: ${p}`));
}

describe("the documents name only what exists", () => {
  it("every `npm run X` in a document is a script of package.json", () => {
    const scripts = Object.keys((JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts);
    const missing = problemsIn([...markdown, ...tracked.filter((f) => /\.(ts|tsx|sh|cjs|mjs)$/.test(f))], (_file, text) =>
      [...text.matchAll(/npm run ([a-z][\w:-]*)/g)].map((m) => m[1]!).filter((name) => !scripts.includes(name)).map((name) => `npm run ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it("nothing points to a design folder outside the repository (../shared)", () => {
    const text = tracked.filter((f) => /\.(md|ts|tsx|cjs|mjs|js|json|ya?ml|sh|sql|service)$/.test(f) && f !== "scripts/repository-docs.test.ts");
    expect(problemsIn(text, (_file, t) => [...t.matchAll(/\.\.\/shared\b|\bshared\/(DESIGN|design|docs)/g)].map((m) => m[0]))).toEqual([]);
  });

  it("every link of a document to a file leads to a file of the repository", () => {
    const broken = problemsIn(markdown, (file, text) =>
      [...text.matchAll(/\]\(([^)\s]+)\)/g)]
        .map((m) => m[1]!.split("#")[0]!)
        .filter((target) => target && !/^[a-z]+:/.test(target))
        .filter((target) => {
          const resolved = path.resolve(ROOT, path.dirname(file), target);
          return !resolved.startsWith(ROOT + path.sep) || !fs.existsSync(resolved);
        }),
    );
    expect(broken).toEqual([]);
  });

  it("every repository path a document prints in backticks exists", () => {
    const missing = problemsIn(markdown, (file, text) =>
      [...text.matchAll(/`([A-Za-z0-9_.\-]+\/[A-Za-z0-9_./\-]*\.(?:ts|tsx|cjs|mjs|md|json|ya?ml|sh|sql|service|xml))`/g)]
        .map((m) => m[1]!)
        // Placeholders (NNNN_name, STATE_DIR/…) and URLs' paths are not files of the repository.
        .filter((p) => !/NNNN|STATE_DIR|^\//.test(p))
        .filter((p) => !fs.existsSync(path.join(ROOT, p)) && !fs.existsSync(path.join(ROOT, path.dirname(file), p))),
    );
    expect(missing).toEqual([]);
  });

  it("README's repository layout lists every top-level folder and every folder of server/", () => {
    const readme = read("README.md");
    const layout = readme.slice(readme.indexOf("## Repository layout"), readme.indexOf("\n## ", readme.indexOf("## Repository layout") + 1));
    const lines = layout.split("\n");
    const topLevel = [...new Set(tracked.filter((f) => f.includes("/")).map((f) => f.split("/")[0]!))];
    const serverFolders = [...new Set(tracked.filter((f) => /^server\/[^/]+\//.test(f)).map((f) => f.split("/")[1]!))];
    const missing = [
      ...topLevel.filter((d) => !lines.some((l) => l.startsWith(`${d}/`))).map((d) => `${d}/`),
      ...serverFolders.filter((d) => !lines.some((l) => /^ {2}\S/.test(l) && l.includes(`${d}/`))).map((d) => `server/${d}/`),
    ];
    expect(missing).toEqual([]);
  });
});

/** A title as cited in prose may leave parts out ("…") and print a number where the source has `${…}`. */
function citedIn(source: string, cited: string): boolean {
  const flat = (s: string) => s.split(/\s+/).join(" ");
  const parts = flat(cited).split(/…|\.\.\./).map((p) => p.trim()).filter(Boolean);
  const pattern = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\d+/g, "(?:\\d+|\\$\\{[^}]*\\})")).join(".*?");
  return new RegExp(pattern, "s").test(flat(source));
}

describe("docs/workflows.md cites real tests", () => {
  const text = read("docs/workflows.md");
  const sections = text.split(/\n(?=## )/).filter((s) => /^## W\d+ /.test(s));
  /** Each section's "**Tests.**" block: the file paths it names and, after each, the test titles it quotes. */
  const citations = sections.map((section) => {
    const w = /^## (W\d+)/.exec(section)![1]!;
    const block = /\*\*Tests\.\*\*([\s\S]*?)(?=\n\n\*\*|$)/.exec(section)?.[1] ?? "";
    const cited: { file: string; title: string | null }[] = [];
    let file: string | null = null;
    for (const m of block.matchAll(/`([\w./\-]+\.(?:test|spec)\.tsx?)`|"([^"]+)"/g)) {
      if (m[1]) {
        file = m[1];
        cited.push({ file, title: null });
      } else if (file && m[2]!.length >= 12) cited.push({ file, title: m[2]! });
    }
    return { w, cited };
  });

  it("W1–W15 each have a Tests block that names at least one test file", () => {
    const ws = citations.filter((c) => c.cited.length > 0).map((c) => c.w);
    expect(Array.from({ length: 15 }, (_, i) => `W${i + 1}`).filter((w) => !ws.includes(w))).toEqual([]);
  });

  it("every test file cited exists and every test title quoted after it is in that file", () => {
    const problems = citations.flatMap(({ w, cited }) =>
      cited.flatMap(({ file, title }) => {
        if (!fs.existsSync(path.join(ROOT, file))) return [`${w}: no file ${file}`];
        return title && !citedIn(read(file), title) ? [`${w}: ${file} has no test "${title}"`] : [];
      }),
    );
    expect(citations.flatMap((c) => c.cited).filter((c) => c.title).length).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });
});

describe("docs/domain.md describes every option of the catalogue", () => {
  it("one table row per option, with its level, type and default as the catalogue has them", () => {
    const rows = new Map(
      [...read("docs/domain.md").matchAll(/^\| `([a-z0-9-]+)` \| (\w+) \| ([\w-]+) \| ([^|]+) \|[^|]+\|[^|]+\| ([^|]+) \|$/gm)].map((m) => [m[1]!, m]),
    );
    const problems = optionCatalogue.flatMap((o) => {
      const row = rows.get(o.name);
      if (!row) return [`${o.name}: no row`];
      const [, , level, type, shownDefault, meaning] = row;
      const wants = o.default === null ? /^none/ : new RegExp(`^\`${o.default}\`$`);
      return [
        level!.toLowerCase() !== o.level ? `${o.name}: level ${level} (catalogue: ${o.level})` : null,
        type !== o.type ? `${o.name}: type ${type} (catalogue: ${o.type})` : null,
        !wants.test(shownDefault!.trim()) ? `${o.name}: default ${shownDefault!.trim()} (catalogue: ${o.default})` : null,
        meaning!.trim().length < 20 ? `${o.name}: what it does is not said` : null,
      ].filter((p): p is string => p !== null);
    });
    expect(problems).toEqual([]);
  });
});

describe("server/controller/DECISIONS.md draws the rules the core runs", () => {
  it("its rule table names every rule of decisionRules, in the order the core asks them", () => {
    const text = read("server/controller/DECISIONS.md");
    const table = text.slice(text.indexOf("The rules, by their names in `decisionRules`:"));
    const names = [...table.slice(0, table.indexOf("\n\n", table.indexOf("| rule |"))).matchAll(/^\| ([^|]+?) \|/gm)].map((m) => m[1]!).filter((n) => n !== "rule" && !/^-+$/.test(n));
    expect(names).toEqual(decisionRules.map((r) => r.name));
  });
});
