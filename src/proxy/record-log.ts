// The proxy's records: kept in memory (the run's traffic evidence), appended one JSON line each
// to backend/model-requests.jsonl, and passed to an observer (the trace).
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { ModelRequestRecord } from "./record.ts";

export class RecordLog {
  readonly #records: ModelRequestRecord[] = [];
  readonly #file: string | undefined;
  readonly #onRecord: ((rec: ModelRequestRecord) => void) | undefined;
  #fileWarned = false;

  constructor(file: string | undefined, onRecord?: (rec: ModelRequestRecord) => void) {
    this.#file = file;
    this.#onRecord = onRecord;
    if (file) mkdirSync(dirname(file), { recursive: true });
  }

  emit(record: ModelRequestRecord): void {
    this.#records.push(record);
    this.#append(record);
    try {
      this.#onRecord?.(record);
    } catch {
      // A failing observer must not take the proxy (and the agent's traffic) down with it.
    }
  }

  all(): ModelRequestRecord[] {
    return this.#records.slice();
  }

  #append(record: ModelRequestRecord): void {
    if (!this.#file) return;
    try {
      appendFileSync(this.#file, JSON.stringify(record) + "\n");
    } catch (error) {
      if (this.#fileWarned) return;
      this.#fileWarned = true;
      process.stderr.write(`cto-harness proxy: cannot append to the record file (${(error as NodeJS.ErrnoException).code ?? "error"}); records stay in memory\n`);
    }
  }
}
