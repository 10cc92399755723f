// Scenarios: what the simulated model/server does with a chat request. The V*/E* ids are
// the rows of shared/reference/response-shapes.md; the others drive real agents end to end.
// Pure decisions: the HTTP layer (server.ts) carries them out.
import type { Fixture } from "../fixtures/types.ts";
import type { Answer, ToolCallPlan } from "./answer.ts";
import { applyBudget, reasoningText } from "./answer.ts";
import type { ErrorKind } from "./errors.ts";
import type { FlavourProfile } from "./flavours.ts";
import type { ChatView, ToolView } from "./request.ts";
import { chooseSolveTool, finalMessage, shellCall, solveLead, toolResultArrived, workingDirectoryHint, writeCalls } from "./solve.ts";

export const SCENARIOS = [
  "solve",
  "reasoning-only",
  "tool-call-as-text",
  "http-500",
  "stream-cut",
  "slow-first-byte",
  "fallback-bait",
  "V1",
  "V2",
  "V2b",
  "V3",
  "V4",
  "V4b",
  "V5",
  "V7",
  "V8",
  "V8b",
  "V9",
  "V9b",
  "V10",
  "V11",
  "E1",
  "E1b",
  "E2",
  "E3",
  "E4",
  "E5",
  "E6",
] as const;

export type Scenario = (typeof SCENARIOS)[number];

/** Case-insensitive lookup: "v2b" → "V2b". */
export function parseScenario(id: string): Scenario | null {
  const wanted = id.trim().toLowerCase();
  return SCENARIOS.find((s) => s.toLowerCase() === wanted) ?? null;
}

export const DEFAULT_REASONING_TOKENS = 30;
/** V2b's "delayed content": a long think before the answer, so the budget decides. */
export const DELAYED_REASONING_TOKENS = 300;
/** Budget assumed when a request sets no `max_tokens` (reasoning that "fills the budget"). */
export const DEFAULT_BUDGET = 1024;
export const DEFAULT_SLOW_FIRST_BYTE_MS = 3000;

export const ANSWER_TEXT = "The answer is 4.";

export type Delivery = "complete" | "cut" | "error-mid-stream";

export type ChatPlan =
  | { kind: "error"; error: ErrorKind }
  | {
      kind: "answer";
      answer: Answer;
      delivery: Delivery;
      /** Extra wait before the first byte: the request queued behind others (E5 on vLLM). */
      queueMs?: number;
    };

/** E5 on vLLM: how long a request waits in the scheduler's queue before its first token. */
export const DEFAULT_QUEUE_MS = 2000;

/**
 * Why a scenario cannot run on a flavour (the shape would be one that server never sends), or
 * null. vLLM facts: docs/simulator.md ("Checked against vLLM's source").
 */
export function scenarioUnavailable(profile: FlavourProfile, scenario: Scenario): string | null {
  if (profile.kind === "vllm") {
    if (scenario === "V11") {
      return "V11 (finish_reason tool_calls with no tool call) cannot happen on vLLM: chat_completion/serving.py says tool_calls only when the tool parser returned calls (auto) or streamed one";
    }
    if (scenario === "V8b") return "V8b is llama.cpp's answer (tools without --jinja); vLLM refuses tools with V8's 400";
    if (scenario === "V3" && profile.flavour === "vllm-main") {
      return "V3 (truncated reasoning left in content) cannot happen on vLLM main: reasoning/qwen3_reasoning_parser.py returns a </think>-less output as reasoning while thinking is on";
    }
  } else if (scenario === "V9b") {
    return "V9b is vLLM's hermes tool parser holding back a call it cannot read; use a vllm-* flavour";
  }
  return null;
}

export interface SolveSource {
  /** The fixture this conversation is about (configured, or matched by instruction), if any. */
  fixtureFor(view: ChatView): Promise<Fixture | null>;
  script(fixture: Fixture): Promise<string>;
  files(fixture: Fixture): Promise<{ writes: { path: string; content: string }[]; deletes: string[] }>;
}

export interface PlanContext {
  profile: FlavourProfile;
  servedModels: readonly string[];
  /** SimOptions.reasoningTokens; undefined = the scenario's default. */
  reasoningTokens: number | undefined;
  solve: SolveSource;
}

const SERVER_ERROR_MESSAGE: Record<FlavourProfile["kind"], string> = {
  vllm: "EngineCore encountered an issue. See stack trace (above) for the root cause.",
  sglang: "Internal server error: the scheduler process exited unexpectedly.",
  llamacpp: "Internal Server Error",
  ollama: "model runner has unexpectedly stopped, this may be due to resource limitations or an internal error",
  lmstudio: "The model has crashed without additional information. (Exit code: null)",
};

