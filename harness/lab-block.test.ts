// The demo's choice of a loopback block: a block whose lab addresses are held is passed over, a named
// block is refused when held, a kept database keeps its block (refused, saying why, when held). The
// blocks used here are random ones of the test range (20 and up), so no demo or other test is disturbed.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { chooseLabBlock, labListenAddresses, rememberLabBlock, requestedBlock } from "./lab-block";

const rootDir = path.resolve(__dirname, "..");
const held: net.Server[] = [];
const dirs: string[] = [];

function someBlocks(): [number, number] {
  const a = 20 + Math.floor(Math.random() * 229);
  return [a, a + 1];
}

/** Holds the HTTP address of the block's first lab server, as a running demo's server would. */
async function hold(block: number): Promise<void> {
  const { address, port } = labListenAddresses(rootDir, block)[0]!;
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.listen(port, address, () => resolve());
  });
  held.push(s);
}

function labDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lab-block-"));
  dirs.push(d);
  return d;
}

afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((r) => s.close(r))));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("the demo's lab block", () => {
  it("lists every lab server's HTTP address in the block", () => {
    const addrs = labListenAddresses(rootDir, 7);
    expect(addrs).toHaveLength(6);
    for (const a of addrs) {
      expect(a.address).toMatch(/^127\.7\.\d+\.\d+$/);
      expect(a.port).toBeGreaterThan(0);
    }
  });

  it("passes over a block whose addresses another lab holds", async () => {
    const [a, b] = someBlocks();
    await hold(a);
    expect(await chooseLabBlock({ rootDir, labDir: labDir(), databaseKept: false, requested: null, candidates: [a, b] })).toBe(b);
  });

  it("takes the named block when free, refuses it when held", async () => {
    const [a, b] = someBlocks();
    expect(await chooseLabBlock({ rootDir, labDir: labDir(), databaseKept: false, requested: b, candidates: [a] })).toBe(b);
    await hold(b);
    await expect(chooseLabBlock({ rootDir, labDir: labDir(), databaseKept: false, requested: b })).rejects.toThrow(`127.${b}.x.y are in use`);
  });

  it("a kept database keeps the block it was seeded with, and says what to do when that block is held", async () => {
    const [a, b] = someBlocks();
    const dir = labDir();
    rememberLabBlock(dir, b);
    expect(await chooseLabBlock({ rootDir, labDir: dir, databaseKept: true, requested: null, candidates: [a] })).toBe(b);
    await expect(chooseLabBlock({ rootDir, labDir: dir, databaseKept: true, requested: a })).rejects.toThrow(/set up with the lab on 127\.\d+\.x\.y/);
    await hold(b);
    await expect(chooseLabBlock({ rootDir, labDir: dir, databaseKept: true, requested: null })).rejects.toThrow(/start with a new database/);
  });

  it("reads --block or SWITCHYARD_LAB_BLOCK, refusing what is not 0–255", () => {
    expect(requestedBlock(["--block", "5"], {})).toBe(5);
    expect(requestedBlock([], { SWITCHYARD_LAB_BLOCK: "9" })).toBe(9);
    expect(requestedBlock([], {})).toBeNull();
    expect(() => requestedBlock(["--block", "300"], {})).toThrow(/0–255/);
    expect(() => requestedBlock([], { SWITCHYARD_LAB_BLOCK: "x" })).toThrow(/0–255/);
  });
});
