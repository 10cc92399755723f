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
import { readModelRequests } from "./worker-io.ts";
import type { BundleTrust } from "./trust.ts";
import type { Report } from "../evidence/report.ts";

export type Verdict =
  | { verdict: "accept"; runId: string; dir: string; report: Report }
  | { verdict: "retry"; runId: string; dir: string; reason: string }
  | { verdict: "reject"; runId: string | null; dir: string | null; reason: string };

export interface AcceptDeps {
  verifyBundle: VerifyFn;
  trust: BundleTrust | null;
  secrets: string[];
}

/** Where in the loop directory this submission goes: its run id, made unique. Null when the id is not a plain name. */
export function placeFor(loopDir: string, runId: string, submissionId: number): { runId: string; dir: string } | null {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(runId)) return null;
  const first = join(loopDir, runId);
  if (!existsSync(first)) return { runId, dir: first };
  const id = `${runId}-q${submissionId}`;
  return { runId: id, dir: join(loopDir, id) };
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

export async function judgeSubmission(
  s: PendingSubmission,
  files: WireFile[],
  loopDir: string,
  attempt: QueuedAttempt | undefined,
  deps: AcceptDeps,
): Promise<Verdict> {
  if (!attempt) return { verdict: "reject", runId: null, dir: null, reason: "its run key is not one of this loop's attempts" };
  const place = placeFor(loopDir, s.run_id, s.id);
  if (!place) return { verdict: "reject", runId: null, dir: null, reason: `its run id ${JSON.stringify(s.run_id)} is not a plain directory name` };
  try {
    await unpackBundle(place.dir, files);
  } catch (e) {
    await rm(place.dir, { recursive: true, force: true }).catch(() => {});
    return { verdict: "reject", runId: null, dir: null, reason: (e as Error).message };
  }
  const reject = (reason: string): Verdict => ({ verdict: "reject", runId: place.runId, dir: place.dir, reason });
  if (deps.trust) {
    const t = await deps.trust.verify(place.dir);
    if (!t.ok) return reject(`attestation: ${t.reason}`);
  }
  const v = await deps.verifyBundle(place.dir, { secrets: deps.secrets });
  if (!v.ok || !v.report) return reject(`verification failed: ${v.problems.slice(0, 3).join("; ") || "no report"}`);
  const mismatch = specMismatch(v.report, attempt);
  if (mismatch.length > 0) return reject(`the bundle is of another run: ${mismatch.join(", ")}`);
  const outcome = classifyOutcome({ status: v.report.status, failure_reason: v.report.failure_reason, model_requests: await readModelRequests(place.dir) });
  if (outcome.kind === "result" || s.final) return { verdict: "accept", runId: place.runId, dir: place.dir, report: v.report };
  return { verdict: "retry", runId: place.runId, dir: place.dir, reason: `${outcome.kind.replace("_", " ")}: ${outcome.reason}` };
}
