// Runs one child process (an agent, a test command) with a wall-clock timeout, output
// streamed to capped log files, and the whole process group killed on timeout.
// Owned by the sandbox module: bubblewrap isolation plugs in here.
import { spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";

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
}

export interface StreamSummary {
  bytes: number;
  truncated: boolean;
  /** First and last lines seen (for protocol-failure markers). */
  firstLines: string[];
  lastLines: string[];
}

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
}

export const DEFAULT_CAP_BYTES = 8 * 1024 * 1024;
const KEEP_LINES = 5;

class CappedLog {
  readonly summary: StreamSummary = { bytes: 0, truncated: false, firstLines: [], lastLines: [] };
  #out: WriteStream;
  #written = 0;
  #cap: number;
  #partial = "";
  #onLine?: (line: string) => void;
  constructor(path: string, cap: number, onLine?: (line: string) => void) {
    this.#out = createWriteStream(path);
    this.#cap = cap;
    this.#onLine = onLine;
  }
  write(chunk: Buffer): void {
    this.summary.bytes += chunk.length;
    if (this.#written < this.#cap) {
      const room = this.#cap - this.#written;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.#out.write(part);
      this.#written += part.length;
      if (part.length < chunk.length) this.summary.truncated = true;
    } else {
      this.summary.truncated = true;
    }
    this.#lines(chunk.toString("utf8"));
  }
  #lines(text: string): void {
    const pieces = (this.#partial + text).split("\n");
    this.#partial = pieces.pop() ?? "";
    // A line without a newline for over 1 MiB is kept short: we only need its head.
    if (this.#partial.length > 1 << 20) this.#partial = this.#partial.slice(0, 1 << 20);
    for (const line of pieces) this.#line(line);
  }
  #line(line: string): void {
    if (this.summary.firstLines.length < KEEP_LINES) this.summary.firstLines.push(line.slice(0, 2000));
    this.summary.lastLines.push(line.slice(0, 2000));
    if (this.summary.lastLines.length > KEEP_LINES) this.summary.lastLines.shift();
    this.#onLine?.(line);
  }
  async close(): Promise<void> {
    if (this.#partial) this.#line(this.#partial);
    this.#partial = "";
    if (this.summary.truncated) {
      this.#out.write(`\n[cto-harness: output cut at ${this.#cap} bytes; ${this.summary.bytes} bytes were produced]\n`);
    }
    await new Promise<void>((resolve) => this.#out.end(resolve));
  }
}

/** Sends `sig` to the whole process group led by `pid` (children were spawned detached). */
export function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* already gone */
  }
}

export async function runProcess(spec: ProcessSpec): Promise<ProcessOutcome> {
  const started = Date.now();
  const cap = spec.capBytes ?? DEFAULT_CAP_BYTES;
  const out = new CappedLog(spec.stdoutFile, cap, spec.onStdoutLine);
  const err = new CappedLog(spec.stderrFile, cap);
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    detached: true, // own process group, so the whole tree can be killed at once
    stdio: [spec.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  let timedOut = false;
  let aborted = false;
  const result = await new Promise<{ code: number | null; signal: string | null; error?: string }>((resolve) => {
    let settled = false;
    const settle = (v: { code: number | null; signal: string | null; error?: string }) => {
      if (settled) return;
      settled = true;
      resolve(v);
    };
    const stop = () => {
      if (!child.pid) return;
      killGroup(child.pid, "SIGTERM");
      setTimeout(() => {
        killGroup(child.pid!, "SIGKILL");
        // Resolve without waiting for pipes a surviving grandchild may hold open.
        setTimeout(() => settle({ code: null, signal: "SIGKILL" }), 200).unref();
      }, spec.graceMs ?? 2000).unref();
    };
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
    child.stdout!.on("data", (c: Buffer) => out.write(c));
    child.stderr!.on("data", (c: Buffer) => err.write(c));
    if (spec.stdin !== undefined) {
      child.stdin!.on("error", () => {});
      child.stdin!.end(spec.stdin);
    }
    child.on("error", (e) => {
      clearTimeout(timer);
      settle({ code: null, signal: null, error: e.message });
    });
    // 'exit' (not 'close'): a grandchild holding our pipes must not keep us waiting.
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      spec.signal?.removeEventListener("abort", onAbort);
      if (child.pid) killGroup(child.pid, "SIGKILL"); // leftovers of the group
      setTimeout(() => settle({ code, signal }), 50).unref();
    });
  });
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
  };
}
