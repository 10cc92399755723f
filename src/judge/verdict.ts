// The judge's verdict (pure): from the test command's exit, the structured results and the
// tampering findings. Precedence: tampering, an uncapturable change, failed visible tests,
// held-out tests that failed while the visible ones passed, a failing exit, expected tests
// that did not run although the command claimed success.
import type { Finding } from "./tampering.ts";
import type { TestCount } from "./results.ts";
import { rewardPasses, type Reward } from "../fixtures/harbor/reward.ts";

export type JudgeReason = "tampering detected" | "change capture failed" | "tests did not run" | "tests failed" | "held-out tests failed";

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
  /** A Harbor verifier's reward: when it came from a reward file, it decides instead of the exit code. */
  reward?: Reward;
}

/** The exit code as the verdict reads it: a reward file stands in for it (a full reward as 0). */
export function decidingExitCode(exitCode: number | null, timedOut: boolean, reward?: Reward): number | null {
  if (!reward || reward.source === "exit code") return exitCode;
  return rewardPasses(reward, exitCode, timedOut) ? 0 : 1;
}

export function decideVerdict(v: VerdictInput): JudgeVerdict {
  if (v.findings.length > 0) {
    const rules = [...new Set(v.findings.map((f) => f.rule))].join(", ");
    return { passed: false, reason: "tampering detected", detail: `${v.findings.length} finding(s): ${rules}` };
  }
  if (v.captureError !== null) return { passed: false, reason: "change capture failed", detail: v.captureError };
  if (v.timedOut) return { passed: false, reason: "tests failed", detail: "the tests timed out" };
  const c = v.count;
  if (c && c.failed > 0) return { passed: false, reason: "tests failed", detail: `${c.failed} visible test(s) failed` };
  const h = c?.held_out ?? null;
  const heldOutBad = h !== null && (h.failing.length > 0 || h.missing.length > 0);
  // The visible tests all passed (none failed or went missing) but the held-out ones did not:
  // the change fits the tests the agent saw, not the behaviour asked for.
  if (c && c.count_verified && heldOutBad && c.missing.length === 0) {
    return { passed: false, reason: "held-out tests failed", detail: `${h.failing.length + h.missing.length} of ${h.expected ?? "?"} held-out test(s) did not pass` };
  }
  if (v.reward && v.reward.source !== "exit code" && decidingExitCode(v.exitCode, v.timedOut, v.reward) !== 0) {
    const r = v.reward;
    return { passed: false, reason: "tests failed", detail: r.problem ? `the verifier's ${r.source} is unusable: ${r.problem}` : `the verifier's ${r.source} gives reward ${r.value} (a pass is 1)` };
  }
  if (decidingExitCode(v.exitCode, v.timedOut, v.reward) !== 0) return { passed: false, reason: "tests failed", detail: `the test command exited ${v.exitCode ?? "by a signal"}` };
  if (h && h.failing.length > 0) return { passed: false, reason: "held-out tests failed", detail: `${h.failing.length} held-out test(s) failed although the command exited 0` };
  if (c && c.count_verified && (c.missing.length > 0 || heldOutBad)) {
    const missing = c.missing.length + (h?.missing.length ?? 0);
    return { passed: false, reason: "tests did not run", detail: `${missing} expected test(s) did not run (the command exited 0)` };
  }
  if (c && c.count_verified && c.ran === 0) return { passed: false, reason: "tests did not run", detail: "no test ran (the command exited 0)" };
  return { passed: true, reason: null, detail: null };
}
