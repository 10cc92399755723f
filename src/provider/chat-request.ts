// The probe's chat requests: one POST /chat/completions asked the way an agent asks (the
// text question, or the tool question with a tool offered), and the reading of what comes
// back, a JSON body or an SSE stream cut short once the accumulator has decided. Apart from
// probe.ts because this is the HTTP and streaming half; what the answer means is decided in
// classify.ts, the bookkeeping of a probe in probe.ts.
import { createParser } from "eventsource-parser";
import { connectionErrorCode, readCapped, type Clock, type Endpoint } from "./endpoint.ts";
import type { ProbeTarget } from "./probe.ts";
import { ResponseAccumulator, isErrorPayload, parseErrorBody } from "./response-evidence.ts";
import type { Slots } from "../core/semaphore.ts";

const TEXT_QUESTION = "What is the capital of France? Answer in one short sentence.";
const TOOL_QUESTION = "What is the weather in Paris right now? Use the get_weather tool.";
const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the current weather for a city.",
    parameters: {
      type: "object",
      properties: { city: { type: "string", description: "City name, e.g. Paris" } },
      required: ["city"],
    },
  },
};

export interface ChatOutcome {
  acc: ResponseAccumulator;
  stream: boolean;
  decidedEarly: boolean;
  ttfbMs: number | null;
  elapsedMs: number;
  simulated: boolean;
  server: string | null;
}

/** Holds one model slot while the request is in flight; a deadline that passes while waiting is a timeout. */
async function withSlot(slots: Slots, probe: "text" | "tools", deadline: AbortSignal, clock: Clock, stream: boolean, send: () => Promise<ChatOutcome>): Promise<ChatOutcome> {
  let release: () => void;
  try {
    release = await slots.acquire(deadline);
  } catch {
    const acc = new ResponseAccumulator(probe, () => clock.now());
    acc.evidence.timedOut = true;
    return { acc, stream, decidedEarly: false, ttfbMs: null, elapsedMs: 0, simulated: false, server: null };
  }
  try {
    return await send();
  } finally {
    release();
  }
}

export async function chatRequest(
  probe: "text" | "tools",
  ep: Endpoint,
  target: ProbeTarget,
  budget: number,
  deadline: AbortSignal,
  clock: Clock,
  stream = true,
  slots?: Slots,
): Promise<ChatOutcome> {
  if (slots) return withSlot(slots, probe, deadline, clock, stream, () => chatRequest(probe, ep, target, budget, deadline, clock, stream));
  const acc = new ResponseAccumulator(probe, () => clock.now());
  const controller = new AbortController();
  const onDeadline = () => controller.abort();
  deadline.addEventListener("abort", onDeadline, { once: true });
  const begun = clock.now();
  const outcome: ChatOutcome = { acc, stream, decidedEarly: false, ttfbMs: null, elapsedMs: 0, simulated: false, server: null };
  const body: Record<string, unknown> = {
    model: target.model,
    messages: [{ role: "user", content: probe === "text" ? TEXT_QUESTION : TOOL_QUESTION }],
    max_tokens: budget,
    stream,
  };
  if (stream) body.stream_options = { include_usage: true };
  if (probe === "tools") {
    body.tools = [WEATHER_TOOL];
    body.tool_choice = "auto";
  }
  try {
    let res: Response;
    try {
      res = await fetch(ep.url("/chat/completions"), {
        method: "POST",
        headers: { ...ep.headers, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
    } catch (error) {
      acc.evidence.connectionError = deadline.aborted ? "ETIMEDOUT" : connectionErrorCode(error);
      return outcome;
    }
    outcome.ttfbMs = clock.now();
    outcome.simulated = res.headers.has("x-cto-harness-simulator");
    outcome.server = res.headers.get("server");
    acc.evidence.status = res.status;
    if (!res.ok) {
      const text = await readCapped(res).catch(() => "");
      acc.addErrorBody(res.status, text);
      return outcome;
    }
    const contentType = res.headers.get("content-type") ?? "";
    if (!contentType.includes("text/event-stream")) {
      // Not a stream (server ignored `stream`, or stream: false): one JSON body.
      outcome.stream = false;
      const text = await readCapped(res, 1024 * 1024);
      try {
        acc.addBody(JSON.parse(text));
      } catch {
        acc.evidence.error = parseErrorBody(text) ?? { message: "unparseable body", type: null, code: null };
      }
      return outcome;
    }
    await readStream(res, acc, controller, outcome);
    return outcome;
  } catch (error) {
    if (deadline.aborted) acc.evidence.timedOut = true;
    else if (!outcome.decidedEarly) {
      acc.evidence.error = { message: `stream broke (${connectionErrorCode(error)})`, type: null, code: null };
      acc.evidence.streamError = acc.evidence.status !== null;
    }
    return outcome;
  } finally {
    deadline.removeEventListener("abort", onDeadline);
    outcome.elapsedMs = clock.now() - begun;
    if (!controller.signal.aborted) controller.abort();
  }
}

async function readStream(res: Response, acc: ResponseAccumulator, controller: AbortController, outcome: ChatOutcome): Promise<void> {
  let done = false;
  const parser = createParser({
    onEvent(event) {
      if (done) return;
      if (event.data.trim() === "[DONE]") {
        done = true;
        return;
      }
      let payload: unknown;
      try {
        payload = JSON.parse(event.data);
      } catch {
        if (event.event === "error") acc.addChunk({ error: { message: event.data } });
        return;
      }
      if (event.event === "error" && !isErrorPayload(payload)) payload = { error: payload };
      acc.addChunk(payload);
      const early = acc.earlyDecision();
      if (early) {
        outcome.decidedEarly = true;
        done = true;
      }
    },
    // SSE comment lines (`: ping`, llama.cpp keep-alives) are ignored by design.
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  try {
    while (!done) {
      const { done: eof, value } = await reader.read();
      if (eof) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } finally {
    // Stop the server generating the rest: abort the request once the verdict is in.
    if (outcome.decidedEarly) controller.abort();
    reader.cancel().catch(() => {});
  }
}
