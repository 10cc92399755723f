// `cto-harness loop --queue URL`: the coordinator. It plans the loop (targets × fixtures ×
// engines × attempts, each with its run key), enqueues every key that has no accepted result
// (idempotent: the queue holds at most one queued-or-active job per key), then accepts the
// bundles workers submit — one per key, after verification — until every key has its result,
// the deadline passes, or it is stopped. The workers do not need it: killed, it loses
// nothing, and `--resume` picks up the submissions that arrived meanwhile. The loop directory
// looks like a local loop's (loop.json, attempts.jsonl, summary.json/.md, one directory per
// accepted run), so `verify`, `sot check` and the viewer read it unchanged.
import { appendFile, mkdir, rename, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import type { PgBoss } from "pg-boss";
import { writeJsonAtomic } from "../evidence/files.ts";
import { secretValuesInEnv } from "../config/providers.ts";
import { HARNESS_VERSION } from "../version.ts";
import { LOOP_SCHEMA, configHash, type LoopConfig, type LoopSettings } from "../loop/config.ts";
import { assertSameConfig, createLoopDir, readLoopFile, LoopConfigMismatch, ATTEMPTS_FILE, type LoopFile, type VerifyFn } from "../loop/loop.ts";
import { summarise, type AttemptRecord, type LoopSummary } from "../loop/summary.ts";
import { renderJunit, renderMarkdown } from "../loop/render.ts";
import { attemptsToEnqueue, planQueuedAttempts, type FixtureRef, type QueuedAttempt, type Target } from "./plan.ts";
import { queueName, singletonKey } from "./spec.ts";
import { DEFAULT_TUNING, ensureRunQueue, startBoss, type QueueTuning } from "./boss.ts";
import { acceptResult, acceptedResults, ensureSchema, openDb, pendingSubmissions, recordLoop, setVerdict, submissionFiles, type Db } from "./store.ts";
import { judgeSubmission } from "./accept.ts";
import type { BundleTrust } from "./trust.ts";
import { renderQueueProgress } from "./progress.ts";

export interface QueuedLoopOptions {
  config: LoopConfig & { targets: Target[] };
  fixtures: FixtureRef[];
  settings: LoopSettings;
  runsDir: string;
  loopDir?: string;
  resumeDir?: string;
  queueUrl: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** Stop waiting after this many seconds (jobs stay queued; --resume collects them). */
  deadlineSec: number;
  junitFile?: string;
  trust: BundleTrust | null;
  /** Signs a loop-level statement over every manifest (`--key`). */
  signLoop?: (loopDir: string) => Promise<void>;
  tuning?: QueueTuning;
  progressEveryMs?: number;
}

export interface QueuedLoopDeps {
  verifyBundle: VerifyFn;
}

interface Book {
  plan: QueuedAttempt[];
  byKey: Map<string, QueuedAttempt>;
  records: Map<string, AttemptRecord>;
  /** Keys whose result is in (accepted now or earlier), or given up on. */
  resolved: Set<string>;
}

function engineLabel(a: QueuedAttempt, targets: Target[]): string {
  return targets.length > 1 ? `${a.engine}@${a.target.provider}` : a.engine;
}

function newBook(plan: QueuedAttempt[], targets: Target[]): Book {
  const records = new Map<string, AttemptRecord>();
  for (const a of plan) {
    records.set(a.job.run_key, { fixture: a.fixture, engine: engineLabel(a, targets), attempt: a.attempt, run_id: null, status: "not_run", failure_reason: null, duration_ms: null, resumed: false, superseded: [] });
  }
  return { plan, byKey: new Map(plan.map((a) => [a.job.run_key, a])), records, resolved: new Set() };
}

async function openLoopDir(opts: QueuedLoopOptions, db: Db, startedAt: Date): Promise<{ loopDir: string; loopId: string }> {
  const hash = configHash(opts.config);
  if (opts.resumeDir) {
    const stored = await readLoopFile(opts.resumeDir);
    assertSameConfig(stored, opts.config);
    if (!stored.queue?.loop_id) throw new LoopConfigMismatch(["queue"], `${opts.resumeDir} is a local loop, not a queued one; resume it without --queue`);
    const inDb = await recordLoop(db, stored.queue.loop_id, stored.config, stored.config_hash);
    if (inDb.config_hash !== hash) throw new LoopConfigMismatch(["config_hash"], `cannot resume: the queue holds loop ${stored.queue.loop_id} with another configuration (${inDb.config_hash}); run without --resume for a new loop`);
    await writeJsonAtomic(join(opts.resumeDir, "loop.json"), { ...stored, resumed_at: [...(stored.resumed_at ?? []), startedAt.toISOString()] } satisfies LoopFile);
    return { loopDir: opts.resumeDir, loopId: stored.queue.loop_id };
  }
  const loopDir = opts.loopDir ?? (await createLoopDir(opts.runsDir, startedAt));
  await mkdir(loopDir, { recursive: true });
  const loopId = randomUUID();
  const file: LoopFile = { schema: LOOP_SCHEMA, harness_version: HARNESS_VERSION, created_at: startedAt.toISOString(), config: opts.config, config_hash: hash, settings: opts.settings, queue: { loop_id: loopId } };
  await writeJsonAtomic(join(loopDir, "loop.json"), file);
  await recordLoop(db, loopId, opts.config, hash);
  return { loopDir, loopId };
}

export async function runQueuedLoop(opts: QueuedLoopOptions, deps: QueuedLoopDeps): Promise<{ summary: LoopSummary; loopDir: string }> {
  const startedAt = new Date();
  const db = openDb(opts.queueUrl);
  let boss: PgBoss | null = null;
  try {
    await ensureSchema(db);
    const { loopDir, loopId } = await openLoopDir(opts, db, startedAt);
    const c = opts.config;
    const plan = planQueuedAttempts({ loopId, targets: c.targets, fixtures: opts.fixtures, engines: c.engines, attempts: c.attempts, budget: c.budget, agentTimeoutSec: c.agent_timeout_sec, isolation: c.isolation });
    const book = newBook(plan, c.targets);
    for (const r of await acceptedResults(db, loopId)) {
      // Killed between recording an acceptance and moving the bundle into place: finish the move.
      const finalDir = join(loopDir, r.run_id);
      const incoming = join(loopDir, ".incoming", String(r.submission_id), r.run_id);
      if (!existsSync(finalDir) && existsSync(incoming)) await rename(incoming, finalDir);
      markAccepted(book, r.run_key, r.run_id, r.status, r.failure_reason, true);
    }
    boss = await startBoss(opts.queueUrl, { onError: (e) => opts.log(`queue error: ${e.message}`) });
    for (const t of c.targets) await ensureRunQueue(boss, t.provider, opts.tuning ?? DEFAULT_TUNING);
    // Bundles that arrived while no coordinator ran are judged first: a key whose job already
    // finished must not be enqueued again (the queue would take it: its job is no longer live).
    await acceptPending(opts, deps, db, boss, book, loopDir, loopId, secretValuesInEnv(opts.env));
    const waiting = new Set((await pendingSubmissions(db, loopId)).map((x) => x.run_key));
    const todo = attemptsToEnqueue(plan, new Set([...book.resolved, ...waiting]));
    let fresh = 0;
    for (const a of todo) if (await boss.send(queueName(a.target.provider), a.job, { singletonKey: singletonKey(loopId, a.job.run_key) })) fresh++;
    opts.log(`loop ${loopDir}: ${plan.length} run(s), ${plan.length - todo.length} already accepted, ${fresh} enqueued now, ${todo.length - fresh} already in the queue`);
    const interrupted = await collect(opts, deps, db, boss, book, loopDir, loopId);
    const summary = await finish(opts, book, loopDir, startedAt, interrupted);
    return { summary, loopDir };
  } finally {
    await boss?.stop({ graceful: false, timeout: 5_000 }).catch(() => {});
    await db.end().catch(() => {});
  }
}

function markAccepted(book: Book, key: string, runId: string, status: string, reason: string | null, resumed: boolean): void {
  const rec = book.records.get(key);
  if (!rec) return;
  rec.run_id = runId;
  rec.status = status as AttemptRecord["status"];
  rec.failure_reason = reason;
  rec.resumed = resumed;
  book.resolved.add(key);
}

/** Accepts submissions until every key is resolved; true when it stopped early (deadline, signal). */
async function collect(opts: QueuedLoopOptions, deps: QueuedLoopDeps, db: Db, boss: PgBoss, book: Book, loopDir: string, loopId: string): Promise<boolean> {
  const deadline = Date.now() + opts.deadlineSec * 1000;
  const secrets = secretValuesInEnv(opts.env);
  let lastProgress = 0;
  let lastLostCheck = Date.now();
  while (book.resolved.size < book.plan.length) {
    if (opts.signal?.aborted) return true;
    if (Date.now() >= deadline) {
      opts.log(`deadline of ${opts.deadlineSec} s reached with ${book.plan.length - book.resolved.size} run(s) outstanding; they stay queued: --resume collects them`);
      return true;
    }
    await acceptPending(opts, deps, db, boss, book, loopDir, loopId, secrets);
    if (Date.now() - lastLostCheck >= 3000) {
      lastLostCheck = Date.now();
      await giveUpOnLost(db, boss, book, loopId, opts.log);
    }
    if (Date.now() - lastProgress >= (opts.progressEveryMs ?? 5000)) {
      lastProgress = Date.now();
      opts.log(await renderQueueProgress(db, book.plan, book.resolved));
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Judges every submission not judged yet: accepted (one per key), not counted (a fault), or rejected and run again. */
async function acceptPending(opts: QueuedLoopOptions, deps: QueuedLoopDeps, db: Db, boss: PgBoss, book: Book, loopDir: string, loopId: string, secrets: string[]): Promise<void> {
  for (const s of await pendingSubmissions(db, loopId)) {
    const files = await submissionFiles(db, s.id);
    const v = await judgeSubmission(s, files, loopDir, book.byKey.get(s.run_key), { verifyBundle: deps.verifyBundle, trust: opts.trust, secrets });
    const rec = book.records.get(s.run_key);
    if (v.verdict === "accept") {
      const verdict = await acceptResult(db, s, v.runId, v.finalDir);
      if (verdict === "accepted") {
        await rename(v.dir, v.finalDir);
        markAccepted(book, s.run_key, v.runId, v.report.status, v.report.failure_reason, false);
        await appendFile(join(loopDir, ATTEMPTS_FILE), JSON.stringify({ key: s.run_key, fixture: rec?.fixture, engine: rec?.engine, attempt: rec?.attempt, run_id: v.runId, status: v.report.status, failure_reason: v.report.failure_reason, duration_ms: v.report.timings?.total_ms ?? 0, impossible: null, finished_at: new Date().toISOString(), worker: s.worker_id }) + "\n");
      } else rec?.superseded.push({ run_id: `.incoming/${s.id}/${v.runId}`, reason: "duplicate: the run key already had an accepted result" });
    } else {
      await setVerdict(db, s.id, v.verdict === "retry" ? "retried" : "rejected", v.reason, v.dir);
      if (v.runId) rec?.superseded.push({ run_id: v.runId, reason: v.reason });
      opts.log(`${v.verdict === "retry" ? "not counted" : "REJECTED"}: submission ${s.id} of ${s.run_key} from worker ${s.worker_id}: ${v.reason}`);
      if (v.verdict === "reject") await requeue(boss, book, loopId, s.run_key, opts.log);
    }
  }
}

/** A rejected bundle does not count; the key is run again (at most 3 rejections, then an error). */
async function requeue(boss: PgBoss, book: Book, loopId: string, key: string, log: (l: string) => void): Promise<void> {
  const a = book.byKey.get(key);
  const rec = book.records.get(key);
  if (!a || !rec) return;
  const rejections = rec.superseded.filter((x) => !x.reason.startsWith("duplicate") && !x.reason.startsWith("provider fault") && !x.reason.startsWith("worker fault")).length;
  if (rejections >= 3) {
    rec.status = "error";
    rec.failure_reason = "harness error";
    book.resolved.add(key);
    log(`${key}: three bundles rejected; recorded as a harness error`);
    return;
  }
  await boss.send(queueName(a.target.provider), a.job, { singletonKey: singletonKey(loopId, key) });
}

/** Keys whose job failed for good without a bundle (every worker that took it died): errors, re-run by --resume. */
async function giveUpOnLost(db: Db, boss: PgBoss, book: Book, loopId: string, log: (l: string) => void): Promise<void> {
  const providers = [...new Set(book.plan.map((a) => a.target.provider))];
  const live = new Set<string>();
  const failed = new Set<string>();
  for (const p of providers) {
    for (const j of await boss.findJobs<{ run_key?: string }>(queueName(p), { data: { loop_id: loopId }, limit: 100_000 })) {
      const key = j.data?.run_key;
      if (!key) continue;
      if (j.state === "failed" || j.state === "cancelled") failed.add(key);
      else if (j.state !== "completed") live.add(key);
    }
  }
  if (failed.size === 0) return;
  const pending = new Set((await pendingSubmissions(db, loopId)).map((s) => s.run_key));
  for (const key of failed) {
    if (book.resolved.has(key) || live.has(key) || pending.has(key)) continue;
    const rec = book.records.get(key);
    if (!rec) continue;
    rec.status = "error";
    rec.failure_reason = "harness error";
    rec.superseded.push({ run_id: "-", reason: "retries exhausted: the workers that took it stopped beating; --resume runs it again" });
    book.resolved.add(key);
    log(`${key}: its job failed on every retry without a bundle; recorded as an error (--resume runs it again)`);
  }
}

async function finish(opts: QueuedLoopOptions, book: Book, loopDir: string, startedAt: Date, interrupted: boolean): Promise<LoopSummary> {
  const summary = summarise({
    loopDir,
    config: opts.config,
    configHash: configHash(opts.config),
    settings: opts.settings,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    interrupted,
    attempts: book.plan.map((a) => book.records.get(a.job.run_key)!),
    unmatchedRunDirs: [],
  });
  await writeJsonAtomic(join(loopDir, "summary.json"), summary);
  await writeFile(join(loopDir, "summary.md"), renderMarkdown(summary));
  if (opts.junitFile) await writeFile(opts.junitFile, renderJunit(summary));
  if (opts.signLoop) await opts.signLoop(loopDir);
  return summary;
}
