// `cto-harness health [--json]` and `cto-harness validate NAME [--json]`: named validator
// cases (real small runs against the in-process simulator) and the local set-up checks
// (docs/validators.md).
import type { Command } from "commander";
import { join } from "node:path";
import { EXIT, UsageError } from "../../core/exit-codes.ts";
import { defaultRunsDir } from "../run-options.ts";
import { CASES, knownNames, selectCases } from "../../validate/cases.ts";
import { HARNESS_VERSION, createArtifactDir, runCases, setupChecks, writeReport, type CaseResult, type ValidationReport } from "../../validate/run.ts";

function caseLine(r: CaseResult): string {
  const head = `${r.ok ? "PASS" : "FAIL"} ${r.name}${r.status ? ` (run ${r.status}${r.failure_reason ? `: ${r.failure_reason}` : ""})` : ""}`;
  const bad = r.checks.filter((c) => !c.ok).map((c) => `    ✗ ${c.what}${c.detail ? `: ${c.detail}` : ""}`);
  if (r.error) bad.push(`    harness error: ${r.error}`);
  return [head, ...bad].join("\n") + "\n";
}

export function register(program: Command): void {
  program
    .command("health")
    .description("check the local set-up (bubblewrap, git, Node, fixtures) and run every validator case; exit 1 if any fails")
    .option("--runs-dir <dir>", "where the health artifact directory goes (default $CTO_HARNESS_RUNS_DIR or ./harness-runs)")
    .option("--json", "print health.json on stdout")
    .action(async (o: { runsDir?: string; json?: boolean }) => {
      const artifactDir = await createArtifactDir(o.runsDir ?? defaultRunsDir(process.env), "health");
      process.stderr.write(`health artifact directory: ${artifactDir}\n`);
      const setup = await setupChecks();
      for (const s of setup) process.stderr.write(`${s.ok ? "ok  " : "FAIL"} ${s.name}: ${s.detail}\n`);
      const cases = await runCases(CASES, artifactDir, process.env, (r) => process.stderr.write(caseLine(r)));
      const report: ValidationReport = {
        schema: "cto-harness/health@1",
        harness_version: HARNESS_VERSION,
        created_at: new Date().toISOString(),
        artifact_dir: artifactDir,
        ok: setup.every((s) => s.ok) && cases.every((c) => c.ok),
        setup,
        cases,
      };
      await writeReport(join(artifactDir, "health.json"), report);
      process.stderr.write(
        `${report.ok ? "healthy" : "NOT healthy"}: ${setup.filter((s) => s.ok).length}/${setup.length} set-up checks, ${cases.filter((c) => c.ok).length}/${cases.length} validator cases\n`,
      );
      if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
      process.exitCode = report.ok ? EXIT.pass : EXIT.fail;
    });

  program
    .command("validate")
    .description(`run one named validator case or group (${knownNames().join(", ")})`)
    .argument("<name>", "case or group name")
    .option("--runs-dir <dir>", "where the artifact directory goes (default $CTO_HARNESS_RUNS_DIR or ./harness-runs)")
    .option("--json", "print the result on stdout")
    .action(async (name: string, o: { runsDir?: string; json?: boolean }) => {
      const cases = selectCases(name);
      if (!cases) throw new UsageError(`unknown validator '${name}'; known: ${knownNames().join(", ")}`);
      const artifactDir = await createArtifactDir(o.runsDir ?? defaultRunsDir(process.env), "validate");
      process.stderr.write(`validate artifact directory: ${artifactDir}\n`);
      const results = await runCases(cases, artifactDir, process.env, (r) => process.stderr.write(caseLine(r)));
      const report: ValidationReport = {
        schema: "cto-harness/validate@1",
        harness_version: HARNESS_VERSION,
        created_at: new Date().toISOString(),
        artifact_dir: artifactDir,
        name,
        ok: results.every((r) => r.ok),
        cases: results,
      };
      await writeReport(join(artifactDir, "validate.json"), report);
      if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
      process.exitCode = report.ok ? EXIT.pass : EXIT.fail;
    });
}
