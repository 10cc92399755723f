// `cto-harness worker`: on a model host, takes queued runs for the ONE provider it serves,
// runs each through the public runOnce (the same run as `cto-harness run`), and submits the
// bundle to the database. Its endpoint comes from its own environment; the queue only names
// the provider. Model traffic is capped by --slots across every worker of the provider
// (ProviderSlots); pg-boss keeps the job's heartbeat while the run goes on.
//
// A finished run is classified (outcome.ts): a RESULT completes the job; a WORKER FAULT fails
// it, and pg-boss retries it (on any worker) within the retry budget; a PROVIDER FAULT (429,
// 5xx, refused) pauses the provider for every worker with backoff, and the job is run again
// here once the pause is over, until --provider-wait runs out.
import { hostname } from "node:os";
import { join } from "node:path";
import { rm } from "node:fs/promises";
import pg from "pg";
import type { PgBoss, JobWithMetadata } from "pg-boss";
import { resolveProvider, ConfigError, secretValuesInEnv } from "../config/providers.ts";
import { checkTablesForSecrets } from "./leak-check.ts";
import { loadFixture } from "../fixtures/load.ts";
import type { EngineName } from "../engines/types.ts";
import { ProbeCache } from "../provider/probe-cache.ts";
import { probeEndpoint } from "../provider/probe.ts";
import type { RunOnceFn } from "../loop/loop.ts";
import { QueueJob } from "./spec.ts";
import { classifyOutcome, type Outcome } from "./outcome.ts";
import { backoffMs, spreadOf, DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff.ts";
import { DEFAULT_TUNING, ensureRunQueue, startBoss, type QueueTuning } from "./boss.ts";
import { ensureSchema, insertSubmission, openDb, providerState, recordProviderFault, recordProviderSuccess, upsertWorker, type Db } from "./store.ts";
import { packBundle } from "./bundle-wire.ts";
import { ProviderSlots } from "./slots.ts";
import { cleanLeftovers, recordInflight } from "./leftovers.ts";
import { runFacts, sleepUntil } from "./worker-io.ts";
import { signingRefusal, type SigningKey } from "../attest/index.ts";

export interface WorkerOptions {
  queueUrl: string;
  provider: string;
  slots: number;
  /** Runs at once (agents, tests); model requests are capped separately by `slots`. */
  concurrency: number;
  workerId: string;
  /** This worker's own directory for run bundles and its state (`<runs-dir>/worker-<id>`). */
  stateDir: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  log: (line: string) => void;
  tuning?: QueueTuning;
  backoff?: BackoffPolicy;
  /** Longest a job waits, in all, for its provider to come back (seconds). */
  providerWaitSec?: number;
  /** Signs every bundle (`--key`): runOnce writes the attestation and hides the key from the agent. */
  signingKey?: SigningKey;
}

export interface WorkerDeps {
  runOnce: RunOnceFn;
}

interface WorkerState {
  running: number;
  done: number;
}

/** Fails with a clear reason before touching the queue when this host cannot serve the provider. */
export function assertServes(provider: string, env: NodeJS.ProcessEnv): void {
  const r = resolveProvider(provider, env);
  if (!r.ok) {
    const what = r.problem === "missing" ? "is not set" : "is not an http(s) URL";
    throw new ConfigError(`worker for provider ${provider}: ${r.missingVar} ${what} in this worker's environment; export it here (each worker reads its own endpoint, the queue never carries it)`);
  }
}

async function lockWorkerId(url: string, workerId: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: "cto-harness worker" });
  await client.connect();
  client.on("error", () => {});
  const r = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext($1)) AS ok", [`cto-worker:${workerId}`]);
  if (!r.rows[0]?.ok) {
    await client.end().catch(() => {});
    throw new ConfigError(`another worker with id '${workerId}' is connected to this queue; give this one its own --worker-id`);
  }
  return client;
}

