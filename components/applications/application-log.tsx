"use client";
// An application's log, read through its host's agent: the newest part of the file (16, 64 or 256 KiB),
// or the newest lines that contain a search text (the live file and its rotated copies), followed live —
// the page asks the agent again every few seconds while "Follow" is on and keeps the view at the bottom.
// Why a server would not start (EADDRINUSE, a bad argument) is in here. Data: live.applicationLog.
import Link from "next/link";
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { Badge, Button, Card, cx, ErrorBox, Input, Loading, PageTitle, Select } from "@/components/ui";

/** How often a followed log is read again. */
export const LOG_FOLLOW_INTERVAL_MS = 2_000;
const sizes = [
  { bytes: 16 * 1024, label: "16 KiB" },
  { bytes: 64 * 1024, label: "64 KiB" },
  { bytes: 256 * 1024, label: "256 KiB" },
];

function kib(bytes: number): string {
  return bytes < 1024 ? `${bytes} bytes` : `${(bytes / 1024).toLocaleString("en-US", { maximumFractionDigits: 1 })} KiB`;
}

/** The text with every occurrence of the search marked (case-insensitive, as the agent matched it). */
function Marked({ text, search }: { text: string; search: string }) {
  if (!search) return <>{text}</>;
  const lower = text.toLowerCase();
  const needle = search.toLowerCase();
  const parts: ReactNode[] = [];
  let at = 0;
  for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, i + needle.length)) {
    parts.push(text.slice(at, i), <mark key={i}>{text.slice(i, i + needle.length)}</mark>);
    at = i + needle.length;
  }
  parts.push(text.slice(at));
  return <>{parts}</>;
}

export function ApplicationLog({ id }: { id: string }) {
  const trpc = useTRPC();
  const app = useQuery(trpc.applications.get.queryOptions({ id }));
  const [draft, setDraft] = useState("");
  const [search, setSearch] = useState("");
  const [maxBytes, setMaxBytes] = useState(64 * 1024);
  const [follow, setFollow] = useState(true);
  const log = useQuery(
    trpc.live.applicationLog.queryOptions(
      { appId: id, maxBytes, search },
      { refetchInterval: follow ? LOG_FOLLOW_INTERVAL_MS : false, placeholderData: keepPreviousData, retry: false },
    ),
  );
  const pre = useRef<HTMLPreElement>(null);
  // Following: keep the newest line in view as the log grows.
  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [follow, log.data?.text]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSearch(draft.trim());
  };
  const name = app.data?.name ?? "…";
  const data = log.data;
  return (
    <>
      <PageTitle>
        <Link href="/applications" className="text-slate-500 hover:underline">
          Applications
        </Link>{" "}
        /{" "}
        <Link href={`/applications/${id}`} className="text-slate-500 hover:underline">
          {name}
        </Link>{" "}
        / log
      </PageTitle>
      <Card
        title={search ? `Lines of ${name}'s log containing “${search}”` : `The end of ${name}'s log`}
        actions={
          <label className="flex items-center gap-1 text-sm">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
          </label>
        }
      >
        <form onSubmit={submit} className="mb-3 flex flex-wrap items-center gap-2" role="search" aria-label="Search the log">
          <Input aria-label="Search the log" placeholder="text to find, e.g. EADDRINUSE" value={draft} maxLength={200} onChange={(e) => setDraft(e.target.value)} className="w-72" />
          <Button type="submit" variant="secondary">
            Search
          </Button>
          {search && (
            <Button
              variant="ghost"
              onClick={() => {
                setDraft("");
                setSearch("");
              }}
            >
              Show the end of the log
            </Button>
          )}
          <label className="ml-auto flex items-center gap-1 text-sm">
            Show the newest
            <Select aria-label="How much of the log" value={maxBytes} onChange={(e) => setMaxBytes(Number(e.target.value))}>
              {sizes.map((s) => (
                <option key={s.bytes} value={s.bytes}>
                  {s.label}
                </option>
              ))}
            </Select>
          </label>
        </form>
        <ErrorBox error={log.error} />
        {log.isLoading && <Loading what="the log" />}
        {data && !data.ok && (
          <div role="alert" className="rounded border border-red-300 bg-red-50 p-3 text-sm text-red-900">
            {data.error}
          </div>
        )}
        {data?.ok && (
          <>
            <p className="mb-2 text-xs text-slate-600" data-testid="log-summary">
              <code>{data.file}</code> on {data.hostName}, {kib(data.sizeBytes)}
              {data.matches !== null && (
                <>
                  {" · "}
                  <Badge tone={data.matches ? "blue" : "slate"}>
                    {data.matches} matching line{data.matches === 1 ? "" : "s"}
                  </Badge>
                </>
              )}
              {data.truncated && (data.matches !== null ? " · older matches are not shown" : ` · older output is not shown (${kib(data.sizeBytes)} in the file)`)}
              {" · read "}
              {new Date(data.readAt).toLocaleTimeString()}
              {log.isFetching && " · reading…"}
            </p>
            {/* While a new search is read, the previous answer stays in view, dimmed and unmarked: it is not that search's result. */}
            <pre
              ref={pre}
              data-testid="log-text"
              aria-busy={log.isPlaceholderData}
              className={cx("max-h-[70vh] overflow-auto whitespace-pre-wrap break-all rounded bg-slate-900 p-2 text-xs text-slate-100", log.isPlaceholderData && "opacity-50")}
            >
              {data.text ? <Marked text={data.text} search={log.isPlaceholderData ? "" : search} /> : <span className="text-slate-400">{search ? "No line contains this text." : "The application has written nothing yet."}</span>}
            </pre>
          </>
        )}
      </Card>
    </>
  );
}
