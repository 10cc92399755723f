// Benchmark of the response-shape probe: how soon does it reach a verdict on a paced
// server that reasons a few hundred tokens and then writes a long answer, compared with
// (a) the moment the first content token arrives and (b) a non-streaming request with the
// same budget (what a naive probe does); and whether the text and tool probes really run
// concurrently (total ≈ the slower one, not the sum).
//
// Two servers: the built-in simulator (src/sim, V2b/V10 paced; its answers are short), and
// a paced vLLM-≥0.16-shaped stand-in below whose answer is long, which is where streaming
// and early decision pay off (the simulator has no knob for answer length).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { SecretValue } from "../src/config/secret.ts";
import { probeEndpoint } from "../src/provider/probe.ts";
import { startSimulator } from "../src/sim/server.ts";

const MODEL = "qwen3.6-35b-a3b";
const TOKENS_PER_SEC = 250;
const REASONING_TOKENS = 300;
const ANSWER_TOKENS = 600;
const TOOL_REASONING_TOKENS = 120;
const BUDGET = 1024;
const REPEATS = 3;

interface Paced {
  baseUrl: string;
  close(): Promise<void>;
}

async function startPacedServer(): Promise<Paced> {
  const tokenMs = 1000 / TOKENS_PER_SEC;
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    for await (const c of req) raw += c;
    if (req.url?.endsWith("/models")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: MODEL, object: "model", owned_by: "vllm", max_model_len: 32768 }] }));
      return;
    }
    const body = JSON.parse(raw) as { stream?: boolean; max_tokens?: number; tools?: unknown[] };
    const budget = body.max_tokens ?? BUDGET;
    const tools = Array.isArray(body.tools) && body.tools.length > 0;
    const deltas: Record<string, unknown>[] = [];
    for (let i = 0; i < (tools ? TOOL_REASONING_TOKENS : REASONING_TOKENS); i++) deltas.push({ reasoning: i === 0 ? "Okay, " : "hmm " });
    if (tools) {
      deltas.push({ tool_calls: [{ index: 0, id: "c1", type: "function", function: { name: "get_weather", arguments: "" } }] });
      deltas.push({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] });
    } else {
      for (let i = 0; i < ANSWER_TOKENS; i++) deltas.push({ content: i === 0 ? "The capital of France is Paris. " : "More detail. " });
    }
    const used = deltas.slice(0, budget);
    const finish = used.length < deltas.length ? "length" : tools ? "tool_calls" : "stop";
    if (!body.stream) {
      await sleep(used.length * tokenMs);
      const reasoning = used.map((d) => d.reasoning ?? "").join("");
      const content = used.map((d) => d.content ?? "").join("");
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content: content || null, reasoning: reasoning || null }, finish_reason: finish }] }));
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.flushHeaders();
    // Send in 20 ms batches: per-token timers would measure the timer, not the probe.
    const perBatch = Math.max(1, Math.round(20 / tokenMs));
    for (let i = 0; i < used.length; i += perBatch) {
      await sleep(perBatch * tokenMs);
      if (res.destroyed) return;
      for (const d of used.slice(i, i + perBatch)) res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: d, finish_reason: null }] })}\n\n`);
    }
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: finish }] })}\n\n`);
    res.end("data: [DONE]\n\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A plain streaming client: when does the first content token arrive? */
async function firstContentMs(baseUrl: string): Promise<number> {
  const t0 = performance.now();
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, stream: true, max_tokens: BUDGET, messages: [{ role: "user", content: "What is the capital of France?" }] }),
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return NaN;
      buf += decoder.decode(value, { stream: true });
      if (/"content":"[^"]/.test(buf)) return performance.now() - t0;
    }
  } finally {
    controller.abort();
  }
}

async function nonStreamMs(baseUrl: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, stream: false, max_tokens: BUDGET, messages: [{ role: "user", content: "What is the capital of France?" }] }),
  });
  await res.text();
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Math.round(x * 10) / 10;

async function measure(baseUrl: string) {
  const target = { baseUrl: new SecretValue(baseUrl), model: MODEL };
  const verdict: number[] = [];
  const text: number[] = [];
  const tools: number[] = [];
  const models: number[] = [];
  const first: number[] = [];
  const nonStream: number[] = [];
  let classification = "";
  let toolsClass: string | null = null;
  let decidedEarly = false;
  for (let i = 0; i < REPEATS; i++) {
    const r = await probeEndpoint(target, { budget: BUDGET });
    classification = r.classification;
    toolsClass = r.tools?.classification ?? null;
    decidedEarly = r.text.decided_early;
    verdict.push(r.timings.verdict_ms ?? NaN);
    text.push(r.timings.text_ms ?? NaN);
    tools.push(r.timings.tools_ms ?? NaN);
    models.push(r.timings.models_ms ?? NaN);
    first.push(await firstContentMs(baseUrl));
    nonStream.push(await nonStreamMs(baseUrl));
  }
  const v = median(verdict);
  const slower = Math.max(median(text), median(tools));
  return {
    classification,
    tools_classification: toolsClass,
    decided_early: decidedEarly,
    probe_verdict_ms: round(v),
    first_content_token_ms: round(median(first)),
    non_stream_same_budget_ms: round(median(nonStream)),
    verdict_minus_first_content_ms: round(v - median(first)),
    non_stream_over_verdict_ratio: round(median(nonStream) / v),
    models_ms: round(median(models)),
    text_probe_ms: round(median(text)),
    tool_probe_ms: round(median(tools)),
    // ≈1.0 when text and tool probes overlap fully; ≈ (text+tools)/slower if they ran one after the other.
    chat_phase_over_slower_ratio: round((v - median(models)) / slower),
    sequential_estimate_ms: round(median(models) + median(text) + median(tools)),
  };
}

export async function bench(): Promise<object> {
  const paced = await startPacedServer();
  let longAnswer;
  try {
    longAnswer = await measure(paced.baseUrl);
  } finally {
    await paced.close();
  }
  const sim = await startSimulator({ flavour: "vllm-0.16", scenario: "V2b", tokensPerSec: TOKENS_PER_SEC, reasoningTokens: REASONING_TOKENS });
  let simulator;
  try {
    simulator = await measure(sim.baseUrl);
  } finally {
    await sim.close();
  }
  return {
    setup: {
      tokens_per_sec: TOKENS_PER_SEC,
      reasoning_tokens: REASONING_TOKENS,
      answer_tokens: ANSWER_TOKENS,
      tool_reasoning_tokens: TOOL_REASONING_TOKENS,
      budget: BUDGET,
      repeats: REPEATS,
      statistic: "median",
    },
    long_answer_server: longAnswer,
    simulator_v2b: simulator,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await bench(), null, 2));
}