export async function runWorker(opts: WorkerOptions, deps: WorkerDeps): Promise<void> {
  assertServes(opts.provider, opts.env);
  const tuning = opts.tuning ?? DEFAULT_TUNING;
  const lock = await lockWorkerId(opts.queueUrl, opts.workerId);
  const db = openDb(opts.queueUrl);
  let boss: PgBoss | null = null;
  const state: WorkerState = { running: 0, done: 0 };
  const startedAt = new Date();
  let beat: NodeJS.Timeout | null = null;
  try {
    const left = await cleanLeftovers(opts.stateDir);
    if (left.stillRunning) throw new ConfigError(`worker '${opts.workerId}': its previous process ${left.stillRunning} is still running; stop it first`);
    if (left.runs > 0) opts.log(`cleaned up after the previous process: ${left.runs} unfinished run(s), ${left.killed} leftover process(es) ended, ${left.removed.length} directory(ies) removed`);
    await ensureSchema(db);
    const leaks = await checkTablesForSecrets(db, secretValuesInEnv(opts.env));
    if (leaks.findings.length > 0) {
      throw new ConfigError(`the queue's tables hold this worker's endpoint or key (${leaks.findings.map((f) => `${f.table}: ${f.form}`).join("; ")}); stop every worker and coordinator, find how it got there, and clean the rows before going on`);
    }
    opts.log(`leak check of the queue's tables against this worker's endpoint: clean (${leaks.rows} rows in ${leaks.tables} tables)`);
    boss = await startBoss(opts.queueUrl, { onError: (e) => opts.log(`queue error: ${e.message}`) });
    const queue = await ensureRunQueue(boss, opts.provider, tuning);
    const slots = new ProviderSlots(lock, opts.provider, opts.slots);
    // The probe is model traffic too: each of its requests takes a slot like the agent's.
    const probeCache = new ProbeCache({ probe: (target, o) => probeEndpoint(target, { ...o, modelSlots: slots }) });
    const report = (s: string) => upsertWorker(db, { worker_id: opts.workerId, provider: opts.provider, slots: opts.slots, host: hostname(), pid: process.pid, running: state.running, done: state.done, state: s }, startedAt).catch(() => {});
    await report("idle");
    beat = setInterval(() => void report(state.running > 0 ? "running" : "idle"), 2000);
    const ctx: JobContext = { opts, deps, db, slots, probeCache, state, tuning, report, digests: new Map(), faulted: false };
    await boss.work<QueueJob>(queue, { localConcurrency: opts.concurrency, includeMetadata: true, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      for (const job of jobs) await handleJob(ctx, job as JobWithMetadata<QueueJob>);
    });
    opts.log(`worker ${opts.workerId} serving provider ${opts.provider} with ${opts.slots} slot(s), ${opts.concurrency} run(s) at once`);
    await new Promise<void>((resolve) => (opts.signal.aborted ? resolve() : opts.signal.addEventListener("abort", () => resolve(), { once: true })));
    opts.log("stopping: in-flight runs end interrupted and go back to the queue");
    await boss.offWork(queue).catch(() => {});
    await report("stopped");
  } finally {
    if (beat) clearInterval(beat);
    await boss?.stop({ graceful: true, timeout: 10_000 }).catch(() => {});
    await db.end().catch(() => {});
    await lock.end().catch(() => {});
  }
}

interface JobContext {
  opts: WorkerOptions;
  deps: WorkerDeps;
  db: Db;
  slots: ProviderSlots;
  probeCache: ProbeCache;
  state: WorkerState;
  tuning: QueueTuning;
  report: (s: string) => Promise<void>;
  digests: Map<string, string>;
  /** This worker recorded a fault of its provider since its last success (a success then clears it). */
  faulted: boolean;
}

/**
 * The digest of a fixture as this worker has it, loaded once: built-in fixtures do not change
 * under a running worker (if they did, its reports would carry the new digest and the
 * coordinator would refuse them).
 */
async function fixtureDigest(ctx: JobContext, ref: string): Promise<string> {
  let d = ctx.digests.get(ref);
  if (!d) {
    d = (await loadFixture(ref)).digest;
    ctx.digests.set(ref, d);
  }
  return d;
}

