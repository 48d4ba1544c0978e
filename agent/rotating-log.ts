// A size-bounded log file with a bounded number of rotated copies (app.log, app.log.1 … app.log.N),
// for the stdout/stderr of supervised applications. Writes are synchronous so a line is on disk
// before the agent reports the exit that followed it.
import fs from "node:fs";
import path from "node:path";

export interface RotatingLogOptions {
  maxFileBytes: number;
  /** Rotated copies kept besides the live file. */
  maxRotatedFiles: number;
}

export class RotatingLog {
  private fd: number | null = null;
  private sizeBytes = 0;

  constructor(
    readonly file: string,
    private readonly opts: RotatingLogOptions,
  ) {
    if (opts.maxFileBytes < 1024) throw new Error(`maxFileBytes ${opts.maxFileBytes} is below 1024`);
    if (opts.maxRotatedFiles < 0 || opts.maxRotatedFiles > 100) throw new Error(`maxRotatedFiles ${opts.maxRotatedFiles} must be 0–100`);
  }

  write(data: Buffer | string): void {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    if (this.fd === null) this.open();
    if (this.sizeBytes > 0 && this.sizeBytes + buf.length > this.opts.maxFileBytes) this.rotate();
    // A single chunk larger than the limit is cut, not allowed to blow the bound.
    const chunk = buf.length > this.opts.maxFileBytes ? buf.subarray(buf.length - this.opts.maxFileBytes) : buf;
    fs.writeSync(this.fd!, chunk);
    this.sizeBytes += chunk.length;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private open(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    this.fd = fs.openSync(this.file, "a");
    this.sizeBytes = fs.fstatSync(this.fd).size;
  }

  private rotate(): void {
    this.close();
    if (this.opts.maxRotatedFiles === 0) {
      fs.rmSync(this.file, { force: true });
    } else {
      fs.rmSync(`${this.file}.${this.opts.maxRotatedFiles}`, { force: true });
      for (let i = this.opts.maxRotatedFiles - 1; i >= 1; i--) {
        if (fs.existsSync(`${this.file}.${i}`)) fs.renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      }
      if (fs.existsSync(this.file)) fs.renameSync(this.file, `${this.file}.1`);
    }
    this.open();
  }
}
