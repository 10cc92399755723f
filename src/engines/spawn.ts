// Starting an agent process the same way for every engine: allowlisted environment,
// per-run HOME, the run's proxy as the only model endpoint, bubblewrap isolation,
// capped logs, wall-clock timeout with a whole-tree kill.
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runProcess, type ProcessOutcome } from "../sandbox/process.ts";
import { agentEnv } from "../sandbox/env.ts";
import { projectNodeBinds } from "../sandbox/bwrap.ts";
import { NO_RESULT, type AgentResult, type EngineContext, type EngineOutcome } from "./types.ts";

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

export async function spawnAgent(ctx: EngineContext, cmd: AgentCommand): Promise<ProcessOutcome> {
  const home = agentHomeDir(ctx);
  // agent-io holds the task and result files the agent reads and writes (bound read-write).
  const io = join(ctx.runDir, "agent-io");
  await mkdir(home, { recursive: true });
  await mkdir(io, { recursive: true });
  const env = buildAgentEnv(ctx, home, cmd.env);
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
        }
      : undefined;
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
    exitCode: proc.exitCode,
    timedOut: proc.timedOut,
    durationMs: Date.now() - startedAt,
    result: proc.started ? result : NO_RESULT,
  };
}
