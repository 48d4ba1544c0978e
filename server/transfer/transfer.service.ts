// Configuration export and import as YAML. Import is all-or-nothing: the file is parsed, checked
// against the file format, merged with the stored configuration by object name and checked with the
// same rules as UI edits (rules.ts); any problem means nothing is written, and every problem is
// reported with its path in the file (e.g. applications[1].options.TServer.ha-max-calls-sync-at-once).
import { parseDocument, stringify, isMap, isPair, isSeq, type Document, type Node as YamlNode } from "yaml";
import { z } from "zod";
import type { Db, DbTx } from "../db";
import { AppError, type Problem } from "../errors";
import { recordAudit, recordAudits, type Actor, type AuditRecord } from "../audit/audit.repository";
import * as repo from "../config/config.repository";
import { normaliseOptions } from "../config/config.service";
import {
  applicationShapeSchema,
  hostShapeSchema,
  pairShapeSchema,
  type ApplicationShape,
  type ConfigSnapshot,
  type PairShape,
} from "../config/config.schema";
import { applicationProblems, hostProblems, pairProblems } from "../config/rules";
import { deliveryProblems, touchedHosts } from "../config/delivery-check";
import { boundedRecord, boundedString, OPTION_DN_MAX_CHARS, OPTION_NAME_MAX_CHARS, OPTION_SECTION_MAX_CHARS, OPTION_VALUE_MAX_CHARS, OPTIONS_MAX_COUNT } from "../../protocol/limits";

export const FORMAT_VERSION = 1;
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;
/** The format's deepest value is an application's dns.<DN>.<section>.<option> (6 levels); more is not a configuration. */
export const MAX_YAML_DEPTH = 16;
/**
 * Alias expansions a file may cause (the yaml library's maxAliasCount): a person reusing an anchor or two
 * stays far below it; a "billion laughs" file, aliases of aliases, multiplies past it in a few lines.
 */
export const MAX_YAML_ALIAS_EXPANSIONS = 50;

// Options in the file are bounded as the API bounds them (protocol/limits.ts): names, values, how many.
const scalar = z
  .union([z.string(), z.number(), z.boolean()])
  .transform((v) => String(v))
  .pipe(boundedString(OPTION_VALUE_MAX_CHARS));
const sectionMap = boundedRecord(boundedRecord(scalar, { maxChars: OPTION_NAME_MAX_CHARS, maxCount: OPTIONS_MAX_COUNT, what: "options" }), {
  maxChars: OPTION_SECTION_MAX_CHARS,
  maxCount: OPTIONS_MAX_COUNT,
  what: "sections",
});

const fileApplicationSchema = applicationShapeSchema
  .omit({ options: true })
  .extend({ options: sectionMap.default({}), dns: boundedRecord(sectionMap, { maxChars: OPTION_DN_MAX_CHARS, maxCount: OPTIONS_MAX_COUNT, what: "service DNs" }).default({}) })
  .strict()
  .superRefine((a, ctx) => {
    const count = (sections: Record<string, Record<string, string>>) => Object.values(sections).reduce((n, values) => n + Object.keys(values).length, 0);
    const total = count(a.options) + Object.values(a.dns).reduce((n, sections) => n + count(sections), 0);
    if (total > OPTIONS_MAX_COUNT) ctx.addIssue({ code: "custom", path: ["options"], message: `has ${total} options (service DNs' included); at most ${OPTIONS_MAX_COUNT} are allowed` });
  });

export const configFileSchema = z
  .object({
    version: z.literal(FORMAT_VERSION, { message: `version must be ${FORMAT_VERSION}` }),
    exportedAt: z.string().optional(),
    hosts: z.array(hostShapeSchema).default([]),
    applications: z.array(fileApplicationSchema).default([]),
    pairs: z.array(pairShapeSchema).default([]),
  })
  .strict();
type FileApplication = z.infer<typeof fileApplicationSchema>;

