// The loop's schedule: fixtures × engines × attempts, each attempt a run directory with a
// fixed name, ordered attempt-major so every (fixture, engine) pair gets a first result
// early. And the resume decision: which attempts already have trustworthy evidence.
import type { RunStatus } from "../evidence/report.ts";

export interface PlannedAttempt {
  fixture: string;
  engine: string;
  /** 1-based. */
  attempt: number;
  /** Base run-directory name; reruns get `-r2`, `-r3`, ... */
  baseId: string;
}

/** A fixture reference (id or path) as a directory-name-safe label. */
export function fixtureLabel(ref: string): string {
  const last = ref.replace(/\/+$/, "").split("/").pop() || ref;
  return last.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[-.]+/, "").slice(0, 60) || "fixture";
}

export function planAttempts(fixtures: string[], engines: string[], attempts: number): PlannedAttempt[] {
  // Two fixture paths with the same basename must not share run directories.
  const used = new Map<string, number>();
  const labels = fixtures.map((f) => {
    const base = fixtureLabel(f);
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    return n === 1 ? base : `${base}-${n}`;
  });
  const out: PlannedAttempt[] = [];
  for (let a = 1; a <= attempts; a++) {
    fixtures.forEach((fixture, i) => {
      for (const engine of engines) out.push({ fixture, engine, attempt: a, baseId: `${labels[i]}__${engine}__a${a}` });
    });
  }
  return out;
}

/** What we learned about one existing run directory of an attempt. */
export interface ExistingRun {
  runId: string;
  valid: boolean;
  status: RunStatus | null;
  failureReason: string | null;
  problems: string[];
}

export type ResumeDecision =
  | { action: "keep"; runId: string }
  | { action: "run"; runId: string; superseded: { run_id: string; reason: string }[] };

/** Rerun index of a directory name for this attempt: 1 for the base name, n for `-rn`; null if not this attempt's. */
export function rerunIndex(baseId: string, name: string): number | null {
  if (name === baseId) return 1;
  if (!name.startsWith(`${baseId}-r`)) return null;
  const rest = name.slice(baseId.length + 2);
  return /^[0-9]+$/.test(rest) ? Number(rest) : null;
}

/**
 * Keep the latest directory when it holds a verified report that is not an interruption;
 * otherwise run again under the next free name. Old directories are never touched: they
 * are listed as superseded with the reason.
 */
export function decideResume(baseId: string, existing: ExistingRun[]): ResumeDecision {
  const mine = existing
    .map((e) => ({ e, idx: rerunIndex(baseId, e.runId) }))
    .filter((x): x is { e: ExistingRun; idx: number } => x.idx !== null)
    .sort((a, b) => a.idx - b.idx);
  if (mine.length === 0) return { action: "run", runId: baseId, superseded: [] };
  const latest = mine.at(-1)!;
  if (latest.e.valid && latest.e.failureReason !== "interrupted") return { action: "keep", runId: latest.e.runId };
  return {
    action: "run",
    runId: `${baseId}-r${latest.idx + 1}`,
    superseded: mine.map(({ e }) => ({
      run_id: e.runId,
      reason: !e.valid ? `invalid bundle: ${e.problems.slice(0, 2).join("; ") || "no report"}` : e.failureReason === "interrupted" ? "interrupted" : "superseded",
    })),
  };
}
