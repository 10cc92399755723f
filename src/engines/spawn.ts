// Starting an agent process the same way for every engine: allowlisted environment,
// per-run HOME, the run's proxy as the only model endpoint, bubblewrap isolation,
// capped logs, wall-clock timeout with a whole-tree kill.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runProcess, type ProcessOutcome } from "../sandbox/process.ts";
import { agentEnv } from "../sandbox/env.ts";
import { projectNodeBinds, type HiddenPath } from "../sandbox/bwrap.ts";
import { BUILTIN_FIXTURES_DIR } from "../fixtures/load.ts";
import { cacheDir } from "../judge/expected.ts";
import { NO_RESULT, type AgentResult, type EngineContext, type EngineOutcome } from "./types.ts";
import { harborView } from "../fixtures/harbor/view.ts";
import { harborLogsAgentDir, outsideCopies } from "../fixtures/harbor/scratch.ts";
import type { SandboxMount } from "../sandbox/bwrap.ts";

/**
 * A Harbor task's view for the agent (docs/isolation.md): the workspace also at WORKDIR (the
 * working directory), a fresh /logs/agent kept in the bundle, COPY files outside WORKDIR
 * read-only; never /tests or /solution. `scratch` holds the copies; the caller removes it.
 */
async function agentHarborView(ctx: EngineContext, scratch: string): Promise<{ mounts: SandboxMount[]; cwd: string; env: Record<string, string> } | undefined> {
  const task = ctx.fixture.harbor;
  if (!task || ctx.isolation !== "bwrap") return undefined;
  const logsAgent = harborLogsAgentDir(ctx.runDir);
  await mkdir(logsAgent, { recursive: true });
  const view = harborView(task, "agent", { workspace: ctx.workspace, outside: await outsideCopies(task, scratch), logsAgent });
  // The agent's own tools (the harness's Node first) stay on PATH ahead of the task's.
  const env = { ...view.env, PATH: `${agentPath()}:${view.env.PATH}` };
  return { mounts: view.mounts, cwd: view.cwd, env };
}

export interface AgentCommand {
  command: string;
  args: string[];
  /** Engine-specific variables (never secrets of the user's). */
  env: Record<string, string>;
  stdin?: string;
  /** Read-only paths the agent needs inside the sandbox (its install, its runtime). */
  roBinds?: string[];
  /** Read-write paths besides the workspace and the agent's home. */
  rwBinds?: string[];
  onStdoutLine?: (line: string) => void;
  /**
   * Aborted by the engine when the agent has given its final result: the agent gets a short
   * grace to exit, then its process tree is ended (recorded in the trace as `agent_after_result`).
   */
  finished?: AbortSignal;
  /** How long the agent may take to exit by itself after `finished` (default FINISHED_GRACE_MS, 200 ms). */
  finishedGraceMs?: number;
  /** Between TERM and KILL once the grace is over (default FINISHED_KILL_MS, 200 ms). */
  finishedKillMs?: number;
}

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export function agentPath(): string {
  // The project's own Node first, so `node` inside the agent is >= 22.
  return [dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":");
}

/** The agent's environment: allowlisted harness variables, then ours. */
export function buildAgentEnv(ctx: EngineContext, home: string, extra: Record<string, string>): Record<string, string> {
  const ours: Record<string, string> = {
    PATH: agentPath(),
    HOME: home,
    TMPDIR: "/tmp",
    CTO_HARNESS_RUN_ID: ctx.runId,
  };
  if (ctx.model) {
    ours.OPENAI_BASE_URL = ctx.model.baseUrl;
    ours.OPENAI_API_KEY = ctx.model.token;
    ours.OPENAI_MODEL = ctx.model.model;
  }
  return agentEnv(ctx.env, { ...ours, ...extra });
}

/** The agent's private HOME (bound read-write in the sandbox; part of the bundle). */
export function agentHomeDir(ctx: { runDir: string }): string {
  return join(ctx.runDir, "agent-home");
}

/**
 * What no sandboxed agent may read (docs/isolation.md, "Nothing secret in reach"): what the
 * caller names (the runs directory), this run's own directory (report, baseline, logs; the
 * agent's workspace, agent-home and agent-io inside it are its own and stay bound), the
 * run's fixture directory (solution, tests, held-out tests), the built-in fixtures, the
 * judge's expected-tests cache, and the harness's temporary directory (the oracle's and the
 * judge's scratch trees; masked only, since the agent's own files may live there). Pure.
 */
