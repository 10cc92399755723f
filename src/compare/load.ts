// The outcomes of one side of a comparison, read-only from disk: a loop directory (its
// attempts, each joined with its run's report for tokens and times) or a directory of runs.
import { basename, resolve } from "node:path";
import type { Report } from "../evidence/report.ts";
import { readCatalog, readLoopEntry, readAttemptLines, readRunEntry, type RunEntry } from "../catalog/catalog.ts";
import { isSafeName, readJsonInside, readTextInside, resolveInside } from "../catalog/safe-read.ts";
import { verifyBundle } from "../evidence/verify.ts";
import { secretValuesInEnv } from "../config/providers.ts";
import type { Outcome, SideInput } from "./compare.ts";

export class CompareInputError extends Error {}

function fixtureKey(r: Report): string {
  return r.fixture.variant ? `${r.fixture.id}#${r.fixture.variant}` : r.fixture.id;
}

/** Whether a run's bundle verifies now (schema, hashes, baseline, report against evidence, leak rescan). */
async function verifies(root: string, address: string[]): Promise<boolean> {
  let secrets: string[] = [];
  try {
    secrets = secretValuesInEnv(process.env);
  } catch {
    // A broken cto-harness.config.yaml here says nothing about the bundles: verify without a leak rescan.
  }
  try {
    return (await verifyBundle(await resolveInside(root, address, "dir"), { secrets })).ok;
  } catch {
    return false;
  }
}

/** `dirName`: the run's directory, what links use (a report's own run_id is only a claim). */
export function outcomeOf(r: Report, attempt: number | null, verified: boolean | null = null, dirName = r.run_id): Outcome {
  return {
    fixture: fixtureKey(r),
    engine: r.backend,
    model: r.case_model,
    provider: r.case_model_provider,
    endpoint_kind: r.endpoint_kind,
    attempt,
    run_id: dirName,
    status: r.status,
    agent_ms: r.case_process_started ? (r.timings.agent_ms ?? null) : null,
    total_ms: r.timings.total_ms ?? null,
    tokens: r.model_traffic.prompt_tokens + r.model_traffic.completion_tokens,
    verified,
  };
}

interface AttemptLike {
  fixture?: unknown;
  engine?: unknown;
  attempt?: unknown;
  run_id?: unknown;
  status?: unknown;
}

/** A loop's outcomes: one per planned attempt (summary.json, else attempts.jsonl), with its run's report. */
export async function loopOutcomes(root: string, loopPath: string[]): Promise<Outcome[]> {
  const loop = await readLoopEntry(root, loopPath);
  if (!loop) throw new CompareInputError(`${loopPath.join("/") || root} has no readable loop.json: give a directory made by 'cto-harness loop'`);
  const byRun = new Map<string, RunEntry>(loop.runs.map((r) => [r.dir_name, r]));
  const summary = (await readJsonInside(root, [...loopPath, "summary.json"])) as { attempts?: AttemptLike[] } | null;
  const lines = await readAttemptLines(root, loopPath);
  // attempts.jsonl is appended the moment a run returns; the summary can lag a second behind.
  const attempts = new Map<string, AttemptLike>();
  const keyOf = (a: AttemptLike) => `${String(a.fixture)}|${String(a.engine)}|${String(a.attempt)}`;
  for (const a of Array.isArray(summary?.attempts) ? summary.attempts : []) attempts.set(keyOf(a), a);
  for (const a of lines as AttemptLike[]) attempts.set(keyOf(a), a);
  const out: Outcome[] = [];
  for (const a of attempts.values()) {
    const attempt = typeof a.attempt === "number" ? a.attempt : null;
    const runId = typeof a.run_id === "string" && isSafeName(a.run_id) ? a.run_id : null;
    const run = runId ? byRun.get(runId) : undefined;
    if (run?.report) out.push(outcomeOf(run.report, attempt, await verifies(root, run.address), run.dir_name));
    else {
      // An attempt that never ran, or whose bundle is unreadable: counted, never judged.
      out.push({
        fixture: String(a.fixture), engine: String(a.engine), model: "", provider: "", endpoint_kind: "real", attempt,
        run_id: runId ?? "", status: a.status === "blocked" || a.status === "error" ? a.status : "not_run", agent_ms: null, total_ms: null, tokens: null,
      });
    }
  }
  return out;
}

/** Runs directly in a runs directory (not in a loop), each verified. */
export async function looseOutcomes(root: string, runs: RunEntry[]): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const r of runs) if (r.report && r.report.role !== "baseline") out.push(outcomeOf(r.report, null, await verifies(root, r.address), r.dir_name));
  return out;
}

/** One side from a path on disk: a loop directory, a directory of runs, or a single run. */
export async function loadSide(path: string): Promise<SideInput> {
  const root = resolve(path);
  const name = basename(root);
  if (await readTextInside(root, ["loop.json"], 1)) return { label: name, outcomes: await loopOutcomes(root, []) };
  if (await readTextInside(root, ["report.json"], 1)) {
    const e = await readRunEntry(root, []);
    if (!e.report) throw new CompareInputError(`${path}: ${e.problem ?? "unreadable run"}`);
    return { label: name, outcomes: [outcomeOf(e.report, null, await verifies(root, []))] };
  }
  const cat = await readCatalog(root);
  const outcomes = await looseOutcomes(root, cat.runs);
  if (outcomes.length === 0) {
    const loops = cat.loops.length;
    throw new CompareInputError(
      `${path} holds no run bundles${loops ? ` (it holds ${loops} loop director${loops === 1 ? "y" : "ies"}: give one of those)` : ""}; give a loop directory or a directory of run directories`,
    );
  }
  return { label: name, outcomes };
}
