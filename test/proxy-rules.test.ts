// The proxy's pure rules: upstream URL building, model admission, the response tap, the summary.
import { describe, expect, it } from "vitest";
import { gzipSync } from "node:zlib";
import { apiSuffix, parseUpstreamBase, upstreamHostHeader, upstreamRequestPath } from "../src/proxy/upstream-url.ts";
import { decideAdmission, readRequestFacts } from "../src/proxy/admission-gate.ts";
import { ResponseTap } from "../src/proxy/response-tap.ts";
import { summarizeRecords, type ModelRequestRecord } from "../src/proxy/record.ts";

describe("upstream URL", () => {
  it("keeps the base path and query, turns userinfo into Basic auth, and keeps userinfo out of the path", () => {
    const target = parseUpstreamBase("https://al%40ice:p%3Ass@spark.example:8443/v1/?api-version=2&token=t0k");
    expect(target).toMatchObject({ protocol: "https:", hostname: "spark.example", port: 8443, basePath: "/v1" });
    expect(target.basicAuthorization).toBe(`Basic ${Buffer.from("al@ice:p:ss").toString("base64")}`);
    expect(upstreamRequestPath(target, "/v1/chat/completions?foo=bar")).toBe("/v1/chat/completions?api-version=2&token=t0k&foo=bar");
    expect(upstreamRequestPath(target, "/chat/completions")).toBe("/v1/chat/completions?api-version=2&token=t0k");
    expect(upstreamHostHeader(target)).toBe("spark.example:8443");
  });

  it("maps /v1 and no-prefix paths onto the same suffix, and defaults ports", () => {
    expect(apiSuffix("/v1/models")).toBe("/models");
    expect(apiSuffix("/models")).toBe("/models");
    expect(apiSuffix("/v1")).toBe("/");
    expect(apiSuffix("/v1beta/x")).toBe("/v1beta/x");
    const plain = parseUpstreamBase("http://localhost:11434");
    expect(plain.basePath).toBe("");
    expect(plain.basicAuthorization).toBeNull();
    expect(upstreamRequestPath(plain, "/v1/models")).toBe("/models");
    expect(upstreamHostHeader(parseUpstreamBase("http://h/v1"))).toBe("h");
    expect(parseUpstreamBase("https://h/v1").port).toBe(443);
    expect(upstreamHostHeader(parseUpstreamBase("http://[::1]:8000/v1"))).toBe("[::1]:8000");
  });

  it("explains a bad URL without repeating it", () => {
    expect(() => parseUpstreamBase("spark:8000 secret-zz9")).toThrow(/http or https|not a valid URL/);
    try {
      parseUpstreamBase("::: secret-zz9");
    } catch (error) {
      expect(String(error)).not.toContain("secret-zz9");
    }
  });
});

describe("model admission", () => {
  const admitted = "qwen3.6-35b-a3b";
  const facts = (body: unknown) => readRequestFacts(Buffer.from(JSON.stringify(body)), undefined);

  it("reads model and stream from plain and gzip bodies, and tolerates non-JSON", () => {
    expect(facts({ model: "m", stream: true })).toEqual({ model: "m", stream: true, json: true });
    expect(readRequestFacts(gzipSync(JSON.stringify({ model: "z" })), "gzip").model).toBe("z");
    expect(readRequestFacts(Buffer.from("not json"), undefined)).toEqual({ model: null, stream: false, json: false });
    expect(readRequestFacts(Buffer.alloc(0), undefined).json).toBe(false);
  });

  it("admits only the admitted model, on any path that names one", () => {
    expect(decideAdmission("/chat/completions", facts({ model: admitted }), admitted)).toEqual({ admit: true });
    const refused = decideAdmission("/chat/completions", facts({ model: "claude-sonnet-4-6" }), admitted);
    expect(refused).toMatchObject({ admit: false, status: 403, code: "model_not_admitted", reason: "model not admitted" });
    expect(decideAdmission("/messages", facts({ model: "claude-sonnet-4-6" }), admitted).admit).toBe(false);
    // Case matters: a near-miss id is another model as far as the evidence goes.
    expect(decideAdmission("/chat/completions", facts({ model: "Qwen3.6-35B-A3B" }), admitted).admit).toBe(false);
  });

  it("refuses model endpoints that name no model, but lets listing and other requests through", () => {
    for (const path of ["/chat/completions", "/completions", "/embeddings", "/responses"]) {
      expect(decideAdmission(path, facts({ messages: [] }), admitted)).toMatchObject({ admit: false, reason: "request names no model" });
    }
    expect(decideAdmission("/chat/completions", readRequestFacts(Buffer.from("{oops"), undefined), admitted)).toMatchObject({
      admit: false,
      reason: "request body is not JSON",
    });
    expect(decideAdmission("/models", readRequestFacts(Buffer.alloc(0), undefined), admitted)).toEqual({ admit: true });
  });
});

