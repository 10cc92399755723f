// Starting an agent process the same way for every engine: allowlisted environment,
// per-run HOME, the run's proxy as the only model endpoint, isolation, capped logs,
// wall-clock timeout with a whole-tree kill.
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { runProcess, type ProcessOutcome } from "../sandbox/process.ts";
import type { EngineContext } from "./types.ts";

export interface AgentCommand {
  command: string;
  args: string[];
  /** Engine-specific variables (never secrets of the user's). */
  env: Record<string, string>;
  stdin?: string;
  /** Read-only paths the agent needs inside the sandbox (its install, its runtime). */
  roBinds?: string[];
  onStdoutLine?: (line: string) => void;
}

/** Variables that may pass from the harness's environment to an agent. */
const PASS_THROUGH = ["LANG", "LC_ALL", "LC_CTYPE", "TERM", "TZ"];

export function agentPath(): string {
  // The project's own Node first, so `node` inside the agent is >= 22.
  return [dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":");
}

export function buildAgentEnv(ctx: EngineContext, home: string, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of PASS_THROUGH) {
    const v = ctx.env[k];
    if (v !== undefined) env[k] = v;
  }
  env.PATH = agentPath();
  env.HOME = home;
  env.TMPDIR = "/tmp";
  env.CTO_HARNESS_RUN_ID = ctx.runId;
  if (ctx.model) {
    env.OPENAI_BASE_URL = ctx.model.baseUrl;
    env.OPENAI_API_KEY = ctx.model.token;
    env.OPENAI_MODEL = ctx.model.model;
  }
  return { ...env, ...extra };
}

export async function spawnAgent(ctx: EngineContext, cmd: AgentCommand): Promise<ProcessOutcome> {
  const home = join(ctx.runDir, "agent-home");
  await mkdir(home, { recursive: true });
  const env = buildAgentEnv(ctx, home, cmd.env);
  // Emitted as the process is launched, so it precedes the agent's model_request events.
  ctx.trace.emit("case_process_started", { engine: ctx.engine, isolation: ctx.isolation });
  return runProcess({
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
  });
}
