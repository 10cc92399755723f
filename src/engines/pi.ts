// The `pi` engine: the real Pi coding agent (@mariozechner/pi-coding-agent), run hermetic.
// - Its own agent dir per run (PI_CODING_AGENT_DIR) holding only settings.json, which turns
//   off retries and compaction: a model error must end the run visibly, not be retried for
//   14 s and then exit 0.
// - PI_OFFLINE=1 / --offline: no update check, no telemetry.
// - --no-session --no-extensions --no-skills --no-prompt-templates --no-themes
//   --no-context-files: nothing from the user's ~/.pi or the workspace's AGENTS.md leaks in
//   (explicit -e paths still load with --no-extensions; verified on 0.73.1).
// - The provider comes from a static extension (pi-extension/provider.ts, passed with -e)
//   that reads the proxy URL and model from the environment: no URL in argv or any file.
// - The prompt goes on stdin (Pi reads a non-TTY stdin to EOF; it would hang on an open pipe).
// - `--mode json` exits 0 even when the model call failed: the result is decided from the
//   event stream (stopReason "error" ⇒ failed, with the model error recorded).
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderMarker } from "../evidence/markers.ts";
import { piEventToTrajectory } from "../trajectory/from-pi.ts";
import { trajectoryPath } from "../trajectory/paths.ts";
import { createTrajectoryWriter } from "../trajectory/writer.ts";
import { agentContextWindow, agentMaxTokens } from "./builtin-agent/budget.ts";
import { capSummary, unusableFinalReply } from "./builtin-agent/model-output.ts";
import { createPiEventAccumulator, parsePiLine, type PiEventsSummary } from "./pi-events.ts";
import { PI_PROVIDER_NAME } from "./pi-extension/provider.ts";
import { agentHomeDir, outcomeFrom, spawnAgent } from "./spawn.ts";
import { type AgentResult, type Engine, type EngineContext, type EngineOutcome, NO_RESULT, notStarted } from "./types.ts";

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const PI_PACKAGE_DIR = join(PROJECT_ROOT, "node_modules", "@mariozechner", "pi-coding-agent");
export const PI_CLI = join(PI_PACKAGE_DIR, "dist", "cli.js");
export const PI_EXTENSION_FILE = fileURLToPath(new URL("./pi-extension/provider.ts", import.meta.url));

/** settings.json of the per-run agent dir: no retries (agent or SDK), no compaction. */
export const PI_SETTINGS = { retry: { enabled: false, provider: { maxRetries: 0 } }, compaction: { enabled: false } };

export const PI_FLAGS = [
  "--mode",
  "json",
  "--no-session",
  "--no-extensions",
  "--no-skills",
  "--no-prompt-templates",
  "--no-themes",
  "--no-context-files",
  "--offline",
] as const;

export function piArgs(model: string): string[] {
  return [PI_CLI, ...PI_FLAGS, "-e", PI_EXTENSION_FILE, "--provider", PI_PROVIDER_NAME, "--model", model];
}

