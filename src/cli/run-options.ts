// Shared parsing of the options `run`, `demo` and `loop` take.
import { Option, type Command } from "commander";
import { ENGINE_NAMES, type EngineName } from "../engines/types.ts";
import { DEFAULT_PROBE_BUDGET } from "../run/options.ts";
import { UsageError } from "./exit-codes.ts";
import { AttestKeyError, loadSigningKey, type SigningKey } from "../attest/index.ts";
import { signingRefusal } from "../attest/policy.ts";
import { FLAVOURS } from "../sim/flavours.ts";
import { SCENARIOS, parseScenario } from "../sim/scenarios.ts";

export const DEFAULT_MODEL = "qwen3.6-35b-a3b";
export const DEFAULT_PROVIDER = "sim";

export function defaultRunsDir(env: NodeJS.ProcessEnv): string {
  return env.CTO_HARNESS_RUNS_DIR?.trim() || "./harness-runs";
}

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive whole number, got '${value}'`);
    return n;
  };
}

export function parseSimScenario(value: string): string {
  const scenario = parseScenario(value);
  if (!scenario) throw new UsageError(`unknown simulator scenario '${value}'; scenarios: ${SCENARIOS.join(", ")}`);
  return scenario;
}

export function parseEngine(value: string): EngineName {
  if (!(ENGINE_NAMES as readonly string[]).includes(value)) {
    throw new UsageError(`unknown engine '${value}'; engines: ${ENGINE_NAMES.join(", ")}`);
  }
  return value as EngineName;
}

/** Options common to every command that starts runs. */
export function addRunOptions(cmd: Command): Command {
  return cmd
    .option("--provider <name>", "provider: qwen-local, sim, or one from cto-harness.config.yaml", DEFAULT_PROVIDER)
    .option("--model <id>", "model id (must be admitted)", DEFAULT_MODEL)
    .option("--runs-dir <dir>", "where run directories go (default $CTO_HARNESS_RUNS_DIR or ./harness-runs)")
    .option("--agent-timeout <seconds>", "agent wall-clock timeout (default: the fixture's)", positiveInt("--agent-timeout"))
    .addOption(new Option("--isolation <mode>", "sandbox for agents").choices(["bwrap", "none"]).default("bwrap"))
    .option("--budget <tokens>", "probe max_tokens", positiveInt("--budget"), DEFAULT_PROBE_BUDGET)
    .addOption(new Option("--sim-flavour <flavour>", "simulator flavour when --provider sim").choices(FLAVOURS))
    .option("--sim-scenario <scenario>", "simulator scenario when --provider sim (solve, reasoning-only, V1..E6, ...)", parseSimScenario)
    .option("--key <path>", "sign the bundle with this Ed25519 private key (from `keys init`; mode 0600); docs/evidence.md")
    .option("--json", "print exactly one JSON document on stdout");
}

/**
 * Loads `--key` before anything runs: a bad key, or one an unsandboxed agent could read
 * (attest/policy.ts), is a usage error, not a finished unsigned run.
 */
export async function signingKeyOption(path: string | undefined, runs: { engines: string[]; isolation: "bwrap" | "none" }): Promise<SigningKey | undefined> {
  if (path === undefined) return undefined;
  for (const engine of runs.engines) {
    const refusal = signingRefusal(engine, runs.isolation);
    if (refusal) throw new UsageError(refusal);
  }
  try {
    return await loadSigningKey(path);
  } catch (e) {
    if (e instanceof AttestKeyError) throw new UsageError(`--key: ${e.message}`);
    throw e;
  }
}
