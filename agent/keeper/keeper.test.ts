// The keeper socket protocol under bad input, from both ends: the agent refuses a keeper speaking a
// protocol it does not know and ignores malformed or unknown lines; a real keeper refuses malformed
// agent messages and keeps its application; corrupt keeper directories are set aside with a logged
// sentence, never a crash.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { applicationConfigSchema } from "../../protocol/agent-wire";
import { connectKeeper, startKeeper, type KeeperLinkHandlers } from "../keeper-client";
import { Supervisor } from "../supervisor";
import { killKeepersIn, waitFor } from "../test-fixtures/test-console";
import { KEEPER_MAX_LINE_BYTES, KEEPER_PROTOCOL_VERSION, keeperPaths, type KeeperToAgent } from "./protocol";

let dir = "";
const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
  if (dir) {
    killKeepersIn(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function tmpDir(): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "keeper-"));
  return dir;
}

const hello = (protocolVersion: number) => ({
  type: "hello",
  protocolVersion,
  keeperVersion: "test",
  keeperPid: 1,
  application: "app",
  startId: "s1",
  app: { pid: 2, startTimeTicks: 3, bootId: "b" },
  startedAt: new Date().toISOString(),
  role: null,
  epoch: null,
  recordedRole: null,
  exit: null,
});

