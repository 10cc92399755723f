// Stage 0, resolve: what was asked, checked before anything is written. A wrong runs
// directory, an unknown provider or fixture is a usage error (thrown: no run directory); a
// fixture under a protected path is a blocked run (refused without reading it, later).
import { mkdir } from "node:fs/promises";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { protectedPathsFromEnv } from "../../config/admission.ts";
import { ConfigError, loadProviderSpecs } from "../../config/providers.ts";
import { TraceWriter } from "../../evidence/trace.ts";
import { isUnderPath, loadFixture, SourceNotAdmittedError } from "../../fixtures/load.ts";
import type { Fixture } from "../../fixtures/types.ts";
import { HARNESS_VERSION } from "../../version.ts";
import type { ResourceScope, RunContext } from "../context.ts";
import type { RunOptions } from "../options.ts";

/** `<YYYYMMDDTHHMMSSZ>-<fixture>-<pid>` */
function makeRunId(at: Date, fixtureName: string, pid = process.pid): string {
  const ts = at.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const safe = fixtureName.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 60) || "fixture";
  return `${ts}-${safe}-${pid}`;
}

function fixtureNameOf(ref: string): string {
  return ref.replace(/\/+$/, "").split("/").pop() ?? ref;
}

/** The run's context: options checked, fixture loaded, run directory created, trace opened. */
export async function resolveRun(opts: RunOptions, signal: AbortSignal, runChild: RunContext["runChild"], resources: ResourceScope): Promise<RunContext> {
  const startedAtMs = Date.now();
  const createdAt = new Date();
  const env = opts.env;
  const protectedPaths = protectedPathsFromEnv(env);
  const runsDir = checkRunsDir(opts, protectedPaths);
  const { fixture, sourceRefused } = await loadRequestedFixture(opts, protectedPaths);
  const fixtureName = fixture?.id ?? fixtureNameOf(opts.fixture);
  const { runId, runDir } = opts.runDirPath
    ? await useGivenRunDir(opts.runDirPath)
    : await createRunDir(runsDir, opts.runId ?? makeRunId(createdAt, fixtureName));
  const backendDir = join(runDir, "backend");
  await mkdir(backendDir, { recursive: true });
  const trace = new TraceWriter(join(runDir, "trace.jsonl"));
  const log = opts.log ?? (() => {});
  if (!opts.isBaseline) log(`run directory: ${runDir}`);
  trace.emit("run_started", {
    run_id: runId,
    engine: opts.engine,
    provider: opts.provider,
    model: opts.model,
    fixture: fixtureName,
    variant: fixture?.variant?.name ?? null,
    role: opts.isBaseline ? "baseline" : "run",
    harness_version: HARNESS_VERSION,
  });
  const agentTimeoutSec = opts.agentTimeoutSec ?? fixture?.timeouts.agentSec ?? 600;
  const taskFile = join(runDir, "task.json");
  return { opts, env, log, trace, runId, runDir, backendDir, runsDir, createdAt, startedAtMs, protectedPaths, fixture, sourceRefused, fixtureName, agentTimeoutSec, taskFile, signal, runChild, resources };
}

function checkRunsDir(opts: RunOptions, protectedPaths: string[]): string {
  const runsDir = resolve(opts.runsDir);
  if (existsSync(runsDir) && !statSync(runsDir).isDirectory()) {
    throw new ConfigError(`the runs directory ${opts.runsDir} is not a directory (--runs-dir or CTO_HARNESS_RUNS_DIR)`);
  }
  // An unknown provider name is a usage error, not a blocked run.
  const specs = loadProviderSpecs();
  if (!specs[opts.provider]) {
    throw new ConfigError(`unknown provider '${opts.provider}'; known providers: ${Object.keys(specs).join(", ")}`);
  }
  for (const p of protectedPaths) {
    if (isUnderPath(runsDir, resolve(p))) {
      throw new ConfigError("the runs directory is under a protected path (CTO_HARNESS_PROTECTED_PATHS); choose another --runs-dir");
    }
  }
  return runsDir;
}

async function loadRequestedFixture(opts: RunOptions, protectedPaths: string[]): Promise<{ fixture: Fixture | null; sourceRefused: SourceNotAdmittedError | null }> {
  try {
    return { fixture: await loadFixture(opts.fixture, { protectedPaths, variant: opts.variant }), sourceRefused: null };
  } catch (e) {
    if (e instanceof SourceNotAdmittedError) return { fixture: null, sourceRefused: e };
    throw e;
  }
}

async function useGivenRunDir(path: string): Promise<{ runId: string; runDir: string }> {
  await mkdir(path, { recursive: true });
  return { runId: path.split("/").pop()!, runDir: path };
}

/** Creates the run directory exclusively, adding `-<n>` when the name is taken (parallel runs). */
async function createRunDir(runsDir: string, baseId: string): Promise<{ runId: string; runDir: string }> {
  try {
    await mkdir(runsDir, { recursive: true });
  } catch (e) {
    throw new ConfigError(`cannot create the runs directory ${runsDir} (${(e as NodeJS.ErrnoException).code ?? String(e)}); choose another --runs-dir or CTO_HARNESS_RUNS_DIR`);
  }
  for (let n = 0; n < 10_000; n++) {
    const runId = n === 0 ? baseId : `${baseId}-${n}`;
    const runDir = join(runsDir, runId);
    try {
      await mkdir(runDir);
      return { runId, runDir };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  throw new Error(`cannot create a run directory under ${runsDir}`);
}