export function serverErrorMessage(profile: FlavourProfile): string {
  return SERVER_ERROR_MESSAGE[profile.kind];
}

export const AUTO_TOOL_CHOICE_MESSAGE = '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set';
export const JINJA_MESSAGE = "tools param requires --jinja flag";

/** A plausible value for each required argument, read from the tool's schema (V10). */
export function sampleArguments(tool: ToolView): Record<string, unknown> {
  const names = tool.required.length > 0 ? tool.required : Object.keys(tool.properties).slice(0, 1);
  const args: Record<string, unknown> = {};
  for (const name of names) {
    const type = tool.properties[name]?.type;
    if (type === "number" || type === "integer") args[name] = 1;
    else if (type === "boolean") args[name] = true;
    else if (type === "array") args[name] = [];
    else if (type === "object") args[name] = {};
    else if (/command|cmd/i.test(name)) args[name] = "ls";
    else if (/path|file/i.test(name)) args[name] = "README.md";
    else if (/city|location|place/i.test(name)) args[name] = "Paris";
    else args[name] = "example";
  }
  return args;
}

/** The tool call a probe-style request gets: first offered tool, or the classic get_weather. */
function sampleCall(view: ChatView): ToolCallPlan {
  const tool = view.tools[0];
  if (tool === undefined) return { name: "get_weather", arguments: JSON.stringify({ city: "Paris" }) };
  return { name: tool.name, arguments: JSON.stringify(sampleArguments(tool)) };
}

/** Qwen3-Coder's XML tool-call text, as it lands in `content` when the server's parser does not match (V9). */
export function toolCallAsText(call: ToolCallPlan): string {
  const args = JSON.parse(call.arguments) as Record<string, unknown>;
  const params = Object.entries(args)
    .map(([k, v]) => `<parameter=${k}>\n${typeof v === "string" ? v : JSON.stringify(v)}\n</parameter>\n`)
    .join("");
  return `<tool_call>\n<function=${call.name}>\n${params}</function>\n</tool_call>`;
}

function thinkingOff(view: ChatView): boolean {
  return view.enableThinking === false;
}

function budgetOf(view: ChatView): number {
  return view.maxTokens !== null && view.maxTokens > 0 ? view.maxTokens : DEFAULT_BUDGET;
}

function answered(answer: Answer, view: ChatView, delivery: Delivery = "complete"): ChatPlan {
  return { kind: "answer", answer: applyBudget(answer, view.maxTokens), delivery };
}

/** V1: a healthy reasoning model. */
function healthy(view: ChatView, ctx: PlanContext, reasoningTokens = ctx.reasoningTokens ?? DEFAULT_REASONING_TOKENS): Answer {
  const reasoning = thinkingOff(view) ? "" : reasoningText(reasoningTokens, "The user asks a short question; 2+2 is 4.");
  return { reasoning, content: ANSWER_TEXT, toolCalls: [], finishReason: "stop" };
}

/** Reasoning that fills the whole budget, no content (V2, reasoning-only). */
function reasoningOnly(view: ChatView): Answer {
  return { reasoning: reasoningText(budgetOf(view)), content: "", toolCalls: [], finishReason: "length" };
}

/** The `solve` trajectory for this turn. Falls back to a content-only answer when there is nothing to solve with. */
export async function solveAnswer(view: ChatView, ctx: PlanContext): Promise<Answer> {
  const reasoningTokens = thinkingOff(view) ? 0 : (ctx.reasoningTokens ?? DEFAULT_REASONING_TOKENS);
  const fixture = await ctx.solve.fixtureFor(view);
  if (fixture === null) {
    return {
      reasoning: reasoningText(reasoningTokens, "I do not recognise this task as one of the known fixtures."),
      content: "I could not match this request to a known task, so I made no changes.",
      toolCalls: [],
      finishReason: "stop",
    };
  }
  if (toolResultArrived(view.messages)) {
    return {
      reasoning: reasoningText(reasoningTokens, "The tool ran; the fix is in place."),
      content: finalMessage(fixture),
      toolCalls: [],
      finishReason: "stop",
    };
  }
  const tool = chooseSolveTool(view.tools);
  if (tool === null) {
    return {
      reasoning: reasoningText(reasoningTokens, "No shell or write tool is available to me."),
      content: "I cannot change files without a shell or write tool, so I made no changes.",
      toolCalls: [],
      finishReason: "stop",
    };
  }
  let toolCalls: ToolCallPlan[];
  if (tool.kind === "shell") {
    toolCalls = [shellCall(tool, await ctx.solve.script(fixture))];
  } else {
    const { writes } = await ctx.solve.files(fixture);
    toolCalls = writeCalls(tool, writes, workingDirectoryHint(view.messages));
  }
  return { reasoning: reasoningText(reasoningTokens, solveLead(fixture, tool)), content: "", toolCalls, finishReason: "tool_calls" };
}

