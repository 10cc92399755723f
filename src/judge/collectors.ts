// How the judged tests are run with the harness's own result collectors: where the
// collectors live (read-only, outside the judged tree), the environment that loads them,
// and the results file they append to (in a harness-owned directory).
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Fixture } from "../fixtures/types.ts";
import { runTests, type TestRunOutcome, type TestIsolation } from "../workspace/workspace.ts";
import { parseCollected, type CollectedResults } from "./results.ts";

export const COLLECTORS_DIR = fileURLToPath(new URL("./collectors", import.meta.url));
/** Bumped whenever the collectors change what they record (expected sets are keyed by it). */
export const COLLECTORS_VERSION = "3";
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
}

/** Runs the fixture's test command in `tree` with the collectors; logs go where the caller says. */
export async function runCollected(
  fixture: Fixture,
  tree: string,
  opts: { stdoutFile: string; stderrFile: string; signal?: AbortSignal; isolation?: TestIsolation },
): Promise<CollectedRun> {
  const resultsDir = await mkdtemp(path.join(os.tmpdir(), "cto-harness-judge-results-"));
  const resultsFile = path.join(resultsDir, "results.jsonl");
  // The collectors authenticate every record with this key; the first to start deletes it.
  const key = randomBytes(32);
  await writeFile(path.join(resultsDir, "key"), key, { mode: 0o600 });
  try {
    const tests = await runTests(fixture, tree, {
      ...opts,
      extraEnv: collectorEnv(resultsFile),
      rwBinds: [resultsDir],
      extraRoBinds: [COLLECTORS_DIR],
    });
    const text = await readFile(resultsFile, "utf8").catch(() => "");
    return { tests, collected: parseCollected(text, tree, key) };
  } finally {
    await rm(resultsDir, { recursive: true, force: true });
  }
}
