// Entry point of `npm start` and `npm run dev`.
import { startConsole } from "./console";

async function main() {
  const running = await startConsole();
  console.log(`Switchyard console listening on ${running.url}${running.agentUrl ? `; host agents connect to ${running.agentUrl}` : " (controller off: configuration only)"}`);
  if (running.setupUrl) {
    console.log(`No user exists yet. Create the first admin here (one-time link, valid until it is used or the console restarts):\n  ${running.setupUrl}`);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    await running.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
