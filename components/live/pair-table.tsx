"use client";
// The dashboard's dense view for many pairs: one row per pair — name, HA type, primary, backup, where the
// VIP or NLB port is, readiness, active alarms, the controller's situation — sortable by any column, with
// the pair's card opening under its row as the detail. Rows come from the same live query as the cards
// (patched by "live:pairs"), and only the rows near the viewport are in the page, so 2,000 pairs stay
// smooth while they change (bench/dashboard measures it).
import Link from "next/link";
import { memo, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useWindowVirtualizer } from "@tanstack/react-virtual";
import type { RouterOutputs } from "@/components/trpc/types";
import { Badge, cx } from "@/components/ui";
import { backupsOf, primariesOf, readyCount, sortPairs, vipText, type PairSort, type PairSortKey } from "./pair-order";

export type { PairSort, PairSortKey };

type PairView = RouterOutputs["live"]["pairs"][number];
type ServerView = PairView["servers"][number];

/** Height of one row before it is measured (px); a row is one line of small text. */
const ROW_ESTIMATE_PX = 37;

const columns: { key: PairSortKey; label: string; width: string }[] = [
  { key: "name", label: "Pair", width: "w-[14%]" },
  { key: "type", label: "Type", width: "w-[8%]" },
  { key: "primary", label: "Primary", width: "w-[13%]" },
  { key: "backup", label: "Backup", width: "w-[13%]" },
  { key: "vip", label: "VIP / NLB", width: "w-[12%]" },
  { key: "ready", label: "Ready", width: "w-[7%]" },
  { key: "alarms", label: "Alarms", width: "w-[10%]" },
  { key: "situation", label: "Situation", width: "w-[23%]" },
];

function ServerName({ s, testId }: { s: ServerView; testId: string }) {
  const trouble = s.status !== "running" || s.hostConnection !== "connected";
  return (
    <span data-testid={testId} title={`${s.name} on ${s.hostName}: ${s.status}, agent ${s.hostConnection}${s.roleEpoch !== null ? `, epoch ${s.roleEpoch}` : ""}`}>
      <span className="font-medium">{s.name}</span> <span className="text-slate-500">{s.hostName}</span>
      {trouble && (
        <>
          {" "}
          <Badge tone="red">{s.hostConnection !== "connected" ? `host ${s.hostConnection}` : s.status}</Badge>
        </>
      )}
    </span>
  );
}

function Servers({ list, testId, none }: { list: ServerView[]; testId: string; none: ReactNode }) {
  if (!list.length) return <span data-testid={testId}>{none}</span>;
  return (
    <span className="flex flex-col">
      {list.map((s) => (
        <ServerName key={s.appId} s={s} testId={testId} />
      ))}
    </span>
  );
}

function Ready({ p }: { p: PairView }) {
  const reasons = p.servers.flatMap((s) => (s.readyForSwitchover === 1 ? [] : [`${s.name}: ${s.notReadyReasons.join("; ") || (s.readyForSwitchover === 0 ? "not ready" : "not reported")}`]));
  const ready = readyCount(p);
  return (
    <span title={reasons.join("\n") || "both servers ready for a switchover"}>
      <Badge tone={ready === p.servers.length ? "green" : ready === 0 ? "red" : "amber"}>
        {ready}/{p.servers.length}
      </Badge>
    </span>
  );
}

