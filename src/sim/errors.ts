// Error replies as each server really sends them. The probe's parser must accept all four
// body families: nested `{"error":{...}}`, flat `{"object":"error",...}`, the bare string
// `{"error":"Unauthorized"}`, and plain text.
import type { FlavourProfile } from "./flavours.ts";

export interface ErrorReply {
  status: number;
  contentType: string;
  body: string;
  /** Extra response headers (405's `allow`). */
  headers?: Record<string, string>;
}

export type ErrorKind =
  | { kind: "model-not-found"; model: string }
  | { kind: "unauthorized" }
  | { kind: "bad-request"; message: string }
  /** The request body is not JSON. */
  | { kind: "invalid-json"; detail: string }
  | { kind: "context-overflow"; promptTokens: number; maxTokens: number }
  | { kind: "server-error"; message: string }
  | { kind: "overloaded" }
  | { kind: "loading" }
  | { kind: "route-not-found"; method: string; path: string }
  /** A known route asked with another method (FastAPI servers answer 405). */
  | { kind: "method-not-allowed"; method: string; path: string; allow: string };

const JSON_TYPE = "application/json"; // server.ts applies the flavour's own (contentTypeFor)

/** vLLM's pydantic `ErrorResponse` type names, by status. */
function vllmType(status: number): string {
  switch (status) {
    case 400:
      return "BadRequestError";
    case 404:
      return "NotFoundError";
    case 503:
      return "ServiceUnavailableError";
    default:
      return "InternalServerError";
  }
}

function llamacppType(status: number): string {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 404:
      return "not_found_error";
    case 503:
      return "unavailable_error";
    default:
      return "server_error";
  }
}

/** Body for a status + message in the flavour's own error family. */
function shaped(profile: FlavourProfile, status: number, message: string, extra: Record<string, unknown> = {}): ErrorReply {
  let body: unknown;
  switch (profile.errorStyle) {
    case "vllm-nested":
      // vLLM ≥0.10.1
      body = { error: { message, type: vllmType(status), param: extra.param ?? null, code: status } };
      break;
    case "vllm-flat":
    case "sglang":
      // vLLM before 0.10.1, and SGLang
      body = { object: "error", message, type: vllmType(status), param: null, code: status };
      break;
    case "llamacpp":
      body = { error: { code: status, message, type: llamacppType(status), ...extra } };
      break;
    case "ollama":
      // Ollama's OpenAI middleware re-wraps every native error the same way: type api_error, nulls.
      body = { error: { message, type: "api_error", param: null, code: null } };
      break;
    case "lmstudio":
      body = { error: { message, type: status >= 500 ? "server_error" : "invalid_request_error", param: null, code: null } };
      break;
  }
  return { status, contentType: JSON_TYPE, body: JSON.stringify(body) };
}

function json(status: number, body: unknown): ErrorReply {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(body) };
}

function modelNotFound(profile: FlavourProfile, model: string): ErrorReply {
  switch (profile.errorStyle) {
    case "vllm-nested":
    case "vllm-flat":
      return shaped(profile, 404, `The model \`${model}\` does not exist.`, { param: profile.vllm?.modelNotFoundParam ?? null });
    case "sglang":
      return shaped(profile, 404, `The model '${model}' does not exist.`);
    case "llamacpp":
    case "ollama":
      return shaped(profile, 404, `model '${model}' not found`);
    case "lmstudio":
      return json(404, { error: { message: `Model "${model}" not found. Please specify a valid model.`, type: "invalid_request_error", param: "model", code: "model_not_found" } });
  }
}

function unauthorized(profile: FlavourProfile): ErrorReply {
  switch (profile.errorStyle) {
    case "vllm-nested":
    case "vllm-flat":
    case "sglang":
      // A bare string, not an object: FastAPI middleware answers before the OpenAI layer.
      return json(401, { error: "Unauthorized" });
    case "llamacpp":
      return shaped(profile, 401, "Invalid API Key");
    case "ollama":
      // Ollama has no key check of its own; this is what sits in front of it (native shape).
      return json(401, { error: "unauthorized" });
    case "lmstudio":
      return json(401, { error: { message: "Invalid API key provided.", type: "invalid_request_error", param: null, code: "invalid_api_key" } });
  }
}

