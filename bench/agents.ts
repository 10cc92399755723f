// Real agents on the simulator: each engine's own start-up time (spawn → first model
// request at the proxy), total time and shutdown time on r1-string-slugify; the cost of
// Pi's JSON event stream on one long reasoning burst; trajectory writer memory for 10,000
// events. Numbers from a shared 2-core machine are noisy: medians of a few runs.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { SecretValue } from "../src/config/secret.ts";
import { builtinEngine } from "../src/engines/builtin.ts";
import { PI_SETTINGS, piArgs, piEngine } from "../src/engines/pi.ts";
import { qwenCodeEngine } from "../src/engines/qwen-code.ts";
import type { Engine, EngineContext } from "../src/engines/types.ts";
import { TraceWriter } from "../src/evidence/trace.ts";
import { loadFixture } from "../src/fixtures/load.ts";
import { startRecordingProxy } from "../src/proxy/proxy.ts";
import { startSimulator } from "../src/sim/server.ts";
import { createTrajectoryWriter } from "../src/trajectory/writer.ts";
import { prepareWorkspace, runTests } from "../src/workspace/workspace.ts";

const MODEL = "qwen3.6-35b-a3b";
const REPS = 3;

interface OneRun {
  startup_ms: number | null;
  total_ms: number;
  shutdown_ms: number | null;
  /** The agent's final result (Qwen Code `result`, Pi `agent_end`) → its process ended (trace `agent_after_result`). */
  after_result_ms: number | null;
  exited_by_itself: boolean | null;
  requests: number;
  tests_passed: boolean;
  status: string | null;
}

async function runOnce(engine: Engine, fixtureId: string, scenario: string): Promise<OneRun> {
  const fixture = await loadFixture(fixtureId);
  const sim = await startSimulator({ scenario, fixture, models: [MODEL] });
  const runDir = await mkdtemp(path.join(os.tmpdir(), `cto-harness-bench-${engine.name}-`));
  const backendDir = path.join(runDir, "backend");
  await mkdir(backendDir, { recursive: true });
  const workspace = path.join(runDir, "workspace");
  await prepareWorkspace(fixture, workspace);
  const proxy = await startRecordingProxy({ upstreamBaseUrl: new SecretValue(sim.baseUrl), admittedModel: MODEL });
  const ctx: EngineContext = {
    engine: engine.name,
    runId: path.basename(runDir),
    runDir,
    backendDir,
    workspace,
    fixture,
    instruction: fixture.instruction,
    taskFile: path.join(runDir, "task.json"),
    model: { baseUrl: proxy.baseUrl, token: proxy.token, model: MODEL },
    agentTimeoutMs: 120_000,
    isolation: "none",
    trace: new TraceWriter(path.join(runDir, "trace.jsonl")),
    signal: new AbortController().signal,
    env: {},
    protectedPaths: [],
  };
  try {
    const t0 = Date.now();
    const outcome = await engine.run(ctx);
    const end = Date.now();
    const recs = proxy.records();
    const first = recs[0] ? Date.parse(recs[0].ts) : null;
    const lastDone = recs.length ? Math.max(...recs.map((r) => Date.parse(r.ts) + r.latency_ms)) : null;
    const after = (await readFile(path.join(runDir, "trace.jsonl"), "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; after_result_ms?: number; exited_by_itself?: boolean })
      .find((e) => e.type === "agent_after_result");
    const tests = await runTests(fixture, workspace, { stdoutFile: path.join(runDir, "t.out"), stderrFile: path.join(runDir, "t.err") });
    return {
      startup_ms: first !== null ? first - t0 : null,
      total_ms: end - t0,
      shutdown_ms: lastDone !== null ? Math.round(end - lastDone) : null,
      after_result_ms: after?.after_result_ms ?? null,
      exited_by_itself: after?.exited_by_itself ?? null,
      requests: recs.length,
      tests_passed: tests.passed,
      status: outcome.result.status,
    };
  } finally {
    await proxy.close();
    await sim.close();
    await rm(runDir, { recursive: true, force: true });
  }
}

function median(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)]! : null;
}

async function engineBench(engine: Engine): Promise<object> {
  const runs: OneRun[] = [];
  for (let i = 0; i < REPS; i++) runs.push(await runOnce(engine, "r1-string-slugify", "solve"));
  return {
    runs: runs.length,
    all_passed: runs.every((r) => r.tests_passed && r.status === "completed"),
    startup_ms_median: median(runs.map((r) => r.startup_ms)),
    total_ms_median: median(runs.map((r) => r.total_ms)),
    shutdown_ms_median: median(runs.map((r) => r.shutdown_ms)),
    after_result_ms_median: median(runs.map((r) => r.after_result_ms)),
    exited_by_itself: runs.map((r) => r.exited_by_itself),
    total_ms_min: Math.min(...runs.map((r) => r.total_ms)),
    total_ms_max: Math.max(...runs.map((r) => r.total_ms)),
    requests: runs[0]!.requests,
  };
}

