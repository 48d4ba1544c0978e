// The per-application keeper (the containerd-shim / conmon pattern): started detached by the agent,
// it owns one application as its child, writes the application's stdout/stderr to its rotating log,
// keeps the exit status until an agent has acknowledged it, and answers the agent on a unix socket in
// its directory. It outlives the agent, so an agent restart or upgrade leaves the application alone.
// Usage: node --import tsx agent/keeper/main.ts <keeper directory holding spec.json>
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { LAST_OUTPUT_MAX_CHARS } from "../../protocol/agent-wire";
import { configureLogging, logger } from "../../protocol/log";
import { identityOf } from "../proc";
import { RotatingLog } from "../rotating-log";
import {
  KEEPER_PROTOCOL_VERSION,
  LineDecoder,
  OutputTail,
  agentToKeeperSchema,
  keeperPaths,
  keeperSpecSchema,
  parseLine,
  type AgentToKeeper,
  type ExitRecord,
  type KeeperSpec,
  type KeeperState,
  type KeeperToAgent,
} from "./protocol";

export const KEEPER_VERSION = "0.1.0";
/** After the application's exit, how long to wait for its last output to drain before reporting. */
const OUTPUT_DRAIN_MS = 1000;

// The keeper's own stdout is its keeper.log (opened by the agent), never a pipe to the agent. It logs
// like the agent (protocol/log.ts): a sentence and JSON-encoded fields, LOG_FORMAT=json for shippers.
const log = logger("keeper");

