// The job queue (src/queue) against a local loop, on a real PostgreSQL with real pg-boss,
// real workers (in this process: runWorker), real bundle transfer, verification and acceptance.
// The run itself is a stand-in, so the numbers are the queue's own:
//  - dispatch: 20 runs that each take 1 s, one worker, vs the same runs in a local loop:
//    (queued wall − local wall) / runs = what the queue adds per run with its start-up shared
//    out, and the steady state, (last − first acceptance) / (runs − 1) − 1 s (target ≤ 50 ms);
//  - throughput: 24 runs, each one model request (1.5 s to first token) to a paced simulated
//    server through the worker's provider slots (1 slot), spread over 1, 2 and 3 providers
//    with one worker each (targets ≥ 1.8× and ≥ 2.6× of one worker).
// The stand-in is honest about what it skips: the agent, the judge and the sandbox cost CPU,
// and on one 2-core machine three real runs at once are CPU-bound; on several Sparks each
// worker has its own machine, which is what this measures.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { openDb } from "../src/queue/store.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestPostgres } from "../test/helpers/postgres.ts";
import { passReport, writeBundle } from "../test/data/make-bundle.ts";
import { startSimulator, type SimServer } from "../src/sim/server.ts";
import { loadFixture } from "../src/fixtures/load.ts";
import { verifyBundle } from "../src/evidence/verify.ts";
import { resolveProvider } from "../src/config/providers.ts";
import { runLoop, type RunOnceFn } from "../src/loop/loop.ts";
import { spawn } from "node:child_process";
import { runQueuedLoop } from "../src/queue/coordinator.ts";
import type { Target } from "../src/queue/plan.ts";

const MODEL = "qwen3.6-35b-a3b";
const WORKER = new URL("_queue-worker.ts", import.meta.url).pathname;
const FIXTURE = "r1-string-slugify";
const DISPATCH_RUNS = Number(process.env.BENCH_QUEUE_RUNS ?? 20);
export const RUN_MS = 1000;
const THROUGHPUT_RUNS = 24;
const TTFT_MS = 1500;

/** A stand-in run: a valid bundle of the job asked for, after `work` (sleep or a model request). */
export function standIn(digest: string, work: (o: Parameters<RunOnceFn>[0]) => Promise<void>): RunOnceFn {
  let n = 0;
  return async (o) => {
    await work(o);
    const runId = `20261201T000000Z-${FIXTURE}-${process.pid}-${++n}-${o.provider}`;
    const report = passReport(runId, { fixture: { id: FIXTURE, digest }, backend: o.engine, case_model_provider: o.provider, case_model: o.model, endpoint_kind: "simulated" });
    const runDir = join(o.runsDir, runId);
    await writeBundle(runDir, report);
    return { report, runDir };
  };
}

