// GET /metrics: the exposition of ConsoleMetrics, on the web port or on a port of its own
// (METRICS_PORT), open or behind an API token (METRICS_AUTH=token, the default: any role may scrape).
// A session cookie never opens it (no CSRF protection, and a scraper has no session).
import http from "node:http";
import type { ConsoleServices } from "../api/trpc";
import { identify } from "../api/identity";
import { TrustedProxies } from "../client-address";
import { AppError } from "../errors";
import type { ConsoleMetrics } from "./metrics";
import { logger } from "../log";
import { securityHeaders } from "../security-headers";

const log = logger("metrics");

export type MetricsHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

function refuse(res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers }).end(`${message}\n`);
}

export function metricsHandler(services: ConsoleServices, metrics: ConsoleMetrics): MetricsHandler {
  const proxies = new TrustedProxies(services.env.TRUSTED_PROXIES);
  return async (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return refuse(res, 405, `${req.method} is not accepted on /metrics; use GET`, { allow: "GET, HEAD" });
    if (services.env.METRICS_AUTH === "token") {
      const ip = proxies.clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"]);
      try {
        const who = await identify(services, req, ip, { cookies: false });
        if (!who.user) return refuse(res, 401, "/metrics needs an API token (any role): send Authorization: Bearer <token>, or start the console with METRICS_AUTH=none", { "www-authenticate": 'Bearer realm="switchyard"' });
      } catch (err) {
        if (err instanceof AppError) return refuse(res, err.code === "RATE_LIMITED" ? 429 : 401, err.message, { "www-authenticate": 'Bearer realm="switchyard"' });
        throw err;
      }
    }
    try {
      const text = await metrics.render();
      res.writeHead(200, { "content-type": metrics.contentType, "cache-control": "no-store" }).end(req.method === "HEAD" ? undefined : text);
    } catch (err) {
      log.error("rendering /metrics failed", { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      if (!res.headersSent) refuse(res, 500, "rendering the metrics failed; the details are in the console log");
    }
  };
}

/** /metrics alone on METRICS_HOST:METRICS_PORT (everything else there is 404). */
export async function startMetricsServer(handler: MetricsHandler, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  // The web port's headers on this port's answers too (nosniff matters most: they are text).
  const headers = securityHeaders({ nonce: null, dev: false });
  const server = http.createServer((req, res) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if ((req.url ?? "/").split("?")[0] === "/metrics") void handler(req, res);
    else refuse(res, 404, "only /metrics is served on this port");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  return {
    url: `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
