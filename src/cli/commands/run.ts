import type { Command } from "commander";
import { runOnce } from "../../run/lifecycle.ts";
import { FixtureError } from "../../fixtures/load.ts";
import { ConfigError } from "../../config/providers.ts";
import { AdmissionFileError } from "../../config/admission.ts";
import { UsageError, exitCodeForStatus } from "../exit-codes.ts";
import { abortOnSignals } from "../run-signals.ts";
import { renderRunSummary } from "../summary.ts";
import { addRunOptions, defaultRunsDir, parseEngine, signingKeyOption } from "../run-options.ts";
import type { Flavour } from "../../sim/flavours.ts";

export interface RunCliOptions {
  fixture: string;
  variant?: string;
  engine: string;
  provider: string;
  model: string;
  runsDir?: string;
  agentTimeout?: number;
  isolation: "bwrap" | "none";
  budget: number;
  simFlavour?: Flavour;
  simScenario?: string;
  json?: boolean;
  /** `--key`: the private key to sign the bundle with. */
  key?: string;
  /** Only `demo` sets this (see run/demo-isolation.ts). */
  isolationFallback?: { reason: string; fix: string };
}

/** Runs one fixture with its baseline and reports; returns the process exit code. */
export async function runFromCli(o: RunCliOptions): Promise<number> {
  const engine = parseEngine(o.engine);
  const signingKey = await signingKeyOption(o.key, { engines: [engine], isolation: o.isolation });
  const signals = abortOnSignals();
  try {
    const { report, runDir } = await runOnce({
      fixture: o.fixture,
      variant: o.variant,
      engine,
      provider: o.provider,
      model: o.model,
      runsDir: o.runsDir ?? defaultRunsDir(process.env),
      agentTimeoutSec: o.agentTimeout,
      isolation: o.isolation,
      isolationFallback: o.isolationFallback,
      budget: o.budget,
      env: process.env,
      sim: { flavour: o.simFlavour, scenario: o.simScenario },
      signal: signals.signal,
      log: (line) => process.stderr.write(`${line}\n`),
      signingKey,
    });
    process.stderr.write(renderRunSummary(report, runDir));
    if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    return exitCodeForStatus(report.status);
  } catch (e) {
    if (e instanceof FixtureError || e instanceof ConfigError || e instanceof AdmissionFileError || e instanceof UsageError) {
      throw new UsageError(e.message);
    }
    throw e;
  } finally {
    signals.dispose();
  }
}

export function register(program: Command): void {
  addRunOptions(
    program
      .command("run")
      .description("one run of an agent on a fixture, with its same-run baseline; prints the bundle path")
      .requiredOption("--fixture <id-or-dir>", "built-in fixture id or a fixture directory (ID#VARIANT: one of its impossible variants)")
      .option("--variant <name>", "run the fixture's impossible variant NAME (its visible tests contradict the instruction; docs/judging.md)")
      .option("--engine <engine>", "fake-noop | fake-oracle | builtin | case | pi | qwen-code", "builtin"),
  ).action(async (o: RunCliOptions) => {
    process.exitCode = await runFromCli(o);
  });
}
