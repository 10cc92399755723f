// `cto-harness sim`: the built-in simulated OpenAI-compatible model server, standalone.
// Prints its base URL (stdout), runs until SIGINT/SIGTERM.
import type { Command } from "commander";
import { FixtureError, SourceNotAdmittedError, loadFixture } from "../../fixtures/load.ts";
import type { Fixture } from "../../fixtures/types.ts";
import { FLAVOURS, SCENARIOS, parseScenario, scenarioUnavailable, startSimulator, type Flavour } from "../../sim/server.ts";
import { PROFILES, isFlavour } from "../../sim/flavours.ts";
import { EXIT, UsageError } from "../../core/exit-codes.ts";

interface SimCliOptions {
  flavour: string;
  scenario: string;
  model?: string[];
  fixture?: string;
  host: string;
  port?: number;
  ttftMs?: number;
  tokensPerSec?: number;
  reasoningTokens?: number;
  loadingMs?: number;
  apiKeyEnv?: string;
  json?: boolean;
  stats?: boolean;
  failFirst?: number;
}

function wholeNumber(flag: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new UsageError(`${flag} must be a whole number from 0 to ${max}, got '${value}'`);
    return n;
  };
}

function nonNegative(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number ≥ 0, got '${value}'`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command("sim")
    .description("the built-in simulated endpoint: reproduces vLLM/llama.cpp/Ollama/SGLang/LM Studio response shapes; runs until Ctrl-C")
    .option("--flavour <flavour>", `server to imitate: ${FLAVOURS.join(", ")}`, "vllm-0.16")
    .option("--scenario <id>", `what it does (case-insensitive): ${SCENARIOS.join(", ")}`, "solve")
    .option("--model <id...>", "served model id(s) (default: qwen3.6-35b-a3b)")
    .option("--fixture <id|path>", "fixture whose reference fix the `solve` scenario applies (default: matched by instruction)")
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port (default: any free port)", wholeNumber("--port", 65535))
    .option("--ttft-ms <n>", "time to first byte of an answer, ms (default 0; 3000 for slow-first-byte)", nonNegative("--ttft-ms"))
    .option("--tokens-per-sec <n>", "pacing of generated tokens (default 0 = unpaced)", nonNegative("--tokens-per-sec"))
    .option("--reasoning-tokens <n>", "reasoning tokens before content (default 30; V2b 300)", wholeNumber("--reasoning-tokens"))
    .option("--loading-ms <n>", "E4: how long the model 'loads' after start (default 1500)", wholeNumber("--loading-ms"))
    .option("--api-key-env <VAR>", "require `Authorization: Bearer <value of VAR>` (the value is never printed)")
    .option("--json", "print one JSON document describing the server on stdout")
    .option("--stats", "serve GET /sim/stats: chat requests in flight, the peak, the total (load tests, docs/scaling.md)")
    .option("--fail-first <n>", "answer the first N chat requests with the flavour's 500 (a failing server that recovers)", wholeNumber("--fail-first"))
    .action(async (o: SimCliOptions) => {
      process.exitCode = await simFromCli(o);
    });
}

async function simFromCli(o: SimCliOptions): Promise<number> {
  if (!isFlavour(o.flavour)) throw new UsageError(`unknown --flavour '${o.flavour}'; valid flavours: ${FLAVOURS.join(", ")}`);
  const flavour: Flavour = o.flavour;
  const scenario = parseScenario(o.scenario);
  if (scenario === null) throw new UsageError(`unknown --scenario '${o.scenario}'; valid scenarios: ${SCENARIOS.join(", ")}`);
  const unavailable = scenarioUnavailable(PROFILES[flavour], scenario);
  if (unavailable !== null) throw new UsageError(`--scenario ${scenario} with --flavour ${flavour}: ${unavailable}`);

  let apiKey: string | undefined;
  if (o.apiKeyEnv !== undefined) {
    apiKey = process.env[o.apiKeyEnv];
    if (apiKey === undefined || apiKey === "") throw new UsageError(`--api-key-env ${o.apiKeyEnv}: that variable is not set (or empty) in this environment`);
  }

  let fixture: Fixture | undefined;
  if (o.fixture !== undefined) {
    try {
      const protectedPaths = (process.env.CTO_HARNESS_PROTECTED_PATHS ?? "").split(":").filter((p) => p !== "");
      fixture = await loadFixture(o.fixture, { protectedPaths });
    } catch (error) {
      if (error instanceof FixtureError || error instanceof SourceNotAdmittedError) throw new UsageError(`--fixture: ${error.message}`);
      throw error;
    }
  }

  let sim: Awaited<ReturnType<typeof startSimulator>>;
  try {
    sim = await startSimulator({
      flavour,
      scenario,
      models: o.model,
      fixture,
      host: o.host,
      port: o.port,
      ttftMs: o.ttftMs,
      tokensPerSec: o.tokensPerSec,
      reasoningTokens: o.reasoningTokens,
      loadingMs: o.loadingMs,
      apiKey,
      stats: o.stats,
      failFirst: o.failFirst,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
      process.stderr.write(`cto-harness sim: cannot listen on ${o.host}:${o.port ?? 0} (${code})\n`);
      return EXIT.error;
    }
    throw error;
  }

  const models = o.model !== undefined && o.model.length > 0 ? o.model : ["qwen3.6-35b-a3b"];
  if (o.json) {
    process.stdout.write(
      JSON.stringify({
        base_url: sim.baseUrl,
        port: sim.port,
        flavour: sim.flavour,
        scenario: sim.scenario,
        models,
        fixture: fixture?.id ?? null,
        api_key_required: apiKey !== undefined,
        endpoint_kind: "simulated",
      }) + "\n",
    );
  } else {
    process.stdout.write(`${sim.baseUrl}\n`);
  }
  process.stderr.write(
    `cto-harness sim: imitating ${sim.flavour}, scenario ${sim.scenario}, serving ${models.join(", ")}` +
      `${fixture ? `, fixture ${fixture.id}` : ""}${apiKey !== undefined ? `, key from $${o.apiKeyEnv} required` : ""}. Ctrl-C stops it.\n`,
  );

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await sim.close();
  process.stderr.write(`cto-harness sim: stopped after ${sim.requests.length} request(s).\n`);
  return EXIT.pass;
}
