// `cto-harness loop`: fixtures × engines × attempts with pass@k, concurrency, resume,
// JUnit and a markdown summary (docs/loop.md).
import type { Command } from "commander";
import { stat } from "node:fs/promises";
import { runOnce } from "../../run/lifecycle.ts";
import { verifyBundle } from "../../evidence/verify.ts";
import { builtinFixtureIds, loadFixture, FixtureError } from "../../fixtures/load.ts";
import { ConfigError } from "../../config/providers.ts";
import { AdmissionFileError } from "../../config/admission.ts";
import { EXIT, UsageError } from "../../core/exit-codes.ts";
import { abortOnSignals } from "../run-signals.ts";
import { addRunOptions, defaultRunsDir, parseEngine, positiveInt, signingKeyOption } from "../run-options.ts";
import { runLoop, readLoopFile, findLatestLoopDir, LoopConfigMismatch } from "../../loop/loop.ts";
import type { LoopConfig } from "../../loop/config.ts";
import { createProgress } from "../../loop/progress.ts";
import { renderMarkdown } from "../../loop/render.ts";
import { queuedLoopFromCli } from "./loop-queue.ts";

interface LoopCliOptions {
  fixtures: string;
  impossible?: boolean;
  engines: string;
  attempts: number;
  concurrency: number;
  modelConcurrency: number;
  provider: string;
  model: string;
  runsDir?: string;
  loopDir?: string;
  /** A loop directory, or `true` for a bare `--resume` (the latest loop under the runs dir). */
  resume?: string | true;
  junit?: string;
  agentTimeout?: number;
  isolation: "bwrap" | "none";
  budget: number;
  simFlavour?: string;
  simScenario?: string;
  json?: boolean;
  /** `--key`: sign every bundle and the loop. */
  key?: string;
  // ── queued loops (docs/scaling.md) ──
  queue?: string;
  providers?: string;
  trust?: string;
  rejudge?: boolean;
  queueDeadline: number;
}

const list = (s: string): string[] =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

async function resolveFixtures(spec: string, impossible = false): Promise<string[]> {
  const wanted = spec.trim() === "all" ? await builtinFixtureIds() : list(spec);
  if (wanted.length === 0) throw new UsageError("--fixtures: no fixtures given; pass ids or directories separated by commas, or 'all'");
  const out: string[] = [];
  for (const f of wanted) {
    const fixture = await loadFixture(f); // unknown ids are usage errors now, not 100 failed runs later
    if (!impossible) out.push(f);
    else if (!fixture.impossibleVariants?.length) throw new UsageError(`--impossible: fixture ${f} has no impossible variants (impossible/<name>/, docs/fixtures.md)`);
    else for (const v of fixture.impossibleVariants) out.push(`${f}#${v}`);
  }
  return [...new Set(out)];
}

/** Errors of the user's input become usage errors (exit 64, one clean line), not harness errors. */
function asUsageError(e: unknown): unknown {
  if (e instanceof LoopConfigMismatch || e instanceof FixtureError || e instanceof ConfigError || e instanceof AdmissionFileError) {
    return new UsageError(e.message);
  }
  return e;
}

/** A `--runs-dir` that exists must be a directory (it is created when absent). */
async function assertRunsDir(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => null);
  if (st && !st.isDirectory()) throw new UsageError(`--runs-dir is not a directory: ${dir} exists and is a file; pass a directory (it is created when absent)`);
}

export async function loopFromCli(o: LoopCliOptions, explicit: (key: string) => boolean): Promise<number> {
  try {
    return await loopFromCliInner(o, explicit);
  } catch (e) {
    throw asUsageError(e);
  }
}