/** A fake keeper that writes the given lines to whoever connects. */
async function fakeKeeper(lines: string[]): Promise<string> {
  const socketPath = path.join(tmpDir(), "sock");
  const server = net.createServer((s) => {
    s.on("error", () => {});
    for (const line of lines) s.write(line);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(socketPath, () => r()));
  return socketPath;
}

function recordingHandlers() {
  const logged: string[] = [];
  const messages: KeeperToAgent[] = [];
  const handlers: KeeperLinkHandlers = { onMessage: (m) => messages.push(m), onClose: () => {}, log: (l) => logged.push(l) };
  return { logged, messages, handlers };
}

describe("keeper protocol, agent side", () => {
  it("refuses a keeper that speaks a protocol version it does not know, with a sentence", async () => {
    const socketPath = await fakeKeeper([`${JSON.stringify(hello(KEEPER_PROTOCOL_VERSION + 1))}\n`]);
    const r = await connectKeeper(socketPath, recordingHandlers().handlers);
    expect(r).toEqual({ error: `the keeper speaks keeper protocol ${KEEPER_PROTOCOL_VERSION + 1}; this agent speaks 1–${KEEPER_PROTOCOL_VERSION}` });
  });

  it("refuses a first line that is not a hello", async () => {
    const socketPath = await fakeKeeper(["{not json\n"]);
    const r = await connectKeeper(socketPath, recordingHandlers().handlers);
    expect("error" in r && r.error).toContain("the keeper's first message is not a hello: not JSON");
  });

  it("ignores malformed and unknown messages after the hello and still takes the valid ones", async () => {
    const exited = { type: "exited", exit: { code: 4, signal: null, at: new Date().toISOString(), lastOutput: "bye", spawnError: null } };
    const socketPath = await fakeKeeper([`${JSON.stringify(hello(1))}\n`, "garbage\n", `${JSON.stringify({ type: "from-the-future", x: 1 })}\n`, `${JSON.stringify(exited)}\n`]);
    const rec = recordingHandlers();
    const link = await connectKeeper(socketPath, rec.handlers);
    expect("error" in link).toBe(false);
    await waitFor("exited", () => rec.messages.length > 0);
    expect(rec.messages).toEqual([exited]);
    expect(rec.logged.filter((l) => l.startsWith("malformed message from the keeper of app ignored"))).toHaveLength(2);
    if (!("error" in link)) link.close();
  });

  it("drops a connection whose line exceeds the limit instead of buffering it", async () => {
    const socketPath = await fakeKeeper([`${JSON.stringify(hello(1))}\n`, "x".repeat(KEEPER_MAX_LINE_BYTES + 10)]);
    const rec = recordingHandlers();
    let closed = false;
    const link = await connectKeeper(socketPath, { ...rec.handlers, onClose: () => (closed = true) });
    expect("error" in link).toBe(false);
    await waitFor("dropped", () => closed);
    expect(rec.logged.some((l) => l.includes("sent a line longer than the limit"))).toBe(true);
  });
});

describe("keeper process", () => {
  it("refuses malformed agent messages, keeps its application, and holds the exit until acknowledged", async () => {
    const stateDir = tmpDir();
    const config = applicationConfigSchema.parse({ name: "app", type: "t", pair: null, start: { command: process.execPath } });
    const rec = recordingHandlers();
    const started = await startKeeper(
      stateDir,
      {
        application: "app",
        command: process.execPath,
        args: ["-e", "setInterval(() => {}, 1000)"],
        env: {},
        cwd: null,
        logFile: path.join(stateDir, "logs", "app.log"),
        logMaxFileBytes: 4096,
        logMaxRotatedFiles: 1,
        role: null,
        epoch: null,
        secret: "s3cret",
        config,
      },
      rec.handlers,
    );
    if ("error" in started) throw new Error(started.error);
    const paths = keeperPaths(started.dir);
    expect(fs.statSync(paths.socket).mode & 0o077).toBe(0);
    expect(fs.statSync(paths.spec).mode & 0o077).toBe(0);
    // A raw client speaking nonsense: every bad line is answered with an error, nothing dies.
    const raw = net.connect(paths.socket);
    let answers = "";
    raw.on("data", (c: Buffer) => (answers += c.toString()));
    raw.write("not json\n");
    raw.write(`${JSON.stringify({ type: "signal", signal: "SIGBOGUS" })}\n`);
    raw.write(`${JSON.stringify({ type: "ack-exit" })}\n`);
    await waitFor("three refusals", () => answers.split("\n").filter((l) => l.includes('"type":"error"')).length === 3);
    expect(answers).toContain("has not exited; nothing to acknowledge");
    raw.destroy();
    // #13.7: the keeper logs like the agent, one structured line per event, what it refused in a JSON-encoded field.
    await waitFor("the refusals in keeper.log", () => fs.readFileSync(paths.log, "utf8").includes("malformed message from the agent refused"));
    const keeperLog = fs.readFileSync(paths.log, "utf8").trimEnd().split("\n");
    expect(keeperLog.filter((l) => !/^\d{4}-\d\d-\d\dT[\d:.]+Z (INFO|WARN|ERROR) +\[keeper\] /.test(l))).toEqual([]);
    expect(keeperLog.find((l) => l.includes("malformed message from the agent refused"))).toMatch(/ reason="[^"]+"/);
    const appPid = started.link.hello.app!.pid;
    expect(() => process.kill(appPid, 0)).not.toThrow();

    // The exit is held for whichever agent connects next, until it is acknowledged.
    started.link.close();
    process.kill(appPid, "SIGKILL");
    await waitFor("exit recorded", () => JSON.parse(fs.readFileSync(paths.state, "utf8")).exit !== null);
    const next = await connectKeeper(paths.socket, recordingHandlers().handlers);
    if ("error" in next) throw new Error(next.error);
    expect(next.hello.exit).toMatchObject({ code: null, signal: "SIGKILL" });
    next.send({ type: "ack-exit" });
    await waitFor("keeper directory removed", () => !fs.existsSync(started.dir));
  });

  it("sets a corrupt keeper directory aside, and removes one whose keeper never started its application, without reporting an exit", async () => {
    const stateDir = tmpDir();
    const broken = path.join(stateDir, "keepers", "broken-1");
    fs.mkdirSync(broken, { recursive: true });
    fs.writeFileSync(path.join(broken, "spec.json"), "{ this is not json");
    const neverStarted = path.join(stateDir, "keepers", "never-1");
    fs.mkdirSync(neverStarted, { recursive: true });
    const config = applicationConfigSchema.parse({ name: "app", type: "t", pair: null, start: { command: process.execPath } });
    const spec = { version: 1, application: "app", startId: "never-1", command: process.execPath, args: [], env: {}, cwd: null, logFile: path.join(stateDir, "app.log"), logMaxFileBytes: 4096, logMaxRotatedFiles: 1, role: null, epoch: null, secret: "s", config, requestedAt: new Date().toISOString() };
    fs.writeFileSync(path.join(neverStarted, "spec.json"), JSON.stringify(spec));
    const logged: string[] = [];
    const statuses: string[] = [];
    const sup = new Supervisor({
      hostName: "h",
      logDir: path.join(stateDir, "logs"),
      logMaxFileBytes: 4096,
      logMaxRotatedFiles: 1,
      stateDir,
      agentUrl: () => "",
      heldEpoch: () => 0,
      onStatus: (m) => statuses.push(m.status),
      log: (l) => logged.push(l),
    });
    expect(await sup.reattach()).toEqual([]);
    expect(fs.existsSync(`${broken}.corrupt`)).toBe(true);
    expect(logged.join("\n")).toContain(`keeper directory ${broken} is unusable (${path.join(broken, "spec.json")} is not JSON); moved to ${broken}.corrupt`);
    expect(fs.existsSync(neverStarted)).toBe(false);
    expect(sup.state("app")?.status).toBe("stopped");
    expect(statuses).toEqual([]);
  });
});
