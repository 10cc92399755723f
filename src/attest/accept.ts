// Accepting a bundle produced elsewhere (a queue worker): signed by a trusted key, intact,
// the job that was asked for, and, when asked, re-judged here. The verdict is computed only
// from the coordinator's own trusted keys, its own idea of the job, and the bytes on disk.
import type { Report } from "../evidence/report.ts";
import type { TrustedKeys } from "./keys.ts";
import { RunPredicate } from "./statement.ts";
import { verifySignedBundle } from "./bundle.ts";
import type { AttestationCheck } from "./verify.ts";

/** What the coordinator handed out; each given field must equal the signed predicate's. */
export interface ExpectedJob {
  fixture_id?: string;
  fixture_digest?: string;
  engine?: string;
  /** The provider's name (never an endpoint). */
  provider?: string;
  model?: string;
  harness_version?: string;
  /** Only these signers may produce this job's bundle (e.g. the worker that leased it). */
  keyids?: string[];
}

export interface Acceptance {
  ok: boolean;
  problems: string[];
  keyid: string | null;
  report: Report | null;
  attestation: AttestationCheck;
  rejudged: boolean;
}

/** Pure: where a signed predicate is not the job that was asked for (a replayed or swapped bundle). */
export function jobMismatches(predicate: RunPredicate, expected: ExpectedJob, keyid: string | null): string[] {
  const out: string[] = [];
  const pairs: [string, string | undefined, string][] = [
    ["fixture id", expected.fixture_id, predicate.fixture.id],
    ["fixture digest", expected.fixture_digest, predicate.fixture.digest],
    ["engine", expected.engine, predicate.engine],
    ["provider", expected.provider, predicate.provider],
    ["model", expected.model, predicate.model],
    ["harness version", expected.harness_version, predicate.harness_version],
  ];
  for (const [what, want, got] of pairs) if (want !== undefined && want !== got) out.push(`signed ${what} is ${got}, the job asked for ${want}`);
  if (expected.keyids && (!keyid || !expected.keyids.includes(keyid))) out.push(`signed by keyid ${keyid ?? "(none)"}, not by a key allowed for this job`);
  return out;
}

export type RejudgeFn = (runDir: string, report: Report) => Promise<{ ok: boolean; problems: string[] }>;

/**
 * Signature (offline, `trusted`), then the manifest and every file, then the job, then (with
 * `rejudge`) the judge again on the recorded patch. `secrets`: the coordinator's endpoint
 * values, for the leak scan.
 */
export async function acceptBundle(
  runDir: string,
  trusted: TrustedKeys,
  expected: ExpectedJob,
  opts: { secrets?: string[]; rejudge?: boolean | RejudgeFn } = {},
): Promise<Acceptance> {
  const v = await verifySignedBundle(runDir, trusted, { secrets: opts.secrets });
  const problems = [...v.problems];
  const keyid = v.attestation.ok ? v.attestation.keyid : null;
  const predicate = v.attestation.statement ? RunPredicate.safeParse(v.attestation.statement.predicate) : null;
  if (v.attestation.ok && predicate?.success) problems.push(...jobMismatches(predicate.data, expected, keyid));
  let rejudged = false;
  if (opts.rejudge && problems.length === 0 && v.report?.tests) {
    const rejudge: RejudgeFn = typeof opts.rejudge === "function" ? opts.rejudge : async (dir, report) => (await import("../evidence/rejudge.ts")).rejudgeBundle(dir, report);
    const r = await rejudge(runDir, v.report).catch((e: Error) => ({ ok: false, problems: [`cannot re-judge: ${e.message}`] }));
    problems.push(...r.problems);
    rejudged = true;
  }
  return { ok: problems.length === 0, problems, keyid, report: v.report, attestation: v.attestation, rejudged };
}