function tapAll(chunks: (string | Buffer)[], sse: boolean, capBytes?: number) {
  const tap = new ResponseTap({ sse, ...(capBytes ? { capBytes } : {}) });
  for (const chunk of chunks) tap.feed(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return tap.finish();
}

describe("response tap", () => {
  const ev = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({ choices: [{ index: 0, delta, finish_reason: finish }] });

  it("reads usage from the final choices:[] chunk, finish_reason, and 'both' reasoning fields (vLLM 0.11-0.15)", () => {
    const stream =
      ": ping\n\n" +
      ev(chunk({ role: "assistant", reasoning: "2+", reasoning_content: "2+" })) +
      ev(chunk({ content: "4", reasoning: null })) +
      ev(chunk({}, "stop")) +
      ev({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, completion_tokens_details: { reasoning_tokens: 2 } } }) +
      "data: [DONE]\n\n";
    // Split at every 7 bytes, including inside a multi-byte character and inside events.
    const bytes = Buffer.from(stream.replace("2+", "2+é"));
    const pieces: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 7) pieces.push(bytes.subarray(i, i + 7));
    expect(tapAll(pieces, true)).toEqual({
      prompt_tokens: 3,
      completion_tokens: 4,
      reasoning_tokens: 2,
      finish_reason: "stop",
      reasoning_field: "both",
      response_model: null, // these hand-written chunks name no model
      body_error: null,
      complete_parse: true,
    });
  });

  it("tells reasoning from reasoning_content from none, and Ollama's finish on its own chunk", () => {
    expect(tapAll([ev(chunk({ reasoning: "x" })), ev(chunk({ content: "y" }))], true).reasoning_field).toBe("reasoning");
    expect(tapAll([ev(chunk({ reasoning_content: "x" }))], true).reasoning_field).toBe("reasoning_content");
    const none = tapAll([ev(chunk({ content: "<think>x</think>y", reasoning_content: "" })), ev(chunk({}, "length"))], true);
    expect(none).toMatchObject({ reasoning_field: null, finish_reason: "length", prompt_tokens: null });
  });

  it("reads SGLang's top-level reasoning_tokens and records an error inside a 200 stream", () => {
    const facts = tapAll(
      [ev(chunk({ content: "a" })), ev({ error: { message: "x", code: 500 } }), ev({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, reasoning_tokens: 5 } })],
      true,
    );
    expect(facts).toMatchObject({ body_error: "error in 200 stream", reasoning_tokens: 5, completion_tokens: 2 });
  });

  it("reads a non-streamed body, and stops reading (without failing) past the cap", () => {
    const body = JSON.stringify({
      choices: [{ index: 0, message: { content: null, reasoning: "long thought" }, finish_reason: "length" }],
      usage: { prompt_tokens: 10, completion_tokens: 32 },
    });
    expect(tapAll([body.slice(0, 20), body.slice(20)], false)).toMatchObject({
      prompt_tokens: 10,
      completion_tokens: 32,
      finish_reason: "length",
      reasoning_field: "reasoning",
      complete_parse: true,
    });
    expect(tapAll([body], false, 16)).toMatchObject({ prompt_tokens: null, complete_parse: false });
    expect(tapAll(['{"object":"error","message":"bad"}'], false).body_error).toBe("error in response body");
  });

  it("stops reading an oversized SSE event but keeps what it learnt", () => {
    const big = ev(chunk({ reasoning: "x" })) + `data: {"choices":[{"delta":{"content":"${"y".repeat(5000)}"}}]}\n\n` + ev(chunk({}, "stop"));
    // The parser's cap counts what it holds across feeds: send the event in network-sized pieces.
    const pieces: string[] = [];
    for (let i = 0; i < big.length; i += 100) pieces.push(big.slice(i, i + 100));
    const facts = tapAll(pieces, true, 1024);
    expect(facts).toMatchObject({ reasoning_field: "reasoning", complete_parse: false });
  });

  it("reads the same facts from a long stream split at random byte positions as from the stream fed whole", () => {
    // The tap pre-splits SSE bytes at blank lines and skips plain deltas; a boundary, key or
    // multi-byte character cut between chunks must not change what it learns (LF and CRLF).
    const lines = [ev({ model: "served-model", ...chunk({ role: "assistant", reasoning_content: "hmm é" }) })];
    for (let i = 0; i < 10_000; i++) lines.push(ev({ model: "served-model", ...chunk({ content: `tok ${i} ü€` }) }));
    lines.push("event: error\ndata: {\"message\":\"upstream hiccup\"}\n\n");
    lines.push(ev({ model: "served-model", ...chunk({}, "length") }));
    lines.push(ev({ model: "served-model", choices: [], usage: { prompt_tokens: 11, completion_tokens: 10_001, reasoning_tokens: 3 } }));
    lines.push("data: [DONE]\n\n");
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const expected = {
      prompt_tokens: 11,
      completion_tokens: 10_001,
      reasoning_tokens: 3,
      finish_reason: "length",
      reasoning_field: "reasoning_content",
      response_model: "served-model",
      body_error: "error in 200 stream",
      complete_parse: true,
    };
    for (const lineEnd of ["\n", "\r\n"]) {
      const bytes = Buffer.from(lines.join("").replaceAll("\n", lineEnd));
      const pieces: Buffer[] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + Math.floor(random() * (random() < 0.2 ? 4 : 3000));
        pieces.push(bytes.subarray(at, at + size));
        at += size;
      }
      const whole = tapAll([bytes], true);
      expect(whole).toEqual(expected);
      expect(tapAll(pieces, true)).toEqual(whole);
    }
  });

  it("reads the Responses API's usage and status", () => {
    const facts = tapAll(
      [
        `event: response.reasoning_text.delta\n${ev({ type: "response.reasoning_text.delta", delta: "hm" })}`,
        `event: response.completed\n${ev({ type: "response.completed", response: { status: "completed", usage: { input_tokens: 7, output_tokens: 8, output_tokens_details: { reasoning_tokens: 4 } } } })}`,
      ],
      true,
    );
    expect(facts).toMatchObject({ prompt_tokens: 7, completion_tokens: 8, reasoning_tokens: 4, finish_reason: "completed", reasoning_field: "reasoning" });
  });
});

