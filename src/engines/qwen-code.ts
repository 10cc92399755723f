// The `qwen-code` engine: real Qwen Code (@qwen-code/qwen-code), headless, hermetic.
// Verified on 0.24.4 with Node 24 (see docs/agents.md):
// - `qwen --auth-type openai --yolo -o stream-json PROMPT </dev/null`, the proxy given as
//   OPENAI_BASE_URL / OPENAI_API_KEY / OPENAI_MODEL (env only, never argv).
// - It phones home (DNS for gb4w8c3ygj-default-sea.rum.aliyuncs.com, usage statistics) unless
//   QWEN_USAGE_STATISTICS_ENABLED=0 / privacy.usageStatisticsEnabled=false.
// - Settings come from a per-run system settings file (QWEN_CODE_SYSTEM_SETTINGS_PATH, which
//   overrides user and workspace settings), QWEN_HOME is per run (no ~/.qwen of the user).
// - On HTTP 5xx it retries 7 times with 1.5→30 s backoff (~77 s), with no setting to shorten
//   it (model.generationConfig.maxRetries only turns off the SDK's inner retries: 28 → 7
//   requests). Its debug log (QWEN_DEBUG_LOG_FILE=1) names each failed attempt as it
//   happens, so the engine watches it and stops Qwen Code after the configured number of
//   failed attempts, recording the model error.
// - An API failure ends with exit 1 and `result.is_error` in 0.24.4, but the answer text is
//   still `[API Error: ...]` (0.15 exited 0 with subtype success): both are checked.
import { constants, existsSync } from "node:fs";
import { lstat, mkdir, open, readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderMarker } from "../evidence/markers.ts";
import { qwenApiErrorIn, qwenMessageToTrajectory } from "../trajectory/from-qwen.ts";
import { trajectoryPath } from "../trajectory/paths.ts";
import { createTrajectoryWriter } from "../trajectory/writer.ts";
import { agentContextWindow, agentMaxTokens } from "./builtin-agent/budget.ts";
import { capSummary, unusableFinalReply } from "./builtin-agent/model-output.ts";
import { agentHomeDir, outcomeFrom, spawnAgent } from "./spawn.ts";
import { type AgentResult, type Engine, type EngineContext, type EngineOutcome, NO_RESULT, notStarted } from "./types.ts";

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const QWEN_PACKAGE_DIR = join(PROJECT_ROOT, "node_modules", "@qwen-code", "qwen-code");
/** The bundled CLI itself (cli-entry.js would only relaunch it with --expose-gc, after looking for self-updates under ~/.qwen). */
export const QWEN_CLI = join(QWEN_PACKAGE_DIR, "cli.js");

/** The per-run system settings (highest precedence: a workspace .qwen/settings.json cannot undo them). */
export function qwenSettings(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const contextWindow = agentContextWindow(env);
  return {
    general: { enableAutoUpdate: false },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    model: {
      generationConfig: {
        maxRetries: 0,
        // Qwen Code 0.24 asks for max_tokens 64000 by default.
        samplingParams: { max_tokens: agentMaxTokens(env) },
        // Unknown models are assumed to hold 1M tokens, so it would never compact.
        ...(contextWindow ? { contextWindowSize: contextWindow } : {}),
      },
    },
  };
}

export const QWEN_ENV = {
  QWEN_USAGE_STATISTICS_ENABLED: "0",
  QWEN_DEBUG_LOG_FILE: "1", // the live record of failed attempts the engine watches
  QWEN_CODE_DISABLE_PRECONNECT: "1", // no warm-up connection to the proxy
  QWEN_DISABLE_AUTO_TITLE: "1", // no extra model request to title the session
  QWEN_CODE_SUPPRESS_YOLO_WARNING: "1",
};

export function qwenArgs(model: string, prompt: string): string[] {
  return ["--expose-gc", QWEN_CLI, "--auth-type", "openai", "--model", model, "--yolo", "-o", "stream-json", prompt];
}

// ── stream-json: pure parsing ──────────────────────────────────────────────────────────────