function toShape(a: FileApplication): { app: ApplicationShape; optionPaths: string[] } {
  const { options, dns, ...rest } = a;
  const entries: ApplicationShape["options"] = [];
  const optionPaths: string[] = [];
  for (const [section, values] of Object.entries(options)) {
    for (const [name, value] of Object.entries(values)) {
      entries.push({ dn: "", section, name, value });
      optionPaths.push(`options.${section}.${name}`);
    }
  }
  for (const [dn, sections] of Object.entries(dns)) {
    for (const [section, values] of Object.entries(sections)) {
      for (const [name, value] of Object.entries(values)) {
        entries.push({ dn, section, name, value });
        optionPaths.push(`dns.${dn}.${section}.${name}`);
      }
    }
  }
  return { app: { ...rest, options: entries }, optionPaths };
}

function toFileApplication(app: ApplicationShape) {
  const options: Record<string, Record<string, string>> = {};
  const dns: Record<string, Record<string, Record<string, string>>> = {};
  for (const o of app.options) {
    const target = o.dn === "" ? options : ((dns[o.dn] ??= {}));
    (target[o.section] ??= {})[o.name] = o.value;
  }
  const { options: _o, ...rest } = app;
  return { ...rest, options, ...(Object.keys(dns).length ? { dns } : {}) };
}

export async function exportConfig(db: Db): Promise<string> {
  const snap = await repo.loadSnapshot(db);
  const doc = {
    version: FORMAT_VERSION,
    exportedAt: new Date().toISOString(),
    hosts: snap.hosts,
    applications: snap.applications.map(toFileApplication),
    pairs: snap.pairs,
  };
  return `# Switchyard configuration: hosts, applications with options, HA pairs.\n# Import it on the Import page or with the config.import API; objects are matched by name.\n${stringify(doc, { lineWidth: 0 })}`;
}

function tooDeep(line: number | null): AppError {
  return new AppError("INVALID", `the file nests deeper than ${MAX_YAML_DEPTH} levels${line ? ` (line ${line})` : ""}; a configuration file needs at most 6`);
}

/** The first collection nested deeper than maxDepth, walked without recursion (the depth is what is in question). */
function nodeDeeperThan(root: unknown, maxDepth: number): YamlNode | null {
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 1 }];
  while (stack.length) {
    const { node, depth } = stack.pop()!;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > maxDepth) return node as YamlNode;
    for (const item of node.items as unknown[]) {
      if (isPair(item)) stack.push({ node: item.key, depth: depth + 1 }, { node: item.value, depth: depth + 1 });
      else stack.push({ node: item, depth: depth + 1 });
    }
  }
  return null;
}

/** Line number (1-based) of the node at a path in the YAML document, for messages. */
function lineOf(doc: Document, text: string, path: (string | number)[]): number | null {
  let node: unknown = doc.contents;
  for (const key of path) {
    if (isMap(node) || isSeq(node)) node = (node as { get(k: unknown, keep: true): unknown }).get(key, true);
    else return null;
  }
  const range = (node as YamlNode | undefined)?.range;
  if (!range) return null;
  return text.slice(0, range[0]).split("\n").length;
}

export interface ImportPlan {
  hosts: { created: string[]; updated: string[]; deleted: string[] };
  applications: { created: string[]; updated: string[]; deleted: string[] };
  pairs: { created: string[]; updated: string[]; deleted: string[] };
}

export interface ImportOptions {
  /** Also delete stored objects the file does not name (restore a whole configuration). */
  replace: boolean;
  /** Check only; write nothing. */
  dryRun: boolean;
}