describe("traffic summary", () => {
  const base: ModelRequestRecord = {
    seq: 1,
    ts: "2026-06-01T00:00:00.000Z",
    method: "POST",
    path: "/v1/chat/completions",
    model: "m",
    stream: true,
    status: 200,
    refused: false,
    prompt_tokens: 10,
    completion_tokens: 5,
    latency_ms: 1,
    ttfb_ms: 1,
    finish_reason: "stop",
    reasoning_field: null,
    bytes: 1,
  };

  it("lists models in order of first request (not of completion) and flags any other model as fallback", () => {
    const records: ModelRequestRecord[] = [
      { ...base, seq: 3, model: "claude-sonnet-4-6", status: 403, refused: true, prompt_tokens: null, completion_tokens: null },
      { ...base, seq: 1 },
      { ...base, seq: 2, status: 502, upstream_error: "ECONNREFUSED", prompt_tokens: null, completion_tokens: null },
      { ...base, seq: 4, model: null, method: "GET", path: "/v1/models", prompt_tokens: null, completion_tokens: null },
    ];
    expect(summarizeRecords(records, "m")).toEqual({
      requests: 4,
      models_seen: ["m", "claude-sonnet-4-6"],
      prompt_tokens: 10,
      completion_tokens: 5,
      fallback_detected: true,
      refused_requests: 1,
      errors: 1,
      models_answered: [],
    });
    expect(summarizeRecords([base], "m").fallback_detected).toBe(false);
    expect(summarizeRecords([], "m")).toMatchObject({ requests: 0, models_seen: [], fallback_detected: false });
  });
});
