// Streaming replacement of every needle occurrence with `[REDACTED]`. Overlapping or
// adjacent occurrences (the whole URL and its password inside it) become one
// `[REDACTED]`. Bytes are only emitted once no later chunk can extend a match into them.
import type { MultiMatcher } from "./matcher.ts";

export const REDACTED = Buffer.from("[REDACTED]");

export class Redactor {
  #matcher: MultiMatcher;
  #pending: Buffer = Buffer.alloc(0);
  /** Number of `[REDACTED]` insertions so far. */
  replaced = 0;
  constructor(matcher: MultiMatcher) {
    this.#matcher = matcher;
  }

  /** Takes the next chunk; returns the bytes that are final. */
  push(chunk: Buffer): Buffer {
    const window = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const keep = Math.max(0, this.#matcher.maxLen - 1);
    const { out, rest } = this.#redact(window, Math.max(0, window.length - keep));
    this.#pending = Buffer.from(rest);
    return out;
  }

  /** Flushes what is left at the end of the stream. */
  end(): Buffer {
    const { out } = this.#redact(this.#pending, this.#pending.length);
    this.#pending = Buffer.alloc(0);
    return out;
  }

  #redact(window: Buffer, boundary: number): { out: Buffer; rest: Buffer } {
    const spans: [number, number][] = [];
    this.#matcher.scan(window, (idx, start) => {
      spans.push([start, start + this.#matcher.needles[idx]!.length]);
    });
    spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const pieces: Buffer[] = [];
    let cursor = 0;
    let i = 0;
    while (i < spans.length && spans[i]![0] < boundary) {
      let [start, end] = spans[i]!;
      i++;
      while (i < spans.length && spans[i]![0] <= end) end = Math.max(end, spans[i++]![1]);
      if (start < cursor) start = cursor; // cannot happen after merging; kept for safety
      pieces.push(window.subarray(cursor, start), REDACTED);
      this.replaced++;
      cursor = end;
      if (end > boundary) boundary = end;
    }
    if (boundary < cursor) boundary = cursor;
    pieces.push(window.subarray(cursor, boundary));
    return { out: Buffer.concat(pieces), rest: window.subarray(boundary) };
  }
}
