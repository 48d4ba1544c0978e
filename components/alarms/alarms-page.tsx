"use client";
// The live alarm view: active alarms (severity, count, first/last seen, acknowledgement, reaction runs)
// with Acknowledge (a note: "I'm on it") and Clear (a comment) for operators and admins, and a history
// tab of cleared alarms with who, when, how and why (filtered, and downloadable as CSV or JSON). Live
// through the "alarms:changed" socket event.
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import type { RouterOutputs } from "@/components/trpc/types";
import { useCurrentUser } from "@/components/layout/app-shell";
import { Badge, Button, Card, ErrorBox, Field, Input, Loading, PageTitle, Select, Table, cx } from "@/components/ui";
import { ExportButtons } from "@/components/export/export-buttons";

type Alarm = RouterOutputs["alarms"]["active"][number];

const severityTone = { critical: "red", major: "amber", minor: "slate" } as const;

export function SeverityBadge({ severity }: { severity: Alarm["severity"] }) {
  return <Badge tone={severityTone[severity]}>{severity}</Badge>;
}

function subjectOf(a: Pick<Alarm, "application" | "host" | "pair">): string {
  return [a.application, a.host && `on ${a.host}`, a.pair && `(${a.pair})`].filter(Boolean).join(" ") || "—";
}

function when(d: Date | null | undefined): string {
  return d ? d.toLocaleString() : "";
}

function Runs({ runs }: { runs: Alarm["runs"] }) {
  if (!runs.length) return null;
  return (
    <ul className="mt-1 space-y-0.5 text-xs">
      {runs.map((r) => (
        <li key={r.id} className={r.ok ? "text-green-800" : "text-red-800"} data-testid="reaction-run">
          {r.kind} on {r.trigger}: {r.ok ? "ok" : "failed"} — {r.detail}
        </li>
      ))}
    </ul>
  );
}

function ActionForm({ alarm, kind, onDone }: { alarm: Alarm; kind: "acknowledge" | "clear"; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [text, setText] = useState("");
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.alarms.pathKey() });
  const ack = useMutation(trpc.alarms.acknowledge.mutationOptions({ onSuccess: () => (refresh(), onDone()) }));
  const clear = useMutation(trpc.alarms.clear.mutationOptions({ onSuccess: () => (refresh(), onDone()) }));
  const m = kind === "acknowledge" ? ack : clear;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (kind === "acknowledge") ack.mutate({ id: alarm.id, note: text });
    else clear.mutate({ id: alarm.id, comment: text });
  };
  const label = kind === "acknowledge" ? "Acknowledgement note" : "Clear comment";
  return (
    <form onSubmit={submit} aria-label={kind === "acknowledge" ? "Acknowledge alarm" : "Clear alarm"} className="mt-2 flex flex-wrap items-end gap-2">
      <Field label={label}>
        {(id) => (
          <Input id={id} autoFocus required value={text} onChange={(e) => setText(e.target.value)} placeholder={kind === "acknowledge" ? "I'm on it: checking…" : "What fixed it"} className="w-72" />
        )}
      </Field>
      <Button type="submit" variant={kind === "clear" ? "danger" : "primary"} disabled={m.isPending}>
        {kind === "acknowledge" ? "Save acknowledgement" : "Clear alarm"}
      </Button>
      <Button variant="ghost" onClick={onDone}>
        Cancel
      </Button>
      <div className="w-full">
        <ErrorBox error={m.error} />
      </div>
    </form>
  );
}

function ActiveRow({ alarm, canAct }: { alarm: Alarm; canAct: boolean }) {
  const [open, setOpen] = useState<"acknowledge" | "clear" | null>(null);
  return (
    <tr data-testid={`alarm-row-${alarm.source}-${alarm.application || alarm.host || alarm.pair}`} className={cx(!alarm.acknowledgedBy && alarm.severity === "critical" && "bg-red-50")}>
      <td className="px-2 py-2 align-top">
        <SeverityBadge severity={alarm.severity} />
      </td>
      <td className="px-2 py-2 align-top">
        <div className="font-medium">{alarm.description}</div>
        <div className="font-mono text-xs text-slate-600">{alarm.source}</div>
        <div className="text-xs text-slate-700">{alarm.lastText}</div>
        <Runs runs={alarm.runs} />
      </td>
      <td className="px-2 py-2 align-top text-xs">{subjectOf(alarm)}</td>
      <td className="px-2 py-2 align-top" data-testid="alarm-count">
        {alarm.count}
      </td>
      <td className="whitespace-nowrap px-2 py-2 align-top text-xs">{when(alarm.firstSeen)}</td>
      <td className="whitespace-nowrap px-2 py-2 align-top text-xs">{when(alarm.lastSeen)}</td>
      <td className="px-2 py-2 align-top text-xs" data-testid="alarm-ack">
        {alarm.acknowledgedBy ? (
          <>
            <Badge tone="blue">acknowledged</Badge> by {alarm.acknowledgedBy} {when(alarm.acknowledgedAt)}
            <div className="italic">{alarm.acknowledgeNote}</div>
          </>
        ) : (
          <span className="text-slate-500">not acknowledged</span>
        )}
      </td>
      <td className="px-2 py-2 align-top">
        {canAct ? (
          <>
            <div className="flex gap-1">
              <Button variant="secondary" onClick={() => setOpen("acknowledge")}>
                Acknowledge
              </Button>
              <Button variant="danger" onClick={() => setOpen("clear")}>
                Clear
              </Button>
            </div>
            {open && <ActionForm alarm={alarm} kind={open} onDone={() => setOpen(null)} />}
          </>
        ) : (
          <span className="text-xs text-slate-500">operators clear alarms</span>
        )}
      </td>
    </tr>
  );
}

