// Entry of the control plane's worker thread: builds the database client and the plane (gateway and
// controller) from the environment the web tier validated, answers the web tier's requests and passes
// the plane's notices up. Only messages of protocol.ts cross the thread boundary.
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { createDb } from "../db";
import { configureLogging } from "../log";
import { PlaneRequestError, startPlane } from "./plane";
import type { ControlPlaneStart, MainToWorker, WorkerToMain } from "./protocol";

if (!parentPort) throw new Error("server/control-plane/worker.ts runs only as a worker thread (see control-plane.ts)");
const port: MessagePort = parentPort;
const post = (message: WorkerToMain) => port.postMessage(message);

async function main(): Promise<void> {
  const { env } = workerData as ControlPlaneStart;
  configureLogging({ level: env.LOG_LEVEL, format: env.LOG_FORMAT });
  // Fails fast on a held write lock; the runner waits for it asynchronously (db.ts, retryWhileBusy).
  const db = createDb(env.DATABASE_URL, { busyTimeoutMs: 0 });
  const plane = await startPlane(db, env, (notice) => post({ kind: "notice", notice }));
  port.on("message", (message: MainToWorker) => {
    plane
      .handle(message.name, message.input as never)
      .then(async (output) => {
        if (message.name === "stop") await db.$disconnect();
        post({ kind: "reply", id: message.id, ok: true, output });
      })
      .catch((err: unknown) => {
        const code = err instanceof PlaneRequestError ? err.code : null;
        post({ kind: "reply", id: message.id, ok: false, error: { message: err instanceof Error ? err.message : String(err), code } });
      });
  });
  post({ kind: "notice", notice: { kind: "ready", agentUrl: plane.agentUrl } });
}

main().catch((err: unknown) => {
  post({ kind: "fatal", message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
});
