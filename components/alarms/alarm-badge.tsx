"use client";
// The header's alarm badge on every page: active alarms by severity, red while any critical one is
// active; refetched when the console says "alarms:changed" (components/live/use-live-socket.tsx).
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { cx } from "@/components/ui";

export function AlarmBadge() {
  const trpc = useTRPC();
  const counts = useQuery(trpc.alarms.counts.queryOptions());
  const c = counts.data;
  const label = c ? `${c.total} active alarm${c.total === 1 ? "" : "s"}: ${c.critical} critical, ${c.major} major, ${c.minor} minor, ${c.unacknowledged} not acknowledged` : "alarms";
  const tone = !c || c.total === 0 ? "bg-slate-700 text-slate-200" : c.critical > 0 ? "bg-red-600 text-white" : c.major > 0 ? "bg-amber-500 text-slate-900" : "bg-yellow-200 text-slate-900";
  return (
    <Link href="/alarms" data-testid="alarm-badge" aria-label={label} title={label} className={cx("rounded px-2 py-1 text-xs font-semibold", tone)}>
      Alarms <span data-testid="alarm-badge-total">{c?.total ?? "…"}</span>
      {c && c.total > 0 && (
        <span className="ml-1 font-normal" data-testid="alarm-badge-severities">
          ({[c.critical && `${c.critical} critical`, c.major && `${c.major} major`, c.minor && `${c.minor} minor`].filter(Boolean).join(", ")})
        </span>
      )}
    </Link>
  );
}
