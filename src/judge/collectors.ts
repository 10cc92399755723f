// How the judged tests are run with the harness's own result collectors: where the
// collectors live (read-only, outside the judged tree), the environment that loads them,
// and the results file they append to (in a harness-owned directory).
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Fixture } from "../fixtures/types.ts";
import { copyFixtureTree, runTests, type TestRunOutcome, type TestIsolation } from "../workspace/workspace.ts";
import { parseCollected, type CollectedResults } from "./results.ts";
import { keepVerifierLogs, prepareVerifier, readVerifierOutcome, NETWORK_OPT_IN, type VerifierOutcome } from "./harbor/verifier.ts";

export const COLLECTORS_DIR = fileURLToPath(new URL("./collectors", import.meta.url));
/** Bumped whenever the collectors change what they record (expected sets are keyed by it). */
export const COLLECTORS_VERSION = "4";
export const RESULTS_VAR = "CTO_HARNESS_JUDGE_RESULTS";

function quoted(p: string): string {
  return `"${p.replace(/(["\\])/g, "\\$1")}"`;
}

export function collectorEnv(resultsFile: string): Record<string, string> {
  const reporter = path.join(COLLECTORS_DIR, "node-reporter.mjs");
  const freeze = path.join(COLLECTORS_DIR, "node-freeze.mjs");
  return {
    [RESULTS_VAR]: resultsFile,
    NODE_OPTIONS: [
      `--import=${quoted(freeze)}`,
      `--test-reporter=${quoted(reporter)}`,
      "--test-reporter-destination=stderr",
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
    ].join(" "),
    PYTHONPATH: path.join(COLLECTORS_DIR, "python"),
  };
}

export interface CollectedRun {
  tests: TestRunOutcome;
  collected: CollectedResults;
  /** A Harbor task judged in Harbor's view: the reward, the CTRF report, a missing command. */
  harbor?: VerifierOutcome;
}

export interface CollectedOptions {
  stdoutFile: string;
  stderrFile: string;
  signal?: AbortSignal;
  isolation?: TestIsolation;
  /** Harbor: the agent's /logs/agent (read-only for the verifier) and where to keep /logs/verifier. */
  harbor?: { logsAgent?: string; keepLogsIn?: string };
}

/** Harbor's view needs the sandbox: without it (`--isolation none`) a Harbor task runs as a plain fixture, tests in the tree. */
export function usesHarborView(fixture: Fixture, isolation: TestIsolation | undefined): boolean {
  return fixture.harbor !== undefined && isolation !== undefined;
}

/** Runs the fixture's test command in `tree` with the collectors; logs go where the caller says. */
export async function runCollected(fixture: Fixture, tree: string, opts: CollectedOptions): Promise<CollectedRun> {
  const resultsDir = await mkdtemp(path.join(os.tmpdir(), "cto-harness-judge-results-"));
  const resultsFile = path.join(resultsDir, "results.jsonl");
  // The collectors authenticate every record with this key; the first to start deletes it.
  const key = randomBytes(32);
  await writeFile(path.join(resultsDir, "key"), key, { mode: 0o600 });
  try {
    const env = collectorEnv(resultsFile);
    const network = usesHarborView(fixture, opts.isolation) && process.env[NETWORK_OPT_IN] === "1";
    const harbor = usesHarborView(fixture, opts.isolation) ? await prepareVerifier(fixture, tree, resultsDir, env, { logsAgent: opts.harbor?.logsAgent, network }) : undefined;
    const tests = await runTests(fixture, tree, {
      ...opts,
      extraEnv: harbor ? { ...env, PYTHONPATH: harbor.view.env.PYTHONPATH ?? env.PYTHONPATH! } : env,
      rwBinds: [resultsDir],
      extraRoBinds: [COLLECTORS_DIR],
      view: harbor?.view,
      shareNetwork: network,
    });
    const text = await readFile(resultsFile, "utf8").catch(() => "");
    // In Harbor's view the tests live at /tests, the code at WORKDIR: ids are relative to the sandbox's root.
    const collected = parseCollected(text, harbor ? "/" : tree, key);
    if (!harbor) return { tests, collected };
    const output = `${await readFile(opts.stdoutFile, "utf8").catch(() => "")}\n${await readFile(opts.stderrFile, "utf8").catch(() => "")}`;
    const outcome = await readVerifierOutcome(fixture, harbor.logsVerifier, tests.exitCode, tests.timedOut, output);
    if (opts.harbor?.keepLogsIn) await keepVerifierLogs(harbor.logsVerifier, opts.harbor.keepLogsIn);
    // The collectors' authenticated records decide (pytest included). A CTRF report is the last
    // resort, only when no collector saw a runner start or a test (e.g. pytest in a later Python
    // process, which gets no key): it is marked unauthenticated, so it never makes an expected set.
    if (collected.tests.length === 0 && collected.runners.length === 0 && outcome.ctrf) {
      collected.tests = outcome.ctrf.tests;
      collected.source = "ctrf";
    }
    return { tests: { ...tests, passed: outcome.passed, reward: outcome.reward }, collected, harbor: outcome };
  } finally {
    await rm(resultsDir, { recursive: true, force: true });
  }
}

/**
 * The fixture's tests in a fresh judge tree in a scratch directory (removed after), with the
 * collectors: `prepare` changes the tree first (the oracle applies its reference fix; the
 * unchanged fixture's trial changes nothing). `harborView` says whether the tree is laid out
 * as Harbor's view.
 */
export async function collectInFreshTree(
  fixture: Fixture,
  isolation: TestIsolation | undefined,
  prefix: string,
  prepare: (tree: string, harborView: boolean) => Promise<void> = async () => {},
): Promise<CollectedRun> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), prefix));
  try {
    const tree = path.join(scratch, "tree");
    const harborView = usesHarborView(fixture, isolation);
    await copyFixtureTree(fixture, tree, "judge", { harborView });
    await prepare(tree, harborView);
    return await runCollected(fixture, tree, { stdoutFile: path.join(scratch, "stdout.log"), stderrFile: path.join(scratch, "stderr.log"), isolation });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

