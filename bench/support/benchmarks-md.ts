// Writes one benchmark's section into BENCHMARKS.md, leaving the other benchmarks' sections as they
// are (each benchmark owns the "## " section its text starts with).
import fs from "node:fs";
import path from "node:path";

export const BENCHMARKS_FILE = path.resolve(__dirname, "..", "..", "BENCHMARKS.md");

/** Replaces (or appends) the section whose first line is `section`'s first line ("## Title"). */
export function replaceSection(section: string, file = BENCHMARKS_FILE): void {
  const heading = section.trimStart().split("\n", 1)[0]!;
  if (!heading.startsWith("## ")) throw new Error(`a benchmark section starts with "## ": ${heading}`);
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmarks\n";
  const lines = current.split("\n");
  const start = lines.findIndex((l) => l === heading);
  const body = section.trim().split("\n");
  if (start < 0) {
    fs.writeFileSync(file, `${current.trimEnd()}\n\n${body.join("\n")}\n`);
    return;
  }
  let end = lines.findIndex((l, i) => i > start && l.startsWith("## "));
  if (end < 0) end = lines.length;
  const next = [...lines.slice(0, start), ...body, "", ...lines.slice(end)];
  fs.writeFileSync(file, `${next.join("\n").trimEnd()}\n`);
}
