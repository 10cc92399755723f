// Turns an Answer into the exact JSON (non-stream) or SSE event list (stream) a given
// server sends. Pure: no sockets, no clocks beyond the values passed in.
import { randomBytes } from "node:crypto";
import type { Answer } from "./answer.ts";
import { completionTokens, tokenize } from "./answer.ts";
import type { FlavourProfile } from "./flavours.ts";
import { errorReply } from "./errors.ts";

export interface RenderMeta {
  id: string;
  created: number;
  /** The `model` field echoed back (the requested name, as the real servers do). */
  model: string;
  promptTokens: number;
  includeUsage: boolean;
  /** One id per tool call of the answer. */
  toolCallIds: string[];
}

/** One SSE event. `cost` is how many generated tokens it stands for (used for pacing). */
export type StreamEvent =
  | { kind: "data"; payload: Record<string, unknown>; cost: number }
  | { kind: "comment"; text: string }
  | { kind: "done" };

function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

function alnum(length: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const bytes = randomBytes(length);
  let out = "";
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

/** Completion id in the server's own style. */
export function completionId(profile: FlavourProfile): string {
  switch (profile.kind) {
    case "vllm":
      return `chatcmpl-${hex(16)}`;
    case "llamacpp":
      return `chatcmpl-${alnum(32)}`;
    case "ollama":
      return `chatcmpl-${100 + (randomBytes(2).readUInt16BE() % 900)}`;
    case "sglang":
      return hex(16);
    case "lmstudio":
      return `chatcmpl-${alnum(26).toLowerCase()}`;
  }
}

/** Tool-call id in the server's own style. */
export function toolCallId(profile: FlavourProfile): string {
  switch (profile.kind) {
    case "vllm":
      return `chatcmpl-tool-${hex(16)}`;
    case "llamacpp":
      return alnum(32);
    case "ollama":
      return `call_${alnum(8).toLowerCase()}`;
    case "sglang":
      return `call_${hex(12)}`;
    case "lmstudio":
      return String(100000000 + (randomBytes(4).readUInt32BE() % 900000000));
  }
}

/**
 * `usage` in the flavour's shape. `stream`: the usage-only last chunk, which vLLM serialises
 * with `exclude_none` (serving.py), so its `prompt_tokens_details: null` disappears there.
 */
export function usageOf(profile: FlavourProfile, answer: Answer, promptTokens: number, stream = false): Record<string, unknown> {
  const counted = completionTokens(answer);
  const usage: Record<string, unknown> = {
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + counted.total,
    completion_tokens: counted.total,
  };
  // vLLM's UsageInfo declares prompt_tokens_details (None unless --enable-prompt-tokens-details).
  if (profile.kind === "vllm" && !stream) usage.prompt_tokens_details = null;
  // llama.cpp always reports the prompt-cache hit (recorded, stream and non-stream).
  if (profile.kind === "llamacpp") usage.prompt_tokens_details = { cached_tokens: 0 };
  if (profile.usageReasoning === "completion_tokens_details") {
    usage.completion_tokens_details = { reasoning_tokens: counted.reasoning };
  } else if (profile.usageReasoning === "top-level") {
    usage.prompt_tokens_details = null;
    usage.reasoning_tokens = counted.reasoning;
  }
  return usage;
}

function llamacppTimings(answer: Answer, promptTokens: number): Record<string, number> {
  const predicted = completionTokens(answer).total;
  return {
    cache_n: 0,
    prompt_n: promptTokens,
    prompt_ms: promptTokens * 0.5,
    prompt_per_token_ms: 0.5,
    prompt_per_second: 2000,
    predicted_n: predicted,
    predicted_ms: predicted * 25,
    predicted_per_token_ms: 25,
    predicted_per_second: 40,
  };
}

// ---------------------------------------------------------------------------------------
// Non-stream

/** Whether a message carries an explicit empty `tool_calls` list. */
function emptyToolCallList(profile: FlavourProfile, answer: Answer): boolean {
  if (profile.omitsEmptyToolCalls) return false;
  return answer.emptyToolCallList === true || profile.noToolCalls === "empty-list";
}

export function renderCompletion(profile: FlavourProfile, answer: Answer, meta: RenderMeta): Record<string, unknown> {
  const vllm = profile.vllm;
  const message: Record<string, unknown> = { role: "assistant" };
  message.content = answer.content !== "" ? answer.content : profile.emptyContent;
  for (const field of vllm?.messageNulls ?? []) message[field] = null;
  for (const field of profile.reasoningFields) {
    if (answer.reasoning !== "") message[field] = answer.reasoning;
    else if (profile.reasoningNullWhenEmpty) message[field] = null;
  }
  if (answer.toolCalls.length > 0) {
    message.tool_calls = answer.toolCalls.map((call, index) => ({
      id: meta.toolCallIds[index],
      ...(profile.kind === "ollama" ? { index } : {}),
      type: "function",
      function: { name: call.name, arguments: call.arguments },
    }));
  } else if (emptyToolCallList(profile, answer)) {
    message.tool_calls = [];
  } else if (profile.noToolCalls === "null") {
    message.tool_calls = null;
  }

  const choice: Record<string, unknown> = { index: 0, message };
  if (profile.kind === "vllm" || profile.kind === "sglang" || profile.kind === "lmstudio") choice.logprobs = null;
  choice.finish_reason = answer.finishReason;
  if (profile.kind === "vllm") choice.stop_reason = null;
  for (const field of vllm?.choiceNulls ?? []) choice[field] = null;
  if (profile.kind === "sglang") choice.matched_stop = answer.finishReason === "length" ? null : 151645;

  const body: Record<string, unknown> = {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    choices: [choice],
    usage: usageOf(profile, answer, meta.promptTokens),
  };
  for (const field of vllm?.bodyNulls ?? []) body[field] = null;
  if (profile.systemFingerprint !== null) body.system_fingerprint = profile.systemFingerprint;
  if (profile.kind === "vllm") body.prompt_logprobs = null;
  if (profile.kind === "llamacpp") body.timings = llamacppTimings(answer, meta.promptTokens);
  return body;
}

// ---------------------------------------------------------------------------------------
// Stream

/** SGLang serialises every delta field, null when unset. */
function sglangDelta(fields: Record<string, unknown>): Record<string, unknown> {
  return { role: null, content: null, reasoning_content: null, tool_calls: null, ...fields };
}

type Delta = { delta: Record<string, unknown>; cost: number };
type ChunkOf = (delta: Record<string, unknown>, finishReason?: string | null, opts?: { first?: boolean; last?: boolean }) => Record<string, unknown>;

/** One `chat.completion.chunk` as the flavour's server writes it. */
function chunkRenderer(profile: FlavourProfile, meta: RenderMeta): ChunkOf {
  const vllm = profile.vllm;
  const fingerprintEverywhere = profile.systemFingerprint !== null && vllm?.fingerprintOnFinalChunkOnly !== true;
  return (delta, finishReason = null, opts = {}) => {
    // vLLM 0.11–0.15: the validator sets reasoning_content on every DeltaMessage, so exclude_unset keeps it (null).
    const shaped = vllm?.mirrorsReasoningContent === true && !("reasoning_content" in delta) ? { ...delta, reasoning_content: null } : delta;
    const choice: Record<string, unknown> = { index: 0, delta: shaped };
    if (profile.kind === "vllm" || profile.kind === "sglang" || profile.kind === "lmstudio") choice.logprobs = null;
    choice.finish_reason = finishReason;
    if (finishReason !== null && profile.kind === "vllm") choice.stop_reason = null;
    // vLLM ≈0.10.2 on: token_ids is passed (None unless return_token_ids) on every chunk but the role chunk.
    if (vllm?.streamTokenIds === true && opts.first !== true) choice.token_ids = null;
    if (profile.kind === "sglang") choice.matched_stop = finishReason === "stop" ? 151645 : null;
    const body: Record<string, unknown> = { id: meta.id, object: "chat.completion.chunk", created: meta.created, model: meta.model };
    if (fingerprintEverywhere) body.system_fingerprint = profile.systemFingerprint;
    body.choices = [choice];
    if (vllm?.streamTokenIds === true && opts.first === true) body.prompt_token_ids = null;
    // vLLM main: the fingerprint rides the terminal chunk, or the usage chunk when there is one.
    if (opts.last === true && vllm?.fingerprintOnFinalChunkOnly === true && !meta.includeUsage && profile.systemFingerprint !== null) {
      body.system_fingerprint = profile.systemFingerprint;
    }
    return body;
  };
}

/** A tool call's deltas: whole (Ollama), or the name first, then the arguments in pieces. */
function toolCallDeltas(profile: FlavourProfile, call: Answer["toolCalls"][number], index: number, id: string | undefined): Delta[] {
  if (profile.wholeToolCallDelta) {
    return [{ delta: { content: "", tool_calls: [{ id, index, type: "function", function: { name: call.name, arguments: call.arguments } }] }, cost: Math.max(1, tokenize(call.arguments).length) }];
  }
  const wrap = (d: Record<string, unknown>) => (profile.kind === "sglang" ? sglangDelta(d) : d);
  // Name first (vLLM omits `arguments` there; llama.cpp/SGLang/LM Studio send ""), then pieces.
  const head = profile.kind === "vllm" ? { id, type: "function", index, function: { name: call.name } } : { index, id, type: "function", function: { name: call.name, arguments: "" } };
  return [{ delta: wrap({ tool_calls: [head] }), cost: 1 }, ...tokenize(call.arguments).map((piece) => ({ delta: wrap({ tool_calls: [{ index, function: { arguments: piece } }] }), cost: 1 }))];
}

/** Token deltas, each one generated token (or a whole tool call for Ollama). */
function tokenDeltas(profile: FlavourProfile, answer: Answer, meta: RenderMeta, streamedContent: string): Delta[] {
  const deltas: Delta[] = [];
  for (const piece of tokenize(answer.reasoning)) {
    const delta: Record<string, unknown> = {};
    if (profile.kind === "ollama") delta.content = "";
    for (const field of profile.reasoningFields) delta[field] = piece;
    deltas.push({ delta: profile.kind === "sglang" ? sglangDelta(delta) : delta, cost: 1 });
  }
  for (const piece of tokenize(streamedContent)) {
    deltas.push({ delta: profile.kind === "sglang" ? sglangDelta({ content: piece }) : { content: piece }, cost: 1 });
  }
  answer.toolCalls.forEach((call, index) => deltas.push(...toolCallDeltas(profile, call, index, meta.toolCallIds[index])));
  return deltas;
}

/** The opening chunk: the role. Ollama folds it into the first token's delta and never repeats it. */
function openingEvent(profile: FlavourProfile, chunk: ChunkOf, deltas: Delta[]): StreamEvent {
  if (profile.roleOnlyOnFirstChunk) {
    const first = deltas.shift() ?? { delta: { content: "" }, cost: 0 };
    return { kind: "data", payload: chunk({ role: "assistant", ...first.delta }), cost: first.cost };
  }
  const opening =
    profile.kind === "llamacpp" ? { role: "assistant", content: null } : profile.kind === "sglang" ? sglangDelta({ role: "assistant", content: "" }) : { role: "assistant", content: "" };
  return { kind: "data", payload: chunk(opening, null, { first: true }), cost: 0 };
}

/** The token chunks and the finish: on a chunk of its own, or riding the last token's. */
function bodyEvents(profile: FlavourProfile, answer: Answer, chunk: ChunkOf, deltas: Delta[], heldBackCost: number): StreamEvent[] {
  const ownFinishChunk = profile.finishOnOwnChunk === true || (profile.finishOnOwnChunk === "unless-length" && (answer.finishReason !== "length" || heldBackCost > 0));
  if (ownFinishChunk) {
    // vLLM: the last output step is the stop token, decoded to "" (or a held-back token): DeltaMessage() → {}.
    return [...deltas.map(({ delta, cost }) => ({ kind: "data" as const, payload: chunk(delta), cost })), { kind: "data", payload: chunk({}, answer.finishReason, { last: true }), cost: heldBackCost }];
  }
  // vLLM cut by max_tokens, LM Studio: the finish reason rides on the last generated token's chunk.
  const last = deltas.pop() ?? { delta: { content: "" }, cost: 0 };
  return [...deltas.map(({ delta, cost }) => ({ kind: "data" as const, payload: chunk(delta), cost })), { kind: "data", payload: chunk(last.delta, answer.finishReason, { last: true }), cost: last.cost }];
}

function usageEvent(profile: FlavourProfile, answer: Answer, meta: RenderMeta): StreamEvent {
  const usageChunk: Record<string, unknown> = { id: meta.id, object: "chat.completion.chunk", created: meta.created, model: meta.model, choices: [], usage: usageOf(profile, answer, meta.promptTokens, true) };
  if (profile.systemFingerprint !== null) usageChunk.system_fingerprint = profile.systemFingerprint;
  return { kind: "data", payload: usageChunk, cost: 0 };
}

/**
 * llama.cpp: SSE comment lines between events (the real server sends ":\n\n" after
 * --sse-ping-interval seconds of silence; sent here more often so clients prove they skip them).
 */
function withComments(events: StreamEvent[]): StreamEvent[] {
  const out: StreamEvent[] = [];
  events.forEach((event, i) => {
    out.push(event);
    if (event.kind === "data" && (i === 0 || i % 16 === 0)) out.push({ kind: "comment", text: "" });
  });
  return out;
}

export function renderStream(profile: FlavourProfile, answer: Answer, meta: RenderMeta): StreamEvent[] {
  const chunk = chunkRenderer(profile, meta);
  // vLLM's hermes parser streams nothing from `<tool_call>` on when the call inside is not its JSON (V9b).
  const streamedContent = answer.contentHeldBackInStream === true ? "" : answer.content;
  const deltas = tokenDeltas(profile, answer, meta, streamedContent);
  const events: StreamEvent[] = [openingEvent(profile, chunk, deltas)];
  // Held-back tokens still cost generation time: they are paid on the finish chunk.
  const heldBackCost = streamedContent === answer.content ? 0 : tokenize(answer.content).length;
  events.push(...bodyEvents(profile, answer, chunk, deltas, heldBackCost));
  if (meta.includeUsage) events.push(usageEvent(profile, answer, meta));
  // llama.cpp: `timings` ride the last chunk, the usage chunk or else the finish chunk (recorded).
  if (profile.kind === "llamacpp") {
    const last = events.at(-1);
    if (last?.kind === "data") last.payload.timings = llamacppTimings(answer, meta.promptTokens);
  }
  events.push({ kind: "done" });
  return profile.sseComments ? withComments(events) : events;
}

/** The `data:` payload a server sends when generation fails after the stream began (E6). */
export function streamErrorPayload(profile: FlavourProfile, message: string): Record<string, unknown> {
  const body = JSON.parse(errorReply(profile, { kind: "server-error", message }).body) as Record<string, unknown>;
  return "error" in body ? body : { error: body };
}

export function formatEvent(event: StreamEvent): string {
  switch (event.kind) {
    case "data":
      return `data: ${JSON.stringify(event.payload)}\n\n`;
    case "comment":
      // llama.cpp's keep-alive is an empty comment, ":\n\n" (server-context.cpp, sse ping).
      return event.text === "" ? ":\n\n" : `: ${event.text}\n\n`;
    case "done":
      return "data: [DONE]\n\n";
  }
}
