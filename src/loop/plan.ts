// The loop's schedule: fixtures × engines × attempts, ordered attempt-major so every
// (fixture, engine) pair gets a first result early. Run directories are named by runOnce
// (the contract name `<ts>-<fixture>-<pid>[-<n>]`), so which directory belongs to which
// attempt is recorded (attempts.jsonl) and, for runs cut off before their record was
// written, recovered from the directories' own task.json/report.json. And the resume
// decision: which attempts already have trustworthy evidence. Pure: no file system.
import type { RunStatus } from "../evidence/report.ts";

export interface PlannedAttempt {
  fixture: string;
  engine: string;
  /** 1-based. */
  attempt: number;
  /** Stable name of the attempt (`<fixture>__<engine>__a<k>`): keys attempts.jsonl and error files. Not a run directory. */
  key: string;
}

/** A fixture reference (id or path) as a file-name-safe label. */
export function fixtureLabel(ref: string): string {
  const last = ref.replace(/\/+$/, "").split("/").pop() || ref;
  return last.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[-.]+/, "").slice(0, 60) || "fixture";
}

export function planAttempts(fixtures: string[], engines: string[], attempts: number): PlannedAttempt[] {
  // Two fixture paths with the same basename must not share attempt keys.
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
      for (const engine of engines) out.push({ fixture, engine, attempt: a, key: `${labels[i]}__${engine}__a${a}` });
    });
  }
  return out;
}

/** One line of `<loop>/attempts.jsonl`, appended as soon as runOnce returns. */
export interface AttemptEntry {
  /** An impossible variant's classification, when the loop ran variants. */
  impossible?: string | null;
  key: string;
  fixture: string;
  engine: string;
  attempt: number;
  run_id: string;
  status: RunStatus;
  failure_reason: string | null;
  duration_ms: number;
  finished_at: string;
}

/** A run directory of the loop as its own files describe it (task.json, else report.json). */
export interface RunDirInfo {
  runId: string;
  /** `fixture.id` of task.json/report.json; null when neither could be read. */
  fixtureId: string | null;
  engine: string | null;
}

export interface RunAssignment {
  /** Attempt key → its run directories, oldest first. */
  byAttempt: Map<string, string[]>;
  /** Directories no record names and no attempt could take (left on disk, listed in the summary). */
  unmatched: string[];
}

/**
 * Each attempt's run directories: those attempts.jsonl names (in its order), then the
 * directories no record names — a run cut off (loop killed) after runOnce created its
 * directory but before the record was written. Those are matched by fixture id + engine to
 * the attempts of that pair that have no recorded run, one each, in plan order, oldest
 * directory first (names start with the run's UTC start time, so name order is start order).
 */
export function assignRunDirs(
  plan: PlannedAttempt[],
  entries: AttemptEntry[],
  dirs: RunDirInfo[],
  fixtureIdOf: Record<string, string>,
): RunAssignment {
  const byAttempt = new Map<string, string[]>(plan.map((p) => [p.key, []]));
  const recorded = new Set<string>();
  for (const e of entries) {
    const list = byAttempt.get(e.key);
    if (!list || recorded.has(e.run_id)) continue;
    list.push(e.run_id);
    recorded.add(e.run_id);
  }
  const free = plan.filter((p) => byAttempt.get(p.key)!.length === 0);
  const unmatched: string[] = [];
  const leftovers = dirs.filter((d) => !recorded.has(d.runId)).sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
  for (const d of leftovers) {
    const i = free.findIndex((p) => d.fixtureId !== null && (fixtureIdOf[p.fixture] ?? fixtureLabel(p.fixture)) === d.fixtureId && p.engine === d.engine);
    if (i < 0) {
      unmatched.push(d.runId);
      continue;
    }
    byAttempt.get(free[i]!.key)!.push(d.runId);
    free.splice(i, 1);
  }
  return { byAttempt, unmatched };
}

/** What we learned about one existing run directory of an attempt. */
export interface ExistingRun {
  runId: string;
  valid: boolean;
  status: RunStatus | null;
  failureReason: string | null;
  /** An impossible variant's classification from its report. */
  impossible?: string | null;
  problems: string[];
}

export type ResumeDecision =
  | { action: "keep"; runId: string; superseded: { run_id: string; reason: string }[] }
  | { action: "run"; superseded: { run_id: string; reason: string }[] };

function supersededReason(e: ExistingRun): string {
  if (!e.valid) return `invalid bundle: ${e.problems.slice(0, 2).join("; ") || "no report"}`;
  return e.failureReason === "interrupted" ? "interrupted" : "superseded";
}

/**
 * Keep the attempt's latest directory when it holds a verified report that is not an
 * interruption (a fail is a result, not something to retry away); otherwise run it again
 * (runOnce names the new directory). Old directories are never touched: they are listed
 * as superseded with the reason.
 */
export function decideResume(history: ExistingRun[]): ResumeDecision {
  const latest = history.at(-1);
  if (latest && latest.valid && latest.failureReason !== "interrupted") {
    return { action: "keep", runId: latest.runId, superseded: history.slice(0, -1).map((e) => ({ run_id: e.runId, reason: supersededReason(e) })) };
  }
  return { action: "run", superseded: history.map((e) => ({ run_id: e.runId, reason: supersededReason(e) })) };
}
