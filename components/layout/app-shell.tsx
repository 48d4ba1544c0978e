"use client";
// The frame of every signed-in page: header with navigation, the user and logout; sends anyone not
// signed in to the login page. Pages get the signed-in user from useCurrentUser().
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { createContext, useContext, useEffect, type ReactNode } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { cx } from "@/components/ui";
import { ConnectionBanner, LiveSocketProvider } from "@/components/live/use-live-socket";
import { AlarmBadge } from "@/components/alarms/alarm-badge";
import { withArticle } from "@/lib/words";

type Role = "viewer" | "operator" | "admin";
interface CurrentUser {
  id: string;
  username: string;
  role: Role;
}

const UserContext = createContext<CurrentUser | null>(null);

export function useCurrentUser(): CurrentUser {
  const user = useContext(UserContext);
  if (!user) throw new Error("useCurrentUser outside AppShell");
  return user;
}

export function useIsAdmin(): boolean {
  return useCurrentUser().role === "admin";
}

const roleRank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/**
 * A page for a role and above: anyone below sees why they may not use it, instead of forms that every
 * action of would be refused (and lists the console would not send them).
 */
export function RequireRole({ role, page, children }: { role: Role; page: string; children: ReactNode }) {
  const user = useCurrentUser();
  if (roleRank[user.role] >= roleRank[role]) return <>{children}</>;
  return (
    <section role="alert" className="mx-auto mt-8 max-w-xl rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm text-amber-950" data-testid="not-permitted">
      <h1 className="mb-1 text-lg font-semibold">Not permitted</h1>
      <p>
        {page} needs the {role} role; you are signed in as {user.username}, {withArticle(user.role)}. Ask an admin if you need it.
      </p>
    </section>
  );
}

const nav: { href: string; label: string; adminOnly?: boolean }[] = [
  { href: "/", label: "Dashboard" },
  { href: "/pairs", label: "HA pairs" },
  { href: "/alarms", label: "Alarms" },
  { href: "/applications", label: "Applications" },
  { href: "/hosts", label: "Hosts" },
  { href: "/options", label: "Options" },
  { href: "/audit", label: "Audit" },
  { href: "/lab", label: "Lab" },
  { href: "/users", label: "Users", adminOnly: true },
  { href: "/config", label: "Export / import", adminOnly: true },
];

export function AppShell({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSettled: () => {
        queryClient.clear();
        router.replace("/login");
      },
    }),
  );

  useEffect(() => {
    if (me.isSuccess && !me.data) router.replace(`/login?next=${encodeURIComponent(pathname)}`);
  }, [me.isSuccess, me.data, router, pathname]);

  if (!me.data) {
    return <main className="p-8 text-sm text-slate-500">{me.isError ? `Cannot reach the console: ${me.error.message}` : "Loading…"}</main>;
  }
  const user = me.data;
  return (
    <UserContext.Provider value={user}>
      <LiveSocketProvider>
      <ConnectionBanner />
      <a href="#main" className="sr-only focus:not-sr-only">
        Skip to content
      </a>
      <header className="border-b border-slate-800 bg-slate-900 text-slate-100">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-4 px-4 py-2">
          <Link href="/" className="text-lg font-semibold tracking-tight">
            Switchyard
          </Link>
          <nav aria-label="Main" className="flex flex-1 flex-wrap gap-1">
            {nav
              .filter((n) => !n.adminOnly || user.role === "admin")
              .map((n) => {
                const active = n.href === "/" ? pathname === "/" : pathname.startsWith(n.href);
                return (
                  <Link
                    key={n.href}
                    href={n.href}
                    aria-current={active ? "page" : undefined}
                    className={cx("rounded px-2 py-1 text-sm", active ? "bg-slate-700 text-white" : "text-slate-300 hover:bg-slate-800")}
                  >
                    {n.label}
                  </Link>
                );
              })}
          </nav>
          <div className="flex items-center gap-2 text-sm">
            <AlarmBadge />
            <span data-testid="current-user">
              {user.username} <span className="text-slate-400">({user.role})</span>
            </span>
            <button className="rounded px-2 py-1 text-slate-300 hover:bg-slate-800" onClick={() => logout.mutate()}>
              Log out
            </button>
          </div>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-7xl px-4 py-6">
        {children}
      </main>
      </LiveSocketProvider>
    </UserContext.Provider>
  );
}
