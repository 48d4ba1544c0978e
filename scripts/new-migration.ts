// `npm run db:migration -- NAME`: writes prisma/migrations/<NNNN>_<NAME>/migration.sql (SQLite) and
// postgresql.sql (PostgreSQL) with the SQL that takes the previous schema
// (prisma/migrations/schema.snapshot.prisma) to prisma/schema.prisma, then updates the snapshot.
// `prisma migrate dev` needs a shadow database the offline engine cannot give (docs/migrations.md), so
// we diff schema files instead; for PostgreSQL, their PostgreSQL variants (scripts/postgres-schema.ts).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { toPostgresSchema } from "./postgres-schema";

const root = path.resolve(__dirname, "..");
const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run db:migration -- <name in snake_case>");
  process.exit(2);
}
const migrations = path.join(root, "prisma", "migrations");
const snapshot = path.join(migrations, "schema.snapshot.prisma");
const schema = path.join(root, "prisma", "schema.prisma");
function diff(from: string, to: string): string {
  return execFileSync(path.join(root, "node_modules", ".bin", "prisma"), ["migrate", "diff", "--from-schema-datamodel", from, "--to-schema-datamodel", to, "--script"], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  })
    .split("\n")
    .filter((l) => !l.startsWith("Loaded Prisma config"))
    .join("\n");
}
const sql = diff(snapshot, schema);
if (!/\S/.test(sql.replace(/^--.*$/gm, ""))) {
  console.log("The schema has not changed since the last migration; nothing written.");
  process.exit(0);
}
const next = String(fs.readdirSync(migrations).filter((d) => /^\d{4}_/.test(d)).length + 1).padStart(4, "0");
const dir = path.join(migrations, `${next}_${name}`);
const variants = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-migration-"));
const postgres = (file: string, name: string) => {
  const out = path.join(variants, name);
  fs.writeFileSync(out, toPostgresSchema(fs.readFileSync(file, "utf8")));
  return out;
};
const postgresSql = diff(postgres(snapshot, "before.prisma"), postgres(schema, "after.prisma"));
fs.rmSync(variants, { recursive: true, force: true });
fs.mkdirSync(dir);
fs.writeFileSync(path.join(dir, "migration.sql"), sql);
fs.writeFileSync(path.join(dir, "postgresql.sql"), postgresSql);
fs.copyFileSync(schema, snapshot);
console.log(`Wrote ${path.relative(root, dir)}/migration.sql (SQLite) and postgresql.sql (PostgreSQL); they are applied on the next start.`);
