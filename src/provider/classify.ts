// Pure response-shape classification: structured evidence in, class + verdict + advice out.
// No I/O here, so every scenario of shared/reference/response-shapes.md is testable as a
// table row. This file judges answers and gives the verdict for the endpoint; beside it are
// the classes and types (probe-classes.ts), the failed requests (classify-error.ts), the
// content's shape (content-shape.ts) and the server-specific advice (server-advice.ts), all
// re-exported here, so importers name this module only.
import { classifyError } from "./classify-error.ts";
import { analyseContent } from "./content-shape.ts";
import { result, SEVERITY, VERDICT_OF, type Classification, type ClassifyContext, type ProbeClass, type ResponseEvidence } from "./probe-classes.ts";
import { reasoningParserAdvice, toolParserAdvice } from "./server-advice.ts";

export { classifyModelsFailure } from "./classify-error.ts";
export { analyseContent, judgeContentPrefix, type ContentShape } from "./content-shape.ts";
export {
  emptyEvidence,
  PROBE_CLASSES,
  VERDICT_OF,
  worstVerdict,
  type Classification,
  type ClassifyContext,
  type ErrorInfo,
  type ProbeClass,
  type ResponseEvidence,
  type ServerKind,
  type Verdict,
} from "./probe-classes.ts";
export { swallowedRecheckAdvice } from "./server-advice.ts";

// ---------------------------------------------------------------------------------------
// Successful answers

/** Text-probe classes that prove answers reach `content` (and reasoning, if any, its own field). */
const CONTENT_ROUTING_WORKS: readonly ProbeClass[] = ["OK_REASONING", "OK_PLAIN"];

/**
 * The tool probe's answer vanished between the model and the client: nothing in `content`, no
 * tool call, generation ended normally (`stop`) rather than by the budget or an error, while the
 * text probe proved that answers do reach `content`. With the reasoning parser proven, what is
 * left is the tool parser holding the model's call back (vLLM hermes + Qwen3-Coder XML, streaming).
 */
export function toolCallSwallowed(ev: ResponseEvidence, ctx: ClassifyContext, hasContent: boolean, truncated: boolean): boolean {
  if (ev.probe !== "tools" || ev.toolCalls > 0 || hasContent || truncated || ev.timedOut) return false;
  if (ev.finishReason !== "stop") return false;
  return ctx.textProbe !== undefined && ctx.textProbe !== null && CONTENT_ROUTING_WORKS.includes(ctx.textProbe);
}

