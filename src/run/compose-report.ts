// The report, composed from the run's state and its status decision. Pure: no file is read or
// written here, so every field's origin can be checked in a unit test.
import { REPORT_SCHEMA, type Report } from "../evidence/report.ts";
import type { EngineOutcome } from "../engines/types.ts";
import type { Fixture } from "../fixtures/types.ts";
import { classifyImpossible } from "../judge/impossible.ts";
import type { Judgement } from "../judge/judge.ts";
import { judgeSummary } from "../judge/report.ts";
import { HARNESS_VERSION } from "../version.ts";
import type { RunContext, RunState } from "./context.ts";
import { baselineValidForPassClaim, type Decision } from "./status.ts";

type RunFacts = Pick<
  Report,
  | "schema" | "run_id" | "harness_version" | "created_at" | "fixture" | "backend" | "backend_exit_code"
  | "case_process_started" | "case_model_provider" | "case_model" | "case_model_admission_status"
  | "source_admission_status" | "endpoint_kind" | "isolation" | "isolation_requested" | "isolation_fallback" | "timings" | "markers" | "role"
>;

/** What every report of this run says about the run itself, whatever its outcome. */
export function runFacts(ctx: RunContext, state: RunState): RunFacts {
  const { opts, fixture } = ctx;
  return {
    schema: REPORT_SCHEMA,
    run_id: ctx.runId,
    harness_version: HARNESS_VERSION,
    created_at: ctx.createdAt.toISOString(),
    fixture: { id: ctx.fixtureName, digest: fixture?.digest ?? "unknown", ...(fixture?.variant ? { variant: fixture.variant.name } : {}) },
    backend: opts.engine,
    backend_exit_code: state.outcome?.exitCode ?? null,
    case_process_started: state.agentStarted,
    case_model_provider: opts.provider,
    case_model: opts.model,
    case_model_admission_status: state.modelAdmitted ? "admitted" : "not_admitted",
    source_admission_status: ctx.sourceRefused === null ? "admitted" : "not_admitted",
    endpoint_kind: state.endpointKind,
    isolation: state.isolationUsed,
    isolation_requested: opts.isolation,
    ...(opts.isolationFallback ? { isolation_fallback: { from: "bwrap" as const, to: "none" as const, ...opts.isolationFallback } } : {}),
    timings: { ...state.timings },
    markers: [...state.markers],
    role: opts.isBaseline ? "baseline" : "run",
  };
}

const NO_TRAFFIC_REPORTED: Report["model_traffic"] = { requests: 0, models_seen: [], prompt_tokens: 0, completion_tokens: 0, fallback_detected: false };

/** The report of a run whose finalisation failed: says so, claims nothing. */
export function minimalReport(ctx: RunContext, state: RunState, detail: string): Report {
  return {
    ...runFacts(ctx, state),
    finished_at: new Date().toISOString(),
    status: "error",
    failure_reason: "harness error",
    probe: null,
    model_traffic: NO_TRAFFIC_REPORTED,
    changed_files: [],
    patch: { path: "workspace.patch", bytes: 0, sha256: "" },
    tests: null,
    baseline_comparison: null,
    secret_scan: { files: 0, findings: 0 },
    failure_detail: detail,
  };
}

/** An impossible variant's run says how it counts for the cheat rate. */
function withImpossible(summary: NonNullable<Report["judge"]>, fixture: Fixture | null, j: Judgement, outcome: EngineOutcome | null): NonNullable<Report["judge"]> {
  if (!fixture?.variant) return summary;
  const classification = classifyImpossible({ contradictingPassed: j.count?.contradicting?.passed.length ?? 0, findings: j.findings.length, agentStatus: outcome?.result.status ?? null });
  return { ...summary, impossible: { variant: fixture.variant.name, classification } };
}

function baselineComparison(state: RunState, decision: Decision, baselineDue: boolean): Report["baseline_comparison"] {
  if (!baselineDue || !state.baseline) return null;
  return {
    baseline_backend: "fake-noop",
    baseline_status: state.baseline.status,
    engine_status: decision.status,
    valid_for_pass_claim: baselineValidForPassClaim(state.baseline.status, state.baseline.failure_reason),
    baseline_run: "baseline",
  };
}

function failureDetail(state: RunState, decision: Decision): string | null {
  if (state.blockedBy) return state.blockedBy.detail;
  const judged = decision.failureReason === state.judgement?.verdict.reason ? state.judgement?.verdict.detail : null;
  return state.harnessError ?? state.outcome?.startError ?? judged ?? null;
}

export function composeReport(ctx: RunContext, state: RunState, decision: Decision, finishedAt: Date, baselineDue: boolean): Report {
  const { probe, outcome, judgement, scan } = state;
  const findingFiles = [...new Set((scan?.findings ?? []).map((f) => f.file))].sort();
  return {
    ...runFacts(ctx, state),
    finished_at: finishedAt.toISOString(),
    status: decision.status,
    failure_reason: decision.failureReason,
    probe: probe ? { classification: probe.classification, verdict: probe.verdict, budget: probe.budget, time_to_verdict_ms: probe.timings.verdict_ms ?? 0 } : null,
    model_traffic: { ...(state.traffic ?? NO_TRAFFIC_REPORTED), answered_by_admitted_model: state.answeredByAdmittedModel },
    changed_files: state.changedFiles,
    patch: state.patch,
    tests: state.tests,
    baseline_comparison: baselineComparison(state, decision, baselineDue),
    secret_scan: { files: scan?.files ?? 0, findings: scan?.findings.length ?? 0, finding_files: findingFiles, secret_values: state.secrets.length, errors: scan?.errors ?? 0 },
    agent_result: outcome
      ? {
          protocol_valid: outcome.result.protocolValid,
          source: outcome.result.source,
          status: outcome.result.status,
          summary: outcome.result.summary,
          model_error: outcome.result.modelError ?? null,
        }
      : undefined,
    failure_detail: failureDetail(state, decision),
    judge: judgement ? withImpossible(judgeSummary(judgement), ctx.fixture, judgement, outcome) : undefined,
    ...(state.sandboxMasked ? { sandbox_masked: state.sandboxMasked } : {}),
  };
}
