"use client";
// The option catalogue (every known option with default, valid values, when it takes effect, meaning)
// and bulk edit: one option set on several applications at once, all or none.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { useIsAdmin } from "@/components/layout/app-shell";
import { Button, Card, ErrorBox, Field, Input, PageTitle, Select, Table } from "@/components/ui";
import { optionCatalogue, validValuesText } from "@/lib/options-catalogue";

export function OptionsPage() {
  const admin = useIsAdmin();
  return (
    <>
      <PageTitle>Options</PageTitle>
      {admin && <BulkEdit />}
      <Card title="Catalogue">
        <Table head={["Option", "Level", "Section", "Type", "Default", "Valid", "Takes effect", "Meaning"]} caption="Option catalogue">
          {optionCatalogue.map((o) => (
            <tr key={o.name}>
              <td className="px-2 py-2 font-mono text-xs font-semibold">{o.name}</td>
              <td className="px-2 py-2 text-xs">{o.level === "dn" ? "service DN" : "application"}</td>
              <td className="px-2 py-2 text-xs">{o.section}</td>
              <td className="px-2 py-2 text-xs">{o.type}</td>
              <td className="px-2 py-2 text-xs">{o.default ?? "—"}</td>
              <td className="px-2 py-2 text-xs">{validValuesText(o)}</td>
              <td className="px-2 py-2 text-xs">{o.takesEffect}</td>
              <td className="px-2 py-2 text-xs">{o.meaning}</td>
            </tr>
          ))}
        </Table>
      </Card>
    </>
  );
}

function BulkEdit() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const apps = useQuery(trpc.applications.list.queryOptions());
  const appLevel = optionCatalogue.filter((o) => o.level === "application");
  const [name, setName] = useState(appLevel[0]!.name);
  const [value, setValue] = useState("");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const bulk = useMutation(trpc.options.bulkSet.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.applications.pathKey() }) }));
  const spec = appLevel.find((o) => o.name === name)!;
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };

  return (
    <Card title="Bulk edit" className="mb-4">
      <div className="space-y-3">
        <div className="flex flex-wrap items-end gap-3">
          <Field label="Option">
            {(id) => (
              <Select id={id} value={name} onChange={(e) => setName(e.target.value)}>
                {appLevel.map((o) => (
                  <option key={o.name}>{o.name}</option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="New value" hint={`valid ${validValuesText(spec)}; empty resets to the default (${spec.default ?? "none"})`}>
            {(id) => <Input id={id} value={value} onChange={(e) => setValue(e.target.value)} />}
          </Field>
          <Button
            disabled={selected.size === 0 || bulk.isPending}
            onClick={() =>
              bulk.mutate({ applicationIds: [...selected], change: { dn: "", section: spec.section, name, value: value.trim() === "" ? null : value } })
            }
          >
            Apply to {selected.size} application{selected.size === 1 ? "" : "s"}
          </Button>
        </div>
        <ErrorBox error={bulk.error} />
        {bulk.isSuccess && (
          <p role="status" className="text-sm text-green-800">
            Set on {bulk.data} application{bulk.data === 1 ? "" : "s"}.
          </p>
        )}
        <fieldset>
          <legend className="mb-1 text-sm font-medium">Applications</legend>
          <div className="flex flex-wrap gap-3">
            {(apps.data ?? []).map((a) => {
              const current = a.options.find((o) => o.dn === "" && o.name === name)?.value;
              return (
                <label key={a.id} className="flex items-center gap-1 text-sm">
                  <input type="checkbox" checked={selected.has(a.id)} onChange={() => toggle(a.id)} />
                  {a.name} <span className="text-xs text-slate-500">({current ?? `default ${spec.default ?? "—"}`})</span>
                </label>
              );
            })}
          </div>
        </fieldset>
      </div>
    </Card>
  );
}
