// The report record, schema `cto-harness/report@1` (DESIGN §6). Part of the Harness
// Evidence Interface: fields are only ever added, never renamed.
import { z } from "zod";

export const REPORT_SCHEMA = "cto-harness/report@1";

/** Exact failure-reason strings (DESIGN §6); the first four come from the user's records. */
export const FAILURE_REASONS = [
  "provider local config unavailable",
  "provider response shape unavailable",
  "case agent result protocol failed",
  "model not admitted",
  "source not admitted",
  "provider unreachable",
  "sandbox unavailable",
  "case process failed to start",
  "case process timed out",
  "tests failed",
  "baseline invalid",
  "model fallback detected",
  "secret leak detected",
  "interrupted",
  "harness error",
  // Additions (never renamed):
  "no model traffic",
  // Added with the fresh-tree judge (docs/judging.md):
  "tampering detected",
  "tests did not run",
  "change capture failed",
  // Added with held-out tests:
  "held-out tests failed",
  // Added with Harbor tasks (docs/fixtures.md):
  "needs a container",
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Marker files under `backend/` (DESIGN §5), keyed by what they mark. */
export const MARKERS = {
  providerLocalConfigUnavailable: "provider-local-config-unavailable.txt",
  providerUnreachable: "provider-unreachable.txt",
  providerReasoningOnly: "provider-reasoning-only.txt",
  providerResponseShapeUnavailable: "provider-response-shape-unavailable.txt",
  modelNotAdmitted: "model-not-admitted.txt",
  sourceNotAdmitted: "source-not-admitted.txt",
  caseResultProtocolFailed: "case-result-protocol-failed.txt",
  modelFallbackDetected: "model-fallback-detected.txt",
  secretLeakDetected: "secret-leak-detected.txt",
  sandboxUnavailable: "sandbox-unavailable.txt",
  // Added with the fresh-tree judge:
  judgeTamperingDetected: "judge-tampering-detected.txt",
  testsDidNotRun: "tests-did-not-run.txt",
  patchCaptureFailed: "patch-capture-failed.txt",
  // Added with held-out tests:
  heldOutTestsFailed: "held-out-tests-failed.txt",
  specialCasingSuspected: "judge-special-casing-suspected.txt",
  // Added with Harbor tasks:
  needsContainer: "needs-a-container.txt",
  harborCommandMissing: "harbor-command-missing.txt",
} as const;
export type MarkerFile = (typeof MARKERS)[keyof typeof MARKERS];

export const RunStatus = z.enum(["pass", "fail", "blocked", "error"]);
export type RunStatus = z.infer<typeof RunStatus>;

export const ProbeSummary = z.object({
  classification: z.string(),
  verdict: z.enum(["allow", "warn", "block"]),
  budget: z.number().int(),
  time_to_verdict_ms: z.number(),
});

export const ModelTraffic = z.object({
  requests: z.number().int(),
  models_seen: z.array(z.string()),
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  fallback_detected: z.boolean(),
  refused_requests: z.number().int().optional(),
  errors: z.number().int().optional(),
  /** Requests for the admitted model that it answered (2xx): proof the model did the work. */
  answered_by_admitted_model: z.number().int().optional(),
  /** The models the server said answered (a router that swaps models shows here). */
  models_answered: z.array(z.string()).optional(),
});

const JudgeFinding = z.object({ rule: z.string(), file: z.string().nullable(), line: z.number().int().nullable(), detail: z.string() });
const TestSet = z.object({
  expected: z.number().int().nullable(),
  expected_passed: z.number().int().nullable(),
  missing: z.array(z.string()),
  failing: z.array(z.string()),
});

export const Report = z.object({
  schema: z.literal(REPORT_SCHEMA),
  run_id: z.string(),
  harness_version: z.string(),
  created_at: z.string(),
  finished_at: z.string(),
  fixture: z.object({ id: z.string(), digest: z.string(), variant: z.string().optional() }),
  status: RunStatus,
  failure_reason: z.enum(FAILURE_REASONS).nullable(),
  backend: z.string(),
  backend_exit_code: z.number().int().nullable(),
  case_process_started: z.boolean(),
  case_model_provider: z.string(),
  case_model: z.string(),
  case_model_admission_status: z.enum(["admitted", "not_admitted"]),
  source_admission_status: z.enum(["admitted", "not_admitted"]),
  endpoint_kind: z.enum(["real", "simulated"]),
  probe: ProbeSummary.nullable(),
  model_traffic: ModelTraffic,
  changed_files: z.array(z.string()),
  patch: z.object({ path: z.string(), bytes: z.number().int(), sha256: z.string() }),
  tests: z
    .object({
      command: z.string(),
      exit_code: z.number().int().nullable(),
      passed: z.boolean(),
      duration_ms: z.number(),
      timed_out: z.boolean().optional(),
    })
    .nullable(),
  baseline_comparison: z
    .object({
      baseline_backend: z.string(),
      baseline_status: RunStatus,
      engine_status: RunStatus,
      valid_for_pass_claim: z.boolean(),
      baseline_run: z.string().optional(),
    })
    .nullable(),
  /** What isolated the agent and the judging tests (`none` when nothing ran sandboxed). */
  isolation: z.enum(["bwrap", "none"]),
  /** What the user asked for (`--isolation`); differs from `isolation` when a gate stopped the run first. */
  isolation_requested: z.enum(["bwrap", "none"]).optional(),
  /**
   * Set only by `demo` (our own agent on the simulator, no secrets in play) when bubblewrap
   * could not start: the demo then ran with `isolation: none`. `run` and `loop` never fall back.
   */
  isolation_fallback: z.object({ from: z.literal("bwrap"), to: z.literal("none"), reason: z.string(), fix: z.string() }).optional(),
  secret_scan: z.object({
    files: z.number().int(),
    findings: z.number().int(),
    finding_files: z.array(z.string()).optional(),
    /** How many secret values were in play (0: nothing to look for, e.g. the simulator). */
    secret_values: z.number().int().optional(),
    /** Items the scan could not read (a partial scan never passes). */
    errors: z.number().int().optional(),
  }),
  timings: z.record(z.string(), z.number()),
  // Additions beyond DESIGN §6 (allowed: add, never rename).
  markers: z.array(z.string()).optional(),
  agent_result: z
    .object({
      protocol_valid: z.boolean().nullable(),
      source: z.string().nullable(),
      status: z.string().nullable(),
      summary: z.string().nullable(),
      model_error: z.string().nullable().optional(),
    })
    .optional(),
  failure_detail: z.string().nullable().optional(),
  /**
   * Directories the agent must not read that a bind of its sandbox contained, each masked by
   * an empty read-only tmpfs (docs/isolation.md): present when the agent ran in the sandbox,
   * `[]` when nothing hidden was in reach.
   */
  sandbox_masked: z.array(z.string()).optional(),
  role: z.enum(["run", "baseline"]).optional(),
  /** How the change was judged (docs/judging.md): fresh tree, expected tests, tampering findings. */
  judge: z
    .object({
      tree: z.literal("fresh"),
      verdict: z.enum(["pass", "tampering detected", "change capture failed", "tests did not run", "tests failed", "held-out tests failed"]),
      detail: z.string().nullable(),
      findings: z.array(JudgeFinding),
      /** Findings that do not decide the verdict (e.g. suspected special-casing): shown either way. */
      observations: z.array(JudgeFinding).optional(),
      tests: z
        .object({
          expected: z.number().int().nullable(),
          expected_passed: z.number().int().nullable().optional(),
          ran: z.number().int(),
          passed: z.number().int(),
          failed: z.number().int(),
          missing: z.array(z.string()),
          failing: z.array(z.string()),
          count_verified: z.boolean(),
          held_out: TestSet.nullable().optional(),
          contradicting: z.object({ ids: z.array(z.string()), passed: z.array(z.string()) }).optional(),
        })
        .nullable(),
      /** An impossible variant's run: how it is classified for the cheat rate. */
      impossible: z.object({ variant: z.string(), classification: z.enum(["cheated", "flagged", "failed"]) }).optional(),
      not_carried: z.array(z.object({ path: z.string(), why: z.string() })),
      notes: z.array(z.string()),
      /** A Harbor task (docs/fixtures.md): its WORKDIR, the reward and where it came from, the CTRF report, missing commands. */
      harbor: z
        .object({
          workdir: z.string(),
          /** Judged in Harbor's view in bubblewrap (false: `--isolation none`, tests inside the tree). */
          view: z.boolean(),
          /** The scalar reward that decided (null: no reward file, or an unusable one). */
          reward: z.number().nullable(),
          reward_source: z.enum(["reward.json", "reward.txt", "exit code"]),
          rewards: z.record(z.string(), z.number()),
          reward_problem: z.string().nullable(),
          /** Tests named by /logs/verifier/ctrf.json (null: no CTRF report). */
          ctrf_tests: z.number().int().nullable(),
          missing_commands: z.array(z.object({ command: z.string(), run_line: z.number().int().nullable(), run: z.string().nullable() })),
        })
        .optional(),
    })
    .optional(),
});
export type Report = z.infer<typeof Report>;
