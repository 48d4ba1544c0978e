"use client";
// "Download CSV" / "Download JSON" for a filtered list (audit log, alarm history): asks the console for
// the file with the page's filters (the same query the REST API's export serves) and saves it in the
// browser. The file is built on the console, so page and API export the same rows and columns.
import { useState } from "react";
import { Button, ErrorBox } from "@/components/ui";

export interface ExportedFile {
  filename: string;
  contentType: string;
  count: number;
  text: string;
}

export function ExportButtons({ load, what }: { load: (format: "csv" | "json") => Promise<ExportedFile>; what: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const save = async (format: "csv" | "json") => {
    setBusy(true);
    setError(null);
    try {
      const file = await load(format);
      const url = URL.createObjectURL(new Blob([file.text], { type: file.contentType }));
      const a = document.createElement("a");
      a.href = url;
      a.download = file.filename;
      a.click();
      URL.revokeObjectURL(url);
      setDone(`${file.count} ${what} saved as ${file.filename}`);
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="flex flex-wrap items-center gap-2">
      <Button variant="secondary" disabled={busy} onClick={() => void save("csv")}>
        Download CSV
      </Button>
      <Button variant="secondary" disabled={busy} onClick={() => void save("json")}>
        Download JSON
      </Button>
      {done && (
        <span role="status" className="text-xs text-slate-600">
          {done}
        </span>
      )}
      <ErrorBox error={error} />
    </div>
  );
}
