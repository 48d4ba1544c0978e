// The keeper's contract with the agent: the files in a keeper's directory (spec.json written by the
// agent, state.json written by the keeper) and the messages on its unix socket (one JSON object per
// line, validated with zod on both ends). Versioned so that an upgraded agent can still talk to the
// keepers an older agent started (see agent/DECISIONS.md, "Keeper protocol").
import path from "node:path";
import { z } from "zod";
import { applicationConfigSchema } from "../../protocol/agent-wire";
import { appRoles } from "../../protocol/app-contract";

/**
 * The keeper protocol this code speaks. Rule for changes: a new version only adds message types and
 * optional fields; an agent speaks every version from KEEPER_PROTOCOL_MIN_VERSION up to its own and
 * sends a keeper only the messages its announced version knows. A keeper announcing a version
 * outside that range is treated as unreachable (pid check with start time, DECISIONS.md).
 */
export const KEEPER_PROTOCOL_VERSION = 1;
export const KEEPER_PROTOCOL_MIN_VERSION = 1;
/** A line longer than this is not a keeper message; the connection is dropped with a logged error. */
export const KEEPER_MAX_LINE_BYTES = 64 * 1024;
/** The files of one keeper's directory (STATE_DIR/keepers/<startId>/). */
export const KEEPER_FILE_NAMES = { spec: "spec.json", state: "state.json", socket: "sock", log: "keeper.log" } as const;
/** Linux limit for a unix socket path (sun_path is 108 bytes including the terminating NUL). */
export const MAX_UNIX_SOCKET_PATH_BYTES = 107;

/** Windows has no unix sockets in directories; a named pipe per keeper stands in (untested there). */
const USES_NAMED_PIPES = process.platform === "win32";

export function keeperPaths(dir: string) {
  return {
    dir,
    spec: path.join(dir, KEEPER_FILE_NAMES.spec),
    state: path.join(dir, KEEPER_FILE_NAMES.state),
    socket: USES_NAMED_PIPES ? `\\\\.\\pipe\\switchyard-keeper-${path.basename(dir)}` : path.join(dir, KEEPER_FILE_NAMES.socket),
    /** A unix socket is a file to wait for and to remove when stale; a named pipe is neither. */
    socketIsFile: !USES_NAMED_PIPES,
    log: path.join(dir, KEEPER_FILE_NAMES.log),
  };
}

const roleSchema = z.enum(appRoles);
const identitySchema = z
  .object({ pid: z.number().int().positive(), startTimeTicks: z.number().int().min(0).nullable(), bootId: z.string().nullable() })
  .strict();
export const exitRecordSchema = z
  .object({
    code: z.number().int().nullable(),
    signal: z.string().nullable(),
    at: z.string(),
    /** The tail of what the application wrote (stdout and stderr as they came). */
    lastOutput: z.string(),
    /** Set when the application could not be spawned at all (then code and signal are null). */
    spawnError: z.string().nullable().default(null),
  })
  .strict();
export type ExitRecord = z.infer<typeof exitRecordSchema>;

/** Written by the agent before it starts a keeper; mode 0600 (it holds the per-start secret). */
export const keeperSpecSchema = z
  .object({
    version: z.literal(1),
    application: z.string().min(1),
    startId: z.string().min(1),
    command: z.string().min(1),
    args: z.array(z.string()),
    /** Added to the environment the keeper inherited from the agent. */
    env: z.record(z.string(), z.string()),
    cwd: z.string().nullable(),
    logFile: z.string().min(1),
    logMaxFileBytes: z.number().int().min(1024),
    logMaxRotatedFiles: z.number().int().min(0).max(100),
    /** The role and epoch the application is started in (null: an application in no pair). */
    role: roleSchema.nullable(),
    epoch: z.number().int().min(0).nullable(),
    /** SWITCHYARD_APP_SECRET of this start, so a restarted agent can still talk to the application. */
    secret: z.string().min(1),
    /** The application's configuration at its start: a restarted agent knows it before the console does. */
    config: applicationConfigSchema,
    requestedAt: z.string(),
  })
  .strict();
export type KeeperSpec = z.infer<typeof keeperSpecSchema>;

