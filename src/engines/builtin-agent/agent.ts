// cto-harness's own minimal coding agent: a tool-calling loop on the official OpenAI SDK,
// in the spirit of mini-swe-agent. Run as `node agent.ts` in the workspace.
//
// Input (environment): OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL (the run's proxy),
// CTO_HARNESS_TASK_FILE (task.json with `instruction`), optional CTO_HARNESS_MAX_STEPS
// (default 30), CTO_HARNESS_MAX_TOKENS (default 16384), CTO_HARNESS_COMMAND_TIMEOUT_SEC
// (default 120), CTO_HARNESS_REQUEST_TIMEOUT_SEC (default 600).
// Output (stdout): one trajectory event per line ({seq, ts, engine, kind, ...}, see
// src/trajectory/schema.ts), then `CASE_RESULT {"protocol":"case-result/1",...}` last.
// Exit: 0 = completed or gave up (step limit), 1 = model/API error, 2 = bad configuration.
import { readFileSync } from "node:fs";
import OpenAI from "openai";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { TrajectoryInput } from "../../trajectory/schema.ts";
import { describeApiError } from "./api-error.ts";
import { unusableFinalReply } from "./model-output.ts";
import { TOOL_DEFINITIONS, runTool, type ToolLimits } from "./tools.ts";

const SYSTEM_PROMPT = `You are a careful software engineer working in a code repository (your current directory).
Use the tools to inspect the code, make the change the task asks for, and run the project's tests to check it.
Keep changes minimal. Do not modify the tests unless the task says so.
When you are done, reply with a short summary of what you changed and no tool call.`;

type Status = "completed" | "gave_up" | "failed";

let seq = 0;
function emit(ev: TrajectoryInput): void {
  // process.stdout.write is synchronous for pipes and files on Linux: nothing is lost on exit.
  process.stdout.write(JSON.stringify({ seq: ++seq, ts: new Date().toISOString(), engine: "builtin", ...ev }) + "\n");
}

function finish(status: Status, summary: string, exitCode: number): never {
  process.stdout.write(`CASE_RESULT ${JSON.stringify({ protocol: "case-result/1", status, summary })}\n`);
  process.exit(exitCode);
}

