// The `switchyard` command: what an operations team runs beside `patronictl` and `pcs` — status of the
// pairs (`--watch`, `--json`), switchover with its plan followed to the end, alarms (list, acknowledge,
// clear), configuration export and import, hosts, and the audit / alarm-history exports. It talks to a
// console's REST API with an API token (SWITCHYARD_URL, SWITCHYARD_TOKEN or --token-file) and exits
// with codes scripts can branch on (exit-codes.ts). Arguments are parsed with node:util parseArgs.
import fs from "node:fs";
import { parseArgs } from "node:util";
import { CliError, ConsoleClient } from "./client";
import { EXIT, EXIT_HELP, type ExitCode } from "./exit-codes";
import { age, pairNotes, PAIR_HEADER, pairRows, renderStatus, table, type Alarm, type HostState, type ImportPlan, type PairView, type Status, type SwitchoverOutcome, type TimelineEntry } from "./format";

const DEFAULT_URL = "http://127.0.0.1:3000";

const COMMON = `Connection (every command):
  --url URL          the console's web port (default: SWITCHYARD_URL, else ${DEFAULT_URL})
  --token-file FILE  a file holding the API token (default: the SWITCHYARD_TOKEN variable)
An admin creates tokens on the Users page (API tokens) or with POST /api/v1/tokens.`;

const HELP: Record<string, string> = {
  main: `switchyard: the Switchyard console from the command line

Usage: switchyard <command> [options]

Commands:
  status                     pairs, roles, readiness, HA link, VIP, agents and alarms (like crm_mon)
  hosts                      host agents: connection, last heartbeat, version
  switchover PAIR            switch a pair over and follow its plan until done
  alarms                     active alarms; alarms ack|clear ID --note TEXT; alarms history
  maintenance PAIR on|off    put a pair in maintenance (the controller decides nothing) or end it
  config export|import       the configuration as YAML (import: --check to only check)
  audit export               the audit log as CSV or JSON
  whoami                     the token's name and role

Run switchyard <command> --help for a command's options.

${COMMON}

${EXIT_HELP}
`,
  status: `Usage: switchyard status [--watch] [--interval SECONDS] [--json]

One row per server: pair, HA type, epoch, server, host, role, process status, ready for
switchover, HA link, VIP (where the controller holds it), agent connection; then plans in
progress, held failovers, split brains and alarms per pair.

  --watch            redraw every --interval seconds (default 2) until Ctrl-C; with --json,
                     one JSON document per line
  --json             GET /api/v1/status as it is (pairs, hosts, alarm counts)

${COMMON}
`,
  hosts: `Usage: switchyard hosts [--json]

Every host of a pair and every host whose agent connected: its agent's state, since when,
its last heartbeat and version.

${COMMON}
`,
  switchover: `Usage: switchyard switchover PAIR [--force --reason TEXT] [--timeout SECONDS] [--no-wait] [--json]

Asks the controller to make PAIR's backup primary (PAIR: its name or id), then prints the
pair's timeline for the plan as it happens (orders, the agents' results, the outcome) and the
pair's roles when it is done.

  --force            switch even though a server is not ready (W12); needs --reason
  --reason TEXT      why (at least 5 characters with --force); recorded in the timeline and audit
  --timeout SECONDS  give up following after this long (default 120; exit 1)
  --no-wait          return once the controller accepted (exit 0) or refused (exit 1)
  --json             print the outcome and the final pair view as JSON

Exit 0 when the former backup is primary, 1 when the controller refused, the plan was
abandoned, or it did not finish within --timeout.

${COMMON}
`,
  alarms: `Usage:
  switchyard alarms [--json]                         active alarms, most severe first
  switchyard alarms ack ID --note TEXT               acknowledge (it stays active; operator)
  switchyard alarms clear ID --note TEXT             clear (it moves to the history; operator)
  switchyard alarms history [--severity S] [--application NAME] [--format csv|json] [--output FILE]
                                                      cleared alarms as CSV (default) or JSON

${COMMON}
`,
  config: `Usage:
  switchyard config export [FILE]                    the configuration as YAML (to FILE or stdout; admin)
  switchyard config import FILE [--check] [--replace] [--json]
                                                      import YAML (admin); --check only checks it,
                                                      --replace also deletes what FILE does not name

An import with any problem changes nothing: each problem is printed with its path in FILE,
and the exit code is 1.

${COMMON}
`,
  audit: `Usage: switchyard audit export [--format csv|json] [--actor NAME] [--action PREFIX]
                               [--object-type TYPE] [--object NAME] [--from ISO] [--to ISO] [--output FILE]

The audit log's entries matching the filters (those of the Audit page), newest first.

${COMMON}
`,
  maintenance: `Usage:
  switchyard maintenance PAIR on --reason TEXT [--until ISO]
  switchyard maintenance PAIR off

Puts PAIR (its name or id) in maintenance, or ends it (operator). In maintenance the controller
observes the pair and takes no decision of its own — no failover, no autostart — until it ends,
with off or at --until (an ISO 8601 time at most 30 days ahead). Prints the controller's sentence.

Exit 0 when the controller took it, 1 when it refused (the sentence says why).

${COMMON}
`,
  whoami: `Usage: switchyard whoami [--json]

The API token's name and role, as the console sees it.

${COMMON}
`,
};