/**
 * Pi's --mode json repeats the whole partial message on every delta, so one reasoning-only
 * reply of N tokens costs O(N²) bytes of stdout. Pi is run directly here so every byte is counted.
 */
async function piReasoningBurst(): Promise<object> {
  const out: Record<string, object> = {};
  const fixture = await loadFixture("r1-string-slugify");
  for (const tokens of [1024, 2048, 4096]) {
    const sim = await startSimulator({ scenario: "reasoning-only", fixture, models: [MODEL] });
    const dir = await mkdtemp(path.join(os.tmpdir(), "cto-harness-bench-piburst-"));
    try {
      await writeFile(path.join(dir, "settings.json"), JSON.stringify(PI_SETTINGS));
      const t0 = Date.now();
      const r = await new Promise<{ bytes: number; lines: number }>((resolve, reject) => {
        const child = spawn(process.execPath, piArgs(MODEL), {
          cwd: dir,
          env: {
            PATH: process.env.PATH,
            HOME: dir,
            PI_CODING_AGENT_DIR: dir,
            PI_OFFLINE: "1",
            OPENAI_BASE_URL: sim.baseUrl,
            OPENAI_API_KEY: "bench",
            OPENAI_MODEL: MODEL,
            CTO_HARNESS_PI_MAX_TOKENS: String(tokens),
          },
          stdio: ["pipe", "pipe", "ignore"],
        });
        let bytes = 0;
        let lines = 0;
        child.stdout.on("data", (c: Buffer) => {
          bytes += c.length;
          for (const b of c) if (b === 10) lines++;
        });
        child.stdin.end("think");
        child.on("error", reject);
        child.on("close", () => resolve({ bytes, lines }));
      });
      out[`reasoning_${tokens}_tokens`] = { total_ms: Date.now() - t0, stdout_bytes: r.bytes, stdout_lines: r.lines };
    } finally {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return out;
}

async function trajectoryMemory(): Promise<object> {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const dir = await mkdtemp(path.join(os.tmpdir(), "cto-harness-bench-traj-"));
  try {
    const file = path.join(dir, "trajectory.jsonl");
    const w = createTrajectoryWriter(file, { engine: "bench" });
    const text = (i: number) => {
      const b = Buffer.alloc(2048, 121);
      b.write(String(i));
      return b.toString("latin1");
    };
    gc();
    const before = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) w.write({ kind: "tool_result", text: text(i), call_id: `c${i}`, tool: "bash", is_error: false });
    const ms = performance.now() - t0;
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    w.close();
    return {
      events: 10_000,
      event_text_bytes: 2048,
      file_bytes: (await stat(file)).size,
      write_ms: Math.round(ms),
      events_per_sec: Math.round(10_000 / (ms / 1000)),
      heap_growth_bytes: grown,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Harness overhead per engine through the whole lifecycle (probe, baseline, proxy, sandbox,
 * patch, scan, report): total run time minus the agent's own time and the tests' time.
 */
async function harnessOverhead(engine: "builtin" | "pi" | "qwen-code", runs = 3): Promise<object> {
  const { runOnce } = await import("../src/run/lifecycle.ts");
  const runsDir = await mkdtemp(path.join(os.tmpdir(), "cto-bench-overhead-"));
  const overheads: number[] = [];
  const statuses: string[] = [];
  for (let i = 0; i < runs; i++) {
    const { report } = await runOnce({
      fixture: "r1-string-slugify",
      engine,
      provider: "sim",
      model: "qwen3.6-35b-a3b",
      runsDir,
      isolation: "bwrap",
      budget: 1024,
      env: { PATH: process.env.PATH },
    });
    statuses.push(report.status);
    const t = report.timings;
    overheads.push((t.total_ms ?? 0) - (t.agent_ms ?? 0) - (t.tests_ms ?? 0));
  }
  await rm(runsDir, { recursive: true, force: true });
  overheads.sort((a, b) => a - b);
  return { runs, statuses, harness_overhead_ms_median: overheads[Math.floor(runs / 2)], note: "includes the probe and the same-run baseline (which runs the fixture's tests once more)" };
}

export async function bench(): Promise<object> {
  return {
    harness_overhead: {
      builtin: await harnessOverhead("builtin"),
      pi: await harnessOverhead("pi"),
      "qwen-code": await harnessOverhead("qwen-code"),
    },
    load_average_1m_at_start: os.loadavg()[0],
    note:
      "startup_ms = engine.run() called → first model request at the proxy; shutdown_ms = last model response ended → agent process exited; " +
      "after_result_ms = the agent's final result seen (Qwen Code result, Pi agent_end) → its process ended (target for Qwen Code: ≤ 500 ms)",
    qwen_after_result_target_ms: 500,
    builtin: await engineBench(builtinEngine),
    pi: await engineBench(piEngine),
    "qwen-code": await engineBench(qwenCodeEngine),
    pi_reasoning_burst: await piReasoningBurst(),
    trajectory_writer: await trajectoryMemory(),
  };
}
