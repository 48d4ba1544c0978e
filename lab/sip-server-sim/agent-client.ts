// The application side's calls to its host agent (protocol/app-contract.ts): status reports, log
// events, VIP presence and control-script requests. Without SWITCHYARD_AGENT_URL (a server run by
// hand) events and status go to stdout and agent questions get "no answer".
import {
  appStatusReportSchema,
  controlScriptResultSchema,
  logEventsSchema,
  vipPresenceSchema,
  type AppStatusReport,
  type ControlScriptResult,
  type LogEvent,
} from "../../protocol/app-contract";
import { z } from "zod";

export interface AgentClient {
  readonly standalone: boolean;
  logEvent(event: { id: string; text: string; level?: LogEvent["level"] }): void;
  reportStatus(report: AppStatusReport): void;
  /** null when there is no agent or it did not answer properly. */
  vipPresence(): Promise<z.infer<typeof vipPresenceSchema> | null>;
  runControlScript(action: "enable" | "disable", reason: string): Promise<ControlScriptResult | null>;
  /** Resolves when queued reports have been sent (or given up); for clean shutdown and tests. */
  flush(): Promise<void>;
}

/** Events waiting for an agent that did not answer; the oldest are dropped beyond this. */
const maxQueuedEvents = 1000;
const requestTimeoutMs = 5000;

export function createAgentClient(args: {
  agentUrl: string | undefined;
  appName: string;
  secret: string | undefined;
  nowIso: () => string;
  write: (line: string) => void;
}): AgentClient {
  const { agentUrl, appName, secret, nowIso, write } = args;
  if (agentUrl === undefined) return standaloneClient(nowIso, write);

  const base = `${agentUrl.replace(/\/$/, "")}/v1/apps/${encodeURIComponent(appName)}`;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (secret !== undefined) headers["authorization"] = `Bearer ${secret}`;

  let queue: LogEvent[] = [];
  let pendingStatus: AppStatusReport | null = null;
  // One sender at a time keeps events and statuses in order at the agent.
  let sending: Promise<void> = Promise.resolve();

  async function post(path: string, body: unknown): Promise<Response> {
    return fetch(`${base}${path}`, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(requestTimeoutMs) });
  }

  async function sendQueued(): Promise<void> {
    if (pendingStatus !== null) {
      const report = pendingStatus;
      try {
        const response = await post("/status", report);
        if (response.ok || response.status < 500) pendingStatus = pendingStatus === report ? null : pendingStatus;
        if (!response.ok) write(`agent refused status report: HTTP ${response.status}`);
      } catch (error) {
        write(`agent unreachable for status report: ${String(error)}`);
      }
    }
    while (queue.length > 0) {
      const batch = queue.slice(0, 100);
      try {
        const response = await post("/events", logEventsSchema.parse({ events: batch }));
        // A 4xx will not get better by retrying: drop the batch, say so.
        if (response.ok || response.status < 500) queue = queue.slice(batch.length);
        if (!response.ok) {
          write(`agent refused log events: HTTP ${response.status}`);
          if (response.status >= 500) return;
        }
      } catch (error) {
        write(`agent unreachable for log events (${queue.length} queued): ${String(error)}`);
        return;
      }
    }
  }

  function kick(): void {
    sending = sending.then(sendQueued, sendQueued);
  }

  return {
    standalone: false,
    logEvent(event) {
      const logEvent: LogEvent = { id: event.id, text: event.text.slice(0, 2000), time: nowIso(), level: event.level ?? "standard" };
      write(`event ${logEvent.id} ${logEvent.text}`);
      queue.push(logEvent);
      if (queue.length > maxQueuedEvents) queue = queue.slice(queue.length - maxQueuedEvents);
      kick();
    },
    reportStatus(report) {
      pendingStatus = appStatusReportSchema.parse(report);
      write(`status ${report.status} role=${report.role} epoch=${report.epoch} ${report.detail}`);
      kick();
    },
    async vipPresence() {
      try {
        const response = await fetch(`${base}/vip`, { headers, signal: AbortSignal.timeout(requestTimeoutMs) });
        if (!response.ok) return null;
        const parsed = vipPresenceSchema.safeParse(await response.json());
        return parsed.success ? parsed.data : null;
      } catch {
        return null;
      }
    },
    async runControlScript(action, reason) {
      try {
        const response = await fetch(`${base}/control-script`, {
          method: "POST",
          headers,
          body: JSON.stringify({ action, reason: reason.slice(0, 500) }),
          // Scripts may take a while (arping); give them longer than a report.
          signal: AbortSignal.timeout(requestTimeoutMs * 6),
        });
        if (!response.ok) return null;
        const parsed = controlScriptResultSchema.safeParse(await response.json());
        return parsed.success ? parsed.data : null;
      } catch {
        return null;
      }
    },
    async flush() {
      kick();
      await sending;
    },
  };
}

function standaloneClient(nowIso: () => string, write: (line: string) => void): AgentClient {
  return {
    standalone: true,
    logEvent(event) {
      write(JSON.stringify({ event: event.id, text: event.text, time: nowIso(), level: event.level ?? "standard" }));
    },
    reportStatus(report) {
      write(JSON.stringify({ status: report.status, role: report.role, epoch: report.epoch, detail: report.detail, time: nowIso() }));
    },
    async vipPresence() {
      return null;
    },
    async runControlScript() {
      return null;
    },
    async flush() {},
  };
}
