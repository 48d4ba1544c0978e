"use client";
// A pair's maintenance on its page (its banner is at the top of the page): for operators and admins,
// putting the pair in maintenance with a reason and an optional end, changing it, or ending it.
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import type { RouterOutputs } from "@/components/trpc/types";
import { useCurrentUser } from "@/components/layout/app-shell";
import { Button, ErrorBox, Field, Input } from "@/components/ui";

type PairView = RouterOutputs["live"]["pairs"][number];

export function MaintenanceControl({ pair }: { pair: PairView }) {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const [reason, setReason] = useState("");
  const [until, setUntil] = useState("");
  const [editing, setEditing] = useState(false);
  const set = useMutation(trpc.maintenance.set.mutationOptions({ onSuccess: () => (setEditing(false), setReason(""), setUntil("")) }));
  const m = pair.maintenance;
  const canAct = user.role !== "viewer";
  const form = (
    <form
      className="space-y-2"
      aria-label={m ? "Change maintenance" : "Put in maintenance"}
      onSubmit={(e) => {
        e.preventDefault();
        set.mutate({ pairId: pair.id, on: true, reason, until: until ? new Date(until) : null });
      }}
    >
      <Field label="Reason" hint="Shown on the dashboard with your name; required.">
        {(id) => <Input id={id} className="w-full" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />}
      </Field>
      <Field label="Ends at (optional)" hint="Empty: until someone ends it. The controller acts again at this time.">
        {(id) => <Input id={id} type="datetime-local" step={1} value={until} onChange={(e) => setUntil(e.target.value)} />}
      </Field>
      <div className="flex gap-2">
        <Button type="submit" disabled={set.isPending || reason.trim() === ""}>
          {m ? "Save maintenance" : "Put in maintenance"}
        </Button>
        {m && (
          <Button variant="secondary" onClick={() => setEditing(false)}>
            Cancel
          </Button>
        )}
      </div>
    </form>
  );
  return (
    <div data-testid="maintenance-control" className="space-y-2 text-sm">
      {m ? (
        <>
          <p className="text-slate-700">
            In maintenance since {m.since.toLocaleString()} (set by {m.by}): the controller observes the pair only.
          </p>
          {canAct && !editing && (
            <div className="flex gap-2">
              <Button variant="danger" disabled={set.isPending} onClick={() => set.mutate({ pairId: pair.id, on: false, reason: "", until: null })}>
                End maintenance
              </Button>
              <Button variant="secondary" onClick={() => (setEditing(true), setReason(m.reason))}>
                Change reason or end…
              </Button>
            </div>
          )}
          {canAct && editing && form}
        </>
      ) : (
        <>
          <p className="text-slate-700">
            In maintenance the controller observes the pair and takes no decision of its own: no failover, no autostart, until the maintenance ends (by hand or at its end). A switchover you ask for is still carried out.
          </p>
          {canAct && form}
        </>
      )}
      <ErrorBox error={set.error} />
      {set.data && <div role="status" className="text-xs text-slate-700">Controller: {set.data}</div>}
    </div>
  );
}
