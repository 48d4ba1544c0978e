// The highest leadership term of a highly available console this agent has seen (issue 17), kept in
// STATE_DIR/term.json. A welcome or a command of an older term comes from a deposed leader and is
// refused. Written (atomically: a temporary file renamed over the old one) before anything of a newer
// term is done, so a restarted agent still refuses the deposed leader (agent/DECISIONS.md §12).
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

const termFileSchema = z.object({ version: z.literal(1), term: z.number().int().min(1) }).strict();

/** What the connection and the ledger need: the highest term seen, and raising it. */
export interface TermFence {
  /** 0 before any term was seen. */
  highest(): number;
  /** A term arrived: older than the highest seen → stale; newer → it becomes the highest (written first). */
  observe(term: number): { stale: boolean; highest: number };
}

export class TermStore implements TermFence {
  private term = 0;

  /** log: where a failed write is said (the term is then kept in memory only, and written with the next newer one). */
  constructor(
    private readonly file: string | null,
    private readonly log: (line: string) => void = () => {},
  ) {
    if (!file || !fs.existsSync(file)) return;
    let body: unknown;
    try {
      body = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
      throw new Error(`the leadership term file ${file} is unreadable (${err instanceof Error ? err.message : String(err)}); move it away to start fresh`);
    }
    const parsed = termFileSchema.safeParse(body);
    if (!parsed.success) throw new Error(`the leadership term file ${file} is unreadable; move it away to start fresh: ${parsed.error.message}`);
    this.term = parsed.data.term;
  }

  highest(): number {
    return this.term;
  }

  observe(term: number): { stale: boolean; highest: number } {
    if (term < this.term) return { stale: true, highest: this.term };
    if (term > this.term) {
      this.term = term;
      try {
        this.save(term);
      } catch (err) {
        // Still fenced in memory: refusing every console for a full disk would cost the host its
        // connection, and its pairs a failover, for a fence that only matters across a restart.
        this.log(`cannot write leadership term ${term} to ${this.file}: ${err instanceof Error ? err.message : String(err)}; an agent restarted before it is written would not remember it`);
      }
    }
    return { stale: false, highest: this.term };
  }

  private save(term: number): void {
    if (!this.file) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(`${this.file}.tmp`, `${JSON.stringify({ version: 1, term })}\n`, { mode: 0o600 });
    fs.renameSync(`${this.file}.tmp`, this.file);
  }
}
