// The `no-model-traffic.txt` marker (pure). "No model traffic" has two different causes: the
// agent never reached the proxy (its configuration), or it did and the model server refused
// or failed every request (found on a real llama-server: Qwen Code's 17.9k-token prompt against
// a 16k slot got `400 exceed_context_size_error`). The marker must point at the right one.
import type { MarkerText } from "../evidence/markers.ts";
import type { ModelRequestRecord } from "../proxy/record.ts";

export function noModelTrafficMarker(model: string, records: readonly ModelRequestRecord[]): MarkerText {
  const forwarded = records.filter((r) => !r.refused);
  const failed = forwarded.filter((r) => r.upstream_error !== undefined || r.status < 200 || r.status >= 300);
  const found = `the agent made no request that the admitted model (${model}) answered; requests seen by the proxy: ${records.length}`;
  const expected = "an agent engine's result is only evidence about the model when the model did the work, through the run's proxy";
  if (failed.length === 0) {
    return { title: "no model traffic", found, expected, todo: "check that the agent uses OPENAI_BASE_URL / OPENAI_API_KEY / OPENAI_MODEL from its environment (backend/stderr.log, backend/model-requests.jsonl)" };
  }
  const statuses = [...new Set(failed.map((r) => (r.status > 0 ? `HTTP ${r.status}` : (r.upstream_error ?? "no answer"))))];
  const rejected = failed.some((r) => r.status === 400 || r.status === 413);
  return {
    title: "no model traffic",
    found: `${found}, ${failed.length} of them failed at the model server (${statuses.join(", ")})`,
    expected,
    todo: rejected
      ? "the model server rejected the agent's requests: read the error in the agent's output (backend/stdout.log, backend/stderr.log) — a context window smaller than the agent's prompt is the usual cause (llama.cpp `-c` / `-np`, vLLM `--max-model-len`, Ollama `num_ctx`)"
      : "the model server failed the agent's requests: check the server's log and backend/model-requests.jsonl (upstream_error), then run `cto-harness probe`",
    details: failed.slice(0, 5).map((r) => `request ${r.seq}: ${r.method} ${r.path} → ${r.status > 0 ? `HTTP ${r.status}` : "no answer"}${r.upstream_error ? ` (${r.upstream_error})` : ""}`),
  };
}
