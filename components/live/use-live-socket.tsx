"use client";
// The browser's live connection (socket.io namespace /ui, same login cookie, events and payloads typed
// by lib/ui-events.ts): pushed pair views patch the TanStack Query cache, the other events invalidate
// what they name; no second copy of server state. Exposes the connection state for the banner.
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { io, type Socket } from "socket.io-client";
import { hashKey, useQueryClient } from "@tanstack/react-query";
import superjson from "superjson";
import { useTRPC } from "@/components/trpc/react";
import type { RouterOutputs } from "@/components/trpc/types";
import { UI_NAMESPACE, uiEventSchemas, type UiServerToClientEvents } from "@/lib/ui-events";
import { PairPatches, applyPairPatch, frameBatch } from "./pair-patches";

type LiveConnection = "connecting" | "connected" | "reconnecting";
/** The console's order of pairs with equal severity; one collator, not one per comparison (thousands of pairs on every push). */
const byName = new Intl.Collator("en");
type PairView = RouterOutputs["live"]["pairs"][number];
/** The console's order of the pair list: problems first, then by name. */
const problemsFirst = (a: PairView, b: PairView) => b.severity - a.severity || byName.compare(a.name, b.name);
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
    // keep problems first) instead of refetching it. Pushes and the invalidations "live:changed" asks
    // for are gathered and applied once per animation frame (pair-patches.ts): a burst of switchovers
    // at 2,000 pairs sends several a second, and each one copied, sorted and drew the whole list.
    const pairsKey = trpc.live.pairs.queryKey();
    const patches = new PairPatches<PairView>();
    // While the pair list is being fetched, every push is also kept here and applied again on top of
    // the answer: a push can arrive before the answer it is newer than (a small push overtakes 2,000
    // views), and the answer would otherwise overwrite it. Its last view of each pair is at least as new
    // as the answer's, which holds what the console had pushed before it answered.
    let sinceFetch: PairPatches<PairView> | null = queryClient.getQueryState(pairsKey)?.fetchStatus === "fetching" ? new PairPatches() : null;
    let otherLiveChanged = false;
    let alarmsChanged = false;
    const batch = frameBatch(
      () => {
        if (!patches.empty) {
          const patch = patches.take();
          // No list yet: nothing to patch (what is being fetched gets the pushes again, above).
          if (queryClient.getQueryData(pairsKey)) queryClient.setQueryData(pairsKey, (old) => (old ? applyPairPatch(old, patch, problemsFirst) : old));
        }
        if (otherLiveChanged) {
          otherLiveChanged = false;
          // Everything else live (timelines, agents) is refetched when it is on screen; pair views are
          // patched above and an application's runtime has its own event below.
          void queryClient.invalidateQueries({
            queryKey: trpc.live.pathKey(),
            predicate: (q) => !/"(pairs|applicationRuntime)"/.test(JSON.stringify(q.queryKey)),
          });
        }
        if (alarmsChanged) {
          alarmsChanged = false;
          void queryClient.invalidateQueries({ queryKey: trpc.alarms.pathKey() });
        }
      },
      {
        frame: (cb) => {
          const id = requestAnimationFrame(cb);
          return () => cancelAnimationFrame(id);
        },
        later: (cb, ms) => {
          const id = setTimeout(cb, ms);
          return () => clearTimeout(id);
        },
      },
    );
    const pairsHash = hashKey(pairsKey);
    const unwatch = queryClient.getQueryCache().subscribe((e) => {
      if (e.type !== "updated" || e.query.queryHash !== pairsHash) return;
      if (e.action.type === "fetch") sinceFetch ??= new PairPatches();
      else if (e.action.type === "success" && !e.action.manual) {
        const again = sinceFetch?.take();
        sinceFetch = null;
        if (again && (again.changed.length || again.removed.length)) {
          patches.add(again.changed, again.removed);
          batch.ask();
        }
      } else if (e.action.type === "error") sinceFetch = null;
    });
    socket.on("live:pairs", (payload) => {
      const parsed = uiEventSchemas["live:pairs"].safeParse(superjson.deserialize(payload));
      if (!parsed.success) {
        // A console of another version, or a bug: say so and fall back to asking for the list.
        console.warn("live:pairs payload not understood; refetching the pair list", parsed.error.issues.slice(0, 3));
        void refresh();
        return;
      }
      patches.add(parsed.data.changed, parsed.data.removed);
      sinceFetch?.add(parsed.data.changed, parsed.data.removed);
      batch.ask();
    });
    socket.on("live:changed", () => {
      otherLiveChanged = true;
      batch.ask();
    });
    // The header's alarm badge (and the alarm pages) refetch once per frame however many changes came.
    socket.on("alarms:changed", () => {
      alarmsChanged = true;
      batch.ask();
    });
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
      unwatch();
      batch.cancel();
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