/** Pure: the agent result from Pi's event stream and how the process ended. */
export function decidePiResult(s: PiEventsSummary, proc: { exitCode: number | null; timedOut: boolean; stderrLastLines: string[] }): AgentResult {
  if (!s.found) {
    const marker = renderMarker({
      title: "case agent result protocol failed",
      found: `Pi ${proc.timedOut ? "was killed at the agent timeout" : `exited with code ${proc.exitCode ?? "none (killed)"}`} before its event stream reached agent_end (${s.events} events read)`,
      expected: "a Pi --mode json event stream ending in agent_end",
      todo: proc.timedOut ? "raise --agent-timeout or check why the model is slow (backend/model-requests.jsonl)" : "see backend/stderr.log for Pi's own error",
      details: [
        `last model error: ${s.errorMessage ?? "(none)"}`,
        `stderr last lines: ${proc.stderrLastLines.map((l) => JSON.stringify(l.slice(0, 200))).join(" | ") || "(none)"}`,
      ],
    });
    return { protocolValid: false, source: null, status: null, summary: null, modelError: s.errorMessage, protocolFailureMarker: marker };
  }
  if (s.stopReason === "error" || s.stopReason === "aborted") {
    const modelError = s.errorMessage ?? `Pi stopReason: ${s.stopReason}`;
    return { protocolValid: true, source: "pi-events", status: "failed", summary: capSummary(s.finalText ?? modelError), modelError };
  }
  // Pi ends "normally" on a reply it cannot use (reasoning only, a tool call written as text).
  const unusable = unusableFinalReply({
    content: s.finalText,
    reasoning: s.finalReasoningOnly ? "(reasoning)" : null,
    finishReason: s.stopReason === "length" ? "length" : s.stopReason,
  });
  if (unusable) return { protocolValid: true, source: "pi-events", status: "failed", summary: capSummary(s.finalText ?? ""), modelError: unusable };
  return { protocolValid: true, source: "pi-events", status: "completed", summary: s.finalText ?? "", modelError: null };
}

export const piEngine: Engine = {
  name: "pi",
  usesModel: true,
  async run(ctx: EngineContext): Promise<EngineOutcome> {
    const t0 = Date.now();
    if (!ctx.model) {
      return notStarted("the pi engine needs a model (no proxy was given)");
    }
    // Under the agent's HOME (writable inside the sandbox); Pi writes auth.json here.
    const agentDir = join(agentHomeDir(ctx), ".pi-agent");
    await mkdir(agentDir, { recursive: true });
    await writeFile(join(agentDir, "settings.json"), JSON.stringify(PI_SETTINGS, null, 2) + "\n");
    const trajectory = createTrajectoryWriter(trajectoryPath(ctx.runDir), { engine: "pi" });
    const events = createPiEventAccumulator();
    // Aborted on `agent_end` (retries are off, so it is the end of the run): Pi gets a short grace, then its tree is ended.
    const finished = new AbortController();
    try {
      const proc = await spawnAgent(ctx, {
        command: process.execPath,
        args: piArgs(ctx.model.model),
        env: {
          PI_CODING_AGENT_DIR: agentDir,
          PI_OFFLINE: "1",
          PI_TELEMETRY: "0",
          CTO_HARNESS_PI_MAX_TOKENS: String(agentMaxTokens(ctx.env)),
          ...(agentContextWindow(ctx.env) ? { CTO_HARNESS_PI_CONTEXT_WINDOW: String(agentContextWindow(ctx.env)) } : {}),
        },
        stdin: ctx.instruction,
        roBinds: [dirname(process.execPath), join(PROJECT_ROOT, "node_modules"), dirname(PI_EXTENSION_FILE), join(PROJECT_ROOT, "package.json")],
        finished: finished.signal,
        // Pi normally exits by itself right after agent_end; the grace only catches one that hangs.
        finishedGraceMs: 1000,
        onStdoutLine: (line) => {
          if (line.includes('"type":"message_update"')) return events.push(line); // counted, not parsed
          const ev = parsePiLine(line);
          if (ev === null) return events.push(line);
          events.pushEvent(ev);
          if ((ev as { type?: unknown }).type === "agent_end") finished.abort();
          for (const t of piEventToTrajectory(ev)) trajectory.write(t);
        },
      });
      const summary = events.summary();
      const result: AgentResult = proc.started
        ? decidePiResult(summary, { exitCode: proc.exitCode, timedOut: proc.timedOut, stderrLastLines: proc.stderr.lastLines })
        : NO_RESULT;
      if (result.status === "completed") trajectory.write({ kind: "final", text: result.summary ?? "" });
      else if (result.modelError && summary.stopReason !== "error" && summary.stopReason !== "aborted") {
        // Errors Pi itself reported are already in the trajectory (from message_end).
        trajectory.write({ kind: "model_error", text: result.modelError });
      }
      return outcomeFrom(proc, t0, result);
    } finally {
      trajectory.close();
    }
  },
};
