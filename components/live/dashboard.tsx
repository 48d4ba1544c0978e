"use client";
// The operator's dashboard: every HA pair with both servers' roles, process status, host connection,
// where the VIP (or NLB port) should be — stale VIPs included — and where the agents observe it, with a
// banner when the two disagree; readiness for switchover and for upgrade, version, HA link and back-off;
// a disconnected host's values muted as last known, with their age; split brain and maintenance made
// obvious; the manual switchover with its safety explained first; and each pair's timeline.
import Link from "next/link";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useWindowVirtualizer } from "@tanstack/react-virtual";
import { useTRPC } from "@/components/trpc/react";
import type { RouterOutputs } from "@/components/trpc/types";
import { useCurrentUser } from "@/components/layout/app-shell";
import { Badge, Button, Card, ErrorBox, Input, Loading, PageTitle, Select, Textarea, cx } from "@/components/ui";
import { haTypes } from "@/protocol/vocabulary";
import { FailureCause } from "./failure-cause";
import { PairTable, type PairSort } from "./pair-table";
import { ViewSwitch, useDashboardView } from "./dashboard-view";
import { ConsoleCluster } from "./console-cluster";
import { ageText } from "./age";

type PairView = RouterOutputs["live"]["pairs"][number];
type ServerView = PairView["servers"][number];

function RoleBadge({ role }: { role: ServerView["role"] }) {
  const tone = role === "primary" ? "green" : role === "backup" ? "slate" : "amber";
  return (
    <Badge tone={tone}>
      <span data-testid="role">{role}</span>
    </Badge>
  );
}

function ProcessControl({ s }: { s: ServerView }) {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const control = useMutation(trpc.live.application.mutationOptions());
  if (user.role === "viewer" || s.hostConnection !== "connected") return null;
  const down = ["failed", "stopped"].includes(s.status);
  return (
    <div className="mt-2">
      {down ? (
        <Button variant="secondary" disabled={control.isPending} onClick={() => control.mutate({ appId: s.appId, action: "start" })}>
          Start {s.name}
        </Button>
      ) : (
        <Button
          variant="ghost"
          disabled={control.isPending}
          onClick={() => window.confirm(`Stop ${s.name} on ${s.hostName}?${s.role === "primary" ? " It is primary: the controller will move the primary role." : ""}`) && control.mutate({ appId: s.appId, action: "stop" })}
        >
          Stop {s.name}
        </Button>
      )}
      <ErrorBox error={control.error} />
    </div>
  );
}

/** The current time, again every `intervalMs` while the component is shown (for ages such as "45 s ago"). */
function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}


/** How long ago `since` was, ticking. */
export function Age({ since }: { since: Date }) {
  const now = useNow();
  return <span title={since.toLocaleString()}>{ageText(now - since.getTime())}</span>;
}

export const vipWordOf = (haType: PairView["haType"]) => (haType === "nlb-cluster" ? "NLB port" : "VIP");

/**
 * Where the host's agent observes the VIP: "VIP observed here (since 10:32:05)", "not observed here",
 * "cannot tell"; for a host that is not connected, its last observation, marked as such.
 */
export function ObservedVip({ s, vipWord }: { s: ServerView; vipWord: string }) {
  const o = s.vipObserved;
  if (!o) return <span className="text-slate-500">not reported yet</span>;
  const connected = s.hostConnection === "connected";
  const what =
    o.present === true ? (
      <Badge tone={connected ? "green" : "slate"}>{vipWord} observed here</Badge>
    ) : o.present === false ? (
      <span>not observed here</span>
    ) : (
      <Badge tone="amber">cannot tell</Badge>
    );
  return (
    <span title={`${o.detail} (reported ${o.at.toLocaleTimeString()})`}>
      {connected ? (
        <>
          {what} <span className="text-slate-500">since {o.at.toLocaleTimeString()}</span>
        </>
      ) : (
        <span className="italic text-slate-500">
          last known{s.lastHeartbeatAt && <> (<Age since={s.lastHeartbeatAt} />)</>}: {what}
        </span>
      )}
    </span>
  );
}

