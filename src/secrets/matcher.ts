// Multi-needle byte search (Wu-Manber): one pass over a buffer finds every occurrence of
// any of ~100 needles. A shift table over 2-byte blocks lets the scan skip up to
// (shortest needle − 1) bytes at a time, so the cost barely grows with the number of
// needles — unlike one Buffer.indexOf pass per needle. Pure: no I/O.

export class MultiMatcher {
  readonly needles: readonly Buffer[];
  readonly minLen: number;
  readonly maxLen: number;
  #m: number;
  #shift: Uint8Array;
  #buckets: (Int32Array | undefined)[];
  /** Needles shorter than 2 bytes cannot use the block table; they are searched with indexOf. */
  #tiny: number[] = [];

  constructor(needles: readonly Buffer[]) {
    this.needles = needles;
    const lens = needles.map((n) => n.length).filter((l) => l > 0);
    this.maxLen = lens.length ? Math.max(...lens) : 0;
    const big = needles.map((n, i) => [n, i] as const).filter(([n]) => n.length >= 2);
    for (let i = 0; i < needles.length; i++) if (needles[i]!.length === 1) this.#tiny.push(i);
    this.minLen = lens.length ? Math.min(...lens) : 0;
    // Window length: the shortest needle handled by the table, capped so shifts fit a byte.
    this.#m = big.length ? Math.min(255, ...big.map(([n]) => n.length)) : 0;
    const m = this.#m;
    this.#shift = new Uint8Array(65536).fill(m > 0 ? m - 1 : 0);
    const lists: number[][] = [];
    for (const [n, idx] of big) {
      for (let j = 1; j < m; j++) {
        const block = (n[j - 1]! << 8) | n[j]!;
        const s = m - 1 - j;
        if (s < this.#shift[block]!) this.#shift[block] = s;
      }
      const last = (n[m - 2]! << 8) | n[m - 1]!;
      (lists[last] ??= []).push(idx);
    }
    this.#buckets = new Array(65536);
    for (let b = 0; b < lists.length; b++) if (lists[b]) this.#buckets[b] = Int32Array.from(lists[b]!);
  }

  /**
   * Calls `onMatch(needleIndex, start)` for every occurrence lying wholly inside
   * `buf[0, end)`. Order is by position of the window end, not strictly by start.
   */
  scan(buf: Uint8Array, onMatch: (needle: number, start: number) => void, end: number = buf.length): void {
    const m = this.#m;
    const needles = this.needles;
    if (m >= 2) {
      const shift = this.#shift;
      const buckets = this.#buckets;
      let pos = m - 1;
      while (pos < end) {
        const block = (buf[pos - 1]! << 8) | buf[pos]!;
        const s = shift[block]!;
        if (s !== 0) {
          pos += s;
          continue;
        }
        const bucket = buckets[block];
        if (bucket !== undefined) {
          const start = pos - m + 1;
          for (let k = 0; k < bucket.length; k++) {
            const idx = bucket[k]!;
            const n = needles[idx]!;
            const len = n.length;
            if (start + len > end) continue;
            let i = 0;
            while (i < len && buf[start + i] === n[i]) i++;
            if (i === len) onMatch(idx, start);
          }
        }
        pos += 1;
      }
    }
    for (const idx of this.#tiny) {
      const byte = needles[idx]![0]!;
      let at = buf.indexOf(byte);
      while (at !== -1 && at < end) {
        onMatch(idx, at);
        at = buf.indexOf(byte, at + 1);
      }
    }
  }
}

/**
 * Feeds a stream through a matcher chunk by chunk, keeping the last (longest needle − 1)
 * bytes so occurrences across chunk boundaries are found exactly once. Offsets reported
 * are absolute within the stream.
 */
export class StreamMatcher {
  #matcher: MultiMatcher;
  #carry: Buffer = Buffer.alloc(0);
  #offset = 0; // absolute offset of #carry[0]
  #onMatch: (needle: number, start: number) => void;
  constructor(matcher: MultiMatcher, onMatch: (needle: number, absoluteStart: number) => void) {
    this.#matcher = matcher;
    this.#onMatch = onMatch;
  }
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const carryLen = this.#carry.length;
    const window = carryLen ? Buffer.concat([this.#carry, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const base = this.#offset;
    this.#matcher.scan(window, (idx, start) => {
      // Wholly inside the carry: already reported from the previous window.
      if (start + this.#matcher.needles[idx]!.length <= carryLen) return;
      this.#onMatch(idx, base + start);
    });
    const keep = Math.min(window.length, Math.max(0, this.#matcher.maxLen - 1));
    this.#carry = Buffer.from(window.subarray(window.length - keep));
    this.#offset = base + window.length - keep;
  }
}
