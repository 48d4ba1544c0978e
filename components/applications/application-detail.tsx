"use client";
// One application: settings (editable by admins), its server as the agent reports it (process, restart
// policy, delivery, last output), and the options editor, which shows each catalogue option's default,
// valid values, when it takes effect and what it means beside the field, the value the server runs with
// beside the configured one (and why they differ), flags unknown options, and saves all changed values
// in one validated, audited write.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { useIsAdmin } from "@/components/layout/app-shell";
import { Badge, Button, Card, ErrorBox, Input, Loading, PageTitle, Table } from "@/components/ui";
import { DEFAULT_SECTION, optionCatalogue, validValuesText, validateOption, type OptionSpec } from "@/lib/options-catalogue";
import { ApplicationForm, toAppInput, type AppRow } from "./applications-page";
import { RunningCell, RunningState, ServerCard, type ApplicationRuntime, type OptionDeliveryRow } from "./application-runtime";

type Stored = AppRow["options"][number];
const keyOf = (o: { dn: string; section: string; name: string }) => `${o.dn}|${o.section}|${o.name}`;

export function ApplicationDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const admin = useIsAdmin();
  const router = useRouter();
  const queryClient = useQueryClient();
  const app = useQuery(trpc.applications.get.queryOptions({ id }));
  const runtime = useQuery(trpc.live.applicationRuntime.queryOptions({ appId: id }));
  const [editing, setEditing] = useState(false);
  const remove = useMutation(
    trpc.applications.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.applications.pathKey() });
        router.push("/applications");
      },
    }),
  );

  if (app.isLoading) return <Loading what="application" />;
  if (!app.data) return <ErrorBox error={app.error} />;
  const a = app.data;
  const pair = a.primaryOfPair ?? a.backupOfPair;
  return (
    <>
      <PageTitle
        actions={
          admin && (
            <>
              <Button variant="secondary" onClick={() => setEditing(true)}>
                Edit settings
              </Button>
              <Button variant="danger" onClick={() => window.confirm(`Delete application ${a.name}?`) && remove.mutate({ id })}>
                Delete
              </Button>
            </>
          )
        }
      >
        <Link href="/applications" className="text-slate-500 hover:underline">
          Applications
        </Link>{" "}
        / {a.name}
      </PageTitle>
      <ErrorBox error={remove.error} />
      {editing && <ApplicationForm id={id} initial={toAppInput(a)} onDone={() => setEditing(false)} />}
      <Card className="mb-4">
        <dl className="grid gap-2 text-sm md:grid-cols-4">
          <div>
            <dt className="text-slate-500">Type</dt>
            <dd>{a.type}</dd>
          </div>
          <div>
            <dt className="text-slate-500">Host</dt>
            <dd>{a.host.name}</dd>
          </div>
          <div>
            <dt className="text-slate-500">Ports</dt>
            <dd>
              SIP {a.sipPort ?? "—"} · HA {a.haPort ?? "—"}
            </dd>
          </div>
          <div>
            <dt className="text-slate-500">Pair</dt>
            <dd>{pair ? pair.name : "—"}</dd>
          </div>
          <div className="md:col-span-4">
            <dt className="text-slate-500">Start command</dt>
            <dd>
              <code className="text-xs">{[a.startCommand, ...((a.startArgs ?? []) as string[])].join(" ") || "—"}</code>
            </dd>
          </div>
        </dl>
      </Card>
      {runtime.data && <ServerCard appId={id} runtime={runtime.data} />}
      <OptionsEditor applicationId={id} stored={a.options} readOnly={!admin} runtime={runtime.data ?? null} />
    </>
  );
}

