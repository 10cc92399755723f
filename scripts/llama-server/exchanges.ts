// The requests recorded against the real llama-server (scripts/llama-server/record.ts) and
// replayed against the simulator's `llamacpp` flavour by test/sim-llamacpp-conformance.test.ts.
// Each names the server set-up it needs and the simulator scenario that stands for it.

/** Which real server answers: the set-ups record.ts starts. */
export type ServerSetup =
  | "plain" // Qwen template, --jinja, reasoning-format auto, no key
  | "thinking" // the template opens <think>: a random model answers reasoning only
  | "keyed" // plain + an API key
  | "small-ctx" // plain with -c 256 -np 1: context overflow
  | "no-jinja" // plain with --no-jinja
  | "scripted" // the scripted model: it always writes a get_weather tool call
  | "loading"; // the first answers of a starting server (/health polled until it is ready)

export interface SimStandIn {
  scenario: string;
  reasoningTokens?: number;
  /** The simulator requires this key (E3). */
  apiKey?: string;
}

export interface Exchange {
  name: string;
  setup: ServerSetup;
  method: "GET" | "POST";
  path: string;
  /** A JSON body, or a raw string sent as is (bad JSON). */
  body?: unknown;
  rawBody?: string;
  /** "good" sends the set-up's key, "wrong" a wrong one, absent none. */
  auth?: "good" | "wrong";
  sim: SimStandIn;
}

export const RECORDED_MODEL = "tiny-qwen2";
export const RECORDING_KEY = "recording-key-not-a-secret";

const ask = [{ role: "user", content: "What is 2+2? Answer briefly." }];
const weatherTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};
/**
 * Short, and sampled with a fixed seed: greedy decoding of the random model writes only
 * newlines, which llama.cpp's tool-aware stream parser holds back; two tokens are also fewer
 * than the simulator's answer, so both end `length`.
 */
const sampling = { temperature: 1, seed: 7, max_tokens: 2 };
const content = { scenario: "V1", reasoningTokens: 0 };

