// Table-driven: every scenario of shared/reference/response-shapes.md (V1…E6), and each
// server flavour whose shape differs, fed as the literal JSON the server sends through the
// same accumulator the probe uses, then classified. Pure: no sockets, no processes.
import { describe, expect, it } from "vitest";
import {
  analyseContent,
  classifyResponse,
  combineClassifications,
  swallowedRecheckAdvice,
  judgeContentPrefix,
  PROBE_CLASSES,
  VERDICT_OF,
  type ClassifyContext,
  type ProbeClass,
  type ServerKind,
} from "../src/provider/classify.ts";
import { parseErrorBody, ResponseAccumulator, serverVersionFromFingerprint, versionFromBody } from "../src/provider/response-evidence.ts";

const ctxFor = (kind: ServerKind | null = "vllm", extra: Partial<ClassifyContext> = {}): ClassifyContext => ({
  budget: 1024,
  serverKind: kind,
  requestedModel: "qwen3.6-35b-a3b",
  servedModels: ["qwen3.6-35b-a3b"],
  modelServed: true,
  ...extra,
});

type Row = {
  name: string;
  probe?: "text" | "tools";
  kind?: ServerKind | null;
  /** Non-streamed 2xx body. */
  body?: unknown;
  /** Streamed chunks (already parsed `data:` payloads). */
  chunks?: unknown[];
  /** Non-2xx answer: status + raw body text. */
  error?: [number, string];
  connection?: string;
  /** Tool-probe rows: what the text probe found (ClassifyContext.textProbe). */
  textProbe?: ProbeClass;
  expect: ProbeClass;
  advice?: RegExp;
  /** Advice that must not appear. */
  notAdvice?: RegExp;
};

const msg = (message: Record<string, unknown>, finish_reason: string | null = "stop", extra: Record<string, unknown> = {}) => ({
  id: "x",
  object: "chat.completion",
  choices: [{ index: 0, message: { role: "assistant", ...message }, finish_reason }],
  ...extra,
});
const delta = (d: Record<string, unknown>, finish_reason: string | null = null) => ({
  object: "chat.completion.chunk",
  choices: [{ index: 0, delta: d, finish_reason }],
});
const usageChunk = (completion_tokens: number, extra: Record<string, unknown> = {}) => ({
  object: "chat.completion.chunk",
  choices: [],
  usage: { prompt_tokens: 20, completion_tokens, total_tokens: 20 + completion_tokens, ...extra },
});
const longReasoning = "Okay, the user asks for the capital of France. I recall that it is Paris. Let me double-check. ".repeat(20);
const xmlToolCall = "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>";