/** Whether the requested model is answered (E1/E1b, and each flavour's default). */
export function modelRefusal(scenario: Scenario, view: ChatView, ctx: PlanContext): ErrorKind | null {
  const model = view.model ?? ctx.servedModels[0] ?? "";
  if (scenario === "E1") return { kind: "model-not-found", model };
  if (scenario === "E1b" || ctx.profile.answersUnknownModels) return null;
  if (view.model === null || ctx.servedModels.includes(view.model)) return null;
  return { kind: "model-not-found", model };
}

type Planner = (view: ChatView, ctx: PlanContext) => ChatPlan | Promise<ChatPlan>;

const serverError = (ctx: PlanContext): ChatPlan => ({ kind: "error", error: { kind: "server-error", message: serverErrorMessage(ctx.profile) } });
const healthyAnswer: Planner = (view, ctx) => answered(healthy(view, ctx), view);
const reasoningOnlyAnswer: Planner = (view) => ({ kind: "answer", answer: reasoningOnly(view), delivery: "complete" });
const toolReasoning = (view: ChatView, ctx: PlanContext) =>
  thinkingOff(view) ? "" : reasoningText(ctx.reasoningTokens ?? DEFAULT_REASONING_TOKENS, "I should call a tool for this.");
const thinkingAboutTheQuestion = (ctx: PlanContext) => reasoningText(ctx.reasoningTokens ?? DEFAULT_REASONING_TOKENS, "The user asks a short question; 2+2 is 4.");

/** The coding scenarios: a scripted trajectory that solves the fixture, delivered whole or cut. */
const SOLVING: Record<"solve" | "fallback-bait" | "slow-first-byte" | "E1b" | "stream-cut", Planner> = {
  solve: async (view, ctx) => answered(await solveAnswer(view, ctx), view),
  "fallback-bait": async (view, ctx) => answered(await solveAnswer(view, ctx), view),
  "slow-first-byte": async (view, ctx) => answered(await solveAnswer(view, ctx), view),
  E1b: async (view, ctx) => answered(await solveAnswer(view, ctx), view),
  "stream-cut": async (view, ctx) => answered(await solveAnswer(view, ctx), view, "cut"),
};

/** Where the reasoning and the answer end up (V1–V7): the reasoning-parser family of shapes. */
const REASONING_SHAPES: Record<"reasoning-only" | "V1" | "V2" | "V2b" | "V3" | "V4" | "V4b" | "V5" | "V7", Planner> = {
  "reasoning-only": reasoningOnlyAnswer,
  V1: healthyAnswer,
  V2: (view, ctx) => (thinkingOff(view) ? answered(healthy(view, ctx, 0), view) : reasoningOnlyAnswer(view, ctx)),
  V2b: (view, ctx) => answered(healthy(view, ctx, ctx.reasoningTokens ?? DELAYED_REASONING_TOKENS), view),
  // vLLM's qwen3 parser (before ≈0.17) without `</think>` in the output: all of it is "content".
  V3: (view) => ({ kind: "answer", answer: { reasoning: "", content: reasoningText(budgetOf(view)), toolCalls: [], finishReason: "length" }, delivery: "complete" }),
  V4: (view, ctx) => answered({ reasoning: "", content: `<think>\n${thinkingAboutTheQuestion(ctx)}\n</think>\n\n${ANSWER_TEXT}`, toolCalls: [], finishReason: "stop" }, view),
  // `<think>` opened, never closed: the budget ran out inside it.
  V4b: (view) => ({
    kind: "answer",
    answer: { reasoning: "", content: `<think>\n${reasoningText(Math.max(1, budgetOf(view) - 1))}`, toolCalls: [], finishReason: "length" },
    delivery: "complete",
  }),
  V5: (view, ctx) => answered({ reasoning: "", content: `Thinking Process:\n1. ${thinkingAboutTheQuestion(ctx)}\n</think>\n\n${ANSWER_TEXT}`, toolCalls: [], finishReason: "stop" }, view),
  V7: (view) => answered({ reasoning: `I am Qwen3, a large language model created by Alibaba Cloud. ${ANSWER_TEXT}`, content: "", toolCalls: [], finishReason: "stop" }, view),
};

