// `cto-harness sot check FILE --runs DIR [--json]` and `cto-harness sot evidence RUN_DIR`:
// the planning-document gate (docs/sot.md).
import type { Command } from "commander";
import { EXIT, UsageError } from "../exit-codes.ts";
import { trustedKeysOption } from "./verify.ts";
import { reflowNote, renderCheckText, sotCheck, sotEvidence } from "../../sot/run-check.ts";

export function register(program: Command): void {
  const sot = program.command("sot").description("planning-document gate: a work item is only proven by matching, verified run evidence");

  sot
    .command("check")
    .description("judge every acceptance line of a planning record against the verified run bundles under --runs")
    .argument("<file>", "planning record (markdown: `## <ID> - <title>` items with Status: and Acceptance:)")
    .requiredOption("--runs <dir>", "directory searched recursively for run bundles (report.json)")
    .option("--rejudge", "re-judge every real pass claim: apply its patch to the fixture and run the tests again")
    .option("--require-signed", "count only bundles signed by a key in --keys (checked offline, before the manifest and files)")
    .option("--keys <dir>", "with --require-signed: directory of trusted Ed25519 public keys (*.pub)")
    .option("--json", "print the result as one JSON document on stdout")
    .action(async (file: string, o: { runs: string; json?: boolean; rejudge?: boolean; requireSigned?: boolean; keys?: string }) => {
      if (o.requireSigned && !o.keys) throw new UsageError("--require-signed needs --keys DIR: the directory of the public keys (*.pub) whose signatures you accept");
      if (o.keys && !o.requireSigned) throw new UsageError("--keys is only used with --require-signed; add --require-signed to count only signed bundles");
      const trustedKeys = o.keys ? await trustedKeysOption("--keys", o.keys, "dir") : undefined;
      const result = await sotCheck(file, o.runs, { env: process.env, rejudge: o.rejudge, trustedKeys });
      if (o.json) {
        if (result.record_reflowed) process.stderr.write(reflowNote(file));
        process.stdout.write(JSON.stringify(result, null, 2) + "\n");
      }
      else process.stderr.write(renderCheckText(result));
      process.exitCode = result.ok ? EXIT.pass : EXIT.fail;
    });

  sot
    .command("evidence")
    .description("print a dated evidence section for one verified run, in the planning record's style")
    .argument("<run_dir>", "run directory (holding report.json and manifest.json)")
    .option("--title <title>", "section title (default: from the run's backend)")
    .action(async (runDir: string, o: { title?: string }) => {
      const r = await sotEvidence(runDir, { env: process.env, title: o.title });
      if (!r.ok) {
        process.stderr.write(`cto-harness sot evidence: ${runDir} does not verify; no evidence section printed:\n${r.problems.map((p) => `  - ${p}\n`).join("")}`);
        process.exitCode = EXIT.fail;
        return;
      }
      process.stdout.write(r.text);
    });
}
