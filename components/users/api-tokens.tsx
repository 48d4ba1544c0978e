"use client";
// API tokens (admin): service accounts for automation — the REST API (/api/v1), the `switchyard` CLI
// and Prometheus (/metrics). Create one with a name, a role and an expiry (the secret is shown once,
// with how to use it), see when each was last used and from where, revoke.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { Badge, Button, Card, ErrorBox, Field, Input, Select, Table } from "@/components/ui";
import { RoleSelect, roleMeaning, type Role } from "./role-select";

const expiries = [
  { label: "30 days", days: 30 },
  { label: "90 days", days: 90 },
  { label: "1 year", days: 365 },
  { label: "never", days: null },
] as const;

export function ApiTokens() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.apiTokens.list.queryOptions());
  const [form, setForm] = useState({ name: "", role: "viewer" as Role, description: "", expiry: "90 days" });
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.apiTokens.list.queryKey() });
  const create = useMutation(trpc.apiTokens.create.mutationOptions({ onSuccess: () => (setForm({ ...form, name: "", description: "" }), refresh()) }));
  const revoke = useMutation(trpc.apiTokens.revoke.mutationOptions({ onSuccess: refresh }));
  const origin = typeof window === "undefined" ? "" : window.location.origin;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const expiresInDays = expiries.find((x) => x.label === form.expiry)?.days ?? 90;
    create.mutate({ name: form.name, role: form.role, description: form.description, expiresInDays });
  };
  const now = Date.now();

  return (
    <Card title="API tokens" className="mb-4">
      <p className="mb-3 text-sm text-slate-600">
        For automation: the REST API (<code>/api/v1</code>, documented at <code>/api/openapi.json</code>), the <code>switchyard</code> command and Prometheus (
        <code>/metrics</code>). A token acts with its role; what it does is audited as <code>token:name</code>.
      </p>
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3" aria-label="New API token">
        <Field label="Token name" hint="What uses it: prometheus, ci-deploy">
          {(id) => <Input id={id} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required />}
        </Field>
        <Field label="Token role" hint={roleMeaning[form.role]}>
          {(id) => <RoleSelect id={id} value={form.role} onChange={(role) => setForm({ ...form, role })} />}
        </Field>
        <Field label="Expires after">
          {(id) => (
            <Select id={id} value={form.expiry} onChange={(e) => setForm({ ...form, expiry: e.target.value })}>
              {expiries.map((x) => (
                <option key={x.label}>{x.label}</option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Description">{(id) => <Input id={id} value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />}</Field>
        <Button type="submit" disabled={create.isPending}>
          Create API token
        </Button>
      </form>
      <div className="mt-3 space-y-3">
        <ErrorBox error={create.error ?? revoke.error} />
        {create.data && (
          <div role="status" className="rounded border border-amber-300 bg-amber-50 p-3 text-sm">
            <div className="font-medium">Token {create.data.name} — copy it now, it is not shown again:</div>
            <code data-testid="new-api-token" className="block break-all py-1 font-mono text-xs">
              {create.data.token}
            </code>
            <div className="text-xs text-slate-700">
              Use it as <code>Authorization: Bearer …</code>, e.g. <code>curl -H &quot;Authorization: Bearer $SWITCHYARD_TOKEN&quot; {origin}/api/v1/status</code> or{" "}
              <code>
                SWITCHYARD_URL={origin} SWITCHYARD_TOKEN=… npx switchyard status
              </code>
            </div>
          </div>
        )}
        <Table head={["Name", "Role", "Token", "Created", "Expires", "Last used", "State", ""]} caption="API tokens">
          {(tokens.data ?? []).map((tk) => {
            const expired = tk.expiresAt !== null && tk.expiresAt.getTime() <= now;
            return (
              <tr key={tk.id} data-testid={`api-token-${tk.name}`}>
                <td className="px-2 py-1 text-sm font-medium">
                  {tk.name}
                  {tk.description && <div className="text-xs font-normal text-slate-600">{tk.description}</div>}
                </td>
                <td className="px-2 py-1 text-xs">{tk.role}</td>
                <td className="px-2 py-1 font-mono text-xs">{tk.prefix}…</td>
                <td className="px-2 py-1 text-xs">
                  {tk.createdAt.toLocaleString()} by {tk.createdBy}
                </td>
                <td className="px-2 py-1 text-xs">{tk.expiresAt ? tk.expiresAt.toLocaleString() : "never"}</td>
                <td className="px-2 py-1 text-xs">{tk.lastUsedAt ? `${tk.lastUsedAt.toLocaleString()} from ${tk.lastUsedFrom ?? "?"}` : "never"}</td>
                <td className="px-2 py-1">
                  {tk.revokedAt ? <Badge tone="red">revoked by {tk.revokedBy}</Badge> : expired ? <Badge tone="amber">expired</Badge> : <Badge tone="green">active</Badge>}
                </td>
                <td className="px-2 py-1 text-right">
                  {!tk.revokedAt && (
                    <Button variant="danger" onClick={() => window.confirm(`Revoke API token ${tk.name}? Whatever uses it is refused from now on.`) && revoke.mutate({ id: tk.id })}>
                      Revoke
                    </Button>
                  )}
                </td>
              </tr>
            );
          })}
        </Table>
        {tokens.data?.length === 0 && <p className="text-sm text-slate-500">No API token yet.</p>}
      </div>
    </Card>
  );
}
