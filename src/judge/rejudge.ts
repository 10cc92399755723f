// Re-judging a bundle: the authenticity check `verify` alone cannot give. The recorded patch
// is applied to a fresh copy of the fixture (which must have the recorded digest), the
// change is captured from it exactly as a run captures an agent's workspace, and the same
// judge (src/judge) decides again; its verdict must equal the report's.
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Report } from "../evidence/report.ts";
import { loadFixture } from "../fixtures/load.ts";
import { copyFixtureTree } from "../workspace/workspace.ts";
import { git } from "../workspace/git.ts";
import { decideScriptIsolation, type IsolationMode } from "../sandbox/script-isolation.ts";
import { captureChange, snapshotPristine } from "./capture.ts";
import { expectedTests } from "./expected.ts";
import { judge } from "./judge.ts";
import { testsPassedByJudge } from "./report.ts";

export interface RejudgeResult {
  ok: boolean;
  problems: string[];
  /** The tests' verdict now, on the recorded patch (null when they could not run). */
  tests_passed: boolean | null;
  /** The judge's verdict now ("pass" or its failure reason). */
  verdict?: string;
  isolation: "bwrap" | "none";
}

/**
 * `fixtureRef`: where the fixture is (a built-in id, or a directory when the run used one);
 * defaults to the report's fixture id.
 */
export async function rejudgeBundle(runDir: string, report: Report, opts: { fixtureRef?: string; protectedPaths?: string[]; isolation?: IsolationMode } = {}): Promise<RejudgeResult> {
  const problems: string[] = [];
  // The fixture's tests run again: in the sandbox, or on the host only when the user said so.
  const decided = await decideScriptIsolation(opts.isolation ?? "bwrap", opts.protectedPaths ?? []);
  if (!decided.ok) return { ok: false, problems: [`cannot re-judge: ${decided.reason}. ${decided.advice}`], tests_passed: null, isolation: "none" };
  const fixture = await loadFixture(opts.fixtureRef ?? report.fixture.id, { protectedPaths: opts.protectedPaths ?? [] });
  if (fixture.digest !== report.fixture.digest) {
    return { ok: false, problems: [`fixture ${fixture.id} has digest ${fixture.digest.slice(0, 12)}…, the run used ${report.fixture.digest.slice(0, 12)}…: cannot re-judge against a different fixture`], tests_passed: null, isolation: "none" };
  }
  const scratch = await mkdtemp(join(tmpdir(), "cto-harness-rejudge-"));
  try {
    const applied = join(scratch, "applied");
    await copyFixtureTree(fixture, applied);
    const pristine = await snapshotPristine(applied);
    const patch = resolve(runDir, "workspace.patch");
    // An empty patch (no change) applies as nothing; git apply would reject it. A repository
    // of its own keeps git apply from resolving paths against any repository above.
    if ((await stat(patch)).size > 0) {
      try {
        await git(applied, ["init", "-q"]);
        await git(applied, ["apply", "--binary", "--whitespace=nowarn", patch]);
      } catch (e) {
        return { ok: false, problems: [`the recorded patch does not apply to the fixture: ${(e as Error).message.split("\n")[0]}`], tests_passed: null, isolation: "none" };
      }
    }
    const isolation = decided.mode;
    const testIsolation = decided.isolation === "none" ? undefined : decided.isolation;
    const captured = await captureChange(applied, pristine, fixture.testsTarget);
    const out = join(scratch, "out");
    await mkdir(join(out, "tests"), { recursive: true });
    const j = await judge({
      fixture,
      changes: captured.changes,
      captureError: captured.error,
      priorFindings: [],
      notes: [],
      expected: await expectedTests(fixture, process.env, testIsolation),
      outDir: out,
      isolation: testIsolation,
    });
    const passed = testsPassedByJudge(j);
    const verdict = j.verdict.reason ?? "pass";
    if (report.tests && passed !== report.tests.passed) {
      problems.push(`re-judged: the tests ${passed ? "pass" : "fail"} on the recorded patch, but the report says they ${report.tests.passed ? "passed" : "failed"}`);
    }
    if (report.status === "pass" && !j.verdict.passed) problems.push(`re-judged: a pass claim whose patch does not make the tests pass (the judge says: ${verdict})`);
    return { ok: problems.length === 0, problems, tests_passed: passed, verdict, isolation };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