/** Throws to fail the job (pg-boss retries it); returns to complete it. */
async function handleJob(ctx: JobContext, job: JobWithMetadata<QueueJob>): Promise<void> {
  const { opts } = ctx;
  const parsed = QueueJob.safeParse(job.data);
  if (!parsed.success) throw new Error(`the job is not a ${"cto-harness/queue-job@1"} document: ${parsed.error.issues[0]?.message}`);
  const q = parsed.data;
  if (q.spec.provider !== opts.provider) throw new Error(`job for provider ${q.spec.provider} reached a worker of ${opts.provider}`);
  const ref = q.spec.variant ? `${q.spec.fixture_id}#${q.spec.variant}` : q.spec.fixture_id;
  const fixture = { digest: await fixtureDigest(ctx, ref) };
  if (fixture.digest !== q.spec.fixture_digest) throw new Error(`fixture ${q.spec.fixture_id} here has digest ${fixture.digest}, the loop expects ${q.spec.fixture_digest}: this worker runs another version of the harness's fixtures`);
  const refusal = opts.signingKey ? signingRefusal(q.spec.engine, q.spec.isolation) : null;
  if (refusal) throw new Error(`cannot sign this job's bundle: ${refusal}`);
  const deadline = Date.now() + (opts.providerWaitSec ?? 1800) * 1000;
  ctx.state.running++;
  opts.log(`started ${q.run_key} (${ref} × ${q.spec.engine} #${q.attempt}, try ${job.retryCount + 1})`);
  try {
    for (let pass = 1; ; pass++) {
      await waitForProvider(ctx, job.signal, deadline);
      const { outcome, submitted } = await runAndSubmit(ctx, job, q, ref, pass, deadline);
      opts.log(`${q.run_key} (${ref} × ${q.spec.engine} #${q.attempt}): ${submitted.status}${submitted.failure_reason ? ` (${submitted.failure_reason})` : ""} → ${outcome.kind === "result" ? "result" : outcome.kind.replace("_", " ") + ": " + outcome.reason}`);
      if (outcome.kind === "result" || submitted.final) return;
      if (outcome.kind === "worker_fault") throw new Error(`worker fault: ${outcome.reason}`);
      // provider fault: the pause is recorded; run again once it is over.
    }
  } finally {
    ctx.state.running--;
    ctx.state.done++;
    void ctx.report(ctx.state.running > 0 ? "running" : "idle");
  }
}

async function waitForProvider(ctx: JobContext, signal: AbortSignal, deadline: number): Promise<void> {
  for (;;) {
    const { pausedUntil: until, failures } = await providerState(ctx.db, ctx.opts.provider);
    // Faults recorded by any worker of the provider are cleared by the next run that gets through.
    ctx.faulted = failures > 0;
    if (!until) return;
    ctx.opts.log(`provider ${ctx.opts.provider} paused until ${until.toISOString()}`);
    await sleepUntil(Math.min(until.getTime(), deadline), [signal, ctx.opts.signal]);
    if (Date.now() >= deadline) return;
  }
}

async function runAndSubmit(ctx: JobContext, job: JobWithMetadata<QueueJob>, q: QueueJob, ref: string, pass: number, deadline: number) {
  const { opts } = ctx;
  // One runs directory per worker: runOnce names each run `<ts>-<fixture>-<pid>[-<n>]`, unique here.
  const runsDir = join(opts.stateDir, "runs");
  const inflight = await recordInflight(opts.stateDir, { job_id: `${job.id}-${job.retryCount}-${pass}`, pid: process.pid, started_at: new Date().toISOString() });
  const signal = AbortSignal.any([job.signal, opts.signal]);
  const { report, runDir } = await ctx.deps.runOnce({
    fixture: ref,
    engine: q.spec.engine as EngineName,
    provider: q.spec.provider,
    model: q.spec.model,
    runsDir,
    isolation: q.spec.isolation,
    budget: q.spec.budget,
    agentTimeoutSec: q.spec.agent_timeout_sec ?? undefined,
    env: opts.env,
    signal,
    modelSlots: ctx.slots,
    probeCache: ctx.probeCache,
    signingKey: opts.signingKey,
  });
  const outcome: Outcome = classifyOutcome(await runFacts(runDir, report));
  if (outcome.kind === "provider_fault") {
    await recordProviderFault(ctx.db, opts.provider, outcome.reason, (n) => backoffMs(n, opts.backoff ?? DEFAULT_BACKOFF, spreadOf(opts.workerId)));
    ctx.faulted = true;
  } else if (report.model_traffic && report.model_traffic.requests > 0 && ctx.faulted) {
    await recordProviderSuccess(ctx.db, opts.provider);
    ctx.faulted = false;
  }
  const final =
    outcome.kind === "result" ||
    (outcome.kind === "worker_fault" && job.retryCount >= job.retryLimit) ||
    (outcome.kind === "provider_fault" && Date.now() >= deadline);
  const submitted = {
    loop_id: q.loop_id, run_key: q.run_key, job_id: job.id, try: job.retryCount, worker_id: opts.workerId,
    run_id: report.run_id, status: report.status, failure_reason: report.failure_reason,
    outcome: outcome.kind, outcome_reason: outcome.kind === "result" ? null : outcome.reason, final,
  };
  // A run cut off because this worker lost its claim is not submitted: the job is already elsewhere.
  if (!job.signal.aborted) await insertSubmission(ctx.db, submitted, await packBundle(runDir));
  // The bundle is in the database now: the local copy goes (what is left here after a crash is a leftover).
  await rm(runDir, { recursive: true, force: true });
  await rm(inflight, { force: true });
  return { outcome, submitted };
}
