// The harness's own tables beside pg-boss's (schema cto_harness): the loop's configuration,
// every bundle a worker submitted (with its files), the ONE accepted result per run key
// (primary key: loop + run key), each provider's pause, and each worker's last sign of life.
// Nothing here holds an endpoint URL or key: providers are names (docs/scaling.md).
import pg from "pg";
import type { WireFile } from "./bundle-wire.ts";

export const STORE_SCHEMA = "cto_harness";

const DDL = `
CREATE SCHEMA IF NOT EXISTS ${STORE_SCHEMA};
CREATE TABLE IF NOT EXISTS ${STORE_SCHEMA}.loops (
  loop_id uuid PRIMARY KEY, config jsonb NOT NULL, config_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS ${STORE_SCHEMA}.submissions (
  id bigserial PRIMARY KEY, loop_id uuid NOT NULL, run_key text NOT NULL, job_id text NOT NULL,
  try int NOT NULL, worker_id text NOT NULL, run_id text NOT NULL, status text NOT NULL,
  failure_reason text, outcome text NOT NULL, outcome_reason text, final boolean NOT NULL,
  submitted_at timestamptz NOT NULL DEFAULT now(),
  verdict text, verdict_reason text, local_dir text);
CREATE INDEX IF NOT EXISTS submissions_pending ON ${STORE_SCHEMA}.submissions (loop_id) WHERE verdict IS NULL;
CREATE TABLE IF NOT EXISTS ${STORE_SCHEMA}.bundle_files (
  submission_id bigint NOT NULL REFERENCES ${STORE_SCHEMA}.submissions(id) ON DELETE CASCADE,
  path text NOT NULL, kind text NOT NULL, content bytea NOT NULL, PRIMARY KEY (submission_id, path));
CREATE TABLE IF NOT EXISTS ${STORE_SCHEMA}.results (
  loop_id uuid NOT NULL, run_key text NOT NULL, submission_id bigint NOT NULL,
  run_id text NOT NULL, status text NOT NULL, failure_reason text, worker_id text NOT NULL,
  accepted_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (loop_id, run_key));
CREATE TABLE IF NOT EXISTS ${STORE_SCHEMA}.provider_state (
  provider text PRIMARY KEY, failures int NOT NULL DEFAULT 0, paused_until timestamptz,
  last_reason text, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS ${STORE_SCHEMA}.workers (
  worker_id text PRIMARY KEY, provider text NOT NULL, slots int NOT NULL, host text NOT NULL,
  pid int NOT NULL, started_at timestamptz NOT NULL, last_seen timestamptz NOT NULL,
  running int NOT NULL DEFAULT 0, done int NOT NULL DEFAULT 0, state text NOT NULL);
`;

export type Db = pg.Pool;

export function openDb(url: string, max = 4): Db {
  const pool = new pg.Pool({ connectionString: url, max, application_name: "cto-harness" });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on("error", () => {});
  return pool;
}

/** Creates the tables once; concurrent callers serialise on an advisory lock. */
export async function ensureSchema(db: Db): Promise<void> {
  const c = await db.connect();
  try {
    await c.query("SELECT pg_advisory_lock(hashtext('cto_harness.schema'))");
    await c.query(DDL);
  } finally {
    await c.query("SELECT pg_advisory_unlock(hashtext('cto_harness.schema'))").catch(() => {});
    c.release();
  }
}

export interface SubmissionRow {
  loop_id: string;
  run_key: string;
  job_id: string;
  try: number;
  worker_id: string;
  run_id: string;
  status: string;
  failure_reason: string | null;
  outcome: string;
  outcome_reason: string | null;
  final: boolean;
}

