"use client";
// Why a server's process failed, on its card: the line of its last output that says why (an error line
// such as "listen EADDRINUSE …", else the last line), its last few lines on request, and the way to its
// whole log (read through its host's agent). The card otherwise shows only the exit ("exit code 2").
import Link from "next/link";
import type { RouterOutputs } from "@/components/trpc/types";

type ServerView = RouterOutputs["live"]["pairs"][number]["servers"][number];

export function FailureCause({ s }: { s: ServerView }) {
  if (!s.failure) return null;
  return (
    <div className="mt-2 rounded border border-red-200 bg-red-50 p-2 text-xs text-red-900" data-testid="failure-cause">
      <div>
        <span className="font-medium">Why it failed: </span>
        {s.failure.cause ?? "it wrote nothing before it exited"}
      </div>
      {s.failure.output && (
        <details className="mt-1">
          <summary className="cursor-pointer text-red-800">Last lines it wrote</summary>
          <pre className="mt-1 max-h-32 overflow-auto whitespace-pre-wrap break-all rounded bg-slate-900 p-1 text-[11px] text-slate-100">{s.failure.output}</pre>
        </details>
      )}
      <Link href={`/applications/${s.appId}/log`} className="mt-1 inline-block text-blue-800 underline">
        {s.name}&apos;s log
      </Link>
    </div>
  );
}