export interface QwenStreamSummary {
  /** Whether the closing `result` message arrived. */
  found: boolean;
  subtype: string | null;
  isError: boolean;
  /** `result.result`: Qwen Code's final answer text. */
  resultText: string | null;
  /** `result.error.message`, when present. */
  errorMessage: string | null;
  /** An `[API Error: ...]` seen in any assistant text or the result. */
  apiError: string | null;
  numTurns: number | null;
  usage: { input: number; output: number };
  /** Text and thinking of the last assistant message (for reasoning-only replies). */
  lastAssistantText: string | null;
  lastAssistantThinking: boolean;
  toolCalls: number;
  events: number;
  ignoredLines: number;
}

export interface QwenStreamAccumulator {
  push(line: string): ({ type: string } & Record<string, unknown>) | null;
  summary(): QwenStreamSummary;
}

export function createQwenStreamAccumulator(): QwenStreamAccumulator {
  const s: QwenStreamSummary = {
    found: false,
    subtype: null,
    isError: false,
    resultText: null,
    errorMessage: null,
    apiError: null,
    numTurns: null,
    usage: { input: 0, output: 0 },
    lastAssistantText: null,
    lastAssistantThinking: false,
    toolCalls: 0,
    events: 0,
    ignoredLines: 0,
  };
  return {
    push(line: string) {
      const t = line.trim();
      if (!t) return null;
      let ev: unknown;
      try {
        ev = t.startsWith("{") ? JSON.parse(t) : null;
      } catch {
        ev = null;
      }
      if (typeof ev !== "object" || ev === null || typeof (ev as { type?: unknown }).type !== "string") {
        s.ignoredLines++;
        return null;
      }
      const msg = ev as { type: string } & Record<string, unknown>;
      s.events++;
      if (msg.type === "assistant") {
        const content = (msg.message as { content?: unknown } | undefined)?.content;
        const blocks = Array.isArray(content) ? (content as { type?: string; text?: string }[]) : [];
        const texts = blocks.filter((b) => b?.type === "text" && typeof b.text === "string").map((b) => b.text!);
        s.toolCalls += blocks.filter((b) => b?.type === "tool_use").length;
        // Qwen Code emits thinking, text and tool_use as separate assistant messages of one turn.
        if (texts.length) s.lastAssistantText = texts.join("");
        s.lastAssistantThinking = blocks.some((b) => b?.type === "thinking") || (s.lastAssistantThinking && !texts.length);
        for (const text of texts) s.apiError ??= qwenApiErrorIn(text);
      } else if (msg.type === "result") {
        s.found = true;
        s.subtype = typeof msg.subtype === "string" ? msg.subtype : null;
        s.isError = msg.is_error === true;
        s.resultText = typeof msg.result === "string" ? msg.result : null;
        const err = msg.error as { message?: unknown } | undefined;
        s.errorMessage = typeof err?.message === "string" ? err.message : null;
        s.apiError ??= qwenApiErrorIn(s.resultText) ?? qwenApiErrorIn(s.errorMessage);
        s.numTurns = typeof msg.num_turns === "number" ? msg.num_turns : null;
        const u = msg.usage as Record<string, unknown> | undefined;
        s.usage = { input: Number(u?.input_tokens ?? 0) || 0, output: Number(u?.output_tokens ?? 0) || 0 };
      }
      return msg;
    },
    summary: () => ({ ...s, usage: { ...s.usage } }),
  };
}

/** Summarises a whole Qwen Code stream-json output. Non-JSON lines are ignored. */
export function parseQwenStreamJson(lines: Iterable<string>): QwenStreamSummary {
  const acc = createQwenStreamAccumulator();
  for (const line of lines) acc.push(line);
  return acc.summary();
}

/** A failed model call as Qwen Code's debug log reports it while it retries. */
export interface QwenFailedAttempt {
  attempt: number;
  status: number | null;
}

/**
 * Finds failed model attempts in a chunk of the debug log: `[RETRY] Attempt N failed with
 * status S` (the request retry loop, 5xx/429) and `Rate limit retry scheduled` (the stream's
 * own rate-limit loop, which waits 60 s and more between attempts).
 */
export function failedAttemptsIn(text: string): QwenFailedAttempt[] {
  const out: QwenFailedAttempt[] = [];
  for (const m of text.matchAll(/\[RETRY\] Attempt (\d+) failed(?: with status (\d+))?|Rate limit retry scheduled/g)) {
    out.push(m[1] ? { attempt: Number(m[1]), status: m[2] ? Number(m[2]) : null } : { attempt: 1, status: 429 });
  }
  return out;
}

