// Re-judging a bundle: the authenticity check `verify` alone cannot give. The recorded patch
// is applied to a fresh copy of the fixture (which must have the recorded digest), the
// pristine tests are run again, and their verdict must equal the report's.
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Report } from "./report.ts";
import { loadFixture } from "../fixtures/load.ts";
import { prepareWorkspace, restorePristineTests, runTests } from "../workspace/workspace.ts";
import { checkSandbox, projectNodeBinds } from "../sandbox/bwrap.ts";

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface RejudgeResult {
  ok: boolean;
  problems: string[];
  /** The tests' verdict now, on the recorded patch (null when they could not run). */
  tests_passed: boolean | null;
  isolation: "bwrap" | "none";
}

/**
 * `fixtureRef`: where the fixture is (a built-in id, or a directory when the run used one);
 * defaults to the report's fixture id.
 */
export async function rejudgeBundle(runDir: string, report: Report, opts: { fixtureRef?: string; protectedPaths?: string[] } = {}): Promise<RejudgeResult> {
  const problems: string[] = [];
  const fixture = await loadFixture(opts.fixtureRef ?? report.fixture.id, { protectedPaths: opts.protectedPaths ?? [] });
  if (fixture.digest !== report.fixture.digest) {
    return { ok: false, problems: [`fixture ${fixture.id} has digest ${fixture.digest.slice(0, 12)}…, the run used ${report.fixture.digest.slice(0, 12)}…: cannot re-judge against a different fixture`], tests_passed: null, isolation: "none" };
  }
  const scratch = await mkdtemp(join(tmpdir(), "cto-harness-rejudge-"));
  try {
    const workspace = join(scratch, "workspace");
    await prepareWorkspace(fixture, workspace);
    const patch = resolve(runDir, "workspace.patch");
    // An empty patch (no change) applies as nothing; git apply would reject it.
    const applied = statSync(patch).size === 0 ? { status: 0, stderr: "" } : spawnSync("git", ["apply", "--binary", "--whitespace=nowarn", patch], { cwd: workspace, encoding: "utf8" });
    if (applied.status !== 0) {
      return { ok: false, problems: [`the recorded patch does not apply to the fixture: ${applied.stderr.trim().split("\n")[0]}`], tests_passed: null, isolation: "none" };
    }
    await restorePristineTests(fixture, workspace);
    const sandbox = await checkSandbox();
    const isolation = sandbox.ok ? "bwrap" : "none";
    const t = await runTests(fixture, workspace, {
      stdoutFile: join(scratch, "stdout.log"),
      stderrFile: join(scratch, "stderr.log"),
      isolation: sandbox.ok ? { roBinds: await projectNodeBinds(PROJECT_ROOT), protectedPaths: opts.protectedPaths ?? [] } : undefined,
    });
    if (report.tests && t.passed !== report.tests.passed) {
      problems.push(`re-judged: the tests ${t.passed ? "pass" : "fail"} on the recorded patch, but the report says they ${report.tests.passed ? "passed" : "failed"}`);
    }
    if (report.status === "pass" && !t.passed) problems.push("re-judged: a pass claim whose patch does not make the tests pass");
    return { ok: problems.length === 0, problems, tests_passed: t.passed, isolation };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
