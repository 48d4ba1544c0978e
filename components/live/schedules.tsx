"use client";
// A pair's scheduled switchovers on its page: planned ones (cancellable by operators and admins) and
// what became of the others — done with the controller's sentence, or skipped and why.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { useCurrentUser } from "@/components/layout/app-shell";
import { Badge, Button, ErrorBox, Field, Input, Table } from "@/components/ui";

const tones: Record<string, "green" | "amber" | "red" | "blue" | "slate"> = { pending: "blue", firing: "blue", done: "green", skipped: "amber", cancelled: "slate" };

export function SchedulesCard({ pairId }: { pairId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const list = useQuery(trpc.schedules.list.queryOptions({ pairId }));
  const refresh = () => void queryClient.invalidateQueries({ queryKey: trpc.schedules.pathKey() });
  const [at, setAt] = useState("");
  const [reason, setReason] = useState("");
  const create = useMutation(trpc.schedules.create.mutationOptions({ onSuccess: () => (setAt(""), setReason(""), refresh()) }));
  const cancel = useMutation(trpc.schedules.cancel.mutationOptions({ onSuccess: refresh }));
  const canAct = user.role !== "viewer";
  return (
    <div data-testid="schedules-card" className="space-y-3 text-sm">
      <p className="text-slate-700">At its time a scheduled switchover happens only if both servers are ready for switchover then; otherwise it is skipped and the scheduled-switchover-skipped alarm says why.</p>
      {canAct && (
        <form
          aria-label="Schedule a switchover"
          className="flex flex-wrap items-end gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate({ pairId, at: new Date(at), reason });
          }}
        >
          <Field label="Switch over at">{(id) => <Input id={id} type="datetime-local" step={1} value={at} onChange={(e) => setAt(e.target.value)} />}</Field>
          <Field label="Reason (optional)">{(id) => <Input id={id} className="w-72" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />}</Field>
          <Button type="submit" disabled={create.isPending || at === ""}>
            Schedule switchover
          </Button>
        </form>
      )}
      <ErrorBox error={create.error ?? cancel.error} />
      <Table head={["At", "Status", "Reason", "Scheduled by", "Outcome", ""]} caption="Scheduled switchovers">
        {(list.data ?? []).map((s) => (
          <tr key={s.id} data-testid="schedule-row">
            <td className="px-2 py-1 whitespace-nowrap">{s.at.toLocaleString()}</td>
            <td className="px-2 py-1">
              <Badge tone={tones[s.status] ?? "slate"}>{s.status}</Badge>
            </td>
            <td className="px-2 py-1">{s.reason}</td>
            <td className="px-2 py-1">{s.createdBy}</td>
            <td className="px-2 py-1 text-xs">{s.outcome}</td>
            <td className="px-2 py-1">
              {canAct && s.status === "pending" && (
                <Button variant="ghost" disabled={cancel.isPending} onClick={() => cancel.mutate({ id: s.id })}>
                  Cancel
                </Button>
              )}
            </td>
          </tr>
        ))}
        {list.data?.length === 0 && (
          <tr>
            <td colSpan={6} className="px-2 py-1 text-slate-500">
              None scheduled.
            </td>
          </tr>
        )}
      </Table>
    </div>
  );
}