/** What a disconnected host's server shows: its values are the last it reported, and how old they are. */
function LastKnown({ s }: { s: ServerView }) {
  return (
    <div data-testid="last-known" className="mt-1 rounded bg-slate-100 px-2 py-1 text-xs italic text-slate-600">
      Host {s.hostConnection}: last known values
      {s.lastHeartbeatAt ? (
        <>
          {" "}
          from its last heartbeat, <Age since={s.lastHeartbeatAt} />
        </>
      ) : (
        " (never heard from)"
      )}
    </div>
  );
}

/** The VIP is not where the controller wants it, as the agents observe it (the vip-mismatch alarm). */
export function VipMismatchBanner({ pair }: { pair: PairView }) {
  const m = pair.vipMismatch;
  if (!m) return null;
  const vipWord = vipWordOf(pair.haType);
  const primary = pair.servers.find((s) => s.hostName === m.expectedHost);
  return (
    <div role="alert" data-testid="vip-mismatch" className="mb-3 rounded border border-red-400 bg-red-50 p-2 text-sm text-red-900">
      <div className="font-semibold">
        {vipWord} not where it should be (since {m.since.toLocaleTimeString()}, alarm vip-mismatch)
      </div>
      <div>
        Should be: {m.expectedHost ? `on ${m.expectedHost} only (${primary?.name ?? "the intended primary"}, the intended primary)` : "on one host only (no primary is intended yet)"}.
      </div>
      <div>
        Observed:{" "}
        {m.hosts
          .map((h) => `${h.observed ? `${h.hostName} (${h.server}) holds it` : `${h.hostName} (${h.server}) does not hold it`}${h.lastKnown ? " (last known)" : ""}`)
          .join("; ")}
        .
      </div>
      <div className="text-xs">The controller does not move it by itself: check the host (ip addr, the NLB), or switch over to run the scripts again.</div>
    </div>
  );
}

