// Pure response-shape classification: structured evidence in, class + verdict + advice out.
// No I/O here, so every scenario of shared/reference/response-shapes.md is testable as a
// table row. Errors are matched on HTTP status + keywords, never on exact server wording.

export const PROBE_CLASSES = [
  "OK_REASONING",
  "OK_PLAIN",
  "REASONING_ONLY_TRUNCATED",
  "REASONING_IN_CONTENT_UNTERMINATED",
  "REASONING_IN_CONTENT_TAGGED",
  "REASONING_IN_CONTENT_UNOPENED",
  "CONTENT_MISROUTED_TO_REASONING",
  "TOOLS_REJECTED_CONFIG",
  "TOOL_CALL_AS_TEXT",
  "TOOL_CALLS_OK",
  "TOOL_FINISH_MISMATCH",
  "TOOL_CALLS_SWALLOWED",
  "ERR_MODEL_NOT_FOUND",
  "MODEL_NAME_IGNORED",
  "ERR_CONTEXT_OVERFLOW",
  "ERR_AUTH",
  "ERR_LOADING",
  "ERR_OVERLOADED",
  "ERR_STREAM",
  "ERR_UNREACHABLE",
  "ERR_HTTP",
] as const;
export type ProbeClass = (typeof PROBE_CLASSES)[number];
export type Verdict = "allow" | "warn" | "block";

/** Which classes a coding agent can run on. Everything not allowed or warned blocks. */
export const VERDICT_OF: Record<ProbeClass, Verdict> = {
  OK_REASONING: "allow",
  OK_PLAIN: "allow",
  TOOL_CALLS_OK: "allow",
  MODEL_NAME_IGNORED: "warn",
  REASONING_ONLY_TRUNCATED: "block",
  REASONING_IN_CONTENT_UNTERMINATED: "block",
  REASONING_IN_CONTENT_TAGGED: "block",
  REASONING_IN_CONTENT_UNOPENED: "block",
  CONTENT_MISROUTED_TO_REASONING: "block",
  TOOLS_REJECTED_CONFIG: "block",
  TOOL_CALL_AS_TEXT: "block",
  TOOL_FINISH_MISMATCH: "block",
  TOOL_CALLS_SWALLOWED: "block",
  ERR_MODEL_NOT_FOUND: "block",
  ERR_CONTEXT_OVERFLOW: "block",
  ERR_AUTH: "block",
  ERR_LOADING: "block",
  ERR_OVERLOADED: "block",
  ERR_STREAM: "block",
  ERR_UNREACHABLE: "block",
  ERR_HTTP: "block",
};

const SEVERITY: Record<Verdict, number> = { allow: 0, warn: 1, block: 2 };

/** Worse of two verdicts. */
export function worstVerdict(a: Verdict, b: Verdict): Verdict {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}

export type ServerKind = "vllm" | "llamacpp" | "ollama" | "sglang" | "lmstudio" | "unknown";

/** An error as a server reported it, normalised from any of the four body shapes. */
export interface ErrorInfo {
  message: string;
  type: string | null;
  code: string | null;
}

/** What one chat request showed. Gathered by the I/O layer (stream or body), judged here. */
export interface ResponseEvidence {
  probe: "text" | "tools";
  /** Connection-level failure code (ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ...): no HTTP answer. */
  connectionError: string | null;
  /** The request hit the probe's timeout after the server had started answering. */
  timedOut: boolean;
  status: number | null;
  /** Error from a non-2xx body, or from an error event inside a 200 stream. */
  error: ErrorInfo | null;
  /** The error arrived inside a stream that had begun with HTTP 200. */
  streamError: boolean;
  reasoningFields: string[];
  reasoningChars: number;
  /** From usage (vLLM completion_tokens_details, SGLang top-level), when reported. */
  reasoningTokens: number | null;
  completionTokens: number | null;
  /** Assistant content seen (null and "" both arrive as ""). */
  content: string;
  finishReason: string | null;
  toolCalls: number;
  toolCallNames: string[];
  /** Every tool call's arguments parsed as a JSON object; null when there were no calls. */
  toolArgumentsValid: boolean | null;
  /** `system_fingerprint` the server sent (vLLM main: `vllm-<version>-…`), or null. */
  systemFingerprint: string | null;
}