const out = (text: string): void => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
const err = (text: string): void => void process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);

function usage(message: string, command?: string): never {
  throw new CliError(EXIT.USAGE, `${message}\nRun switchyard ${command ? `${command} ` : ""}--help for usage.`);
}

type Values = Record<string, string | boolean | undefined>;

function parse(command: string, args: string[], options: Record<string, { type: "string" | "boolean" }>): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, url: { type: "string" }, "token-file": { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: true,
    });
    return { values: values as Values, positionals };
  } catch (e) {
    usage(e instanceof Error ? e.message : String(e), command);
  }
}

function clientFrom(values: Values): ConsoleClient {
  const url = (values.url as string | undefined) ?? process.env.SWITCHYARD_URL ?? DEFAULT_URL;
  if (!/^https?:\/\/[^/]/.test(url)) usage(`--url (or SWITCHYARD_URL) must be an http:// or https:// URL of the console's web port; got ${url}`);
  let token = process.env.SWITCHYARD_TOKEN?.trim();
  const file = values["token-file"] as string | undefined;
  if (file) {
    try {
      token = fs.readFileSync(file, "utf8").trim();
    } catch (e) {
      usage(`cannot read the token file ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (!token) throw new CliError(EXIT.AUTH, "no API token: set SWITCHYARD_TOKEN or pass --token-file FILE (an admin creates tokens on the Users page)");
  return new ConsoleClient(url.replace(/\/+$/, ""), token);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function seconds(value: string | boolean | undefined, name: string, fallback: number, command: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400) usage(`${name} must be a number of seconds between 0 and 86400; got ${String(value)}`, command);
  return n;
}

function writeOutput(text: string, file: string | undefined, what: string): void {
  if (!file) return out(text);
  try {
    fs.writeFileSync(file, text);
  } catch (e) {
    throw new CliError(EXIT.USAGE, `cannot write ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  err(`wrote ${what} to ${file}`);
}

// ---- commands ------------------------------------------------------------------------------------

async function status(args: string[]): Promise<ExitCode> {
  const { values, positionals } = parse("status", args, { watch: { type: "boolean" }, interval: { type: "string" }, json: { type: "boolean" } });
  if (values.help) return help("status");
  if (positionals.length) usage(`status takes no arguments; got ${positionals.join(" ")}`, "status");
  const client = clientFrom(values);
  const intervalMs = seconds(values.interval, "--interval", 2, "status") * 1000;
  for (;;) {
    const s = await client.json<Status>("GET", "/api/v1/status");
    if (values.json) out(values.watch ? JSON.stringify(s) : JSON.stringify(s, null, 2));
    else if (values.watch && process.stdout.isTTY) process.stdout.write(`\x1b[H\x1b[2J${renderStatus(s, client.baseUrl)}\n`);
    else out(`${renderStatus(s, client.baseUrl)}${values.watch ? "\n" : ""}`);
    if (!values.watch) return EXIT.OK;
    await sleep(intervalMs);
  }
}

async function hosts(args: string[]): Promise<ExitCode> {
  const { values, positionals } = parse("hosts", args, { json: { type: "boolean" } });
  if (values.help) return help("hosts");
  if (positionals.length) usage(`hosts takes no arguments; got ${positionals.join(" ")}`, "hosts");
  const s = await clientFrom(values).json<Status>("GET", "/api/v1/status");
  const live = new Map(s.hosts.map((h) => [h.hostName, h]));
  const names = [...new Set([...s.pairs.flatMap((p) => p.servers.map((x) => x.hostName)), ...live.keys()])].sort();
  const list = names.map((name): HostState & { pairs: string[] } => ({
    ...(live.get(name) ?? { hostName: name, state: "disconnected", reason: "its agent has not connected since the console started", since: "", lastHeartbeatAt: null, agentVersion: null, socketOpen: false }),
    pairs: s.pairs.filter((p) => p.servers.some((x) => x.hostName === name)).map((p) => p.name),
  }));
  if (values.json) out(JSON.stringify(list, null, 2));
  else out(table(["HOST", "AGENT", "SINCE", "HEARTBEAT", "VERSION", "PAIRS", "REASON"], list.map((h) => [h.hostName, h.state, h.since ? age(h.since) : "-", age(h.lastHeartbeatAt), h.agentVersion ?? "-", h.pairs.join(",") || "-", h.reason])));
  return EXIT.OK;
}

async function switchover(args: string[]): Promise<ExitCode> {
  const { values, positionals } = parse("switchover", args, {
    force: { type: "boolean" },
    reason: { type: "string" },
    timeout: { type: "string" },
    "no-wait": { type: "boolean" },
    json: { type: "boolean" },
  });
  if (values.help) return help("switchover");
  if (positionals.length !== 1) usage(`switchover takes one pair (its name or id); got ${positionals.length ? positionals.join(" ") : "none"}`, "switchover");
  if (values.force && !values.reason) usage("--force needs --reason TEXT (why; recorded in the timeline and the audit log)", "switchover");
  const timeoutMs = seconds(values.timeout, "--timeout", 120, "switchover") * 1000;
  const client = clientFrom(values);
  const pairPath = `/api/v1/pairs/${encodeURIComponent(positionals[0]!)}`;
  const before = await client.json<PairView>("GET", pairPath);
  const primaryBefore = before.servers.find((s) => s.role === "primary")?.name ?? null;
  const say = (text: string) => (values.json ? undefined : out(text));
  let outcome: SwitchoverOutcome;
  try {
    outcome = await client.json<SwitchoverOutcome>("POST", `${pairPath}/switchover`, { body: { force: values.force === true, reason: (values.reason as string | undefined) ?? "" } });
  } catch (e) {
    if (e instanceof CliError && e.exitCode === EXIT.REFUSED && values.json) out(JSON.stringify({ accepted: false, sentence: e.message }, null, 2));
    throw e;
  }
  say(`${before.name}: ${outcome.sentence}`);
  if (values["no-wait"]) {
    if (values.json) out(JSON.stringify(outcome, null, 2));
    return EXIT.OK;
  }
  // Progress is the pair's timeline for the plan's epoch (orders sent, agents' results, the outcome):
  // it keeps every step, even those a fast plan finished between two polls of the live view.
  const deadline = Date.now() + timeoutMs;
  const printed = new Set<string>();
  let last: TimelineEntry | undefined;
  const follow = async () => {
    const rows = await client.json<TimelineEntry[]>("GET", `${pairPath}/timeline`, { query: { limit: "200" } });
    for (const row of rows.filter((r) => r.epoch === outcome.epoch && r.kind !== "operator").reverse()) {
      if (printed.has(row.id)) continue;
      printed.add(row.id);
      if (row.kind === "decision" && /\b(complete|abandoned)\b/.test(row.text)) last = row;
      say(`  ${row.at.slice(11, 23)} ${row.kind}: ${row.text}`);
    }
  };
  let view = before;
  for (;;) {
    view = await client.json<PairView>("GET", pairPath);
    await follow();
    if (!view.plan && view.epoch >= outcome.epoch) break;
    if (Date.now() > deadline) {
      err(`switchover of ${view.name} not finished after ${timeoutMs / 1000} s; it goes on in the console (switchyard status)`);
      if (values.json) out(JSON.stringify({ outcome, completed: false, pair: view }, null, 2));
      return EXIT.REFUSED;
    }
    await sleep(300);
  }
  await follow();
  const primaries = view.servers.filter((s) => s.role === "primary");
  const completed = primaries.length === 1 && primaries[0]!.name !== primaryBefore;
  if (values.json) {
    out(JSON.stringify({ outcome, completed, result: last?.text ?? null, pair: view }, null, 2));
  } else {
    say("");
    say(table(PAIR_HEADER, pairRows([view])));
    for (const note of pairNotes(view)) say(note);
  }
  if (!completed) err(`switchover of ${view.name} did not complete: ${primaries.map((p) => p.name).join(" and ") || "no server"} is primary`);
  return completed ? EXIT.OK : EXIT.REFUSED;
}

async function alarms(args: string[]): Promise<ExitCode> {
  const sub = args[0] && !args[0].startsWith("-") ? args[0] : "list";
  const rest = sub === "list" && args[0] !== "list" ? args : args.slice(1);
  if (sub === "ack" || sub === "clear") {
    const { values, positionals } = parse("alarms", rest, { note: { type: "string" }, comment: { type: "string" } });
    if (values.help) return help("alarms");
    if (positionals.length !== 1) usage(`alarms ${sub} takes one alarm id (switchyard alarms lists them); got ${positionals.length ? positionals.join(" ") : "none"}`, "alarms");
    const note = (values.note ?? values.comment) as string | undefined;
    if (!note) usage(`alarms ${sub} needs --note TEXT (${sub === "ack" ? "what you are doing about it" : "what was done"})`, "alarms");
    const id = encodeURIComponent(positionals[0]!);
    if (sub === "ack") await clientFrom(values).json("POST", `/api/v1/alarms/${id}/acknowledge`, { body: { note } });
    else await clientFrom(values).json("POST", `/api/v1/alarms/${id}/clear`, { body: { comment: note } });
    out(`alarm ${positionals[0]} ${sub === "ack" ? "acknowledged" : "cleared"}`);
    return EXIT.OK;
  }
  if (sub === "history") {
    const { values, positionals } = parse("alarms", rest, { severity: { type: "string" }, application: { type: "string" }, format: { type: "string" }, output: { type: "string" } });
    if (values.help) return help("alarms");
    if (positionals.length) usage(`alarms history takes no arguments; got ${positionals.join(" ")}`, "alarms");
    const reply = await clientFrom(values).request("GET", "/api/v1/alarms/history/export", {
      query: { severity: values.severity as string | undefined, application: values.application as string | undefined, format: (values.format as string | undefined) ?? "csv" },
    });
    writeOutput(reply.text, values.output as string | undefined, "the alarm history");
    return EXIT.OK;
  }
  if (sub !== "list") usage(`unknown alarms command ${sub}; use ack, clear or history`, "alarms");
  const { values, positionals } = parse("alarms", rest, { json: { type: "boolean" } });
  if (values.help) return help("alarms");
  if (positionals.length) usage(`alarms takes no arguments; got ${positionals.join(" ")}`, "alarms");
  const list = await clientFrom(values).json<Alarm[]>("GET", "/api/v1/alarms");
  if (values.json) out(JSON.stringify(list, null, 2));
  else if (list.length === 0) out("no active alarms");
  else
    out(
      table(
        ["ID", "SEVERITY", "SINCE", "COUNT", "SOURCE", "SUBJECT", "ACKNOWLEDGED", "TEXT"],
        list.map((a) => [a.id, a.severity, age(a.firstSeen), String(a.count), a.source, [a.pair, a.application, a.host].filter(Boolean).join("/") || "-", a.acknowledgedBy ?? "-", a.lastText.replace(/\s+/g, " ").slice(0, 120)]),
      ),
    );
  return EXIT.OK;
}

async function config(args: string[]): Promise<ExitCode> {
  const sub = args[0];
  if (sub === "export") {
    const { values, positionals } = parse("config", args.slice(1), {});
    if (values.help) return help("config");
    if (positionals.length > 1) usage(`config export takes at most one file; got ${positionals.join(" ")}`, "config");
    const reply = await clientFrom(values).request("GET", "/api/v1/config/export");
    writeOutput(reply.text, positionals[0], "the configuration");
    return EXIT.OK;
  }
  if (sub === "import") {
    const { values, positionals } = parse("config", args.slice(1), { check: { type: "boolean" }, replace: { type: "boolean" }, json: { type: "boolean" } });
    if (values.help) return help("config");
    if (positionals.length !== 1) usage(`config import takes one file; got ${positionals.length ? positionals.join(" ") : "none"}`, "config");
    let text: string;
    try {
      text = fs.readFileSync(positionals[0]!, "utf8");
    } catch (e) {
      usage(`cannot read ${positionals[0]}: ${e instanceof Error ? e.message : String(e)}`, "config");
    }
    const plan = await clientFrom(values).json<ImportPlan>("POST", "/api/v1/config/import", { body: { text, dryRun: values.check === true, replace: values.replace === true } });
    if (values.json) {
      out(JSON.stringify(plan, null, 2));
      return EXIT.OK;
    }
    out(values.check ? `${positionals[0]} checked: no problems; importing it would change:` : `${positionals[0]} imported:`);
    for (const kind of ["hosts", "applications", "pairs"] as const) {
      const p = plan[kind];
      out(`  ${kind}: ${p.created.length} created${p.created.length ? ` (${p.created.join(", ")})` : ""}, ${p.updated.length} updated, ${p.deleted.length} deleted${p.deleted.length ? ` (${p.deleted.join(", ")})` : ""}`);
    }
    return EXIT.OK;
  }
  if (args.includes("--help") || args.includes("-h") || sub === undefined) return help("config");
  usage(`unknown config command ${sub}; use export or import`, "config");
}

async function audit(args: string[]): Promise<ExitCode> {
  if (args[0] !== "export") {
    if (args.includes("--help") || args.includes("-h") || args.length === 0) return help("audit");
    usage(`unknown audit command ${args[0]}; use export`, "audit");
  }
  const { values, positionals } = parse("audit", args.slice(1), {
    format: { type: "string" },
    actor: { type: "string" },
    action: { type: "string" },
    "object-type": { type: "string" },
    object: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    output: { type: "string" },
  });
  if (values.help) return help("audit");
  if (positionals.length) usage(`audit export takes no arguments; got ${positionals.join(" ")}`, "audit");
  const q = (k: string) => values[k] as string | undefined;
  const reply = await clientFrom(values).request("GET", "/api/v1/audit/export", {
    query: { format: q("format") ?? "csv", actorName: q("actor"), action: q("action"), objectType: q("object-type"), objectName: q("object"), from: q("from"), to: q("to") },
  });
  writeOutput(reply.text, q("output"), "the audit log");
  return EXIT.OK;
}

async function maintenance(args: string[]): Promise<ExitCode> {
  const { values, positionals } = parse("maintenance", args, { reason: { type: "string" }, until: { type: "string" } });
  if (values.help) return help("maintenance");
  const [pair, mode, ...extra] = positionals;
  if (!pair || (mode !== "on" && mode !== "off") || extra.length) usage("maintenance takes a pair and on or off", "maintenance");
  const reason = values.reason as string | undefined;
  const until = values.until as string | undefined;
  if (mode === "on" && !reason) usage("maintenance on needs --reason TEXT (why the controller should leave the pair alone)", "maintenance");
  if (mode === "off" && (reason !== undefined || until !== undefined)) usage("maintenance off takes no --reason or --until", "maintenance");
  if (until !== undefined && Number.isNaN(Date.parse(until))) usage(`--until must be an ISO 8601 time (2026-12-01T06:00:00Z); got ${until}`, "maintenance");
  const body = mode === "on" ? { on: true, reason, until: until ?? null } : { on: false };
  out(await clientFrom(values).json<string>("POST", `/api/v1/pairs/${encodeURIComponent(pair)}/maintenance`, { body }));
  return EXIT.OK;
}

async function whoami(args: string[]): Promise<ExitCode> {
  const { values, positionals } = parse("whoami", args, { json: { type: "boolean" } });
  if (values.help) return help("whoami");
  if (positionals.length) usage(`whoami takes no arguments; got ${positionals.join(" ")}`, "whoami");
  const me = await clientFrom(values).json<{ username: string; role: string } | null>("GET", "/api/v1/whoami");
  if (!me) throw new CliError(EXIT.AUTH, "the console does not know this token");
  out(values.json ? JSON.stringify(me, null, 2) : `${me.username} (${me.role})`);
  return EXIT.OK;
}

function help(command: string): ExitCode {
  out(HELP[command] ?? HELP.main!);
  return EXIT.OK;
}

const commands: Record<string, (args: string[]) => Promise<ExitCode>> = {
  status,
  hosts,
  switchover,
  alarms,
  config,
  audit,
  maintenance,
  whoami,
};

export async function run(argv: string[]): Promise<ExitCode> {
  const [command, ...args] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") return help(args[0] ?? "main");
  const handler = commands[command];
  if (!handler) usage(`unknown command ${command}`);
  return handler(args);
}

/** Runs the command line and exits with its code (bin/switchyard.cjs calls this). */
export function main(): void {
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof CliError) {
        err(`switchyard: ${e.message}`);
        for (const p of e.problems) err(`  - ${p.path ? `${p.path}: ` : ""}${p.message.startsWith(`${p.path}: `) ? p.message.slice(p.path.length + 2) : p.message}`);
        process.exit(e.exitCode);
      }
      err(`switchyard: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exit(EXIT.UNAVAILABLE);
    },
  );
}

if (require.main === module) main();
