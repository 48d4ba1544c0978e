"use client";
// Log events the agents forwarded, newest first, searchable by event id, application, host and text.
// Kept for the retention period (ALARM_LOG_RETENTION_DAYS).
import { useState } from "react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { Button, Card, ErrorBox, Field, Input, Loading, PageTitle, Table } from "@/components/ui";

export function LogEventsPage() {
  const trpc = useTRPC();
  const [filter, setFilter] = useState({ eventId: "", application: "", host: "", text: "" });
  const input = {
    eventId: filter.eventId || undefined,
    application: filter.application || undefined,
    host: filter.host || undefined,
    text: filter.text || undefined,
    limit: 100,
  };
  const events = useInfiniteQuery(trpc.alarms.logEvents.infiniteQueryOptions(input, { getNextPageParam: (last) => last.nextCursor ?? undefined }));
  const rows = events.data?.pages.flatMap((p) => p.items) ?? [];
  const set = (k: keyof typeof filter) => (e: React.ChangeEvent<HTMLInputElement>) => setFilter({ ...filter, [k]: e.target.value });
  return (
    <>
      <PageTitle>Log events</PageTitle>
      <Card className="mb-4">
        <form className="flex flex-wrap items-end gap-3" aria-label="Log event search" onSubmit={(e) => e.preventDefault()}>
          <Field label="Event id starts with">{(id) => <Input id={id} placeholder="00-04200" value={filter.eventId} onChange={set("eventId")} />}</Field>
          <Field label="Application">{(id) => <Input id={id} value={filter.application} onChange={set("application")} />}</Field>
          <Field label="Host">{(id) => <Input id={id} value={filter.host} onChange={set("host")} />}</Field>
          <Field label="Text contains">{(id) => <Input id={id} value={filter.text} onChange={set("text")} />}</Field>
        </form>
      </Card>
      <Card>
        <ErrorBox error={events.error} />
        {events.isLoading ? (
          <Loading what="log events" />
        ) : (
          <Table head={["Time", "Event", "Level", "Application", "Host", "Text", "Received"]} caption="Log events">
            {rows.map((e) => (
              <tr key={e.id} data-testid="log-event-row">
                <td className="whitespace-nowrap px-2 py-1 text-xs">{e.time.toLocaleString()}</td>
                <td className="px-2 py-1 font-mono text-xs">{e.eventId}</td>
                <td className="px-2 py-1 text-xs">{e.level}</td>
                <td className="px-2 py-1 text-xs">{e.application}</td>
                <td className="px-2 py-1 text-xs">{e.host}</td>
                <td className="px-2 py-1 text-xs">{e.text}</td>
                <td className="whitespace-nowrap px-2 py-1 text-xs text-slate-500">{e.receivedAt.toLocaleString()}</td>
              </tr>
            ))}
          </Table>
        )}
        {rows.length === 0 && !events.isLoading && <p className="text-sm text-slate-500">No log events match.</p>}
        {events.hasNextPage && (
          <Button variant="secondary" className="mt-3" disabled={events.isFetchingNextPage} onClick={() => events.fetchNextPage()}>
            Load more
          </Button>
        )}
      </Card>
    </>
  );
}
