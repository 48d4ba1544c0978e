"use client";
// Applications: list and the create/edit form (type, host, ports, start/stop commands, and what the host
// agent does when the process exits unasked: the restart policy, and how long a start may take).
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import type { RouterInputs, RouterOutputs } from "@/components/trpc/types";
import { useIsAdmin } from "@/components/layout/app-shell";
import { Badge, Button, Card, ErrorBox, Field, Input, Loading, PageTitle, Select, Table, Textarea, FormActions } from "@/components/ui";

export type AppRow = RouterOutputs["applications"]["list"][number];
type AppInput = RouterInputs["applications"]["create"];
// The form always holds every field (a file may leave some to their defaults; the page never does).
type RestartPolicy = Required<NonNullable<AppInput["restartPolicy"]>>;

/** SCS-style autorestart, as the console defaults it (server/config/config.schema.ts). */
const defaultRestartPolicy: RestartPolicy = { enabled: true, maxRestarts: 5, restartWindowMs: 600_000, restartDelayMs: 1000, restartDelayMaxMs: 60_000, backoffMultiplier: 2 };

const emptyApp = (hostId: string): AppInput => ({
  name: "",
  type: "sip-server",
  hostId,
  sipPort: 5060,
  haPort: null,
  startCommand: "",
  startArgs: [],
  workingDirectory: "",
  environment: {},
  stopCommand: "",
  stopTimeoutMs: 10_000,
  restartPolicy: defaultRestartPolicy,
  startupTimeoutMs: 60_000,
  options: [],
});

export function toAppInput(a: AppRow): AppInput {
  return {
    name: a.name,
    type: a.type as AppInput["type"],
    hostId: a.hostId,
    sipPort: a.sipPort,
    haPort: a.haPort,
    startCommand: a.startCommand,
    startArgs: (a.startArgs ?? []) as string[],
    workingDirectory: a.workingDirectory,
    environment: (a.environment ?? {}) as Record<string, string>,
    stopCommand: a.stopCommand,
    stopTimeoutMs: a.stopTimeoutMs,
    restartPolicy: a.restartPolicy,
    startupTimeoutMs: a.startupTimeoutMs,
    options: [],
  };
}

/** The restart policy in one line, as the application page and list show it. */
export function restartPolicyText(p: RestartPolicy): string {
  if (!p.enabled) return "off: a process that exits unasked stays down";
  return `on: up to ${p.maxRestarts} restart${p.maxRestarts === 1 ? "" : "s"} within ${p.restartWindowMs / 1000} s, the first after ${p.restartDelayMs / 1000} s, each next ×${p.backoffMultiplier} up to ${p.restartDelayMaxMs / 1000} s; then it gives up (alarm)`;
}

