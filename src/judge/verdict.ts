// The judge's verdict (pure): from the test command's exit, the structured results and the
// tampering findings. Precedence: tampering, an uncapturable change, tests that did not
// (all) run although the command claimed success, failed tests.
import type { Finding } from "./tampering.ts";
import type { TestCount } from "./results.ts";

export type JudgeReason = "tampering detected" | "change capture failed" | "tests did not run" | "tests failed";

export interface JudgeVerdict {
  passed: boolean;
  reason: JudgeReason | null;
  detail: string | null;
}

export interface VerdictInput {
  captureError: string | null;
  findings: Finding[];
  exitCode: number | null;
  timedOut: boolean;
  count: TestCount | null;
}

export function decideVerdict(v: VerdictInput): JudgeVerdict {
  if (v.findings.length > 0) {
    const rules = [...new Set(v.findings.map((f) => f.rule))].join(", ");
    return { passed: false, reason: "tampering detected", detail: `${v.findings.length} finding(s): ${rules}` };
  }
  if (v.captureError !== null) return { passed: false, reason: "change capture failed", detail: v.captureError };
  if (v.timedOut) return { passed: false, reason: "tests failed", detail: "the tests timed out" };
  if (v.exitCode !== 0) return { passed: false, reason: "tests failed", detail: `the test command exited ${v.exitCode ?? "by a signal"}` };
  const c = v.count;
  if (c && c.failed > 0) return { passed: false, reason: "tests failed", detail: `${c.failed} test(s) failed although the command exited 0` };
  if (c && c.count_verified && c.missing.length > 0) {
    return { passed: false, reason: "tests did not run", detail: `${c.missing.length} of ${c.expected} expected test(s) did not run (the command exited 0)` };
  }
  if (c && c.count_verified && c.ran === 0) return { passed: false, reason: "tests did not run", detail: "no test ran (the command exited 0)" };
  return { passed: true, reason: null, detail: null };
}
