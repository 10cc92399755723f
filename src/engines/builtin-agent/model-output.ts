// Pure checks on what a model produced, shared by every engine: a reply that carries a
// tool call as plain text (the server's tool-call parser is off or does not match the
// model), and a reply with reasoning but nothing usable. Both look like a "normal" end
// to an agent, which then exits 0 having done nothing; the harness names them instead.

/** Markers of a tool call written into `content` instead of `tool_calls`. */
const TOOL_CALL_TEXT_PATTERNS: RegExp[] = [
  /<tool_call>/i, // Qwen / Hermes templates
  /<function=[\w.-]+>/i, // Qwen3-Coder XML
  /<\|tool_call(?:s_section)?_begin\|>/i, // DeepSeek / Kimi
  /\[TOOL_CALLS\]/, // Mistral
  /<\|python_tag\|>/, // Llama 3
  /\{\s*"name"\s*:\s*"[\w.-]+"\s*,\s*"(?:arguments|parameters)"\s*:/, // bare JSON call
];

/** The first tool-call-as-text marker found in `text` (with a little context), or null. */
export function toolCallTextIn(text: string | null | undefined): string | null {
  if (!text) return null;
  for (const re of TOOL_CALL_TEXT_PATTERNS) {
    const m = re.exec(text);
    if (m) return text.slice(m.index, m.index + 120);
  }
  return null;
}

export const TOOL_CALL_AS_TEXT_ADVICE =
  "the model wrote a tool call as text instead of a structured tool call: the server's tool-call parser is off or " +
  "does not match the model (vLLM: --enable-auto-tool-choice --tool-call-parser qwen3_coder (or hermes); llama.cpp: --jinja)";

export const REASONING_ONLY_ADVICE =
  "the model returned reasoning but no content and no tool call: check the server's reasoning parser " +
  "(vLLM: --reasoning-parser qwen3) and that max_tokens leaves room for an answer after thinking";

/** Describes why a final reply with no tool call is a model error, or null when it is a real answer. */
export function unusableFinalReply(reply: {
  content: string | null;
  reasoning: string | null;
  finishReason: string | null;
}): string | null {
  const content = reply.content?.trim() ?? "";
  const asText = toolCallTextIn(content);
  if (asText) return `${TOOL_CALL_AS_TEXT_ADVICE}; content began ${JSON.stringify(asText)}`;
  if (content) return null;
  if (reply.finishReason === "length") {
    return `finish_reason "length" with no content and no tool call: the reply was cut at max_tokens${reply.reasoning ? " while still reasoning" : ""}; ${REASONING_ONLY_ADVICE}`;
  }
  if (reply.reasoning?.trim()) return REASONING_ONLY_ADVICE;
  return `the model returned an empty reply (finish_reason ${JSON.stringify(reply.finishReason)}, no content, no tool call)`;
}

/** A failed run's summary is the model's (unusable) reply: keep the report readable. */
export function capSummary(text: string, max = 2000): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars; full text in trajectory.jsonl)` : text;
}
