// Runs one child process (an agent, a test command) with a wall-clock timeout, output
// streamed to capped log files, and — on timeout, abort or exit — every process of the
// run killed, including grandchildren that left the process group with setsid.
// Optionally inside bubblewrap (`isolation`), where the PID namespace does the same job.
//
// Beside it: run-processes.ts (how the tree is found and ended outside bwrap, see
// docs/isolation.md) and capped-log.ts (the capped log files and their line summaries).
// A timeout resolves without waiting for pipes a surviving grandchild may hold open.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { buildBwrapArgs, resolveSandboxSpec } from "./bwrap.ts";
import { checkSandbox } from "./check.ts";
import { sandboxMasks } from "./masks.ts";
import { bwrapPath, detectHostLayout, SandboxSpecError, type SandboxMask, type SandboxSpec } from "./spec.ts";
import { CappedLog, emptySummary, type StreamSummary } from "./capped-log.ts";
import { killGroup, RUN_TOKEN_VAR, RunProcesses } from "./run-processes.ts";

export type { StreamSummary } from "./capped-log.ts";
export { killGroup, pidsWithEnv, procStartTime, RUN_TOKEN_VAR } from "./run-processes.ts";

export interface ProcessSpec {
  command: string;
  args: string[];
  cwd: string;
  /** The complete environment of the child (built from an allowlist by the caller). */
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Time between TERM and KILL on timeout. */
  graceMs?: number;
  stdoutFile: string;
  stderrFile: string;
  /** Per-stream cap on bytes written to the log files; the cut is noted in the file. */
  capBytes?: number;
  /** Text written to stdin, then closed; default: stdin is /dev/null. */
  stdin?: string;
  /** Called with each complete stdout line (before capping), e.g. to parse an event stream. */
  onStdoutLine?: (line: string) => void;
  signal?: AbortSignal;
  /** Run inside bubblewrap. If the sandbox cannot start, nothing is run (fail closed). */
  isolation?: SandboxSpec;
  /** Called with the child's pid right after spawn (e.g. to start a /proc sampler). */
  onSpawn?: (pid: number) => void;
  /**
   * Aborted by the caller once the agent has given its final result (Qwen Code's `result`
   * message, Pi's `agent_end`): the process gets `finishedGraceMs` to exit by itself, then
   * its whole tree is ended (TERM, then KILL after `finishedKillMs`). Not a timeout, not an abort.
   */
  finished?: AbortSignal;
  finishedGraceMs?: number;
  finishedKillMs?: number;
}

/** What happened after the agent gave its result (ProcessSpec.finished). */
export interface AfterResult {
  graceMs: number;
  /** True when the process exited within the grace; false when cto-harness ended its tree. */
  exitedByItself: boolean;
  /** The process's end, counted from the moment the result was seen. */
  afterResultMs: number;
}

/** Defaults for ProcessSpec.finished: short, because the result is already in hand. */
export const FINISHED_GRACE_MS = 200;
export const FINISHED_KILL_MS = 200;

export interface ProcessOutcome {
  started: boolean;
  startError?: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
  pid?: number;
  stdout: StreamSummary;
  stderr: StreamSummary;
  /** Set (and nothing run) when `isolation` was asked for and bubblewrap cannot start, or the spec was refused (`refused: true`). */
  sandboxUnavailable?: { reason: string; advice: string; refused?: boolean };
  /** With `isolation`: the hidden directories masked by an empty read-only tmpfs inside the sandbox (parents first). */
  sandboxMasked?: SandboxMask[];
  /** Processes of the run still alive after the child ended that had to be killed. */
  strayProcessesKilled?: number;
  /** Set when `finished` was signalled before the process ended. */
  afterResult?: AfterResult;
}

export const DEFAULT_CAP_BYTES = 8 * 1024 * 1024;
/** After the child exits: output idle this long means the pipes are drained. */
const PIPE_IDLE_MS = 100;
/** After the child exits: never wait on the pipes longer than this. */
const PIPE_DRAIN_MAX_MS = 5000;

