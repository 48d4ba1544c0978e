"use client";
// The login form (and, with a setup token, the form that creates the first admin).
import { useRouter, useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { Button, ErrorBox, Field, Input } from "@/components/ui";
import { safeNextPath } from "@/lib/safe-next-path";

export function LoginForm({ mode }: { mode: "login" | "setup" }) {
  const trpc = useTRPC();
  const router = useRouter();
  const params = useSearchParams();
  const queryClient = useQueryClient();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const done = async () => {
    await queryClient.invalidateQueries();
    router.replace(safeNextPath(params.get("next"), window.location.origin));
  };
  const login = useMutation(trpc.auth.login.mutationOptions({ onSuccess: done }));
  const setup = useMutation(trpc.auth.completeSetup.mutationOptions({ onSuccess: done }));
  const pending = login.isPending || setup.isPending;
  const error = login.error ?? setup.error;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (mode === "login") login.mutate({ username, password });
    else setup.mutate({ token: params.get("token") ?? "", username, password });
  };

  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <form onSubmit={submit} className="w-full max-w-sm space-y-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <div>
          <h1 className="text-xl font-semibold">Switchyard</h1>
          <p className="text-sm text-slate-600">{mode === "login" ? "Sign in to the operations console." : "Create the first administrator."}</p>
        </div>
        <Field label="Username">{(id) => <Input id={id} name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />}</Field>
        <Field label="Password" hint={mode === "setup" ? "At least 12 characters." : undefined}>
          {(id) => (
            <Input
              id={id}
              name="password"
              type="password"
              autoComplete={mode === "login" ? "current-password" : "new-password"}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
          )}
        </Field>
        <ErrorBox error={error} />
        <Button type="submit" disabled={pending} className="w-full justify-center">
          {pending ? "Please wait…" : mode === "login" ? "Sign in" : "Create administrator"}
        </Button>
      </form>
    </main>
  );
}
