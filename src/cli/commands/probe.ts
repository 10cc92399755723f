// `cto-harness probe`: the response-shape probe on its own (DESIGN §3, §9). Exit 0 when a
// coding agent can use the endpoint (allow / warn), 2 when it cannot (block, or the
// provider's URL variable is missing). The endpoint URL is never printed: only variable names.
import { escapeLinesForTerminal } from "../../text/names.ts";
import type { Command } from "commander";
import { ConfigError, resolveProvider } from "../../config/providers.ts";
import { SecretValue } from "../../config/secret.ts";
import { probeEndpoint, type ProbeResult, type ProbeTarget } from "../../provider/probe.ts";
import { startSimulator, type Flavour } from "../../sim/server.ts";
import { EXIT, UsageError } from "../../core/exit-codes.ts";
import { abortOnSignals } from "../run-signals.ts";
import { DEFAULT_MODEL, DEFAULT_PROVIDER, positiveInt } from "../run-options.ts";
import { DEFAULT_PROBE_BUDGET } from "../../run/options.ts";

interface ProbeCliOptions {
  provider: string;
  model: string;
  budget: number;
  json?: boolean;
  flavour?: string;
  scenario?: string;
  simFlavour?: string;
  simScenario?: string;
  tokensPerSec?: number;
  timeout?: number;
}

const ms = (v: number | null) => (v === null ? "-" : `${v} ms`);

export function renderProbeHuman(r: ProbeResult): string {
  const lines: string[] = [];
  lines.push(`probe: ${r.classification} — ${r.verdict}${r.failure_reason ? ` (${r.failure_reason})` : ""}`);
  const s = r.server;
  lines.push(
    `  model ${r.model}, budget ${r.budget}; server ${s.reachable ? (s.kind ?? "unknown") : "unreachable"}${s.version ? ` ${s.version}` : ""}${s.simulated ? " (simulator)" : ""}` +
      (s.models.length ? `, serves [${s.models.join(", ")}]${s.model_served === false ? " (requested model not listed)" : ""}` : "") +
      (s.context_length ? `, context ${s.context_length}` : ""),
  );
  for (const [label, p] of [["text probe", r.text], ["tool probe", r.tools]] as const) {
    if (!p) continue;
    const parts = [p.connection_error ? `connection ${p.connection_error}` : `HTTP ${p.status ?? "-"}`];
    if (p.status !== null) {
      parts.push(`finish ${p.finish_reason ?? "-"}`);
      parts.push(`reasoning ${p.reasoning_chars} chars${p.reasoning_fields.length ? ` (${p.reasoning_fields.join("+")})` : ""}`);
      parts.push(`content ${p.content_chars} chars`);
      if ("tool_calls" in p) parts.push(`${p.tool_calls} tool call(s)${p.tool_names.length ? ` (${p.tool_names.join(", ")})` : ""}`);
      parts.push(`${p.chunks} chunks${p.decided_early ? ", decided early" : ""}`);
    }
    lines.push(`  ${label}: ${p.classification} [${p.verdict}] ${parts.join(", ")}`);
    if (p.error) lines.push(`    server said: ${p.error}`);
  }
  if (r.advice.length) {
    lines.push("  advice:");
    for (const a of r.advice) lines.push(`    - ${a}`);
  }
  const t = r.timings;
  lines.push(
    `  timings: models ${ms(t.models_ms)}, first byte ${ms(t.ttfb_ms)}, first reasoning ${ms(t.first_reasoning_ms)}, first content ${ms(t.first_content_ms)}, text ${ms(t.text_ms)}, tools ${ms(t.tools_ms)}, verdict ${ms(t.verdict_ms)}`,
  );
  return `${lines.join("\n")}\n`;
}

/** Runs the probe for the CLI; returns the exit code. */
export async function probeFromCli(o: ProbeCliOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let resolved;
  try {
    resolved = resolveProvider(o.provider, env);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  if (!resolved.ok) {
    const message = `provider '${o.provider}' has no usable endpoint (${resolved.missingVar} ${resolved.problem === "missing" ? "is not set" : "is not an http(s) URL"}): set it to its OpenAI-compatible base URL (e.g. http://HOST:8000/v1)`;
    process.stderr.write(`cto-harness probe: blocked: provider local config unavailable: ${message}\n`);
    if (o.json) {
      process.stdout.write(
        JSON.stringify({ classification: null, verdict: "block", failure_reason: "provider local config unavailable", provider: o.provider, missing_variable: resolved.missingVar }, null, 2) + "\n",
      );
    }
    return EXIT.blocked;
  }

  const signals = abortOnSignals();
  let sim: Awaited<ReturnType<typeof startSimulator>> | null = null;
  try {
    let target: ProbeTarget;
    if (resolved.spec.kind === "sim") {
      try {
        sim = await startSimulator({
          flavour: (o.flavour ?? o.simFlavour) as Flavour | undefined,
          scenario: o.scenario ?? o.simScenario ?? "V1",
          tokensPerSec: o.tokensPerSec,
        });
      } catch (e) {
        throw new UsageError(e instanceof Error ? e.message : String(e));
      }
      target = { baseUrl: new SecretValue(sim.baseUrl), model: o.model };
    } else {
      target = { baseUrl: resolved.baseUrl!, apiKey: resolved.apiKey, model: o.model };
    }
    const result = await probeEndpoint(target, {
      budget: o.budget,
      signal: signals.signal,
      timeoutMs: o.timeout !== undefined ? o.timeout * 1000 : undefined,
    });
    // Model ids and error texts come from the server: shown with control characters escaped.
    process.stderr.write(escapeLinesForTerminal(renderProbeHuman(result)));
    if (o.json) process.stdout.write(JSON.stringify({ provider: o.provider, ...result }, null, 2) + "\n");
    return result.verdict === "block" ? EXIT.blocked : EXIT.pass;
  } finally {
    signals.dispose();
    await sim?.close();
  }
}

export function register(program: Command): void {
  program
    .command("probe")
    .description("diagnose an endpoint's response shape (reasoning-only, parser and tool-call problems, model name, auth, loading)")
    .option("--provider <name>", "provider: qwen-local, sim, or one from cto-harness.config.yaml", DEFAULT_PROVIDER)
    .option("--model <id>", "model id to ask for", DEFAULT_MODEL)
    .option("--budget <tokens>", "max_tokens of the probe requests", positiveInt("--budget"), DEFAULT_PROBE_BUDGET)
    .option("--timeout <seconds>", "give up after this long (default 120)", positiveInt("--timeout"))
    .option("--flavour <flavour>", "simulator flavour when --provider sim (vllm-0.8, vllm-0.11, vllm-0.16, vllm-main, llamacpp, ollama, sglang, lmstudio)")
    .option("--scenario <scenario>", "simulator scenario when --provider sim (V1, V2, V2b, ..., E6; default V1)")
    .option("--sim-flavour <flavour>", "same as --flavour")
    .option("--sim-scenario <scenario>", "same as --scenario")
    .option("--tokens-per-sec <n>", "simulator pacing when --provider sim", positiveInt("--tokens-per-sec"))
    .option("--json", "print exactly one JSON document on stdout")
    .action(async (o: ProbeCliOptions) => {
      process.exitCode = await probeFromCli(o);
    });
}
