// The console's long-lived services, built once at start and handed to tRPC contexts and sockets.
import type { Db } from "./db";
import type { Env } from "./env";
import { AuthService } from "./auth/auth.service";
import type { Live } from "./runtime/live";
import type { Lab } from "./lab/lab";

export interface Services {
  db: Db;
  env: Env;
  auth: AuthService;
  /** Listeners told after a configuration change commits (agents get new configurations, the controller reloads). */
  configListeners: Set<() => void>;
  configChanged(): void;
  /** The agent gateway and controller, once started (null when the console runs without them). */
  live: Live | null;
  /** The demo lab (agents and simulators on loopback) when this console runs it. */
  lab: Lab | null;
}

export function createServices(db: Db, env: Env): Services {
  const configListeners = new Set<() => void>();
  return {
    db,
    env,
    configListeners,
    configChanged: () => configListeners.forEach((l) => l()),
    live: null,
    lab: null,
    auth: new AuthService(db, {
      sessionTtlHours: env.SESSION_TTL_HOURS,
      loginMaxFailures: env.LOGIN_MAX_FAILURES,
      loginWindowSeconds: env.LOGIN_WINDOW_SECONDS,
    }),
  };
}
