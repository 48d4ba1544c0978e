"use client";
// HA pairs: list and the create/edit form (HA type, the two applications, VIP or NLB settings,
// control driver and script templates).
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import type { RouterInputs, RouterOutputs } from "@/components/trpc/types";
import { useIsAdmin } from "@/components/layout/app-shell";
import { Badge, Button, Card, ErrorBox, Field, Input, Loading, PageTitle, Select, Table, Textarea, FormActions } from "@/components/ui";

type PairRow = RouterOutputs["pairs"]["list"][number];
type PairInput = RouterInputs["pairs"]["create"];
type HaType = PairInput["haType"];

const defaultDriver: Record<HaType, PairInput["controlDriver"]> = { "ip-takeover": "linux-ip", "nlb-cluster": "nlb", "single-host": "none" };
const haTypeLabel: Record<HaType, string> = { "ip-takeover": "IP address takeover", "nlb-cluster": "Windows NLB cluster", "single-host": "Single host" };

const emptyPair = (): PairInput => ({
  name: "",
  haType: "ip-takeover",
  primaryAppId: "",
  backupAppId: "",
  vipAddress: "",
  vipPrefixLength: 24,
  vipInterface: "",
  nlbClusterName: "",
  nlbPort: null,
  controlDriver: "linux-ip",
  enableScript: "",
  disableScript: "",
  scriptTimeoutMs: 10_000,
  failoverHoldMs: 30_000,
});

function toInput(p: PairRow): PairInput {
  return {
    name: p.name,
    haType: p.haType as HaType,
    primaryAppId: p.primaryApp.id,
    backupAppId: p.backupApp.id,
    vipAddress: p.vipAddress,
    vipPrefixLength: p.vipPrefixLength,
    vipInterface: p.vipInterface,
    nlbClusterName: p.nlbClusterName,
    nlbPort: p.nlbPort,
    controlDriver: p.controlDriver as PairInput["controlDriver"],
    enableScript: p.enableScript,
    disableScript: p.disableScript,
    scriptTimeoutMs: p.scriptTimeoutMs,
    failoverHoldMs: p.failoverHoldMs,
  };
}