/** What becomes of tool calls (V8–V11): the tool-parser family of shapes. */
const TOOL_SHAPES: Record<"tool-call-as-text" | "V8" | "V8b" | "V9" | "V9b" | "V10" | "V11", Planner> = {
  "tool-call-as-text": async (view, ctx) => {
    const solved = await solveAnswer(view, ctx);
    const call = solved.toolCalls[0] ?? sampleCall(view);
    return answered({ reasoning: solved.reasoning, content: toolCallAsText(call), toolCalls: [], finishReason: "stop", emptyToolCallList: true }, view);
  },
  V8: (view, ctx) => (view.tools.length > 0 ? { kind: "error", error: { kind: "bad-request", message: AUTO_TOOL_CHOICE_MESSAGE } } : healthyAnswer(view, ctx)),
  V8b: (view, ctx) => (view.tools.length > 0 ? { kind: "error", error: { kind: "server-error", message: JINJA_MESSAGE } } : healthyAnswer(view, ctx)),
  V9: (view, ctx) =>
    answered({ reasoning: reasoningText(ctx.reasoningTokens ?? DEFAULT_REASONING_TOKENS, "I should call a tool for this."), content: toolCallAsText(sampleCall(view)), toolCalls: [], finishReason: "stop", emptyToolCallList: true }, view),
  // vLLM --tool-call-parser hermes, model writes Qwen3-Coder XML: tool_parsers/hermes_tool_parser.py.
  // Non-stream: json.loads fails, the XML comes back as content. Stream: only text before
  // <tool_call> is sent, the rest is held back, no tool call is ever emitted, finish stop.
  V9b: (view, ctx) => {
    if (view.tools.length === 0) return healthyAnswer(view, ctx);
    return answered({ reasoning: toolReasoning(view, ctx), content: toolCallAsText(sampleCall(view)), toolCalls: [], finishReason: "stop", emptyToolCallList: true, contentHeldBackInStream: true }, view);
  },
  V10: (view, ctx) => answered({ reasoning: toolReasoning(view, ctx), content: "", toolCalls: [sampleCall(view)], finishReason: "tool_calls" }, view),
  V11: (view) =>
    answered({ reasoning: "", content: `I will call the ${view.tools[0]?.name ?? "get_weather"} tool now.`, toolCalls: [], finishReason: "tool_calls", emptyToolCallList: true }, view),
};

/** Server faults (E-series, HTTP 500, an error mid-stream). */
const FAULTS: Record<"http-500" | "E1" | "E2" | "E3" | "E4" | "E5" | "E6", Planner> = {
  "http-500": (_view, ctx) => serverError(ctx),
  E6: (view, ctx) => (view.stream ? answered(healthy(view, ctx), view, "error-mid-stream") : serverError(ctx)),
  E2: (view, ctx) => {
    const maxTokens = view.maxTokens ?? 4096;
    return { kind: "error", error: { kind: "context-overflow", promptTokens: Math.max(view.promptTokens, ctx.profile.maxModelLen - maxTokens + 1 + view.promptTokens), maxTokens } };
  },
  // vLLM has no overload answer: requests wait in the scheduler's queue (RFC #18826 is still open).
  E5: (view, ctx) =>
    ctx.profile.kind === "vllm" ? { kind: "answer", answer: applyBudget(healthy(view, ctx), view.maxTokens), delivery: "complete", queueMs: DEFAULT_QUEUE_MS } : { kind: "error", error: { kind: "overloaded" } },
  // E1 is refused before planning; E3 (auth) and E4 (loading) are handled by the HTTP layer,
  // which answers normally once the key is right / the model has loaded.
  E1: healthyAnswer,
  E3: healthyAnswer,
  E4: healthyAnswer,
};

const PLANNERS: Record<Scenario, Planner> = { ...SOLVING, ...REASONING_SHAPES, ...TOOL_SHAPES, ...FAULTS };

export async function planChat(scenario: Scenario, view: ChatView, ctx: PlanContext): Promise<ChatPlan> {
  const refusal = modelRefusal(scenario, view, ctx);
  if (refusal !== null) return { kind: "error", error: refusal };
  return PLANNERS[scenario](view, ctx);
}
