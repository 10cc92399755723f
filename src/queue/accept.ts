// The coordinator's check of one submitted bundle, before it may count. Everything in the
// submission is hostile input: the rows are unpacked only into a fresh directory of the loop
// (bundle-wire.ts refuses escapes), then the bundle is verified like any other (schema, every
// hash, baseline, leak scan), its attestation must verify against the trusted keys, and its
// report must be the run the job asked for. The worker's own classification is not trusted:
// the outcome is recomputed from the verified report and the proxy's records.
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { VerifyFn } from "../loop/loop.ts";
import type { QueuedAttempt } from "./plan.ts";
import type { PendingSubmission } from "./store.ts";
import { unpackBundle, type WireFile } from "./bundle-wire.ts";
import { classifyOutcome } from "./outcome.ts";
import { runFacts } from "./worker-io.ts";
import type { BundleTrust } from "./trust.ts";
import { acceptBundle } from "../attest/index.ts";
import type { Report } from "../evidence/report.ts";

/**
 * `dir` is where the bundle was unpacked and checked: `<loop>/.incoming/<submission>/<run_id>`.
 * An accepted one is moved to `<loop>/<run_id>` only after the database has recorded it, so a
 * coordinator killed at any point leaves nothing half-written under a run's own name.
 */
export type Verdict =
  | { verdict: "accept"; runId: string; dir: string; finalDir: string; report: Report }
  | { verdict: "retry"; runId: string; dir: string; reason: string }
  | { verdict: "reject"; runId: string | null; dir: string | null; reason: string };

export function incomingDir(loopDir: string, submissionId: number, runId: string): string {
  return join(loopDir, ".incoming", String(submissionId), runId);
}

export interface AcceptDeps {
  verifyBundle: VerifyFn;
  trust: BundleTrust | null;
  secrets: string[];
}

/**
 * Where in the loop directory this submission goes: `<loop>/<run_id>` (verify requires the
 * directory's name to be the report's run_id). Null when the id is not a plain name, or when
 * another run of the loop already has that name (two hosts, same second, same pid): the
 * caller rejects it and the key runs again under a new name.
 */
export function placeFor(loopDir: string, runId: string): { runId: string; dir: string } | null {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(runId)) return null;
  const dir = join(loopDir, runId);
  return existsSync(dir) ? null : { runId, dir };
}

/** Which fields of the report disagree with what the job asked for. Pure. */
export function specMismatch(report: Report, a: QueuedAttempt): string[] {
  const s = a.job.spec;
  const out: string[] = [];
  if (report.fixture.id !== s.fixture_id) out.push(`fixture ${report.fixture.id} (asked ${s.fixture_id})`);
  if (report.fixture.digest !== s.fixture_digest) out.push(`fixture digest ${report.fixture.digest} (asked ${s.fixture_digest})`);
  if (report.backend !== s.engine) out.push(`engine ${report.backend} (asked ${s.engine})`);
  if (report.case_model_provider !== s.provider) out.push(`provider ${report.case_model_provider} (asked ${s.provider})`);
  if (report.case_model !== s.model) out.push(`model ${report.case_model} (asked ${s.model})`);
  return out;
}

/** Signature (trusted keys only), manifest, every file, the signed job, optionally a re-judge (src/attest). */
async function acceptSigned(dir: string, a: QueuedAttempt, trust: BundleTrust, secrets: string[]): Promise<{ ok: boolean; problems: string[]; report: Report | null }> {
  const s = a.job.spec;
  const r = await acceptBundle(dir, trust.trusted, { fixture_id: s.fixture_id, fixture_digest: s.fixture_digest, engine: s.engine, provider: s.provider, model: s.model }, { secrets, rejudge: trust.rejudge });
  return { ok: r.ok, problems: r.problems, report: r.report };
}

export async function judgeSubmission(
  s: PendingSubmission,
  files: WireFile[],
  loopDir: string,
  attempt: QueuedAttempt | undefined,
  deps: AcceptDeps,
): Promise<Verdict> {
  if (!attempt) return { verdict: "reject", runId: null, dir: null, reason: "its run key is not one of this loop's attempts" };
  const final = placeFor(loopDir, s.run_id);
  if (!final) return { verdict: "reject", runId: null, dir: null, reason: `its run id ${JSON.stringify(s.run_id)} is not a plain directory name, or another run of this loop has it` };
  const place = { runId: final.runId, dir: incomingDir(loopDir, s.id, final.runId) };
  // A coordinator killed while judging this submission left a partial copy: start again.
  await rm(join(loopDir, ".incoming", String(s.id)), { recursive: true, force: true });
  try {
    await unpackBundle(place.dir, files);
  } catch (e) {
    await rm(place.dir, { recursive: true, force: true }).catch(() => {});
    return { verdict: "reject", runId: null, dir: null, reason: (e as Error).message };
  }
  const reject = (reason: string): Verdict => ({ verdict: "reject", runId: `.incoming/${s.id}/${place.runId}`, dir: place.dir, reason });
  const v = deps.trust ? await acceptSigned(place.dir, attempt, deps.trust, deps.secrets) : await deps.verifyBundle(place.dir, { secrets: deps.secrets });
  if (!v.ok || !v.report) return reject(`${deps.trust ? "not accepted" : "verification failed"}: ${v.problems.slice(0, 3).join("; ") || "no report"}`);
  const mismatch = specMismatch(v.report, attempt);
  if (mismatch.length > 0) return reject(`the bundle is of another run: ${mismatch.join(", ")}`);
  const outcome = classifyOutcome(await runFacts(place.dir, v.report));
  if (outcome.kind === "result" || s.final) return { verdict: "accept", runId: place.runId, dir: place.dir, finalDir: final.dir, report: v.report };
  return { verdict: "retry", runId: `.incoming/${s.id}/${place.runId}`, dir: place.dir, reason: `${outcome.kind.replace("_", " ")}: ${outcome.reason}` };
}
