// How long a provider stays paused after consecutive faults: exponential from `baseMs`,
// capped at `maxMs`, with a deterministic spread (by worker) so several workers of one
// provider do not all come back in the same millisecond. Pure.
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 2_000, maxMs: 120_000 };

/** Pause after the `failures`-th consecutive fault (1-based); 0 when there was none. */
export function backoffMs(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF, spread = 0): number {
  if (failures <= 0) return 0;
  const raw = policy.baseMs * 2 ** Math.min(failures - 1, 30);
  const capped = Math.min(policy.maxMs, raw);
  // spread in [0,1): up to 10% more, never beyond the cap.
  return Math.min(policy.maxMs, Math.round(capped * (1 + 0.1 * Math.max(0, Math.min(spread, 0.999)))));
}

/** A stable number in [0,1) from a name (the worker id): the spread of backoffMs. */
export function spreadOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h / 2 ** 32;
}
