// The named validator cases: what each sets up (declaratively) and what its run must
// show (pure checks over the run's facts). The I/O that performs them is in run.ts.
import type { Report } from "../evidence/report.ts";
import type { EngineName } from "../engines/types.ts";
import type { CaseScript } from "./scripts.ts";

/** What a validator learns about its run; everything the checks look at. */
export interface RunFacts {
  report: Report;
  /** Bundle files relative to the run dir. */
  files: string[];
  /** Text of `backend/*.txt` markers by relative path. */
  markers: Record<string, string>;
  /** `type` of every trace event, in order. */
  traceTypes: string[];
  verify: { ok: boolean; problems: string[] };
  /** Problems verifyBundle finds in a copy of the bundle with the baseline removed (only when asked). */
  verifyWithoutBaseline?: { ok: boolean; problems: string[] };
  /** Leak findings of a scan for the canary value and its encodings (only when a canary is used). */
  canaryFindings?: string[];
  /** Whether the canary reached the simulator (the run really used it). */
  canaryUsed?: boolean;
  /** Content of a protected file that must never appear in the bundle. */
  protectedContentFound?: boolean;
}

export interface Check {
  what: string;
  ok: boolean;
  detail?: string;
}

export interface ValidatorCase {
  name: string;
  groups: string[];
  description: string;
  engine: EngineName;
  provider: "qwen-local" | "sim";
  /** Simulator scenario behind the endpoint; null = no endpoint configured at all. */
  scenario: string | null;
  caseScript?: CaseScript;
  /** `admitted`: the admission file admits the run's model; `other`: it admits only another model. */
  admission: "admitted" | "other";
  /** Put a canary URL (userinfo, token, query) in front of the simulator. */
  canary?: boolean;
  /** Run the fixture from inside a protected path. */
  protectedFixture?: boolean;
  /** Also verify a copy of the bundle with baseline/ removed. */
  dropBaseline?: boolean;
  checks(f: RunFacts): Check[];
}

export const MODEL = "qwen3.6-35b-a3b";
export const CASE_PROVIDER_ADAPTER = "case-provider-adapter";

