// The one small interface every agent engine implements (DESIGN §7):
// prepare → start (workspace, proxy URL, token, model) → events → exit → result.
import type { Fixture } from "../fixtures/types.ts";
import type { TraceWriter } from "../evidence/trace.ts";
import type { HiddenPath, SandboxMask } from "../sandbox/bwrap.ts";

export type EngineName = "fake-noop" | "fake-oracle" | "builtin" | "case" | "pi" | "qwen-code";
export const ENGINE_NAMES: readonly EngineName[] = ["fake-noop", "fake-oracle", "builtin", "case", "pi", "qwen-code"];

/** Where the agent reaches the model: always the run's own recording proxy, never the real endpoint. */
export interface ModelAccess {
  /** OpenAI-compatible base URL of the run's proxy, ending in `/v1` (loopback). */
  baseUrl: string;
  /** Per-run bearer token the proxy accepts; worthless outside this run. */
  token: string;
  /** The admitted model id. */
  model: string;
  /** Unix socket the proxy also listens on (bound into the sandbox), if any. */
  socketPath?: string;
}

export interface EngineContext {
  engine: EngineName;
  runId: string;
  runDir: string;
  /** `<runDir>/backend`: logs, result.json, markers. */
  backendDir: string;
  /** The fresh copy of the fixture the agent works in. */
  workspace: string;
  fixture: Fixture;
  /** The instruction text given to the agent. */
  instruction: string;
  /** Path of task.json (given to the case agent as CTO_HARNESS_TASK_FILE). */
  taskFile: string;
  /** Null for engines that need no model (fake-*). */
  model: ModelAccess | null;
  agentTimeoutMs: number;
  isolation: "bwrap" | "none";
  trace: TraceWriter;
  signal: AbortSignal;
  /** The harness's environment (for CTO_HARNESS_CASE_BIN etc.). Never passed through whole. */
  env: NodeJS.ProcessEnv;
  /** Protected paths the sandbox must hide. */
  protectedPaths: string[];
  /**
   * Directories the agent must not read besides those every sandboxed agent gets hidden
   * anyway (this run's directory, its fixture, the built-in fixtures, the expected-tests
   * cache: `agentHiddenPaths`): the runs directory, a loop's runs directory.
   */
  hiddenPaths?: HiddenPath[];
  /** Watches the agent's process tree (argv/environ sampled for secrets) until the returned stop is called. */
  watchProcess?: (pid: number) => () => void;
}

export interface AgentResult {
  /** null when the engine has no result protocol (fake engines). */
  protocolValid: boolean | null;
  /** Where the result came from: `result-file`, `stdout-line`, `pi-events`, `qwen-stream-json`, ... */
  source: string | null;
  status: string | null;
  summary: string | null;
  /** A model/API error the agent hit (e.g. Pi `stopReason:"error"`), if any. */
  modelError?: string | null;
  /** Text of `backend/case-result-protocol-failed.txt` when protocolValid is false. */
  protocolFailureMarker?: string;
}

export interface EngineOutcome {
  /** Whether the agent process was started at all. */
  started: boolean;
  exitCode: number | null;
  timedOut: boolean;
  /** Set when the process could not be started (e.g. binary missing). */
  startError?: string;
  result: AgentResult;
  durationMs: number;
  /**
   * The agent had given its final result and was then ended by cto-harness after a short grace
   * (its exit code is then null or the signal's): the result stands (trace `agent_after_result`).
   */
  stoppedAfterResult?: boolean;
  /** Set when the sandbox could not start, or its spec was refused (`refused`): the agent was not run. */
  sandboxUnavailable?: { reason: string; advice: string; refused?: boolean };
  /** Hidden directories masked inside the sandbox (set when the agent ran in it). */
  sandboxMasked?: SandboxMask[];
}

export interface Engine {
  name: EngineName;
  /** Engines that talk to a model get a proxy, the probe gate and a same-run baseline. */
  usesModel: boolean;
  /** Engines that run a fixture's own scripts (fake-oracle: the reference solution) get the run's sandbox too. */
  runsFixtureScripts?: boolean;
  /** A problem that would stop the agent from starting at all (checked as a gate, before any work). */
  precheck?(env: NodeJS.ProcessEnv): string | null;
  run(ctx: EngineContext): Promise<EngineOutcome>;
}

/** No result at all: the agent never ran, so there was nothing to parse. */
export const NO_RESULT: AgentResult = { protocolValid: null, source: null, status: null, summary: null };

/** The outcome of an engine that could not start its agent at all. */
export function notStarted(startError: string): EngineOutcome {
  return { started: false, exitCode: null, timedOut: false, durationMs: 0, startError, result: NO_RESULT };
}
