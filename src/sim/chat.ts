// Behaviour of the simulated server's chat route: read the request, let the scenario plan the
// answer (scenarios.ts), then deliver it the way the flavour's server does — whole, streamed
// at a pace, cut halfway or broken by an error mid-stream (render.ts has the shapes).
import type http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { completionTokens } from "./answer.ts";
import type { ErrorKind } from "./errors.ts";
import { answeredModel, type FlavourProfile } from "./flavours.ts";
import { completionId, formatEvent, renderCompletion, renderStream, streamErrorPayload, toolCallId, type RenderMeta, type StreamEvent } from "./render.ts";
import { readChatRequest, type ChatView } from "./request.ts";
import { planChat, serverErrorMessage, type ChatPlan, type PlanContext, type Scenario } from "./scenarios.ts";
import type { SimRequestRecord } from "./server.ts";

const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** The model a simulator serves when none is named. */
export const DEFAULT_MODEL = "qwen3.6-35b-a3b";

/** `GET /sim/stats` when SimOptions.stats is set (load tests: docs/simulator.md). */
export interface SimStats {
  chat_in_flight: number;
  chat_peak: number;
  chat_total: number;
  chat_failed_on_purpose: number;
}

/** What the chat route needs from the server it runs in. */
export interface ChatHost {
  profile: FlavourProfile;
  scenario: Scenario;
  plan: PlanContext;
  ttftMs: number;
  /** Milliseconds per generated token (0: unpaced). */
  tokenMs: number;
  /** Answer the first N chat requests with the flavour's 500 (SimOptions.failFirst). */
  failFirst: number;
  /** Counted here, served by the server. */
  stats: SimStats;
  isClosed(): boolean;
  head(res: http.ServerResponse, record: SimRequestRecord, status: number, headers: Record<string, string>): void;
  sendError(res: http.ServerResponse, record: SimRequestRecord, error: ErrorKind): void;
}

class BodyTooLarge extends Error {}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Writes `text`, waits until everything written so far has left, then drops the connection (stream-cut). */
async function flushThenCut(res: http.ServerResponse, text: string): Promise<void> {
  await new Promise<void>((resolve) => res.write(text, () => resolve()));
  // Give the kernel a moment to deliver what was written before the reset.
  await sleep(20);
  res.destroy();
}

async function readChat(host: ChatHost, req: http.IncomingMessage, res: http.ServerResponse, record: SimRequestRecord): Promise<ChatView | null> {
  let raw: string;
  try {
    raw = await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      host.sendError(res, record, { kind: "bad-request", message: "request body too large" });
      return null;
    }
    throw error;
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (error) {
    host.sendError(res, record, { kind: "invalid-json", detail: (error as Error).message });
    return null;
  }
  return readChatRequest(body);
}

export async function handleChat(host: ChatHost, req: http.IncomingMessage, res: http.ServerResponse, record: SimRequestRecord): Promise<void> {
  const view = await readChat(host, req, res, record);
  if (!view) return;
  record.model = view.model;
  record.stream = view.stream;
  record.tools = view.tools.map((t) => t.name);
  record.messageCount = view.messages.length;
  const stats = host.stats;
  stats.chat_total++;
  if (stats.chat_total <= host.failFirst) {
    stats.chat_failed_on_purpose++;
    return host.sendError(res, record, { kind: "server-error", message: "simulated failure (--fail-first)" });
  }
  stats.chat_in_flight++;
  stats.chat_peak = Math.max(stats.chat_peak, stats.chat_in_flight);
  try {
    const plan = await planChat(host.scenario, view, host.plan);
    if (plan.kind === "error") return host.sendError(res, record, plan.error);
    await answerChat(host, view, plan, res, record);
  } finally {
    stats.chat_in_flight--;
  }
}

async function pace(host: ChatHost, res: http.ServerResponse, ms: number): Promise<boolean> {
  if (ms > 0) await sleep(ms);
  return !res.destroyed && !host.isClosed();
}

async function answerChat(host: ChatHost, view: ChatView, plan: AnswerPlan, res: http.ServerResponse, record: SimRequestRecord): Promise<void> {
  const { profile } = host;
  const meta: RenderMeta = {
    id: completionId(profile),
    created: Math.floor(Date.now() / 1000),
    model: answeredModel(profile, view.model, host.plan.servedModels) ?? host.plan.servedModels[0] ?? DEFAULT_MODEL,
    promptTokens: view.promptTokens,
    includeUsage: view.includeUsage,
    toolCallIds: plan.answer.toolCalls.map(() => toolCallId(profile)),
  };
  if (!(await pace(host, res, host.ttftMs + (plan.queueMs ?? 0)))) return;
  if (view.stream) await stream(host, plan, meta, res, record);
  else await whole(host, plan, meta, res, record);
}

/** A non-streaming client waits for the whole generation. */
async function whole(host: ChatHost, plan: AnswerPlan, meta: RenderMeta, res: http.ServerResponse, record: SimRequestRecord): Promise<void> {
  if (!(await pace(host, res, completionTokens(plan.answer).total * host.tokenMs))) return;
  const body = JSON.stringify(renderCompletion(host.profile, plan.answer, meta));
  host.head(res, record, 200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
  if (plan.delivery === "cut") await flushThenCut(res, body.slice(0, Math.floor(body.length / 2)));
  else res.end(body);
}

type AnswerPlan = ChatPlan & { kind: "answer" };

function stopAfter(delivery: AnswerPlan["delivery"], events: readonly StreamEvent[]): number {
  const dataCount = events.filter((e) => e.kind === "data").length;
  if (delivery === "cut") return Math.max(2, Math.floor(dataCount / 2));
  if (delivery === "error-mid-stream") return Math.max(2, Math.floor(dataCount / 3));
  return Infinity;
}

async function stream(host: ChatHost, plan: AnswerPlan, meta: RenderMeta, res: http.ServerResponse, record: SimRequestRecord): Promise<void> {
  const { profile } = host;
  const events = renderStream(profile, plan.answer, meta);
  host.head(res, record, 200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
  res.flushHeaders();
  if (!(await sendEvents(host, res, events, stopAfter(plan.delivery, events)))) return;
  if (plan.delivery === "cut") return flushThenCut(res, "");
  if (plan.delivery === "error-mid-stream") {
    res.write(formatEvent({ kind: "data", payload: streamErrorPayload(profile, serverErrorMessage(profile)), cost: 0 }));
    // vLLM and SGLang still close the stream with [DONE]; the others just end it.
    if (profile.kind === "vllm" || profile.kind === "sglang") res.write(formatEvent({ kind: "done" }));
  }
  res.end();
}

/** Writes events up to `limit` data events; false when the client or the server went away. */
async function sendEvents(host: ChatHost, res: http.ServerResponse, events: readonly StreamEvent[], limit: number): Promise<boolean> {
  let sent = 0;
  // Paced against the clock (not per-sleep) so timer jitter does not add up over thousands of tokens.
  const generationStart = performance.now();
  let generated = 0;
  for (const event of events) {
    if (event.kind === "data" && sent >= limit) break;
    if (event.kind === "data" && event.cost > 0 && host.tokenMs > 0) {
      generated += event.cost;
      if (!(await pace(host, res, generationStart + generated * host.tokenMs - performance.now()))) return false;
    }
    if (res.destroyed || host.isClosed()) return false;
    res.write(formatEvent(event));
    if (event.kind === "data") sent += 1;
  }
  return true;
}
