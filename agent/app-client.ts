// The agent's requests to an application's HTTP interface (protocol/app-contract.ts, on its
// http-port): readiness, role, console connection, reload and running configuration. Each answers
// with a result or a sentence saying why not; none throws.
import {
  runningConfigSchema,
  setRoleResponseSchema,
  sipServerStatusSchema,
  staleEpochResponseSchema,
  type AppRole,
  type RunningConfig,
  type SipServerStatus,
} from "../protocol/app-contract";
import { describeZodError, type ApplicationConfig, type CommandOutcome } from "../protocol/agent-wire";

/** A readiness poll or any other request to an application gives up after this. */
export const APP_HTTP_TIMEOUT_MS = 2000;

function baseUrl(app: ApplicationConfig): string | null {
  const port = app.options["http-port"];
  return port ? `http://${app.httpHost}:${port}` : null;
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}

async function request(app: ApplicationConfig, method: "GET" | "POST", path: string, secret: string | null, body?: unknown): Promise<Response> {
  const url = baseUrl(app);
  if (!url) throw new Error(`${app.name} has no http-port`);
  return fetch(`${url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(APP_HTTP_TIMEOUT_MS),
  });
}

export async function pollReadiness(app: ApplicationConfig): Promise<{ report: SipServerStatus } | { error: string }> {
  try {
    const res = await request(app, "GET", "/server?sipServer", null);
    const parsed = sipServerStatusSchema.safeParse(await res.json());
    return parsed.success ? { report: parsed.data } : { error: `malformed readiness: ${describeZodError(parsed.error)}` };
  } catch (err) {
    return { error: `readiness poll failed: ${errorText(err)}` };
  }
}

export async function requestRole(app: ApplicationConfig, secret: string | null, role: AppRole, epoch: number, commandId: string): Promise<{ outcome: CommandOutcome; reason: string; role?: AppRole; epoch?: number; heldEpoch?: number }> {
  let res: Response;
  try {
    res = await request(app, "POST", "/switchyard/v1/role", secret ?? "", { role, epoch, commandId });
  } catch (err) {
    return { outcome: "failed", reason: `${app.name} did not take the ${role} role: ${errorText(err)}` };
  }
  const body: unknown = await res.json().catch(() => null);
  if (res.status === 409) {
    const stale = staleEpochResponseSchema.safeParse(body);
    return stale.success
      ? { outcome: "stale-epoch", reason: `${app.name} refused: ${stale.data.message}`, heldEpoch: stale.data.epoch }
      : { outcome: "stale-epoch", reason: `${app.name} refused epoch ${epoch} as stale` };
  }
  const ok = setRoleResponseSchema.safeParse(body);
  if (res.status !== 200 || !ok.success) {
    return { outcome: "failed", reason: `${app.name} answered the role request with HTTP ${res.status}${ok.success ? "" : `: ${describeZodError(ok.error)}`}` };
  }
  return { outcome: "ok", reason: `${app.name} is now ${ok.data.role} at epoch ${ok.data.epoch}`, role: ok.data.role, epoch: ok.data.epoch };
}

/** W8: best effort; an application may not implement it or may be starting. */
export function notifyConsoleConnection(app: ApplicationConfig, secret: string | null, connected: boolean): void {
  request(app, "POST", "/switchyard/v1/console", secret ?? "", { connected }).catch(() => {});
}

/** POST /switchyard/v1/reload: the application re-reads SWITCHYARD_CONFIG_FILE. */
export async function requestReload(app: ApplicationConfig, secret: string | null): Promise<{ ok: boolean; detail: string }> {
  try {
    const res = await request(app, "POST", "/switchyard/v1/reload", secret ?? "", {});
    await res.body?.cancel();
    if (res.ok) return { ok: true, detail: `${app.name} re-read its configuration file` };
    if (res.status === 404) return { ok: false, detail: `${app.name} does not implement POST /switchyard/v1/reload (404); the change applies at its next start` };
    return { ok: false, detail: `${app.name} answered the reload with HTTP ${res.status}; the change applies at its next start` };
  } catch (err) {
    return { ok: false, detail: `${app.name} did not answer the reload: ${errorText(err)}; the change applies at its next start` };
  }
}

export type RunningAnswer = { running: RunningConfig } | { notImplemented: true } | { error: string };

/** GET /switchyard/v1/running: what the server runs with now. */
export async function fetchRunningConfig(app: ApplicationConfig, secret: string | null): Promise<RunningAnswer> {
  try {
    const res = await request(app, "GET", "/switchyard/v1/running", secret);
    if (res.status === 404) {
      await res.body?.cancel();
      return { notImplemented: true };
    }
    if (!res.ok) {
      await res.body?.cancel();
      return { error: `GET /switchyard/v1/running answered HTTP ${res.status}` };
    }
    const parsed = runningConfigSchema.safeParse(await res.json());
    return parsed.success ? { running: parsed.data } : { error: `malformed running configuration: ${describeZodError(parsed.error)}` };
  } catch (err) {
    return { error: `GET /switchyard/v1/running failed: ${errorText(err)}` };
  }
}
