// Shared by the real-agent engine tests (builtin, pi, qwen-code): one run of an engine on a
// fixture, against the simulator, through the recording proxy, then the fixture's tests.
// Real processes and real HTTP over loopback only.
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SecretValue } from "../../src/config/secret.ts";
import type { Engine, EngineContext, EngineOutcome } from "../../src/engines/types.ts";
import { TraceWriter } from "../../src/evidence/trace.ts";
import { loadFixture } from "../../src/fixtures/load.ts";
import { startRecordingProxy, type ModelRequestRecord } from "../../src/proxy/proxy.ts";
import { checkSandbox } from "../../src/sandbox/bwrap.ts";
import { startSimulator } from "../../src/sim/server.ts";
import type { TrajectoryEvent } from "../../src/trajectory/schema.ts";
import { prepareWorkspace, runTests, type TestRunOutcome } from "../../src/workspace/workspace.ts";

export const MODEL = "qwen3.6-35b-a3b";

export interface EngineRun {
  outcome: EngineOutcome;
  tests: TestRunOutcome;
  trajectory: TrajectoryEvent[];
  requests: ModelRequestRecord[];
  runDir: string;
  wallMs: number;
  proxyBaseUrl: string;
  proxyToken: string;
}

/** Whether bubblewrap can run here (tests of the sandboxed path are skipped where it cannot). */
export async function bwrapWorks(): Promise<boolean> {
  return (await checkSandbox()).ok;
}

export async function readJsonl<T>(file: string): Promise<T[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

export async function runEngineOnFixture(
  engine: Engine,
  fixtureId: string,
  scenario: string,
  opts: { agentTimeoutMs?: number; env?: NodeJS.ProcessEnv; keep?: boolean; isolation?: "bwrap" | "none" } = {},
): Promise<EngineRun> {
  const fixture = await loadFixture(fixtureId);
  const sim = await startSimulator({ scenario, fixture, models: [MODEL] });
  const runDir = await mkdtemp(path.join(os.tmpdir(), `cto-harness-${engine.name}-`));
  const backendDir = path.join(runDir, "backend");
  await mkdir(backendDir, { recursive: true });
  const workspace = path.join(runDir, "workspace");
  await prepareWorkspace(fixture, workspace);
  const isolation = opts.isolation ?? "none";
  // In the sandbox the agent reaches the proxy through its Unix socket (no network namespace).
  const socketPath = isolation === "bwrap" ? path.join(runDir, "proxy.sock") : undefined;
  const proxy = await startRecordingProxy({
    upstreamBaseUrl: new SecretValue(sim.baseUrl),
    admittedModel: MODEL,
    recordFile: path.join(backendDir, "model-requests.jsonl"),
    unixSocketPath: socketPath,
  });
  const ctx: EngineContext = {
    engine: engine.name,
    runId: path.basename(runDir),
    runDir,
    backendDir,
    workspace,
    fixture,
    instruction: fixture.instruction,
    taskFile: path.join(runDir, "task.json"),
    model: { baseUrl: proxy.baseUrl, token: proxy.token, model: MODEL, socketPath },
    agentTimeoutMs: opts.agentTimeoutMs ?? 45_000,
    isolation,
    trace: new TraceWriter(path.join(runDir, "trace.jsonl")),
    signal: new AbortController().signal,
    env: opts.env ?? {},
    protectedPaths: [],
  };
  const t0 = Date.now();
  try {
    const outcome = await engine.run(ctx);
    const wallMs = Date.now() - t0;
    const tests = await runTests(fixture, workspace, {
      stdoutFile: path.join(runDir, "tests", "stdout.log"),
      stderrFile: path.join(runDir, "tests", "stderr.log"),
    });
    const trajectory = await readJsonl<TrajectoryEvent>(path.join(runDir, "trajectory.jsonl"));
    return { outcome, tests, trajectory, requests: proxy.records(), runDir, wallMs, proxyBaseUrl: proxy.baseUrl, proxyToken: proxy.token };
  } finally {
    await proxy.close();
    await sim.close();
    if (!opts.keep) await rm(runDir, { recursive: true, force: true });
  }
}