export async function oneModelRequest(o: Parameters<RunOnceFn>[0]): Promise<void> {
  const p = resolveProvider(o.provider, o.env);
  if (!p.ok || !p.baseUrl) throw new Error(`bench: provider ${o.provider} not configured`);
  const release = await o.modelSlots!.acquire();
  try {
    const r = await fetch(`${p.baseUrl.reveal()}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "2+2?" }], max_tokens: 64 }) });
    await r.text();
  } finally {
    release();
  }
}

/** Wall time of the loop (coordinator start to summary), and the steady state: first to last acceptance. */
async function queued(url: string, dir: string, targets: Target[], attempts: number, mode: "sleep" | "model", env: NodeJS.ProcessEnv, digest: string): Promise<{ wall: number; steady: number }> {
  // Workers are processes of their own, as on separate machines (the coordinator's checks do not share their event loop).
  const workers = targets.map((t, i) =>
    spawn(process.execPath, ["--disable-warning=ExperimentalWarning", WORKER, JSON.stringify({ url, provider: t.provider, workerId: `bench-${i}-${t.provider}`, stateDir: join(dir, `w${i}`), digest, mode })], { stdio: ["ignore", "ignore", "inherit"], env: { PATH: process.env.PATH, TMPDIR: process.env.TMPDIR, ...env } }),
  );
  // Timed from when every worker is up (connected, cleaned, serving), as on machines that were already running.
  const ids = targets.map((t, i) => `bench-${i}-${t.provider}`);
  const since = new Date();
  const probe = openDb(url);
  try {
    for (let ready = false; !ready; await new Promise((r) => setTimeout(r, 100))) {
      const r = await probe.query<{ n: string }>("SELECT count(*) AS n FROM cto_harness.workers WHERE worker_id = ANY($1) AND state = 'idle' AND started_at >= $2", [ids, since]).catch(() => ({ rows: [{ n: "0" }] }));
      ready = Number(r.rows[0]!.n) === ids.length;
    }
  } finally {
    await probe.end();
  }
  const t0 = performance.now();
  const { summary, loopDir } = await runQueuedLoop(
    {
      config: { fixtures: [FIXTURE], engines: ["fake-oracle"], attempts, provider: targets[0]!.provider, model: MODEL, isolation: "bwrap", budget: 1024, agent_timeout_sec: null, targets },
      fixtures: [{ id: FIXTURE, digest, variant: null, label: FIXTURE }],
      settings: { concurrency: 1, model_concurrency: 1 },
      runsDir: join(dir, "coord"),
      queueUrl: url,
      env: {},
      log: () => {},
      deadlineSec: 600,
      trust: null,
      progressEveryMs: 60_000,
    },
    { verifyBundle },
  );
  const wall = performance.now() - t0;
  await Promise.all(workers.map((w) => new Promise((r) => (w.once("exit", r), w.kill("SIGTERM")))));
  if (summary.counts.pass !== targets.length * attempts) throw new Error(`bench: ${summary.counts.pass} of ${targets.length * attempts} runs passed`);
  const loopId = (JSON.parse(await readFile(join(loopDir, "loop.json"), "utf8")) as { queue: { loop_id: string } }).queue.loop_id;
  const db = openDb(url);
  try {
    const r = await db.query<{ a: Date; b: Date }>("SELECT min(accepted_at) AS a, max(accepted_at) AS b FROM cto_harness.results WHERE loop_id = $1", [loopId]);
    return { wall, steady: r.rows[0]!.b.getTime() - r.rows[0]!.a.getTime() };
  } finally {
    await db.end();
  }
}

export async function bench(): Promise<object> {
  const pg = startTestPostgres();
  const dir = await mkdtemp(join(tmpdir(), "bench-queue-"));
  const cwd = process.cwd();
  const sims: SimServer[] = [];
  try {
    const digest = (await loadFixture(FIXTURE)).digest;
    // Dispatch overhead: the same 1 s runs, locally and through the queue.
    const sleepRun = standIn(digest, () => new Promise((r) => setTimeout(r, RUN_MS)));
    let t0 = performance.now();
    await runLoop({ config: { fixtures: [FIXTURE], engines: ["fake-oracle"], attempts: DISPATCH_RUNS, provider: "sim", model: MODEL, isolation: "bwrap", budget: 1024, agent_timeout_sec: null }, settings: { concurrency: 1, model_concurrency: 1 }, runsDir: join(dir, "local"), env: {} }, { runOnce: sleepRun, verifyBundle });
    const localMs = performance.now() - t0;
    const q = await queued(pg.url, join(dir, "dispatch"), [{ provider: "sim", model: MODEL }], DISPATCH_RUNS, "sleep", {}, digest);
    const queueMs = q.wall;
    const overhead = (queueMs - localMs) / DISPATCH_RUNS;
    // Between two acceptances a worker ran one 1 s run: the rest is what the queue adds per run.
    const steadyOverhead = q.steady / (DISPATCH_RUNS - 1) - RUN_MS;

    // Throughput over 1, 2, 3 providers (paced simulated servers, one worker and one slot each).
    const env: NodeJS.ProcessEnv = {};
    let yaml = "providers:\n";
    for (let i = 1; i <= 3; i++) {
      const sim = await startSimulator({ scenario: "V1", ttftMs: TTFT_MS });
      sims.push(sim);
      env[`BENCH_SPARK${i}_URL`] = sim.baseUrl;
      yaml += `  spark-${i}:\n    url_env: BENCH_SPARK${i}_URL\n`;
    }
    await writeFile(join(dir, "cto-harness.config.yaml"), yaml);
    process.chdir(dir); // providers are declared in the working directory's config file
    const throughput: Record<string, { wall_ms: number; runs_per_min: number; speedup: number; steady_ms: number; steady_speedup: number }> = {};
    for (const k of [1, 2, 3]) {
      const targets = Array.from({ length: k }, (_, i) => ({ provider: `spark-${i + 1}`, model: MODEL }));
      const { wall, steady } = await queued(pg.url, join(dir, `tp-${k}`), targets, THROUGHPUT_RUNS / k, "model", env, digest);
      throughput[`workers_${k}`] = { wall_ms: Math.round(wall), runs_per_min: Math.round((THROUGHPUT_RUNS / wall) * 60_000 * 10) / 10, speedup: 0, steady_ms: steady, steady_speedup: 0 };
    }
    const one = throughput.workers_1!;
    for (const v of Object.values(throughput)) {
      v.speedup = Math.round((one.wall_ms / v.wall_ms) * 100) / 100;
      v.steady_speedup = Math.round((one.steady_ms / v.steady_ms) * 100) / 100;
    }
    return {
      dispatch: { runs: DISPATCH_RUNS, run_ms: RUN_MS, local_loop_ms: Math.round(localMs), queued_ms: Math.round(queueMs), overhead_ms_per_run_with_startup: Math.round(overhead), overhead_ms_per_run_steady: Math.round(steadyOverhead), target_ms: 50, ok: steadyOverhead <= 50 },
      throughput: { runs: THROUGHPUT_RUNS, ttft_ms: TTFT_MS, slots_per_provider: 1, ...throughput, targets: { workers_2: 1.8, workers_3: 2.6 }, ok: throughput.workers_2!.speedup >= 1.8 && throughput.workers_3!.speedup >= 2.6 },
    };
  } finally {
    process.chdir(cwd);
    await Promise.all(sims.map((s) => s.close()));
    pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
