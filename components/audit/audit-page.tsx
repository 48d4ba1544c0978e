"use client";
// The audit log: every configuration change, login and command, with filters and paging, and the
// filtered entries as a CSV or JSON download.
import { useState } from "react";
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { ExportButtons } from "@/components/export/export-buttons";
import { useTRPC } from "@/components/trpc/react";
import { Button, Card, ErrorBox, Field, Input, Loading, PageTitle, Select, Table } from "@/components/ui";

const objectTypes = ["", "host", "application", "pair", "user", "config", "alarm", "alarm-condition", "alarm-reaction", "api-token"];

function short(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 157)}…` : s;
}

/**
 * A before/after value on one line, cut to the column with "…" (the whole value on hover): JSON broken at
 * any character squeezed the other columns until 50 rows were thousands of pixels tall. The object and
 * the detail are kept to two lines the same way.
 */
function JsonCell({ value, className }: { value: unknown; className?: string }) {
  const text = short(value);
  return (
    <td className={`px-2 py-1 font-mono text-xs ${className ?? ""}`}>
      <div className="max-w-[14rem] truncate" title={text}>
        {text}
      </div>
    </td>
  );
}

export function AuditPage() {
  const trpc = useTRPC();
  const [filter, setFilter] = useState({ actorName: "", action: "", objectType: "", objectName: "", from: "", to: "" });
  const input = {
    actorName: filter.actorName || undefined,
    action: filter.action || undefined,
    objectType: filter.objectType || undefined,
    objectName: filter.objectName || undefined,
    from: filter.from ? new Date(filter.from) : undefined,
    to: filter.to ? new Date(filter.to) : undefined,
    limit: 50,
  };
  const audit = useInfiniteQuery(trpc.audit.list.infiniteQueryOptions(input, { getNextPageParam: (last) => last.nextCursor ?? undefined }));
  const queryClient = useQueryClient();
  const { limit: _limit, ...filters } = input;
  const exportFile = (format: "csv" | "json") => queryClient.fetchQuery({ ...trpc.audit.export.queryOptions({ ...filters, format }), staleTime: 0 });
  const rows = audit.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <>
      <PageTitle actions={<ExportButtons what="audit entries" load={exportFile} />}>Audit log</PageTitle>
      <Card className="mb-4">
        <form className="flex flex-wrap items-end gap-3" aria-label="Audit filters" onSubmit={(e) => e.preventDefault()}>
          <Field label="Who">{(id) => <Input id={id} value={filter.actorName} onChange={(e) => setFilter({ ...filter, actorName: e.target.value })} />}</Field>
          <Field label="Action starts with">
            {(id) => <Input id={id} placeholder="option.set" value={filter.action} onChange={(e) => setFilter({ ...filter, action: e.target.value })} />}
          </Field>
          <Field label="Object type">
            {(id) => (
              <Select id={id} value={filter.objectType} onChange={(e) => setFilter({ ...filter, objectType: e.target.value })}>
                {objectTypes.map((t) => (
                  <option key={t} value={t}>
                    {t || "any"}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="Object name">{(id) => <Input id={id} value={filter.objectName} onChange={(e) => setFilter({ ...filter, objectName: e.target.value })} />}</Field>
          <Field label="From">{(id) => <Input id={id} type="datetime-local" value={filter.from} onChange={(e) => setFilter({ ...filter, from: e.target.value })} />}</Field>
          <Field label="To">{(id) => <Input id={id} type="datetime-local" value={filter.to} onChange={(e) => setFilter({ ...filter, to: e.target.value })} />}</Field>
        </form>
      </Card>
      <Card>
        <ErrorBox error={audit.error} />
        {audit.isLoading ? (
          <Loading what="audit entries" />
        ) : (
          <Table head={["When", "Who", "Action", "Object", "Detail", "Before", "After"]} caption="Audit entries">
            {rows.map((r) => (
              <tr key={r.id} data-testid="audit-row" className="align-top">
                <td className="whitespace-nowrap px-2 py-1 text-xs">{r.at.toLocaleString()}</td>
                <td className="whitespace-nowrap px-2 py-1 text-xs">{r.actorName}</td>
                <td className="whitespace-nowrap px-2 py-1 font-mono text-xs">{r.action}</td>
                <td className="min-w-[10rem] px-2 py-1 text-xs">
                  <div className="line-clamp-2 break-words" title={`${r.objectType} ${r.objectName}`}>
                    {r.objectType} {r.objectName}
                  </div>
                </td>
                <td className="min-w-[16rem] px-2 py-1 text-xs">
                  <div className="line-clamp-2" title={r.detail ?? undefined}>
                    {r.detail}
                  </div>
                </td>
                <JsonCell value={r.before} className="text-slate-600" />
                <JsonCell value={r.after} />
              </tr>
            ))}
          </Table>
        )}
        {rows.length === 0 && !audit.isLoading && <p className="text-sm text-slate-500">No entries match.</p>}
        {audit.hasNextPage && (
          <Button variant="secondary" className="mt-3" disabled={audit.isFetchingNextPage} onClick={() => audit.fetchNextPage()}>
            Load more
          </Button>
        )}
      </Card>
    </>
  );
}
