"use client";
// One pair in detail: a topology picture (hosts with their NICs, the servers and their roles, the HA
// link, where the VIP or NLB port should be — stale included — and where the agents observe it, a
// disconnected host muted with the age of what it last said), live status, maintenance, the options that
// matter for HA, the switchover control, scheduled switchovers, the guided rolling upgrade (W14) and the
// full timeline with the controller's reasons.
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { Badge, Card, ErrorBox, Loading, PageTitle, Table, cx } from "@/components/ui";
import { effectiveOption } from "@/lib/options-catalogue";
import { Age, HoldBanner, MaintenanceBanner, ObservedVip, ServerCell, SwitchoverControl, Timeline, VipMismatchBanner, vipWordOf } from "./dashboard";
import { MaintenanceControl } from "./maintenance";
import { UpgradeCard } from "./upgrade";
import { SchedulesCard } from "./schedules";

const haOptions = ["ha-max-calls-sync-at-once", "http-port", "sip-pass-check", "control-vip-scripts", "sip-iptakeover-monitoring", "tlib-nic-monitoring", "sip-nic-monitoring", "sip-nic-address"];

export function PairDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const live = useQuery(trpc.live.pairs.queryOptions());
  const config = useQuery(trpc.pairs.list.queryOptions());
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  const apps = useQuery(trpc.applications.list.queryOptions());
  const pair = live.data?.find((p) => p.id === id);
  const cfg = config.data?.find((p) => p.id === id);
  if (live.isLoading || config.isLoading) return <Loading what="pair" />;
  if (!pair || !cfg) return <ErrorBox error={live.error ?? config.error ?? { message: `pair ${id} does not exist` }} />;
  const vipWord = pair.haType === "nlb-cluster" ? `NLB port ${cfg.nlbPort ?? ""}` : pair.haType === "ip-takeover" ? `VIP ${cfg.vipAddress}` : null;
  const haLinkUp = pair.servers.every((s) => s.haLink === "up");

  return (
    <>
      <PageTitle>
        <Link href="/" className="text-slate-500 hover:underline">
          Dashboard
        </Link>{" "}
        / {pair.name} <Badge tone="blue">{pair.haType}</Badge>
      </PageTitle>
      {pair.splitBrain && (
        <div role="alert" className="mb-4 rounded bg-red-700 p-3 font-semibold text-white">
          Split brain: both servers claim primary. {pair.situation}
        </div>
      )}
      {pair.maintenance && <MaintenanceBanner maintenance={pair.maintenance} />}
      <VipMismatchBanner pair={pair} />
      <Card title="Topology" className="mb-4">
        <figure aria-label={`Topology of ${pair.name}`} className="flex flex-col items-stretch gap-2 md:flex-row md:items-center">
          {/* One box per host: a single-host pair's two servers sit in one box with the HA link between them. */}
          {hostsOf(pair.servers).map((hostName, i) => {
            const here = pair.servers.filter((s) => s.hostName === hostName);
            const host = hosts.data?.find((h) => h.name === hostName);
            const first = here[0]!;
            const connected = first.hostConnection === "connected";
            const link = <HaLink key="link" up={haLinkUp} states={pair.servers.map((x) => x.haLink).join("/")} />;
            const box = (
              <div key={hostName} data-testid={`topology-${hostName}`} className={cx("flex-1 rounded-lg border-2 p-3", connected ? "border-slate-300" : "border-red-400 border-dashed bg-slate-50")}>
                <div className="flex items-center justify-between text-sm font-semibold">
                  <span>host {hostName}</span>
                  <Badge tone={connected ? "green" : "red"}>agent {first.hostConnection}</Badge>
                </div>
                {!connected && (
                  <div className="text-xs italic text-slate-600">
                    last known values{first.lastHeartbeatAt ? <>, last heartbeat <Age since={first.lastHeartbeatAt} /></> : " (never heard from)"}
                  </div>
                )}
                <ul className="my-1 text-xs text-slate-600">
                  {host?.nics.map((n) => (
                    <li key={n.name}>
                      NIC {n.name} {n.address} {n.carriesManagement && "· management"} {n.carriesSip && "· SIP"}
                    </li>
                  ))}
                </ul>
                <div className="flex flex-col items-stretch gap-2 md:flex-row md:items-center">
                  {here.map((s, j) => {
                    const server = (
                      <div key={s.appId} className="flex-1">
                        <div className={cx("rounded border p-2 text-sm", s.role === "primary" ? "border-green-500 bg-green-50" : "border-slate-200 bg-slate-50", !connected && "opacity-60 grayscale")}>
                          {s.name} <Badge tone={s.role === "primary" ? "green" : s.role === "backup" ? "slate" : "amber"}>{s.role}</Badge> <span className="text-xs">{s.status}</span>
                        </div>
                        {vipWord && (
                          <div className="mt-2 text-xs">
                            {s.vip === "present" && <Badge tone="green">{vipWord} enabled here</Badge>}
                            {s.vip === "stale" && <Badge tone="red">{vipWord} may still be enabled here (stale)</Badge>}
                            {s.vip === "absent" && <span className="text-slate-500">{vipWord} disabled here</span>}
                            <div data-testid="vip-observed" className="mt-1">
                              <ObservedVip s={s} vipWord={vipWordOf(pair.haType)} />
                            </div>
                          </div>
                        )}
                      </div>
                    );
                    return j === 0 ? server : [link, server];
                  })}
                </div>
              </div>
            );
            return i === 0 ? box : [link, box];
          })}
        </figure>
        {pair.hold && <div className="mt-3"><HoldBanner hold={pair.hold} /></div>}
        <p className="mt-3 text-sm text-slate-700">{pair.situation}</p>
      </Card>
      <div className="mb-4 grid gap-3 md:grid-cols-2">
        {pair.servers.map((s) => (
          <ServerCell key={s.appId} s={s} haType={pair.haType} />
        ))}
      </div>
      {(
        [
          ["Maintenance", <MaintenanceControl key="m" pair={pair} />],
          ["Switchover", <SwitchoverControl key="s" pair={pair} />],
          ["Rolling upgrade (W14)", <UpgradeCard key="u" pair={pair} />],
          ["Scheduled switchovers", <SchedulesCard key="c" pairId={id} />],
        ] as const
      ).map(([title, body]) => (
        <Card key={title} title={title} className="mb-4">
          {body}
        </Card>
      ))}
      <Card title="HA options" className="mb-4">
        <Table head={["Option", ...pair.servers.map((s) => s.name)]} caption="HA options of both servers">
          {haOptions.map((name) => (
            <tr key={name}>
              <td className="px-2 py-1 font-mono text-xs">{name}</td>
              {pair.servers.map((s) => {
                const options = apps.data?.find((a) => a.id === s.appId)?.options ?? [];
                return (
                  <td key={s.appId} className="px-2 py-1 text-xs">
                    {effectiveOption(options, name) ?? "—"}
                  </td>
                );
              })}
            </tr>
          ))}
        </Table>
      </Card>
      <Card title="Timeline">
        <Timeline pairId={id} />
      </Card>
    </>
  );
}

/** The pair's hosts in the order of its servers, each once (a single-host pair has one). */
function hostsOf(servers: readonly { hostName: string }[]): string[] {
  return [...new Set(servers.map((s) => s.hostName))];
}

function HaLink({ up, states }: { up: boolean; states: string }) {
  return (
    <div className="flex flex-col items-center px-2 text-xs text-slate-600" aria-label={`HA link ${up ? "up" : "down"}`}>
      <div className={cx("h-0.5 w-16", up ? "bg-green-600" : "bg-red-500")} />
      HA link {up ? "up" : states}
    </div>
  );
}