export function PairsPage() {
  const trpc = useTRPC();
  const admin = useIsAdmin();
  const queryClient = useQueryClient();
  const pairs = useQuery(trpc.pairs.list.queryOptions());
  const [editing, setEditing] = useState<{ id: string | null; pair: PairInput } | null>(null);
  const remove = useMutation(trpc.pairs.delete.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.pathKey() }) }));

  return (
    <>
      <PageTitle actions={admin && <Button onClick={() => setEditing({ id: null, pair: emptyPair() })}>New pair</Button>}>HA pairs</PageTitle>
      {editing && <PairForm key={editing.id ?? "new"} id={editing.id} initial={editing.pair} onDone={() => setEditing(null)} />}
      <ErrorBox error={remove.error} />
      <Card>
        {pairs.isLoading ? (
          <Loading what="pairs" />
        ) : (
          <Table head={["Pair", "HA type", "Primary (configured)", "Backup (configured)", "VIP / NLB", "Driver", ""]} caption="HA pairs">
            {(pairs.data ?? []).map((p) => (
              <tr key={p.id} data-testid={`pair-row-${p.name}`}>
                <td className="px-2 py-2 font-medium">
                  <Link href={`/pairs/${p.id}`} className="hover:underline">
                    {p.name}
                  </Link>
                </td>
                <td className="px-2 py-2">
                  <Badge tone="blue">{p.haType}</Badge>
                </td>
                <td className="px-2 py-2">
                  {p.primaryApp.name} <span className="text-xs text-slate-500">on {p.primaryApp.host.name}</span>
                </td>
                <td className="px-2 py-2">
                  {p.backupApp.name} <span className="text-xs text-slate-500">on {p.backupApp.host.name}</span>
                </td>
                <td className="px-2 py-2 text-xs">
                  {p.haType === "ip-takeover" && `${p.vipAddress}/${p.vipPrefixLength ?? "?"} on ${p.vipInterface || "?"}`}
                  {p.haType === "nlb-cluster" && `${p.nlbClusterName || p.vipAddress || "cluster"} port ${p.nlbPort}`}
                  {p.haType === "single-host" && "no VIP"}
                </td>
                <td className="px-2 py-2 text-xs">{p.controlDriver}</td>
                <td className="px-2 py-2 text-right">
                  {admin && (
                    <div className="flex justify-end gap-2">
                      <Button variant="secondary" onClick={() => setEditing({ id: p.id, pair: toInput(p) })}>
                        Edit
                      </Button>
                      <Button variant="danger" onClick={() => window.confirm(`Delete pair ${p.name}?`) && remove.mutate({ id: p.id })}>
                        Delete
                      </Button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
        {pairs.data?.length === 0 && <p className="text-sm text-slate-500">No HA pairs yet.</p>}
      </Card>
    </>
  );
}

function PairForm({ id, initial, onDone }: { id: string | null; initial: PairInput; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const apps = useQuery(trpc.applications.list.queryOptions());
  const [pair, setPair] = useState<PairInput>(initial);
  const onSuccess = async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.pathKey() });
    onDone();
  };
  const create = useMutation(trpc.pairs.create.mutationOptions({ onSuccess }));
  const update = useMutation(trpc.pairs.update.mutationOptions({ onSuccess }));
  const error = create.error ?? update.error;
  const num = (v: string) => (v.trim() === "" ? null : Number(v));

  const appSelect = (label: string, value: string, onChange: (v: string) => void) => (
    <Field label={label}>
      {(fid) => (
        <Select id={fid} value={value} onChange={(e) => onChange(e.target.value)} required>
          <option value="">Choose…</option>
          {/* The pair's own choice is kept while the list loads: the form can be saved (and is right) before it arrives. */}
          {value !== "" && !apps.data?.some((a) => a.id === value) && <option value={value}>{apps.data ? "(an application that no longer exists)" : "loading…"}</option>}
          {(apps.data ?? []).map((a) => (
            <option key={a.id} value={a.id}>
              {a.name} ({a.type} on {a.host.name})
            </option>
          ))}
        </Select>
      )}
    </Field>
  );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (id) update.mutate({ id, pair });
    else create.mutate(pair);
  };

  return (
    <Card title={id ? `Edit pair ${initial.name}` : "New HA pair"} className="mb-4">
      <form onSubmit={submit} className="space-y-3" aria-label="HA pair">
        <div className="grid gap-3 md:grid-cols-3">
          <Field label="Pair name">{(fid) => <Input id={fid} value={pair.name} onChange={(e) => setPair({ ...pair, name: e.target.value })} required />}</Field>
          <Field label="HA type" hint={pair.haType === "single-host" ? "Supported for small sites (100 seats or fewer); no VIP scripts." : undefined}>
            {(fid) => (
              <Select
                id={fid}
                value={pair.haType}
                onChange={(e) => {
                  const haType = e.target.value as HaType;
                  setPair({ ...pair, haType, controlDriver: defaultDriver[haType] });
                }}
              >
                {(Object.keys(haTypeLabel) as HaType[]).map((t) => (
                  <option key={t} value={t}>
                    {haTypeLabel[t]}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="Control driver">
            {(fid) => (
              <Select id={fid} value={pair.controlDriver} onChange={(e) => setPair({ ...pair, controlDriver: e.target.value as PairInput["controlDriver"] })}>
                <option value="linux-ip">linux-ip (ip addr + arping)</option>
                <option value="nlb">nlb (Windows NLB commands)</option>
                <option value="command">command (your templates)</option>
                <option value="none">none (single host)</option>
              </Select>
            )}
          </Field>
          {appSelect("Primary application", pair.primaryAppId, (v) => setPair({ ...pair, primaryAppId: v }))}
          {appSelect("Backup application", pair.backupAppId, (v) => setPair({ ...pair, backupAppId: v }))}
          <Field label="Script timeout (ms)">
            {(fid) => <Input id={fid} inputMode="numeric" value={pair.scriptTimeoutMs} onChange={(e) => setPair({ ...pair, scriptTimeoutMs: Number(e.target.value) })} />}
          </Field>
          <Field label="Failover hold (ms)" hint="When the primary can keep its calls (no SIP traffic, bind failure, NIC lost), wait this long for a backup that is still synchronising calls before failing over anyway; 0 = never wait.">
            {(fid) => <Input id={fid} inputMode="numeric" value={pair.failoverHoldMs} onChange={(e) => setPair({ ...pair, failoverHoldMs: Number(e.target.value) })} />}
          </Field>
          {pair.haType !== "single-host" && (
            <Field label={pair.haType === "nlb-cluster" ? "Cluster VIP address" : "Virtual IP address"}>
              {(fid) => <Input id={fid} value={pair.vipAddress} onChange={(e) => setPair({ ...pair, vipAddress: e.target.value })} placeholder="10.0.1.100" />}
            </Field>
          )}
          {pair.haType === "ip-takeover" && (
            <>
              <Field label="Prefix length">
                {(fid) => <Input id={fid} inputMode="numeric" value={pair.vipPrefixLength ?? ""} onChange={(e) => setPair({ ...pair, vipPrefixLength: num(e.target.value) })} />}
              </Field>
              <Field label="VIP interface" hint="Interface the VIP is added to on each host, e.g. eth1.">
                {(fid) => <Input id={fid} value={pair.vipInterface} onChange={(e) => setPair({ ...pair, vipInterface: e.target.value })} />}
              </Field>
            </>
          )}
          {pair.haType === "nlb-cluster" && (
            <>
              <Field label="NLB cluster name">{(fid) => <Input id={fid} value={pair.nlbClusterName} onChange={(e) => setPair({ ...pair, nlbClusterName: e.target.value })} />}</Field>
              <Field label="Virtual IP port">{(fid) => <Input id={fid} inputMode="numeric" value={pair.nlbPort ?? ""} onChange={(e) => setPair({ ...pair, nlbPort: num(e.target.value) })} />}</Field>
            </>
          )}
        </div>
        {(pair.controlDriver === "command" || pair.controlDriver === "nlb") && (
          <div className="grid gap-3 md:grid-cols-2">
            <Field label="Enable script template" hint="Placeholders: {vip} {prefix} {interface} {cluster} {port} {host} {application} {pair}">
              {(fid) => <Textarea id={fid} rows={2} value={pair.enableScript} onChange={(e) => setPair({ ...pair, enableScript: e.target.value })} />}
            </Field>
            <Field label="Disable script template">
              {(fid) => <Textarea id={fid} rows={2} value={pair.disableScript} onChange={(e) => setPair({ ...pair, disableScript: e.target.value })} />}
            </Field>
          </div>
        )}
        <ErrorBox error={error} />
        <FormActions saveLabel="Save pair" pending={create.isPending || update.isPending} onCancel={onDone} />
      </form>
    </Card>
  );
}