export interface ClassifyContext {
  budget: number;
  serverKind: ServerKind | null;
  requestedModel: string;
  /** Ids from /models (empty when the list was unavailable). */
  servedModels: string[];
  /** Requested model is in the served list; null when the list was unavailable. */
  modelServed: boolean | null;
  /**
   * When classifying the tool probe: the text probe's class. `OK_REASONING` / `OK_PLAIN` prove
   * that answers reach `content` (and reasoning its own field), so an empty tool answer is the
   * tool parser's doing, never the reasoning parser's. Absent or null: not known.
   */
  textProbe?: ProbeClass | null;
}

export interface Classification {
  classification: ProbeClass;
  verdict: Verdict;
  advice: string[];
}

export function emptyEvidence(probe: "text" | "tools"): ResponseEvidence {
  return {
    probe,
    connectionError: null,
    timedOut: false,
    status: null,
    error: null,
    streamError: false,
    reasoningFields: [],
    reasoningChars: 0,
    reasoningTokens: null,
    completionTokens: null,
    content: "",
    finishReason: null,
    toolCalls: 0,
    toolCallNames: [],
    toolArgumentsValid: null,
    systemFingerprint: null,
  };
}

function result(classification: ProbeClass, advice: string[]): Classification {
  return { classification, verdict: VERDICT_OF[classification], advice };
}

// ---------------------------------------------------------------------------------------
// Content analysis

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

// ---------------------------------------------------------------------------------------
// Errors

function errorHaystack(ev: ResponseEvidence): string {
  const e = ev.error;
  if (!e) return "";
  return `${e.message} ${e.type ?? ""} ${e.code ?? ""}`.toLowerCase();
}

const has = (text: string, ...words: (string | RegExp)[]) =>
  words.some((w) => (typeof w === "string" ? text.includes(w) : w.test(text)));

