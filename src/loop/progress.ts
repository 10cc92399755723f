// Live progress of a loop on stderr: redrawn in place on a TTY, one line per finished run
// otherwise (logs, CI). The line text is pure so it is tested without a terminal.
import type { AttemptStatus } from "./summary.ts";

export interface ProgressState {
  total: number;
  done: number;
  running: number;
  pass: number;
  fail: number;
  blocked: number;
  error: number;
  startedAtMs: number;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}

/** ETA from the average wall-clock time per finished attempt (concurrency is already in it). */
export function progressLine(s: ProgressState, nowMs: number): string {
  const elapsed = nowMs - s.startedAtMs;
  const eta = s.done > 0 && s.done < s.total ? formatDuration((elapsed / s.done) * (s.total - s.done)) : s.done >= s.total ? "0s" : "?";
  return (
    `loop ${s.done}/${s.total} done, ${s.running} running | pass ${s.pass} fail ${s.fail} blocked ${s.blocked} error ${s.error}` +
    ` | elapsed ${formatDuration(elapsed)} ETA ${eta}`
  );
}

export interface ProgressSink {
  started(label: string): void;
  finished(label: string, status: AttemptStatus, reason: string | null, runDir: string | null): void;
  close(): void;
}

export function createProgress(total: number, out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean }, now = () => Date.now()): ProgressSink & { state: ProgressState } {
  const state: ProgressState = { total, done: 0, running: 0, pass: 0, fail: 0, blocked: 0, error: 0, startedAtMs: now() };
  const tty = Boolean(out.isTTY);
  let timer: NodeJS.Timeout | null = null;
  const redraw = () => out.write(`\r\x1b[2K${progressLine(state, now())}`);
  if (tty) {
    timer = setInterval(redraw, 1000);
    timer.unref();
  }
  return {
    state,
    started() {
      state.running++;
      if (tty) redraw();
    },
    finished(label, status, reason, runDir) {
      state.running = Math.max(0, state.running - 1);
      state.done++;
      if (status === "pass" || status === "fail" || status === "blocked" || status === "error") state[status]++;
      else state.error++;
      const line = `[${state.done}/${state.total}] ${label}: ${status}${reason ? ` (${reason})` : ""}${runDir ? ` ${runDir}` : ""}`;
      if (tty) out.write(`\r\x1b[2K${line}\n`), redraw();
      else out.write(line + "\n");
    },
    close() {
      if (timer) clearInterval(timer);
      if (tty) out.write(`\r\x1b[2K${progressLine(state, now())}\n`);
    },
  };
}
