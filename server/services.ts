// The console's long-lived services, built once at start and handed to tRPC contexts and sockets.
import type { Db } from "./db";
import type { Env } from "./env";
import { AuthService } from "./auth/auth.service";

export interface Services {
  db: Db;
  env: Env;
  auth: AuthService;
}

export function createServices(db: Db, env: Env): Services {
  return {
    db,
    env,
    auth: new AuthService(db, {
      sessionTtlHours: env.SESSION_TTL_HOURS,
      loginMaxFailures: env.LOGIN_MAX_FAILURES,
      loginWindowSeconds: env.LOGIN_WINDOW_SECONDS,
    }),
  };
}