function OptionsEditor({ applicationId, stored, readOnly, runtime }: { applicationId: string; stored: Stored[]; readOnly: boolean; runtime: ApplicationRuntime | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const storedMap = useMemo(() => new Map(stored.map((o) => [keyOf(o), o.value])), [stored]);
  const [draft, setDraft] = useState<Map<string, string>>(new Map());
  const [newDn, setNewDn] = useState("");
  const [custom, setCustom] = useState({ section: DEFAULT_SECTION, name: "", value: "" });
  const save = useMutation(
    trpc.options.set.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.applications.pathKey() });
        // The configured side of the comparison changed; the running side follows by "live:applications".
        await queryClient.invalidateQueries({ queryKey: trpc.live.applicationRuntime.pathKey() });
        setDraft(new Map());
      },
    }),
  );

  const appSpecs = optionCatalogue.filter((o) => o.level === "application");
  const dnSpecs = optionCatalogue.filter((o) => o.level === "dn");
  const dns = [...new Set([...stored.filter((o) => o.dn !== "").map((o) => o.dn), ...[...draft.keys()].map((k) => k.split("|")[0]!).filter(Boolean)])].sort();
  const unknown = stored.filter((o) => !optionCatalogue.some((s) => s.name === o.name && s.level === (o.dn ? "dn" : "application")));

  const valueOf = (key: string) => draft.get(key) ?? storedMap.get(key) ?? "";
  const set = (key: string, value: string) => setDraft(new Map(draft).set(key, value));
  const changes = [...draft.entries()]
    .filter(([k, v]) => v !== (storedMap.get(k) ?? ""))
    .map(([k, v]) => {
      const [dn, section, name] = k.split("|") as [string, string, string];
      return { dn, section, name, value: v.trim() === "" ? null : v };
    });

  const running = new Map<string, OptionDeliveryRow>();
  for (const r of [...(runtime?.options ?? []), ...(runtime?.dns.flatMap((d) => d.options) ?? [])]) running.set(`${r.dn}|${r.name}`, r);
  const runningCell = (dn: string, name: string) => <RunningCell row={running.get(`${dn}|${name}`)} testId={`running-${dn ? `${dn}-` : ""}${name}`} />;

  const row = (spec: OptionSpec, dn: string) => {
    const key = keyOf({ dn, section: spec.section, name: spec.name });
    const value = valueOf(key);
    const localCheck = value.trim() === "" ? null : validateOption(spec.name, value, spec.level);
    const localError = localCheck && !localCheck.ok ? localCheck.message : undefined;
    const inputId = `opt-${dn || "app"}-${spec.name}`;
    return (
      <tr key={key} data-testid={`option-row-${dn ? `${dn}-` : ""}${spec.name}`}>
        <td className="px-2 py-2 align-top">
          <label htmlFor={inputId} className="font-mono text-xs font-semibold">
            {spec.name}
          </label>
          <div className="text-xs text-slate-500">{spec.section}</div>
        </td>
        <td className="px-2 py-2 align-top">
          <Input
            id={inputId}
            value={value}
            placeholder={spec.default ?? "(not set)"}
            disabled={readOnly}
            aria-invalid={localError ? true : undefined}
            aria-describedby={`${inputId}-help`}
            onChange={(e) => set(key, e.target.value)}
            className="w-40"
          />
          {localError && <div className="mt-1 text-xs text-red-700">{localError}</div>}
          {storedMap.has(key) && <div className="text-xs text-slate-500">stored: {storedMap.get(key)}</div>}
        </td>
        {runningCell(dn, spec.name)}
        <td id={`${inputId}-help`} className="px-2 py-2 align-top text-xs text-slate-700">
          <div>{spec.meaning}</div>
          <div className="mt-1 text-slate-500">
            default <b>{spec.default ?? "none"}</b> · valid {validValuesText(spec)} · takes effect {spec.takesEffect}
          </div>
        </td>
      </tr>
    );
  };

  return (
    <Card
      title="Options"
      actions={
        !readOnly && (
          <Button disabled={changes.length === 0 || save.isPending} onClick={() => save.mutate({ applicationId, changes })}>
            Save {changes.length || ""} change{changes.length === 1 ? "" : "s"}
          </Button>
        )
      }
    >
      <div className="space-y-4">
        <ErrorBox error={save.error} />
        {save.isSuccess && changes.length === 0 && (
          <p role="status" className="text-sm text-green-800">
            Options saved.
          </p>
        )}
        <Table head={["Option", "Configured", "Running on the server", "Meaning, default, valid values"]} caption="Application options">
          {appSpecs.map((s) => row(s, ""))}
        </Table>
        <div>
          <h3 className="mb-2 text-sm font-semibold">Service DNs (Active Out-Of-Service detection)</h3>
          {dns.length === 0 && <p className="text-sm text-slate-500">No service DN configured; traffic monitoring (sip-pass-check) needs at least one.</p>}
          {dns.map((dn) => (
            <div key={dn} className="mb-3">
              <div className="text-sm font-medium">DN {dn}</div>
              <Table head={["Option", "Configured", "Running on the server", "Meaning, default, valid values"]}>{dnSpecs.map((s) => row(s, dn))}</Table>
            </div>
          ))}
          {!readOnly && (
            <div className="flex items-end gap-2">
              <Input aria-label="New service DN number" placeholder="DN number, e.g. 7001" value={newDn} onChange={(e) => setNewDn(e.target.value)} className="w-48" />
              <Button
                variant="secondary"
                disabled={!/^[A-Za-z0-9._-]+$/.test(newDn)}
                onClick={() => {
                  set(keyOf({ dn: newDn, section: DEFAULT_SECTION, name: "oos-check" }), "10");
                  set(keyOf({ dn: newDn, section: DEFAULT_SECTION, name: "oos-force" }), "5");
                  setNewDn("");
                }}
              >
                Add service DN
              </Button>
            </div>
          )}
        </div>
        <div>
          <h3 className="mb-2 text-sm font-semibold">Other options</h3>
          {unknown.length === 0 && <p className="text-sm text-slate-500">None.</p>}
          <ul className="space-y-1 text-sm">
            {unknown.map((o) => (
              <li key={keyOf(o)} data-testid={`unknown-option-${o.name}`} className="flex items-center gap-2">
                <Badge tone="amber">unknown to the catalogue</Badge>
                <code className="text-xs">
                  {o.dn && `DN ${o.dn} `}
                  {o.section}/{o.name} = {o.value}
                </code>
                {running.get(`${o.dn}|${o.name}`) && (
                  <span className="text-xs" data-testid={`running-${o.dn ? `${o.dn}-` : ""}${o.name}`}>
                    <RunningState row={running.get(`${o.dn}|${o.name}`)!} />
                  </span>
                )}
                {!readOnly && (
                  <Button variant="ghost" onClick={() => save.mutate({ applicationId, changes: [{ dn: o.dn, section: o.section, name: o.name, value: null }] })}>
                    Remove
                  </Button>
                )}
              </li>
            ))}
          </ul>
          {!readOnly && (
            <div className="mt-2 flex flex-wrap items-end gap-2">
              <Input aria-label="Custom option section" value={custom.section} onChange={(e) => setCustom({ ...custom, section: e.target.value })} className="w-28" />
              <Input aria-label="Custom option name" placeholder="option name" value={custom.name} onChange={(e) => setCustom({ ...custom, name: e.target.value })} />
              <Input aria-label="Custom option value" placeholder="value" value={custom.value} onChange={(e) => setCustom({ ...custom, value: e.target.value })} />
              <Button
                variant="secondary"
                disabled={!custom.name}
                onClick={() => {
                  save.mutate({ applicationId, changes: [{ dn: "", section: custom.section, name: custom.name, value: custom.value }] });
                  setCustom({ section: DEFAULT_SECTION, name: "", value: "" });
                }}
              >
                Add option
              </Button>
            </div>
          )}
        </div>
      </div>
    </Card>
  );
}
