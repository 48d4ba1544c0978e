// Entry point of one simulated SIP Server process: `tsx lab/sip-server-sim/main.ts [config.json]`.
// Under a host agent the configuration comes from SWITCHYARD_CONFIG_FILE; by hand, from the argument.
import { createAgentClient } from "./agent-client";
import { createHttpInterface } from "./http-interface";
import { SimServer, systemClock } from "./server";
import { readFileSync } from "node:fs";
import { loadConfigFile, settingsFromConfig, SettingsError, simEnvSchema, withInstalledVersion } from "./settings";

function fail(message: string): never {
  process.stderr.write(`sip-server-sim: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const envResult = simEnvSchema.safeParse(process.env);
  if (!envResult.success) {
    fail(`bad environment: ${envResult.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
  }
  const env = envResult.data;
  const configPath = env.SWITCHYARD_CONFIG_FILE ?? process.argv[2];
  if (configPath === undefined) fail("usage: main.ts CONFIG.json (or set SWITCHYARD_CONFIG_FILE)");

  let settings;
  try {
    const config = loadConfigFile(configPath);
    const readIfThere = (path: string): string | null => {
      try {
        return readFileSync(path, "utf8");
      } catch {
        return null;
      }
    };
    settings = settingsFromConfig(config, withInstalledVersion(env, env.SWITCHYARD_APP_NAME ?? config.name, readIfThere));
  } catch (error) {
    fail(error instanceof SettingsError ? error.message : String(error));
  }
  const appName = env.SWITCHYARD_APP_NAME ?? settings.config.name;
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${appName} ${line}\n`);
  const agent = createAgentClient({
    agentUrl: env.SWITCHYARD_AGENT_URL,
    appName,
    secret: env.SWITCHYARD_APP_SECRET,
    nowIso: () => new Date(systemClock.nowMs()).toISOString(),
    write: log,
  });
  const server = new SimServer(settings, agent, systemClock, log);

  const httpServer = createHttpInterface({
    server,
    secret: env.SWITCHYARD_APP_SECRET,
    labEndpoints: settings.labEndpoints,
    log,
    reload: async () => server.reload(loadConfigFile(configPath)),
  });
  await new Promise<void>((resolve) => {
    httpServer.once("error", (error) => fail(`cannot open the HTTP interface on ${env.SWITCHYARD_LAB_HTTP_ADDRESS}:${settings.httpPort}: ${error.message}`));
    // The contract puts this interface on loopback, where the agent calls it.
    httpServer.listen(settings.httpPort, env.SWITCHYARD_LAB_HTTP_ADDRESS, () => resolve());
  });
  await server.start();
  log(
    `${settings.config.name} running as ${server.role} at epoch ${server.epoch}: SIP udp ${settings.sipListenAddress}:${settings.sipPort ?? "-"}` +
      `${settings.listensOnVip ? " (the VIP, held while primary)" : ""}, ` +
      `HTTP ${env.SWITCHYARD_LAB_HTTP_ADDRESS}:${settings.httpPort}, HA ${settings.haPort ?? "-"}${agent.standalone ? ", standalone (no agent)" : ""}`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`stopping on ${signal}`);
    httpServer.closeAllConnections();
    httpServer.close();
    await server.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  // Never die of a stray error: the simulator must keep serving like a real server would.
  process.on("uncaughtException", (error) => log(`uncaught error (kept running): ${error.stack ?? String(error)}`));
  process.on("unhandledRejection", (error) => log(`unhandled rejection (kept running): ${String(error)}`));
}

void main();
