// Routing of the simulated server: which route answers what, per flavour. Pure: given the
// request's method and path and the server's condition, it says what to do; server.ts does
// the HTTP and chat.ts the answering of chat completions.
import { llamacppProps, modelList, jsonReply, ollamaTags, type PlainReply } from "./discovery.ts";
import type { ErrorKind } from "./errors.ts";
import type { FlavourProfile } from "./flavours.ts";

export type RouteAction =
  | { kind: "chat" }
  | { kind: "reply"; reply: PlainReply }
  | { kind: "error"; error: ErrorKind };

export interface ServerCondition {
  /** The request carries the right key, or the server has none. */
  keyAccepted: boolean;
  /** The model is still loading (scenario E4). */
  loading: boolean;
  servedModels: readonly string[];
  /** Unix seconds the server started (the model list's `created`). */
  startedAt: number;
}

/** Which routes a server guards with its API key. */
export function requiresAuth(profile: FlavourProfile, path: string): boolean {
  switch (profile.kind) {
    case "vllm":
    case "lmstudio":
      return path.startsWith("/v1");
    case "sglang":
      return !(path.startsWith("/health") || path === "/metrics");
    case "llamacpp":
      // Only /health answers without a key (recorded: auth-models.json, auth-health.json). Builds
      // before the 2026 server rewrite also left /models, /v1/models and /api/tags public.
      return path !== "/health" && path !== "/v1/health";
    case "ollama":
      return path !== "/";
  }
}

/** FastAPI servers (vLLM, SGLang): the methods a known route accepts, so another method gets 405. */
export function allowedMethods(profile: FlavourProfile, path: string): string | null {
  if (profile.kind !== "vllm" && profile.kind !== "sglang") return null;
  if (path === "/v1/chat/completions" || path === "/v1/completions") return "POST";
  if (path === "/v1/models" || path === "/health" || (path === "/version" && profile.kind === "vllm")) return "GET";
  return null;
}

function isChatPath(profile: FlavourProfile, path: string): boolean {
  return path === "/v1/chat/completions" || (path === "/chat/completions" && profile.kind === "llamacpp");
}

export function routeRequest(profile: FlavourProfile, method: string, path: string, c: ServerCondition): RouteAction {
  // llama.cpp answers "Loading model" on every route, before it checks the key (server-http.cpp).
  if (profile.kind === "llamacpp" && c.loading) return { kind: "error", error: { kind: "loading" } };
  if (!c.keyAccepted && requiresAuth(profile, path)) return { kind: "error", error: { kind: "unauthorized" } };
  if (method === "POST" && isChatPath(profile, path)) return { kind: "chat" };
  const allow = allowedMethods(profile, path);
  if (allow !== null && !allow.split(", ").includes(method)) return { kind: "error", error: { kind: "method-not-allowed", method, path, allow } };
  if (method !== "GET" && method !== "HEAD") return { kind: "error", error: { kind: "route-not-found", method, path } };
  const reply = getReply(profile, path, c);
  return reply ? { kind: "reply", reply } : { kind: "error", error: { kind: "route-not-found", method, path } };
}

/** The discovery routes each flavour serves; null: not a route of this server. */
function getReply(profile: FlavourProfile, path: string, c: ServerCondition): PlainReply | null {
  const models = c.servedModels;
  if (path === "/v1/models" || (path === "/models" && profile.kind === "llamacpp")) return modelList(profile, models, c.startedAt);
  const k = profile.kind;
  switch (path) {
    case "/health":
      if (k === "vllm" || k === "sglang") return { status: 200, contentType: "text/plain", body: "" };
      return k === "llamacpp" ? jsonReply({ status: "ok" }) : null;
    case "/version":
      return k === "vllm" ? jsonReply({ version: profile.version }) : null;
    case "/props":
      return k === "llamacpp" ? llamacppProps(profile, models) : null;
    case "/get_model_info":
      return k === "sglang" ? jsonReply({ model_path: models[0], tokenizer_path: models[0], is_generation: true, preferred_sampling_params: null }) : null;
    case "/":
      if (k === "ollama") return { status: 200, contentType: "text/plain; charset=utf-8", body: "Ollama is running" };
      return k === "llamacpp" ? { status: 200, contentType: "text/html; charset=utf-8", body: "<!doctype html><title>llama.cpp - chat</title>" } : null;
    case "/api/version":
      return k === "ollama" ? jsonReply({ version: profile.version }) : null;
    case "/api/tags":
      return k === "ollama" ? ollamaTags(models) : null;
    default:
      return null;
  }
}