/** What a keeper knows about its application: in its state file and in its hello alike. */
const keeperRecordFields = {
  application: z.string().min(1),
  startId: z.string().min(1),
  /** null until spawned, and when the spawn failed. */
  app: identitySchema.nullable(),
  startedAt: z.string(),
  /** The role and epoch it was started in. */
  role: roleSchema.nullable(),
  epoch: z.number().int().min(0).nullable(),
  /** The role the agent last recorded for it (set-role on an application without http-port). */
  recordedRole: z.object({ role: roleSchema, epoch: z.number().int().min(0) }).strict().nullable(),
  /** The exit, kept until an agent acknowledges it (also one that happened while no agent was connected). */
  exit: exitRecordSchema.nullable(),
};

/** Written by the keeper (atomically, tmp + rename) whenever something changes. */
export const keeperStateSchema = z
  .object({ version: z.literal(1), protocolVersion: z.number().int().min(1), keeper: identitySchema, ...keeperRecordFields })
  .strict();
export type KeeperState = z.infer<typeof keeperStateSchema>;

// ---------------------------------------------------------------------------------------------
// Socket messages, keeper → agent
// ---------------------------------------------------------------------------------------------

/**
 * The first line on every connection. Its envelope (type + protocolVersion) must stay readable by
 * every version, so it is checked on its own before the rest.
 */
export const keeperHelloEnvelopeSchema = z.object({ type: z.literal("hello"), protocolVersion: z.number().int().min(1) }).passthrough();
export const keeperHelloSchema = z
  .object({
    type: z.literal("hello"),
    protocolVersion: z.number().int().min(1),
    keeperVersion: z.string(),
    keeperPid: z.number().int().positive(),
    ...keeperRecordFields,
  })
  .strict();
export type KeeperHello = z.infer<typeof keeperHelloSchema>;

export const keeperToAgentSchema = z.discriminatedUnion("type", [
  keeperHelloSchema,
  z.object({ type: z.literal("exited"), exit: exitRecordSchema }).strict(),
  /** The keeper refused a message from the agent (malformed, unknown type). */
  z.object({ type: z.literal("error"), message: z.string() }).strict(),
]);
export type KeeperToAgent = z.infer<typeof keeperToAgentSchema>;

// ---------------------------------------------------------------------------------------------
// Socket messages, agent → keeper
// ---------------------------------------------------------------------------------------------

export const keeperSignals = ["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP"] as const;
export const agentToKeeperSchema = z.discriminatedUnion("type", [
  /** Signal the application (stop, startup timeout). The keeper knows its child: no pid reuse risk. */
  z.object({ type: z.literal("signal"), signal: z.enum(keeperSignals) }).strict(),
  /** Remember the role the agent recorded, so a restarted agent reports it. */
  z.object({ type: z.literal("record-role"), role: roleSchema, epoch: z.number().int().min(0) }).strict(),
  /** The agent has taken the exit over: the keeper removes its directory and exits. */
  z.object({ type: z.literal("ack-exit") }).strict(),
]);
export type AgentToKeeper = z.infer<typeof agentToKeeperSchema>;

/**
 * Splits a byte stream into lines, bounded: a line longer than KEEPER_MAX_LINE_BYTES is reported
 * through onOverflow (the caller drops the connection) instead of growing without limit.
 */
export class LineDecoder {
  private buffered = "";

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
    private readonly maxLineBytes = KEEPER_MAX_LINE_BYTES,
  ) {}

  push(chunk: Buffer | string): void {
    this.buffered += chunk.toString();
    let nl: number;
    while ((nl = this.buffered.indexOf("\n")) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (line.trim()) this.onLine(line);
    }
    if (Buffer.byteLength(this.buffered) > this.maxLineBytes) {
      this.buffered = "";
      this.onOverflow();
    }
  }
}

/** Parses one line: JSON first, then the schema; a sentence on failure, never a throw. */
export function parseLine<T extends z.ZodType>(schema: T, line: string): { ok: true; value: z.infer<T> } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, error: `not JSON: ${line.slice(0, 120)}` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, error: parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ") };
  }
  return { ok: true, value: parsed.data };
}

/** Keeps the last maxChars characters of a stream. */
export class OutputTail {
  private text = "";

  constructor(private readonly maxChars: number) {}

  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.maxChars * 2) this.text = this.text.slice(-this.maxChars);
  }

  value(): string {
    return this.text.slice(-this.maxChars);
  }
}
