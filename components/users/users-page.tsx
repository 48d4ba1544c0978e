"use client";
// Users (admin): create users with a role, change roles, disable, reset passwords; and API tokens,
// the service accounts automation uses (api-tokens.tsx).
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { Badge, Button, Card, ErrorBox, Field, Input, PageTitle, Table } from "@/components/ui";
import { ApiTokens } from "./api-tokens";
import { RoleSelect, roleMeaning, type Role } from "./role-select";


export function UsersPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const users = useQuery(trpc.users.list.queryOptions());
  const [form, setForm] = useState({ username: "", password: "", role: "viewer" as Role });
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
  const create = useMutation(trpc.users.create.mutationOptions({ onSuccess: () => (setForm({ username: "", password: "", role: "viewer" }), refresh()) }));
  const update = useMutation(trpc.users.update.mutationOptions({ onSuccess: refresh }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(form);
  };

  return (
    <>
      <PageTitle>Users</PageTitle>
      <Card title="New user" className="mb-4">
        <form onSubmit={submit} className="flex flex-wrap items-end gap-3" aria-label="New user">
          <Field label="Username">{(id) => <Input id={id} value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} required />}</Field>
          <Field label="Password" hint="At least 12 characters.">
            {(id) => <Input id={id} type="password" autoComplete="new-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} required />}
          </Field>
          <Field label="Role" hint={roleMeaning[form.role]}>
            {(id) => <RoleSelect id={id} value={form.role} onChange={(role) => setForm({ ...form, role })} />}
          </Field>
          <Button type="submit" disabled={create.isPending}>
            Create user
          </Button>
        </form>
        <div className="mt-3">
          <ErrorBox error={create.error} />
        </div>
      </Card>
      <Card>
        <ErrorBox error={update.error} />
        <Table head={["User", "Role", "State", ""]} caption="Users">
          {(users.data ?? []).map((u) => (
            <tr key={u.id}>
              <td className="px-2 py-2 font-medium">{u.username}</td>
              <td className="px-2 py-2">
                <RoleSelect label={`Role of ${u.username}`} value={u.role as Role} onChange={(role) => update.mutate({ id: u.id, role })} />
              </td>
              <td className="px-2 py-2">{u.disabled ? <Badge tone="red">disabled</Badge> : <Badge tone="green">active</Badge>}</td>
              <td className="px-2 py-2 text-right">
                <div className="flex justify-end gap-2">
                  <Button variant="secondary" onClick={() => update.mutate({ id: u.id, disabled: !u.disabled })}>
                    {u.disabled ? "Enable" : "Disable"}
                  </Button>
                  <Button
                    variant="secondary"
                    onClick={() => {
                      const password = window.prompt(`New password for ${u.username} (at least 12 characters)`);
                      if (password) update.mutate({ id: u.id, password });
                    }}
                  >
                    Reset password
                  </Button>
                </div>
              </td>
            </tr>
          ))}
        </Table>
      </Card>
      <div className="mt-4">
        <ApiTokens />
      </div>
    </>
  );
}