/** Pure: the agent result from the stream, how the process ended, and whether we stopped it. */
export function decideQwenResult(
  s: QwenStreamSummary,
  proc: { exitCode: number | null; timedOut: boolean; stderrLastLines: string[] },
  stoppedOnFailedAttempt: QwenFailedAttempt | null,
): AgentResult {
  if (stoppedOnFailedAttempt && !s.found) {
    const a = stoppedOnFailedAttempt;
    const modelError =
      `model request failed${a.status ? ` with HTTP ${a.status}` : ""} (Qwen Code attempt ${a.attempt}); ` +
      `cto-harness stopped Qwen Code's retry loop (7 attempts over ~77 s) after ${a.attempt} failed attempt(s)`;
    return { protocolValid: true, source: "qwen-debug-log", status: "failed", summary: modelError, modelError };
  }
  if (!s.found) {
    const marker = renderMarker({
      title: "case agent result protocol failed",
      found: `Qwen Code ${proc.timedOut ? "was killed at the agent timeout" : `exited with code ${proc.exitCode ?? "none (killed)"}`} without its closing stream-json "result" message (${s.events} messages read)`,
      expected: 'a Qwen Code -o stream-json stream ending in {"type":"result",...}',
      todo: proc.timedOut ? "raise --agent-timeout or check why the model is slow (backend/model-requests.jsonl)" : "see backend/stderr.log for Qwen Code's own error",
      details: [
        `API error seen: ${s.apiError ?? "(none)"}`,
        `stderr last lines: ${proc.stderrLastLines.map((l) => JSON.stringify(l.slice(0, 200))).join(" | ") || "(none)"}`,
      ],
    });
    return { protocolValid: false, source: null, status: null, summary: null, modelError: s.apiError, protocolFailureMarker: marker };
  }
  // An API error can be disguised as success (`subtype: "success"`, `result: "[API Error: ...]"`).
  if (s.apiError || s.isError || s.subtype !== "success") {
    const modelError = s.apiError ?? s.errorMessage ?? `Qwen Code result subtype ${s.subtype ?? "(none)"}`;
    return { protocolValid: true, source: "qwen-stream-json", status: "failed", summary: capSummary(s.resultText ?? modelError), modelError };
  }
  const unusable = unusableFinalReply({
    content: s.resultText,
    reasoning: s.lastAssistantThinking ? "(reasoning)" : null,
    finishReason: null,
  });
  if (unusable) return { protocolValid: true, source: "qwen-stream-json", status: "failed", summary: capSummary(s.resultText ?? ""), modelError: unusable };
  return { protocolValid: true, source: "qwen-stream-json", status: "completed", summary: s.resultText ?? "", modelError: null };
}

// ── the debug-log watch ─────────────────────────────────────────────────────────────────────