function readSpec(file: string): KeeperSpec {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    log.error("cannot read the keeper spec", { file, error: err instanceof Error ? err.message : String(err) });
    process.exit(2);
  }
  const parsed = keeperSpecSchema.safeParse(json);
  if (!parsed.success) {
    log.error("not a keeper spec", { file, problems: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
    process.exit(2);
  }
  return parsed.data;
}

/** After its application exited, a keeper waits this long for an agent to acknowledge, then exits (state.json keeps the exit). */
const KEEPER_LINGER_AFTER_EXIT_MS = 10 * 60_000;

function main(): void {
  configureLogging({ level: "info", format: process.env.LOG_FORMAT === "json" ? "json" : "text" });
  const dir = process.argv[2];
  if (!dir) {
    log.error("usage: keeper/main.ts KEEPER_DIR");
    process.exit(2);
  }
  // Everything the keeper creates (socket, state file) is for the agent's user only.
  process.umask(0o077);
  // Whatever goes wrong inside the keeper, it must not take the server's output pipe and exit status
  // down with it: log and carry on (a full disk for keeper.log included).
  process.stdout.on("error", () => {});
  process.on("uncaughtException", (err) => log.error("unexpected error (kept running)", { keeper: process.pid, error: err.stack ?? err.message }));
  process.on("unhandledRejection", (err) => log.error("unexpected rejection (kept running)", { keeper: process.pid, error: String(err) }));
  const paths = keeperPaths(dir);
  const spec = readSpec(paths.spec);
  const state: KeeperState = {
    version: 1,
    protocolVersion: KEEPER_PROTOCOL_VERSION,
    application: spec.application,
    startId: spec.startId,
    keeper: identityOf(process.pid),
    app: null,
    startedAt: new Date().toISOString(),
    role: spec.role,
    epoch: spec.epoch,
    recordedRole: null,
    exit: null,
  };
  const writeState = () => {
    try {
      fs.writeFileSync(`${paths.state}.tmp`, JSON.stringify(state, null, 2), { mode: 0o600 });
      fs.renameSync(`${paths.state}.tmp`, paths.state);
    } catch (err) {
      log.error("cannot write the keeper state", { keeper: process.pid, file: paths.state, error: err instanceof Error ? err.message : String(err) });
    }
  };

  // While its application runs, a keeper is not stopped by signals meant for a terminal or a service:
  // dying would lose the output pipe and the exit event. Once the exit is recorded in state.json (which
  // a returning agent reads when no keeper answers), a signal ends the keeper.
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.on(sig, () => {
      if (state.exit) {
        log.info("signalled after the exit was recorded; exiting", { keeper: process.pid, signal: sig, state: paths.state });
        process.exit(0);
      }
      log.warn("signal ignored: the keeper exits after its application's exit is acknowledged", { keeper: process.pid, signal: sig });
    });
  }

  const logFile = new RotatingLog(spec.logFile, { maxFileBytes: spec.logMaxFileBytes, maxRotatedFiles: spec.logMaxRotatedFiles });
  const tail = new OutputTail(LAST_OUTPUT_MAX_CHARS);
  let logFailureSaid = false;
  const capture = (chunk: Buffer) => {
    tail.push(chunk);
    try {
      logFile.write(chunk);
    } catch (err) {
      // A full disk must not take the keeper down: the output is lost, the application is not.
      if (!logFailureSaid) log.error("cannot write the application's log", { keeper: process.pid, file: spec.logFile, error: String(err) });
      logFailureSaid = true;
    }
  };

  let agent: net.Socket | null = null;
  const send = (msg: KeeperToAgent) => {
    if (agent && !agent.destroyed) agent.write(`${JSON.stringify(msg)}\n`);
  };
  const hello = (): KeeperToAgent => ({
    type: "hello",
    protocolVersion: KEEPER_PROTOCOL_VERSION,
    keeperVersion: KEEPER_VERSION,
    application: state.application,
    startId: state.startId,
    keeperPid: process.pid,
    app: state.app,
    startedAt: state.startedAt,
    role: state.role,
    epoch: state.epoch,
    recordedRole: state.recordedRole,
    exit: state.exit,
  });

  let child: ChildProcess | null = null;
  const finishExit = (exit: ExitRecord) => {
    if (state.exit) return;
    state.exit = exit;
    // The agent first (a failover waits for it), then the file: an acknowledgement can only be read
    // after this function returns, so the exit is in state.json before the keeper may go.
    send({ type: "exited", exit });
    logFile.close();
    writeState();
    const holding = { keeper: process.pid, application: spec.application, lingerMs: KEEPER_LINGER_AFTER_EXIT_MS };
    if (exit.spawnError) log.error("the application could not be started; holding the exit until an agent acknowledges it", { ...holding, error: exit.spawnError });
    else log.info("the application exited; holding the exit until an agent acknowledges it", { ...holding, code: exit.code, signal: exit.signal });
    // No keeper lives forever: without an agent to hear it, the exit stays in state.json for the next one.
    setTimeout(() => {
      log.warn("no agent acknowledged the exit in time; it stays recorded; exiting", { keeper: process.pid, lingerMs: KEEPER_LINGER_AFTER_EXIT_MS, state: paths.state });
      process.exit(0);
    }, KEEPER_LINGER_AFTER_EXIT_MS).unref();
  };

  const onMessage = (msg: AgentToKeeper, from: net.Socket) => {
    switch (msg.type) {
      case "signal":
        if (!child || state.exit || child.exitCode !== null || child.signalCode !== null) {
          from.write(`${JSON.stringify({ type: "error", message: `${spec.application} is not running; ${msg.signal} not sent` })}\n`);
          return;
        }
        log.info("signalling the application for the agent", { keeper: process.pid, application: spec.application, pid: child.pid, signal: msg.signal });
        child.kill(msg.signal);
        return;
      case "record-role":
        state.recordedRole = { role: msg.role, epoch: msg.epoch };
        writeState();
        return;
      case "ack-exit":
        if (!state.exit) {
          from.write(`${JSON.stringify({ type: "error", message: `${spec.application} has not exited; nothing to acknowledge` })}\n`);
          return;
        }
        log.info("exit acknowledged by the agent; removing the keeper directory and exiting", { keeper: process.pid });
        server.close();
        fs.rmSync(dir, { recursive: true, force: true });
        process.exit(0);
    }
  };

  const server = net.createServer((socket) => {
    // The newest agent wins: an older connection is most likely an agent that is going away.
    if (agent && agent !== socket) agent.destroy();
    agent = socket;
    socket.on("error", () => {}); // a vanished agent is normal
    socket.on("close", () => {
      if (agent === socket) agent = null;
    });
    const decoder = new LineDecoder(
      (line) => {
        const parsed = parseLine(agentToKeeperSchema, line);
        if (!parsed.ok) {
          log.warn("malformed message from the agent refused", { keeper: process.pid, reason: String(parsed.error) });
          socket.write(`${JSON.stringify({ type: "error", message: `malformed message refused: ${parsed.error}` })}\n`);
          return;
        }
        onMessage(parsed.value, socket);
      },
      () => {
        log.warn("a line longer than the limit arrived; closing that connection", { keeper: process.pid });
        socket.destroy();
      },
    );
    socket.on("data", (c: Buffer) => decoder.push(c));
    socket.write(`${JSON.stringify(hello())}\n`);
  });
  server.on("error", (err) => log.error("the keeper's socket failed (the agent will fall back to checking the pid)", { keeper: process.pid, socket: paths.socket, error: err.message }));
  const listen = () => {
    if (paths.socketIsFile) fs.rmSync(paths.socket, { force: true });
    server.listen(paths.socket, () => log.info("listening", { keeper: process.pid, application: spec.application, socket: paths.socket }));
  };

  try {
    child = spawn(spec.command, spec.args, {
      cwd: spec.cwd ?? undefined,
      env: { ...process.env, ...spec.env },
      shell: false,
      windowsHide: true,
      // stdin is a pipe from the keeper: it closes when the keeper dies, which an application may watch.
      stdio: ["pipe", "pipe", "pipe"],
    });
  } catch (err) {
    finishExit({ code: null, signal: null, at: new Date().toISOString(), lastOutput: "", spawnError: err instanceof Error ? err.message : String(err) });
    listen();
    return;
  }
  const started = child;
  started.stdout?.on("data", capture);
  started.stderr?.on("data", capture);
  started.stdin?.on("error", () => {}); // EPIPE when the application closes its stdin is not our failure
  let spawned = false;
  started.on("spawn", () => {
    spawned = true;
    state.app = identityOf(started.pid!);
    writeState();
    log.info("the application started", { keeper: process.pid, application: spec.application, pid: started.pid });
    listen();
  });
  started.on("error", (err) => {
    if (spawned) return; // errors after spawn (kill of an exited child) are followed by 'exit'
    finishExit({ code: null, signal: null, at: new Date().toISOString(), lastOutput: "", spawnError: err.message });
    listen();
  });
  started.on("exit", (code, signal) => {
    const at = new Date().toISOString();
    const report = () => finishExit({ code, signal, at, lastOutput: tail.value(), spawnError: null });
    // 'close' follows once the pipes are drained; a grandchild holding them open must not delay the report.
    const timer = setTimeout(report, OUTPUT_DRAIN_MS);
    started.once("close", () => {
      clearTimeout(timer);
      report();
    });
  });
}

main();
