// Small I/O helpers of the worker: the proxy's request records of a run, and waits that end
// at a deadline or when any of several signals aborts.
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** status / upstream_error / refused of every line of backend/model-requests.jsonl (torn lines skipped). */
export async function readModelRequests(runDir: string): Promise<{ status: number; upstream_error?: string; refused?: boolean }[]> {
  const text = await readFile(join(runDir, "backend", "model-requests.jsonl"), "utf8").catch(() => "");
  const out: { status: number; upstream_error?: string; refused?: boolean }[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as { status?: unknown; upstream_error?: unknown; refused?: unknown };
      if (typeof r.status !== "number") continue;
      out.push({ status: r.status, ...(typeof r.upstream_error === "string" ? { upstream_error: r.upstream_error } : {}), refused: r.refused === true });
    } catch {
      /* torn line */
    }
  }
  return out;
}

/** Resolves at `at` (epoch ms) or as soon as a signal aborts. */
export function sleepUntil(at: number, signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const ms = Math.max(0, at - Date.now());
    const done = () => {
      clearTimeout(t);
      for (const s of signals) s.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    for (const s of signals) {
      if (s.aborted) return done();
      s.addEventListener("abort", done, { once: true });
    }
  });
}
