// Stage judge: the carried change applied to a fresh copy of the fixture, its tests run there
// (sandboxed), structured results checked against the oracle's expected set, tampering rules
// applied (src/judge). Writes tests/result.json and the judge's markers.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeJsonAtomic } from "../../evidence/files.ts";
import type { Report } from "../../evidence/report.ts";
import { judge, type Judgement } from "../../judge/judge.ts";
import { judgeSummary, testsPassedByJudge, writeJudgeMarkers } from "../../judge/report.ts";
import { measured, type RunContext, type RunState, type StageUpdate } from "../context.ts";

function testsOf(j: Judgement): Report["tests"] {
  const t = j.tests;
  return t ? { command: t.command, exit_code: t.exitCode, passed: testsPassedByJudge(j), duration_ms: t.durationMs, timed_out: t.timedOut } : null;
}

export async function judgeChange(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  const fixture = ctx.fixture;
  const captured = state.captured;
  if (!fixture || !state.workspace || !captured) return {};
  await mkdir(join(ctx.runDir, "tests"), { recursive: true });
  const expected = await state.workspace.expected;
  const { value: judgement, timings } = await measured("tests", () =>
    judge({
      fixture,
      changes: captured.changes,
      captureError: captured.error,
      priorFindings: captured.repoFindings,
      notes: captured.notes,
      expected,
      outDir: ctx.runDir,
      isolation: state.workspace!.testIsolation,
      signal: ctx.signal,
    }),
  );
  const tests = testsOf(judgement);
  const onDisk = tests ?? { command: fixture.testCommand, exit_code: null, passed: false, duration_ms: 0, timed_out: false };
  await writeJsonAtomic(join(ctx.runDir, "tests", "result.json"), { ...onDisk, judge: judgeSummary(judgement) });
  const markers: string[] = [];
  await writeJudgeMarkers(ctx.backendDir, judgement, markers);
  const t = judgement.tests;
  ctx.trace.emit("tests_finished", {
    passed: tests?.passed ?? false,
    exit_code: t?.exitCode ?? null,
    duration_ms: t?.durationMs ?? 0,
    timed_out: t?.timedOut ?? false,
    verdict: judgement.verdict.reason ?? "pass",
    findings: judgement.findings.length,
  });
  return { judgement, tests, patch: { path: "workspace.patch", ...judgement.patch }, changedFiles: judgement.changedFiles, markers, timings };
}
