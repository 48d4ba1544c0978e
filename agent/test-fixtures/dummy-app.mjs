// A tiny application for agent tests: implements the application side of the local contract
// (readiness at /server?sipServer, role changes with epoch fencing, status reports to the agent,
// reload of its config file and its running configuration) and a few /test/* hooks a test uses to
// make it crash, log an event or ask for its control script. It outlives its agent, as a real server
// does (tests kill it through the keepers' state files). Flags: --http-port N, --ignore-sigterm,
// --no-running (GET /switchyard/v1/running answers 404), --never-answer (never opens its port),
// --exit-on-stdin-close (exit when its keeper goes).
import http from "node:http";
import fs from "node:fs";

const name = process.env.SWITCHYARD_APP_NAME;
const agentUrl = process.env.SWITCHYARD_AGENT_URL;
const secret = process.env.SWITCHYARD_APP_SECRET;
const configFile = process.env.SWITCHYARD_CONFIG_FILE;
const portArg = process.argv.indexOf("--http-port");
const httpPort = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
const ignoreSigterm = process.argv.includes("--ignore-sigterm");
const noRunning = process.argv.includes("--no-running");
const neverAnswer = process.argv.includes("--never-answer");
const readConfig = () => (configFile ? JSON.parse(fs.readFileSync(configFile, "utf8")) : null);
let config = readConfig();

let role = config?.initialRole ?? "backup";
let epoch = config?.initialEpoch ?? 0;
const startedAs = { role, epoch };
let roleRequests = 0;
/** Set by POST /test/role-delay: role changes are answered this much later (a slow promotion). */
let roleDelayMs = 0;
/** Set by POST /test/readiness-delay: the next readiness answer (the state when asked) is sent this much later. */
let readinessDelayMs = 0;
let delayedReadinessAnswers = 0;
let readinessAnswers = 0;
let reloads = 0;
let lastReloadAuth = null;
let consoleConnected = null;

async function toAgent(path, body, method = "POST") {
  const res = await fetch(`${agentUrl}/v1/apps/${name}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

function reportStatus() {
  return toAgent("/status", { status: "running", role, epoch, detail: `${name} is ${role}` }).catch(() => {});
}

function readBody(req) {
  return new Promise((resolve) => {
    let s = "";
    req.on("data", (c) => (s += c));
    req.on("end", () => resolve(s ? JSON.parse(s) : null));
  });
}

const server = http.createServer(async (req, res) => {
  const json = (status, body) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  const authed = req.headers.authorization === `Bearer ${secret}`;
  if (req.method === "GET" && req.url === "/server?sipServer") {
    const answer = {
      role, epoch, status: "running", haLink: "down", haLinkUpSince: null,
      calls: { total: 0, synced: 0, multisite: 0 }, readyForSwitchover: 0, readyForUpgrade: role === "backup" ? 1 : 0,
      notReadyReasons: ["HA link down"], sipListener: "bound", oosBackoff: 1,
    };
    const delayMs = readinessDelayMs;
    if (delayMs === 0) {
      readinessAnswers += 1;
      return json(200, answer);
    }
    readinessDelayMs = 0;
    setTimeout(() => {
      json(200, answer);
      readinessAnswers += 1;
      delayedReadinessAnswers += 1;
    }, delayMs);
    return;
  }
  if (req.method === "POST" && req.url === "/switchyard/v1/role") {
    if (!authed) return json(401, { error: "bad secret" });
    roleRequests += 1;
    const body = await readBody(req);
    if (roleDelayMs > 0) await new Promise((r) => setTimeout(r, roleDelayMs));
    if (body.epoch < epoch) return json(409, { error: "stale-epoch", epoch, message: `epoch ${body.epoch} is older than ${epoch}` });
    role = body.role;
    epoch = body.epoch;
    void reportStatus();
    return json(200, { role, epoch });
  }
  if (req.method === "POST" && req.url === "/switchyard/v1/console") {
    if (!authed) return json(401, { error: "bad secret" });
    consoleConnected = (await readBody(req)).connected;
    return res.writeHead(204).end();
  }
  if (req.method === "POST" && req.url === "/switchyard/v1/reload") {
    lastReloadAuth = req.headers.authorization ?? null;
    if (!authed) return json(401, { error: "bad secret" });
    config = readConfig();
    reloads += 1;
    return res.writeHead(204).end();
  }
  if (req.method === "GET" && req.url === "/switchyard/v1/running") {
    if (noRunning) return json(404, { error: "no such endpoint" });
    return json(200, { configRevision: config?.configRevision ?? null, version: "dummy-1.0", options: config?.options ?? {}, dns: config?.dns ?? {} });
  }
  if (req.url === "/test/stats") {
    return json(200, { role, epoch, startedAs, roleRequests, reloads, readinessDelayMs, readinessAnswers, delayedReadinessAnswers, lastReloadAuth, configRevision: config?.configRevision ?? null, consoleConnected, pid: process.pid });
  }
  if (req.url === "/test/readiness-delay") {
    readinessDelayMs = (await readBody(req)).ms;
    return json(200, { readinessDelayMs });
  }
  if (req.url === "/test/role-delay") {
    roleDelayMs = (await readBody(req)).ms;
    return json(200, { roleDelayMs });
  }
  if (req.url === "/test/crash") {
    json(200, { crashing: true });
    setTimeout(() => process.exit(3), 20);
    return;
  }
  if (req.url === "/test/event") {
    const body = await readBody(req);
    const r = await toAgent("/events", { events: [{ id: body.id, text: body.text, time: new Date().toISOString() }] });
    return json(200, r);
  }
  if (req.url === "/test/control-script") {
    const body = await readBody(req);
    return json(200, await toAgent("/control-script", { action: body.action, reason: "test" }));
  }
  if (req.url === "/test/vip") return json(200, await toAgent("/vip", undefined, "GET"));
  json(404, { error: "no such endpoint" });
});

if (ignoreSigterm) process.on("SIGTERM", () => console.log(`${name} ignores SIGTERM`));
if (process.argv.includes("--exit-on-stdin-close")) {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}

if (neverAnswer) {
  console.log(`dummy app ${name} started but will never answer`);
  setInterval(() => {}, 60_000);
} else server.listen(httpPort, "127.0.0.1", () => {
  console.log(`dummy app ${name} started on port ${server.address().port} as ${role}`);
  void reportStatus();
});