function parseFile(text: string): { file: z.infer<typeof configFileSchema>; doc: Document } {
  if (Buffer.byteLength(text) > MAX_IMPORT_BYTES) {
    throw new AppError("INVALID", `the file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MiB`);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  // The parser recurses per level and reports running out of stack as a syntax error: say what it is.
  if (doc.errors.some((e) => /Maximum call stack/.test(e.message))) throw tooDeep(null);
  if (doc.errors.length) {
    const problems = doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? "?"}`, message: e.message.split("\n")[0]! }));
    throw new AppError("INVALID", `the file is not valid YAML: ${problems[0]!.message}`, problems);
  }
  const deepest = nodeDeeperThan(doc.contents, MAX_YAML_DEPTH);
  if (deepest) throw tooDeep(deepest.range ? text.slice(0, deepest.range[0]).split("\n").length : null);
  let plain: unknown;
  try {
    plain = doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_EXPANSIONS });
  } catch (err) {
    // The yaml library throws a ReferenceError when aliases expand past maxAliasCount (and for an alias
    // to an anchor that is not defined); either is the file's fault, not an internal error.
    if (!(err instanceof ReferenceError)) throw err;
    const excessive = /Excessive alias count/.test(err.message);
    throw new AppError(
      "INVALID",
      excessive
        ? `the file's YAML aliases expand too much: more than ${MAX_YAML_ALIAS_EXPANSIONS} alias expansions are refused (aliases of aliases, a "billion laughs" file); write the repeated values out instead`
        : `the file is not valid YAML: ${err.message}`,
    );
  }
  const parsed = configFileSchema.safeParse(plain);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const path = i.path.map((k) => (typeof k === "number" ? `[${k}]` : `.${String(k)}`)).join("").replace(/^\./, "");
      const line = lineOf(doc, text, i.path as (string | number)[]);
      return { path: path || "(file)", message: `${path || "file"}: ${i.message}${line ? ` (line ${line})` : ""}` };
    });
    throw new AppError("INVALID", `the file does not match the configuration format: ${problems[0]!.message}`, problems);
  }
  return { file: parsed.data, doc };
}

function duplicateProblems(kind: "hosts" | "applications" | "pairs", list: { name: string }[]): Problem[] {
  const seen = new Map<string, number>();
  const problems: Problem[] = [];
  list.forEach((o, i) => {
    const first = seen.get(o.name);
    if (first !== undefined) problems.push({ path: `${kind}[${i}].name`, message: `${kind}[${i}]: ${o.name} is defined twice (also ${kind}[${first}])` });
    else seen.set(o.name, i);
  });
  return problems;
}

/**
 * Line (1-based) of the deepest node of the file that a problem's path ("applications[1].options.TServer.
 * http-port") reaches: the value itself, or the nearest object above it when the path names a field the
 * file spells differently.
 */
function lineOfProblemPath(doc: Document, text: string, path: string): number | null {
  const keys: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) keys.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  for (let n = keys.length; n > 0; n--) {
    const line = lineOf(doc, text, keys.slice(0, n));
    if (line !== null) return line;
  }
  return null;
}

export async function importConfig(db: Db, actor: Actor, text: string, options: ImportOptions): Promise<ImportPlan> {
  const { file, doc } = parseFile(text);
  const converted = file.applications.map(toShape);
  const fileApps = converted.map((c) => normaliseOptions(c.app));

  // Read and checked before the write transaction opens: SQLite has one writer, and the control plane
  // must not wait behind seconds of reading and checking 40,000 options. The transaction then only
  // confirms nothing changed in between (else: try again) and writes.
  const identity = await repo.loadIdentity(db);
  const stored = await repo.loadSnapshot(db);
  let plan: ImportPlan;
  try {
    plan = checkImport(stored, file, converted, fileApps, options);
  } catch (err) {
    if (!(err instanceof AppError) || !err.problems.length) throw err;
    // Every problem says where it is in the file, as format errors do.
    const problems = err.problems.map((p) => {
      const line = lineOfProblemPath(doc, text, p.path);
      return line === null ? p : { ...p, message: `${p.message} (line ${line})` };
    });
    throw new AppError(err.code, problems.length === 1 ? `import refused, nothing was changed: ${problems[0]!.message}` : err.message, problems);
  }
  if (options.dryRun) return plan;
  return db.$transaction(async (tx) => {
    if ((await repo.loadIdentity(tx)) !== identity) {
      throw new AppError("CONFLICT", "the configuration changed while the import was being checked; nothing was changed — run the import again");
    }
    await writeImport(tx, actor, stored, file, fileApps, plan, options);
    return plan;
  });
}

