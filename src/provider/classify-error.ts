// Classifying a request that failed: no answer at all (unreachable), an HTTP error, an error
// inside a stream, or a /models request refused. Errors are matched on HTTP status and
// keywords, never on exact server wording. Apart from the classification of answers because
// it is decided first and alone (a failed request has no answer to judge), and because the
// /models failure needs only this half.
import { result, type Classification, type ClassifyContext, type ResponseEvidence } from "./probe-classes.ts";
import { toolParserAdvice, truncate } from "./server-advice.ts";

function errorHaystack(ev: ResponseEvidence): string {
  const e = ev.error;
  if (!e) return "";
  return `${e.message} ${e.type ?? ""} ${e.code ?? ""}`.toLowerCase();
}

const has = (text: string, ...words: (string | RegExp)[]) =>
  words.some((w) => (typeof w === "string" ? text.includes(w) : w.test(text)));

function describeError(ev: ResponseEvidence): string {
  const what = ev.status !== null ? `HTTP ${ev.status}` : "error";
  const msg = ev.error?.message ? `: ${truncate(ev.error.message, 200)}` : "";
  return `${what}${msg}`;
}

export function classifyError(ev: ResponseEvidence, ctx: ClassifyContext): Classification | null {
  if (ev.connectionError) return unreachable(ev.connectionError);
  let status = ev.status;
  const text = errorHaystack(ev);
  if (ev.streamError) {
    return result("ERR_STREAM", [
      `The server accepted the request (HTTP 200) and then sent an error inside the stream (${truncate(ev.error?.message ?? "no message", 200)}).`,
      "Check the server log around this time; an agent would see a broken stream mid-answer.",
    ]);
  }
  if (status === null) return null;
  // An error body that came with 2xx (not a stream): judge it like a 400 so the keywords still apply.
  if (status >= 200 && status < 300) {
    if (!ev.error) return null;
    status = 400;
  }

  const mentionsModel = has(text, "model");
  if (status === 401 || status === 403 || has(text, "unauthorized", "invalid api key", "authentication", "api key", "forbidden")) {
    return result("ERR_AUTH", [
      `The server refused the request (${describeError(ev)}): it wants an API key.`,
      "Set the provider's key variable (CTO_HARNESS_CASE_LOCAL_API_KEY for qwen-local) to the key the server was started with (vLLM/llama.cpp `--api-key`).",
    ]);
  }
  if (
    (status === 404 || status === 400) &&
    (has(text, "model_not_found", "modelnotfound") ||
      (mentionsModel && has(text, "not found", "does not exist", "not_found", "notfound", "no such", "unknown model", "not loaded")))
  ) {
    return result("ERR_MODEL_NOT_FOUND", [
      `The server does not serve model '${ctx.requestedModel}' (${describeError(ev)}).`,
      ctx.servedModels.length > 0
        ? `Use a served model id with --model: ${ctx.servedModels.join(", ")}.`
        : "List the served ids with GET /v1/models and pass one with --model.",
      ...(ctx.serverKind === "vllm" ? ["Or start vLLM with `--served-model-name " + ctx.requestedModel + "`."] : []),
    ]);
  }
  if (has(text, "context") && (status === 400 || status === 413 || status === 422 || status === 500) &&
      has(text, "length", "size", "exceed", "window", "too long", "too many", "maximum")) {
    return result("ERR_CONTEXT_OVERFLOW", [
      `The request does not fit the server's context window (${describeError(ev)}).`,
      `The probe prompt is tiny, so max_tokens=${ctx.budget} alone overflows it: lower --budget, or raise the context (vLLM --max-model-len, llama.cpp -c, Ollama num_ctx).`,
    ]);
  }
  if (
    ev.probe === "tools" &&
    (status === 400 || status === 500 || status === 422 || status === 501) &&
    has(text, "tool", "jinja", "function call")
  ) {
    return result("TOOLS_REJECTED_CONFIG", [`The server rejected a request with tools (${describeError(ev)}).`, ...toolParserAdvice(ctx.serverKind, "rejected")]);
  }
  if (status === 503 && has(text, "loading", "not ready", "starting", "warming")) {
    return result("ERR_LOADING", [
      `The server is still loading the model (${describeError(ev)}).`,
      "Wait until it reports ready (vLLM: 'Application startup complete'; llama.cpp: /health returns {\"status\":\"ok\"}) and re-run.",
    ]);
  }
  if (status === 429 || has(text, "busy", "overload", "pending requests", "too many requests", "capacity", "queue")) {
    return result("ERR_OVERLOADED", [
      `The server is overloaded (${describeError(ev)}).`,
      "Lower the harness concurrency (loop --concurrency), or raise the server's queue (Ollama OLLAMA_MAX_QUEUE / OLLAMA_NUM_PARALLEL), then retry.",
    ]);
  }
  if (status === 503) {
    return result("ERR_LOADING", [
      `The server answered 503 Service Unavailable (${describeError(ev)}); it is most likely still loading.`,
      "Wait and re-run the probe.",
    ]);
  }
  const advice = [`Unexpected answer from the server (${describeError(ev)}).`];
  if (status === 404) advice.push("Check that the base URL ends in /v1 (the probe calls {base}/models and {base}/chat/completions).");
  if (status === 405) advice.push("The path does not accept POST: check that the base URL points at the OpenAI-compatible API (…/v1).");
  return result("ERR_HTTP", advice);
}

function unreachable(code: string): Classification {
  const advice = [`No server answered (${code}).`];
  if (code === "ECONNREFUSED") {
    advice.push(
      "The server may still be loading: vLLM refuses connections until the model is loaded ('Application startup complete'). Wait and re-run.",
      "Otherwise check that the server is running and that the base URL's host and port are right.",
    );
  } else if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    advice.push("The host name in the base URL does not resolve: check the URL (and VPN / Tailscale).");
  } else if (code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT") {
    advice.push("Nothing answered before the timeout: check the host, port, firewall, or raise --timeout if the server is slow to accept.");
  } else if (code === "EINVALIDURL") {
    advice.push("The base URL is not a valid http(s) URL: fix the provider's URL variable.");
  } else {
    advice.push("Check that the server is running and the base URL is right.");
  }
  return result("ERR_UNREACHABLE", advice);
}

/** Class for a /models request that failed before any chat was attempted. */
export function classifyModelsFailure(ev: ResponseEvidence, ctx: ClassifyContext): Classification | null {
  if (ev.connectionError) return unreachable(ev.connectionError);
  if (ev.status === 401 || ev.status === 403) return classifyError(ev, ctx);
  return null;
}