const eq = (what: string, actual: unknown, expected: unknown): Check => ({
  what,
  ok: JSON.stringify(actual) === JSON.stringify(expected),
  detail: `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
});
const truthy = (what: string, ok: boolean, detail?: string): Check => ({ what, ok, detail });

const bundleVerifies = (f: RunFacts): Check => truthy("bundle verifies (schema, manifest hashes, baseline)", f.verify.ok, f.verify.problems.slice(0, 3).join("; "));
const notStarted = (f: RunFacts): Check[] => [
  eq("case_process_started", f.report.case_process_started, false),
  truthy("trace has no case_process_started event", !f.traceTypes.includes("case_process_started"), f.traceTypes.join(",")),
];
const marker = (f: RunFacts, name: string): Check => truthy(`marker backend/${name} written`, f.files.includes(`backend/${name}`), `markers: ${Object.keys(f.markers).join(", ") || "none"}`);

export const CASES: ValidatorCase[] = [
  {
    name: "missing_local_config_blocks_before_process",
    groups: [CASE_PROVIDER_ADAPTER],
    description: "qwen-local with CTO_HARNESS_CASE_LOCAL_BASE_URL unset blocks before the Case process starts",
    engine: "case",
    provider: "qwen-local",
    scenario: null,
    caseScript: "well-behaved",
    admission: "admitted",
    checks: (f) => [
      eq("status", f.report.status, "blocked"),
      eq("failure_reason", f.report.failure_reason, "provider local config unavailable"),
      ...notStarted(f),
      eq("case_model_provider", f.report.case_model_provider, "qwen-local"),
      bundleVerifies(f),
    ],
  },
  {
    name: "missing_local_config_writes_marker",
    groups: [CASE_PROVIDER_ADAPTER],
    description: "the missing-config block writes backend/provider-local-config-unavailable.txt naming the variable",
    engine: "case",
    provider: "qwen-local",
    scenario: null,
    caseScript: "well-behaved",
    admission: "admitted",
    checks: (f) => {
      const text = f.markers["backend/provider-local-config-unavailable.txt"] ?? "";
      return [
        marker(f, "provider-local-config-unavailable.txt"),
        truthy("marker names CTO_HARNESS_CASE_LOCAL_BASE_URL", text.includes("CTO_HARNESS_CASE_LOCAL_BASE_URL")),
        bundleVerifies(f),
      ];
    },
  },
  {
    name: "endpoint_value_never_persisted",
    groups: [CASE_PROVIDER_ADAPTER],
    description: "a canary endpoint URL (userinfo, token, query) is used for real traffic yet appears nowhere in the bundle, in any encoding",
    engine: "case",
    provider: "qwen-local",
    scenario: "solve",
    caseScript: "well-behaved",
    admission: "admitted",
    canary: true,
    checks: (f) => [
      eq("case_process_started", f.report.case_process_started, true),
      truthy("the canary endpoint carried model traffic", f.canaryUsed === true && f.report.model_traffic.requests > 0, `requests ${f.report.model_traffic.requests}`),
      truthy("no canary part or encoding in any bundle file", (f.canaryFindings ?? ["not scanned"]).length === 0, (f.canaryFindings ?? []).slice(0, 5).join("; ")),
      eq("report secret_scan.findings", f.report.secret_scan.findings, 0),
      bundleVerifies(f),
    ],
  },
  {
    name: "local_provider_reasoning_only_blocks_case",
    groups: [CASE_PROVIDER_ADAPTER],
    description: "an endpoint that returns reasoning but no content blocks the run before the Case process starts",
    engine: "case",
    provider: "qwen-local",
    scenario: "reasoning-only",
    caseScript: "well-behaved",
    admission: "admitted",
    checks: (f) => [
      eq("status", f.report.status, "blocked"),
      eq("failure_reason", f.report.failure_reason, "provider response shape unavailable"),
      marker(f, "provider-reasoning-only.txt"),
      ...notStarted(f),
      bundleVerifies(f),
    ],
  },
  {
    name: "local_provider_delayed_content_allows_case",
    groups: [CASE_PROVIDER_ADAPTER],
    description: "content after a long reasoning prefix (the Spark max_tokens=32 lesson) is allowed at the realistic 1024-token probe budget",
    engine: "case",
    provider: "qwen-local",
    scenario: "V2b",
    caseScript: "well-behaved",
    admission: "admitted",
    checks: (f) => [
      eq("probe verdict", f.report.probe?.verdict, "allow"),
      eq("probe budget", f.report.probe?.budget, 1024),
      eq("case_process_started", f.report.case_process_started, true),
      truthy("not blocked by the provider", f.report.status !== "blocked", `status ${f.report.status} (${f.report.failure_reason})`),
      bundleVerifies(f),
    ],
  },
  {
    name: "model_not_admitted_blocks_case",
    groups: [CASE_PROVIDER_ADAPTER],
    description: "a model missing from the admission file blocks the run before the Case process starts",
    engine: "case",
    provider: "qwen-local",
    scenario: "solve",
    caseScript: "well-behaved",
    admission: "other",
    checks: (f) => [
      eq("status", f.report.status, "blocked"),
      eq("failure_reason", f.report.failure_reason, "model not admitted"),
      eq("case_model_admission_status", f.report.case_model_admission_status, "not_admitted"),
      marker(f, "model-not-admitted.txt"),
      ...notStarted(f),
      bundleVerifies(f),
    ],
  },
  {
    name: "model_fallback_is_detected",
    groups: [CASE_PROVIDER_ADAPTER],
    description: "an agent asking the proxy for claude-sonnet-4-6 is refused and the run fails with the fallback recorded",
    engine: "case",
    provider: "qwen-local",
    scenario: "solve",
    caseScript: "asks-for-fallback",
    admission: "admitted",
    checks: (f) => [
      eq("status", f.report.status, "fail"),
      eq("failure_reason", f.report.failure_reason, "model fallback detected"),
      eq("model_traffic.fallback_detected", f.report.model_traffic.fallback_detected, true),
      marker(f, "model-fallback-detected.txt"),
      bundleVerifies(f),
    ],
  },
  {
    name: "case_result_protocol_failure_is_explained",
    groups: [CASE_PROVIDER_ADAPTER],
    description: "an agent that reports no case-result/1 result fails with a marker saying what was expected and what arrived",
    engine: "case",
    provider: "qwen-local",
    scenario: "solve",
    caseScript: "no-protocol",
    admission: "admitted",
    checks: (f) => {
      const text = f.markers["backend/case-result-protocol-failed.txt"] ?? "";
      return [
        eq("status", f.report.status, "fail"),
        eq("failure_reason", f.report.failure_reason, "case agent result protocol failed"),
        eq("case_process_started", f.report.case_process_started, true),
        marker(f, "case-result-protocol-failed.txt"),
        truthy("marker says what was expected (case-result/1)", text.includes("case-result/1")),
        bundleVerifies(f),
      ];
    },
  },
  {
    name: "case_pi_event_stream_is_parsed",
    groups: [CASE_PROVIDER_ADAPTER],
    description: "a Pi-based Case agent that reports through Pi's JSON event stream (no result file, no CASE_RESULT line) is understood, and its fix passes",
    engine: "case",
    provider: "qwen-local",
    scenario: "solve",
    caseScript: "pi-based",
    admission: "admitted",
    checks: (f) => [
      eq("status", f.report.status, "pass"),
      eq("agent_result.source", f.report.agent_result?.source, "pi-events"),
      eq("agent_result.protocol_valid", f.report.agent_result?.protocol_valid, true),
      eq("case_process_started", f.report.case_process_started, true),
      truthy("no protocol-failure marker", !f.files.includes("backend/case-result-protocol-failed.txt")),
      bundleVerifies(f),
    ],
  },
  {
    name: "same_run_baseline_required_for_pass",
    groups: [],
    description: "a pass carries a failed same-run fake-noop baseline, and the bundle without it does not verify",
    engine: "fake-oracle",
    provider: "sim",
    scenario: "solve",
    admission: "admitted",
    dropBaseline: true,
    checks: (f) => [
      eq("status", f.report.status, "pass"),
      eq("baseline_comparison.baseline_backend", f.report.baseline_comparison?.baseline_backend, "fake-noop"),
      eq("baseline_comparison.baseline_status", f.report.baseline_comparison?.baseline_status, "fail"),
      eq("baseline_comparison.valid_for_pass_claim", f.report.baseline_comparison?.valid_for_pass_claim, true),
      bundleVerifies(f),
      truthy("the same bundle without baseline/ is rejected", f.verifyWithoutBaseline?.ok === false, (f.verifyWithoutBaseline?.problems ?? []).slice(0, 2).join("; ")),
    ],
  },
  {
    name: "protected_target_path_never_read",
    groups: [],
    description: "a fixture under CTO_HARNESS_PROTECTED_PATHS is refused unread: blocked, nothing of it in the bundle",
    engine: "case",
    provider: "qwen-local",
    scenario: "solve",
    caseScript: "well-behaved",
    admission: "admitted",
    protectedFixture: true,
    checks: (f) => [
      eq("status", f.report.status, "blocked"),
      eq("failure_reason", f.report.failure_reason, "source not admitted"),
      eq("source_admission_status", f.report.source_admission_status, "not_admitted"),
      marker(f, "source-not-admitted.txt"),
      ...notStarted(f),
      truthy("no content of the protected path in the bundle", f.protectedContentFound === false),
      bundleVerifies(f),
    ],
  },
];

/** Names a user can pass to `validate`: case names and group names. */
export function selectCases(name: string): ValidatorCase[] | null {
  if (name === "all") return CASES;
  const one = CASES.filter((c) => c.name === name);
  if (one.length > 0) return one;
  const group = CASES.filter((c) => c.groups.includes(name));
  return group.length > 0 ? group : null;
}

export function knownNames(): string[] {
  return ["all", CASE_PROVIDER_ADAPTER, ...CASES.map((c) => c.name)];
}