export function ServerCell({ s, haType }: { s: ServerView; haType: PairView["haType"] }) {
  const vipWord = vipWordOf(haType);
  const connected = s.hostConnection === "connected";
  return (
    <div
      data-testid={`server-${s.name}`}
      data-host-connection={s.hostConnection}
      className={cx("rounded border p-3", !connected ? "border-dashed border-slate-300 bg-slate-50" : s.role === "primary" ? "border-green-400 bg-green-50" : "border-slate-200")}
    >
      <div className={cx("flex items-center justify-between", !connected && "opacity-60 grayscale")}>
        <div className="font-medium">{s.name}</div>
        <RoleBadge role={s.role} />
      </div>
      <div className="text-xs text-slate-600">
        on {s.hostName} · configured {s.configuredRole}
        {s.roleEpoch !== null && ` · epoch ${s.roleEpoch}`}
      </div>
      {!connected && <LastKnown s={s} />}
      <dl className="mt-2 grid grid-cols-2 gap-x-2 gap-y-1 text-xs">
        <dt className="text-slate-500">Host agent</dt>
        <dd>
          <Badge tone={connected ? "green" : "red"}>{s.hostConnection}</Badge>
        </dd>
        {haType !== "single-host" && (
          <>
            <dt className="text-slate-500">{vipWord} (intended)</dt>
            <dd data-testid="vip">
              {s.vip === "present" && <Badge tone="green">{vipWord} here</Badge>}
              {s.vip === "absent" && <span className="text-slate-500">not here</span>}
              {s.vip === "stale" && <Badge tone="red">stale {vipWord} on {s.hostName}</Badge>}
            </dd>
            <dt className="text-slate-500">{vipWord} (observed)</dt>
            <dd data-testid="vip-observed">
              <ObservedVip s={s} vipWord={vipWord} />
            </dd>
          </>
        )}
      </dl>
      {/* What the server last reported: muted while its host is not connected (it may have changed since). */}
      <dl data-testid="server-values" className={cx("mt-1 grid grid-cols-2 gap-x-2 gap-y-1 text-xs", !connected && "opacity-60 grayscale")}>
        <dt className="text-slate-500">Process</dt>
        <dd>
          <Badge tone={s.status === "running" ? "green" : s.status === "unknown" ? "amber" : "red"}>{s.status}</Badge>
        </dd>
        <dt className="text-slate-500">Ready to switch</dt>
        <dd data-testid="ready-to-switch">{s.readyForSwitchover === 1 ? <Badge tone="green">1</Badge> : s.readyForSwitchover === 0 ? <Badge tone="amber">0</Badge> : "—"}</dd>
        <dt className="text-slate-500">Ready to upgrade</dt>
        <dd data-testid="ready-to-upgrade">{s.readyForUpgrade === 1 ? <Badge tone="green">1</Badge> : s.readyForUpgrade === 0 ? <Badge tone="slate">0</Badge> : "—"}</dd>
        <dt className="text-slate-500">Version</dt>
        <dd data-testid="version" className="font-mono">{s.version ?? "—"}</dd>
        <dt className="text-slate-500">HA link</dt>
        <dd>{s.haLink}</dd>
        <dt className="text-slate-500">SIP listener</dt>
        <dd>{s.sipListener === "bind-failed" ? <Badge tone="red">bind failed</Badge> : s.sipListener}</dd>
        {s.oosBackoff > 1 && (
          <>
            <dt className="text-slate-500">OOS back-off</dt>
            <dd>
              <Badge tone="amber">{s.oosBackoff}×</Badge>
            </dd>
          </>
        )}
      </dl>
      <div className={cx(!connected && "opacity-60 grayscale")}>
        {s.notReadyReasons.length > 0 && <ul className="mt-1 list-disc pl-4 text-xs text-amber-800">{s.notReadyReasons.map((r) => <li key={r}>{r}</li>)}</ul>}
        {s.statusDetail && <div className="mt-1 text-xs text-slate-600">{s.statusDetail}</div>}
      </div>
      <FailureCause s={s} />
      <ProcessControl s={s} />
    </div>
  );
}

export function SwitchoverControl({ pair }: { pair: PairView }) {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const [open, setOpen] = useState<"confirm" | "force" | null>(null);
  const [reason, setReason] = useState("");
  const switchover = useMutation(trpc.live.switchover.mutationOptions({ onSuccess: () => (setOpen(null), setReason("")) }));
  if (user.role === "viewer") return null;
  const primary = pair.servers.find((s) => s.role === "primary");
  const target = pair.servers.find((s) => s !== primary) ?? pair.servers[1]!;
  const blocked = pair.switchoverBlockers.length > 0;
  const what =
    pair.haType === "single-host"
      ? `${primary?.name ?? "the primary"} becomes backup and ${target.name} becomes primary (same host, no VIP scripts).`
      : `${primary?.name ?? "the primary"} becomes backup and ${target.name} becomes primary; the ${pair.haType === "nlb-cluster" ? "NLB port" : "VIP"} moves from ${primary?.hostName ?? "?"} to ${target.hostName}.`;

  return (
    <div className="space-y-2">
      <div className="flex flex-wrap gap-2">
        <Button onClick={() => setOpen("confirm")} disabled={blocked || switchover.isPending} aria-describedby={`blockers-${pair.id}`}>
          Switch over
        </Button>
        {blocked && pair.forceable && (
          <Button variant="secondary" onClick={() => setOpen("force")}>
            Force switchover…
          </Button>
        )}
      </div>
      {blocked && (
        <div id={`blockers-${pair.id}`} className="text-xs text-slate-700">
          {pair.forceable ? "Switchover is not safe now (a forced one is possible, with a reason):" : "Switchover is not possible now:"}
          <ul className="list-disc pl-4">
            {pair.switchoverBlockers.map((b) => (
              <li key={b}>{b}</li>
            ))}
          </ul>
        </div>
      )}
      {open && (
        <div role="dialog" aria-label={open === "force" ? "Force switchover" : "Confirm switchover"} className="rounded border border-blue-300 bg-blue-50 p-3 text-sm">
          <p className="font-medium">{open === "force" ? "Forced switchover — double failure risk" : "Confirm switchover"}</p>
          <p>{what}</p>
          {open === "force" && (
            <>
              <p className="mt-1 text-amber-900">
                Readiness is not 1 on both servers: calls may not be synchronised yet (W12). A forced switchover is recorded with your reason.
              </p>
              <Textarea aria-label="Reason for forcing" className="mt-2 w-full" rows={2} value={reason} onChange={(e) => setReason(e.target.value)} />
            </>
          )}
          <div className="mt-2 flex gap-2">
            <Button
              variant={open === "force" ? "danger" : "primary"}
              disabled={switchover.isPending || (open === "force" && reason.trim().length < 5)}
              onClick={() => switchover.mutate({ pairId: pair.id, force: open === "force", reason })}
            >
              {open === "force" ? "Force switchover" : "Switch over now"}
            </Button>
            <Button variant="secondary" onClick={() => setOpen(null)}>
              Cancel
            </Button>
          </div>
        </div>
      )}
      <ErrorBox error={switchover.error} />
      {switchover.data && (
        <div role="status" data-testid="switchover-outcome" className="text-xs text-slate-700">
          <div>Controller: {switchover.data.sentence}</div>
          {/* The plan's steps show above while agents acknowledge them; then the outcome. */}
          <div className="font-medium">{pair.plan ? "In progress: waiting for the agents' acknowledgements…" : `Finished: ${pair.situation}`}</div>
        </div>
      )}
    </div>
  );
}

