// The console-HA browser test's cluster (e2e/console-ha.spec.ts runs it with tsx as its own child
// process, so no server code is loaded into Playwright's): a throwaway PostgreSQL from Debian's packages,
// a database created and migrated on it, three console processes with their pages on (the production
// build in .next: `npm run test:e2e` builds it first) and lab agents running pair-a-iptakeover
// (harness/console-cluster.ts). Once the consoles agree on a leader and the pair has settled it prints one
// JSON line on stdout, {"leader": url, "followers": [url, url]}; progress and errors go to stderr.
// It stops everything (agents and their servers, consoles, PostgreSQL) and exits on SIGTERM or SIGINT,
// and when its stdin closes — its parent died — so keep stdin open when running it by hand:
//   sleep infinity | npx tsx scripts/e2e-cluster.ts
import { startPostgresServer, type PostgresServer } from "../harness/postgres-server";
import { startConsoleCluster, type ConsoleCluster } from "../harness/console-cluster";
import { migrateDatabase } from "../server/db/migrate";

const PAIR = "pair-a-iptakeover";

let server: PostgresServer | null = null;
let cluster: ConsoleCluster | null = null;
/** Until the start has ended (ready, or failed and cleaned up), a stop is only noted. */
let starting = true;
let stopRequested = false;
let stopping: Promise<void> | null = null;

const log = (line: string) => process.stderr.write(`[e2e-cluster] ${line}\n`);

/** Stops what has been started, once (a second signal waits for the first stop), and exits. */
function stop(code: number): Promise<void> {
  stopping ??= (async () => {
    log("stopping the cluster and PostgreSQL…");
    await cluster?.stop().catch((err: unknown) => log(`cluster stop: ${String(err)}`));
    cluster = null;
    try {
      server?.stop();
    } catch (err) {
      log(`PostgreSQL stop: ${String(err)}`);
    }
    server = null;
    process.exit(code);
  })();
  return stopping;
}

async function main(): Promise<void> {
  // A stop asked for while the cluster starts waits for the start to end (it is bounded by its own
  // timeouts, and a failed start has already stopped what it started), then stops what is left.
  const requestStop = () => {
    if (starting) stopRequested = true;
    else void stop(0);
  };
  process.on("SIGTERM", requestStop);
  process.on("SIGINT", requestStop);
  process.stdin.on("end", requestStop);
  process.stdin.on("error", requestStop);
  process.stdin.resume();

  log("starting PostgreSQL…");
  server = await startPostgresServer();
  const url = await server.createDatabase("e2e_ha");
  await migrateDatabase(url);
  if (stopRequested) return stop(0);
  log("starting three consoles and the lab…");
  cluster = await startConsoleCluster({ databaseUrl: url, pairs: [PAIR], consoles: 3, env: { SWITCHYARD_WEB_PAGES: "true" } });
  starting = false;
  if (stopRequested) return stop(0);
  const leader = (await cluster.agreedLeader())!;
  process.stdout.write(`${JSON.stringify({ leader: leader.url, followers: cluster.consoles.filter((c) => c !== leader).map((c) => c.url) })}\n`);
  log(`ready: ${leader.url} leads`);
}

main().catch(async (err: unknown) => {
  starting = false;
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await stop(1);
});
