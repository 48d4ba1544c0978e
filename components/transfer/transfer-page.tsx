"use client";
// Export the configuration as YAML and import a file: check first (dry run), then apply; an import
// with any problem changes nothing and lists every problem with its path in the file.
import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import type { RouterOutputs } from "@/components/trpc/types";
import { Button, Card, ErrorBox, PageTitle, Textarea } from "@/components/ui";

type Plan = RouterOutputs["config"]["import"];

function PlanSummary({ plan, applied }: { plan: Plan; applied: boolean }) {
  const line = (kind: keyof Plan) =>
    `${kind}: ${plan[kind].created.length} to create, ${plan[kind].updated.length} to update, ${plan[kind].deleted.length} to delete`.replace(/to /g, applied ? "" : "to ");
  return (
    <div role="status" className="rounded border border-green-300 bg-green-50 p-3 text-sm text-green-900">
      <div className="font-medium">{applied ? "Imported." : "The file is valid. Nothing has been changed yet."}</div>
      <ul className="list-disc pl-5">
        {(["hosts", "applications", "pairs"] as const).map((k) => (
          <li key={k}>{line(k)}</li>
        ))}
      </ul>
    </div>
  );
}

export function TransferPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [text, setText] = useState("");
  const [replace, setReplace] = useState(false);
  const exp = useMutation(
    trpc.config.export.mutationOptions({
      onSuccess: (yaml) => {
        const url = URL.createObjectURL(new Blob([yaml], { type: "application/yaml" }));
        const a = document.createElement("a");
        a.href = url;
        a.download = `switchyard-config-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.yaml`;
        a.click();
        URL.revokeObjectURL(url);
      },
    }),
  );
  const check = useMutation(trpc.config.import.mutationOptions());
  const apply = useMutation(trpc.config.import.mutationOptions({ onSuccess: () => queryClient.invalidateQueries() }));

  return (
    <>
      <PageTitle>Export / import</PageTitle>
      <Card title="Export" className="mb-4">
        <p className="mb-2 text-sm text-slate-600">Hosts, applications with their options, and HA pairs as one YAML file.</p>
        <Button onClick={() => exp.mutate()} disabled={exp.isPending}>
          Download configuration
        </Button>
        <ErrorBox error={exp.error} />
      </Card>
      <Card title="Import">
        <div className="space-y-3">
          <input
            type="file"
            accept=".yaml,.yml,.json"
            aria-label="Configuration file"
            onChange={async (e) => {
              const file = e.target.files?.[0];
              if (file) setText(await file.text());
              check.reset();
              apply.reset();
            }}
          />
          <Textarea aria-label="Configuration text" rows={12} className="w-full" value={text} onChange={(e) => (setText(e.target.value), check.reset(), apply.reset())} />
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} />
            Replace: also delete stored hosts, applications and pairs the file does not name
          </label>
          <div className="flex gap-2">
            <Button variant="secondary" disabled={!text || check.isPending} onClick={() => check.mutate({ text, replace, dryRun: true })}>
              Check file
            </Button>
            <Button disabled={!text || !check.isSuccess || apply.isPending} onClick={() => apply.mutate({ text, replace, dryRun: false })}>
              Import
            </Button>
          </div>
          <ErrorBox error={check.error ?? apply.error} />
          {apply.data ? <PlanSummary plan={apply.data} applied /> : check.data && <PlanSummary plan={check.data} applied={false} />}
        </div>
      </Card>
    </>
  );
}
