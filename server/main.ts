// Entry point of `npm start` and `npm run dev`.
import { startConsole } from "./console";
import { logger } from "./log";

const log = logger("console");

async function main() {
  const running = await startConsole();
  log.info(running.agentUrl ? "Switchyard console listening; host agents connect to the agent URL" : "Switchyard console listening (controller off: configuration only)", {
    url: running.url,
    agentUrl: running.agentUrl,
  });
  if (running.setupUrl) {
    // A warning so it shows at every LOG_LEVEL but error: nobody can log in until it is used.
    log.warn("No user exists yet. Create the first admin with this one-time link (valid until it is used or the console restarts)", { setupUrl: running.setupUrl });
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    await running.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((err: unknown) => {
  log.error("the console could not start", { error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
