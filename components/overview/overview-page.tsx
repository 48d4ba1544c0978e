"use client";
// Overview: what is configured, at a glance, with links; the live dashboard builds on this page.
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { Badge, Card, PageTitle, Table } from "@/components/ui";

export function OverviewPage() {
  const trpc = useTRPC();
  const pairs = useQuery(trpc.pairs.list.queryOptions());
  const apps = useQuery(trpc.applications.list.queryOptions());
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  const stat = (label: string, n: number | undefined, href: string) => (
    <Link href={href} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm hover:border-blue-400">
      <div className="text-2xl font-semibold">{n ?? "…"}</div>
      <div className="text-sm text-slate-600">{label}</div>
    </Link>
  );
  return (
    <>
      <PageTitle>Overview</PageTitle>
      <div className="mb-4 grid grid-cols-3 gap-4">
        {stat("HA pairs", pairs.data?.length, "/pairs")}
        {stat("Applications", apps.data?.length, "/applications")}
        {stat("Hosts", hosts.data?.length, "/hosts")}
      </div>
      <Card title="HA pairs">
        <Table head={["Pair", "HA type", "Primary", "Backup", "VIP"]} caption="HA pairs">
          {(pairs.data ?? []).map((p) => (
            <tr key={p.id}>
              <td className="px-2 py-2 font-medium">{p.name}</td>
              <td className="px-2 py-2">
                <Badge tone="blue">{p.haType}</Badge>
              </td>
              <td className="px-2 py-2">
                {p.primaryApp.name} <span className="text-xs text-slate-500">({p.primaryApp.host.name})</span>
              </td>
              <td className="px-2 py-2">
                {p.backupApp.name} <span className="text-xs text-slate-500">({p.backupApp.host.name})</span>
              </td>
              <td className="px-2 py-2 text-xs">{p.haType === "nlb-cluster" ? `port ${p.nlbPort}` : p.vipAddress || "—"}</td>
            </tr>
          ))}
        </Table>
      </Card>
    </>
  );
}
