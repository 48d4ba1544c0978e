// The agent's own Prometheus metrics, served on a local port (--metrics-port; 127.0.0.1 unless
// --metrics-host says otherwise) for a Prometheus or node exporter on the host: its connection to the
// console, commands run by type and outcome, control scripts' durations, and each supervised
// application's status — plus prom-client's process metrics. prom-client is the same maintained client
// the console uses; the agent still imports nothing of the console (only protocol/).
import http from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { reportedProcessStatuses } from "../protocol/vocabulary";
import { connectionStates, type ConnectionState } from "./connection";

/** Control scripts: a VIP move is ~0.1 s, an NLB drain seconds; the driver's timeout is at most minutes. */
export const SCRIPT_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];

export interface AgentMetricsSource {
  connectionState(): ConnectionState;
  applications(): { name: string; status: string }[];
}

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly commands: Counter;
  private readonly commandSeconds: Histogram;
  private readonly scripts: Histogram;
  private readonly connection: Gauge;
  private readonly connects: Counter;
  private readonly appStatus: Gauge;

  constructor(
    private readonly source: AgentMetricsSource,
    version: string,
    hostName: string,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: "switchyard_agent_build_info", help: "Always 1; the agent's version and host in labels.", labelNames: ["version", "host"], registers }).set({ version, host: hostName }, 1);
    this.commands = new Counter({ name: "switchyard_agent_commands_total", help: "Commands from the console finished by this agent, by type and outcome (ok, failed, rejected, expired, fenced …).", labelNames: ["type", "outcome"], registers });
    this.commandSeconds = new Histogram({ name: "switchyard_agent_command_duration_seconds", help: "How long commands ran here, by type.", labelNames: ["type"], buckets: SCRIPT_BUCKETS_SECONDS, registers });
    this.scripts = new Histogram({
      name: "switchyard_agent_control_script_duration_seconds",
      help: "VIP / NLB control scripts run here, by action (enable, disable), who asked (console, application) and result.",
      labelNames: ["action", "requested_by", "ok"],
      buckets: SCRIPT_BUCKETS_SECONDS,
      registers,
    });
    this.connection = new Gauge({ name: "switchyard_agent_connection_state", help: "1 for the agent's connection state to the console, 0 for the others.", labelNames: ["state"], registers });
    this.connects = new Counter({ name: "switchyard_agent_console_connections_total", help: "Times the agent got connected to the console (a rising count is a flapping link).", registers });
    this.appStatus = new Gauge({ name: "switchyard_agent_application_status", help: "1 for each supervised application's process status, 0 for the others.", labelNames: ["application", "status"], registers });
  }

  commandFinished(type: string, outcome: string, seconds: number): void {
    this.commands.inc({ type, outcome });
    this.commandSeconds.observe({ type }, seconds);
  }

  scriptRan(action: string, requestedBy: "console" | "application", ok: boolean, seconds: number): void {
    this.scripts.observe({ action, requested_by: requestedBy, ok: String(ok) }, seconds);
  }

  connected(): void {
    this.connects.inc();
  }

  async render(): Promise<string> {
    const now = this.source.connectionState();
    for (const state of connectionStates) this.connection.set({ state }, state === now ? 1 : 0);
    this.appStatus.reset();
    for (const app of this.source.applications()) for (const status of reportedProcessStatuses) this.appStatus.set({ application: app.name, status }, app.status === status ? 1 : 0);
    return this.registry.metrics();
  }

  /** GET /metrics on host:port; everything else 404. */
  async serve(host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer((req, res) => {
      if ((req.url ?? "/").split("?")[0] !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
        res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics is served here\n");
        return;
      }
      this.render().then(
        (text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(req.method === "HEAD" ? undefined : text),
        (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`rendering the metrics failed: ${String(err)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    const bound = typeof address === "object" && address ? address.port : port;
    return {
      url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}/metrics`,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    };
  }
}
