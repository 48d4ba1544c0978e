// `npm run demo`: the whole lab on loopback, one command. The console (embedded SQLite in
// data/demo.db, a new random admin password printed on every start), one real host agent per lab
// host, and the simulated SIP Servers those agents start: three pairs — ip-takeover (lab VIP driver),
// nlb-cluster, single-host. The Lab page (or its API) injects faults so every workflow can be watched.
// `npm run demo -- --net` (or SWITCHYARD_LAB_NET=1): the lab on a real network instead (root, Linux):
// hosts in network namespaces, a real VIP moved by the linux-ip driver (harness/net-lab.ts).
// On loopback the lab takes a free block 127.B.x.y (B = 0 unless another demo holds it; `--block N` or
// SWITCHYARD_LAB_BLOCK=N to choose) and, without PORT, the first free console port from 3000 on, so two
// demos can run on one machine.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ensureBuild, root, startLabConsole, stopOnSignals } from "../harness/lab-console";
import { chooseLabBlock, freeConsolePort, rememberLabBlock, requestedBlock } from "../harness/lab-block";
import { NET_LAB_ADDRESSES, NET_LAB_SUBNET, netLabRefusal, startNetLab } from "../harness/net-lab";
import type { RunningConsole } from "../server/console";
import { systemActor } from "../server/audit/audit.repository";

/**
 * An admin API token for the CLI and curl, new on every start (the one of the previous start is
 * revoked), expiring in a day: the README's examples run as printed against the demo.
 */
async function demoToken(running: RunningConsole): Promise<string> {
  const tokens = running.services.apiTokens;
  for (const t of await tokens.list()) if (t.name === "demo-cli" && !t.revokedAt) await tokens.revoke(systemActor, t.id);
  return (await tokens.create(systemActor, { name: "demo-cli", role: "admin", description: "printed by npm run demo", expiresInDays: 1 })).token;
}

async function loopbackDemo(password: string) {
  const databaseUrl = process.env.DATABASE_URL ?? `file:${path.join(root, "data", "demo.db")}`;
  const databaseFile = databaseUrl.replace(/^file:/, "");
  // The lab's state (agents' tokens and state, lab VIPs, its block) belongs to the database it was seeded in.
  const labDir = process.env.DATABASE_URL ? `${databaseFile}-lab` : path.join(root, "data", "lab");
  const databaseKept = fs.existsSync(databaseFile);
  const block = await chooseLabBlock({ rootDir: root, labDir, databaseKept, requested: requestedBlock(process.argv, { SWITCHYARD_LAB_BLOCK: process.env.SWITCHYARD_LAB_BLOCK }) });
  const port = process.env.PORT ?? String(await freeConsolePort(process.env.HOST ?? "127.0.0.1", 3000));
  const lab = await startLabConsole({ databaseUrl, port, labDir, admin: { username: "admin", password }, addressBlock: block });
  rememberLabBlock(labDir, block);
  console.log("");
  console.log(`  Switchyard demo:  ${lab.running.url}`);
  console.log(`  Log in as:        admin / ${password}   (new password on every start)`);
  console.log(`  Lab:              ${lab.lab.hosts().length} host agents starting their simulated SIP Servers; inject faults on the Lab page`);
  console.log(`  Lab addresses:    127.${block}.x.y (--block N or SWITCHYARD_LAB_BLOCK=N to choose)`);
  for (const g of lab.lab.gateways()) console.log(`  SIP gateway:      ${g.contact}, pinged by ${g.servers.join(", ")} (W4: "Unplug SIP NIC (W4)" on their primary switches the pair over)`);
  console.log(`  Database:         ${databaseUrl}`);
  console.log(`  API token:        admin, for the CLI, curl and /metrics (new on every start, expires in a day):`);
  console.log(`                    export SWITCHYARD_URL=${lab.running.url} SWITCHYARD_TOKEN=${await demoToken(lab.running)}`);
  console.log(`                    npx switchyard status`);
  console.log("");
  stopOnSignals(lab);
}

async function netDemo(password: string) {
  // A fresh database every time: the lab's namespaces and tokens are new on every start.
  const net = await startNetLab({ port: process.env.PORT ?? "3000", withPages: true, admin: { username: "admin", password } });
  const ns = net.namespaces;
  console.log("");
  console.log(`  Switchyard demo on a real network:  ${net.running.url}`);
  console.log(`  Log in as:        admin / ${password}   (new password on every start)`);
  console.log(`  Network:          ${NET_LAB_SUBNET} (test-only): net-host-1 ${NET_LAB_ADDRESSES.host1} in ${ns["net-host-1"]}, net-host-2 ${NET_LAB_ADDRESSES.host2} in ${ns["net-host-2"]},`);
  console.log(`                    client ${NET_LAB_ADDRESSES.client} in ${ns.client}, console ${NET_LAB_ADDRESSES.console} (root namespace), VIP ${NET_LAB_ADDRESSES.vip}`);
  console.log(`  SIP to the VIP:   ip netns exec ${ns.client} sipp -sf lab/sipp/options.xml -m 1 -i ${NET_LAB_ADDRESSES.client} -p 5100 ${NET_LAB_ADDRESSES.vip}:5060`);
  console.log(`  Where the VIP is: ip -n ${ns["net-host-1"]} addr show dev eth0; ip -n ${ns["net-host-2"]} addr show dev eth0`);
  console.log(`  Pull a cable:     ip -n ${ns.bridge} link set p-h1 down   (… up to plug it back); crash a server on the Lab page`);
  console.log("");
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log("Stopping the lab (agents, servers, namespaces) and the console…");
    await net.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

async function main() {
  const net = process.argv.includes("--net") || process.env.SWITCHYARD_LAB_NET === "1";
  const refusal = net ? netLabRefusal() : null;
  if (refusal) {
    // Before the build: say at once why it cannot run here.
    console.error(`npm run demo -- --net: ${refusal}`);
    process.exit(2);
  }
  ensureBuild();
  const password = crypto.randomBytes(12).toString("base64url");
  await (net ? netDemo(password) : loopbackDemo(password));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
