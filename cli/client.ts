// The CLI's connection to a console: the REST API (/api/v1) with an API token. Every failure becomes a
// CliError carrying the exit code scripts rely on (exit-codes.ts) and the console's own message and
// problems, so what the console says reaches the terminal unchanged.
import { EXIT, type ExitCode } from "./exit-codes";

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly problems: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** Gives up on one request after this long: a console that does not answer is unreachable, not slow. */
export const REQUEST_TIMEOUT_MS = 60_000;

const exitForStatus = (status: number): ExitCode => {
  if (status === 401 || status === 429) return EXIT.AUTH;
  if (status === 403) return EXIT.FORBIDDEN;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status >= 500) return EXIT.UNAVAILABLE;
  return EXIT.REFUSED;
};

export interface Reply {
  status: number;
  contentType: string;
  text: string;
}

export class ConsoleClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async request(method: "GET" | "POST", path: string, opts: { query?: Record<string, string | undefined>; body?: unknown } = {}): Promise<Reply> {
    const url = new URL(path, this.baseUrl.endsWith("/") ? this.baseUrl : `${this.baseUrl}/`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(opts.body !== undefined ? { "content-type": "application/json" } : {}), "user-agent": "switchyard-cli" },
        body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new CliError(EXIT.UNAVAILABLE, `cannot reach the console at ${this.baseUrl}: ${cause} (set SWITCHYARD_URL or --url)`);
    }
    const text = await res.text();
    const reply = { status: res.status, contentType: res.headers.get("content-type") ?? "", text };
    if (res.ok) return reply;
    let error: { message?: string; problems?: { path: string; message: string }[] } | undefined;
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error;
    } catch {
      // not the API's JSON (a proxy's page, say): the status says it
    }
    throw new CliError(exitForStatus(res.status), error?.message ?? `the console answered ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ""}`, error?.problems ?? []);
  }

  async json<T>(method: "GET" | "POST", path: string, opts: { query?: Record<string, string | undefined>; body?: unknown } = {}): Promise<T> {
    const reply = await this.request(method, path, opts);
    try {
      return JSON.parse(reply.text) as T;
    } catch {
      throw new CliError(EXIT.UNAVAILABLE, `the console's answer to ${method} ${path} is not JSON (is SWITCHYARD_URL the console's web port?)`);
    }
  }
}
