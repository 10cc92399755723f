// summary.json: every attempt's outcome, counts, pass@k per (fixture, engine), per engine
// and per fixture, and the loop's exit code (worst of its runs). Pure aggregation.
import type { RunStatus } from "../evidence/report.ts";
import { EXIT } from "../core/exit-codes.ts";
import { meanSeries, passAtKSeries } from "./passk.ts";
import type { LoopConfig, LoopSettings } from "./config.ts";
import { cheatRates, type CheatRate } from "./cheat-rate.ts";

export const LOOP_SUMMARY_SCHEMA = "cto-harness/loop-summary@1";

export type AttemptStatus = RunStatus | "not_run";

export interface AttemptRecord {
  fixture: string;
  engine: string;
  attempt: number;
  /** Its run directory's name inside the loop dir, which is its report's run_id (null when never started). */
  run_id: string | null;
  status: AttemptStatus;
  failure_reason: string | null;
  duration_ms: number | null;
  /** Kept from an earlier invocation (`--resume`) rather than run now. */
  resumed: boolean;
  /** Earlier directories of this attempt that were not trusted and why; never deleted. */
  superseded: { run_id: string; reason: string }[];
  /** An impossible variant's classification (cheated, flagged, failed); absent otherwise. */
  impossible?: string | null;
}

export interface PassAtK {
  n_judged: number;
  n_pass: number;
  n_blocked: number;
  n_error: number;
  /** Attempts that never ran (the loop was interrupted first): neither judged nor errors. */
  n_not_run: number;
  /** Index k-1 holds pass@k; null where fewer than k attempts were judged. */
  pass_at_k: (number | null)[];
}

export interface LoopSummary {
  schema: typeof LOOP_SUMMARY_SCHEMA;
  loop_dir: string;
  config: LoopConfig;
  config_hash: string;
  settings: LoopSettings;
  started_at: string;
  finished_at: string;
  interrupted: boolean;
  counts: Record<AttemptStatus, number> & { total: number };
  exit_code: number;
  /** pass@k counts only judged attempts (pass or fail): a blocked or errored attempt says nothing about the agent. */
  pass_at_k: {
    by_pair: ({ fixture: string; engine: string } & PassAtK)[];
    by_engine: Record<string, (number | null)[]>;
    by_fixture: Record<string, (number | null)[]>;
  };
  attempts: AttemptRecord[];
  /** Run directories in the loop dir that no attempt claims (left on disk, never deleted). */
  unmatched_run_dirs: string[];
  /** With `--impossible`: per engine × model, the share of runs that cheated (docs/judging.md). */
  cheat_rate?: CheatRate[];
}

const EXIT_OF: Record<AttemptStatus, number> = { pass: EXIT.pass, fail: EXIT.fail, blocked: EXIT.blocked, error: EXIT.error, not_run: EXIT.error };

/** Worst exit code of the attempts: error 3 > blocked 2 > fail 1 > pass 0. Not-run attempts count as errors. */
export function loopExitCode(attempts: { status: AttemptStatus }[]): number {
  return attempts.reduce<number>((worst, a) => Math.max(worst, EXIT_OF[a.status]), EXIT.pass);
}

export function summarise(input: {
  loopDir: string;
  config: LoopConfig;
  configHash: string;
  settings: LoopSettings;
  startedAt: string;
  finishedAt: string;
  interrupted: boolean;
  attempts: AttemptRecord[];
  unmatchedRunDirs?: string[];
}): LoopSummary {
  const { config, attempts } = input;
  const counts = { total: attempts.length, pass: 0, fail: 0, blocked: 0, error: 0, not_run: 0 };
  for (const a of attempts) counts[a.status]++;

  const byPair: LoopSummary["pass_at_k"]["by_pair"] = [];
  for (const fixture of config.fixtures) {
    for (const engine of config.engines) {
      const mine = attempts.filter((a) => a.fixture === fixture && a.engine === engine);
      const n = mine.filter((a) => a.status === "pass" || a.status === "fail").length;
      const c = mine.filter((a) => a.status === "pass").length;
      byPair.push({
        fixture,
        engine,
        n_judged: n,
        n_pass: c,
        n_blocked: mine.filter((a) => a.status === "blocked").length,
        n_error: mine.filter((a) => a.status === "error").length,
        n_not_run: mine.filter((a) => a.status === "not_run").length,
        pass_at_k: passAtKSeries(n, c, config.attempts),
      });
    }
  }
  const byEngine: Record<string, (number | null)[]> = {};
  for (const e of config.engines) byEngine[e] = meanSeries(byPair.filter((p) => p.engine === e).map((p) => p.pass_at_k), config.attempts);
  const byFixture: Record<string, (number | null)[]> = {};
  for (const f of config.fixtures) byFixture[f] = meanSeries(byPair.filter((p) => p.fixture === f).map((p) => p.pass_at_k), config.attempts);

  return {
    schema: LOOP_SUMMARY_SCHEMA,
    loop_dir: input.loopDir,
    config,
    config_hash: input.configHash,
    settings: input.settings,
    started_at: input.startedAt,
    finished_at: input.finishedAt,
    interrupted: input.interrupted,
    counts,
    exit_code: loopExitCode(attempts),
    pass_at_k: { by_pair: byPair, by_engine: byEngine, by_fixture: byFixture },
    attempts,
    unmatched_run_dirs: input.unmatchedRunDirs ?? [],
    ...(config.impossible ? { cheat_rate: cheatRates(attempts, config.engines, config.model) } : {}),
  };
}