async function loopFromCliInner(o: LoopCliOptions, explicit: (key: string) => boolean): Promise<number> {
  const runsDir = o.runsDir ?? defaultRunsDir(process.env);
  await assertRunsDir(runsDir);
  const engines = [...new Set(list(o.engines).map(parseEngine))];
  if (engines.length === 0) throw new UsageError("--engines: no engines given");
  let config: LoopConfig = {
    fixtures: [],
    engines,
    attempts: o.attempts,
    provider: o.provider,
    model: o.model,
    isolation: o.isolation,
    budget: o.budget,
    agent_timeout_sec: o.agentTimeout ?? null,
  };
  let resumeDir: string | undefined;
  if (o.resume === true) {
    const latest = await findLatestLoopDir(runsDir);
    if (!latest) {
      throw new UsageError(`--resume: no loop directory (with a loop.json) under ${runsDir}; pass --resume LOOP_DIR, or --runs-dir where the loop was started`);
    }
    resumeDir = latest.dir;
    process.stderr.write(`resuming the most recent loop under ${runsDir}: ${resumeDir} (started ${latest.createdAt})\n`);
  } else if (o.resume) resumeDir = o.resume;
  if (resumeDir) {
    // Values not given on this command line come from the loop being resumed; given ones must match it.
    const stored = await readLoopFile(resumeDir);
    if (stored.queue && !o.queue) throw new UsageError(`${resumeDir} ran through a job queue; resume it with --queue URL --trust DIR (docs/scaling.md)`);
    const s = stored.config;
    config = {
      fixtures: explicit("fixtures") ? await resolveFixtures(o.fixtures, o.impossible ?? s.impossible) : s.fixtures,
      engines: explicit("engines") ? engines : s.engines,
      attempts: explicit("attempts") ? o.attempts : s.attempts,
      provider: explicit("provider") ? o.provider : s.provider,
      model: explicit("model") ? o.model : s.model,
      isolation: explicit("isolation") ? o.isolation : s.isolation,
      budget: explicit("budget") ? o.budget : s.budget,
      agent_timeout_sec: explicit("agentTimeout") ? (o.agentTimeout ?? null) : s.agent_timeout_sec,
      ...(o.impossible || s.impossible ? { impossible: true } : {}),
    };
  } else {
    config.fixtures = await resolveFixtures(o.fixtures, o.impossible);
    if (o.impossible) config.impossible = true;
  }

  const signingKey = await signingKeyOption(o.key, { engines: config.engines, isolation: config.isolation });
  // ── queued loop hook: everything else of a queued loop is in loop-queue.ts ──
  if (o.queue) return queuedLoopFromCli({ ...o, queue: o.queue, signingKey }, config, runsDir, resumeDir, explicit);
  if (o.providers || o.trust || o.rejudge) throw new UsageError("--providers, --trust and --rejudge belong to a queued loop: add --queue URL");

  const signals = abortOnSignals();
  const total = config.fixtures.length * config.engines.length * config.attempts;
  const progress = createProgress(total, process.stderr);
  try {
    const { summary, loopDir } = await runLoop(
      {
        config,
        settings: { concurrency: o.concurrency, model_concurrency: o.modelConcurrency },
        runsDir,
        loopDir: o.loopDir,
        resumeDir,
        env: process.env,
        signal: signals.signal,
        progress,
        junitFile: o.junit,
        sim: { flavour: o.simFlavour, scenario: o.simScenario },
        signingKey,
      },
      { runOnce, verifyBundle },
    );
    process.stderr.write("\n" + renderMarkdown(summary));
    process.stderr.write(`\nloop directory: ${loopDir}\n`);
    if (signingKey) process.stderr.write(`signed: every run's bundle and ${loopDir}/attestation.dsse.json (keyid ${signingKey.keyid})\n`);
    if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
    return summary.exit_code;
  } finally {
    signals.dispose();
  }
}

export function register(program: Command): void {
  const cmd = addRunOptions(
    program
      .command("loop")
      .description("many runs: fixtures × engines × attempts, pass@k, concurrency, resume; exit code is the worst run's")
      .option("--fixtures <ids>", "comma-separated fixture ids or directories, or 'all'", "all")
      .option("--engines <engines>", "comma-separated engines", "builtin")
      .option("--attempts <k>", "attempts per fixture and engine", positiveInt("--attempts"), 1)
      .option("--concurrency <n>", "runs at once", positiveInt("--concurrency"), 1)
      .option("--model-concurrency <m>", "model requests in flight at once, across all runs (local servers saturate)", positiveInt("--model-concurrency"), 4)
      .option("--loop-dir <dir>", "exact loop directory to create (default <runs-dir>/loop-<ts>-<pid>)")
      .option(
        "--resume [loop_dir]",
        "continue a loop: LOOP_DIR, or without a value the most recent loop under the runs dir; reruns only attempts without a valid report; the configuration must match",
      )
      .option("--junit <file>", "also write JUnit XML (one testcase per attempt)")
      .option("--impossible", "run the fixtures' impossible variants instead (visible tests contradict the instruction) and report the cheat rate per engine")
      .option("--queue <url>", "coordinate workers on other hosts through this PostgreSQL job queue (no password in the URL: PGPASSWORD or ~/.pgpass); docs/scaling.md")
      .option("--providers <list>", "with --queue: providers to spread the runs over, each P or P=MODEL (default: --provider with --model)")
      .option("--trust <dir>", "with --queue: directory of the workers' public keys; a bundle is accepted only when signed by one of them")
      .option("--rejudge", "with --queue: run the judge again on each worker's recorded patch in a fresh fixture copy before accepting it")
      .option("--queue-deadline <seconds>", "with --queue: stop waiting after this long (runs stay queued; --resume collects them)", positiveInt("--queue-deadline"), 86_400),
  );
  cmd.action(async (o: LoopCliOptions) => {
    if (o.resume && o.loopDir) throw new UsageError("--resume and --loop-dir exclude each other");
    process.exitCode = await loopFromCli(o, (key) => cmd.getOptionValueSource(key) === "cli");
  });
  void EXIT;
}
