"use client";
// An application's server as its host agent reports it: process status, restart policy (configured) and
// where it stands, the last output of a failed process, the last option delivery, and what the server
// runs with; and, for the options editor, the running value of each option beside the configured one
// with the reason for any difference. Data: live.applicationRuntime, refreshed on "live:applications".
import Link from "next/link";
import type { ReactNode } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { RouterOutputs } from "@/components/trpc/types";
import { useTRPC } from "@/components/trpc/react";
import { useCurrentUser } from "@/components/layout/app-shell";
import { Badge, Button, Card, ErrorBox } from "@/components/ui";
import { restartPolicyText } from "./applications-page";

export type ApplicationRuntime = RouterOutputs["live"]["applicationRuntime"];
export type OptionDeliveryRow = ApplicationRuntime["options"][number];

const stateBadge: Record<OptionDeliveryRow["state"], { tone: "green" | "amber" | "blue" | "red" | "slate"; label: string }> = {
  "in-effect": { tone: "green", label: "in effect" },
  "restart-needed": { tone: "amber", label: "restart needed" },
  "waits-for-ha-link": { tone: "blue", label: "waits for HA link" },
  "not-delivered": { tone: "red", label: "not delivered" },
  "no-report": { tone: "slate", label: "not reported" },
};

/** The value the server runs with, and why it differs from the configured one when it does. */
export function RunningState({ row }: { row: OptionDeliveryRow }) {
  const badge = stateBadge[row.state];
  const value = row.running ?? (row.default !== null ? `default (${row.default})` : "not set");
  return (
    <>
      {row.state !== "no-report" && <div className="font-mono">running: {value}</div>}
      <Badge tone={badge.tone}>{badge.label}</Badge>
      {row.state !== "in-effect" && row.state !== "no-report" && <div className="mt-1 text-slate-700">{row.why}</div>}
    </>
  );
}

/** The running side of one option row of the editor. */
export function RunningCell({ row, testId }: { row: OptionDeliveryRow | undefined; testId: string }) {
  if (!row) return <td className="px-2 py-2 align-top text-xs text-slate-400">—</td>;
  return (
    <td className="px-2 py-2 align-top text-xs" data-testid={testId} data-state={row.state}>
      <RunningState row={row} />
    </td>
  );
}

const processTone = (status: string) => (status === "running" ? "green" : status === "failed" ? "red" : status === "starting" || status === "stopping" ? "blue" : "amber");

function Item({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt className="text-slate-500">{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/**
 * Stop then start through the host's agent (operators and admins): what an after-restart option waits
 * for. A server of a pair is started in the role the controller gives it.
 */
function RestartButton({ appId, name }: { appId: string; name: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const control = useMutation(trpc.live.application.mutationOptions());
  const restart = useMutation({
    mutationFn: async () => {
      await control.mutateAsync({ appId, action: "stop" });
      await control.mutateAsync({ appId, action: "start" });
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.live.applicationRuntime.pathKey() }),
  });
  return (
    <div>
      <Button variant="secondary" disabled={restart.isPending} onClick={() => window.confirm(`Restart ${name}? It stops, then starts again (as backup when its partner serves).`) && restart.mutate()}>
        {restart.isPending ? `Restarting ${name}…` : `Restart ${name}`}
      </Button>
      <ErrorBox error={restart.error} />
    </div>
  );
}

export function ServerCard({ appId, runtime }: { appId: string; runtime: ApplicationRuntime }) {
  const user = useCurrentUser();
  const { process: proc, delivery, running } = runtime;
  const restart = proc?.restart ?? null;
  const restartNeeded = [...runtime.options, ...runtime.dns.flatMap((d) => d.options)].some((o) => o.state === "restart-needed");
  return (
    <Card
      title="Server"
      className="mb-4"
      actions={
        <>
          <Link href={`/applications/${appId}/log`} className="rounded border border-slate-300 px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100">
            Log
          </Link>
          {restartNeeded && user.role !== "viewer" && <RestartButton appId={appId} name={runtime.application} />}
        </>
      }
    >
      {!runtime.controllerRunning && <p className="mb-2 text-sm text-slate-500">This console runs without agents and controller: nothing is reported.</p>}
      <dl className="grid gap-3 text-sm md:grid-cols-2" data-testid="server-card">
        <Item label="Process">
          {proc ? (
            <>
              <Badge tone={processTone(proc.status)}>{proc.status}</Badge> <span className="text-slate-700">{proc.detail}</span>
            </>
          ) : (
            <span className="text-slate-500">not reported by its agent yet</span>
          )}
        </Item>
        <Item label="Restart policy">
          <div data-testid="restart-policy">{restartPolicyText(runtime.restartPolicy)}</div>
          <div className="text-xs text-slate-500">startup timeout {runtime.startupTimeoutMs / 1000} s</div>
          {restart && (
            <div className="mt-1" data-testid="restart-state">
              {restart.gaveUp ? (
                <Badge tone="red">gave up</Badge>
              ) : (
                <span className="text-xs">
                  {restart.attempts} of {restart.maxRestarts} automatic restarts used in the window
                  {restart.nextAttemptAt ? `; next at ${new Date(restart.nextAttemptAt).toLocaleTimeString()}` : ""}
                </span>
              )}
            </div>
          )}
        </Item>
        <Item label="Configuration delivery">
          {delivery ? (
            <div data-testid="delivery">
              <Badge tone={delivery.outcome === "failed" ? "red" : "green"}>{delivery.outcome}</Badge> revision {delivery.revision} at {new Date(delivery.time).toLocaleTimeString()}
              <div className="text-xs text-slate-700">{delivery.detail}</div>
            </div>
          ) : (
            <span className="text-slate-500">no option change delivered since its agent connected</span>
          )}
        </Item>
        <Item label="Running">
          {running ? (
            <div data-testid="running-summary">
              version {running.version}, configuration revision {running.revision ?? "none"} (read {new Date(running.at).toLocaleTimeString()});{" "}
              {runtime.differences === 0 ? (
                <Badge tone="green">running as configured</Badge>
              ) : (
                <Badge tone="amber">
                  {runtime.differences} option{runtime.differences === 1 ? "" : "s"} differ{runtime.differences === 1 ? "s" : ""} from the configuration
                </Badge>
              )}
            </div>
          ) : (
            <span className="text-slate-500">the server has not reported what it runs with</span>
          )}
        </Item>
        {proc?.lastOutput && (
          <div className="md:col-span-2">
            <dt className="text-slate-500">Last output before it {proc.status === "stopped" ? "stopped" : "failed"}</dt>
            <dd>
              <pre className="max-h-48 overflow-auto rounded bg-slate-900 p-2 text-xs text-slate-100" data-testid="last-output">
                {proc.lastOutput}
              </pre>
            </dd>
          </div>
        )}
      </dl>
    </Card>
  );
}
