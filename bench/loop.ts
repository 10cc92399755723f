// Loop overhead: what the loop itself costs per run beyond the run (scheduling, resume
// bookkeeping, summary rewrites, progress). Two measurements:
//  - `stub`: 200 attempts whose runOnce returns at once — pure loop cost per attempt;
//  - `fake_noop`: 200 real fake-noop runs at concurrency 4 — wall time vs the summed run
//    time, giving the per-run slack the loop adds (BENCH_LOOP_RUNS overrides 200).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runOnce } from "../src/run/lifecycle.ts";
import { verifyBundle } from "../src/evidence/verify.ts";
import { runLoop, type RunOnceFn } from "../src/loop/loop.ts";
import type { LoopConfig } from "../src/loop/config.ts";
import { makeReport } from "../test/data/make-bundle.ts";

const N = Number(process.env.BENCH_LOOP_RUNS ?? 200);
const CONCURRENCY = 4;

function config(attempts: number): LoopConfig {
  return {
    fixtures: ["r1-string-slugify"],
    engines: ["fake-noop"],
    attempts,
    provider: "sim",
    model: "qwen3.6-35b-a3b",
    isolation: "none",
    budget: 1024,
    agent_timeout_sec: null,
  };
}

export async function bench(): Promise<object> {
  const dir = await mkdtemp(join(tmpdir(), "bench-loop-"));
  try {
    // Pure loop cost: a runOnce that does nothing.
    let n = 0;
    const stub: RunOnceFn = async (o) => {
      const id = `stub-${++n}`;
      return { report: makeReport({ run_id: id, status: "fail" }), runDir: join(o.runsDir, id) };
    };
    let t0 = performance.now();
    await runLoop({ config: config(N), settings: { concurrency: CONCURRENCY, model_concurrency: 4 }, runsDir: join(dir, "stub"), env: {} }, { runOnce: stub, verifyBundle });
    const stubMs = performance.now() - t0;

    // Real fake-noop runs: loop slack = slots × wall − Σ run time.
    let runSum = 0;
    const timed: RunOnceFn = async (o) => {
      const s = performance.now();
      try {
        return await runOnce(o);
      } finally {
        runSum += performance.now() - s;
      }
    };
    t0 = performance.now();
    const { summary } = await runLoop(
      { config: config(N), settings: { concurrency: CONCURRENCY, model_concurrency: 4 }, runsDir: join(dir, "real"), env: { ...process.env } },
      { runOnce: timed, verifyBundle },
    );
    const wallMs = performance.now() - t0;
    return {
      runs: N,
      concurrency: CONCURRENCY,
      stub_total_ms: Math.round(stubMs),
      stub_overhead_per_attempt_ms: +(stubMs / N).toFixed(3),
      fake_noop_wall_ms: Math.round(wallMs),
      fake_noop_mean_run_ms: Math.round(runSum / N),
      loop_overhead_per_run_ms: +((wallMs * CONCURRENCY - runSum) / N).toFixed(2),
      counts: summary.counts,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