export function Timeline({ pairId }: { pairId: string }) {
  const trpc = useTRPC();
  const timeline = useQuery(trpc.live.timeline.queryOptions({ pairId, limit: 200 }));
  if (timeline.isLoading) return <Loading what="timeline" />;
  return (
    <ol data-testid="timeline" className="max-h-72 space-y-1 overflow-y-auto text-xs">
      {(timeline.data ?? []).map((h) => (
        <li key={h.id} className="flex gap-2">
          <span className="whitespace-nowrap text-slate-500">{h.at.toLocaleTimeString()}</span>
          <Badge tone={h.kind === "operator" || h.kind === "procedure" ? "blue" : h.kind === "alarm" ? "red" : "slate"}>{h.kind}</Badge>
          <span>{h.text}</span>
        </li>
      ))}
      {timeline.data?.length === 0 && <li className="text-slate-500">Nothing yet.</li>}
    </ol>
  );
}

const holdCauses: Record<string, string> = {
  "service-unavailable": "reported SERVICE_UNAVAILABLE",
  "bind-failure": "cannot open its SIP port",
  "self-demotion": "gave up the primary role (NIC)",
};

/** A pair in maintenance, made obvious: the controller will not fail it over; who set it, why, since and until when. */
export function MaintenanceBanner({ maintenance }: { maintenance: NonNullable<PairView["maintenance"]> }) {
  return (
    <div role="status" data-testid="maintenance-banner" className="mb-3 rounded border-2 border-purple-500 bg-purple-50 p-2 text-sm text-purple-950">
      <div className="font-semibold">In maintenance — no automatic failover</div>
      <div>
        Set by <b>{maintenance.by}</b> at {maintenance.since.toLocaleString()}
        {maintenance.until ? `, until ${maintenance.until.toLocaleString()}` : ", until someone ends it"}. Reason: {maintenance.reason}
      </div>
    </div>
  );
}