/** Polls `<qwenHome>/debug/*.txt` for failed attempts; calls `onFailed` for each new one. */
function watchDebugLog(debugDir: string, onFailed: (a: QwenFailedAttempt) => void, intervalMs = 200): () => void {
  const offsets = new Map<string, number>();
  let busy = false;
  const tick = async () => {
    if (busy || !existsSync(debugDir)) return;
    busy = true;
    try {
      for (const name of await readdir(debugDir)) {
        if (!name.endsWith(".txt")) continue;
        const file = join(debugDir, name);
        // The agent can write here: only a regular file is read, never through a link, never blocking on a FIFO.
        const st = await lstat(file);
        if (!st.isFile()) continue;
        const size = st.size;
        const from = offsets.get(file) ?? 0;
        if (size <= from) continue;
        const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        try {
          // Only whole lines: a partial last line is read again on the next tick.
          const buf = Buffer.alloc(Math.min(size - from, 1 << 20));
          const { bytesRead } = await fh.read(buf, 0, buf.length, from);
          const text = buf.subarray(0, bytesRead).toString("utf8");
          const end = text.lastIndexOf("\n");
          if (end < 0) continue;
          offsets.set(file, from + Buffer.byteLength(text.slice(0, end + 1)));
          for (const a of failedAttemptsIn(text.slice(0, end + 1))) onFailed(a);
        } finally {
          await fh.close();
        }
      }
    } catch {
      /* the log is a convenience; the stream is the record */
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  return () => clearInterval(timer);
}

// ── the engine ──────────────────────────────────────────────────────────────────────────────

export interface QwenCodeEngineOptions {
  /**
   * Failed model attempts Qwen Code may make before the engine stops it (default 1: a
   * model error ends the run at once, as with the other engines; Qwen Code's own limit is 7).
   */
  maxFailedAttempts?: number;
}

export function createQwenCodeEngine(opts: QwenCodeEngineOptions = {}): Engine {
  const maxFailed = Math.max(1, opts.maxFailedAttempts ?? 1);
  return {
    name: "qwen-code",
    usesModel: true,
    async run(ctx: EngineContext): Promise<EngineOutcome> {
      const t0 = Date.now();
      if (!ctx.model) {
        return notStarted("the qwen-code engine needs a model (no proxy was given)");
      }
      const agentHome = agentHomeDir(ctx);
      const qwenHome = join(agentHome, ".qwen");
      await mkdir(qwenHome, { recursive: true });
      const settingsFile = join(agentHome, "qwen-system-settings.json");
      await writeFile(settingsFile, JSON.stringify(qwenSettings(ctx.env), null, 2) + "\n");
      const trajectory = createTrajectoryWriter(trajectoryPath(ctx.runDir), { engine: "qwen-code" });
      const stream = createQwenStreamAccumulator();
      const toolNames = new Map<string, string>();
      // Our own stop, on top of the run's: Qwen Code's retry loop is cut short.
      const stop = new AbortController();
      // Aborted on the closing `result` message: Qwen Code otherwise lingers seconds in its shutdown housekeeping.
      const finished = new AbortController();
      let stoppedOn: QwenFailedAttempt | null = null;
      const unwatch = watchDebugLog(join(qwenHome, "debug"), (a) => {
        trajectory.write({ kind: "model_error", text: `Qwen Code attempt ${a.attempt} failed${a.status ? ` with HTTP ${a.status}` : ""}` });
        if (a.attempt >= maxFailed && !stoppedOn) {
          stoppedOn = a;
          stop.abort();
        }
      });
      try {
        const proc = await spawnAgent(
          { ...ctx, signal: AbortSignal.any([ctx.signal, stop.signal]) },
          {
            command: process.execPath,
            args: qwenArgs(ctx.model.model, ctx.instruction),
            env: {
              ...QWEN_ENV,
              QWEN_HOME: qwenHome,
              QWEN_CODE_SYSTEM_SETTINGS_PATH: settingsFile,
              // Not created: so no machine-wide /etc/qwen-code/system-defaults.json applies.
              QWEN_CODE_SYSTEM_DEFAULTS_PATH: join(agentHome, "qwen-system-defaults.json"),
            },
            roBinds: [dirname(process.execPath), QWEN_PACKAGE_DIR],
            finished: finished.signal,
            // Its answer is in hand: 150 ms to exit, then TERM, and KILL 100 ms later (its SIGTERM
            // handler starts the same housekeeping; measured: TERM alone ended it ~350 ms later).
            finishedGraceMs: 150,
            finishedKillMs: 100,
            onStdoutLine: (line) => {
              const msg = stream.push(line);
              if (!msg) return;
              if (msg.type === "result") finished.abort();
              for (const ev of qwenMessageToTrajectory(msg)) {
                if (ev.kind === "tool_call" && ev.call_id && ev.tool) toolNames.set(ev.call_id, ev.tool);
                if (ev.kind === "tool_result" && ev.call_id) ev.tool = toolNames.get(ev.call_id);
                trajectory.write(ev);
              }
            },
          },
        );
        unwatch();
        const summary = stream.summary();
        const result: AgentResult = proc.started
          ? decideQwenResult(summary, { exitCode: proc.exitCode, timedOut: proc.timedOut, stderrLastLines: proc.stderr.lastLines }, stoppedOn)
          : NO_RESULT;
        if (result.status === "completed") trajectory.write({ kind: "final", text: result.summary ?? "" });
        else if (result.modelError && !stoppedOn && !summary.apiError) trajectory.write({ kind: "model_error", text: result.modelError });
        return outcomeFrom(proc, t0, result);
      } finally {
        unwatch();
        trajectory.close();
      }
    },
  };
}

export const qwenCodeEngine: Engine = createQwenCodeEngine();
