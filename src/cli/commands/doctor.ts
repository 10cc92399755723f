// `cto-harness doctor [--json]`: is this machine ready for a run? Node, git, python3,
// bubblewrap actually starting a sandbox, the agents, the runs directory, which configuration
// variables are set (never their values), the admission file, the endpoint when configured.
// Each failure comes with the fix for this platform. Exit 1 when a run needs something missing.
import type { Command } from "commander";
import { EXIT } from "../../core/exit-codes.ts";
import { decideDoctor, renderDoctor, type DoctorReport } from "../../doctor/checks.ts";
import { CONFIG_VARIABLES, gatherFacts } from "../../doctor/gather.ts";
import { loadProviderSpecs, secretValuesInEnv } from "../../config/providers.ts";
import { createTextRedactor, redactDeep } from "../../secrets/redact-text.ts";
import { escapeLinesForTerminal } from "../../text/names.ts";
import { HARNESS_VERSION } from "../../version.ts";

/**
 * Every value of a configuration variable that could be mistaken for a secret is redacted
 * from the output, whatever check would have echoed it (a second line of defence: the
 * checks name variables, not values).
 */
export function doctorRedactor(env: NodeJS.ProcessEnv): (text: string) => string {
  const values = new Set<string>();
  let secretVars: string[] = [];
  try {
    secretVars = Object.values(loadProviderSpecs()).flatMap((s) => [s.urlVar, s.keyVar]).filter((v): v is string => Boolean(v));
  } catch {
    /* a broken config file is reported by its own check */
  }
  for (const v of CONFIG_VARIABLES) {
    const value = env[v.name]?.trim();
    if (value && (v.secret || value.length >= 6)) values.add(value);
  }
  for (const name of secretVars) {
    const value = env[name]?.trim();
    if (value) values.add(value);
  }
  try {
    for (const v of secretValuesInEnv(env)) values.add(v);
  } catch {
    /* as above */
  }
  return createTextRedactor([...values]);
}

export async function runDoctor(env: NodeJS.ProcessEnv): Promise<DoctorReport> {
  const report = decideDoctor(await gatherFacts({ env }), HARNESS_VERSION);
  return redactDeep(report, doctorRedactor(env));
}

export function register(program: Command): void {
  program
    .command("doctor")
    .description("check that this machine can run cto-harness (Node, git, python3, bubblewrap, agents, runs dir, configuration, endpoint); the fix for each problem")
    .option("--json", "print the checks as one JSON document on stdout")
    .action(async (o: { json?: boolean }) => {
      const report = await runDoctor(process.env);
      process.stderr.write(escapeLinesForTerminal(renderDoctor(report)));
      if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
      process.exitCode = report.ok ? EXIT.pass : EXIT.fail;
    });
}
