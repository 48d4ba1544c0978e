"use client";
// Which console instance leads and which follow (several consoles on one PostgreSQL): a line above the
// pairs, and a banner when nobody leads (a takeover under way) or no follower is alive while the site
// runs several consoles. Refetched on every live change and every few seconds (the followers' ages).
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { Badge } from "@/components/ui";
import { ageText } from "./age";

export function ConsoleCluster() {
  const trpc = useTRPC();
  const consoles = useQuery({ ...trpc.live.consoles.queryOptions(), refetchInterval: 5_000 });
  const c = consoles.data;
  if (!c) return null;
  const single = c.expected < 2 && c.followers.length === 0;
  return (
    <div className="mb-3 text-xs text-slate-600" data-testid="console-cluster">
      {!c.leader && (
        <div role="alert" className="mb-2 rounded bg-amber-100 p-2 text-amber-900">
          <b>No console leads right now</b>: a takeover is under way (the lease of the last leader has to expire); failovers resume as soon as a console leads.
        </div>
      )}
      {c.leader && c.expected >= 2 && c.followers.length === 0 && (
        <div role="alert" className="mb-2 rounded bg-amber-100 p-2 text-amber-900" data-testid="no-follower-banner">
          <b>No follower console is alive</b> ({c.expected} expected): if {c.leader.id} dies, no pair fails over until a console is back.
        </div>
      )}
      {!single && (
        <span>
          This console: <b data-testid="console-instance">{c.instance}</b>{" "}
          <Badge tone={c.role === "leader" ? "green" : "slate"}>
            <span data-testid="console-role">{c.role}</span>
          </Badge>
          {c.leader && (
            <>
              {" "}
              · leader <b data-testid="console-leader">{c.leader.id}</b> since {c.leader.since.toLocaleString()} (term {c.leader.term})
            </>
          )}
          {" "}
          · followers:{" "}
          {c.followers.length === 0
            ? "none"
            : c.followers.map((f) => (
                <span key={f.id} className="mr-2" data-testid="console-follower">
                  {f.id} (heard {ageText(f.seenAgoMs)})
                </span>
              ))}
        </span>
      )}
    </div>
  );
}
