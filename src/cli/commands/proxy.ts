// `cto-harness proxy`: the run's recording proxy, standalone. Point any OpenAI-compatible
// agent at it by hand and see exactly which model it asks for, with the real endpoint's URL
// and key kept out of the agent's reach (and out of this command's output).
import type { Command } from "commander";
import { ConfigError, resolveProvider } from "../../config/providers.ts";
import { SecretValue } from "../../config/secret.ts";
import { startRecordingProxy, type ModelRequestRecord, type RecordingProxy } from "../../proxy/proxy.ts";
import { UpstreamUrlError } from "../../proxy/upstream-url.ts";
import { EXIT, UsageError } from "../../core/exit-codes.ts";
import { DEFAULT_MODEL } from "../run-options.ts";

interface ProxyCliOptions {
  provider: string;
  model: string;
  host: string;
  port?: number;
  record?: string;
  socket?: string;
  simFlavour?: string;
  simScenario?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("proxy")
    .description("standalone recording proxy: forwards to the provider's endpoint, admits one model, records every request; runs until Ctrl-C")
    .requiredOption("--provider <name>", "provider: qwen-local, sim, or one from cto-harness.config.yaml")
    .option("--model <id>", "the only model id let through", DEFAULT_MODEL)
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port to listen on (default: any free port)", portNumber)
    .option("--record <file>", "append one JSON line per request to this file")
    .option("--socket <path>", "also listen on this Unix socket")
    .option("--sim-flavour <flavour>", "simulator flavour when --provider sim", "vllm-0.16")
    .option("--sim-scenario <scenario>", "simulator scenario when --provider sim", "solve")
    .option("--json", "print exactly one JSON document (the traffic summary) on stdout when stopped")
    .action(async (o: ProxyCliOptions) => {
      process.exitCode = await proxyFromCli(o);
    });
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, got '${value}'`);
  return n;
}

async function proxyFromCli(o: ProxyCliOptions): Promise<number> {
  let resolved: ReturnType<typeof resolveProvider>;
  try {
    resolved = resolveProvider(o.provider, process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  if (!resolved.ok) {
    process.stderr.write(
      `cto-harness proxy: provider '${o.provider}' is not configured: ${resolved.missingVar} ${resolved.problem === "missing" ? "is not set" : "is not an http(s) URL"}.\n` +
        `Set ${resolved.missingVar} to the endpoint's OpenAI-compatible base URL (e.g. http://HOST:8000/v1) in this shell's environment.\n`,
    );
    return EXIT.blocked;
  }

  // The simulator stands in for a real endpoint when asked; it lives as long as the proxy.
  let stopSim: (() => Promise<unknown>) | null = null;
  let upstreamBaseUrl: SecretValue;
  let upstreamApiKey: SecretValue | undefined;
  if (resolved.spec.kind === "sim") {
    // Loaded only when asked for: the simulator is not needed to proxy a real endpoint.
    const { startSimulator, FLAVOURS, parseScenario } = await import("../../sim/server.ts");
    const flavour = FLAVOURS.find((f) => f === o.simFlavour);
    if (!flavour) throw new UsageError(`unknown --sim-flavour '${o.simFlavour}'; flavours: ${FLAVOURS.join(", ")}`);
    const scenario = parseScenario(o.simScenario ?? "solve");
    if (!scenario) throw new UsageError(`unknown --sim-scenario '${o.simScenario}'`);
    const sim = await startSimulator({ flavour, scenario, models: [o.model] });
    stopSim = () => sim.close();
    upstreamBaseUrl = new SecretValue(sim.baseUrl);
  } else {
    upstreamBaseUrl = resolved.baseUrl!;
    upstreamApiKey = resolved.apiKey;
  }

  const tell = (line: string): void => void process.stderr.write(`${line}\n`);
  let proxy: RecordingProxy;
  try {
    proxy = await startRecordingProxy({
      upstreamBaseUrl,
      upstreamApiKey,
      admittedModel: o.model,
      host: o.host,
      port: o.port,
      recordFile: o.record,
      unixSocketPath: o.socket,
      onRecord: (rec) => tell(describeRecord(rec)),
    });
  } catch (error) {
    await stopSim?.();
    if (error instanceof UpstreamUrlError) {
      process.stderr.write(`cto-harness proxy: ${resolved.spec.urlVar ?? "the provider's URL"}: ${error.message}\n`);
      return EXIT.blocked;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
      process.stderr.write(`cto-harness proxy: cannot listen on ${o.host}:${o.port ?? 0}${o.socket ? ` / ${o.socket}` : ""} (${code})\n`);
      return EXIT.error;
    }
    throw error;
  }

  const upstreamName = resolved.spec.kind === "sim" ? "the built-in simulator" : `$${resolved.spec.urlVar} (value not shown)`;
  tell(`cto-harness proxy: forwarding to ${upstreamName}; admitted model '${o.model}'; every other model is refused.`);
  if (!["127.0.0.1", "::1", "localhost"].includes(o.host)) {
    tell(`cto-harness proxy: warning: listening on ${o.host}, not loopback; only the token keeps others out.`);
  }
  tell("Give the agent these (Ctrl-C stops the proxy and prints a summary):");
  const exports = [
    `OPENAI_BASE_URL=${proxy.baseUrl}`,
    `OPENAI_API_KEY=${proxy.token}`,
    `OPENAI_MODEL=${o.model}`,
    ...(proxy.socketPath ? [`# also on Unix socket ${proxy.socketPath}`] : []),
  ].join("\n");
  // With --json stdout is reserved for the one summary document.
  (o.json ? process.stderr : process.stdout).write(exports + "\n");

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });

  await proxy.close();
  await stopSim?.();
  const summary = proxy.summary();
  if (o.json) {
    process.stdout.write(
      JSON.stringify({ provider: o.provider, admitted_model: o.model, base_url: proxy.baseUrl, record_file: o.record ?? null, ...summary }, null, 2) + "\n",
    );
  }
  tell(
    `cto-harness proxy: ${summary.requests} request(s); models asked for: ${summary.models_seen.join(", ") || "none"}; ` +
      `tokens ${summary.prompt_tokens} in / ${summary.completion_tokens} out; refused ${summary.refused_requests}; errors ${summary.errors}` +
      (summary.fallback_detected ? `; FALLBACK DETECTED (a model other than '${o.model}' was asked for and refused)` : "; no fallback"),
  );
  return summary.fallback_detected ? EXIT.fail : EXIT.pass;
}

/** One line per request on stderr, e.g. `#3 POST /v1/chat/completions qwen 200 12+7 tok 830 ms stop`. */
export function describeRecord(rec: ModelRequestRecord): string {
  const parts = [`#${rec.seq}`, rec.method, rec.path, rec.model ?? "-", String(rec.status)];
  if (rec.refused) parts.push(`REFUSED (${rec.refusal_reason ?? "refused"})`);
  if (rec.prompt_tokens !== null || rec.completion_tokens !== null) parts.push(`${rec.prompt_tokens ?? "?"}+${rec.completion_tokens ?? "?"} tok`);
  parts.push(`${Math.round(rec.latency_ms)} ms`);
  if (rec.finish_reason) parts.push(rec.finish_reason);
  if (rec.upstream_error) parts.push(`upstream: ${rec.upstream_error}`);
  if (rec.client_aborted) parts.push("client went away");
  return parts.join(" ");
}
