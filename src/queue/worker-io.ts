// Small I/O helpers of the worker: the proxy's request records of a run, and waits that end
// at a deadline or when any of several signals aborts.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunStatus } from "../evidence/report.ts";
import type { RunFacts } from "./outcome.ts";

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

/** The statuses of the probe's chat requests in probe.json (none when no probe ran). */
export async function readProbeStatuses(runDir: string): Promise<number[]> {
  try {
    const p = JSON.parse(await readFile(join(runDir, "probe.json"), "utf8")) as { text?: { status?: unknown }; tools?: { status?: unknown } | null };
    return [p.text?.status, p.tools?.status].filter((s): s is number => typeof s === "number");
  } catch {
    return [];
  }
}

/** What classifyOutcome needs from a finished run's directory and report. */
export async function runFacts(runDir: string, report: { status: RunStatus; failure_reason: string | null }): Promise<RunFacts> {
  return { status: report.status, failure_reason: report.failure_reason, model_requests: await readModelRequests(runDir), probe_statuses: await readProbeStatuses(runDir) };
}
