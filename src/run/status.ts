// Pure decision of a run's status and failure reason from what the lifecycle observed.
// `status: pass` requires all of: tests passed, baseline failed (when a baseline is due),
// agent result protocol valid, no fallback, no secret finding, model and source admitted,
// and the judge found no tampering and saw every expected test run.
import type { FailureReason, MarkerFile, RunStatus } from "../evidence/report.ts";
import type { JudgeReason } from "../judge/verdict.ts";

export interface Gate {
  reason: FailureReason;
  marker: MarkerFile | null;
  /** One-line explanation for humans (no secret). */
  detail: string;
}

export interface Observations {
  interrupted: boolean;
  harnessError: string | null;
  /** The first gate that stopped the run before the agent started. */
  blockedBy: Gate | null;
  secretFindings: number;
  agent: {
    started: boolean;
    timedOut: boolean;
    startError: string | null;
    /** null: the engine has no result protocol. */
    protocolValid: boolean | null;
  } | null;
  fallbackDetected: boolean;
  /** Requests the admitted model answered (2xx) through the proxy; null for engines without a model. */
  modelTraffic: number | null;
  testsPassed: boolean | null;
  /** The judge's reason when it did not pass the change (null: it passed, or nothing was judged). */
  judgeReason: JudgeReason | null;
  /** The same-run baseline's outcome; null when none ran. */
  baseline: { status: RunStatus; failureReason: FailureReason | null } | null;
  baselineDue: boolean;
}

export interface Decision {
  status: RunStatus;
  failureReason: FailureReason | null;
}

export function decideStatus(o: Observations): Decision {
  // A leak outranks everything: the bundle is not trustworthy whatever else happened.
  if (o.secretFindings > 0) return { status: "fail", failureReason: "secret leak detected" };
  if (o.interrupted) return { status: "error", failureReason: "interrupted" };
  if (o.harnessError !== null) return { status: "error", failureReason: "harness error" };
  if (o.blockedBy) return { status: "blocked", failureReason: o.blockedBy.reason };
  if (!o.agent) return { status: "error", failureReason: "harness error" };
  if (!o.agent.started) return { status: "fail", failureReason: "case process failed to start" };
  if (o.fallbackDetected) return { status: "fail", failureReason: "model fallback detected" };
  // A cheat is named whatever else went wrong: it is what a reader most needs to know.
  if (o.judgeReason === "tampering detected") return { status: "fail", failureReason: "tampering detected" };
  if (o.agent.timedOut) return { status: "fail", failureReason: "case process timed out" };
  if (o.agent.protocolValid === false) return { status: "fail", failureReason: "case agent result protocol failed" };
  // An agent's result says something about the model only if the model did the work.
  if (o.modelTraffic !== null && o.modelTraffic === 0) return { status: "fail", failureReason: "no model traffic" };
  if (o.judgeReason !== null) return { status: "fail", failureReason: o.judgeReason };
  if (o.testsPassed !== true) return { status: "fail", failureReason: "tests failed" };
  if (o.baselineDue && !baselineValidForPassClaim(o.baseline?.status ?? null, o.baseline?.failureReason ?? null)) {
    return { status: "fail", failureReason: "baseline invalid" };
  }
  return { status: "pass", failureReason: null };
}

/**
 * A pass claim is valid only when the same-run baseline (fake-noop) failed because its
 * tests failed — not because of anything else (a leak, an interruption, a harness error).
 */
export function baselineValidForPassClaim(status: RunStatus | null, failureReason: FailureReason | null): boolean {
  // `tests did not run` on an unchanged tree still means the unfixed fixture does not pass.
  return status === "fail" && (failureReason === "tests failed" || failureReason === "tests did not run");
}
