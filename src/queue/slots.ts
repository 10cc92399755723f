// A provider's model slots shared by every worker serving it, on any machine: slot i of
// provider P is the PostgreSQL advisory lock (hash of P, i), held on one dedicated
// connection. A worker that dies (kill -9, machine gone) drops its connection and with it
// its locks, so its slots come back by themselves. In front of the locks, an in-process
// semaphore keeps this worker's own requests from polling the database for a slot it
// cannot have. Implements the proxy's ModelSlots, so the recording proxy's existing slot
// accounting (one slot per in-flight model request) is what is enforced across machines.
import type pg from "pg";
import { Semaphore, type ModelSlots } from "../core/semaphore.ts";

const POLL_MS = 20;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason ?? new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export class ProviderSlots implements ModelSlots {
  readonly limit: number;
  readonly #client: pg.Client;
  readonly #provider: string;
  readonly #local: Semaphore;
  readonly #held = new Set<number>();

  constructor(client: pg.Client, provider: string, limit: number) {
    this.#client = client;
    this.#provider = provider;
    this.limit = limit;
    this.#local = new Semaphore(limit);
  }

  get inFlight(): number {
    return this.#local.inFlight;
  }
  get waiting(): number {
    return this.#local.waiting;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    const releaseLocal = await this.#local.acquire(signal);
    try {
      for (;;) {
        for (let i = 0; i < this.limit; i++) {
          if (this.#held.has(i)) continue;
          this.#held.add(i); // reserved while asking, so two local callers never ask for one slot
          const r = await this.#client
            .query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext($1), $2) AS ok", [`cto-slot:${this.#provider}`, i])
            .catch((e: Error) => {
              this.#held.delete(i);
              throw e;
            });
          if (r.rows[0]?.ok) return this.#releaser(i, releaseLocal);
          this.#held.delete(i);
        }
        await sleep(POLL_MS, signal);
      }
    } catch (e) {
      releaseLocal();
      throw e;
    }
  }

  #releaser(i: number, releaseLocal: () => void): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      // Unlock first, then free the local slot: a local waiter then finds lock i free.
      void this.#client
        .query("SELECT pg_advisory_unlock(hashtext($1), $2)", [`cto-slot:${this.#provider}`, i])
        .catch(() => {})
        .finally(() => {
          this.#held.delete(i);
          releaseLocal();
        });
    };
  }
}