type ConfigFile = z.infer<typeof configFileSchema>;
const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Every rule the UI applies, for every object of the file, against the stored configuration; and what would change. */
function checkImport(stored: repo.IdentifiedSnapshot, file: ConfigFile, converted: ReturnType<typeof toShape>[], fileApps: ApplicationShape[], options: ImportOptions): ImportPlan {
  const keep = <T extends { name: string }>(storedList: T[], fileList: T[]) =>
    options.replace ? fileList : [...storedList.filter((s) => !fileList.some((f) => f.name === s.name)), ...fileList];
  const merged: ConfigSnapshot = {
    hosts: keep(stored.hosts, file.hosts),
    applications: keep(stored.applications, fileApps),
    pairs: keep(stored.pairs, file.pairs),
  };

  const problems: Problem[] = [
    ...duplicateProblems("hosts", file.hosts),
    ...duplicateProblems("applications", fileApps),
    ...duplicateProblems("pairs", file.pairs),
  ];
  const at = (prefix: string, list: Problem[]) => list.map((p) => ({ path: `${prefix}.${p.path}`, message: `${prefix}: ${p.message}` }));
  file.hosts.forEach((h, i) => problems.push(...at(`hosts[${i}]`, hostProblems(h))));
  const pairsNotInFile = merged.pairs.filter((p) => !file.pairs.some((f) => f.name === p.name));
  fileApps.forEach((a, i) => {
    const list = applicationProblems(a, { ...merged, pairs: pairsNotInFile }).map((p) => {
      const m = /^options\[(\d+)\]$/.exec(p.path);
      return m ? { ...p, path: converted[i]!.optionPaths[Number(m[1])] ?? p.path } : p;
    });
    problems.push(...at(`applications[${i}]`, list));
  });
  file.pairs.forEach((p, i) => problems.push(...at(`pairs[${i}]`, pairProblems(p, merged))));
  if (options.replace) {
    // Stored applications the file drops must not leave a stored host or pair dangling.
    for (const p of merged.pairs) {
      for (const role of ["primary", "backup"] as const) {
        if (!merged.applications.some((a) => a.name === p[role])) {
          problems.push({ path: "pairs", message: `pair ${p.name} needs application ${p[role]}, which the file does not contain` });
        }
      }
    }
  }
  if (!problems.length) {
    // What the agents would refuse is refused here too, with its place in the file when it is in the file.
    const changed = { hosts: file.hosts.map((h) => h.name), applications: fileApps.map((a) => a.name), pairs: file.pairs.map((p) => p.name) };
    for (const p of deliveryProblems(merged, touchedHosts(merged, changed))) {
      const list: { name: string }[] = p.owner === "host" ? file.hosts : p.owner === "pair" ? file.pairs : fileApps;
      const i = list.findIndex((o) => o.name === p.name);
      const prefix = i < 0 ? `${p.owner} ${p.name} (stored)` : `${p.owner === "application" ? "applications" : `${p.owner}s`}[${i}]`;
      problems.push({ path: `${prefix}.${p.path}`, message: `${prefix}: ${p.message}` });
    }
  }
  if (problems.length) {
    throw new AppError("INVALID", `import refused, nothing was changed: ${problems.length} problem${problems.length > 1 ? "s" : ""}`, problems);
  }

  const plan: ImportPlan = {
    hosts: { created: [], updated: [], deleted: [] },
    applications: { created: [], updated: [], deleted: [] },
    pairs: { created: [], updated: [], deleted: [] },
  };
  const classify = <T extends { name: string }>(kind: keyof ImportPlan, storedList: T[], fileList: T[]) => {
    for (const f of fileList) {
      const s = storedList.find((x) => x.name === f.name);
      if (!s) plan[kind].created.push(f.name);
      else if (!sameJson(s, f)) plan[kind].updated.push(f.name);
    }
    if (options.replace) plan[kind].deleted = storedList.filter((s) => !fileList.some((f) => f.name === s.name)).map((s) => s.name);
  };
  classify("hosts", stored.hosts, file.hosts);
  classify("applications", stored.applications, fileApps);
  classify("pairs", stored.pairs, file.pairs);
  return plan;
}