const rows: Row[] = [
  // V1 healthy reasoning model, per reasoning-field flavour
  { name: "V1 vLLM ≥0.16 (reasoning)", body: msg({ content: "Paris.", reasoning: "2+2... the capital is Paris" }), expect: "OK_REASONING" },
  { name: "V1 vLLM 0.7–0.10 (reasoning_content)", body: msg({ content: "Paris.", reasoning_content: "The capital is Paris" }), expect: "OK_REASONING" },
  { name: "V1 vLLM 0.11–0.15 (both fields, same text)", body: msg({ content: "Paris.", reasoning: "abc", reasoning_content: "abc" }), expect: "OK_REASONING" },
  { name: "V1 llama.cpp (reasoning_content, stream with : ping)", kind: "llamacpp", chunks: [delta({ role: "assistant", content: null, reasoning_content: "Paris is" }), delta({ content: "Paris." }), delta({}, "stop")], expect: "OK_REASONING" },
  { name: "V1 Ollama (reasoning, finish on own chunk with delta {})", kind: "ollama", chunks: [delta({ role: "assistant", content: "", reasoning: "think" }), delta({ content: "Paris." }), delta({}, "stop"), usageChunk(12)], expect: "OK_REASONING" },
  { name: "OK_PLAIN: no reasoning at all", body: msg({ content: "The capital of France is Paris." }), expect: "OK_PLAIN" },
  { name: "OK_PLAIN: plain answer starting with 'Okay,' that stops normally", body: msg({ content: "Okay, the capital of France is Paris." }), expect: "OK_PLAIN" },

  // V2 reasoning only, budget too small
  { name: "V2 vLLM content null", body: msg({ content: null, reasoning: longReasoning }, "length"), expect: "REASONING_ONLY_TRUNCATED", advice: /enable_thinking=false/ },
  { name: "V2 llama.cpp content \"\"", kind: "llamacpp", body: msg({ content: "", reasoning_content: longReasoning }, "length"), expect: "REASONING_ONLY_TRUNCATED", advice: /--budget/ },
  { name: "V2 Ollama content \"\" (reasoning)", kind: "ollama", body: msg({ content: "", reasoning: longReasoning }, "length"), expect: "REASONING_ONLY_TRUNCATED" },
  { name: "V2 vLLM 0.11–0.15 both fields streamed", chunks: [delta({ role: "assistant", reasoning: "Okay, ", reasoning_content: "Okay, " }), delta({ reasoning: "the user", reasoning_content: "the user" }), delta({}, "length"), usageChunk(32, { completion_tokens_details: { reasoning_tokens: 32 } })], expect: "REASONING_ONLY_TRUNCATED" },
  { name: "V2 SGLang (tool_calls null, top-level reasoning_tokens)", kind: "sglang", body: msg({ content: null, reasoning_content: longReasoning, tool_calls: null }, "length", { usage: { completion_tokens: 1024, reasoning_tokens: 1024 } }), expect: "REASONING_ONLY_TRUNCATED" },
  { name: "V2 hidden reasoning: length, nothing visible", body: msg({ content: "" }, "length", { usage: { completion_tokens: 32 } }), expect: "REASONING_ONLY_TRUNCATED" },
  // V2b delayed content
  { name: "V2b reasoning first, content later (stream)", chunks: [delta({ role: "assistant", reasoning: longReasoning }), delta({ reasoning: "so Paris." }), delta({ content: "The capital of France is Paris." }), delta({}, "stop")], expect: "OK_REASONING" },

  // V3–V5 reasoning in content
  { name: "V3 qwen3 parser <0.17, truncated, no tags", body: msg({ content: longReasoning, reasoning: null }, "length"), expect: "REASONING_IN_CONTENT_UNTERMINATED", advice: /budget|upgrade/i },
  { name: "V4 <think> in content, no parser", body: msg({ content: "<think>\nFrance... Paris.\n</think>\n\nParis" }), expect: "REASONING_IN_CONTENT_TAGGED", advice: /--reasoning-parser qwen3/ },
  { name: "V4 llama.cpp --reasoning-format none", kind: "llamacpp", body: msg({ content: "<think>x</think>Paris" }), expect: "REASONING_IN_CONTENT_TAGGED", advice: /--reasoning-format auto/ },
  { name: "V4 llama.cpp deepseek-legacy (both)", kind: "llamacpp", body: msg({ content: "<think>x</think>Paris", reasoning_content: "x" }), expect: "REASONING_IN_CONTENT_TAGGED" },
  { name: "V4b <think> unterminated, length", body: msg({ content: `<think>\n${longReasoning}` }, "length"), expect: "REASONING_IN_CONTENT_UNTERMINATED", advice: /--reasoning-parser qwen3/ },
  { name: "V5 template-opened thinking, lone </think>", body: msg({ content: "Thinking Process:\n1. The user asks for France's capital.\n</think>\n\nParis" }), expect: "REASONING_IN_CONTENT_UNOPENED", advice: /deepseek_r1/ },
  { name: "V5 streamed", chunks: [delta({ role: "assistant", content: "Thinking Process:\n" }), delta({ content: "1. capital\n</think>\n\n" }), delta({ content: "Paris" }), delta({}, "stop")], expect: "REASONING_IN_CONTENT_UNOPENED" },

  // V7 misrouted
  { name: "V7 thinking off, answer in reasoning_content", body: msg({ content: null, reasoning_content: "I am Qwen3, the capital is Paris." }), expect: "CONTENT_MISROUTED_TO_REASONING", advice: /enable_thinking/ },
  { name: "V7 LM Studio content \"\"", kind: "lmstudio", body: msg({ content: "", reasoning_content: "The capital of France is Paris." }), expect: "CONTENT_MISROUTED_TO_REASONING", advice: /LM Studio/ },

  // V8–V11 tools
  { name: "V8 vLLM without auto tool choice", probe: "tools", error: [400, JSON.stringify({ object: "error", message: '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set', type: "BadRequestError", code: 400 })], expect: "TOOLS_REJECTED_CONFIG", advice: /--enable-auto-tool-choice --tool-call-parser qwen3_coder/ },
  { name: "V8 vLLM ≥0.10 nested error shape", probe: "tools", error: [400, JSON.stringify({ error: { message: '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set', type: "BadRequestError", code: 400 } })], expect: "TOOLS_REJECTED_CONFIG" },
  { name: "V8b llama.cpp without --jinja", probe: "tools", kind: "llamacpp", error: [500, JSON.stringify({ error: { code: 500, message: "tools param requires --jinja flag", type: "server_error" } })], expect: "TOOLS_REJECTED_CONFIG", advice: /--jinja/ },
  { name: "V9 hermes parser on XML tool calls", probe: "tools", body: msg({ content: xmlToolCall, tool_calls: [] }), expect: "TOOL_CALL_AS_TEXT", advice: /qwen3_coder/ },
  { name: "V9 streamed, tool_calls missing", probe: "tools", chunks: [delta({ role: "assistant", content: "<tool_call>\n<function=get_weather>" }), delta({ content: "\n<parameter=city>Paris</parameter></function></tool_call>" }), delta({}, "stop")], expect: "TOOL_CALL_AS_TEXT" },
  { name: "V10 healthy tools (non-stream)", probe: "tools", body: msg({ content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] }, "tool_calls"), expect: "TOOL_CALLS_OK" },
  { name: "V10 streamed pieces by index", probe: "tools", chunks: [delta({ role: "assistant", tool_calls: [{ index: 0, id: "c1", type: "function", function: { name: "get_weather", arguments: "" } }] }), delta({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }), delta({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] }), delta({}, "tool_calls")], expect: "TOOL_CALLS_OK" },
  { name: "V10 Ollama whole call in one delta", probe: "tools", kind: "ollama", chunks: [delta({ role: "assistant", content: "", tool_calls: [{ index: 0, id: "c1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] }), delta({}, "tool_calls")], expect: "TOOL_CALLS_OK" },
  { name: "V10 after reasoning (reasoning model)", probe: "tools", body: msg({ content: null, reasoning: "I should call the tool", tool_calls: [{ id: "c1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] }, "tool_calls"), expect: "TOOL_CALLS_OK" },
  { name: "V11 finish tool_calls, empty list", probe: "tools", body: msg({ content: "I will check the weather.", tool_calls: [] }, "tool_calls"), expect: "TOOL_FINISH_MISMATCH", advice: /tool-call-parser/ },
  // V9b: vLLM --tool-call-parser hermes streaming Qwen3-Coder XML: reasoning, then nothing, stop
  { name: "V9b hermes hold-back after working reasoning (text probe OK_REASONING)", probe: "tools", textProbe: "OK_REASONING", chunks: [delta({ role: "assistant", content: "" }), delta({ reasoning: "I should call get_weather" }), delta({}, "stop"), usageChunk(60)], expect: "TOOL_CALLS_SWALLOWED", advice: /--tool-call-parser qwen3_coder/, notAdvice: /add `--reasoning-parser|--reasoning-parser qwen3`/ },
  { name: "V9b with vLLM 0.11–0.15 nulls (reasoning_content: null on the finish delta)", probe: "tools", textProbe: "OK_REASONING", chunks: [delta({ role: "assistant", content: "", reasoning_content: null }), delta({ reasoning: "call it", reasoning_content: "call it" }), delta({ reasoning_content: null }, "stop")], expect: "TOOL_CALLS_SWALLOWED", advice: /qwen3_coder/ },
  { name: "V9b thinking off: nothing at all, stop (text probe OK_PLAIN)", probe: "tools", textProbe: "OK_PLAIN", chunks: [delta({ role: "assistant", content: "" }), delta({ content: "\n\n" }), delta({}, "stop")], expect: "TOOL_CALLS_SWALLOWED", advice: /qwen3_coder/ },
  { name: "same shape without a text probe to compare: misrouted (unchanged)", probe: "tools", chunks: [delta({ role: "assistant", content: "" }), delta({ reasoning: "I should call get_weather" }), delta({}, "stop")], expect: "CONTENT_MISROUTED_TO_REASONING", advice: /--reasoning-parser qwen3/ },
  { name: "same shape when the text probe was misrouted too: the reasoning parser it is", probe: "tools", textProbe: "CONTENT_MISROUTED_TO_REASONING", chunks: [delta({ reasoning: "I should call get_weather" }), delta({}, "stop")], expect: "CONTENT_MISROUTED_TO_REASONING", advice: /--reasoning-parser qwen3/ },
  { name: "hold-back with finish tool_calls (a parser that recorded a call it never sent)", probe: "tools", textProbe: "OK_REASONING", chunks: [delta({ reasoning: "call it" }), delta({}, "tool_calls")], expect: "TOOL_FINISH_MISMATCH", advice: /qwen3_coder/, notAdvice: /--reasoning-parser qwen3/ },
  { name: "hold-back cut by the budget is reasoning-only, not swallowed", probe: "tools", textProbe: "OK_REASONING", chunks: [delta({ reasoning: longReasoning }), delta({}, "length")], expect: "REASONING_ONLY_TRUNCATED" },
  { name: "tool probe <think> in content after a working text probe: no reasoning-parser advice", probe: "tools", textProbe: "OK_REASONING", body: msg({ content: "<think>x</think>I will not call it." }), expect: "REASONING_IN_CONTENT_TAGGED", notAdvice: /--reasoning-parser qwen3/ },
  { name: "tools: model answered in text (allowed, noted)", probe: "tools", body: msg({ content: "I cannot check live weather.", tool_calls: null }), expect: "OK_PLAIN", advice: /unverified/ },
  { name: "tools: reasoning-only truncated applies to the tool probe too", probe: "tools", body: msg({ content: null, reasoning: longReasoning }, "length"), expect: "REASONING_ONLY_TRUNCATED" },

  // E1 model not found, all four error-body shapes
  { name: "E1 vLLM ≥0.10.1 nested", error: [404, JSON.stringify({ error: { message: "The model `x` does not exist.", type: "NotFoundError", code: 404 } })], expect: "ERR_MODEL_NOT_FOUND", advice: /qwen3\.6-35b-a3b/ },
  { name: "E1 older vLLM / SGLang flat", kind: "sglang", error: [404, JSON.stringify({ object: "error", message: "The model `x` does not exist.", type: "NotFoundError", code: 404 })], expect: "ERR_MODEL_NOT_FOUND" },
  { name: "E1 Ollama", kind: "ollama", error: [404, JSON.stringify({ error: { message: "model 'x' not found", type: "api_error", param: null, code: null } })], expect: "ERR_MODEL_NOT_FOUND" },
  { name: "E1 LM Studio code model_not_found", kind: "lmstudio", error: [404, JSON.stringify({ error: { message: "No models loaded with identifier x", type: "invalid_request_error", code: "model_not_found" } })], expect: "ERR_MODEL_NOT_FOUND" },
  { name: "E1 plain text body", kind: null, error: [404, "model x not found"], expect: "ERR_MODEL_NOT_FOUND" },
  { name: "404 without a model word: wrong path", kind: null, error: [404, "Not Found"], expect: "ERR_HTTP", advice: /\/v1/ },

  // E2 context overflow, wording varies
  { name: "E2 vLLM", error: [400, JSON.stringify({ object: "error", message: "This model's maximum context length is 2048 tokens. However, you requested 4096 tokens (20 in the messages, 4076 in the completion).", type: "BadRequestError", code: 400 })], expect: "ERR_CONTEXT_OVERFLOW", advice: /--budget/ },
  { name: "E2 llama.cpp", kind: "llamacpp", error: [400, JSON.stringify({ error: { code: 400, message: "the request exceeds the available context size, try increasing it", type: "exceed_context_size_error" } })], expect: "ERR_CONTEXT_OVERFLOW" },

  // E3 auth: string error, nested error
  { name: "E3 vLLM/SGLang {error: 'Unauthorized'}", error: [401, JSON.stringify({ error: "Unauthorized" })], expect: "ERR_AUTH", advice: /API_KEY/ },
  { name: "E3 llama.cpp nested", kind: "llamacpp", error: [401, JSON.stringify({ error: { code: 401, message: "Invalid API Key", type: "authentication_error" } })], expect: "ERR_AUTH" },

  // E4 loading
  { name: "E4 connection refused (vLLM loading)", connection: "ECONNREFUSED", expect: "ERR_UNREACHABLE", advice: /loading/ },
  { name: "E4 llama.cpp 503 Loading model", kind: "llamacpp", error: [503, JSON.stringify({ error: { code: 503, message: "Loading model", type: "unavailable_error" } })], expect: "ERR_LOADING" },
  { name: "unknown host", connection: "ENOTFOUND", expect: "ERR_UNREACHABLE", advice: /resolve/ },

  // E5 overloaded
  { name: "E5 Ollama busy", kind: "ollama", error: [503, "server busy, please try again.  maximum pending requests exceeded"], expect: "ERR_OVERLOADED", advice: /concurrency/ },
  { name: "429 too many requests", error: [429, JSON.stringify({ error: { message: "rate limited" } })], expect: "ERR_OVERLOADED" },

  // E6 error after streaming began
  { name: "E6 error event inside a 200 stream", chunks: [delta({ role: "assistant", reasoning: "Okay" }), { error: { message: "CUDA out of memory", type: "InternalServerError", code: 500 } }], expect: "ERR_STREAM" },
  { name: "E6 flat error object inside stream", chunks: [delta({ role: "assistant" }), { object: "error", message: "engine dead" }], expect: "ERR_STREAM" },
  { name: "SGLang finish_reason abort, no content", kind: "sglang", chunks: [delta({ role: "assistant", reasoning_content: "Okay" }), delta({}, "abort")], expect: "ERR_STREAM", advice: /abort/ },
  { name: "stream closed with neither finish nor content", chunks: [delta({ role: "assistant", reasoning: "Okay" })], expect: "ERR_STREAM" },

  { name: "other HTTP error", error: [500, "Internal Server Error"], expect: "ERR_HTTP" },
];

function evidenceOf(row: Row) {
  const acc = new ResponseAccumulator(row.probe ?? "text", () => 0);
  if (row.connection) acc.evidence.connectionError = row.connection;
  if (row.error) acc.addErrorBody(row.error[0], row.error[1]);
  if (row.body !== undefined) {
    acc.evidence.status = 200;
    acc.addBody(row.body);
  }
  if (row.chunks) {
    acc.evidence.status = 200;
    for (const c of row.chunks) acc.addChunk(c);
  }
  return acc;
}

describe("classifyResponse: reference scenarios and server flavours", () => {
  it.each(rows.map((r) => [r.name, r] as const))("%s", (_name, row) => {
    const acc = evidenceOf(row);
    const got = classifyResponse(acc.evidence, ctxFor(row.kind === undefined ? "vllm" : row.kind, { textProbe: row.textProbe ?? null }));
    expect(got.classification).toBe(row.expect);
    expect(got.verdict).toBe(VERDICT_OF[row.expect]);
    if (row.advice) expect(got.advice.join("\n")).toMatch(row.advice);
    if (row.notAdvice) expect(got.advice.join("\n")).not.toMatch(row.notAdvice);
    if (got.verdict === "block") expect(got.advice.length).toBeGreaterThan(0);
  });

  it("covers every class except the overall-only MODEL_NAME_IGNORED", () => {
    const seen = new Set(rows.map((r) => r.expect));
    const missing = PROBE_CLASSES.filter((c) => !seen.has(c) && c !== "MODEL_NAME_IGNORED");
    expect(missing).toEqual([]);
  });
});

describe("reasoning accounting", () => {
  it("counts reasoning once when reasoning and reasoning_content carry the same text (vLLM 0.11–0.15)", () => {
    const acc = new ResponseAccumulator("text");
    acc.addChunk(delta({ reasoning: "abcde", reasoning_content: "abcde" }));
    acc.addChunk(delta({ reasoning: "fg", reasoning_content: "fg" }));
    expect(acc.evidence.reasoningChars).toBe(7);
    expect(acc.evidence.reasoningFields.sort()).toEqual(["reasoning", "reasoning_content"]);
  });

  it("accepts a usage-only last chunk (choices: []) and reads reasoning tokens from either place", () => {
    const vllm = new ResponseAccumulator("text");
    vllm.addChunk(usageChunk(40, { completion_tokens_details: { reasoning_tokens: 30 } }));
    expect([vllm.evidence.completionTokens, vllm.evidence.reasoningTokens]).toEqual([40, 30]);
    const sglang = new ResponseAccumulator("text");
    sglang.addBody(msg({ content: "x" }, "stop", { usage: { completion_tokens: 9, reasoning_tokens: 5 } }));
    expect(sglang.evidence.reasoningTokens).toBe(5);
  });
});

describe("error bodies: the four shapes", () => {
  it.each([
    ["nested", '{"error":{"message":"m1","type":"T","code":404}}', { message: "m1", type: "T", code: "404" }],
    ["flat", '{"object":"error","message":"m2","type":"NotFoundError","code":404}', { message: "m2", type: "NotFoundError", code: "404" }],
    ["string", '{"error":"Unauthorized"}', { message: "Unauthorized", type: null, code: null }],
    ["plain text", "server busy", { message: "server busy", type: null, code: null }],
  ])("%s", (_n, body, want) => {
    expect(parseErrorBody(body)).toEqual(want);
  });
});

describe("early decision on a streamed text probe", () => {
  it("allows at the first content that is plainly an answer, even after long reasoning (V2b)", () => {
    const acc = new ResponseAccumulator("text");
    acc.addChunk(delta({ reasoning: longReasoning }));
    expect(acc.earlyDecision()).toBeNull();
    acc.addChunk(delta({ content: "The capital" }));
    expect(acc.earlyDecision()).toBeNull(); // could still become something else
    acc.addChunk(delta({ content: " of France is Paris, the largest city of the country and its seat." }));
    expect(acc.earlyDecision()).toBe("allow");
  });

  it("does not allow content that opens with <think> or reads like reasoning without a reasoning field", () => {
    const tagged = new ResponseAccumulator("text");
    tagged.addChunk(delta({ content: "<thi" }));
    expect(tagged.earlyDecision()).toBeNull();
    tagged.addChunk(delta({ content: `nk>\n${longReasoning}` }));
    expect(tagged.earlyDecision()).toBeNull();
    tagged.addChunk(delta({ content: "</think>\n\nParis" }));
    expect(tagged.earlyDecision()).toBe("decided-block");

    const unopened = new ResponseAccumulator("text");
    unopened.addChunk(delta({ content: "Thinking Process:\n1. The user wants the capital of France." }));
    expect(unopened.earlyDecision()).toBeNull();
  });

  it("allows 'Okay, ...' content when reasoning already came in its own field", () => {
    const acc = new ResponseAccumulator("text");
    acc.addChunk(delta({ reasoning: "thinking" }));
    acc.addChunk(delta({ content: "Okay, here is the answer: Paris.\n" }));
    expect(acc.earlyDecision()).toBe("allow");
  });

  it("judges prefixes only when long enough", () => {
    expect(judgeContentPrefix("Paris")).toBe("undecided");
    expect(judgeContentPrefix("Paris.\n")).toBe("answer");
    expect(judgeContentPrefix("  <think>")).toBe("tagged");
    expect(judgeContentPrefix("Thinking Process:\n")).toBe("thinking-like");
    expect(analyseContent(xmlToolCall).hasToolCallText).toBe(true);
  });
});

describe("combining the text and tool probes", () => {
  const ok = { classification: "OK_REASONING" as const, verdict: "allow" as const, advice: [] };
  const toolsOk = { classification: "TOOL_CALLS_OK" as const, verdict: "allow" as const, advice: [] };

  it("worst wins, and the other probe's advice is kept", () => {
    const asText = { classification: "TOOL_CALL_AS_TEXT" as const, verdict: "block" as const, advice: ["fix tools"] };
    const got = combineClassifications(ok, asText, ctxFor());
    expect([got.classification, got.verdict, got.source]).toEqual(["TOOL_CALL_AS_TEXT", "block", "tools"]);
    const truncated = { classification: "REASONING_ONLY_TRUNCATED" as const, verdict: "block" as const, advice: ["raise budget"] };
    const both = combineClassifications(truncated, asText, ctxFor());
    expect(both.classification).toBe("REASONING_ONLY_TRUNCATED");
    expect(both.advice).toEqual(["raise budget", "fix tools"]);
  });

  it("E1b: a healthy answer for a model the server does not list warns MODEL_NAME_IGNORED", () => {
    const got = combineClassifications(ok, toolsOk, ctxFor("llamacpp", { servedModels: ["model.gguf"], modelServed: false }));
    expect([got.classification, got.verdict]).toEqual(["MODEL_NAME_IGNORED", "warn"]);
    expect(got.advice.join(" ")).toMatch(/model\.gguf/);
    // Unknown list (null) is not evidence of ignoring.
    expect(combineClassifications(ok, toolsOk, ctxFor("vllm", { modelServed: null })).classification).toBe("OK_REASONING");
  });
});

describe("never a reasoning parser when the text probe proved it works", () => {
  // Every tool-probe shape of the table, re-judged after a healthy text probe.
  const toolRows = rows.filter((r) => r.probe === "tools" && r.body !== undefined || (r.probe === "tools" && r.chunks !== undefined));
  it.each(toolRows.map((r) => [r.name, r] as const))("%s", (_name, row) => {
    for (const textProbe of ["OK_REASONING", "OK_PLAIN"] as const) {
      const got = classifyResponse(evidenceOf(row).evidence, ctxFor(row.kind === undefined ? "vllm" : row.kind, { textProbe }));
      expect(got.advice.join("\n")).not.toMatch(/Add `--reasoning-parser|--reasoning-format auto|separate reasoning_content/);
      expect(got.classification).not.toBe("CONTENT_MISROUTED_TO_REASONING");
    }
  });

  it("combined: text OK_REASONING + swallowed tool call blocks with tool-parser advice only", () => {
    const text = classifyResponse(evidenceOf({ name: "t", body: msg({ content: "Paris.", reasoning: "think" }), expect: "OK_REASONING" }).evidence, ctxFor());
    const ev = evidenceOf({ name: "v9b", probe: "tools", chunks: [delta({ reasoning: "call it" }), delta({}, "stop")], expect: "TOOL_CALLS_SWALLOWED" }).evidence;
    const tools = classifyResponse(ev, ctxFor("vllm", { textProbe: text.classification }));
    const got = combineClassifications(text, tools, ctxFor());
    expect([got.classification, got.verdict, got.source]).toEqual(["TOOL_CALLS_SWALLOWED", "block", "tools"]);
    expect(got.advice.join("\n")).toMatch(/--tool-call-parser qwen3_coder/);
    expect(got.advice.join("\n")).not.toMatch(/Add `--reasoning-parser/);
  });
});

describe("server version from system_fingerprint", () => {
  it.each([
    ["vllm-0.28.0-3f9a2c1d", "0.28.0"],
    ["vllm-0.21.1-tp2-ep-a3b21f94", "0.21.1"],
    ["vllm-0.22.0rc1-a3b21f94", "0.22.0rc1"],
    ["vllm-0.23.1.dev12+g1234abc-nohash", "0.23.1.dev12+g1234abc"],
    ["b6700-3df2244d", "b6700"],
    ["fp_ollama", null],
    ["my-custom-fingerprint", null],
    [null, null],
  ] as const)("%s → %s", (fingerprint, version) => {
    expect(serverVersionFromFingerprint(fingerprint)).toBe(version);
  });

  it("the accumulator keeps the fingerprint from a stream's last chunk or a body", () => {
    const stream = new ResponseAccumulator("text");
    stream.addChunk(delta({ content: "x" }));
    expect(stream.evidence.systemFingerprint).toBeNull();
    stream.addChunk({ ...usageChunk(3), system_fingerprint: "vllm-0.28.0-3f9a2c1d" });
    expect(stream.evidence.systemFingerprint).toBe("vllm-0.28.0-3f9a2c1d");
    const body = new ResponseAccumulator("text");
    body.addBody(msg({ content: "x" }, "stop", { system_fingerprint: null }));
    expect(body.evidence.systemFingerprint).toBeNull();
  });
});

describe("TOOL_CALLS_SWALLOWED: the non-streamed recheck", () => {
  const recheck = (body: unknown) => evidenceOf({ name: "recheck", probe: "tools", body, expect: "OK_PLAIN" }).evidence;

  it("XML as content names the Qwen3-Coder format", () => {
    const advice = swallowedRecheckAdvice(recheck(msg({ content: xmlToolCall, tool_calls: [] })), "vllm").join("\n");
    expect(advice).toMatch(/returned the tool call as text/);
    expect(advice).toMatch(/Qwen3-Coder format, which `qwen3_coder` reads and `hermes` does not/);
    expect(advice).toContain(JSON.stringify("<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</…"));
  });

  it("a parsed call without streaming: only the streaming path loses it", () => {
    const parsed = msg({ content: null, tool_calls: [{ id: "c", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] }, "tool_calls");
    expect(swallowedRecheckAdvice(recheck(parsed), "vllm").join("\n")).toMatch(/only its streaming path loses it/);
  });

  it("nothing telling (an error, or plain text): no extra advice", () => {
    expect(swallowedRecheckAdvice(recheck(msg({ content: "It is sunny." })), "vllm")).toEqual([]);
    const failed = new ResponseAccumulator("tools");
    failed.addErrorBody(500, "Internal Server Error");
    expect(swallowedRecheckAdvice(failed.evidence, "vllm")).toEqual([]);
  });
});

describe("GET /version body", () => {
  it.each([
    ['{"version":"0.16.0"}', "0.16.0"],
    ['{"version":"0.23.1.dev12+g1234abc"}', "0.23.1.dev12+g1234abc"],
    ['{"version":"<script>"}', null],
    ['{"v":"1"}', null],
    ["not json", null],
  ])("%s → %s", (body, version) => {
    expect(versionFromBody(body)).toBe(version);
  });
});