const severities = ["critical", "major", "minor"] as const;

function History() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [filter, setFilter] = useState<{ severity: "" | (typeof severities)[number]; application: string }>({ severity: "", application: "" });
  const filters = { severity: filter.severity || undefined, application: filter.application || undefined };
  const history = useInfiniteQuery(trpc.alarms.history.infiniteQueryOptions({ ...filters, limit: 50 }, { getNextPageParam: (last) => last.nextCursor ?? undefined }));
  const rows = history.data?.pages.flatMap((p) => p.items) ?? [];
  const exportFile = (format: "csv" | "json") => queryClient.fetchQuery({ ...trpc.alarms.exportHistory.queryOptions({ ...filters, format }), staleTime: 0 });
  return (
    <>
      <form className="mb-3 flex flex-wrap items-end gap-3" aria-label="History filters" onSubmit={(e) => e.preventDefault()}>
        <Field label="Severity">
          {(id) => (
            <Select id={id} value={filter.severity} onChange={(e) => setFilter({ ...filter, severity: e.target.value as typeof filter.severity })}>
              <option value="">any</option>
              {severities.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Application">{(id) => <Input id={id} value={filter.application} onChange={(e) => setFilter({ ...filter, application: e.target.value })} />}</Field>
        <ExportButtons what="cleared alarms" load={exportFile} />
      </form>
      <ErrorBox error={history.error} />
      {history.isLoading ? (
        <Loading what="alarm history" />
      ) : (
        <Table head={["Severity", "Alarm", "Subject", "Count", "First seen", "Last seen", "Acknowledged", "Cleared"]} caption="Cleared alarms">
          {rows.map((a) => (
            <tr key={a.id} data-testid={`history-row-${a.source}-${a.application || a.host || a.pair}`}>
              <td className="px-2 py-2 align-top">
                <SeverityBadge severity={a.severity} />
              </td>
              <td className="px-2 py-2 align-top">
                <div className="font-medium">{a.description}</div>
                <div className="font-mono text-xs text-slate-600">{a.source}</div>
                <div className="text-xs">{a.lastText}</div>
                <Runs runs={a.runs} />
              </td>
              <td className="px-2 py-2 align-top text-xs">{subjectOf(a)}</td>
              <td className="px-2 py-2 align-top">{a.count}</td>
              <td className="whitespace-nowrap px-2 py-2 align-top text-xs">{when(a.firstSeen)}</td>
              <td className="whitespace-nowrap px-2 py-2 align-top text-xs">{when(a.lastSeen)}</td>
              <td className="px-2 py-2 align-top text-xs">{a.acknowledgedBy ? `${a.acknowledgedBy}: ${a.acknowledgeNote ?? ""}` : "—"}</td>
              <td className="px-2 py-2 align-top text-xs">
                {a.clearedHow} by {a.clearedBy} {when(a.clearedAt)}
                <div className="italic">{a.clearComment}</div>
              </td>
            </tr>
          ))}
        </Table>
      )}
      {rows.length === 0 && !history.isLoading && <p className="text-sm text-slate-500">No cleared alarms yet.</p>}
      {history.hasNextPage && (
        <Button variant="secondary" className="mt-3" disabled={history.isFetchingNextPage} onClick={() => history.fetchNextPage()}>
          Load more
        </Button>
      )}
    </>
  );
}

export function AlarmsPage() {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const [tab, setTab] = useState<"active" | "history">("active");
  const active = useQuery(trpc.alarms.active.queryOptions());
  const canAct = user.role === "operator" || user.role === "admin";
  const tabClass = (t: string) => cx("rounded-t px-3 py-1.5 text-sm font-medium", tab === t ? "bg-white text-slate-900 border border-b-0 border-slate-200" : "text-slate-600 hover:bg-slate-200");
  return (
    <>
      <PageTitle
        actions={
          <>
            <Link className="text-sm text-blue-800 underline" href="/alarms/conditions">
              Conditions and reactions
            </Link>
            <Link className="text-sm text-blue-800 underline" href="/log-events">
              Log events
            </Link>
          </>
        }
      >
        Alarms
      </PageTitle>
      <div role="tablist" aria-label="Alarm lists" className="flex gap-1">
        <button role="tab" aria-selected={tab === "active"} className={tabClass("active")} onClick={() => setTab("active")}>
          Active {active.data ? `(${active.data.length})` : ""}
        </button>
        <button role="tab" aria-selected={tab === "history"} className={tabClass("history")} onClick={() => setTab("history")}>
          History
        </button>
      </div>
      <Card>
        {tab === "history" ? (
          <History />
        ) : (
          <>
            <ErrorBox error={active.error} />
            {active.isLoading ? (
              <Loading what="active alarms" />
            ) : active.data && active.data.length > 0 ? (
              <Table head={["Severity", "Alarm", "Subject", "Count", "First seen", "Last seen", "Acknowledgement", ""]} caption="Active alarms">
                {active.data.map((a) => (
                  <ActiveRow key={a.id} alarm={a} canAct={canAct} />
                ))}
              </Table>
            ) : (
              <p className="text-sm text-slate-500" data-testid="no-active-alarms">
                No active alarms.
              </p>
            )}
          </>
        )}
      </Card>
    </>
  );
}
