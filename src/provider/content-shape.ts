// What the text of an answer looks like: `<think>` tags, a tool call written as text, an
// opening that reads like reasoning. Apart from the classifier because the stream reader
// (response-evidence.ts) asks it too, on a prefix, to stop reading as soon as it can.

/**
 * Openings of reasoning written as plain text: Qwen3.5/3.6 "Thinking Process:", and the
 * usual first words of Qwen3 / DeepSeek-R1 reasoning. Only ever used together with a
 * structural signal (a lone `</think>`, or truncation with no reasoning field), because a
 * real answer can start with "Okay," too.
 */
const THINKING_OPENING =
  /^(thinking process|thought process|reasoning|analysis|okay[,. ]|ok[,. ]|alright[,. ]|hmm|let me |let's |first,? (i|let)|the user |so,? the user|we need to|i need to|i should |i'm asked|i am asked)/i;

export interface ContentShape {
  /** Starts with `<think>` (after whitespace). */
  opensThink: boolean;
  hasThinkOpen: boolean;
  hasThinkClose: boolean;
  hasToolCallText: boolean;
  /** Begins like reasoning written as text (see THINKING_OPENING). */
  looksLikeThinking: boolean;
}

export function analyseContent(content: string): ContentShape {
  const head = content.trimStart();
  return {
    opensThink: /^<think>/i.test(head),
    hasThinkOpen: /<think>/i.test(content),
    hasThinkClose: /<\/think>/i.test(content),
    hasToolCallText: /<tool_call>|<function=|<\|tool_call|\[TOOL_CALLS\]|"name"\s*:\s*"get_weather"/i.test(content),
    looksLikeThinking: THINKING_OPENING.test(head),
  };
}

/**
 * What a streamed content prefix already shows: an ordinary answer (the probe may allow and
 * stop reading), `<think>` tags, text that opens like reasoning, or not enough yet.
 * A prefix is judged once it has ~64 characters or a line break after some text; until
 * then "<thi" could become "<think>" and "Think" could become "Thinking Process:".
 */
export function judgeContentPrefix(content: string): "answer" | "tagged" | "thinking-like" | "undecided" {
  const head = content.trimStart();
  if (head.length === 0) return "undecided";
  if (/^<think>/i.test(head) || /<\/think>/i.test(head)) return "tagged";
  if ("<think>".startsWith(head.toLowerCase())) return "undecided";
  const complete = head.length >= 64 || /\n/.test(head);
  if (!complete) return "undecided";
  return THINKING_OPENING.test(head) ? "thinking-like" : "answer";
}