export function agentHiddenPaths(
  ctx: Pick<EngineContext, "runDir" | "fixture" | "env" | "hiddenPaths">,
  where: { builtinFixturesDir: string; tmpDir: string } = { builtinFixturesDir: BUILTIN_FIXTURES_DIR, tmpDir: tmpdir() },
): HiddenPath[] {
  return [
    ...(ctx.hiddenPaths ?? []),
    { path: ctx.runDir, what: "this run's directory (report, baseline, logs)" },
    { path: ctx.fixture.dir, what: "the run's fixture directory (solution, tests, held-out tests, impossible variants)" },
    { path: where.builtinFixturesDir, what: "the harness's built-in fixtures" },
    { path: cacheDir(ctx.env), what: "the judge's expected-tests cache" },
    { path: where.tmpDir, what: "the harness's temporary directory (judge and oracle scratch trees)", wholly: false },
  ];
}

export async function spawnAgent(ctx: EngineContext, cmd: AgentCommand): Promise<ProcessOutcome> {
  const home = agentHomeDir(ctx);
  // agent-io holds the task and result files the agent reads and writes (bound read-write).
  const io = join(ctx.runDir, "agent-io");
  await mkdir(home, { recursive: true });
  await mkdir(io, { recursive: true });
  const scratch = ctx.fixture.harbor && ctx.isolation === "bwrap" ? await mkdtemp(join(tmpdir(), "cto-harness-harbor-agent-")) : undefined;
  try {
    return await spawnIn(ctx, cmd, home, io, scratch ? await agentHarborView(ctx, scratch) : undefined);
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

async function spawnIn(ctx: EngineContext, cmd: AgentCommand, home: string, io: string, harbor: Awaited<ReturnType<typeof agentHarborView>>): Promise<ProcessOutcome> {
  const env = buildAgentEnv(ctx, home, { ...(harbor?.env ?? {}), ...cmd.env });
  const isolation =
    ctx.isolation === "bwrap"
      ? {
          workspace: ctx.workspace,
          roBinds: [...(cmd.roBinds ?? []), ...(await projectNodeBinds(PROJECT_ROOT))],
          rwBinds: [home, io, ...(cmd.rwBinds ?? [])],
          proxySocket: ctx.model?.socketPath,
          proxyPort: ctx.model ? Number(new URL(ctx.model.baseUrl).port) : undefined,
          protectedPaths: ctx.protectedPaths,
          homeDir: home,
          hidden: agentHiddenPaths(ctx),
          mounts: harbor?.mounts,
          cwd: harbor?.cwd,
        }
      : undefined;
  if (isolation) {
    // The cache usually exists; if not, create it, so that it can be masked where a bind
    // contains it (a hidden path that could appear during the run is refused).
    await mkdir(cacheDir(ctx.env), { recursive: true }).catch(() => {});
  }
  let stopWatching: (() => void) | null = null;
  const outcome = await runProcess({
    command: cmd.command,
    args: cmd.args,
    cwd: ctx.workspace,
    env,
    timeoutMs: ctx.agentTimeoutMs,
    stdoutFile: join(ctx.backendDir, "stdout.log"),
    stderrFile: join(ctx.backendDir, "stderr.log"),
    stdin: cmd.stdin,
    onStdoutLine: cmd.onStdoutLine,
    signal: ctx.signal,
    finished: cmd.finished,
    finishedGraceMs: cmd.finishedGraceMs,
    finishedKillMs: cmd.finishedKillMs,
    isolation,
    onSpawn: (pid) => {
      // Emitted when the process exists (not when the sandbox refused to start it), and
      // before the agent can make its first model request.
      ctx.trace.emit("case_process_started", { engine: ctx.engine, isolation: ctx.isolation });
      stopWatching = ctx.watchProcess?.(pid) ?? null;
    },
  });
  (stopWatching as (() => void) | null)?.();
  if (outcome.afterResult) {
    ctx.trace.emit("agent_after_result", {
      engine: ctx.engine,
      grace_ms: outcome.afterResult.graceMs,
      exited_by_itself: outcome.afterResult.exitedByItself,
      // From the final result to the process's end: what waiting on the agent cost.
      after_result_ms: outcome.afterResult.afterResultMs,
      exit_code: outcome.exitCode,
      signal: outcome.signal,
    });
  }
  return outcome;
}

/** An engine's outcome from its agent process and the result parsed from it. */
export function outcomeFrom(proc: ProcessOutcome, startedAt: number, result: AgentResult): EngineOutcome {
  return {
    started: proc.started,
    startError: proc.startError,
    sandboxUnavailable: proc.sandboxUnavailable,
    ...(proc.sandboxMasked ? { sandboxMasked: proc.sandboxMasked } : {}),
    exitCode: proc.exitCode,
    timedOut: proc.timedOut,
    durationMs: Date.now() - startedAt,
    result: proc.started ? result : NO_RESULT,
    ...(proc.afterResult && !proc.afterResult.exitedByItself ? { stoppedAfterResult: true } : {}),
  };
}
