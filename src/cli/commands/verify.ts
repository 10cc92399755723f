import { Option, type Command } from "commander";
import type { IsolationMode } from "../../sandbox/script-isolation.ts";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { verifyBundle } from "../../evidence/verify.ts";
import { secretValuesInEnv } from "../../config/providers.ts";
import { protectedPathsFromEnv } from "../../config/admission.ts";
import { rejudgeBundle, type RejudgeResult } from "../../evidence/rejudge.ts";
import { UsageError } from "../exit-codes.ts";

export function register(program: Command): void {
  program
    .command("verify")
    .description("re-check a run bundle: schema, hashes of every file, baseline, and a leak scan with the secrets in this environment")
    .argument("<run-dir>", "a run directory (contains report.json)")
    .option("--rejudge", "also apply the recorded patch to a fresh copy of the fixture and run its tests again")
    .option("--fixture <id-or-dir>", "with --rejudge: where the fixture is (default: the report's fixture id)")
    .addOption(new Option("--isolation <mode>", "with --rejudge: where the fixture's tests run: bwrap (the sandbox), or none (on the host, knowingly)").choices(["bwrap", "none"]).default("bwrap"))
    .option("--json", "print the result as JSON")
    .action(async (runDir: string, o: { json?: boolean; rejudge?: boolean; fixture?: string; isolation: IsolationMode }) => {
      if (!existsSync(runDir)) throw new UsageError(`no such run directory: ${runDir}`);
      if (!statSync(runDir).isDirectory()) throw new UsageError(`${runDir} is a file; give a run directory (the one holding report.json)`);
      const looksLikeRun = ["report.json", "task.json", "trace.jsonl", "manifest.json"].some((f) => existsSync(join(runDir, f)));
      if (!looksLikeRun) {
        const hint = existsSync(join(runDir, "loop.json")) ? "it is a loop directory: verify each run directory inside it" : "no report.json, task.json or trace.jsonl here";
        throw new UsageError(`${runDir} is not a run directory (${hint})`);
      }
      const result = await verifyBundle(runDir, { secrets: secretValuesInEnv(process.env) });
      let rejudged: RejudgeResult | null = null;
      if (o.rejudge && result.report && result.report.tests) {
        try {
          rejudged = await rejudgeBundle(runDir, result.report, { fixtureRef: o.fixture, protectedPaths: protectedPathsFromEnv(process.env), isolation: o.isolation });
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
        rejudged: rejudged ? { ok: rejudged.ok, tests_passed: rejudged.tests_passed, isolation: rejudged.isolation, verdict: rejudged.verdict ?? null } : null,
      };
      if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
      else {
        process.stderr.write(result.ok ? `verified: ${runDir} (status ${summary.status})\n` : `NOT verified: ${runDir}\n`);
        if (result.leak_scan === "skipped") process.stderr.write("  leak scan skipped: no endpoint URL or key in this environment to look for\n");
        if (rejudged) process.stderr.write(`  re-judged (${rejudged.isolation === "none" ? "on the host: --isolation none" : "in the sandbox"}): ${rejudged.verdict ?? "not judged"}\n`);
        for (const p of result.problems) process.stderr.write(`  - ${p}\n`);
      }
      process.exitCode = result.ok ? 0 : 1;
    });
}