export function ApplicationsPage() {
  const trpc = useTRPC();
  const admin = useIsAdmin();
  const apps = useQuery(trpc.applications.list.queryOptions());
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  const [creating, setCreating] = useState(false);

  return (
    <>
      <PageTitle
        actions={
          admin && (
            <Button disabled={!hosts.data?.length} title={hosts.data?.length ? undefined : "Create a host first"} onClick={() => setCreating(true)}>
              New application
            </Button>
          )
        }
      >
        Applications
      </PageTitle>
      {creating && hosts.data?.[0] && <ApplicationForm id={null} initial={emptyApp(hosts.data[0].id)} onDone={() => setCreating(false)} />}
      <Card>
        {apps.isLoading ? (
          <Loading what="applications" />
        ) : (
          <Table head={["Name", "Type", "Host", "Ports", "Pair", "Options"]} caption="Applications">
            {(apps.data ?? []).map((a) => {
              const pair = a.primaryOfPair ?? a.backupOfPair;
              const http = a.options.find((o) => o.dn === "" && o.name === "http-port")?.value;
              return (
                <tr key={a.id} data-testid={`app-row-${a.name}`}>
                  <td className="px-2 py-2 font-medium">
                    <Link className="text-blue-700 underline" href={`/applications/${a.id}`}>
                      {a.name}
                    </Link>
                  </td>
                  <td className="px-2 py-2">{a.type}</td>
                  <td className="px-2 py-2">{a.host.name}</td>
                  <td className="px-2 py-2 text-xs">
                    {[a.sipPort && `SIP ${a.sipPort}`, a.haPort && `HA ${a.haPort}`, http && `HTTP ${http}`].filter(Boolean).join(" · ") || "—"}
                  </td>
                  <td className="px-2 py-2">
                    {pair ? (
                      <>
                        {pair.name} <Badge tone={a.primaryOfPair ? "green" : "slate"}>{a.primaryOfPair ? "configured primary" : "configured backup"}</Badge>
                      </>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td className="px-2 py-2">{a.options.length}</td>
                </tr>
              );
            })}
          </Table>
        )}
        {apps.data?.length === 0 && <p className="text-sm text-slate-500">No applications yet.</p>}
      </Card>
    </>
  );
}

const lines = (s: string) => s.split("\n").map((l) => l.trim()).filter(Boolean);

export function ApplicationForm({ id, initial, onDone }: { id: string | null; initial: AppInput; onDone: (id?: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  const [app, setApp] = useState<AppInput>(initial);
  const [argsText, setArgsText] = useState((initial.startArgs ?? []).join("\n"));
  const [envText, setEnvText] = useState(Object.entries(initial.environment ?? {}).map(([k, v]) => `${k}=${v}`).join("\n"));
  const onSuccess = async (savedId: string) => {
    await queryClient.invalidateQueries({ queryKey: trpc.applications.pathKey() });
    onDone(savedId);
  };
  const create = useMutation(trpc.applications.create.mutationOptions({ onSuccess }));
  const update = useMutation(trpc.applications.update.mutationOptions({ onSuccess }));
  const error = create.error ?? update.error;
  const port = (v: string) => (v.trim() === "" ? null : Number(v));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const environment = Object.fromEntries(
      lines(envText).map((l) => {
        const eq = l.indexOf("=");
        return eq < 0 ? [l, ""] : [l.slice(0, eq), l.slice(eq + 1)];
      }),
    );
    const input = { ...app, startArgs: lines(argsText), environment };
    if (id) update.mutate({ id, application: input });
    else create.mutate(input);
  };

  return (
    <Card title={id ? `Edit application ${initial.name}` : "New application"} className="mb-4">
      <form onSubmit={submit} className="space-y-3" aria-label="Application">
        <div className="grid gap-3 md:grid-cols-3">
          <Field label="Application name">{(fid) => <Input id={fid} value={app.name} onChange={(e) => setApp({ ...app, name: e.target.value })} required />}</Field>
          <Field label="Type">
            {(fid) => (
              <Select id={fid} value={app.type} onChange={(e) => setApp({ ...app, type: e.target.value as AppInput["type"] })}>
                <option value="sip-server">SIP Server</option>
                <option value="generic">Generic process</option>
              </Select>
            )}
          </Field>
          <Field label="Host">
            {(fid) => (
              <Select id={fid} value={app.hostId} onChange={(e) => setApp({ ...app, hostId: e.target.value })}>
                {(hosts.data ?? []).map((h) => (
                  <option key={h.id} value={h.id}>
                    {h.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="SIP port">{(fid) => <Input id={fid} inputMode="numeric" value={app.sipPort ?? ""} onChange={(e) => setApp({ ...app, sipPort: port(e.target.value) })} />}</Field>
          <Field label="HA link port">{(fid) => <Input id={fid} inputMode="numeric" value={app.haPort ?? ""} onChange={(e) => setApp({ ...app, haPort: port(e.target.value) })} />}</Field>
          <Field label="Stop timeout (ms)">
            {(fid) => <Input id={fid} inputMode="numeric" value={app.stopTimeoutMs} onChange={(e) => setApp({ ...app, stopTimeoutMs: Number(e.target.value) })} />}
          </Field>
          <Field label="Start command" hint="Executable run by the host agent.">
            {(fid) => <Input id={fid} value={app.startCommand} onChange={(e) => setApp({ ...app, startCommand: e.target.value })} placeholder="/opt/sipserver/sip_server" />}
          </Field>
          <Field label="Working directory">{(fid) => <Input id={fid} value={app.workingDirectory} onChange={(e) => setApp({ ...app, workingDirectory: e.target.value })} />}</Field>
          <Field label="Stop command" hint="Empty: SIGTERM, then SIGKILL after the timeout.">
            {(fid) => <Input id={fid} value={app.stopCommand} onChange={(e) => setApp({ ...app, stopCommand: e.target.value })} />}
          </Field>
          <RestartPolicyFields
            policy={{ ...defaultRestartPolicy, ...app.restartPolicy }}
            startupTimeoutMs={app.startupTimeoutMs ?? 60_000}
            onChange={(restartPolicy, startupTimeoutMs) => setApp({ ...app, restartPolicy, startupTimeoutMs })}
          />
          <Field label="Arguments" hint="One per line.">{(fid) => <Textarea id={fid} rows={3} value={argsText} onChange={(e) => setArgsText(e.target.value)} />}</Field>
          <Field label="Environment" hint="KEY=value, one per line.">{(fid) => <Textarea id={fid} rows={3} value={envText} onChange={(e) => setEnvText(e.target.value)} />}</Field>
        </div>
        <ErrorBox error={error} />
        <FormActions saveLabel="Save application" pending={create.isPending || update.isPending} onCancel={() => onDone()} />
      </form>
    </Card>
  );
}

/**
 * The restart policy and the startup timeout: what the host agent does when the process exits without
 * being asked to. A server of a pair is always restarted as backup; the controller promotes it if needed.
 */
function RestartPolicyFields({ policy, startupTimeoutMs, onChange }: { policy: RestartPolicy; startupTimeoutMs: number; onChange: (p: RestartPolicy, startupTimeoutMs: number) => void }) {
  // A cleared field is NaN: the server refuses it with "is required", naming the field.
  const num = (v: string) => (v.trim() === "" ? Number.NaN : Number(v));
  const field = (label: string, hint: string, value: number, set: (v: number) => void, disabled = !policy.enabled) => (
    <Field label={label} hint={hint}>
      {(fid) => <Input id={fid} inputMode="decimal" disabled={disabled} value={Number.isNaN(value) ? "" : value} onChange={(e) => set(num(e.target.value))} />}
    </Field>
  );
  const set = (change: Partial<RestartPolicy>) => onChange({ ...policy, ...change }, startupTimeoutMs);
  return (
    <fieldset className="rounded border border-slate-200 p-3 md:col-span-3" aria-label="Restart policy">
      <legend className="px-1 text-sm font-medium">Restart policy</legend>
      <p className="mb-2 text-xs text-slate-500">
        When the process exits without being asked to, the host agent starts it again (a server of a pair always as backup) after the first delay, each next delay multiplied up to
        the longest; past the maximum within the window it gives up, the application stays down and an alarm is raised.
      </p>
      <label className="mb-2 flex items-center gap-2 text-sm">
        <input type="checkbox" checked={policy.enabled} onChange={(e) => set({ enabled: e.target.checked })} /> Restart automatically
      </label>
      <div className="grid gap-3 md:grid-cols-3">
        {field("Maximum restarts", "0–100, within the window.", policy.maxRestarts, (v) => set({ maxRestarts: v }))}
        {field("Restart window (ms)", "1000–86400000; restarts older than this no longer count.", policy.restartWindowMs, (v) => set({ restartWindowMs: v }))}
        {field("First restart delay (ms)", "0–600000.", policy.restartDelayMs, (v) => set({ restartDelayMs: v }))}
        {field("Longest restart delay (ms)", "0–3600000, at least the first delay.", policy.restartDelayMaxMs, (v) => set({ restartDelayMaxMs: v }))}
        {field("Delay multiplier", "1–10; 2 doubles each delay.", policy.backoffMultiplier, (v) => set({ backoffMultiplier: v }))}
        {field("Startup timeout (ms)", "1000–3600000: a start that has not answered by then is killed and counts as failed.", startupTimeoutMs, (v) => onChange(policy, v), false)}
      </div>
    </fieldset>
  );
}
