// Server discovery: GET {base}/models (reachable? which models, which server kind, what
// context length) and vLLM's GET /version. Apart from the chat requests because it is asked
// first (an unreachable or refusing server ends the probe here), and because it is all that
// `discoverServer` needs: the ProbeCache's cheap re-check and `doctor`.
import { emptyEvidence, type ResponseEvidence, type ServerKind } from "./classify.ts";
import { connectionErrorCode, endpointOf, readCapped, type Clock, type Endpoint } from "./endpoint.ts";
import type { ProbeTarget, ServerFacts } from "./probe.ts";
import { parseErrorBody, versionFromBody } from "./response-evidence.ts";

const KIND_BY_OWNER: Record<string, ServerKind> = {
  vllm: "vllm",
  llamacpp: "llamacpp",
  "llama.cpp": "llamacpp",
  library: "ollama",
  ollama: "ollama",
  sglang: "sglang",
  organization_owner: "lmstudio",
  lmstudio: "lmstudio",
  "lm-studio": "lmstudio",
  "lm studio": "lmstudio",
};

export function serverKindOf(ownedBy: string | null, serverHeader: string | null): ServerKind | null {
  if (ownedBy) {
    const kind = KIND_BY_OWNER[ownedBy.toLowerCase()];
    if (kind) return kind;
  }
  if (serverHeader && /llama\.cpp/i.test(serverHeader)) return "llamacpp";
  return ownedBy || serverHeader ? "unknown" : null;
}

/** Whether `model` is among the served ids (Ollama's `name` means `name:latest`). */
export function isModelServed(model: string, ids: string[]): boolean {
  return ids.includes(model) || ids.includes(`${model}:latest`);
}

interface ModelsOutcome {
  facts: ServerFacts;
  evidence: ResponseEvidence;
  elapsedMs: number;
}

/** What is known of a server before anything was asked (or when nothing could be). */
export function unknownServer(): ServerFacts {
  return {
    reachable: false,
    kind: null,
    owned_by: null,
    models: [],
    model_served: null,
    context_length: null,
    simulated: false,
    models_status: null,
    system_fingerprint: null,
    version: null,
    version_source: null,
  };
}

export async function fetchModels(ep: Endpoint, model: string, deadline: AbortSignal, clock: Clock): Promise<ModelsOutcome> {
  const begun = clock.now();
  const evidence = emptyEvidence("text");
  const facts = unknownServer();
  let res: Response;
  try {
    res = await fetch(ep.url("/models"), { headers: ep.headers, signal: deadline });
  } catch (error) {
    evidence.connectionError = deadline.aborted ? "ETIMEDOUT" : connectionErrorCode(error);
    return { facts, evidence, elapsedMs: clock.now() - begun };
  }
  facts.reachable = true;
  facts.models_status = res.status;
  evidence.status = res.status;
  facts.simulated = res.headers.has("x-cto-harness-simulator");
  const text = await readCapped(res, 1024 * 1024).catch(() => "");
  if (!res.ok) {
    evidence.error = parseErrorBody(text) ?? { message: "", type: null, code: null };
    facts.kind = serverKindOf(null, res.headers.get("server"));
    return { facts, evidence, elapsedMs: clock.now() - begun };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  const data = body && typeof body === "object" && Array.isArray((body as { data?: unknown }).data) ? ((body as { data: unknown[] }).data) : [];
  const entries = data.filter((d): d is Record<string, unknown> => typeof d === "object" && d !== null);
  facts.models = entries.map((d) => d.id).filter((id): id is string => typeof id === "string");
  const entry = entries.find((d) => d.id === model || d.id === `${model}:latest`) ?? entries[0];
  facts.owned_by = entry && typeof entry.owned_by === "string" ? entry.owned_by : null;
  facts.kind = serverKindOf(facts.owned_by, res.headers.get("server"));
  if (entry) {
    const meta = entry.meta as Record<string, unknown> | undefined;
    const ctx = entry.max_model_len ?? entry.context_length ?? entry.max_context_length ?? meta?.n_ctx ?? meta?.n_ctx_train;
    facts.context_length = typeof ctx === "number" ? ctx : null;
  }
  facts.model_served = facts.models.length > 0 ? isModelServed(model, facts.models) : null;
  return { facts, evidence, elapsedMs: clock.now() - begun };
}

/** vLLM's `GET /version` (public, beside /v1): the server version, or null. Never throws. */
export async function fetchVersion(ep: Endpoint, deadline: AbortSignal): Promise<string | null> {
  const url = ep.rootUrl("/version");
  if (url === null) return null;
  try {
    const res = await fetch(url, { headers: ep.headers, signal: AbortSignal.any([deadline, AbortSignal.timeout(5000)]) });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      return null;
    }
    return versionFromBody(await readCapped(res, 4096));
  } catch {
    return null;
  }
}

/** Only the cheap /models discovery (for ProbeCache). */
export async function discoverServer(target: ProbeTarget, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<ServerFacts> {
  const started = performance.now();
  const clock: Clock = { start: started, now: () => Math.round(performance.now() - started) };
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 15_000);
  const deadline = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let ep: Endpoint;
  try {
    ep = endpointOf(target);
  } catch {
    return unknownServer();
  }
  return (await fetchModels(ep, target.model, deadline, clock)).facts;
}