function describeError(ev: ResponseEvidence): string {
  const what = ev.status !== null ? `HTTP ${ev.status}` : "error";
  const msg = ev.error?.message ? `: ${truncate(ev.error.message, 200)}` : "";
  return `${what}${msg}`;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

function classifyError(ev: ResponseEvidence, ctx: ClassifyContext): Classification | null {
  if (ev.connectionError) return unreachable(ev.connectionError);
  let status = ev.status;
  const text = errorHaystack(ev);
  if (ev.streamError) {
    return result("ERR_STREAM", [
      `The server accepted the request (HTTP 200) and then sent an error inside the stream (${truncate(ev.error?.message ?? "no message", 200)}).`,
      "Check the server log around this time; an agent would see a broken stream mid-answer.",
    ]);
  }
  if (status === null) return null;
  // An error body that came with 2xx (not a stream): judge it like a 400 so the keywords still apply.
  if (status >= 200 && status < 300) {
    if (!ev.error) return null;
    status = 400;
  }

  const mentionsModel = has(text, "model");
  if (status === 401 || status === 403 || has(text, "unauthorized", "invalid api key", "authentication", "api key", "forbidden")) {
    return result("ERR_AUTH", [
      `The server refused the request (${describeError(ev)}): it wants an API key.`,
      "Set the provider's key variable (CTO_HARNESS_CASE_LOCAL_API_KEY for qwen-local) to the key the server was started with (vLLM/llama.cpp `--api-key`).",
    ]);
  }
  if (
    (status === 404 || status === 400) &&
    (has(text, "model_not_found", "modelnotfound") ||
      (mentionsModel && has(text, "not found", "does not exist", "not_found", "notfound", "no such", "unknown model", "not loaded")))
  ) {
    return result("ERR_MODEL_NOT_FOUND", [
      `The server does not serve model '${ctx.requestedModel}' (${describeError(ev)}).`,
      ctx.servedModels.length > 0
        ? `Use a served model id with --model: ${ctx.servedModels.join(", ")}.`
        : "List the served ids with GET /v1/models and pass one with --model.",
      ...(ctx.serverKind === "vllm" ? ["Or start vLLM with `--served-model-name " + ctx.requestedModel + "`."] : []),
    ]);
  }
  if (has(text, "context") && (status === 400 || status === 413 || status === 422 || status === 500) &&
      has(text, "length", "size", "exceed", "window", "too long", "too many", "maximum")) {
    return result("ERR_CONTEXT_OVERFLOW", [
      `The request does not fit the server's context window (${describeError(ev)}).`,
      `The probe prompt is tiny, so max_tokens=${ctx.budget} alone overflows it: lower --budget, or raise the context (vLLM --max-model-len, llama.cpp -c, Ollama num_ctx).`,
    ]);
  }
  if (
    ev.probe === "tools" &&
    (status === 400 || status === 500 || status === 422 || status === 501) &&
    has(text, "tool", "jinja", "function call")
  ) {
    return result("TOOLS_REJECTED_CONFIG", [`The server rejected a request with tools (${describeError(ev)}).`, ...toolParserAdvice(ctx.serverKind, "rejected")]);
  }
  if (status === 503 && has(text, "loading", "not ready", "starting", "warming")) {
    return result("ERR_LOADING", [
      `The server is still loading the model (${describeError(ev)}).`,
      "Wait until it reports ready (vLLM: 'Application startup complete'; llama.cpp: /health returns {\"status\":\"ok\"}) and re-run.",
    ]);
  }
  if (status === 429 || has(text, "busy", "overload", "pending requests", "too many requests", "capacity", "queue")) {
    return result("ERR_OVERLOADED", [
      `The server is overloaded (${describeError(ev)}).`,
      "Lower the harness concurrency (loop --concurrency), or raise the server's queue (Ollama OLLAMA_MAX_QUEUE / OLLAMA_NUM_PARALLEL), then retry.",
    ]);
  }
  if (status === 503) {
    return result("ERR_LOADING", [
      `The server answered 503 Service Unavailable (${describeError(ev)}); it is most likely still loading.`,
      "Wait and re-run the probe.",
    ]);
  }
  const advice = [`Unexpected answer from the server (${describeError(ev)}).`];
  if (status === 404) advice.push("Check that the base URL ends in /v1 (the probe calls {base}/models and {base}/chat/completions).");
  if (status === 405) advice.push("The path does not accept POST: check that the base URL points at the OpenAI-compatible API (…/v1).");
  return result("ERR_HTTP", advice);
}

function unreachable(code: string): Classification {
  const advice = [`No server answered (${code}).`];
  if (code === "ECONNREFUSED") {
    advice.push(
      "The server may still be loading: vLLM refuses connections until the model is loaded ('Application startup complete'). Wait and re-run.",
      "Otherwise check that the server is running and that the base URL's host and port are right.",
    );
  } else if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    advice.push("The host name in the base URL does not resolve: check the URL (and VPN / Tailscale).");
  } else if (code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT") {
    advice.push("Nothing answered before the timeout: check the host, port, firewall, or raise --timeout if the server is slow to accept.");
  } else if (code === "EINVALIDURL") {
    advice.push("The base URL is not a valid http(s) URL: fix the provider's URL variable.");
  } else {
    advice.push("Check that the server is running and the base URL is right.");
  }
  return result("ERR_UNREACHABLE", advice);
}

// ---------------------------------------------------------------------------------------
// Advice that depends on the server kind

function reasoningParserAdvice(kind: ServerKind | null, unopened = false): string[] {
  switch (kind) {
    case "vllm":
      return unopened
        ? ["Add `--reasoning-parser qwen3` to `vllm serve` (on vLLM before ≈0.10, `--reasoning-parser deepseek_r1`, which accepts a missing <think>)."]
        : ["Add `--reasoning-parser qwen3` to `vllm serve` (`deepseek_r1` for DeepSeek-R1 models; before vLLM 0.10 also `--enable-reasoning`)."];
    case "sglang":
      return ["Add `--reasoning-parser qwen3` to the SGLang server."];
    case "llamacpp":
      return ["Start llama-server with `--reasoning-format auto` (or `deepseek`): `none` and `deepseek-legacy` leave <think> in content."];
    case "lmstudio":
      return ["Turn on 'separate reasoning_content' (Developer settings) in LM Studio."];
    case "ollama":
      return ["Update Ollama (≥0.11 puts reasoning in the `reasoning` field)."];
    default:
      return [
        "Enable the server's reasoning parser: vLLM/SGLang `--reasoning-parser qwen3`, llama.cpp `--reasoning-format auto`, LM Studio 'separate reasoning_content'.",
      ];
  }
}

