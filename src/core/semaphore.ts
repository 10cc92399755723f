// A counting semaphore (here, below every layer: the proxy and the loop both use it) shared by all runs of a loop that talk to the same endpoint: local
// model servers (one GPU) saturate, so in-flight model requests are limited across runs,
// separately from how many runs (agents, tests) proceed at once.

/** What a user of slots needs: the proxy waits for one before it forwards a request. */
export interface Slots {
  /** Waits for a free slot; the returned function frees it (idempotent). Rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void>;
}

export interface ModelSlots extends Slots {
  readonly limit: number;
  readonly inFlight: number;
  readonly waiting: number;
}

interface Waiter {
  grant: () => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class Semaphore implements ModelSlots {
  readonly limit: number;
  #inFlight = 0;
  #queue: Waiter[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`semaphore limit must be a positive integer (got ${limit})`);
    this.limit = limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }
  get waiting(): number {
    return this.#queue.length;
  }

  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error("aborted"));
    return new Promise((resolve, reject) => {
      const grant = () => {
        this.#inFlight++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.#inFlight--;
          this.#next();
        });
      };
      if (this.#inFlight < this.limit) return grant();
      const entry: Waiter = { grant, reject, signal };
      if (signal) {
        entry.onAbort = () => {
          const i = this.#queue.indexOf(entry);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(signal.reason ?? new Error("aborted"));
        };
        signal.addEventListener("abort", entry.onAbort, { once: true });
      }
      this.#queue.push(entry);
    });
  }

  #next(): void {
    while (this.#inFlight < this.limit && this.#queue.length > 0) {
      const e = this.#queue.shift()!;
      if (e.signal && e.onAbort) e.signal.removeEventListener("abort", e.onAbort);
      e.grant();
    }
  }
}