/** Writes what checkImport planned, with its audit rows, inside the import's transaction. */
async function writeImport(tx: DbTx, actor: Actor, stored: repo.IdentifiedSnapshot, file: ConfigFile, fileApps: ApplicationShape[], plan: ImportPlan, options: ImportOptions): Promise<void> {
  // Deletions first (pairs, then applications, then hosts), then writes (hosts, applications, pairs).
  // Pairs whose members change are removed and re-created so unique member constraints never clash mid-way.
  const audit = (action: string, objectType: string, name: string, before: unknown, after: unknown) =>
    recordAudit(tx, actor, { action, objectType, objectName: name, before, after, detail: "config import" });
  const touchedPairs = new Set([...plan.pairs.deleted, ...plan.pairs.updated]);
  for (const name of touchedPairs) await repo.deletePair(tx, stored.directory.pairsByName.get(name)!.id);
  for (const name of plan.pairs.deleted) await audit("pair.delete", "pair", name, stored.pairs.find((p) => p.name === name), undefined);
  for (const name of plan.applications.deleted) {
    await repo.deleteApplication(tx, stored.directory.appsByName.get(name)!.id);
    await audit("application.delete", "application", name, stored.applications.find((a) => a.name === name), undefined);
  }
  for (const name of plan.hosts.deleted) {
    await repo.deleteHost(tx, stored.directory.hostsByName.get(name)!.id);
    await audit("host.delete", "host", name, stored.hosts.find((h) => h.name === name), undefined);
  }
  // New objects in a few statements (a large import holds the write lock briefly), changed ones one by one.
  const byName = <T extends { name: string }>(list: T[]) => new Map(list.map((x) => [x.name, x]));
  const storedHosts = byName(stored.hosts);
  const storedApps = byName(stored.applications);
  const storedPairs = byName(stored.pairs);
  const newPairs = (file.pairs as PairShape[]).filter((p) => !storedPairs.has(p.name) || touchedPairs.has(p.name));
  // A re-created pair keeps its stored HA secret: the running servers keep proving the same one.
  const created = await repo.createMany(
    tx,
    { hosts: file.hosts.filter((h) => !storedHosts.has(h.name)), applications: fileApps.filter((a) => !storedApps.has(a.name)), pairs: newPairs },
    stored.directory,
    stored.pairSecrets,
  );
  const hostIds = created.hostIds;
  const appIds = created.appIds;
  const createdAudits: AuditRecord[] = [];
  for (const h of file.hosts) {
    const before = storedHosts.get(h.name);
    if (!before) createdAudits.push({ action: "host.create", objectType: "host", objectName: h.name, after: h, detail: "config import" });
    else if (!sameJson(before, h)) {
      await repo.writeHost(tx, stored.directory.hostsByName.get(h.name)!.id, h);
      await audit("host.update", "host", h.name, before, h);
    }
  }
  for (const a of fileApps) {
    const before = storedApps.get(a.name);
    if (!before) createdAudits.push({ action: "application.create", objectType: "application", objectName: a.name, after: a, detail: "config import" });
    else if (!sameJson(before, a)) {
      await repo.writeApplication(tx, stored.directory.appsByName.get(a.name)!.id, a, hostIds.get(a.host)!);
      await audit("application.update", "application", a.name, before, a);
    }
  }
  for (const p of newPairs) {
    const before = storedPairs.get(p.name);
    createdAudits.push({ action: before ? "pair.update" : "pair.create", objectType: "pair", objectName: p.name, before, after: p, detail: "config import" });
  }
  await recordAudits(tx, actor, createdAudits);
  const count = (k: keyof ImportPlan) => `${plan[k].created.length} created, ${plan[k].updated.length} updated, ${plan[k].deleted.length} deleted`;
  await recordAudit(tx, actor, {
    action: "config.import",
    objectType: "config",
    detail: `hosts: ${count("hosts")}; applications: ${count("applications")}; pairs: ${count("pairs")}${options.replace ? " (replace)" : ""}`,
  });
}