/** A failover held for the backup's call synchronisation: who, how many calls, and until when at most. */
export function HoldBanner({ hold }: { hold: NonNullable<PairView["hold"]> }) {
  const calls = hold.unsyncedCalls !== null && hold.unsyncedCalls > 0 ? `${hold.unsyncedCalls.toLocaleString("en-US")} calls` : "its calls";
  return (
    <div role="status" data-testid="failover-hold" className="mb-3 rounded border border-amber-300 bg-amber-50 p-2 text-sm text-amber-900">
      <span className="font-medium">Failover held:</span> {hold.from} {holdCauses[hold.cause] ?? hold.cause}; waiting for {hold.to} to synchronise {calls} before switching, at
      most until {hold.until.toLocaleTimeString()} (then it switches anyway and raises a double-failure alarm).
    </div>
  );
}

export function PairCard({ pair }: { pair: PairView }) {
  const [showTimeline, setShowTimeline] = useState(false);
  return (
    <Card
      className={cx(pair.splitBrain && "border-red-500 ring-2 ring-red-400")}
      title={
        <span data-testid={`pair-${pair.name}`} className="flex items-center gap-2">
          <Link href={`/pairs/${pair.id}`} className="hover:underline">
            {pair.name}
          </Link>{" "}
          <Badge tone="blue">{pair.haType}</Badge> <span className="text-xs font-normal text-slate-500">epoch {pair.epoch}</span>
        </span>
      }
      actions={
        <Button variant="ghost" onClick={() => setShowTimeline(!showTimeline)} aria-expanded={showTimeline}>
          {showTimeline ? "Hide timeline" : "Timeline"}
        </Button>
      }
    >
      {pair.splitBrain && (
        <div role="alert" className="mb-3 rounded bg-red-700 p-2 text-sm text-white">
          <div className="font-semibold">Split brain: both servers claim primary.</div>
          <ul className="list-disc pl-5">
            {pair.servers.map((s) => (
              <li key={s.appId}>
                {s.name} on {s.hostName}: claims {s.role}
                {s.roleEpoch !== null && ` at epoch ${s.roleEpoch}`}
                {s.hostConnection !== "connected" && ` (host ${s.hostConnection}: last report)`}
                {s.vip === "present" && `, holds the ${pair.haType === "nlb-cluster" ? "NLB port" : "VIP"}`}
                {s.vip === "stale" && `, may still hold the ${pair.haType === "nlb-cluster" ? "NLB port" : "VIP"}`}
              </li>
            ))}
          </ul>
          <div>Controller: {pair.situation}</div>
        </div>
      )}
      {pair.maintenance && <MaintenanceBanner maintenance={pair.maintenance} />}
      <VipMismatchBanner pair={pair} />
      {pair.hold && <HoldBanner hold={pair.hold} />}
      <p data-testid="situation" className="mb-3 text-sm text-slate-700">
        {pair.situation}
      </p>
      <div className="grid gap-3 md:grid-cols-2">
        {pair.servers.map((s) => (
          <ServerCell key={s.appId} s={s} haType={pair.haType} />
        ))}
      </div>
      {pair.plan && (
        <div className="mt-3 rounded border border-blue-200 bg-blue-50 p-2 text-xs">
          <div className="font-medium">
            {pair.plan.title} in progress
            {pair.plan.forced ? " (forced)" : ""}: {pair.plan.from ?? "—"} → {pair.plan.to ?? "—"}
          </div>
          <ol className="list-decimal pl-5">
            {pair.plan.steps.map((st, i) => (
              <li key={i}>
                {st.label}: <b>{st.status}</b> {st.note}
              </li>
            ))}
          </ol>
        </div>
      )}
      {pair.activeAlarms.length > 0 && (
        <div className="mt-2 text-xs text-red-800">
          Active: {pair.activeAlarms.join(", ")}
        </div>
      )}
      <div className="mt-3">
        <SwitchoverControl pair={pair} />
      </div>
      {showTimeline && (
        <div className="mt-3 border-t border-slate-200 pt-2">
          <Timeline pairId={pair.id} />
        </div>
      )}
    </Card>
  );
}

/** Estimated height of a pair card before it is measured (px). */
const PAIR_CARD_ESTIMATE_PX = 420;

