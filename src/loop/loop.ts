// Running a loop: fixtures × engines × attempts, each attempt an independent run directory
// (named by runOnce, `<ts>-<fixture>-<pid>[-<n>]`) inside one loop directory holding
// loop.json, attempts.jsonl (attempt → run_id, appended as each run returns) and summary.json.
// Runs proceed N at a time; model requests are limited separately per endpoint (ModelSlots).
// An abort (Ctrl-C) stops every in-flight run through RunOptions.signal — each ends
// `error`/`interrupted` with a complete report — starts nothing new, and still writes the summary.
import { appendFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Report } from "../evidence/report.ts";
import type { RunOptions } from "../run/options.ts";
import type { EngineName } from "../engines/types.ts";
import { writeJsonAtomic } from "../evidence/files.ts";
import { signLoop } from "../attest/sign.ts";
import type { SigningKey } from "../attest/keys.ts";
import { HARNESS_VERSION } from "../version.ts";
import { secretValuesInEnv } from "../config/providers.ts";
import { LOOP_SCHEMA, configHash, differingKeys, type LoopConfig, type LoopSettings } from "./config.ts";
import {
  assignRunDirs,
  decideResume,
  fixtureLabel,
  planAttempts,
  type AttemptEntry,
  type ExistingRun,
  type PlannedAttempt,
  type RunDirInfo,
} from "./plan.ts";
import { loadFixture } from "../fixtures/load.ts";
import { summarise, type AttemptRecord, type LoopSummary } from "./summary.ts";
import { renderJunit, renderMarkdown } from "./render.ts";
import { Semaphore, type ModelSlots } from "../core/semaphore.ts";
import { ProbeCache } from "../provider/probe-cache.ts";
import type { ProgressSink } from "./progress.ts";

export type RunOnceFn = (opts: RunOptions) => Promise<{ report: Report; runDir: string }>;
export type VerifyFn = (runDir: string, opts?: { secrets?: string[] }) => Promise<{ ok: boolean; problems: string[]; report: Report | null }>;

export interface LoopFile {
  schema: typeof LOOP_SCHEMA;
  harness_version: string;
  created_at: string;
  config: LoopConfig;
  config_hash: string;
  settings: LoopSettings;
  resumed_at?: string[];
  /** A loop run through a job queue (src/queue): its id in the queue's tables. Never the queue's URL. */
  queue?: { loop_id: string };
}

export interface LoopOptions {
  config: LoopConfig;
  settings: LoopSettings;
  /** Where a new loop directory is created (`<runsDir>/loop-<ts>-<pid>/`). */
  runsDir: string;
  /** Exact loop directory to create (overrides the generated name). */
  loopDir?: string;
  /** Continue this existing loop directory. */
  resumeDir?: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  progress?: ProgressSink;
  /** Also write JUnit XML here. */
  junitFile?: string;
  sim?: RunOptions["sim"];
  /** Shared model-request limiter; created from settings.model_concurrency when absent. */
  modelSlots?: ModelSlots;
  /** Sign every run's bundle and, at the end, a loop statement over all their manifests (src/attest). */
  signingKey?: SigningKey;
}

export interface LoopDeps {
  runOnce: RunOnceFn;
  verifyBundle: VerifyFn;
}

