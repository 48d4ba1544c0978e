"use client";
// The W14 rolling upgrade of a pair on its page: start it (operators and admins), follow it live — each
// step with who, when and its result, the gate it waits for with its reasons, why it is paused — pause,
// resume or abort it, confirm an install; the versions before and after; the install command per server
// (admins configure it); earlier runs. The procedure itself runs on the console (server/upgrade/).
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import type { RouterOutputs } from "@/components/trpc/types";
import { useCurrentUser } from "@/components/layout/app-shell";
import { Badge, Button, ErrorBox, Input, Loading, Table, cx } from "@/components/ui";

type PairView = RouterOutputs["live"]["pairs"][number];
type Run = RouterOutputs["upgrade"]["runs"][number];
type Step = Run["state"]["steps"][number];

const statusTones: Record<string, "green" | "amber" | "red" | "blue" | "slate"> = { running: "blue", paused: "amber", aborting: "amber", aborted: "red", done: "green" };
const stepTones: Record<string, "green" | "amber" | "blue" | "slate"> = { done: "green", skipped: "slate", active: "blue", pending: "slate" };
const time = (ms: number | null) => (ms === null ? "" : new Date(ms).toLocaleTimeString());

export function UpgradeCard({ pair }: { pair: PairView }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const runs = useQuery(trpc.upgrade.runs.queryOptions({ pairId: pair.id }));
  const refresh = () => void queryClient.invalidateQueries({ queryKey: trpc.upgrade.pathKey() });
  const start = useMutation(trpc.upgrade.start.mutationOptions({ onSuccess: refresh }));
  const [confirming, setConfirming] = useState(false);
  if (runs.isLoading) return <Loading what="upgrades" />;
  const latest = runs.data?.[0];
  const active = latest && ["running", "paused", "aborting"].includes(latest.status) ? latest : null;
  const backup = pair.servers.find((s) => s.role === "backup");
  const primary = pair.servers.find((s) => s.role === "primary");
  return (
    <div data-testid="upgrade-card" className="space-y-3 text-sm">
      {!active && user.role !== "viewer" && (
        <div className="space-y-2">
          <Button onClick={() => setConfirming(true)} disabled={start.isPending || confirming}>
            Start upgrade…
          </Button>
          {confirming && (
            <div role="dialog" aria-label="Confirm upgrade" className="rounded border border-blue-300 bg-blue-50 p-3">
              <p className="font-medium">Rolling upgrade of {pair.name}</p>
              <p>
                {backup?.name ?? "The backup"} (backup) is upgraded first: stopped, installed, started, and switched to primary once both servers are ready for
                switchover; then the same for {primary?.name ?? "the other server"}. Each step waits for its gate; automatic failover stays armed, and a fault
                pauses the run.
              </p>
              <div className="mt-2 flex gap-2">
                <Button onClick={() => start.mutate({ pairId: pair.id }, { onSettled: () => setConfirming(false) })} disabled={start.isPending}>
                  Start the upgrade
                </Button>
                <Button variant="secondary" onClick={() => setConfirming(false)}>
                  Cancel
                </Button>
              </div>
            </div>
          )}
          <ErrorBox error={start.error} />
        </div>
      )}
      <InstallCommands pairId={pair.id} />
      {latest && <RunView run={latest} pair={pair} />}
      {(runs.data?.length ?? 0) > 1 && (
        <details>
          <summary className="cursor-pointer text-slate-600">Earlier upgrades ({runs.data!.length - 1})</summary>
          <ul className="mt-1 space-y-1">
            {runs.data!.slice(1).map((r) => (
              <li key={r.id}>
                {r.startedAt.toLocaleString()} by {r.startedBy}: <Badge tone={statusTones[r.status] ?? "slate"}>{r.status}</Badge> {r.state.outcome}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function RunView({ run, pair }: { run: Run; pair: PairView }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const options = { onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.upgrade.pathKey() }) };
  const pause = useMutation(trpc.upgrade.pause.mutationOptions(options));
  const resume = useMutation(trpc.upgrade.resume.mutationOptions(options));
  const abort = useMutation(trpc.upgrade.abort.mutationOptions(options));
  const confirm = useMutation(trpc.upgrade.confirmInstalled.mutationOptions(options));
  const s = run.state;
  const current = s.steps[s.current] as Step | undefined;
  const canAct = user.role !== "viewer";
  const pending = pause.isPending || resume.isPending || abort.isPending || confirm.isPending;
  const waitingInstall = current?.kind === "install" && (s.status === "running" || s.status === "paused") && !s.inFlight;
  return (
    <div className="space-y-2 rounded border border-slate-200 p-3">
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-medium">
          Upgrade started by {run.startedBy} at {run.startedAt.toLocaleString()}
        </span>
        <Badge tone={statusTones[run.status] ?? "slate"}>
          <span data-testid="upgrade-status">{run.status}</span>
        </Badge>
        {current && s.status !== "done" && s.status !== "aborted" && (
          <span className="text-slate-600">
            step {s.current + 1} of {s.steps.length}: {current.title}
          </span>
        )}
      </div>
      {s.pausedReason && (
        <div role="alert" data-testid="upgrade-paused" className="rounded border border-amber-400 bg-amber-50 p-2 text-amber-900">
          <b>Paused:</b> {s.pausedReason}
        </div>
      )}
      {s.waitingFor && (
        <div role="status" data-testid="upgrade-waiting" className="rounded bg-blue-50 p-2 text-blue-900">
          <b>Waiting:</b> {s.waitingFor}
        </div>
      )}
      {s.outcome && (s.status === "done" || s.status === "aborted") && (
        <div data-testid="upgrade-outcome" className={cx("rounded p-2", s.status === "done" ? "bg-green-50 text-green-900" : "bg-slate-100 text-slate-800")}>
          <b>{s.status === "done" ? "Done" : "Aborted"}:</b> {s.outcome}
        </div>
      )}
      {canAct && (
        <div className="flex flex-wrap gap-2">
          {waitingInstall && current && (
            <Button disabled={pending} onClick={() => confirm.mutate({ runId: run.id, appId: current.appId })}>
              Confirm {current.appName} installed
            </Button>
          )}
          {s.status === "running" && (
            <Button variant="secondary" disabled={pending} onClick={() => pause.mutate({ runId: run.id })}>
              Pause
            </Button>
          )}
          {s.status === "paused" && (
            <Button disabled={pending} onClick={() => resume.mutate({ runId: run.id })}>
              Resume
            </Button>
          )}
          {(s.status === "running" || s.status === "paused") && (
            <Button variant="danger" disabled={pending} onClick={() => window.confirm(`Abort the upgrade of ${s.pairName}? A server it stopped is started again.`) && abort.mutate({ runId: run.id })}>
              Abort
            </Button>
          )}
        </div>
      )}
      <ErrorBox error={pause.error ?? resume.error ?? abort.error ?? confirm.error} />
      <Table head={["Server", "Version before", "Version now", "Install"]} caption="Versions of the servers">
        {s.servers.map((srv) => (
          <tr key={srv.appId} data-testid={`upgrade-version-${srv.appName}`}>
            <td className="px-2 py-1">{srv.appName}</td>
            <td className="px-2 py-1 font-mono">{srv.versionBefore ?? "—"}</td>
            <td className="px-2 py-1 font-mono">{(s.status === "done" || s.status === "aborted" ? srv.versionAfter : pair.servers.find((x) => x.appId === srv.appId)?.version) ?? "—"}</td>
            <td className="px-2 py-1 text-xs">{srv.install.mode === "command" ? <code>{srv.install.command}</code> : "confirmed by an operator"}</td>
          </tr>
        ))}
      </Table>
      <Table head={["#", "Step", "Status", "Who", "Started", "Finished", "Result"]} caption="Steps of the upgrade">
        {s.steps.map((st, i) => (
          <tr key={i} data-testid={`upgrade-step-${i + 1}`} className={cx(i === s.current && s.status !== "done" && s.status !== "aborted" && "bg-blue-50")}>
            <td className="px-2 py-1">{i + 1}</td>
            <td className="px-2 py-1">{st.title}</td>
            <td className="px-2 py-1">
              <Badge tone={stepTones[st.status] ?? "slate"}>{st.status}</Badge>
            </td>
            <td className="px-2 py-1">{st.by ?? ""}</td>
            <td className="px-2 py-1 whitespace-nowrap">{time(st.startedAtMs)}</td>
            <td className="px-2 py-1 whitespace-nowrap">{time(st.finishedAtMs)}</td>
            <td className="px-2 py-1 text-xs">{st.result}</td>
          </tr>
        ))}
      </Table>
      {s.servers
        .filter((srv) => srv.installOutput)
        .map((srv) => (
          <details key={srv.appId} open={srv.install.mode === "command"}>
            <summary className="cursor-pointer text-slate-600">Install of {srv.appName}</summary>
            <pre data-testid={`install-output-${srv.appName}`} className="max-h-48 overflow-auto whitespace-pre-wrap rounded bg-slate-900 p-2 text-xs text-slate-100">
              {srv.installOutput}
            </pre>
          </details>
        ))}
    </div>
  );
}

/** The install step per server: its command (admins set or remove it), or an operator's confirmation. */
function InstallCommands({ pairId }: { pairId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const commands = useQuery(trpc.upgrade.installCommands.queryOptions({ pairId }));
  const [editing, setEditing] = useState<string | null>(null);
  const [line, setLine] = useState("");
  const [timeoutS, setTimeoutS] = useState("300");
  const save = useMutation(
    trpc.upgrade.setInstallCommand.mutationOptions({
      onSuccess: () => {
        setEditing(null);
        void queryClient.invalidateQueries({ queryKey: trpc.upgrade.installCommands.pathKey() });
      },
    }),
  );
  if (!commands.data) return null;
  return (
    <details className="rounded border border-slate-200 p-2" open={editing !== null}>
      <summary className="cursor-pointer text-slate-700">Install step per server</summary>
      <ul className="mt-2 space-y-2">
        {commands.data.map((c) => (
          <li key={c.appId} data-testid={`install-command-${c.appName}`}>
            <b>{c.appName}</b> on {c.hostName}:{" "}
            {c.command ? (
              <>
                runs <code className="rounded bg-slate-100 px-1">{c.command}</code> through its agent (timeout {Math.round(c.timeoutMs / 1000)} s; set by {c.updatedBy})
              </>
            ) : (
              "an operator installs the new version and confirms it"
            )}
            {user.role === "admin" && editing !== c.appId && (
              <Button variant="ghost" className="ml-2" onClick={() => (setEditing(c.appId), setLine(c.command ?? ""), setTimeoutS(String(Math.round(c.timeoutMs / 1000))))}>
                Edit install command of {c.appName}
              </Button>
            )}
            {editing === c.appId && (
              <form
                className="mt-1 flex flex-wrap items-end gap-2"
                onSubmit={(e) => {
                  e.preventDefault();
                  save.mutate({ appId: c.appId, command: line, timeoutMs: Number(timeoutS) * 1000 });
                }}
              >
                <label className="flex flex-col text-xs">
                  Install command of {c.appName} (no shell; empty: confirmed by an operator)
                  <Input className="w-96 font-mono" value={line} onChange={(e) => setLine(e.target.value)} maxLength={1024} />
                </label>
                <label className="flex flex-col text-xs">
                  Timeout (s)
                  <Input className="w-24" type="number" min={1} max={600} value={timeoutS} onChange={(e) => setTimeoutS(e.target.value)} />
                </label>
                <Button type="submit" disabled={save.isPending}>
                  Save
                </Button>
                <Button variant="secondary" onClick={() => setEditing(null)}>
                  Cancel
                </Button>
              </form>
            )}
          </li>
        ))}
      </ul>
      <p className="mt-2 text-xs text-slate-500">The agent must run with --allow-os-commands to run an install command (the lab&apos;s agents do: node lab/install-version.mjs &lt;application&gt;).</p>
      <ErrorBox error={save.error} />
    </details>
  );
}
