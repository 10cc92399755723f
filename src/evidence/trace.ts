// trace.jsonl: ordered events `{seq, ts, type, ...}`, appended synchronously so the order
// on disk is the order things happened, even if the run is interrupted.
import { appendFileSync } from "node:fs";

export type TraceEvent = { type: string } & Record<string, unknown>;

export class TraceWriter {
  #seq = 0;
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }
  emit(type: string, fields: Record<string, unknown> = {}): void {
    const event = { seq: ++this.#seq, ts: new Date().toISOString(), type, ...fields };
    appendFileSync(this.path, JSON.stringify(event) + "\n");
  }
  get count(): number {
    return this.#seq;
  }
}