export const EXCHANGES: readonly Exchange[] = [
  { name: "health", setup: "plain", method: "GET", path: "/health", sim: content },
  { name: "models", setup: "plain", method: "GET", path: "/v1/models", sim: content },
  { name: "models-unprefixed", setup: "plain", method: "GET", path: "/models", sim: content },
  { name: "props", setup: "plain", method: "GET", path: "/props", sim: content },
  { name: "chat", setup: "plain", method: "POST", path: "/v1/chat/completions", body: { model: RECORDED_MODEL, messages: ask, ...sampling }, sim: content },
  { name: "chat-stream", setup: "plain", method: "POST", path: "/v1/chat/completions", body: { model: RECORDED_MODEL, messages: ask, ...sampling, stream: true }, sim: content },
  {
    name: "chat-stream-usage",
    setup: "plain",
    method: "POST",
    path: "/v1/chat/completions",
    body: { model: RECORDED_MODEL, messages: ask, ...sampling, stream: true, stream_options: { include_usage: true } },
    sim: content,
  },
  { name: "chat-unknown-model", setup: "plain", method: "POST", path: "/v1/chat/completions", body: { model: "no-such-model", messages: ask, ...sampling }, sim: { scenario: "E1b", reasoningTokens: 0 } },
  {
    name: "tools-auto",
    setup: "plain",
    method: "POST",
    path: "/v1/chat/completions",
    body: { model: RECORDED_MODEL, messages: ask, ...sampling, tools: [weatherTool], tool_choice: "auto" },
    sim: content,
  },
  {
    name: "tools-auto-stream",
    setup: "plain",
    method: "POST",
    path: "/v1/chat/completions",
    body: { model: RECORDED_MODEL, messages: ask, ...sampling, tools: [weatherTool], tool_choice: "auto", stream: true, stream_options: { include_usage: true } },
    sim: content,
  },
  {
    name: "tools-required",
    setup: "plain",
    method: "POST",
    path: "/v1/chat/completions",
    body: { model: RECORDED_MODEL, messages: ask, ...sampling, tools: [weatherTool], tool_choice: "required" },
    // This build does not force a call for "required" (no grammar): the random model writes text.
    sim: content,
  },
  {
    name: "tools-required-stream",
    setup: "plain",
    method: "POST",
    path: "/v1/chat/completions",
    body: { model: RECORDED_MODEL, messages: ask, ...sampling, tools: [weatherTool], tool_choice: "required", stream: true, stream_options: { include_usage: true } },
    sim: content,
  },
  { name: "thinking", setup: "thinking", method: "POST", path: "/v1/chat/completions", body: { model: RECORDED_MODEL, messages: ask, temperature: 0, max_tokens: 16 }, sim: { scenario: "V2" } },
  {
    name: "thinking-stream",
    setup: "thinking",
    method: "POST",
    path: "/v1/chat/completions",
    body: { model: RECORDED_MODEL, messages: ask, temperature: 0, max_tokens: 16, stream: true, stream_options: { include_usage: true } },
    sim: { scenario: "V2" },
  },
  { name: "bad-json", setup: "plain", method: "POST", path: "/v1/chat/completions", rawBody: "{not json", sim: content },
  { name: "unknown-route", setup: "plain", method: "GET", path: "/v1/no-such-route", sim: content },
  { name: "auth-missing", setup: "keyed", method: "POST", path: "/v1/chat/completions", body: { model: RECORDED_MODEL, messages: ask, ...sampling }, sim: { scenario: "E3", apiKey: RECORDING_KEY } },
  { name: "auth-wrong", setup: "keyed", method: "POST", path: "/v1/chat/completions", body: { model: RECORDED_MODEL, messages: ask, ...sampling }, auth: "wrong", sim: { scenario: "E3", apiKey: RECORDING_KEY } },
  { name: "auth-models", setup: "keyed", method: "GET", path: "/v1/models", sim: { scenario: "E3", apiKey: RECORDING_KEY } },
  { name: "auth-health", setup: "keyed", method: "GET", path: "/health", sim: { scenario: "E3", apiKey: RECORDING_KEY } },
  { name: "auth-good", setup: "keyed", method: "POST", path: "/v1/chat/completions", body: { model: RECORDED_MODEL, messages: ask, ...sampling }, auth: "good", sim: { ...content, apiKey: RECORDING_KEY } },
  {
    name: "context-overflow",
    setup: "small-ctx",
    method: "POST",
    path: "/v1/chat/completions",
    body: { model: RECORDED_MODEL, messages: [{ role: "user", content: "word ".repeat(400) }], ...sampling },
    sim: { scenario: "E2" },
  },
  {
    name: "context-overflow-stream",
    setup: "small-ctx",
    method: "POST",
    path: "/v1/chat/completions",
    body: { model: RECORDED_MODEL, messages: [{ role: "user", content: "word ".repeat(400) }], ...sampling, stream: true },
    sim: { scenario: "E2" },
  },
  {
    name: "no-jinja-tools",
    setup: "no-jinja",
    method: "POST",
    path: "/v1/chat/completions",
    body: { model: RECORDED_MODEL, messages: ask, ...sampling, tools: [weatherTool] },
    sim: { scenario: "V8b" },
  },
  { name: "loading-health", setup: "loading", method: "GET", path: "/health", sim: { scenario: "E4" } },
  {
    name: "tool-call",
    setup: "scripted",
    method: "POST",
    path: "/v1/chat/completions",
    body: { model: RECORDED_MODEL, messages: ask, max_tokens: 64, tools: [weatherTool] },
    sim: { scenario: "V10", reasoningTokens: 0 },
  },
  {
    name: "tool-call-stream",
    setup: "scripted",
    method: "POST",
    path: "/v1/chat/completions",
    body: { model: RECORDED_MODEL, messages: ask, max_tokens: 64, tools: [weatherTool], stream: true, stream_options: { include_usage: true } },
    sim: { scenario: "V10", reasoningTokens: 0 },
  },
];
