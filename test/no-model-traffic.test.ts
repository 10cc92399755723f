// The no-model-traffic marker tells apart an agent that never reached the proxy from a model
// server that refused every request (a real llama-server answered Qwen Code's 17.9k-token
// prompt on a 16k slot with 400 exceed_context_size_error; the old marker blamed the agent's env).
import { describe, expect, it } from "vitest";
import type { ModelRequestRecord } from "../src/proxy/record.ts";
import { noModelTrafficMarker } from "../src/run/no-model-traffic.ts";

function rec(over: Partial<ModelRequestRecord>): ModelRequestRecord {
  return {
    seq: 1, ts: "2026-12-01T00:00:00Z", method: "POST", path: "/v1/chat/completions", model: "m", stream: true, status: 200, refused: false,
    prompt_tokens: null, completion_tokens: null, latency_ms: 1, ttfb_ms: 1, finish_reason: null, reasoning_field: null, bytes: 0, ...over,
  };
}

describe("noModelTrafficMarker", () => {
  it("no request at all: points at the agent's configuration", () => {
    const m = noModelTrafficMarker("m", []);
    expect(m.found).toContain("requests seen by the proxy: 0");
    expect(m.todo).toMatch(/OPENAI_BASE_URL/);
  });

  it("every request rejected by the server (400): names the status and the context window, not the agent's env", () => {
    const m = noModelTrafficMarker("m", [rec({ status: 400, upstream_error: "upstream status 400" })]);
    expect(m.found).toContain("1 of them failed at the model server (HTTP 400)");
    expect(m.todo).toMatch(/context window/);
    expect(m.todo).not.toMatch(/OPENAI_BASE_URL/);
    expect(m.details).toEqual(["request 1: POST /v1/chat/completions → HTTP 400 (upstream status 400)"]);
  });

  it("an error inside a 200 stream: the server failed, check its log", () => {
    const m = noModelTrafficMarker("m", [rec({ status: 200, upstream_error: "error in 200 stream" })]);
    expect(m.found).toContain("failed at the model server (HTTP 200)");
    expect(m.todo).toMatch(/server's log/);
  });

  it("requests the proxy refused itself are not blamed on the server", () => {
    const m = noModelTrafficMarker("m", [rec({ status: 403, refused: true, refusal_reason: "model not admitted" })]);
    expect(m.todo).toMatch(/OPENAI_BASE_URL/);
  });
});