function toolParserAdvice(kind: ServerKind | null, problem: "rejected" | "as-text" | "mismatch" | "swallowed"): string[] {
  const vllmFlags =
    problem === "rejected"
      ? "Add `--enable-auto-tool-choice --tool-call-parser qwen3_coder` to `vllm serve` (`hermes` for Qwen3/Qwen2.5 JSON tool calls)."
      : "Use the tool parser that matches the model: `--tool-call-parser qwen3_coder` (or `qwen3_xml`) for Qwen3-Coder / Qwen3.5 / Qwen3.6 XML tool calls, `hermes` for Qwen3 / Qwen2.5 JSON.";
  if (problem === "swallowed") {
    switch (kind) {
      case "vllm":
        return [
          "Start vLLM with the tool parser that matches the model: `--tool-call-parser qwen3_coder` for Qwen3-Coder / Qwen3.5 / Qwen3.6 (they write XML `<tool_call><function=…>` calls; `hermes` only reads JSON inside <tool_call> and, streaming, holds the XML back without ever emitting it).",
          "The reasoning parser is fine (the text probe's answer arrived in `content`): do not change `--reasoning-parser`.",
        ];
      case "sglang":
        return ["Start SGLang with the tool parser that matches the model: `--tool-call-parser qwen3_coder` for Qwen3-Coder / Qwen3.5 / Qwen3.6 XML tool calls."];
      default:
        return [
          "Configure the server's tool-call parser for this model's format (vLLM/SGLang `--tool-call-parser qwen3_coder` for Qwen3-Coder / Qwen3.5 / Qwen3.6 XML calls).",
          "The reasoning parser is fine (the text probe's answer arrived in `content`).",
        ];
    }
  }
  switch (kind) {
    case "vllm":
      return [vllmFlags];
    case "sglang":
      return ["Start SGLang with `--tool-call-parser qwen3_coder` (or `qwen25` for JSON tool calls)."];
    case "llamacpp":
      return ["Start llama-server with `--jinja` (a recent build; the model's own chat template must support tools)."];
    case "ollama":
      return ["Use a model whose Ollama template supports tools (`ollama show <model>` lists 'tools' under Capabilities), and a current Ollama."];
    case "lmstudio":
      return ["Load a model LM Studio marks as tool-capable and update LM Studio."];
    default:
      return [vllmFlags, "llama.cpp: start llama-server with `--jinja`."];
  }
}

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

/**
 * What a non-streamed repeat of a swallowed tool request showed (TOOL_CALLS_SWALLOWED): the
 * call as text proves the model's format; a parsed call means only the streaming path loses it.
 */
export function swallowedRecheckAdvice(recheck: ResponseEvidence, kind: ServerKind | null): string[] {
  if (recheck.toolCalls > 0) {
    return [
      "Asked again without streaming, the server did parse the tool call: only its streaming path loses it. Agents stream, so this still breaks them; use the model's own parser (`--tool-call-parser qwen3_coder` for Qwen3-Coder / Qwen3.5 / Qwen3.6) or a vLLM with a fixed streaming parser.",
    ];
  }
  const shape = analyseContent(recheck.content);
  if (shape.hasToolCallText) {
    const xml = /<function=/i.test(recheck.content);
    return [
      `Asked again without streaming, the server returned the tool call as text in \`content\` (${JSON.stringify(truncate(recheck.content.trimStart(), 60))})${
        xml ? ": `<function=…>` XML is the Qwen3-Coder format, which `qwen3_coder` reads and `hermes` does not" : ""
      }.`,
      ...(kind === "vllm" && xml ? [] : toolParserAdvice(kind, "as-text")),
    ];
  }
  return [];
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

/** Class for a /models request that failed before any chat was attempted. */
export function classifyModelsFailure(ev: ResponseEvidence, ctx: ClassifyContext): Classification | null {
  if (ev.connectionError) return unreachable(ev.connectionError);
  if (ev.status === 401 || ev.status === 403) return classifyError(ev, ctx);
  return null;
}