export function Dashboard() {
  const trpc = useTRPC();
  const pairs = useQuery(trpc.live.pairs.queryOptions());
  const [search, setSearch] = useState("");
  const [problemsOnly, setProblemsOnly] = useState(false);
  const [haType, setHaType] = useState<PairView["haType"] | "">("");
  const [view, setView] = useDashboardView();
  const [sort, setSort] = useState<PairSort>({ key: "problems", descending: true });
  const shown = useMemo(() => {
    const q = search.trim().toLowerCase();
    return (pairs.data ?? []).filter(
      (p) =>
        (!problemsOnly || p.severity > 0) &&
        (!haType || p.haType === haType) &&
        (!q ||
          p.name.toLowerCase().includes(q) ||
          p.situation.toLowerCase().includes(q) ||
          p.servers.some((s) => s.name.toLowerCase().includes(q) || s.hostName.toLowerCase().includes(q))),
    );
  }, [pairs.data, search, problemsOnly, haType]);
  const splitBrains = (pairs.data ?? []).filter((p) => p.splitBrain);
  const withProblems = (pairs.data ?? []).filter((p) => p.severity > 0).length;
  // Only the cards near the viewport are in the page, so thousands of pairs stay responsive; cards
  // are measured after render, so live updates do not make the list jump.
  const listRef = useRef<HTMLDivElement>(null);
  const [scrollMargin, setScrollMargin] = useState(0);
  useLayoutEffect(() => setScrollMargin(listRef.current?.offsetTop ?? 0), [pairs.isLoading, splitBrains.length]);
  const virtualizer = useWindowVirtualizer({ count: view === "cards" ? shown.length : 0, estimateSize: () => PAIR_CARD_ESTIMATE_PX, overscan: 4, scrollMargin, getItemKey: (i) => shown[i]!.id });

  return (
    <>
      <PageTitle
        actions={
          <>
            <ViewSwitch view={view} onChange={setView} />
            <label className="flex items-center gap-1 text-sm">
              <input type="checkbox" checked={problemsOnly} onChange={(e) => setProblemsOnly(e.target.checked)} /> problems only ({withProblems})
            </label>
            <Select aria-label="HA type" value={haType} onChange={(e) => setHaType(e.target.value as PairView["haType"] | "")}>
              <option value="">all HA types</option>
              {haTypes.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </Select>
            <Input aria-label="Search pairs" placeholder="Search pairs, servers, hosts" value={search} onChange={(e) => setSearch(e.target.value)} />
          </>
        }
      >
        Dashboard
      </PageTitle>
      <ConsoleCluster />
      {splitBrains.length > 0 && (
        <div role="alert" data-testid="split-brain-banner" className="mb-4 rounded bg-red-700 p-3 text-white">
          <b>Split brain</b> in {splitBrains.map((p) => p.name).join(", ")}: both servers claim primary.
        </div>
      )}
      <ErrorBox error={pairs.error} />
      {pairs.isLoading && <Loading what="pairs" />}
      <p className="mb-2 text-xs text-slate-500" data-testid="pairs-shown">
        {shown.length} of {pairs.data?.length ?? 0} pairs{view === "cards" ? ", problems first" : "; open a pair's card from its row"}.
      </p>
      {view === "table" ? (
        <PairTable pairs={shown} sort={sort} onSort={setSort} detail={(p) => <PairCard pair={p} />} />
      ) : (
      <div ref={listRef} style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
        {virtualizer.getVirtualItems().map((item) => (
          <div
            key={item.key}
            data-index={item.index}
            ref={virtualizer.measureElement}
            style={{ position: "absolute", top: 0, left: 0, width: "100%", transform: `translateY(${item.start - virtualizer.options.scrollMargin}px)` }}
            className="pb-4"
          >
            <PairCard pair={shown[item.index]!} />
          </div>
        ))}
      </div>
      )}
      {pairs.data?.length === 0 && <p className="text-sm text-slate-500">No HA pairs configured yet.</p>}
    </>
  );
}