/** A resume whose configuration does not match: the caller exits 64 naming the keys. */
export class LoopConfigMismatch extends Error {
  readonly keys: string[];
  constructor(keys: string[], message: string) {
    super(message);
    this.keys = keys;
  }
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

export async function createLoopDir(runsDir: string, at: Date): Promise<string> {
  await mkdir(runsDir, { recursive: true });
  const base = `loop-${stamp(at)}-${process.pid}`;
  for (let n = 0; n < 1000; n++) {
    const dir = join(runsDir, n === 0 ? base : `${base}-${n}`);
    try {
      await mkdir(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  throw new Error(`cannot create a loop directory under ${runsDir}`);
}

/** Reads a loop directory's loop.json, checking its recorded hash still matches its config. */
export async function readLoopFile(dir: string): Promise<LoopFile> {
  let parsed: LoopFile;
  try {
    parsed = JSON.parse(await readFile(join(dir, "loop.json"), "utf8")) as LoopFile;
  } catch (e) {
    throw new LoopConfigMismatch([], `${dir}/loop.json is missing or unreadable (${(e as Error).message}); expected a directory created by 'cto-harness loop'`);
  }
  if (parsed.schema !== LOOP_SCHEMA || !parsed.config) {
    throw new LoopConfigMismatch([], `${dir}/loop.json is not a ${LOOP_SCHEMA} document`);
  }
  if (configHash(parsed.config) !== parsed.config_hash) {
    throw new LoopConfigMismatch(["config_hash"], `${dir}/loop.json was edited: its config no longer matches its config_hash`);
  }
  return parsed;
}

/**
 * The loop directory under `runsDir` that started last, by the `created_at` its loop.json
 * records (not by name or mtime: a copied or touched directory must not win). Null when none.
 */
export async function findLatestLoopDir(runsDir: string): Promise<{ dir: string; createdAt: string } | null> {
  let best: { dir: string; createdAt: string; ms: number } | null = null;
  for (const e of await readdir(runsDir, { withFileTypes: true }).catch(() => [])) {
    if (!e.isDirectory()) continue;
    const dir = join(runsDir, e.name);
    const file = await readLoopFile(dir).catch(() => null);
    const ms = file ? Date.parse(file.created_at) : NaN;
    if (!file || Number.isNaN(ms)) continue;
    if (!best || ms > best.ms) best = { dir, createdAt: file.created_at, ms };
  }
  return best && { dir: best.dir, createdAt: best.createdAt };
}

/** Refuses a resume whose configuration differs from the stored one, naming the keys. */
export function assertSameConfig(stored: LoopFile, config: LoopConfig): void {
  if (configHash(config) === stored.config_hash) return;
  const keys = differingKeys(stored.config, config);
  const show = (v: unknown) => JSON.stringify(v);
  const detail = keys
    .map((k) => `${k}: loop has ${show((stored.config as unknown as Record<string, unknown>)[k])}, now ${show((config as unknown as Record<string, unknown>)[k])}`)
    .join("; ");
  throw new LoopConfigMismatch(keys, `cannot resume: configuration differs from the loop's (${detail}); run without --resume for a new loop, or pass the loop's own values`);
}

async function verifyRun(loopDir: string, runId: string, verify: VerifyFn, secrets: string[]): Promise<ExistingRun> {
  const dir = join(loopDir, runId);
  if (!existsSync(dir)) return { runId, valid: false, status: null, failureReason: null, problems: ["run directory is missing"] };
  try {
    const v = await verify(dir, { secrets });
    return { runId, valid: v.ok && v.report !== null, status: v.report?.status ?? null, failureReason: v.report?.failure_reason ?? null, impossible: v.report?.judge?.impossible?.classification ?? null, problems: v.problems };
  } catch (err) {
    return { runId, valid: false, status: null, failureReason: null, problems: [(err as Error).message] };
  }
}

export const ATTEMPTS_FILE = "attempts.jsonl";

/** The attempt records written so far; a torn last line (killed mid-write) is skipped. */
export async function readAttemptEntries(loopDir: string): Promise<AttemptEntry[]> {
  const text = await readFile(join(loopDir, ATTEMPTS_FILE), "utf8").catch(() => "");
  const out: AttemptEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as AttemptEntry;
      if (typeof e.key === "string" && typeof e.run_id === "string") out.push(e);
    } catch {
      /* torn line */
    }
  }
  return out;
}

/** Fixture id and engine of a run directory, from its task.json, else its report.json. */
async function describeRunDir(loopDir: string, runId: string): Promise<RunDirInfo> {
  for (const [file, engineKey] of [["task.json", "engine"], ["report.json", "backend"]] as const) {
    try {
      const j = JSON.parse(await readFile(join(loopDir, runId, file), "utf8")) as Record<string, unknown>;
      const fixture = j.fixture as { id?: unknown } | undefined;
      const engine = j[engineKey];
      if (typeof fixture?.id === "string" && typeof engine === "string") return { runId, fixtureId: fixture.id, engine };
    } catch {
      /* try the next file */
    }
  }
  return { runId, fixtureId: null, engine: null };
}

/** Fixture id each configured reference loads as (what task.json records); the label when it does not load. */
async function fixtureIds(refs: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const ref of refs) out[ref] = await loadFixture(ref).then((f) => f.id, () => fixtureLabel(ref));
  return out;
}

/** Every run directory of a loop assigned to its attempt and verified. */
async function previousRuns(
  loopDir: string,
  plan: PlannedAttempt[],
  fixtures: string[],
  verify: VerifyFn,
  secrets: string[],
): Promise<{ history: Map<string, ExistingRun[]>; unmatched: string[] }> {
  const entries = await readAttemptEntries(loopDir);
  const recorded = new Set(entries.map((e) => e.run_id));
  const dirs: RunDirInfo[] = [];
  for (const e of await readdir(loopDir, { withFileTypes: true })) {
    if (e.isDirectory() && !recorded.has(e.name)) dirs.push(await describeRunDir(loopDir, e.name));
  }
  const ids = dirs.length > 0 ? await fixtureIds(fixtures) : {};
  const { byAttempt, unmatched } = assignRunDirs(plan, entries, dirs, ids);
  const history = new Map<string, ExistingRun[]>();
  for (const [key, runIds] of byAttempt) history.set(key, await Promise.all(runIds.map((r) => verifyRun(loopDir, r, verify, secrets))));
  return { history, unmatched };
}

export async function runLoop(opts: LoopOptions, deps: LoopDeps): Promise<{ summary: LoopSummary; loopDir: string }> {
  const startedAt = new Date();
  const hash = configHash(opts.config);
  const plan = planAttempts(opts.config.fixtures, opts.config.engines, opts.config.attempts);
  let loopDir: string;
  let history = new Map<string, ExistingRun[]>();
  let unmatched: string[] = [];

  if (opts.resumeDir) {
    loopDir = opts.resumeDir;
    const stored = await readLoopFile(loopDir);
    assertSameConfig(stored, opts.config);
    ({ history, unmatched } = await previousRuns(loopDir, plan, opts.config.fixtures, deps.verifyBundle, secretValuesInEnv(opts.env)));
    await writeJsonAtomic(join(loopDir, "loop.json"), {
      ...stored,
      resumed_at: [...(stored.resumed_at ?? []), startedAt.toISOString()],
    } satisfies LoopFile);
  } else {
    if (opts.loopDir) {
      loopDir = opts.loopDir;
      await mkdir(loopDir, { recursive: true });
    } else loopDir = await createLoopDir(opts.runsDir, startedAt);
    const file: LoopFile = {
      schema: LOOP_SCHEMA,
      harness_version: HARNESS_VERSION,
      created_at: startedAt.toISOString(),
      config: opts.config,
      config_hash: hash,
      settings: opts.settings,
    };
    await writeJsonAtomic(join(loopDir, "loop.json"), file);
  }

  // One record per planned attempt; resumed ones are filled in from the earlier runs.
  const records: AttemptRecord[] = [];
  const todo: { rec: AttemptRecord; p: PlannedAttempt }[] = [];
  for (const p of plan) {
    const rec: AttemptRecord = {
      fixture: p.fixture,
      engine: p.engine,
      attempt: p.attempt,
      run_id: null,
      status: "not_run",
      failure_reason: null,
      duration_ms: null,
      resumed: false,
      superseded: [],
    };
    records.push(rec);
    const mine = history.get(p.key) ?? [];
    const d = decideResume(mine);
    // Earlier, untrusted directories of this attempt stay on disk and stay noted.
    rec.superseded = d.superseded;
    if (d.action === "keep") {
      const prev = mine.find((e) => e.runId === d.runId)!;
      rec.run_id = d.runId;
      rec.status = prev.status ?? "error";
      rec.failure_reason = prev.failureReason;
      if (prev.impossible) rec.impossible = prev.impossible;
      rec.resumed = true;
    } else todo.push({ rec, p });
  }

  const modelSlots = opts.modelSlots ?? new Semaphore(Math.max(1, opts.settings.model_concurrency));
  // One probe per endpoint for the whole loop; re-probed only when its fingerprint changes.
  const probeCache = new ProbeCache();
  const writeSummary = async (interrupted: boolean): Promise<LoopSummary> => {
    const summary = summarise({
      loopDir,
      config: opts.config,
      configHash: hash,
      settings: opts.settings,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      interrupted,
      attempts: records,
      unmatchedRunDirs: unmatched,
    });
    await writeJsonAtomic(join(loopDir, "summary.json"), summary);
    return summary;
  };

  let next = 0;
  let summaryWrite: Promise<unknown> = Promise.resolve();
  let lastPartialWrite = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      if (opts.signal?.aborted) return;
      const item = todo[next++]!;
      const label = `${item.p.fixture} × ${item.p.engine} #${item.p.attempt}`;
      opts.progress?.started(label);
      const t0 = Date.now();
      const runOpts: RunOptions = {
        fixture: item.p.fixture,
        engine: item.p.engine as EngineName,
        provider: opts.config.provider,
        model: opts.config.model,
        // No runId: runOnce names the directory `<ts>-<fixture>-<pid>[-<n>]` (DESIGN §5), created exclusively.
        runsDir: loopDir,
        // The loop directory is hidden as each run's runs directory; other loops' runs are in opts.runsDir.
        hiddenPaths: [{ path: resolve(opts.runsDir), what: "the runs directory (other loops' runs)" }],
        isolation: opts.config.isolation,
        budget: opts.config.budget,
        env: opts.env,
        signal: opts.signal,
        sim: opts.sim,
        agentTimeoutSec: opts.config.agent_timeout_sec ?? undefined,
        modelSlots,
        probeCache,
        signingKey: opts.signingKey,
      };
      try {
        const { report, runDir } = await deps.runOnce(runOpts);
        item.rec.run_id = basename(runDir);
        item.rec.status = report.status;
        item.rec.failure_reason = report.failure_reason;
        item.rec.duration_ms = Date.now() - t0;
        if (report.judge?.impossible) item.rec.impossible = report.judge.impossible.classification;
        // Recorded at once, so a resume knows this directory is this attempt's even if the loop dies now.
        const entry: AttemptEntry = {
          key: item.p.key,
          fixture: item.p.fixture,
          engine: item.p.engine,
          attempt: item.p.attempt,
          run_id: item.rec.run_id,
          status: report.status,
          failure_reason: report.failure_reason,
          duration_ms: item.rec.duration_ms,
          impossible: item.rec.impossible ?? null,
          finished_at: new Date().toISOString(),
        };
        await appendFile(join(loopDir, ATTEMPTS_FILE), JSON.stringify(entry) + "\n");
      } catch (error) {
        // runOnce promises a report on every path; if it throws anyway the attempt is a harness error.
        // A directory it may have created is found by the next resume (task.json) and superseded.
        item.rec.status = "error";
        item.rec.failure_reason = "harness error";
        await writeFile(join(loopDir, `${item.p.key}.harness-error.txt`), `${(error as Error).stack ?? String(error)}\n`).catch(() => {});
      }
      item.rec.duration_ms ??= Date.now() - t0;
      opts.progress?.finished(label, item.rec.status, item.rec.failure_reason, item.rec.run_id ? join(loopDir, item.rec.run_id) : null);
      // Keep summary.json current (at most once a second) so a crash of the loop itself still leaves a summary.
      if (Date.now() - lastPartialWrite >= 1000) {
        lastPartialWrite = Date.now();
        summaryWrite = summaryWrite.then(() => writeSummary(Boolean(opts.signal?.aborted))).catch(() => {});
      }
    }
  };
  const n = Math.max(1, Math.min(opts.settings.concurrency, todo.length || 1));
  await Promise.all(Array.from({ length: n }, worker));
  await summaryWrite;
  opts.progress?.close();

  const summary = await writeSummary(Boolean(opts.signal?.aborted));
  await writeFile(join(loopDir, "summary.md"), renderMarkdown(summary));
  if (opts.junitFile) await writeFile(opts.junitFile, renderJunit(summary));
  if (opts.signingKey) await signLoop(loopDir, opts.signingKey); // signed evidence (issue #16): after the final summary
  return { summary, loopDir };
}
