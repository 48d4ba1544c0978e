// Reads an application's log for the console (`readLog`): the newest bytes of the live file, or the
// lines that contain a search text, from the live file and then its rotated copies (app.log.1 …,
// newest first). Bounded both ways — at most maxBytes of text back, at most LOG_SEARCH_MAX_BYTES read —
// and read asynchronously in chunks, so a search through a large log never holds up the agent's
// heartbeats or its commands.
import fs from "node:fs/promises";
import { LOG_SEARCH_MAX_BYTES, type LogReadReply, type LogReadRequest } from "../protocol/agent-wire";

/** Read size of one step backwards through a file. */
const CHUNK_BYTES = 1024 * 1024;

export interface LogFiles {
  /** The live file (rotated copies are `${file}.1` … `${file}.${rotated}`). */
  file: string;
  rotated: number;
}

export async function readApplicationLog(files: LogFiles, req: LogReadRequest, limits: { searchMaxBytes?: number } = {}): Promise<LogReadReply> {
  const base = { application: req.application, file: files.file, readAt: new Date().toISOString() };
  let sizeBytes = 0;
  try {
    sizeBytes = (await fs.stat(files.file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      return { ...base, ok: false, error: `cannot read ${files.file}: ${(err as Error).message}`.slice(0, 1000), sizeBytes: 0, text: "", truncated: false, matches: null, scannedBytes: 0 };
    }
    // Not written yet (never started here, or rotated away with maxRotatedFiles 0): an empty log.
  }
  try {
    if (req.search === null) {
      const tail = await readTailLines(files.file, sizeBytes, req.maxBytes);
      return { ...base, ok: true, error: null, sizeBytes, text: tail.text, truncated: tail.truncated, matches: null, scannedBytes: tail.scannedBytes };
    }
    const found = await searchLines(files, req.search, req.maxBytes, limits.searchMaxBytes ?? LOG_SEARCH_MAX_BYTES);
    return { ...base, ok: true, error: null, sizeBytes, text: found.lines.join("\n"), truncated: found.truncated, matches: found.matches, scannedBytes: found.scannedBytes };
  } catch (err) {
    return { ...base, ok: false, error: `cannot read ${files.file}: ${(err as Error).message}`.slice(0, 1000), sizeBytes, text: "", truncated: false, matches: null, scannedBytes: 0 };
  }
}

/** The newest whole lines that fit in maxBytes (a partial first line is dropped, unless it is all there is). */
async function readTailLines(file: string, sizeBytes: number, maxBytes: number): Promise<{ text: string; truncated: boolean; scannedBytes: number }> {
  if (sizeBytes === 0) return { text: "", truncated: false, scannedBytes: 0 };
  const bytes = Math.min(sizeBytes, maxBytes);
  const handle = await fs.open(file, "r");
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, sizeBytes - bytes);
    let text = buf.subarray(0, bytesRead).toString("utf8");
    const truncated = sizeBytes > bytes;
    if (truncated) {
      const firstBreak = text.indexOf("\n");
      if (firstBreak >= 0 && firstBreak < text.length - 1) text = text.slice(firstBreak + 1);
    }
    return { text: trimCharsToBytes(text, maxBytes), truncated, scannedBytes: bytesRead };
  } finally {
    await handle.close();
  }
}

/**
 * Matching lines, newest file first, each file read backwards in chunks; stops when maxBytes of
 * matches are found (the newest are what is wanted) or at the read budget, and says so with `truncated`.
 */
async function searchLines(files: LogFiles, search: string, maxBytes: number, budgetBytes: number): Promise<{ lines: string[]; matches: number; truncated: boolean; scannedBytes: number }> {
  const needle = search.toLowerCase();
  const kept: string[] = []; // newest first while collecting
  let keptBytes = 0;
  let matches = 0;
  let scanned = 0;
  let truncated = false;
  const names = [files.file, ...Array.from({ length: files.rotated }, (_, i) => `${files.file}.${i + 1}`)];
  for (const name of names) {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(name, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw err;
    }
    try {
      let end = (await handle.stat()).size;
      // Bytes of a line cut by the chunk boundary, carried to the next (earlier) chunk.
      let carry = Buffer.alloc(0);
      while (end > 0) {
        if (scanned >= budgetBytes) {
          truncated = true;
          break;
        }
        const size = Math.min(CHUNK_BYTES, end, budgetBytes - scanned);
        const buf = Buffer.alloc(size);
        await handle.read(buf, 0, size, end - size);
        end -= size;
        scanned += size;
        const joined = Buffer.concat([buf, carry]);
        const firstBreak = end > 0 ? joined.indexOf(0x0a) : -1;
        // Everything before the first line break may continue in the earlier chunk: keep it for then.
        carry = end > 0 ? (firstBreak >= 0 ? joined.subarray(0, firstBreak) : joined) : Buffer.alloc(0);
        const body = end > 0 ? (firstBreak >= 0 ? joined.subarray(firstBreak + 1) : Buffer.alloc(0)) : joined;
        const lines = body.toString("utf8").split("\n");
        for (let i = lines.length - 1; i >= 0; i--) {
          const line = lines[i]!;
          if (!line.toLowerCase().includes(needle)) continue;
          const cost = Buffer.byteLength(line) + 1;
          // Full: older matches exist but are not wanted (the newest are), so reading further is waste.
          if (keptBytes + cost > maxBytes) {
            truncated = true;
            break;
          }
          matches++;
          kept.push(line);
          keptBytes += cost;
        }
        if (truncated) break;
        // A line longer than the whole budget would be carried forever: give it up.
        if (carry.length > maxBytes + CHUNK_BYTES) carry = Buffer.alloc(0);
      }
    } finally {
      await handle.close();
    }
    if (truncated) break;
  }
  return { lines: kept.reverse(), matches, truncated, scannedBytes: scanned };
}

/** Cuts from the front so the UTF-8 text is at most maxBytes (a multi-byte character is never split). */
function trimCharsToBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const buf = Buffer.from(text);
  return buf.subarray(buf.length - maxBytes).toString("utf8").replace(/^\uFFFD+/, "");
}