function classifyAnswer(ev: ResponseEvidence, ctx: ClassifyContext): Classification {
  const shape = analyseContent(ev.content);
  const hasContent = ev.content.trim().length > 0;
  const hasReasoning = ev.reasoningChars > 0 || (ev.reasoningTokens ?? 0) > 0;
  const finish = ev.finishReason;
  // A stream cut without finish_reason whose usage shows the whole budget spent was truncated too.
  const truncated = finish === "length" || (finish === null && ev.completionTokens !== null && ev.completionTokens >= ctx.budget);

  // The text probe proved the reasoning parser works: never advise one because of the tool probe.
  const parserProven = ev.probe === "tools" && ctx.textProbe !== undefined && ctx.textProbe !== null && CONTENT_ROUTING_WORKS.includes(ctx.textProbe);
  const parserAdvice = (unopened = false): string[] =>
    parserProven
      ? ["The text probe's answer arrived with the reasoning parser working, so this is the model's output for the tool request, not a reasoning-parser fault: leave `--reasoning-parser` as it is."]
      : reasoningParserAdvice(ctx.serverKind, unopened);

  if (ev.probe === "text" && ev.toolCalls > 0) {
    // No tools were offered, yet a structured call came back: odd for the model, but the
    // server's parsing works, which is what the text probe checks.
    return result(hasReasoning ? "OK_REASONING" : "OK_PLAIN", ["The model answered the plain question with a tool call although no tools were offered."]);
  }
  if (ev.probe === "text" && !hasContent && finish === "tool_calls") {
    return result("TOOL_FINISH_MISMATCH", ["finish_reason was `tool_calls` but no tool call and no content came back.", ...toolParserAdvice(ctx.serverKind, "mismatch")]);
  }
  if (ev.probe === "tools") {
    if (ev.toolCalls > 0) {
      const advice: string[] = [];
      if (ev.toolArgumentsValid === false) {
        advice.push("A tool call's arguments were not a JSON object: the tool parser may not match the model.", ...toolParserAdvice(ctx.serverKind, "mismatch"));
      }
      return result("TOOL_CALLS_OK", advice);
    }
    if (shape.hasToolCallText) {
      return result("TOOL_CALL_AS_TEXT", [
        "The model wrote its tool call as text in `content` and `tool_calls` stayed empty: the server's tool parser does not read this model's format.",
        ...toolParserAdvice(ctx.serverKind, "as-text"),
      ]);
    }
    if (finish === "tool_calls") {
      return result("TOOL_FINISH_MISMATCH", [
        "finish_reason was `tool_calls` but no tool call came back.",
        ...toolParserAdvice(ctx.serverKind, "mismatch"),
      ]);
    }
    if (toolCallSwallowed(ev, ctx, hasContent, truncated)) {
      return result("TOOL_CALLS_SWALLOWED", [
        `Offered a tool, the model ${hasReasoning ? `reasoned (${ev.reasoningChars} chars) and then ` : ""}produced neither content nor a tool call, and the server ended with finish_reason '${finish}', although the text probe's answer arrived normally: the server's tool parser swallowed the model's tool call (vLLM's hermes parser does this, streaming, with Qwen3-Coder XML calls).`,
        ...toolParserAdvice(ctx.serverKind, "swallowed"),
      ]);
    }
  }

  if (shape.opensThink) {
    if (shape.hasThinkClose) {
      return result("REASONING_IN_CONTENT_TAGGED", [
        "Reasoning arrived inside `content` wrapped in <think>…</think>: no reasoning parser is active, so an agent reads the reasoning as its answer.",
        ...parserAdvice(),
      ]);
    }
    return result("REASONING_IN_CONTENT_UNTERMINATED", [
      `Reasoning arrived inside \`content\` after <think> and never closed${truncated ? ` before max_tokens=${ctx.budget} ran out` : ""}.`,
      ...parserAdvice(),
      ...(truncated ? [`Raise the budget (--budget ${Math.max(ctx.budget * 4, 4096)}).`] : []),
    ]);
  }
  if (shape.hasThinkClose && !shape.hasThinkOpen) {
    return result("REASONING_IN_CONTENT_UNOPENED", [
      "Content holds reasoning closed by a lone </think>: the chat template opens <think> in the prompt (Qwen3 Thinking-2507, Qwen3.5/3.6) and no reasoning parser splits it off.",
      ...parserAdvice(true),
    ]);
  }
  if (hasContent && truncated && !hasReasoning && shape.looksLikeThinking) {
    return result("REASONING_IN_CONTENT_UNTERMINATED", [
      `Content reads like reasoning with no tags and was cut off by max_tokens=${ctx.budget}: the reasoning parser left unterminated reasoning in content (vLLM's qwen3 parser before ≈0.17 does this when truncated).`,
      `Raise the budget (--budget ${Math.max(ctx.budget * 4, 4096)}) or upgrade the server${ctx.serverKind === "vllm" || ctx.serverKind === null ? " (vLLM ≥0.17)" : ""}.`,
      ...parserAdvice(),
    ]);
  }
  if (hasContent) {
    const advice: string[] = [];
    if (ev.probe === "tools") {
      advice.push("The model answered without calling the offered tool, so tool calling is unverified (not a server fault by itself).");
    }
    if (truncated) advice.push(`The answer was cut off by max_tokens=${ctx.budget}; agents need a larger budget.`);
    return result(hasReasoning ? "OK_REASONING" : "OK_PLAIN", advice);
  }

  // No content at all.
  if (finish === "abort" || finish === "error") {
    return result("ERR_STREAM", [
      `The server ended generation with finish_reason '${finish}' before any content (SGLang reports aborted requests this way).`,
      "Check the server log (out of memory, request cancelled, scheduler abort) and retry.",
    ]);
  }
  if (ev.timedOut) {
    return result("ERR_STREAM", [
      hasReasoning
        ? `The server was still reasoning (${ev.reasoningChars} chars, no content) when the probe timed out.`
        : "The server sent no content before the probe timed out.",
      "Raise the probe timeout, or check the server's speed (tokens/s) and load.",
    ]);
  }
  if (finish === null && !truncated) {
    return result("ERR_STREAM", [
      `The response ended without a finish_reason${hasReasoning ? ` after ${ev.reasoningChars} chars of reasoning` : ""} and no content: the server closed the stream early.`,
      "Check the server log and retry.",
    ]);
  }
  if (hasReasoning && truncated) {
    return result("REASONING_ONLY_TRUNCATED", [
      `The model spent the whole budget (max_tokens=${ctx.budget}) reasoning and produced no answer content.`,
      `Raise the budget (--budget ${Math.max(ctx.budget * 4, 1024)}), or disable thinking with chat_template_kwargs.enable_thinking=false${ctx.serverKind === "llamacpp" ? " (llama.cpp: `--reasoning-budget 0`)" : ctx.serverKind === "ollama" ? " (Ollama: `think: false`)" : ""}.`,
    ]);
  }
  if (hasReasoning) {
    return result("CONTENT_MISROUTED_TO_REASONING", [
      `Generation stopped normally (finish_reason '${finish}') but the whole answer is in the reasoning field and content is empty.`,
      ...parserAdvice(),
      "Pass chat_template_kwargs.enable_thinking explicitly (true or false) so the template and the reasoning parser agree.",
    ]);
  }
  if (truncated) {
    // Tokens were spent, nothing visible came back: reasoning the server did not expose.
    return result("REASONING_ONLY_TRUNCATED", [
      `The budget (max_tokens=${ctx.budget}) ran out with no visible content or reasoning: the model most likely reasoned in a form the server hides.`,
      `Raise the budget (--budget ${Math.max(ctx.budget * 4, 1024)}), or disable thinking with chat_template_kwargs.enable_thinking=false.`,
    ]);
  }
  return result("ERR_HTTP", [
    `The server answered HTTP ${ev.status ?? "?"} with no content, reasoning or tool call (finish_reason '${finish ?? "none"}').`,
    "Check the server log and the model's chat template.",
  ]);
}

