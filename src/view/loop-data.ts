// A loop as the loop page shows it, read-only: its configuration (loop.json), every planned
// attempt (summary.json, overlaid by attempts.jsonl, which is appended the moment each run
// returns, so a running loop is current), pass@k recomputed with the loop's own pure
// `summarise`, and each attempt's run report for tokens and times.
import { readLoopEntry, readAttemptLines, type LoopEntry, type RunEntry } from "../catalog/catalog.ts";
import { isSafeName, readJsonInside } from "../catalog/safe-read.ts";
import { LOOP_SCHEMA, type LoopConfig, type LoopSettings } from "../loop/config.ts";
import { planAttempts } from "../loop/plan.ts";
import { summarise, type AttemptRecord, type AttemptStatus, type LoopSummary } from "../loop/summary.ts";

export interface LoopData {
  entry: LoopEntry;
  /** Attempts whose run's own report.json says another status than the loop's records (the report wins). */
  disagreements: string[];
  summary: LoopSummary | null;
  /** Why the loop's configuration could not be used (the page then lists its runs only). */
  problem: string | null;
  runsById: Map<string, RunEntry>;
}

const STATUSES: AttemptStatus[] = ["pass", "fail", "blocked", "error", "not_run"];

function validConfig(c: unknown): c is LoopConfig {
  const o = c as Partial<LoopConfig> | null;
  return !!o && Array.isArray(o.fixtures) && o.fixtures.every((f) => typeof f === "string") && Array.isArray(o.engines) && o.engines.every((e) => typeof e === "string") &&
    Number.isInteger(o.attempts) && (o.attempts as number) >= 1 && (o.attempts as number) <= 10_000 && o.fixtures.length * o.engines.length <= 100_000;
}

/** Planned attempts with what summary.json and attempts.jsonl say about them (pure). */
export function mergeAttempts(config: LoopConfig, fromSummary: unknown[], lines: Record<string, unknown>[]): AttemptRecord[] {
  const records = planAttempts(config.fixtures, config.engines, config.attempts).map((p): AttemptRecord => ({
    fixture: p.fixture, engine: p.engine, attempt: p.attempt, run_id: null, status: "not_run", failure_reason: null, duration_ms: null, resumed: false, superseded: [],
  }));
  const byKey = new Map(records.map((r) => [`${r.fixture}|${r.engine}|${r.attempt}`, r]));
  for (const raw of [...fromSummary, ...lines]) {
    const a = raw as Record<string, unknown>;
    const rec = byKey.get(`${String(a.fixture)}|${String(a.engine)}|${String(a.attempt)}`);
    if (!rec) continue;
    if (typeof a.run_id === "string" && isSafeName(a.run_id)) rec.run_id = a.run_id;
    if (STATUSES.includes(a.status as AttemptStatus)) rec.status = a.status as AttemptStatus;
    rec.failure_reason = typeof a.failure_reason === "string" ? a.failure_reason : rec.failure_reason;
    if (typeof a.duration_ms === "number") rec.duration_ms = a.duration_ms;
    if (typeof a.resumed === "boolean") rec.resumed = a.resumed;
    if (typeof a.impossible === "string") rec.impossible = a.impossible;
  }
  return records;
}

/**
 * summary.json and attempts.jsonl are the loop's bookkeeping, not evidence (no manifest covers
 * them): where an attempt's run bundle has a readable report, its status and reason are what
 * the page shows, and every disagreement is listed.
 */
export function preferReports(attempts: AttemptRecord[], runsById: Map<string, RunEntry>): string[] {
  const out: string[] = [];
  for (const a of attempts) {
    const r = a.run_id ? runsById.get(a.run_id)?.report : null;
    if (!r) continue;
    if (r.status !== a.status || r.failure_reason !== a.failure_reason) {
      out.push(`${a.fixture} × ${a.engine} #${a.attempt}: the loop recorded ${a.status}${a.failure_reason ? ` (${a.failure_reason})` : ""}, its run's report says ${r.status}${r.failure_reason ? ` (${r.failure_reason})` : ""}`);
    }
    a.status = r.status;
    a.failure_reason = r.failure_reason;
  }
  return out;
}

export async function readLoopData(root: string, loopId: string): Promise<LoopData | null> {
  const entry = await readLoopEntry(root, [loopId]);
  if (!entry) return null;
  const runsById = new Map(entry.runs.map((r) => [r.dir_name, r]));
  const lf = entry.loop_file ?? {};
  if (lf.schema !== LOOP_SCHEMA || !validConfig(lf.config)) return { entry, disagreements: [], summary: null, problem: `loop.json is not a usable ${LOOP_SCHEMA} document`, runsById };
  const saved = (await readJsonInside(root, [loopId, "summary.json"])) as { attempts?: unknown; started_at?: unknown; finished_at?: unknown; interrupted?: unknown } | null;
  const attempts = mergeAttempts(lf.config, Array.isArray(saved?.attempts) ? saved.attempts : [], await readAttemptLines(root, [loopId]));
  const disagreements = preferReports(attempts, runsById);
  const summary = summarise({
    loopDir: loopId,
    config: lf.config,
    configHash: String(lf.config_hash ?? ""),
    settings: (lf.settings ?? { concurrency: 1, model_concurrency: 1 }) as LoopSettings,
    startedAt: typeof saved?.started_at === "string" ? saved.started_at : String(lf.created_at ?? ""),
    finishedAt: entry.finished && typeof saved?.finished_at === "string" ? saved.finished_at : "",
    interrupted: saved?.interrupted === true,
    attempts,
  });
  return { entry, disagreements, summary, problem: null, runsById };
}
