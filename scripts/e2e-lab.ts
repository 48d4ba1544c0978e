// The browser tests' server: the demo lab on a fresh database in .tmp/e2e, with the e2e admin, and
// the simulators' readiness settle time shortened (lab knob) so a switchover test does not wait 60 s.
import path from "node:path";
import { root, startLabConsole, stopOnSignals } from "../harness/lab-console";

async function main() {
  const dir = path.join(root, ".tmp", "e2e");
  const lab = await startLabConsole({
    databaseUrl: `file:${path.join(dir, "console.db")}`,
    port: process.env.PORT ?? "3211",
    labDir: path.join(dir, "lab"),
    admin: { username: process.env.SWITCHYARD_ADMIN_USER ?? "e2e-admin", password: process.env.SWITCHYARD_ADMIN_PASSWORD ?? "" },
    // Its own addresses (127.2.x.y), apart from the demo (127.0.x.y) and test files' labs.
    addressBlock: 2,
    serverEnv: { SWITCHYARD_LAB_READINESS_SETTLE_MS: process.env.E2E_READINESS_SETTLE_MS ?? "30000" },
  });
  console.log(`e2e lab console on ${lab.running.url}`);
  stopOnSignals(lab);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});