export async function runProcess(spec: ProcessSpec): Promise<ProcessOutcome> {
  const started = Date.now();
  let command = spec.command;
  let args = spec.args;
  let masked: SandboxMask[] | undefined;
  if (spec.isolation) {
    const check = await checkSandbox();
    const notRun = (reason: string, advice: string, refused?: boolean): ProcessOutcome => {
      // Empty logs, like any run that produced no output, so the bundle's layout does not depend on the cause.
      writeFileSync(spec.stdoutFile, "");
      writeFileSync(spec.stderrFile, "");
      return {
        started: false,
        startError: `sandbox unavailable: ${reason}`,
        exitCode: null,
        signal: null,
        timedOut: false,
        aborted: false,
        durationMs: Date.now() - started,
        stdout: emptySummary(),
        stderr: emptySummary(),
        sandboxUnavailable: { reason, advice, ...(refused ? { refused } : {}) },
      };
    };
    if (!check.ok) return notRun(check.reason, check.advice);
    try {
      const resolved = await resolveSandboxSpec({ ...spec.isolation, cwd: spec.isolation.cwd ?? spec.cwd });
      const layout = detectHostLayout();
      masked = sandboxMasks(resolved, { layout });
      args = buildBwrapArgs(resolved, spec.command, spec.args, { layout });
      command = bwrapPath();
    } catch (e) {
      const advice = e instanceof SandboxSpecError && e.advice ? e.advice : "Fix the sandbox specification (protected paths, binds); the agent was not started.";
      return notRun((e as Error).message, advice, true);
    }
  }
  const cap = spec.capBytes ?? DEFAULT_CAP_BYTES;
  const out = new CappedLog(spec.stdoutFile, cap, spec.onStdoutLine);
  const err = new CappedLog(spec.stderrFile, cap);
  const token = randomBytes(16).toString("hex");
  const child = spawn(command, args, {
    cwd: spec.cwd,
    env: { ...spec.env, [RUN_TOKEN_VAR]: token },
    detached: true, // own process group, so the usual tree can be killed at once
    stdio: [spec.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  const tree = child.pid ? new RunProcesses(child.pid, token) : null;
  if (child.pid) spec.onSpawn?.(child.pid);
  let timedOut = false;
  let aborted = false;
  let strays = 0;
  const graceMs = spec.graceMs ?? 2000;
  let resultSeenAt: number | null = null;
  let exitedAt: number | null = null;
  let endedByUs = false;
  const onFinishedRef: { current: (() => void) | null } = { current: null };
  const result = await new Promise<{ code: number | null; signal: string | null; error?: string }>((resolve) => {
    let settled = false;
    let stopping = false;
    const timers: NodeJS.Timeout[] = [];
    let lastOutputAt = Date.now();
    const settle = (v: { code: number | null; signal: string | null; error?: string }) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      resolve(v);
    };
    const stop = (killAfterMs = graceMs) => {
      if (!child.pid || stopping) return;
      stopping = true;
      killGroup(child.pid, "SIGTERM");
      tree?.signalAll("SIGTERM");
      timers.push(
        setTimeout(() => {
          killGroup(child.pid!, "SIGKILL");
          tree?.signalAll("SIGKILL");
          // Resolve without waiting for pipes a surviving grandchild may hold open.
          timers.push(setTimeout(() => settle({ code: child.exitCode, signal: child.signalCode ?? "SIGKILL" }), 200));
        }, killAfterMs),
      );
    };
    const onFinished = () => {
      if (resultSeenAt !== null) return;
      resultSeenAt = Date.now();
      timers.push(
        setTimeout(() => {
          if (exitedAt !== null || stopping) return;
          endedByUs = true;
          stop(spec.finishedKillMs ?? FINISHED_KILL_MS);
        }, spec.finishedGraceMs ?? FINISHED_GRACE_MS),
      );
    };
    onFinishedRef.current = onFinished;
    spec.finished?.addEventListener("abort", onFinished, { once: true });
    if (spec.finished?.aborted) onFinished();
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, spec.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    spec.signal?.addEventListener("abort", onAbort, { once: true });
    if (spec.signal?.aborted) onAbort();
    child.stdout!.on("data", (c: Buffer) => {
      lastOutputAt = Date.now();
      out.write(c);
    });
    child.stderr!.on("data", (c: Buffer) => {
      lastOutputAt = Date.now();
      err.write(c);
    });
    child.stdout!.on("error", () => {});
    child.stderr!.on("error", () => {});
    if (spec.stdin !== undefined) {
      child.stdin!.on("error", () => {});
      child.stdin!.end(spec.stdin);
    }
    child.on("error", (e) => {
      clearTimeout(timer);
      spec.signal?.removeEventListener("abort", onAbort);
      settle({ code: null, signal: null, error: e.message });
    });
    // 'exit' (not 'close'): a grandchild holding our pipes must not keep us waiting.
    child.on("exit", (code, signal) => {
      exitedAt = Date.now();
      clearTimeout(timer);
      spec.signal?.removeEventListener("abort", onAbort);
      if (child.pid) killGroup(child.pid, "SIGKILL"); // leftovers of the group
      strays = tree?.signalAll("SIGKILL") ?? 0; // leftovers that left the group
      // Drain what is still buffered in the pipes (an agent that printed megabytes just
      // before exiting must not lose its last line), but never wait on a pipe a survivor
      // holds open: settle once output has been idle for PIPE_IDLE_MS, or after PIPE_DRAIN_MAX_MS.
      const exitSeen = Date.now();
      const t = setInterval(() => {
        const now = Date.now();
        if (now - lastOutputAt >= PIPE_IDLE_MS || now - exitSeen >= PIPE_DRAIN_MAX_MS) settle({ code, signal });
      }, 25);
      timers.push(t);
      let closed = 0;
      const onClose = () => {
        if (++closed === 2) settle({ code, signal });
      };
      child.stdout!.once("close", onClose);
      child.stderr!.once("close", onClose);
    });
  });
  tree?.stop();
  spec.finished?.removeEventListener("abort", onFinishedRef.current ?? (() => {}));
  child.stdout?.destroy();
  child.stderr?.destroy();
  await out.close();
  await err.close();
  return {
    started: result.error === undefined,
    startError: result.error,
    exitCode: result.code,
    signal: result.signal,
    timedOut,
    aborted,
    durationMs: Date.now() - started,
    pid: child.pid,
    stdout: out.summary,
    stderr: err.summary,
    ...(strays > 0 ? { strayProcessesKilled: strays } : {}),
    ...(resultSeenAt !== null
      ? {
          afterResult: {
            graceMs: spec.finishedGraceMs ?? FINISHED_GRACE_MS,
            exitedByItself: !endedByUs,
            afterResultMs: Math.max(0, (exitedAt ?? Date.now()) - resultSeenAt),
          },
        }
      : {}),
    ...(masked ? { sandboxMasked: masked } : {}),
  };
}