function contextOverflow(profile: FlavourProfile, promptTokens: number, maxTokens: number): ErrorReply {
  const requested = promptTokens + maxTokens;
  const n = profile.maxModelLen;
  switch (profile.kind) {
    case "vllm":
      return shaped(
        profile,
        400,
        `This model's maximum context length is ${n} tokens. However, you requested ${requested} tokens ` +
          `(${promptTokens} in the messages, ${maxTokens} in the completion). ` +
          "Please reduce the length of the messages or completion.",
      );
    case "sglang":
      return shaped(profile, 400, `The input (${promptTokens} tokens) is longer than the model's context length (${n} tokens).`);
    case "llamacpp":
      return shaped(profile, 400, "the request exceeds the available context size, try increasing it", { type: "exceed_context_size_error", n_prompt_tokens: promptTokens, n_ctx: n });
    case "ollama":
      return shaped(profile, 400, `the request exceeds the available context size (${n} tokens)`);
    case "lmstudio":
      // LM Studio answers this one with a bare string.
      return json(400, {
        error:
          `Trying to keep the first ${promptTokens} tokens when context the overflows. However, the model is loaded ` +
          `with context length of only ${n} tokens, which is not enough. Try to load the model with a larger context length, ` +
          "or provide a shorter input",
      });
  }
}

function routeNotFound(profile: FlavourProfile, method: string, path: string): ErrorReply {
  switch (profile.kind) {
    case "vllm":
    case "sglang":
      return json(404, { detail: "Not Found" }); // FastAPI
    case "llamacpp":
      return shaped(profile, 404, "File Not Found");
    case "ollama":
      return { status: 404, contentType: "text/plain", body: "404 page not found" }; // Go's default mux
    case "lmstudio":
      // LM Studio answers unknown routes with 200 and an error string.
      return json(200, { error: `Unexpected endpoint or method. (${method} ${path})` });
  }
}

export function errorReply(profile: FlavourProfile, error: ErrorKind): ErrorReply {
  switch (error.kind) {
    case "model-not-found":
      return modelNotFound(profile, error.model);
    case "unauthorized":
      return unauthorized(profile);
    case "bad-request":
      return shaped(profile, 400, error.message);
    case "invalid-json":
      // llama.cpp lets nlohmann::json's parse_error reach its generic handler: a 500 (recorded: bad-json.json).
      if (profile.kind === "llamacpp") return shaped(profile, 500, `[json.exception.parse_error.101] parse error: ${error.detail}`);
      return shaped(profile, 400, "Invalid JSON in request body");
    case "context-overflow":
      return contextOverflow(profile, error.promptTokens, error.maxTokens);
    case "server-error":
      return shaped(profile, 500, error.message);
    case "overloaded":
      // vLLM has no such answer (it queues; scenarios.ts E5): refuse to invent one.
      if (profile.kind === "vllm") break;
      if (profile.kind === "ollama") return shaped(profile, 503, "server busy, please try again.  maximum pending requests exceeded");
      return shaped(profile, 503, "server busy: too many pending requests, please retry later");
    case "loading":
      return shaped(profile, 503, "Loading model");
    case "method-not-allowed":
      // Starlette's router: a path that matched with another method → 405 {"detail":"Method Not Allowed"}.
      if (profile.kind === "vllm" || profile.kind === "sglang") return { ...json(405, { detail: "Method Not Allowed" }), headers: { allow: error.allow } };
      return routeNotFound(profile, error.method, error.path);
    case "route-not-found":
      return routeNotFound(profile, error.method, error.path);
  }
  throw new Error(`unhandled error kind ${(error as { kind: string }).kind} for ${profile.flavour}`);
}
