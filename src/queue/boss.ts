// pg-boss, as the harness uses it: its own schema, one queue per provider with the
// `exclusive` policy (at most one queued-or-active job per singleton key = loop + run key, so
// enqueueing twice is a no-op), a heartbeat on every job (a worker that stops beating has its
// job failed and retried elsewhere), and a small retry budget for infrastructure faults.
import { PgBoss } from "pg-boss";
import { queueName } from "./spec.ts";

export const BOSS_SCHEMA = "cto_boss";

export interface QueueTuning {
  /** A job whose worker has not beaten for this long is failed and retried (pg-boss minimum 10). */
  heartbeatSeconds: number;
  /** Retries after infrastructure faults (worker died, harness error); results are never retried. */
  retryLimit: number;
  /** Hard deadline of one job, whatever its heartbeat says. */
  expireInSeconds: number;
}

export const DEFAULT_TUNING: QueueTuning = { heartbeatSeconds: 10, retryLimit: 3, expireInSeconds: 4 * 3600 };

export async function startBoss(url: string, opts: { superviseSeconds?: number; onError?: (e: Error) => void } = {}): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    schema: BOSS_SCHEMA,
    application_name: "cto-harness",
    // Every instance (workers and coordinator) supervises, so a dead worker's job is noticed
    // even while the coordinator is down.
    superviseIntervalSeconds: opts.superviseSeconds ?? 2,
    monitorIntervalSeconds: 5,
    max: 4,
  });
  boss.on("error", (e: Error) => opts.onError?.(e));
  await boss.start();
  return boss;
}

export async function ensureRunQueue(boss: PgBoss, provider: string, t: QueueTuning = DEFAULT_TUNING): Promise<string> {
  const name = queueName(provider);
  const existing = await boss.getQueue(name);
  const options = {
    policy: "exclusive" as const,
    heartbeatSeconds: t.heartbeatSeconds,
    retryLimit: t.retryLimit,
    retryDelay: 1,
    expireInSeconds: t.expireInSeconds,
    deleteAfterSeconds: 7 * 24 * 3600,
  };
  if (!existing) await boss.createQueue(name, options).catch(async (e) => {
    // Two processes creating it at once: fine if it exists now.
    if (!(await boss.getQueue(name))) throw e;
  });
  return name;
}
