"use client";
// Which view the dashboard shows — the cards (a few pairs in full) or the table (many pairs, a row
// each) — kept in the address (`/?view=table`, so it can be bookmarked and shared) and remembered in
// this browser for the next visit.
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect } from "react";
import { cx } from "@/components/ui";

export const dashboardViews = ["cards", "table"] as const;
export type DashboardView = (typeof dashboardViews)[number];
const STORAGE_KEY = "switchyard.dashboard.view";

export function useDashboardView(): [DashboardView, (view: DashboardView) => void] {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const asked = params.get("view");
  const view: DashboardView = asked === "table" ? "table" : "cards";
  const set = (next: DashboardView) => {
    window.localStorage.setItem(STORAGE_KEY, next);
    const q = new URLSearchParams(params.toString());
    q.set("view", next);
    router.replace(`${pathname}?${q.toString()}`, { scroll: false });
  };
  // No view in the address: the one this browser used last.
  useEffect(() => {
    if (asked) return;
    const remembered = window.localStorage.getItem(STORAGE_KEY);
    if (remembered === "table") router.replace(`${pathname}?view=table`, { scroll: false });
  }, [asked, pathname, router]);
  return [view, set];
}

export function ViewSwitch({ view, onChange }: { view: DashboardView; onChange: (view: DashboardView) => void }) {
  return (
    <div role="group" aria-label="Dashboard view" className="inline-flex overflow-hidden rounded border border-slate-300 text-sm">
      {dashboardViews.map((v) => (
        <button
          key={v}
          type="button"
          aria-pressed={view === v}
          onClick={() => onChange(v)}
          className={cx("px-2 py-1", view === v ? "bg-slate-800 text-white" : "bg-white text-slate-700 hover:bg-slate-100")}
        >
          {v === "cards" ? "Cards" : "Table"}
        </button>
      ))}
    </div>
  );
}
