// Where `npm run demo` puts its lab on loopback: a block 127.B.x.y (and a console port) nobody on this
// machine uses yet, so a second demo (another checkout, another user) starts beside the first instead of
// failing on addresses in use. An operator may name the block (`--block N` or SWITCHYARD_LAB_BLOCK).
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { parse } from "yaml";
import { labConfigText } from "../server/lab/lab";

/**
 * Blocks the demo may take, in order: 0 first (the addresses in docs and examples), never 2 (the browser
 * tests' lab, scripts/e2e-lab.ts) nor 20 and up (test files and benches pick theirs at random there).
 */
export const DEMO_BLOCKS: readonly number[] = [0, 1, ...Array.from({ length: 17 }, (_, i) => i + 3)];

interface LabConfigShape {
  applications: { environment?: Record<string, string>; options?: { TServer?: Record<string, string> } }[];
}

/** The TCP addresses the lab's servers listen on in `block` (each server's HTTP interface). */
export function labListenAddresses(rootDir: string, block: number): { address: string; port: number }[] {
  const config = parse(labConfigText(rootDir, block)) as LabConfigShape;
  return config.applications.map((app) => ({
    address: app.environment?.SWITCHYARD_LAB_HTTP_ADDRESS ?? "127.0.0.1",
    port: Number(app.options?.TServer?.["http-port"]),
  }));
}

/** Whether something already listens at (or holds) this TCP address. */
export function tcpInUse(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(true));
    s.listen(port, address, () => s.close(() => resolve(false)));
  });
}

/** A block is free when none of its servers' addresses is held (another lab's server would hold it). */
export async function labBlockFree(rootDir: string, block: number): Promise<boolean> {
  for (const { address, port } of labListenAddresses(rootDir, block)) if (await tcpInUse(address, port)) return false;
  return true;
}

/** `--block N` or SWITCHYARD_LAB_BLOCK=N; null when neither is given. Throws on a value that is not 0–255. */
export function requestedBlock(argv: readonly string[], env: { SWITCHYARD_LAB_BLOCK?: string }): number | null {
  const i = argv.indexOf("--block");
  const raw = i >= 0 ? argv[i + 1] : env.SWITCHYARD_LAB_BLOCK;
  if (raw === undefined || raw === "") return null;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 255) throw new Error(`the lab block must be a whole number 0–255 (127.<block>.x.y), not "${raw}"`);
  return n;
}

/**
 * The block for a demo whose lab state lives in `labDir`: the block it was seeded with when its database
 * is kept (its addresses are in that database), else the one asked for, else the first free of DEMO_BLOCKS.
 * Refuses, saying what to do, when the block it must use is taken.
 */
export async function chooseLabBlock(opts: {
  rootDir: string;
  labDir: string;
  databaseKept: boolean;
  requested: number | null;
  candidates?: readonly number[];
}): Promise<number> {
  const remembered = path.join(opts.labDir, "address-block");
  // A database kept from before the block was remembered was seeded on block 0.
  const seeded = !opts.databaseKept ? null : fs.existsSync(remembered) ? Number(fs.readFileSync(remembered, "utf8").trim()) : 0;
  if (seeded !== null) {
    if (opts.requested !== null && opts.requested !== seeded)
      throw new Error(`this demo's database was set up with the lab on 127.${seeded}.x.y; to use block ${opts.requested}, start with a new database (delete it or set DATABASE_URL)`);
    if (!(await labBlockFree(opts.rootDir, seeded)))
      throw new Error(`the lab addresses 127.${seeded}.x.y of this demo's database are in use (another demo running?); stop it, or start with a new database (delete it or set DATABASE_URL) to get a free block`);
    return seeded;
  }
  if (opts.requested !== null) {
    if (!(await labBlockFree(opts.rootDir, opts.requested))) throw new Error(`the lab addresses 127.${opts.requested}.x.y are in use (another demo or test running?); choose another block`);
    return opts.requested;
  }
  for (const block of opts.candidates ?? DEMO_BLOCKS) if (await labBlockFree(opts.rootDir, block)) return block;
  throw new Error(`every lab block the demo may use (127.{${(opts.candidates ?? DEMO_BLOCKS).join(",")}}.x.y) is in use; name one with --block N`);
}

/** Notes the block beside the lab's state, so a restart with the same database uses it again. */
export function rememberLabBlock(labDir: string, block: number): void {
  fs.mkdirSync(labDir, { recursive: true });
  fs.writeFileSync(path.join(labDir, "address-block"), `${block}\n`);
}

/** `port` when it and the next one (the agents' port) are free on `host`, else the next such pair. */
export async function freeConsolePort(host: string, port: number, tries = 20): Promise<number> {
  for (let p = port; p < port + 2 * tries; p += 2) if (!(await tcpInUse(host, p)) && !(await tcpInUse(host, p + 1))) return p;
  throw new Error(`ports ${port}–${port + 2 * tries - 1} on ${host} are all in use; set PORT`);
}
