// in-toto Statement v1 (github.com/in-toto/attestation, spec/v1/statement.md) for a run bundle
// and for a loop. Pure: built from the harness's own report / summary, checked against them.
import { z } from "zod";
import type { Report } from "../evidence/report.ts";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
/**
 * Our predicate types. URNs because the project owns no domain to publish under; a URN is an
 * RFC 3986 URI, which is all in-toto asks of a TypeURI. Bump the version on any change of meaning.
 */
export const RUN_PREDICATE_TYPE = "urn:cto-harness:predicate:run-evidence:v1";
export const LOOP_PREDICATE_TYPE = "urn:cto-harness:predicate:loop-evidence:v1";

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "a sha256 digest in lowercase hex");
export const Subject = z.object({ name: z.string().min(1), digest: z.object({ sha256: Sha256Hex }).strict() }).strict();
export type Subject = z.infer<typeof Subject>;

export const RunPredicate = z
  .object({
    run_id: z.string(),
    status: z.string(),
    failure_reason: z.string().nullable(),
    fixture: z.object({ id: z.string(), digest: z.string(), variant: z.string().optional() }).strict(),
    engine: z.string(),
    /** The provider's name, never its endpoint. */
    provider: z.string(),
    model: z.string(),
    harness_version: z.string(),
    endpoint_kind: z.string(),
    isolation: z.string(),
    tests_passed: z.boolean().nullable(),
    judge: z
      .object({ verdict: z.string(), findings: z.number().int(), expected: z.number().int().nullable(), expected_passed: z.number().int().nullable() })
      .strict()
      .nullable(),
    baseline_valid_for_pass_claim: z.boolean().nullable(),
    report_sha256: Sha256Hex,
    created_at: z.string(),
    finished_at: z.string(),
  })
  .strict();
export type RunPredicate = z.infer<typeof RunPredicate>;

export const LoopPredicate = z
  .object({
    loop_id: z.string(),
    harness_version: z.string(),
    config_hash: z.string(),
    interrupted: z.boolean(),
    exit_code: z.number().int(),
    counts: z.record(z.string(), z.number().int()),
    runs: z.array(z.object({ run_id: z.string(), fixture: z.string(), engine: z.string(), attempt: z.number().int(), status: z.string() }).strict()),
  })
  .strict();
export type LoopPredicate = z.infer<typeof LoopPredicate>;

export const Statement = z
  .object({
    _type: z.literal(STATEMENT_TYPE),
    subject: z.array(Subject).min(1),
    predicateType: z.string(),
    predicate: z.record(z.string(), z.unknown()),
  })
  .strict();
export type Statement = z.infer<typeof Statement>;

/** What a run's signature vouches for, taken from its report (the report is covered by the manifest too). */
export function runPredicate(report: Report, reportSha256: string): RunPredicate {
  const j = report.judge;
  return {
    run_id: report.run_id,
    status: report.status,
    failure_reason: report.failure_reason,
    fixture: { id: report.fixture.id, digest: report.fixture.digest, ...(report.fixture.variant ? { variant: report.fixture.variant } : {}) },
    engine: report.backend,
    provider: report.case_model_provider,
    model: report.case_model,
    harness_version: report.harness_version,
    endpoint_kind: report.endpoint_kind,
    isolation: report.isolation,
    tests_passed: report.tests ? report.tests.passed : null,
    judge: j ? { verdict: j.verdict, findings: j.findings.length, expected: j.tests?.expected ?? null, expected_passed: j.tests?.expected_passed ?? null } : null,
    baseline_valid_for_pass_claim: report.baseline_comparison ? report.baseline_comparison.valid_for_pass_claim : null,
    report_sha256: reportSha256,
    created_at: report.created_at,
    finished_at: report.finished_at,
  };
}

export function runStatement(manifestSha256: string, predicate: RunPredicate): Statement {
  return { _type: STATEMENT_TYPE, subject: [{ name: "manifest.json", digest: { sha256: manifestSha256 } }], predicateType: RUN_PREDICATE_TYPE, predicate };
}

export function loopStatement(subjects: Subject[], predicate: LoopPredicate): Statement {
  return { _type: STATEMENT_TYPE, subject: subjects, predicateType: LOOP_PREDICATE_TYPE, predicate };
}

/** Field-by-field differences between what was signed and what the bundle's report says now. */
export function predicateDifferences(signed: RunPredicate, fromReport: RunPredicate): string[] {
  const out: string[] = [];
  for (const key of Object.keys(fromReport) as (keyof RunPredicate)[]) {
    if (JSON.stringify(signed[key]) !== JSON.stringify(fromReport[key])) out.push(key);
  }
  return out;
}
