import type { Command } from "commander";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { verifyBundle } from "../../evidence/verify.ts";
import { secretValuesInEnv } from "../../config/providers.ts";
import { protectedPathsFromEnv } from "../../config/admission.ts";
import { rejudgeBundle, type RejudgeResult } from "../../evidence/rejudge.ts";
import { ATTESTATION_FILE, AttestKeyError, attestationProblem, loadTrustDir, loadTrustedKeys, verifyBundleAttestation, type AttestationCheck, type TrustedKeys } from "../../attest/index.ts";
import { UsageError } from "../exit-codes.ts";
import { verifyLoopFromCli } from "./verify-loop.ts";

interface VerifyCliOptions {
  json?: boolean;
  rejudge?: boolean;
  fixture?: string;
  key?: string;
}

/** `--key PUB|DIR` (`kind: "dir"`: a directory only, as `--keys` and `--trust` take). */
export async function trustedKeysOption(flag: string, path: string, kind: "file-or-dir" | "dir" = "file-or-dir"): Promise<TrustedKeys> {
  try {
    return kind === "dir" ? await loadTrustDir(path) : await loadTrustedKeys(path);
  } catch (e) {
    if (e instanceof AttestKeyError) throw new UsageError(`${flag}: ${e.message}`);
    throw e;
  }
}

/** What the summary says about the attestation (null: none present and none required). */
export function attestationSummary(a: AttestationCheck | null) {
  if (!a) return null;
  return { ok: a.ok, failure: a.failure, reason: a.reason, keyid: a.keyid, signature_checked: a.signature_checked, predicate_type: a.statement?.predicateType ?? null };
}

export function register(program: Command): void {
  program
    .command("verify")
    .description("re-check a run bundle: with --key its signature first (offline), then schema, hashes of every file, baseline, and a leak scan with the secrets in this environment")
    .argument("<run-dir>", "a run directory (contains report.json); with --key also a loop directory")
    .option("--rejudge", "also apply the recorded patch to a fresh copy of the fixture and run its tests again")
    .option("--fixture <id-or-dir>", "with --rejudge: where the fixture is (default: the report's fixture id)")
    .option("--key <pub>", "require a signature by this Ed25519 public key (PATH.pub from `keys init`), or by any key in this directory of *.pub files")
    .option("--json", "print the result as JSON")
    .action(async (runDir: string, o: VerifyCliOptions) => {
      if (!existsSync(runDir)) throw new UsageError(`no such run directory: ${runDir}`);
      if (!statSync(runDir).isDirectory()) throw new UsageError(`${runDir} is a file; give a run directory (the one holding report.json)`);
      const trusted = o.key ? await trustedKeysOption("--key", o.key) : null;
      const looksLikeRun = ["report.json", "task.json", "trace.jsonl", "manifest.json"].some((f) => existsSync(join(runDir, f)));
      if (!looksLikeRun) {
        const isLoop = existsSync(join(runDir, "loop.json"));
        if (isLoop && trusted) {
          process.exitCode = await verifyLoopFromCli(runDir, trusted, { json: o.json });
          return;
        }
        const hint = isLoop ? "it is a loop directory: verify each run directory inside it, or pass --key to check the loop's signature and every run's" : "no report.json, task.json or trace.jsonl here";
        throw new UsageError(`${runDir} is not a run directory (${hint})`);
      }
      // The signature first: who vouches for these bytes decides whether the rest is worth reading.
      // Without --key an attestation that is present is still checked for shape and subject.
      const attestation = trusted || existsSync(join(runDir, ATTESTATION_FILE)) ? await verifyBundleAttestation(runDir, trusted) : null;
      const result = await verifyBundle(runDir, { secrets: secretValuesInEnv(process.env) });
      const first = attestation ? attestationProblem(attestation) : null;
      if (first) {
        result.problems.unshift(first);
        result.ok = false;
      }
      let rejudged: RejudgeResult | null = null;
      if (o.rejudge && result.report && result.report.tests) {
        try {
          rejudged = await rejudgeBundle(runDir, result.report, { fixtureRef: o.fixture, protectedPaths: protectedPathsFromEnv(process.env) });
        } catch (e) {
          rejudged = { ok: false, problems: [`cannot re-judge: ${(e as Error).message}`], tests_passed: null, isolation: "none" };
        }
        result.problems.push(...rejudged.problems);
        result.ok &&= rejudged.ok;
      }
      const summary = {
        ok: result.ok,
        run_id: result.report?.run_id ?? null,
        status: result.report?.status ?? null,
        problems: result.problems,
        leak_findings: result.leak_findings,
        leak_scan: result.leak_scan,
        rejudged: rejudged ? { ok: rejudged.ok, tests_passed: rejudged.tests_passed, isolation: rejudged.isolation } : null,
        attestation: attestationSummary(attestation),
      };
      if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
      else {
        process.stderr.write(result.ok ? `verified: ${runDir} (status ${summary.status})\n` : `NOT verified: ${runDir}\n`);
        if (attestation?.ok) {
          process.stderr.write(attestation.signature_checked ? `  signed by trusted keyid ${attestation.keyid}\n` : `  carries a signature by keyid ${attestation.keyid}, not checked: pass --key PUB to check who signed\n`);
        }
        if (result.leak_scan === "skipped") process.stderr.write("  leak scan skipped: no endpoint URL or key in this environment to look for\n");
        for (const p of result.problems) process.stderr.write(`  - ${p}\n`);
      }
      process.exitCode = result.ok ? 0 : 1;
    });
}
