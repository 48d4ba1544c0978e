"use client";
// The browser's live connection (socket.io namespace /ui, same login cookie, events and payloads typed
// by lib/ui-events.ts): pushed pair views patch the TanStack Query cache, the other events invalidate
// what they name; no second copy of server state. Exposes the connection state for the banner.
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { io, type Socket } from "socket.io-client";
import { useQueryClient } from "@tanstack/react-query";
import superjson, { type SuperJSONResult } from "superjson";
import { useTRPC } from "@/components/trpc/react";
import { UI_NAMESPACE, uiEventSchemas, type UiServerToClientEvents } from "@/lib/ui-events";

type LiveConnection = "connecting" | "connected" | "reconnecting";
/** The console's order of pairs with equal severity; one collator, not one per comparison (thousands of pairs on every push). */
const byName = new Intl.Collator("en");
const LiveContext = createContext<LiveConnection>("connecting");

export function useLiveConnection(): LiveConnection {
  return useContext(LiveContext);
}

export function LiveSocketProvider({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveConnection>("connecting");

  useEffect(() => {
    const socket: Socket<UiServerToClientEvents> = io(UI_NAMESPACE, { path: "/socket.io", withCredentials: true, transports: ["websocket", "polling"] });
    const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.live.pathKey() });
    socket.on("connect", () => {
      setState("connected");
      void refresh(); // anything missed while disconnected
    });
    // Asking who we are again sends a browser whose session ended to the login page (the shell does).
    const recheckLogin = () => void queryClient.invalidateQueries({ queryKey: trpc.auth.me.queryKey() });
    socket.on("disconnect", (reason) => {
      setState("reconnecting");
      // The console drops a socket whose session ended or changed (logout, user disabled, password or
      // role changed); socket.io does not reconnect by itself then. The new connection is checked like
      // a first one: refused without a session, with the current role otherwise.
      if (reason === "io server disconnect") {
        recheckLogin();
        socket.connect();
      }
    });
    socket.on("connect_error", () => {
      setState("reconnecting");
      recheckLogin();
    });
    // Pair views arrive computed: patch the cached list (replace changed pairs, drop removed ones,
    // keep problems first) instead of refetching it.
    socket.on("live:pairs", (payload) => {
      const parsed = uiEventSchemas["live:pairs"].safeParse(superjson.deserialize(payload as SuperJSONResult));
      if (!parsed.success) {
        // A console of another version, or a bug: say so and fall back to asking for the list.
        console.warn("live:pairs payload not understood; refetching the pair list", parsed.error.issues.slice(0, 3));
        void refresh();
        return;
      }
      const { changed, removed } = parsed.data;
      queryClient.setQueryData(trpc.live.pairs.queryKey(), (old) => {
        if (!old) return old;
        const byId = new Map(old.map((p) => [p.id, p]));
        for (const id of removed) byId.delete(id);
        for (const p of changed) byId.set(p.id, p);
        return [...byId.values()].sort((a, b) => b.severity - a.severity || byName.compare(a.name, b.name));
      });
    });
    // Everything else live (timelines, agents) is refetched when it is on screen; pair views are patched
    // above and an application's runtime has its own event below.
    socket.on("live:changed", () =>
      void queryClient.invalidateQueries({
        queryKey: trpc.live.pathKey(),
        predicate: (q) => !/"(pairs|applicationRuntime)"/.test(JSON.stringify(q.queryKey)),
      }),
    );
    socket.on("alarms:changed", () => void queryClient.invalidateQueries({ queryKey: trpc.alarms.pathKey() }));
    // A W14 upgrade run or a scheduled switchover changed: refetch what the pair page shows of them.
    socket.on("procedures:changed", () => {
      void queryClient.invalidateQueries({ queryKey: trpc.upgrade.pathKey() });
      void queryClient.invalidateQueries({ queryKey: trpc.schedules.pathKey() });
    });
    // What an application's server runs with, its delivery or restart state changed: refetch its page's view.
    socket.on("live:applications", (payload) => {
      if (!uiEventSchemas["live:applications"].safeParse(payload).success) console.warn("live:applications payload not understood; refetching");
      void queryClient.invalidateQueries({ queryKey: trpc.live.applicationRuntime.pathKey() });
    });
    return () => {
      socket.close();
    };
  }, [queryClient, trpc]);

  return <LiveContext.Provider value={state}>{children}</LiveContext.Provider>;
}

export function ConnectionBanner() {
  const state = useLiveConnection();
  if (state !== "reconnecting") return null;
  return (
    <div role="status" className="bg-amber-500 px-4 py-1 text-center text-sm font-medium text-slate-900">
      Live updates interrupted — reconnecting to the console… (what you see may be out of date)
    </div>
  );
}