/** Classifies one probe request (the text probe or the tool probe). */
export function classifyResponse(ev: ResponseEvidence, ctx: ClassifyContext): Classification {
  return classifyError(ev, ctx) ?? classifyAnswer(ev, ctx);
}

export interface OverallClassification extends Classification {
  /** Which probe the overall class came from. */
  source: "text" | "tools" | "models";
}

/**
 * One verdict for the endpoint: the worse of the text and tool probes (the text probe
 * wins ties, it is the more basic fault). A healthy answer from a model the server does
 * not list means the server ignores model names: warn.
 */
export function combineClassifications(
  text: Classification,
  tools: Classification | null,
  ctx: ClassifyContext,
): OverallClassification {
  let overall: OverallClassification = { ...text, source: "text" };
  if (tools && SEVERITY[tools.verdict] > SEVERITY[text.verdict]) overall = { ...tools, source: "tools" };
  const advice = [...overall.advice];
  const other = overall.source === "text" ? tools : text;
  if (other) {
    for (const line of other.advice) if (!advice.includes(line)) advice.push(line);
  }
  if (overall.verdict === "allow" && ctx.modelServed === false) {
    return {
      classification: "MODEL_NAME_IGNORED",
      verdict: VERDICT_OF.MODEL_NAME_IGNORED,
      advice: [
        `The server answered for model '${ctx.requestedModel}' but serves only ${ctx.servedModels.join(", ") || "(none listed)"}: it ignores the model name, so a wrong model would go unnoticed.`,
        `Pass the served id with --model${ctx.servedModels[0] ? ` (${ctx.servedModels[0]})` : ""}, or serve the model under the expected name.`,
        ...advice,
      ],
      source: "models",
    };
  }
  return { ...overall, advice };
}
