// Streams trajectory events to a JSONL file as they happen: each event is appended with
// one synchronous write and then dropped, so memory stays flat however long the run is,
// and an interrupted run still leaves every event written so far on disk.
import { closeSync, openSync, writeSync } from "node:fs";
import type { TrajectoryEvent, TrajectoryInput } from "./schema.ts";

/** Texts longer than this (huge tool outputs) are cut; the cut is noted in the text. */
export const DEFAULT_MAX_TEXT_CHARS = 64 * 1024;

export interface TrajectoryWriter {
  readonly path: string;
  /** Appends one event; returns its `seq`. Writes after close() are ignored (returns 0). */
  write(ev: TrajectoryInput): number;
  /** Events written so far. */
  readonly count: number;
  close(): void;
}

export interface TrajectoryWriterOptions {
  /** Default `engine` for events that carry none. */
  engine?: string;
  maxTextChars?: number;
}

export function createTrajectoryWriter(path: string, opts: TrajectoryWriterOptions = {}): TrajectoryWriter {
  const fd = openSync(path, "a");
  const maxText = opts.maxTextChars ?? DEFAULT_MAX_TEXT_CHARS;
  let seq = 0;
  let closed = false;
  return {
    path,
    get count() {
      return seq;
    },
    write(ev: TrajectoryInput): number {
      if (closed) return 0;
      const { ts, engine, ...rest } = ev;
      const out: TrajectoryEvent = {
        seq: ++seq,
        ts: ts ?? new Date().toISOString(),
        engine: engine ?? opts.engine ?? "unknown",
        ...rest,
      };
      if (out.text !== undefined && out.text.length > maxText) {
        out.text = `${out.text.slice(0, maxText)}\n[cto-harness: text cut at ${maxText} of ${out.text.length} chars]`;
      }
      writeSync(fd, JSON.stringify(out) + "\n");
      return seq;
    },
    close(): void {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}
