// Full-path integration test (W7): a simulated SIP Server started by a real host agent fails to bind
// its SIP port (lab fault bind-fail), logs 00-04200, the agent forwards it over the wire protocol to the
// console's control plane, which passes it to the alarm engine in the web tier, which raises the
// critical 00-04200 alarm. The application is in no pair, so the controller moves nothing.
import dgram from "node:dgram";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsole, type RunningConsole } from "../console";
import { saveApplication, saveHost } from "../config/config.service";
import { systemActor } from "../audit/audit.repository";
import { Lab } from "../lab/lab";
import type { AlarmEngine } from "./engine";
import { listActiveAlarms } from "./alarms.repository";

const root = path.resolve(__dirname, "..", "..");
const host = "alarm-lab-host";
const app = "alarm-lab-sip";

/** A port free for TCP and UDP on 127.0.0.1 (SIP is UDP; the HA link and HTTP are TCP). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer().once("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = dgram.createSocket("udp4");
      u.once("error", () => resolve(false));
      u.bind(port, "127.0.0.1", () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let dir: string;
let running: RunningConsole;
let engine: AlarmEngine;
let lab: Lab;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-alarm-lab-"));
  running = await startConsole({
    withPages: false,
    env: { NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", AGENT_PORT: "0", DATABASE_URL: `file:${path.join(dir, "console.db")}`, LOG_LEVEL: "warn" },
  });
  const { db, controlPlane } = running.services;
  engine = running.services.alarms;
  const [sipPort, haPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const hostId = await saveHost(db, systemActor, null, { name: host, description: "", nics: [{ name: "eth0", address: "127.0.0.1", carriesManagement: true, carriesSip: true }], heartbeatIntervalMs: null, heartbeatTimeoutMs: null });
  await saveApplication(db, systemActor, null, {
    name: app,
    type: "sip-server",
    hostId,
    sipPort,
    haPort,
    startCommand: process.execPath,
    startArgs: ["--import", "tsx", "lab/sip-server-sim/main.ts"],
    workingDirectory: root,
    environment: { SWITCHYARD_LAB_FAULTS: "1", SWITCHYARD_LAB_HTTP_ADDRESS: "127.0.0.1" },
    stopCommand: "",
    stopTimeoutMs: 5_000,
    options: [{ dn: "", section: "TServer", name: "http-port", value: String(httpPort) }],
  });
  await controlPlane.configChanged();
  lab = new Lab({ db, agentUrl: () => running.agentUrl, rootDir: root, stateDir: path.join(dir, "lab") });
  await lab.startAgents([host]);
  await waitFor("the agent to connect", async () => controlPlane.host(host)?.state === "connected");
  const appId = (await db.application.findUniqueOrThrow({ where: { name: app }, select: { id: true } })).id;
  const started = await controlPlane.applicationCommand(appId, "start", "alarm test");
  if (started.outcome !== "ok") throw new Error(`starting ${app} failed: ${started.reason}`);
}, 60_000);

afterAll(async () => {
  await lab?.stopAll();
  await running?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("alarms through the real agent", () => {
  it("W7: a simulator bind failure produces a critical 00-04200 alarm through the agent", async () => {
    await waitFor(`${app} to answer its lab endpoint`, async () => {
      try {
        await lab.fault(app, "bind-fail", true);
        return true;
      } catch {
        return false;
      }
    });
    const alarm = await waitFor("the 00-04200 alarm", async () => (await listActiveAlarms(running.services.db)).find((a) => a.source === "00-04200"));
    expect(alarm).toMatchObject({ severity: "critical", application: app, host, state: "active" });
    expect(alarm.description).toContain("SIP listener bind failure");
    // The Lab page lists the faults each lab server has on now.
    // This server has no service DN: the page says W4 cannot happen there, and why.
    const noW4 = { armed: false, why: "no service DN with oos-check, so nothing watches this server's SIP traffic" };
    expect(await lab.servers()).toEqual([{ application: app, reachable: true, faults: ["bind-fail"], w4: noW4 }]);
    await lab.fault(app, "bind-fail", false);
    expect(await lab.servers()).toEqual([{ application: app, reachable: true, faults: [], w4: noW4 }]);
  }, 60_000);
});
