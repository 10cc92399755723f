// Which endpoint the endpoint-level real tests talk to: the user's own server when
// CTO_HARNESS_REAL_BASE_URL is set (docs/real-server.md: check a server before a long loop),
// otherwise the tiny llama-server this tier builds. The URL and key stay in memory: test names,
// logs and bundles never carry them (each bundle is leak-scanned for them).
import { realServer } from "./fixture.ts";
import { TINY_MODEL_ALIAS } from "./llama-server.ts";

export interface RealTarget {
  /** "own": the user's server; "tiny": our llama-server with the random model. */
  kind: "own" | "tiny";
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** The random model can never fix a task; a real one may. */
  canPass: boolean;
}

export const OWN_URL_VAR = "CTO_HARNESS_REAL_BASE_URL";
export const OWN_KEY_VAR = "CTO_HARNESS_REAL_API_KEY";
export const OWN_MODEL_VAR = "CTO_HARNESS_REAL_MODEL";

export function ownServerConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env[OWN_URL_VAR]?.trim());
}

/** The target for this test file (a tiny server is started, and stopped after the file). */
export async function realTarget(opts: { ctx?: number } = {}, env: NodeJS.ProcessEnv = process.env): Promise<RealTarget> {
  const url = env[OWN_URL_VAR]?.trim();
  if (url) {
    const model = env[OWN_MODEL_VAR]?.trim();
    if (!model) throw new Error(`${OWN_URL_VAR} is set but ${OWN_MODEL_VAR} is not: set it to the model id your server serves`);
    return { kind: "own", baseUrl: url, apiKey: env[OWN_KEY_VAR]?.trim() || undefined, model, canPass: true };
  }
  // Agents send long system prompts with their tool schemas (Qwen Code's: ~18k tokens): one slot
  // with the model's whole trained window (llama.cpp caps a slot at n_ctx_train, 32768 here).
  const server = await realServer({ ctx: opts.ctx ?? 32768, parallel: 1 });
  return { kind: "tiny", baseUrl: server.baseUrl, model: TINY_MODEL_ALIAS, canPass: false };
}
