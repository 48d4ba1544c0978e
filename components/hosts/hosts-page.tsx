"use client";
// Hosts: list, create, edit (name, description, NICs with management/SIP roles, the host's own heartbeat), delete.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import type { RouterInputs, RouterOutputs } from "@/components/trpc/types";
import { useIsAdmin } from "@/components/layout/app-shell";
import { Badge, Button, Card, ErrorBox, Field, Input, Loading, PageTitle, Table, FormActions } from "@/components/ui";
import { AgentTokens } from "./agent-tokens";

type HostRow = RouterOutputs["hosts"]["list"][number];
type HostInput = RouterInputs["hosts"]["create"];
type Nic = HostInput["nics"][number];

const emptyHost = (): HostInput => ({
  name: "",
  description: "",
  nics: [{ name: "eth0", address: "", carriesManagement: true, carriesSip: true }],
  heartbeatIntervalMs: null,
  heartbeatTimeoutMs: null,
});

/** A number field that may be left empty (null: the console's default applies). */
const optionalMs = (text: string): number | null => (text.trim() === "" ? null : Number(text));

export function HostsPage() {
  const trpc = useTRPC();
  const admin = useIsAdmin();
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  // Agent connections are live state: refreshed on every live:changed push (see use-live-socket).
  const agents = useQuery(trpc.live.hosts.queryOptions(undefined, { refetchInterval: 5000 }));
  const agentOf = (name: string) => agents.data?.find((a) => a.hostName === name);
  const [editing, setEditing] = useState<{ id: string | null; host: HostInput } | null>(null);
  const [tokensOf, setTokensOf] = useState<{ id: string; name: string } | null>(null);
  const queryClient = useQueryClient();
  const remove = useMutation(
    trpc.hosts.delete.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.hosts.list.queryKey() }) }),
  );

  return (
    <>
      <PageTitle actions={admin && <Button onClick={() => setEditing({ id: null, host: emptyHost() })}>New host</Button>}>Hosts</PageTitle>
      {editing && <HostForm key={editing.id ?? "new"} initial={editing.host} id={editing.id} onDone={() => setEditing(null)} />}
      {tokensOf && <AgentTokens key={tokensOf.id} hostId={tokensOf.id} hostName={tokensOf.name} onClose={() => setTokensOf(null)} />}
      <ErrorBox error={remove.error} />
      <Card>
        {hosts.isLoading ? (
          <Loading what="hosts" />
        ) : (
          <Table head={["Name", "NICs", "Applications", "Agent", ""]} caption="Hosts">
            {(hosts.data ?? []).map((h: HostRow) => (
              <tr key={h.id} data-testid={`host-row-${h.name}`}>
                <td className="px-2 py-2 font-medium">
                  {h.name}
                  {h.description && <div className="text-xs text-slate-500">{h.description}</div>}
                  {h.heartbeatIntervalMs !== null && h.heartbeatTimeoutMs !== null && (
                    <div className="text-xs text-slate-500" data-testid={`heartbeat-${h.name}`}>
                      heartbeat every {h.heartbeatIntervalMs} ms, lost after {h.heartbeatTimeoutMs} ms
                    </div>
                  )}
                </td>
                <td className="px-2 py-2">
                  {h.nics.map((n) => (
                    <div key={n.name} className="flex items-center gap-1">
                      <code className="text-xs">{n.name}</code> {n.address}
                      {n.carriesManagement && <Badge>management</Badge>}
                      {n.carriesSip && <Badge tone="blue">SIP</Badge>}
                    </div>
                  ))}
                </td>
                <td className="px-2 py-2">{h._count.applications}</td>
                <td className="px-2 py-2 text-xs" data-testid={`agent-${h.name}`}>
                  {(() => {
                    const a = agentOf(h.name);
                    if (!a) return <Badge>never connected</Badge>;
                    return (
                      <>
                        <Badge tone={a.state === "connected" ? "green" : "red"}>{a.state}</Badge>
                        <div className="text-slate-600">
                          {a.agentVersion && `agent ${a.agentVersion} · `}
                          {a.lastHeartbeatAt ? `last heartbeat ${a.lastHeartbeatAt.toLocaleTimeString()}` : "no heartbeat yet"}
                        </div>
                        {a.state !== "connected" && <div className="text-slate-600">{a.reason}</div>}
                      </>
                    );
                  })()}
                </td>
                <td className="px-2 py-2 text-right">
                  {admin && (
                    <div className="flex justify-end gap-2">
                      <Button variant="secondary" onClick={() => setTokensOf({ id: h.id, name: h.name })}>
                        Agent tokens
                      </Button>
                      <Button variant="secondary" onClick={() =>
                          setEditing({ id: h.id, host: { name: h.name, description: h.description, nics: h.nics, heartbeatIntervalMs: h.heartbeatIntervalMs, heartbeatTimeoutMs: h.heartbeatTimeoutMs } })
                        }>
                        Edit
                      </Button>
                      <Button
                        variant="danger"
                        onClick={() => {
                          if (window.confirm(`Delete host ${h.name}?`)) remove.mutate({ id: h.id });
                        }}
                      >
                        Delete
                      </Button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
        {hosts.data?.length === 0 && <p className="text-sm text-slate-500">No hosts yet.</p>}
      </Card>
    </>
  );
}

function HostForm({ initial, id, onDone }: { initial: HostInput; id: string | null; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [host, setHost] = useState<HostInput>(initial);
  const onSuccess = async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.hosts.list.queryKey() });
    onDone();
  };
  const create = useMutation(trpc.hosts.create.mutationOptions({ onSuccess }));
  const update = useMutation(trpc.hosts.update.mutationOptions({ onSuccess }));
  const error = create.error ?? update.error;
  const setNic = (i: number, patch: Partial<Nic>) => setHost({ ...host, nics: host.nics.map((n, j) => (j === i ? { ...n, ...patch } : n)) });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (id) update.mutate({ id, host });
    else create.mutate(host);
  };

  return (
    <Card title={id ? `Edit host ${initial.name}` : "New host"} className="mb-4">
      <form onSubmit={submit} className="space-y-3" aria-label="Host">
        <div className="grid gap-3 md:grid-cols-2">
          <Field label="Host name">{(fid) => <Input id={fid} value={host.name} onChange={(e) => setHost({ ...host, name: e.target.value })} required />}</Field>
          <Field label="Description">{(fid) => <Input id={fid} value={host.description} onChange={(e) => setHost({ ...host, description: e.target.value })} />}</Field>
        </div>
        <fieldset className="space-y-2">
          <legend className="text-sm font-medium">NICs (one-NIC layout: one NIC carries both; two-NIC: NIC 1 management, NIC 2 SIP)</legend>
          {host.nics.map((n, i) => (
            <div key={i} className="flex flex-wrap items-end gap-2">
              <Field label={`NIC ${i + 1} name`}>{(fid) => <Input id={fid} value={n.name} onChange={(e) => setNic(i, { name: e.target.value })} className="w-24" />}</Field>
              <Field label={`NIC ${i + 1} address`}>{(fid) => <Input id={fid} value={n.address} onChange={(e) => setNic(i, { address: e.target.value })} placeholder="10.0.0.10" />}</Field>
              <label className="flex items-center gap-1 text-sm">
                <input type="checkbox" checked={n.carriesManagement} onChange={(e) => setNic(i, { carriesManagement: e.target.checked })} /> management
              </label>
              <label className="flex items-center gap-1 text-sm">
                <input type="checkbox" checked={n.carriesSip} onChange={(e) => setNic(i, { carriesSip: e.target.checked })} /> SIP
              </label>
              {host.nics.length > 1 && (
                <Button variant="ghost" onClick={() => setHost({ ...host, nics: host.nics.filter((_, j) => j !== i) })}>
                  Remove
                </Button>
              )}
            </div>
          ))}
          <Button
            variant="secondary"
            onClick={() => setHost({ ...host, nics: [...host.nics, { name: `eth${host.nics.length}`, address: "", carriesManagement: false, carriesSip: false }] })}
          >
            Add NIC
          </Button>
        </fieldset>
        <fieldset className="space-y-2">
          <legend className="text-sm font-medium">Heartbeat (both empty: the console&apos;s default; see the README&apos;s heartbeat profiles)</legend>
          <div className="flex flex-wrap items-end gap-2">
            <Field label="Heartbeat interval (ms)">
              {(fid) => (
                <Input id={fid} inputMode="numeric" placeholder="console default" value={host.heartbeatIntervalMs ?? ""} onChange={(e) => setHost({ ...host, heartbeatIntervalMs: optionalMs(e.target.value) })} className="w-36" />
              )}
            </Field>
            <Field label="Heartbeat timeout (ms)">
              {(fid) => (
                <Input id={fid} inputMode="numeric" placeholder="console default" value={host.heartbeatTimeoutMs ?? ""} onChange={(e) => setHost({ ...host, heartbeatTimeoutMs: optionalMs(e.target.value) })} className="w-36" />
              )}
            </Field>
          </div>
        </fieldset>
        <ErrorBox error={error} />
        <FormActions saveLabel="Save host" pending={create.isPending || update.isPending} onCancel={onDone} />
      </form>
    </Card>
  );
}
