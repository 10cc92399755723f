// The coordinator's progress line: per provider how many runs have their result, whether it
// is paused, and per worker what it is doing and when it was last heard from.
import type { QueuedAttempt } from "./plan.ts";
import { listWorkers, STORE_SCHEMA, type Db, type WorkerRow } from "./store.ts";

export interface ProviderProgress {
  provider: string;
  done: number;
  total: number;
  pausedUntil: Date | null;
}

/** Pure: the counts per provider. */
export function providerCounts(plan: QueuedAttempt[], resolved: ReadonlySet<string>): Map<string, { done: number; total: number }> {
  const out = new Map<string, { done: number; total: number }>();
  for (const a of plan) {
    const c = out.get(a.target.provider) ?? { done: 0, total: 0 };
    c.total++;
    if (resolved.has(a.job.run_key)) c.done++;
    out.set(a.target.provider, c);
  }
  return out;
}

/** Pure: one line for people. */
export function formatProgress(providers: ProviderProgress[], workers: WorkerRow[], now = Date.now()): string {
  const done = providers.reduce((n, p) => n + p.done, 0);
  const total = providers.reduce((n, p) => n + p.total, 0);
  const ps = providers.map((p) => `${p.provider} ${p.done}/${p.total}${p.pausedUntil ? ` (paused ${Math.ceil((p.pausedUntil.getTime() - now) / 1000)} s)` : ""}`);
  const ws = workers.map((w) => `${w.worker_id} [${w.provider}] ${w.state} ${w.running} running, ${w.done} done, seen ${Math.max(0, Math.round((now - new Date(w.last_seen).getTime()) / 1000))} s ago`);
  return `queue: ${done}/${total} results · ${ps.join(" · ")}${ws.length ? ` | workers: ${ws.join("; ")}` : " | no worker has connected yet"}`;
}

export async function renderQueueProgress(db: Db, plan: QueuedAttempt[], resolved: ReadonlySet<string>): Promise<string> {
  const counts = providerCounts(plan, resolved);
  const paused = new Map<string, Date>();
  const r = await db.query<{ provider: string; paused_until: Date | null }>(`SELECT provider, paused_until FROM ${STORE_SCHEMA}.provider_state WHERE paused_until > now()`);
  for (const row of r.rows) if (row.paused_until) paused.set(row.provider, row.paused_until);
  const providers = [...counts].map(([provider, c]) => ({ provider, ...c, pausedUntil: paused.get(provider) ?? null }));
  const workers = (await listWorkers(db)).filter((w) => counts.has(w.provider));
  return formatProgress(providers, workers);
}