const PairRow = memo(function PairRow({ p, open, onToggle }: { p: PairView; open: boolean; onToggle: (id: string) => void }) {
  const primaries = primariesOf(p);
  return (
    <tr
      data-testid={`pair-row-${p.name}`}
      className={cx("cursor-pointer align-top hover:bg-slate-50", p.splitBrain && "bg-red-50", open && "bg-blue-50")}
      onClick={(e) => {
        // The pair's link leads to its page; anywhere else on the row opens its card here.
        if (!(e.target as HTMLElement).closest("a,button")) onToggle(p.id);
      }}
    >
      <td className="truncate px-2 py-1.5">
        <button type="button" aria-expanded={open} aria-label={`${open ? "Close" : "Open"} the card of ${p.name}`} className="mr-1 w-4 text-slate-500" onClick={() => onToggle(p.id)}>
          {open ? "▾" : "▸"}
        </button>
        <Link href={`/pairs/${p.id}`} className="font-medium hover:underline">
          {p.name}
        </Link>
        {p.splitBrain && (
          <>
            {" "}
            <Badge tone="red">split brain</Badge>
          </>
        )}
      </td>
      <td className="truncate px-2 py-1.5 text-slate-600">{p.haType}</td>
      <td className="px-2 py-1.5">
        <Servers list={primaries} testId="primary" none={<Badge tone="red">none</Badge>} />
      </td>
      <td className="px-2 py-1.5">
        <Servers list={backupsOf(p)} testId="backup" none="—" />
      </td>
      <td className={cx("truncate px-2 py-1.5", p.servers.some((s) => s.vip === "stale") && "text-red-800")} data-testid="vip" title={vipText(p)}>
        {vipText(p)}
      </td>
      <td className="px-2 py-1.5" data-testid="ready">
        <Ready p={p} />
      </td>
      <td className="truncate px-2 py-1.5" data-testid="alarms" title={p.activeAlarms.join("\n")}>
        {p.activeAlarms.length ? <span className="text-red-800">{p.activeAlarms.length}: {p.activeAlarms.join(", ")}</span> : <span className="text-slate-400">0</span>}
      </td>
      <td className="truncate px-2 py-1.5 text-slate-700" data-testid="situation" title={p.situation}>
        {p.maintenance && (
          <span title={`maintenance set by ${p.maintenance.by}: ${p.maintenance.reason}`}>
            <Badge tone="amber">maintenance</Badge>{" "}
          </span>
        )}
        {p.vipMismatch && (
          <span title={p.vipMismatch.text}>
            <Badge tone="red">VIP mismatch</Badge>{" "}
          </span>
        )}
        {p.plan && <Badge tone="blue">{p.plan.title}</Badge>} {p.situation}
      </td>
    </tr>
  );
});

export function PairTable({ pairs, sort, onSort, detail }: { pairs: readonly PairView[]; sort: PairSort; onSort: (sort: PairSort) => void; detail: (pair: PairView) => ReactNode }) {
  const rows = useMemo(() => sortPairs(pairs, sort), [pairs, sort]);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = useMemo(() => (id: string) => setOpen((o) => (o.has(id) ? new Set([...o].filter((x) => x !== id)) : new Set(o).add(id))), []);
  const bodyRef = useRef<HTMLTableElement>(null);
  const [scrollMargin, setScrollMargin] = useState(0);
  // Where the table starts in the page (banners above it come and go): checked after every render.
  useLayoutEffect(() => {
    const top = (bodyRef.current?.getBoundingClientRect().top ?? 0) + window.scrollY;
    if (Math.abs(top - scrollMargin) > 1) setScrollMargin(top);
  });
  const virtualizer = useWindowVirtualizer({ count: rows.length, estimateSize: () => ROW_ESTIMATE_PX, overscan: 12, scrollMargin, getItemKey: (i) => rows[i]!.id });
  const items = virtualizer.getVirtualItems();
  const before = items.length ? items[0]!.start - scrollMargin : 0;
  const after = items.length ? virtualizer.getTotalSize() - (items[items.length - 1]!.end - scrollMargin) : 0;
  const header = (c: (typeof columns)[number]) => {
    const active = sort.key === c.key;
    const next: PairSort = { key: c.key, descending: active ? !sort.descending : false };
    return (
      <th key={c.key} scope="col" className={cx("px-2 py-2 font-semibold", c.width)} aria-sort={active ? (sort.descending ? "descending" : "ascending") : "none"}>
        <button type="button" className="uppercase hover:underline" onClick={() => onSort(next)}>
          {c.label}
          {active ? (sort.descending ? " ↓" : " ↑") : ""}
        </button>
      </th>
    );
  };
  return (
    <table ref={bodyRef} className="w-full table-fixed border-collapse text-left text-xs" aria-label="HA pairs" data-testid="pair-table" aria-rowcount={rows.length + 1}>
      <thead className="sticky top-0 z-10 border-b border-slate-300 bg-white text-[11px] text-slate-600 shadow-sm">
        <tr>{columns.map(header)}</tr>
      </thead>
      {before > 0 && (
        <tbody aria-hidden>
          <tr style={{ height: before }} />
        </tbody>
      )}
      {items.map((item) => {
        const p = rows[item.index]!;
        const isOpen = open.has(p.id);
        return (
          <tbody key={item.key} data-index={item.index} ref={virtualizer.measureElement} className="border-b border-slate-100">
            <PairRow p={p} open={isOpen} onToggle={toggle} />
            {isOpen && (
              <tr>
                <td colSpan={columns.length} className="bg-slate-50 p-2">
                  {detail(p)}
                </td>
              </tr>
            )}
          </tbody>
        );
      })}
      {after > 0 && (
        <tbody aria-hidden>
          <tr style={{ height: after }} />
        </tbody>
      )}
    </table>
  );
}
