// `npm run demo`: the whole lab on loopback, one command. The console (embedded SQLite in
// data/demo.db, a new random admin password printed on every start), one real host agent per lab
// host, and the simulated SIP Servers those agents start: three pairs — ip-takeover (lab VIP driver),
// nlb-cluster, single-host. The Lab page (or its API) injects faults so every workflow can be watched.
import crypto from "node:crypto";
import path from "node:path";
import { ensureBuild, root, startLabConsole, stopOnSignals } from "../harness/lab-console";

async function main() {
  ensureBuild();
  const password = crypto.randomBytes(12).toString("base64url");
  const databaseUrl = process.env.DATABASE_URL ?? `file:${path.join(root, "data", "demo.db")}`;
  const lab = await startLabConsole({
    databaseUrl,
    port: process.env.PORT ?? "3000",
    labDir: path.join(root, "data", "lab"),
    admin: { username: "admin", password },
  });
  console.log("");
  console.log(`  Switchyard demo:  ${lab.running.url}`);
  console.log(`  Log in as:        admin / ${password}   (new password on every start)`);
  console.log(`  Lab:              ${lab.lab.hosts().length} host agents starting their simulated SIP Servers; inject faults on the Lab page`);
  console.log(`  Database:         ${databaseUrl}`);
  console.log("");
  stopOnSignals(lab);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
