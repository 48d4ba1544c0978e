"use client";
// The demo lab's fault panel: cause each workflow's fault and watch the dashboard react — crash a
// server (W2), cut a host off and bring it back (W3), unplug a SIP NIC (W4), fail the bind (W7),
// create calls to see them synced (W12), and put a VIP on a host or take it off behind the
// controller's back to see the observed VIP disagree with the intended one (the vip-mismatch alarm).
import { useMutation, useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { useCurrentUser } from "@/components/layout/app-shell";
import { Badge, Button, Card, ErrorBox, PageTitle, Table } from "@/components/ui";

export function LabPage() {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const status = useQuery(trpc.lab.status.queryOptions(undefined, { refetchInterval: 2000 }));
  const pairs = useQuery(trpc.live.pairs.queryOptions());
  const fault = useMutation(trpc.lab.fault.mutationOptions());
  const host = useMutation(trpc.lab.host.mutationOptions({ onSuccess: () => status.refetch() }));
  const calls = useMutation(trpc.lab.calls.mutationOptions());
  const vip = useMutation(trpc.lab.vip.mutationOptions());
  const canAct = user.role !== "viewer";

  if (status.data && !status.data.enabled) {
    return (
      <>
        <PageTitle>Lab</PageTitle>
        <p className="text-sm text-slate-600">This console does not run the demo lab. Start it with <code>npm run demo</code>.</p>
      </>
    );
  }
  const apps = (pairs.data ?? []).flatMap((p) => p.servers.map((s) => ({ ...s, pair: p.name })));
  return (
    <>
      <PageTitle>Lab</PageTitle>
      <ErrorBox error={fault.error ?? host.error ?? calls.error ?? vip.error} />
      <Card title="Hosts (agents)" className="mb-4">
        <Table head={["Host", "Agent", ""]} caption="Lab hosts">
          {(status.data?.hosts ?? []).map((h) => (
            <tr key={h.host}>
              <td className="px-2 py-2 font-medium">{h.host}</td>
              <td className="px-2 py-2">{!h.running ? <Badge tone="red">stopped</Badge> : h.frozen ? <Badge tone="amber">cut off</Badge> : <Badge tone="green">running</Badge>}</td>
              <td className="px-2 py-2 text-right">
                {canAct &&
                  (h.frozen ? (
                    <Button variant="secondary" onClick={() => host.mutate({ host: h.host, connected: true })}>
                      Reconnect host
                    </Button>
                  ) : (
                    <Button variant="danger" onClick={() => host.mutate({ host: h.host, connected: false })}>
                      Disconnect host (W3)
                    </Button>
                  ))}
              </td>
            </tr>
          ))}
        </Table>
      </Card>
      <Card title="VIPs and NLB ports" className="mb-4">
        <p className="mb-2 text-xs text-slate-600">
          Change a lab VIP file as someone with a shell on the host would: the host&apos;s agent observes it, the controller does not move it back, and after 10 s the dashboard
          shows the mismatch and raises the vip-mismatch alarm.
        </p>
        <Table head={["Pair", "Host", "Intended", "Observed", ""]} caption="Lab VIPs">
          {(pairs.data ?? [])
            .filter((p) => p.haType !== "single-host")
            .flatMap((p) =>
              p.servers.map((s) => (
                <tr key={`${p.id}-${s.appId}`} data-testid={`lab-vip-${p.name}-${s.hostName}`}>
                  <td className="px-2 py-2 text-xs">{p.name}</td>
                  <td className="px-2 py-2 text-xs">{s.hostName}</td>
                  <td className="px-2 py-2 text-xs">{s.vip}</td>
                  <td className="px-2 py-2 text-xs">
                    {s.vipObserved ? (s.vipObserved.present === null ? "cannot tell" : s.vipObserved.present ? "here" : "not here") : "—"}
                    {s.vipObserved && s.hostConnection !== "connected" && <span className="italic text-slate-500"> (last known: host {s.hostConnection})</span>}
                  </td>
                  <td className="px-2 py-2 text-right">
                    {canAct && (
                      <div className="flex justify-end gap-1">
                        <Button variant="secondary" aria-label={`Take the VIP of ${p.name} off ${s.hostName}`} onClick={() => vip.mutate({ pair: p.name, host: s.hostName, present: false })}>
                          Take off
                        </Button>
                        <Button variant="secondary" aria-label={`Put the VIP of ${p.name} on ${s.hostName}`} onClick={() => vip.mutate({ pair: p.name, host: s.hostName, present: true })}>
                          Put here
                        </Button>
                      </div>
                    )}
                  </td>
                </tr>
              )),
            )}
        </Table>
      </Card>
      <Card title="SIP Servers">
        <Table head={["Server", "Pair", "Role", "Faults"]} caption="Lab servers">
          {apps.map((a) => (
            <tr key={a.appId}>
              <td className="px-2 py-2 font-medium">
                {a.name} <span className="text-xs text-slate-500">on {a.hostName}</span>
              </td>
              <td className="px-2 py-2 text-xs">{a.pair}</td>
              <td className="px-2 py-2">
                <Badge tone={a.role === "primary" ? "green" : "slate"}>{a.role}</Badge> <span className="text-xs">{a.status}</span>
              </td>
              <td className="px-2 py-2">
                {canAct && (
                  <div className="flex flex-wrap gap-1">
                    <Button variant="danger" onClick={() => fault.mutate({ application: a.name, kind: "crash", on: true })}>
                      Crash (W2)
                    </Button>
                    <Button variant="secondary" onClick={() => fault.mutate({ application: a.name, kind: "sip-silent", on: true })}>
                      Unplug SIP NIC (W4)
                    </Button>
                    <Button variant="secondary" onClick={() => fault.mutate({ application: a.name, kind: "sip-silent", on: false })}>
                      Plug back
                    </Button>
                    <Button variant="secondary" onClick={() => fault.mutate({ application: a.name, kind: "bind-fail", on: true })}>
                      Fail bind (W7)
                    </Button>
                    <Button variant="secondary" onClick={() => fault.mutate({ application: a.name, kind: "bind-fail", on: false })}>
                      Bind again
                    </Button>
                    <Button variant="secondary" onClick={() => calls.mutate({ application: a.name, count: 2000 })}>
                      2,000 calls (W12)
                    </Button>
                  </div>
                )}
              </td>
            </tr>
          ))}
        </Table>
      </Card>
    </>
  );
}
