"use client";
// The demo lab's fault panel: cause each workflow's fault and watch the dashboard react — crash a
// server (W2), cut a host off and bring it back (W3), unplug a SIP NIC (W4), fail the bind (W7), lose
// the console connection (W8), take the application NIC down (W10), hang a server, create calls to see
// them synced (W12), and put a VIP on a host or take it off behind the controller's back to see the
// observed VIP disagree with the intended one (the vip-mismatch alarm). Which faults each server has on
// now is shown beside it, as the server reports them. W4 needs a server that watches its SIP traffic
// (sip-pass-check and a service DN): where one does not, its SIP NIC button says so and why; the SIP
// gateways behind the service DNs are listed with the pings they answered.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { useCurrentUser } from "@/components/layout/app-shell";
import { Badge, Button, Card, ErrorBox, PageTitle, Table } from "@/components/ui";
import type { LabFault } from "@/protocol/vocabulary";

/** The faults that stay on until lifted: what turning each on and off is called on the page. */
const toggles: { kind: Exclude<LabFault, "crash">; on: string; off: string }[] = [
  { kind: "sip-silent", on: "Unplug SIP NIC", off: "Plug SIP NIC back" },
  { kind: "bind-fail", on: "Fail bind (W7)", off: "Bind again" },
  { kind: "console-lost", on: "Lose the console (W8)", off: "Console back" },
  { kind: "tlib-nic-down", on: "Application NIC down (W10)", off: "Application NIC up" },
  { kind: "hang", on: "Hang", off: "Unhang" },
];

export function LabPage() {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const status = useQuery(trpc.lab.status.queryOptions(undefined, { refetchInterval: 2000 }));
  const pairs = useQuery(trpc.live.pairs.queryOptions());
  const fault = useMutation(trpc.lab.fault.mutationOptions({ onSuccess: () => status.refetch() }));
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
  const faultsOf = new Map((status.data?.servers ?? []).map((s) => [s.application, s]));
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
      <Card title="SIP gateways (service DNs, W4)" className="mb-4">
        <p className="mb-2 text-xs text-slate-600">
          The device behind a service DN: the primary of a server with sip-pass-check pings it (OPTIONS) every oos-check seconds. Unplug that primary&apos;s SIP NIC and it hears
          nothing, not even these answers: after oos-check + max(oos-force, 5) s it reports SERVICE_UNAVAILABLE and the controller switches its pair over.
        </p>
        {(status.data?.gateways ?? []).length === 0 ? (
          <p className="text-xs text-slate-500">No lab server pings a service DN (none has sip-pass-check and a service DN with oos-check), so no gateway runs.</p>
        ) : (
          <Table head={["Gateway", "Pinged by", "State", "OPTIONS answered", "Last from"]} caption="Lab SIP gateways">
            {(status.data?.gateways ?? []).map((g) => (
              <tr key={g.contact} data-testid={`lab-gateway-${g.contact}`}>
                <td className="px-2 py-2 text-xs">{g.contact}</td>
                <td className="px-2 py-2 text-xs">{g.servers.join(", ")}</td>
                <td className="px-2 py-2">{g.running ? <Badge tone="green">answering</Badge> : <Badge tone="red">stopped</Badge>}</td>
                <td className="px-2 py-2 text-xs" data-testid="gateway-answered">
                  {g.answered}
                </td>
                <td className="px-2 py-2 text-xs">{g.lastFrom ?? "—"}</td>
              </tr>
            ))}
          </Table>
        )}
      </Card>
      <Card title="SIP Servers">
        <Table head={["Server", "Pair", "Role", "Faults on", "Cause a fault"]} caption="Lab servers">
          {apps.map((a) => {
            const state = faultsOf.get(a.name);
            const on = new Set(state?.faults ?? []);
            const w4 = state?.w4;
            // What unplugging the SIP NIC does here: W4 only on a server that watches its traffic, and only while primary.
            const w4Note = !w4 ? null : !w4.armed ? `No W4 here: ${w4.why}.` : a.role !== "primary" ? "W4 acts while this server is primary (a backup does not watch its traffic)." : null;
            return (
              <tr key={a.appId} data-testid={`lab-server-${a.name}`}>
                <td className="px-2 py-2 font-medium">
                  {a.name} <span className="text-xs text-slate-500">on {a.hostName}</span>
                </td>
                <td className="px-2 py-2 text-xs">{a.pair}</td>
                <td className="px-2 py-2">
                  <Badge tone={a.role === "primary" ? "green" : "slate"}>{a.role}</Badge> <span className="text-xs">{a.status}</span>
                </td>
                <td className="px-2 py-2" data-testid="faults-on">
                  {!state ? (
                    <span className="text-xs text-slate-400">—</span>
                  ) : !state.reachable ? (
                    <span className="text-xs text-slate-500">not answering</span>
                  ) : on.size === 0 ? (
                    <span className="text-xs text-slate-500">none</span>
                  ) : (
                    <span className="flex flex-wrap gap-1">
                      {[...on].map((f) => (
                        <Badge key={f} tone="red">
                          {f}
                        </Badge>
                      ))}
                    </span>
                  )}
                </td>
                <td className="px-2 py-2">
                  {canAct && (
                    <div className="flex flex-wrap gap-1">
                      <Button variant="danger" onClick={() => fault.mutate({ application: a.name, kind: "crash", on: true })}>
                        Crash (W2)
                      </Button>
                      {toggles.map((t) => (
                        <Button
                          key={t.kind}
                          variant="secondary"
                          title={t.kind === "sip-silent" ? (w4Note ?? undefined) : undefined}
                          onClick={() => fault.mutate({ application: a.name, kind: t.kind, on: !on.has(t.kind) })}
                        >
                          {on.has(t.kind) ? t.off : t.kind === "sip-silent" && w4?.armed ? `${t.on} (W4)` : t.on}
                        </Button>
                      ))}
                      <Button variant="secondary" onClick={() => calls.mutate({ application: a.name, count: 2000 })}>
                        2,000 calls (W12)
                      </Button>
                    </div>
                  )}
                  {w4Note && (
                    <p className="mt-1 text-xs text-slate-500" data-testid="w4-note">
                      {w4Note}
                    </p>
                  )}
                </td>
              </tr>
            );
          })}
        </Table>
      </Card>
    </>
  );
}
