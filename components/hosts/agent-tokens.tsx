"use client";
// Agent tokens of one host (admin): create (the secret is shown once, with the command that starts the
// agent), list with last use, revoke.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { Badge, Button, Card, ErrorBox, Input, Table } from "@/components/ui";

export function AgentTokens({ hostId, hostName, onClose }: { hostId: string; hostName: string; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.agentTokens.list.queryOptions({ hostId }));
  const [label, setLabel] = useState("");
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.agentTokens.list.queryKey({ hostId }) });
  const create = useMutation(trpc.agentTokens.create.mutationOptions({ onSuccess: refresh }));
  const revoke = useMutation(trpc.agentTokens.revoke.mutationOptions({ onSuccess: refresh }));
  const consoleUrl = typeof window === "undefined" ? "" : window.location.origin;

  return (
    <Card title={`Agent tokens of ${hostName}`} actions={<Button variant="secondary" onClick={onClose}>Close</Button>} className="mb-4">
      <div className="space-y-3">
        {create.data && (
          <div role="status" className="rounded border border-amber-300 bg-amber-50 p-3 text-sm">
            <div className="font-medium">New token — copy it now, it is not shown again:</div>
            <code data-testid="new-agent-token" className="block break-all py-1 font-mono text-xs">
              {create.data.token}
            </code>
            <div className="text-xs text-slate-700">
              On {hostName}: save it to a file readable only by the agent, then run{" "}
              <code>
                switchyard-agent --console {consoleUrl} --host {hostName} --token-file /etc/switchyard/agent.token
              </code>
            </div>
          </div>
        )}
        <div className="flex items-end gap-2">
          <Input aria-label="Token label" placeholder="label (optional)" value={label} onChange={(e) => setLabel(e.target.value)} />
          <Button onClick={() => create.mutate({ hostId, label })} disabled={create.isPending}>
            Create token
          </Button>
        </div>
        <ErrorBox error={create.error ?? revoke.error} />
        <Table head={["Token", "Label", "Created", "Last used", "State", ""]} caption="Agent tokens">
          {(tokens.data ?? []).map((tk) => (
            <tr key={tk.id}>
              <td className="px-2 py-1 font-mono text-xs">{tk.prefix}…</td>
              <td className="px-2 py-1 text-xs">{tk.label}</td>
              <td className="px-2 py-1 text-xs">
                {tk.createdAt.toLocaleString()} by {tk.createdBy}
              </td>
              <td className="px-2 py-1 text-xs">{tk.lastUsedAt ? tk.lastUsedAt.toLocaleString() : "never"}</td>
              <td className="px-2 py-1">{tk.revokedAt ? <Badge tone="red">revoked</Badge> : <Badge tone="green">active</Badge>}</td>
              <td className="px-2 py-1 text-right">
                {!tk.revokedAt && (
                  <Button variant="danger" onClick={() => window.confirm(`Revoke token ${tk.prefix}…? The agent using it is disconnected.`) && revoke.mutate({ id: tk.id })}>
                    Revoke
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </Table>
        {tokens.data?.length === 0 && <p className="text-sm text-slate-500">No token yet: the host's agent cannot connect.</p>}
      </div>
    </Card>
  );
}
