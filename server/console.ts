// Starts the whole console: environment, database (created and migrated), first admin, HTTP server
// with Next.js pages. Used by `npm start`, `npm run dev`, the demo and the e2e tests.
import path from "node:path";
import { parseEnv, type Env } from "./env";
import { createDb } from "./db";
import { migrateSqlite } from "./db/migrate";
import { createServices, type Services } from "./services";
import { startHttpServer, type ConsoleServer } from "./http";
import { startLive, type Live } from "./runtime/live";
import { createAlarmEngine } from "./alarms/engine";

/** How long the controller waits for a (re)connected host's servers to report their roles. */
export const APP_START_GRACE_MS = 10_000;

export interface RunningConsole extends ConsoleServer {
  services: Services;
  env: Env;
  /** One-time link to create the first admin, when no user exists and none was given in the environment. */
  setupUrl: string | null;
  live: Live | null;
  stop(): Promise<void>;
}

export async function startConsole(opts: { env?: NodeJS.ProcessEnv; withPages?: boolean; dev?: boolean } = {}): Promise<RunningConsole> {
  const env = parseEnv(opts.env ?? process.env);
  const migration = migrateSqlite(env.DATABASE_URL);
  if (migration.applied.length) console.log(`[db] applied migrations: ${migration.applied.join(", ")}`);
  const db = createDb(env.DATABASE_URL);
  const services = createServices(db, env);
  const boot = await services.auth.bootstrap({ username: env.SWITCHYARD_ADMIN_USER, password: env.SWITCHYARD_ADMIN_PASSWORD });
  if (boot.kind === "created") console.log(`[auth] created the first admin ${boot.username} from SWITCHYARD_ADMIN_USER`);

  let pages: ((req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => Promise<void>) | undefined;
  if (opts.withPages !== false) {
    const { default: next } = await import("next");
    const app = next({ dev: opts.dev ?? env.NODE_ENV === "development", dir: path.resolve(__dirname, ".."), hostname: env.HOST, port: env.PORT });
    await app.prepare();
    const handle = app.getRequestHandler();
    pages = (req, res) => handle(req, res);
  }
  const running = await startHttpServer(services, { host: env.HOST, port: env.PORT, pages });
  // The alarm engine first: the controller and the agent gateway hand it alarms and log events.
  const alarms = createAlarmEngine(services, { onChange: () => running.io.of("/ui").emit("alarms:changed") });
  await alarms.start();
  const live =
    env.SWITCHYARD_CONTROLLER === "true"
      ? await startLive(services, running.io, {
          heartbeatTimeoutMs: env.HEARTBEAT_TIMEOUT_MS,
          labStateDir: env.SWITCHYARD_LAB_STATE_DIR ?? null,
          // A server the agent just started has not reported its role yet; give it time to come up
          // before deciding without it (otherwise a cold start promotes the backup, then demotes the
          // configured primary as a split brain).
          timing: { resyncTimeoutMs: APP_START_GRACE_MS },
        })
      : null;
  services.live = live;
  if (live) services.configListeners.add(() => void live.configChanged().catch((err) => console.error("[config] pushing the change failed:", err)));
  const base = env.PUBLIC_URL ?? running.url;
  const setupUrl = boot.kind === "setup" ? `${base}/setup?token=${boot.token}` : null;
  return {
    ...running,
    services,
    env,
    setupUrl,
    live,
    async stop() {
      await live?.stop();
      await alarms.stop();
      await running.close();
      await db.$disconnect();
    },
  };
}