/** Runs `work` in one transaction on one pooled connection: all of it, or nothing. */
async function inTransaction<T>(db: Db, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await db.connect();
  try {
    await c.query("BEGIN");
    const result = await work(c);
    await c.query("COMMIT");
    return result;
  } catch (e) {
    await c.query("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}

/** One transaction: the submission and all its files, or nothing. */
export async function insertSubmission(db: Db, s: SubmissionRow, files: WireFile[]): Promise<number> {
  return inTransaction(db, async (c) => {
    const r = await c.query<{ id: string }>(
      `INSERT INTO ${STORE_SCHEMA}.submissions (loop_id, run_key, job_id, try, worker_id, run_id, status, failure_reason, outcome, outcome_reason, final)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id`,
      [s.loop_id, s.run_key, s.job_id, s.try, s.worker_id, s.run_id, s.status, s.failure_reason, s.outcome, s.outcome_reason, s.final],
    );
    const id = Number(r.rows[0]!.id);
    // One statement for all the files: a bundle is dozens of small files, and round trips are the cost.
    if (files.length > 0) {
      await c.query(
        `INSERT INTO ${STORE_SCHEMA}.bundle_files (submission_id, path, kind, content) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bytea[])`,
        [id, files.map((f) => f.path), files.map((f) => f.kind), files.map((f) => f.content)],
      );
    }
    return id;
  });
}

export interface PendingSubmission extends SubmissionRow {
  id: number;
}

export async function pendingSubmissions(db: Db, loopId: string): Promise<PendingSubmission[]> {
  const r = await db.query(`SELECT * FROM ${STORE_SCHEMA}.submissions WHERE loop_id = $1 AND verdict IS NULL ORDER BY id`, [loopId]);
  return r.rows.map((row) => ({ ...row, id: Number(row.id) }));
}

export async function submissionFiles(db: Db, id: number): Promise<WireFile[]> {
  const r = await db.query<WireFile>(`SELECT path, kind, content FROM ${STORE_SCHEMA}.bundle_files WHERE submission_id = $1 ORDER BY path`, [id]);
  return r.rows;
}

/**
 * Accepts a verified submission as its key's result unless the key already has one: the
 * primary key makes "exactly one accepted result per run key" a property of the database.
 */
export async function acceptResult(db: Db, s: PendingSubmission, runId: string, localDir: string): Promise<"accepted" | "duplicate"> {
  return inTransaction(db, async (c) => {
    const ins = await c.query(
      `INSERT INTO ${STORE_SCHEMA}.results (loop_id, run_key, submission_id, run_id, status, failure_reason, worker_id)
       VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (loop_id, run_key) DO NOTHING`,
      [s.loop_id, s.run_key, s.id, runId, s.status, s.failure_reason, s.worker_id],
    );
    const verdict = ins.rowCount === 1 ? "accepted" : "duplicate";
    await c.query(`UPDATE ${STORE_SCHEMA}.submissions SET verdict = $2, verdict_reason = $3, local_dir = $4 WHERE id = $1`, [
      s.id, verdict, verdict === "duplicate" ? "the run key already has an accepted result" : null, localDir,
    ]);
    return verdict;
  });
}

export async function setVerdict(db: Db, id: number, verdict: "rejected" | "retried", reason: string, localDir: string | null): Promise<void> {
  await db.query(`UPDATE ${STORE_SCHEMA}.submissions SET verdict = $2, verdict_reason = $3, local_dir = $4 WHERE id = $1`, [id, verdict, reason, localDir]);
}

export interface ResultRow {
  run_key: string;
  submission_id: number;
  run_id: string;
  status: string;
  failure_reason: string | null;
  worker_id: string;
  local_dir: string | null;
}

export async function acceptedResults(db: Db, loopId: string): Promise<ResultRow[]> {
  const r = await db.query(
    `SELECT r.run_key, r.submission_id, r.run_id, r.status, r.failure_reason, r.worker_id, s.local_dir
       FROM ${STORE_SCHEMA}.results r JOIN ${STORE_SCHEMA}.submissions s ON s.id = r.submission_id WHERE r.loop_id = $1`,
    [loopId],
  );
  return r.rows.map((row) => ({ ...row, submission_id: Number(row.submission_id) }));
}

export async function recordLoop(db: Db, loopId: string, config: unknown, configHash: string): Promise<{ config_hash: string }> {
  await db.query(`INSERT INTO ${STORE_SCHEMA}.loops (loop_id, config, config_hash) VALUES ($1,$2,$3) ON CONFLICT (loop_id) DO NOTHING`, [loopId, JSON.stringify(config), configHash]);
  const r = await db.query<{ config_hash: string }>(`SELECT config_hash FROM ${STORE_SCHEMA}.loops WHERE loop_id = $1`, [loopId]);
  return r.rows[0]!;
}

// ── providers: the pause after 429/5xx/refused connections ─────────────────────────────────

/** The pause still ahead (null when none) and the count of consecutive faults. */
export async function providerState(db: Db, provider: string): Promise<{ pausedUntil: Date | null; failures: number }> {
  const r = await db.query<{ paused_until: Date | null; failures: number }>(`SELECT paused_until, failures FROM ${STORE_SCHEMA}.provider_state WHERE provider = $1`, [provider]);
  const until = r.rows[0]?.paused_until ?? null;
  return { pausedUntil: until && until.getTime() > Date.now() ? until : null, failures: r.rows[0]?.failures ?? 0 };
}

export async function providerPausedUntil(db: Db, provider: string): Promise<Date | null> {
  return (await providerState(db, provider)).pausedUntil;
}

/** One more consecutive fault: returns the count, and the caller computes and stores the pause. */
export async function recordProviderFault(db: Db, provider: string, reason: string, pauseFor: (failures: number) => number): Promise<{ failures: number; pausedUntil: Date }> {
  const r = await db.query<{ failures: number }>(
    `INSERT INTO ${STORE_SCHEMA}.provider_state (provider, failures, last_reason) VALUES ($1, 1, $2)
     ON CONFLICT (provider) DO UPDATE SET failures = provider_state.failures + 1, last_reason = $2, updated_at = now()
     RETURNING failures`,
    [provider, reason],
  );
  const failures = r.rows[0]!.failures;
  const pausedUntil = new Date(Date.now() + pauseFor(failures));
  await db.query(`UPDATE ${STORE_SCHEMA}.provider_state SET paused_until = GREATEST(COALESCE(paused_until, $2), $2) WHERE provider = $1`, [provider, pausedUntil]);
  return { failures, pausedUntil };
}

export async function recordProviderSuccess(db: Db, provider: string): Promise<void> {
  await db.query(`UPDATE ${STORE_SCHEMA}.provider_state SET failures = 0, paused_until = NULL, updated_at = now() WHERE provider = $1 AND failures > 0`, [provider]);
}

// ── workers: progress and liveness for the coordinator's display ───────────────────────────

export interface WorkerRow {
  worker_id: string;
  provider: string;
  slots: number;
  host: string;
  pid: number;
  running: number;
  done: number;
  state: string;
  last_seen: Date;
}

export async function upsertWorker(db: Db, w: Omit<WorkerRow, "last_seen">, startedAt: Date): Promise<void> {
  await db.query(
    `INSERT INTO ${STORE_SCHEMA}.workers (worker_id, provider, slots, host, pid, started_at, last_seen, running, done, state)
     VALUES ($1,$2,$3,$4,$5,$6,now(),$7,$8,$9)
     ON CONFLICT (worker_id) DO UPDATE SET provider=$2, slots=$3, host=$4, pid=$5, started_at=$6, last_seen=now(), running=$7, done=$8, state=$9`,
    [w.worker_id, w.provider, w.slots, w.host, w.pid, startedAt, w.running, w.done, w.state],
  );
}

export async function listWorkers(db: Db): Promise<WorkerRow[]> {
  return (await db.query<WorkerRow>(`SELECT worker_id, provider, slots, host, pid, running, done, state, last_seen FROM ${STORE_SCHEMA}.workers ORDER BY worker_id`)).rows;
}
