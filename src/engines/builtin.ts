// The `builtin` engine: cto-harness's own minimal agent (builtin-agent/agent.ts), run with
// the project's Node. Its stdout is already trajectory events plus a last CASE_RESULT line.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderMarker } from "../evidence/markers.ts";
import { toTrajectoryInput } from "../trajectory/schema.ts";
import { createTrajectoryWriter, type TrajectoryWriter } from "../trajectory/writer.ts";
import { trajectoryPath } from "../trajectory/paths.ts";
import { agentMaxTokens } from "./builtin-agent/budget.ts";
import { explainJson } from "./case-protocol.ts";
import { outcomeFrom, spawnAgent } from "./spawn.ts";
import { type AgentResult, type Engine, type EngineContext, type EngineOutcome, NO_RESULT, notStarted } from "./types.ts";

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BUILTIN_AGENT_FILE = fileURLToPath(new URL("./builtin-agent/agent.ts", import.meta.url));
const CASE_RESULT_PREFIX = "CASE_RESULT ";

export interface BuiltinEvidence {
  /** Text after the last `CASE_RESULT ` prefix on stdout, if any. */
  caseResultLine: string | null;
  /** Text of the last `model_error` event the agent emitted, if any. */
  lastModelError: string | null;
  exitCode: number | null;
  timedOut: boolean;
  stdoutLastLines: string[];
}

/** Pure: the agent result from what the builtin agent printed. */
export function decideBuiltinResult(e: BuiltinEvidence): AgentResult {
  if (e.caseResultLine !== null) {
    const r = explainJson(e.caseResultLine.trim());
    if (r.ok) {
      const modelError = r.value.status === "failed" ? (e.lastModelError ?? r.value.summary) : null;
      return { protocolValid: true, source: "stdout-line", status: r.value.status, summary: r.value.summary, modelError };
    }
    return protocolFailure(e, `CASE_RESULT line: ${r.why}`);
  }
  return protocolFailure(e, 'stdout: no line starting with "CASE_RESULT "');
}

function protocolFailure(e: BuiltinEvidence, why: string): AgentResult {
  const marker = renderMarker({
    title: "case agent result protocol failed",
    found: `the builtin agent ${e.timedOut ? "was killed at the agent timeout" : `exited with code ${e.exitCode ?? "none (killed)"}`} without a valid result: ${why}`,
    expected: 'a last stdout line CASE_RESULT {"protocol":"case-result/1","status":"completed|gave_up|failed","summary":"..."}',
    todo: e.timedOut
      ? "raise --agent-timeout or check why the model is slow (see backend/model-requests.jsonl)"
      : "see backend/stderr.log: the builtin agent crashed before reporting",
    details: [`last model error: ${e.lastModelError ?? "(none)"}`, `stdout last lines: ${e.stdoutLastLines.map((l) => JSON.stringify(l.slice(0, 200))).join(" | ") || "(none)"}`],
  });
  return { protocolValid: false, source: null, status: null, summary: null, modelError: e.lastModelError, protocolFailureMarker: marker };
}

/** Maps each stdout line of the agent into the run's trajectory; remembers the result line. */
export function createBuiltinLineHandler(trajectory: TrajectoryWriter): { onLine(line: string): void; evidence(): Pick<BuiltinEvidence, "caseResultLine" | "lastModelError"> } {
  let caseResultLine: string | null = null;
  let lastModelError: string | null = null;
  return {
    onLine(line: string): void {
      if (line.startsWith(CASE_RESULT_PREFIX)) {
        caseResultLine = line.slice(CASE_RESULT_PREFIX.length);
        return;
      }
      if (!line.startsWith("{")) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
      }
      const ev = toTrajectoryInput(parsed);
      if (!ev) return;
      if (ev.kind === "model_error") lastModelError = ev.text ?? "model error";
      trajectory.write({ ...ev, engine: "builtin" });
    },
    evidence: () => ({ caseResultLine, lastModelError }),
  };
}

export const builtinEngine: Engine = {
  name: "builtin",
  usesModel: true,
  async run(ctx: EngineContext): Promise<EngineOutcome> {
    const t0 = Date.now();
    if (!ctx.model) {
      return notStarted("the builtin engine needs a model (no proxy was given)");
    }
    // The agent reads its own task file, under agent-io/ (visible inside the sandbox).
    const io = join(ctx.runDir, "agent-io");
    await mkdir(io, { recursive: true });
    const taskFile = join(io, "builtin-task.json");
    await writeFile(taskFile, JSON.stringify({ instruction: ctx.instruction }) + "\n");
    const trajectory = createTrajectoryWriter(trajectoryPath(ctx.runDir), { engine: "builtin" });
    const lines = createBuiltinLineHandler(trajectory);
    try {
      const proc = await spawnAgent(ctx, {
        command: process.execPath,
        args: ["--disable-warning=ExperimentalWarning", BUILTIN_AGENT_FILE],
        env: { CTO_HARNESS_TASK_FILE: taskFile, CTO_HARNESS_MAX_TOKENS: String(agentMaxTokens(ctx.env)) },
        roBinds: [
          dirname(process.execPath),
          dirname(BUILTIN_AGENT_FILE),
          join(PROJECT_ROOT, "package.json"), // "type": "module" for the .ts files
          join(PROJECT_ROOT, "node_modules", "openai"),
        ],
        onStdoutLine: lines.onLine,
      });
      const result = proc.started
        ? decideBuiltinResult({
            ...lines.evidence(),
            exitCode: proc.exitCode,
            timedOut: proc.timedOut,
            stdoutLastLines: proc.stdout.lastLines,
          })
        : NO_RESULT;
      return outcomeFrom(proc, t0, result);
    } finally {
      trajectory.close();
    }
  },
};
