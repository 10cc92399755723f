// A child's stdout or stderr written to a log file up to a cap (the cut noted in the file),
// split into lines on the way for the caller's line handler and for the first and last
// lines the outcome keeps. Apart from running the process because it is pure bookkeeping of
// bytes: memory stays flat whatever the child prints.
import { createWriteStream, type WriteStream } from "node:fs";

export interface StreamSummary {
  bytes: number;
  truncated: boolean;
  /** First and last lines seen (for protocol-failure markers). */
  firstLines: string[];
  lastLines: string[];
}

const KEEP_LINES = 5;
const MAX_LINE_BYTES = 1 << 20;
const KEEP_LINE_CHARS = 2000;

export class CappedLog {
  readonly summary: StreamSummary = { bytes: 0, truncated: false, firstLines: [], lastLines: [] };
  #out: WriteStream;
  #written = 0;
  #cap: number;
  #partial: Buffer[] = [];
  #partialBytes = 0;
  #onLine?: (line: string) => void;
  constructor(path: string, cap: number, onLine?: (line: string) => void) {
    this.#out = createWriteStream(path);
    this.#out.on("error", () => {}); // a full disk must not crash the harness; the summary still counts
    this.#cap = cap;
    this.#onLine = onLine;
  }
  write(chunk: Buffer): void {
    this.summary.bytes += chunk.length;
    if (this.#written < this.#cap) {
      const room = this.#cap - this.#written;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.#out.write(part);
      this.#written += part.length;
      if (part.length < chunk.length) this.summary.truncated = true;
    } else {
      this.summary.truncated = true;
    }
    this.#lines(chunk);
  }
  // Splits on bytes (not decoded text) so memory stays flat whatever the output: an
  // over-long line keeps only its first MAX_LINE_BYTES.
  #lines(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) {
        this.#append(chunk.subarray(start));
        return;
      }
      this.#append(chunk.subarray(start, nl));
      this.#flushLine();
      start = nl + 1;
    }
  }
  #append(piece: Buffer): void {
    const room = MAX_LINE_BYTES - this.#partialBytes;
    if (room <= 0 || piece.length === 0) return;
    const kept = piece.length > room ? piece.subarray(0, room) : piece;
    this.#partial.push(Buffer.from(kept)); // copy: the chunk itself is not retained
    this.#partialBytes += kept.length;
  }
  #flushLine(): void {
    const line = this.#partial.length === 1 ? this.#partial[0]!.toString("utf8") : Buffer.concat(this.#partial).toString("utf8");
    this.#partial = [];
    this.#partialBytes = 0;
    const short = line.length > KEEP_LINE_CHARS ? line.slice(0, KEEP_LINE_CHARS) : line;
    if (this.summary.firstLines.length < KEEP_LINES) this.summary.firstLines.push(short);
    this.summary.lastLines.push(short);
    if (this.summary.lastLines.length > KEEP_LINES) this.summary.lastLines.shift();
    this.#onLine?.(line);
  }
  async close(): Promise<void> {
    if (this.#partialBytes > 0) this.#flushLine();
    if (this.summary.truncated) {
      this.#out.write(`\n[cto-harness: output cut at ${this.#cap} bytes; ${this.summary.bytes} bytes were produced]\n`);
    }
    await new Promise<void>((resolve) => this.#out.end(resolve));
  }
}

export function emptySummary(): StreamSummary {
  return { bytes: 0, truncated: false, firstLines: [], lastLines: [] };
}