function intEnv(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

interface Reply {
  content: string;
  reasoning: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: string | null;
  tokens?: { prompt: number; completion: number };
}

/** One streamed chat completion, accumulated. Reasoning (`reasoning_content` or `reasoning`) is kept apart from content. */
async function streamReply(client: OpenAI, model: string, maxTokens: number, messages: ChatCompletionMessageParam[]): Promise<Reply> {
  const stream = await client.chat.completions.create({
    model,
    messages,
    tools: TOOL_DEFINITIONS,
    tool_choice: "auto",
    max_tokens: maxTokens,
    stream: true,
    stream_options: { include_usage: true },
  });
  const reply: Reply = { content: "", reasoning: "", toolCalls: [], finishReason: null };
  for await (const chunk of stream) {
    if (chunk.usage) reply.tokens = { prompt: chunk.usage.prompt_tokens, completion: chunk.usage.completion_tokens };
    const choice = chunk.choices[0];
    if (!choice) continue;
    const delta = choice.delta as typeof choice.delta & { reasoning_content?: string | null; reasoning?: string | null };
    if (delta.content) reply.content += delta.content;
    const thought = delta.reasoning_content ?? delta.reasoning;
    if (thought) reply.reasoning += thought;
    for (const tc of delta.tool_calls ?? []) {
      const slot = (reply.toolCalls[tc.index] ??= { id: "", name: "", arguments: "" });
      if (tc.id) slot.id = tc.id;
      if (tc.function?.name) slot.name += tc.function.name;
      if (tc.function?.arguments) slot.arguments += tc.function.arguments;
    }
    if (choice.finish_reason) reply.finishReason = choice.finish_reason;
  }
  reply.toolCalls = reply.toolCalls.filter(Boolean).map((tc, i) => ({ ...tc, id: tc.id || `call_${i}` }));
  return reply;
}


async function main(): Promise<void> {
  const { OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: apiKey, OPENAI_MODEL: model, CTO_HARNESS_TASK_FILE: taskFile } = process.env;
  if (!baseURL || !apiKey || !model || !taskFile) {
    emit({ kind: "model_error", text: "OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL and CTO_HARNESS_TASK_FILE must be set" });
    finish("failed", "agent not configured", 2);
  }
  let instruction: string;
  try {
    const task = JSON.parse(readFileSync(taskFile, "utf8")) as { instruction?: unknown };
    if (typeof task.instruction !== "string" || !task.instruction.trim()) throw new Error("no `instruction` string");
    instruction = task.instruction;
  } catch (e) {
    emit({ kind: "model_error", text: `cannot read the task file: ${(e as Error).message}` });
    finish("failed", "no task", 2);
  }
  const maxSteps = intEnv("CTO_HARNESS_MAX_STEPS", 30);
  const maxTokens = intEnv("CTO_HARNESS_MAX_TOKENS", 16384);
  const limits: ToolLimits = { commandTimeoutMs: intEnv("CTO_HARNESS_COMMAND_TIMEOUT_SEC", 120) * 1000, maxOutputChars: 16_000 };
  // No SDK retries: a failed model call is evidence for the run, not something to hide.
  const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: intEnv("CTO_HARNESS_REQUEST_TIMEOUT_SEC", 600) * 1000 });
  const messages: ChatCompletionMessageParam[] = [
    { role: "system", content: SYSTEM_PROMPT },
    { role: "user", content: instruction },
  ];

  for (let step = 1; step <= maxSteps; step++) {
    let reply: Reply;
    try {
      reply = await streamReply(client, model, maxTokens, messages);
    } catch (e) {
      const why = describeApiError(e);
      emit({ kind: "model_error", text: why });
      finish("failed", `model call failed at step ${step}: ${why}`, 1);
    }
    if (reply.reasoning) emit({ kind: "reasoning", text: reply.reasoning });
    if (reply.finishReason === null) {
      emit({ kind: "model_error", text: "the response stream ended without a finish_reason (cut off)", tokens: reply.tokens });
      finish("failed", `model response cut off at step ${step}`, 1);
    }
    if (reply.toolCalls.length === 0) {
      const unusable = unusableFinalReply(reply);
      if (unusable) {
        if (reply.content) emit({ kind: "assistant_text", text: reply.content });
        emit({ kind: "model_error", text: unusable, tokens: reply.tokens });
        finish("failed", `unusable model reply at step ${step}: ${unusable}`, 1);
      }
      emit({ kind: "final", text: reply.content, tokens: reply.tokens });
      finish("completed", reply.content.trim(), 0);
    }
    if (reply.content) emit({ kind: "assistant_text", text: reply.content });
    messages.push({
      role: "assistant",
      content: reply.content || null,
      tool_calls: reply.toolCalls.map((tc) => ({ id: tc.id, type: "function", function: { name: tc.name, arguments: tc.arguments } })),
    });
    reply.toolCalls.forEach((tc, i) => {
      let args: unknown = tc.arguments;
      try {
        args = JSON.parse(tc.arguments);
      } catch {
        /* recorded as the raw text */
      }
      // The turn's token usage goes on its last event, so summing `tokens` counts each turn once.
      emit({ kind: "tool_call", tool: tc.name, args, call_id: tc.id, tokens: i === reply.toolCalls.length - 1 ? reply.tokens : undefined });
    });
    for (const tc of reply.toolCalls) {
      const out = await runTool(tc.name, tc.arguments, process.cwd(), limits);
      emit({ kind: "tool_result", tool: tc.name, call_id: tc.id, text: out.output, is_error: out.isError });
      messages.push({ role: "tool", tool_call_id: tc.id, content: out.output });
    }
  }
  emit({ kind: "final", text: `step limit reached (${maxSteps} steps) without a final answer` });
  finish("gave_up", `step limit reached (${maxSteps} steps)`, 0);
}

main().catch((e: unknown) => {
  emit({ kind: "model_error", text: `agent crashed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` });
  finish("failed", "agent crashed", 1);
});
