// The agent's side of the keepers: starts a keeper (detached, its own session, so a kill of the
// agent's process group spares it), connects to a keeper's unix socket and checks its hello (version
// and content, with zod), and finds the keepers an earlier agent left in the state directory.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import {
  KEEPER_PROTOCOL_MIN_VERSION,
  KEEPER_PROTOCOL_VERSION,
  LineDecoder,
  MAX_UNIX_SOCKET_PATH_BYTES,
  keeperHelloEnvelopeSchema,
  keeperHelloSchema,
  keeperPaths,
  keeperSpecSchema,
  keeperStateSchema,
  keeperToAgentSchema,
  parseLine,
  type AgentToKeeper,
  type KeeperHello,
  type KeeperSpec,
  type KeeperState,
  type KeeperToAgent,
} from "./keeper/protocol";
import { signalIfSame } from "./proc";

/** A keeper that has not answered by then is not coming (tsx start-up on a loaded host included). */
/** How long closing a keeper connection waits for what was written to be sent. */
export const KEEPER_CLOSE_FLUSH_MS = 500;

export const KEEPER_START_TIMEOUT_MS = 30_000;
/** Waiting for the hello after a connection opened. */
export const KEEPER_HELLO_TIMEOUT_MS = 5000;
const KEEPER_MAIN = path.join(__dirname, "keeper", "main.ts");
const REPO_ROOT = path.resolve(__dirname, "..");

export function keepersDir(stateDir: string): string {
  return path.join(stateDir, "keepers");
}

export interface KeeperLink {
  hello: KeeperHello;
  /** Sends a message the keeper's protocol version knows; false when the connection is gone. */
  send(msg: AgentToKeeper): boolean;
  /** Leaves the keeper alone (the agent is exiting or giving up on this connection). */
  /** Closes the connection once what was written has been sent (at most KEEPER_CLOSE_FLUSH_MS). */
  close(): Promise<void>;
}

export interface KeeperLinkHandlers {
  onMessage(msg: Exclude<KeeperToAgent, { type: "hello" }>): void;
  /** The connection closed without the agent closing it: the keeper died (or closed on us). */
  onClose(): void;
  log(line: string): void;
}

