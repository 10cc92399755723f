// What the simulated model "generates" for one request, before any server shapes it:
// reasoning text, content text, tool calls and why it stopped. Token accounting and the
// `max_tokens` budget live here so every flavour truncates the same way.

export interface ToolCallPlan {
  name: string;
  /** JSON text, exactly as it goes into `function.arguments`. */
  arguments: string;
}

export type FinishReason = "stop" | "length" | "tool_calls";

export interface Answer {
  reasoning: string;
  content: string;
  toolCalls: ToolCallPlan[];
  finishReason: FinishReason;
  /** V11: `finish_reason: tool_calls` with a literal empty list, whatever the flavour usually sends. */
  emptyToolCallList?: boolean;
  /**
   * V9b: the content (a tool call the server's parser cannot read) is generated and counted but a
   * stream never carries it: vLLM's hermes parser holds back everything from `<tool_call>` on.
   * Non-stream answers carry it as content.
   */
  contentHeldBackInStream?: boolean;
}

/**
 * Splits text into "tokens" ≈ word pieces: a run of up to 6 non-space characters with the
 * whitespace before it. Joining the pieces gives the text back exactly.
 */
export function tokenize(text: string): string[] {
  return text.match(/\s*[^\s]{1,6}|\s+/g) ?? [];
}

/** Tool-call arguments are counted at ~4 characters a token (they are never cut, see applyBudget). */
export function toolCallTokens(call: ToolCallPlan): number {
  return 1 + Math.ceil(call.arguments.length / 4);
}

export function completionTokens(answer: Answer): { total: number; reasoning: number } {
  const reasoning = tokenize(answer.reasoning).length;
  const content = tokenize(answer.content).length;
  const tools = answer.toolCalls.reduce((sum, call) => sum + toolCallTokens(call), 0);
  return { total: reasoning + content + tools, reasoning };
}

/**
 * Cuts reasoning then content to `maxTokens`, as a server's generation limit does. A cut
 * answer ends `length` and loses its tool calls. Tool-call arguments themselves are not
 * counted against the budget: a fix script can be long, and truncating it would only test
 * the simulator, not the agent.
 */
export function applyBudget(answer: Answer, maxTokens: number | null): Answer {
  if (maxTokens === null || maxTokens <= 0) return answer;
  const reasoning = tokenize(answer.reasoning);
  const content = tokenize(answer.content);
  if (reasoning.length + content.length <= maxTokens) return answer;
  if (reasoning.length >= maxTokens) {
    return { ...answer, reasoning: reasoning.slice(0, maxTokens).join(""), content: "", toolCalls: [], finishReason: "length" };
  }
  const left = maxTokens - reasoning.length;
  return { ...answer, content: content.slice(0, left).join(""), toolCalls: [], finishReason: "length" };
}

const FILLER = [
  "Okay, let me think about what is being asked here.",
  "I should work through it step by step before I answer.",
  "First, restate the question in my own words and check the details.",
  "Then consider what a correct and complete answer needs to contain.",
  "Let me double-check each step so that nothing is missed.",
  "Hmm, wait, I should also make sure the format of the answer is right.",
];

/** Deterministic reasoning text of exactly `tokens` tokens, optionally starting with `lead`. */
export function reasoningText(tokens: number, lead = ""): string {
  if (tokens <= 0) return "";
  let text = lead;
  let i = 0;
  while (tokenize(text).length < tokens) {
    text += (text === "" ? "" : " ") + FILLER[i % FILLER.length];
    i += 1;
  }
  return tokenize(text).slice(0, tokens).join("");
}
