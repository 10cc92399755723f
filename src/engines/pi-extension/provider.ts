// Static Pi extension (loaded with `pi -e <this file>`) that points Pi at the run's
// recording proxy. Everything comes from the environment the harness gives the agent,
// so no URL is ever written to a file or passed in argv:
//   OPENAI_BASE_URL  the proxy (loopback), OPENAI_API_KEY  the per-run proxy token
//   (passed to Pi by NAME: Pi looks the value up in the environment), OPENAI_MODEL  the model id.
// Optional: CTO_HARNESS_PI_CONTEXT_WINDOW, CTO_HARNESS_PI_MAX_TOKENS.
import type { ExtensionAPI } from "@mariozechner/pi-coding-agent";

export const PI_PROVIDER_NAME = "cto-harness";

function positiveInt(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export default function ctoHarnessProvider(pi: ExtensionAPI): void {
  const baseUrl = process.env.OPENAI_BASE_URL;
  const model = process.env.OPENAI_MODEL;
  // Without these Pi would fall back to its default provider: fail loudly instead.
  if (!baseUrl || !model) throw new Error("cto-harness Pi extension: OPENAI_BASE_URL and OPENAI_MODEL must be set");
  pi.registerProvider(PI_PROVIDER_NAME, {
    name: "cto-harness proxy",
    baseUrl,
    apiKey: "OPENAI_API_KEY",
    api: "openai-completions",
    models: [
      {
        id: model,
        name: model,
        // false: Pi then sends no `developer` role and no `reasoning_effort`, which local
        // servers (vLLM, llama.cpp) reject or ignore; streamed reasoning is still kept apart.
        reasoning: false,
        input: ["text"],
        cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
        contextWindow: positiveInt(process.env.CTO_HARNESS_PI_CONTEXT_WINDOW, 131072),
        maxTokens: positiveInt(process.env.CTO_HARNESS_PI_MAX_TOKENS, 16384),
        compat: {
          supportsDeveloperRole: false,
          supportsReasoningEffort: false,
          supportsStore: false,
          maxTokensField: "max_tokens",
        },
      },
    ],
  });
}