/** Connects once. Resolves with an error sentence (never throws) when there is no usable keeper. */
export function connectKeeper(socketPath: string, handlers: KeeperLinkHandlers, helloTimeoutMs = KEEPER_HELLO_TIMEOUT_MS): Promise<KeeperLink | { error: string }> {
  return new Promise((resolve) => {
    let settled = false;
    let link: KeeperLink | null = null;
    let closedByUs = false;
    const socket = net.connect(socketPath);
    const timer = setTimeout(() => fail(`no hello within ${helloTimeoutMs} ms`), helloTimeoutMs);
    const fail = (error: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      closedByUs = true;
      socket.destroy();
      resolve({ error });
    };
    const onLine = (line: string) => {
      if (!link) {
        const envelope = parseLine(keeperHelloEnvelopeSchema, line);
        if (!envelope.ok) return fail(`the keeper's first message is not a hello: ${envelope.error}`);
        const v = envelope.value.protocolVersion;
        if (v < KEEPER_PROTOCOL_MIN_VERSION || v > KEEPER_PROTOCOL_VERSION) {
          return fail(`the keeper speaks keeper protocol ${v}; this agent speaks ${KEEPER_PROTOCOL_MIN_VERSION}–${KEEPER_PROTOCOL_VERSION}`);
        }
        const hello = parseLine(keeperHelloSchema, line);
        if (!hello.ok) return fail(`malformed hello from the keeper: ${hello.error}`);
        settled = true;
        clearTimeout(timer);
        link = {
          hello: hello.value,
          send: (msg) => {
            if (socket.destroyed) return false;
            socket.write(`${JSON.stringify(msg)}\n`);
            return true;
          },
          close: () => {
            closedByUs = true;
            // end(), not destroy(): an ack-exit written just before must still reach the keeper.
            return new Promise<void>((done) => {
              const timer = setTimeout(() => {
                socket.destroy();
                done();
              }, KEEPER_CLOSE_FLUSH_MS);
              socket.once("close", () => {
                clearTimeout(timer);
                done();
              });
              socket.end();
            });
          },
        };
        resolve(link);
        return;
      }
      const parsed = parseLine(keeperToAgentSchema, line);
      if (!parsed.ok) {
        handlers.log(`malformed message from the keeper of ${link.hello.application} ignored: ${parsed.error}`);
        return;
      }
      if (parsed.value.type === "hello") {
        handlers.log(`a second hello from the keeper of ${link.hello.application} ignored`);
        return;
      }
      handlers.onMessage(parsed.value);
    };
    const decoder = new LineDecoder(onLine, () => {
      handlers.log(`the keeper at ${socketPath} sent a line longer than the limit; connection dropped`);
      if (!link) fail("the keeper's hello is longer than the limit");
      else socket.destroy();
    });
    socket.on("data", (c: Buffer) => {
      try {
        decoder.push(c);
      } catch (err) {
        handlers.log(`keeper message handling failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      }
    });
    socket.on("error", (err: NodeJS.ErrnoException) => fail(`cannot connect to ${socketPath}: ${err.code ?? err.message}`));
    socket.on("close", () => {
      if (!settled) return fail(`the keeper closed the connection before its hello`);
      if (link && !closedByUs) handlers.onClose();
    });
  });
}

export interface StartedKeeper {
  dir: string;
  link: KeeperLink;
}

/**
 * Writes the spec and starts a keeper for it, then waits for its hello. The keeper runs with the same
 * Node and loader as the agent, detached (own session and process group) with its output in its own
 * keeper.log, so nothing ties it to the agent's life.
 */
export async function startKeeper(stateDir: string, spec: Omit<KeeperSpec, "startId" | "version" | "requestedAt">, handlers: KeeperLinkHandlers): Promise<StartedKeeper | { error: string }> {
  const startId = `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const dir = path.join(keepersDir(stateDir), startId);
  const paths = keeperPaths(dir);
  if (paths.socketIsFile && Buffer.byteLength(paths.socket) > MAX_UNIX_SOCKET_PATH_BYTES) {
    return { error: `the keeper socket path ${paths.socket} is longer than ${MAX_UNIX_SOCKET_PATH_BYTES} bytes; use a shorter --state-dir` };
  }
  let logFd: number;
  try {
    fs.mkdirSync(keepersDir(stateDir), { recursive: true, mode: 0o700 });
    fs.mkdirSync(dir, { mode: 0o700 });
    const full: KeeperSpec = keeperSpecSchema.parse({ ...spec, version: 1, startId, requestedAt: new Date().toISOString() });
    fs.writeFileSync(paths.spec, JSON.stringify(full, null, 2), { mode: 0o600 });
    logFd = fs.openSync(paths.log, "a", 0o600);
  } catch (err) {
    return { error: `cannot prepare the keeper directory ${dir}: ${err instanceof Error ? err.message : String(err)}` };
  }
  let keeperExit: string | null = null;
  let keeperPid: number | undefined;
  try {
    const keeper = spawn(process.execPath, ["--import", "tsx", KEEPER_MAIN, dir], {
      // tsx is resolved from the repository; the application gets its own working directory from the spec.
      cwd: REPO_ROOT,
      detached: true,
      stdio: ["ignore", logFd, logFd],
      windowsHide: true,
    });
    keeper.on("error", (err) => (keeperExit = `the keeper could not be started: ${err.message}`));
    keeper.on("exit", (code, signal) => (keeperExit = `the keeper exited (code ${code}, signal ${signal})`));
    keeper.unref();
    keeperPid = keeper.pid;
  } finally {
    fs.closeSync(logFd);
  }
  const deadlineMs = Date.now() + KEEPER_START_TIMEOUT_MS;
  let lastError = "";
  while (Date.now() < deadlineMs) {
    // The keeper listens once its application is spawned (or failed to): until then, retry.
    if (!paths.socketIsFile || fs.existsSync(paths.socket)) {
      const link = await connectKeeper(paths.socket, handlers);
      if (!("error" in link)) return { dir, link };
      lastError = link.error;
    }
    if (keeperExit) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const why = keeperExit ?? `no answer within ${KEEPER_START_TIMEOUT_MS} ms${lastError ? ` (${lastError})` : ""}`;
  const error = `${why}; keeper log: ${readTail(paths.log, 500) || "(empty)"}`;
  abandonKeeper(dir, keeperExit === null ? keeperPid : undefined);
  return { error };
}

/**
 * A keeper that never answered is not left half-alive: it is still our child (so its pid cannot have
 * been reused), and an application it may have spawned is recorded in its state file with its start
 * time. Both are killed and the directory removed, so the start fails cleanly and the next agent does
 * not take the leftovers for a server that exited.
 */
function abandonKeeper(dir: string, keeperPid: number | undefined): void {
  const app = readKeeperDir(dir).state?.app ?? null;
  if (app) signalIfSame(app, "SIGKILL");
  if (keeperPid) {
    try {
      process.kill(keeperPid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

export interface FoundKeeper {
  dir: string;
  spec: KeeperSpec | null;
  state: KeeperState | null;
  /** Why the directory cannot be used as is (unreadable or corrupt files), or null. */
  problem: string | null;
}

function readJsonFile<T>(file: string, parse: (v: unknown) => { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } }): { value: T | null; problem: string | null } {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { value: null, problem: code === "ENOENT" ? null : `cannot read ${file}: ${code ?? String(err)}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { value: null, problem: `${file} is not JSON` };
  }
  const parsed = parse(json);
  if (!parsed.success) return { value: null, problem: `${file} is malformed: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` };
  return { value: parsed.data, problem: null };
}

/** One keeper directory with its files read and checked. */
export function readKeeperDir(dir: string): FoundKeeper {
  const paths = keeperPaths(dir);
  const spec = readJsonFile(paths.spec, (v) => keeperSpecSchema.safeParse(v));
  const state = readJsonFile(paths.state, (v) => keeperStateSchema.safeParse(v));
  const missingSpec = spec.value === null && spec.problem === null ? `${paths.spec} is missing` : null;
  return { dir, spec: spec.value, state: state.value, problem: spec.problem ?? missingSpec ?? state.problem };
}

/** Every keeper directory under STATE_DIR/keepers (those set aside as *.corrupt excepted). */
export function findKeepers(stateDir: string): FoundKeeper[] {
  let names: string[];
  try {
    names = fs.readdirSync(keepersDir(stateDir));
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.endsWith(".corrupt"))
    .map((name) => path.join(keepersDir(stateDir), name))
    .filter((dir) => fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    .map(readKeeperDir);
}

/** The last maxChars characters of a text file, or "" (best effort: for error messages and lastOutput). */
export function readTail(file: string, maxChars: number): string {
  try {
    const fd = fs.openSync(file, "r");
    try {
      const size = fs.fstatSync(fd).size;
      const bytes = Math.min(size, maxChars * 4);
      const buf = Buffer.alloc(bytes);
      fs.readSync(fd, buf, 0, bytes, size - bytes);
      return buf.toString("utf8").slice(-maxChars);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return "";
  }
}
