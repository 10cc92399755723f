// The simulator reproduces each real server's shapes (shared/reference/response-shapes.md):
// reasoning field names by version, null vs "" content, chunk layout, error bodies,
// discovery fingerprints, and every scenario row of the reference table.
import { createParser } from "eventsource-parser";
import { afterEach, describe, expect, it } from "vitest";
import { FLAVOURS, SCENARIOS, parseScenario, startSimulator, type Flavour, type SimOptions, type SimServer } from "../src/sim/server.ts";

const MODEL = "qwen3.6-35b-a3b";
const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

const open: SimServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function sim(opts: SimOptions): Promise<SimServer> {
  const server = await startSimulator(opts);
  open.push(server);
  return server;
}

type Json = Record<string, any>;

function chatBody(extra: Json = {}): Json {
  return { model: MODEL, messages: [{ role: "user", content: "What is 2+2?" }], ...extra };
}

async function post(server: SimServer, body: Json, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

interface Sse {
  events: string[];
  comments: string[];
  chunks: Json[];
  done: boolean;
}

async function readSse(res: Response): Promise<Sse> {
  const out: Sse = { events: [], comments: [], chunks: [], done: false };
  const parser = createParser({
    onEvent: (e) => {
      out.events.push(e.data);
      if (e.data === "[DONE]") out.done = true;
      else out.chunks.push(JSON.parse(e.data) as Json);
    },
    onComment: (c) => out.comments.push(c.trim()),
  });
  parser.feed(await res.text());
  return out;
}

/** Choice deltas of all content-bearing chunks (not the usage chunk). */
function deltas(sse: Sse): Json[] {
  return sse.chunks.filter((c) => Array.isArray(c.choices) && c.choices.length > 0).map((c) => c.choices[0].delta as Json);
}

function joined(sse: Sse, field: string): string {
  return deltas(sse)
    .map((d) => (typeof d[field] === "string" ? d[field] : ""))
    .join("");
}

const REASONING_FIELDS: Record<Flavour, string[]> = {
  "vllm-0.8": ["reasoning_content"],
  "vllm-0.11": ["reasoning", "reasoning_content"],
  "vllm-0.16": ["reasoning"],
  "vllm-main": ["reasoning"],
  llamacpp: ["reasoning_content"],
  ollama: ["reasoning"],
  sglang: ["reasoning_content"],
  lmstudio: ["reasoning_content"],
};
const OTHER_FIELD = (field: string) => (field === "reasoning" ? "reasoning_content" : "reasoning");
const EMPTY_CONTENT: Record<Flavour, null | ""> = {
  "vllm-0.8": null,
  "vllm-0.11": null,
  "vllm-0.16": null,
  "vllm-main": null,
  llamacpp: "",
  ollama: "",
  sglang: null,
  lmstudio: null,
};

describe("scenario ids", () => {
  it("every row of the reference table is producible by a case-insensitive id", () => {
    for (const id of ["V1", "V2", "V2b", "V3", "V4", "V4b", "V5", "V7", "V8", "V8b", "V9", "V10", "V11", "E1", "E1b", "E2", "E3", "E4", "E5", "E6"]) {
      expect(parseScenario(id.toLowerCase())).toBe(id);
      expect(SCENARIOS).toContain(id);
    }
    expect(parseScenario("REASONING-ONLY")).toBe("reasoning-only");
    expect(parseScenario("nope")).toBeNull();
  });

  it("refuses unknown flavours and scenarios", async () => {
    await expect(startSimulator({ scenario: "V99" })).rejects.toThrow(/valid: solve/);
    await expect(startSimulator({ flavour: "tgi" as Flavour })).rejects.toThrow(/vllm-0.16/);
  });
});

describe.each(FLAVOURS.map((f) => [f]))("flavour %s", (flavour) => {
  const fields = REASONING_FIELDS[flavour];

  it("non-stream V1: reasoning in the flavour's field(s), content, usage, simulator header", async () => {
    const server = await sim({ flavour, scenario: "V1" });
    const res = await post(server, chatBody());
    expect(res.status).toBe(200);
    expect(res.headers.get("x-cto-harness-simulator")).toBe(flavour);
    const body = (await res.json()) as Json;
    const msg = body.choices[0].message as Json;
    for (const field of fields) expect(msg[field]).toMatch(/2\+2/);
    if (fields.length === 2) expect(msg.reasoning).toBe(msg.reasoning_content);
    else expect(msg[OTHER_FIELD(fields[0]!)] ?? null).toBeNull();
    expect(msg.content).toBe("The answer is 4.");
    expect(body.choices[0].finish_reason).toBe("stop");
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    // Only vLLM main counts reasoning tokens (PR #45802); UsageInfo had no such field before.
    if (flavour === "vllm-main") expect(body.usage.completion_tokens_details.reasoning_tokens).toBe(30);
    else expect(body.usage.completion_tokens_details).toBeUndefined();
    if (flavour === "sglang") {
      expect(body.usage.reasoning_tokens).toBe(30);
      expect(msg.tool_calls).toBeNull();
    }
    if (flavour.startsWith("vllm") && flavour !== "vllm-main") expect(msg.tool_calls).toEqual([]);
    if (flavour === "llamacpp" || flavour === "ollama" || flavour === "vllm-main") expect("tool_calls" in msg).toBe(false);
  });

  it("stream V1: deltas carry the flavour's field(s); usage chunk has choices []", async () => {
    const server = await sim({ flavour, scenario: "V1" });
    const res = await post(server, chatBody({ stream: true, stream_options: { include_usage: true } }));
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const sse = await readSse(res);
    expect(sse.done).toBe(true);
    for (const field of fields) expect(joined(sse, field)).toMatch(/^The user asks a short question; 2\+2 is 4\./);
    if (fields.length === 1) expect(joined(sse, OTHER_FIELD(fields[0]!))).toBe("");
    expect(joined(sse, "content")).toBe("The answer is 4.");
    // one delta per token: many reasoning deltas
    expect(deltas(sse).filter((d) => typeof d[fields[0]!] === "string").length).toBe(30);
    const last = sse.chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage.completion_tokens).toBeGreaterThan(30);
    const finishes = sse.chunks.filter((c) => c.choices?.[0]?.finish_reason).map((c) => c.choices[0]);
    expect(finishes).toHaveLength(1);
    expect(finishes[0].finish_reason).toBe("stop");
    // llama.cpp's SSE comment lines (its keep-alive is an empty comment, ":"); nobody else sends them
    if (flavour === "llamacpp") expect(sse.comments.length).toBeGreaterThan(0);
    else expect(sse.comments).toEqual([]);
  });

  it("stream layout: role placement and where finish_reason rides", async () => {
    const server = await sim({ flavour, scenario: "V1" });
    const sse = await readSse(await post(server, chatBody({ stream: true })));
    const ds = deltas(sse);
    const withRole = ds.filter((d) => typeof d.role === "string");
    expect(withRole).toHaveLength(1);
    expect(ds[0]!.role).toBe("assistant");
    const finishChunk = sse.chunks.find((c) => c.choices[0].finish_reason !== null)!;
    if (flavour === "ollama") {
      // Ollama: role only on the first chunk, which already carries a token; finish on its own chunk with delta {}
      expect(ds[0]![fields[0]!]).toBeTruthy();
      expect(finishChunk.choices[0].delta).toEqual({});
      expect(ds.every((d) => d.content === "" || typeof d.content === "string" || d.content === undefined)).toBe(true);
    } else if (flavour === "llamacpp" || flavour === "sglang") {
      expect(finishChunk.choices[0].delta).toEqual({});
    } else if (flavour.startsWith("vllm")) {
      // vLLM: the last output step is the stop token, decoded to "": its own chunk, DeltaMessage() → {}
      expect(finishChunk.choices[0].delta).toEqual(flavour === "vllm-0.11" ? { reasoning_content: null } : {});
      expect(finishChunk.choices[0].stop_reason).toBeNull();
    } else {
      // LM Studio: the finish reason arrives with the last token
      expect(finishChunk.choices[0].delta.content).toBe(" 4.");
    }
    expect(sse.chunks.some((c) => Array.isArray(c.choices) && c.choices.length === 0)).toBe(false); // no usage without include_usage
  });

  it("reasoning-only: content null or \"\" per flavour, finish length (non-stream and stream)", async () => {
    const server = await sim({ flavour, scenario: "reasoning-only" });
    const body = (await (await post(server, chatBody({ max_tokens: 40 }))).json()) as Json;
    expect(body.choices[0].message.content).toBe(EMPTY_CONTENT[flavour]);
    expect(body.choices[0].finish_reason).toBe("length");
    expect(body.usage.completion_tokens).toBe(40);
    const sse = await readSse(await post(server, chatBody({ max_tokens: 40, stream: true })));
    expect(joined(sse, "content")).toBe("");
    expect(deltas(sse).filter((d) => typeof d[fields[0]!] === "string")).toHaveLength(40);
    expect(sse.chunks.find((c) => c.choices[0].finish_reason)!.choices[0].finish_reason).toBe("length");
  });

  it("tool calls (V10): name then argument pieces by index, or whole in one delta (Ollama)", async () => {
    const server = await sim({ flavour, scenario: "V10" });
    const body = (await (await post(server, chatBody({ tools: [WEATHER_TOOL] }))).json()) as Json;
    const call = body.choices[0].message.tool_calls[0];
    expect(call.type).toBe("function");
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
    expect(typeof call.id).toBe("string");
    expect(body.choices[0].finish_reason).toBe("tool_calls");

    const sse = await readSse(await post(server, chatBody({ tools: [WEATHER_TOOL], stream: true })));
    const toolDeltas = deltas(sse).filter((d) => Array.isArray(d.tool_calls));
    if (flavour === "ollama") {
      expect(toolDeltas).toHaveLength(1);
      expect(toolDeltas[0]!.tool_calls[0].function).toEqual({ name: "get_weather", arguments: '{"city":"Paris"}' });
    } else {
      expect(toolDeltas.length).toBeGreaterThan(2);
      expect(toolDeltas[0]!.tool_calls[0].function.name).toBe("get_weather");
      expect(toolDeltas[0]!.tool_calls[0].function.arguments ?? "").toBe("");
      const pieces = toolDeltas.slice(1).map((d) => d.tool_calls[0]);
      expect(pieces.every((p) => p.index === 0 && p.function.name === undefined)).toBe(true);
      expect(pieces.map((p) => p.function.arguments).join("")).toBe('{"city":"Paris"}');
    }
    expect(sse.chunks.find((c) => c.choices[0].finish_reason)!.choices[0].finish_reason).toBe("tool_calls");
  });
});

describe("discovery fingerprints", () => {
  const cases: [Flavour, string][] = [
    ["vllm-0.16", "vllm"],
    ["vllm-0.8", "vllm"],
    ["llamacpp", "llamacpp"],
    ["ollama", "library"],
    ["sglang", "sglang"],
    ["lmstudio", "organization_owner"],
  ];
  it.each(cases)("%s /v1/models owned_by %s", async (flavour, ownedBy) => {
    const server = await sim({ flavour, models: ["m-a", "m-b"] });
    const res = await fetch(`${server.baseUrl}/models`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.object).toBe("list");
    expect(body.data.map((m: Json) => m.id)).toEqual(["m-a", "m-b"]);
    for (const m of body.data) expect(m.owned_by).toBe(ownedBy);
    if (flavour.startsWith("vllm") || flavour === "sglang") expect(body.data[0].max_model_len).toBe(32768);
    else expect(body.data[0].max_model_len).toBeUndefined();
    if (flavour === "llamacpp") expect(body.data[0].meta.n_ctx_train).toBe(262144);
  });

  it("vLLM /health (200, empty) and /version", async () => {
    const server = await sim({ flavour: "vllm-0.11" });
    const root = server.baseUrl.replace(/\/v1$/, "");
    const health = await fetch(`${root}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe("");
    expect(await (await fetch(`${root}/version`)).json()).toEqual({ version: "0.11.1" });
    const missing = await fetch(`${root}/props`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: "Not Found" });
  });

  it("llama.cpp /health and /props", async () => {
    const server = await sim({ flavour: "llamacpp" });
    const root = server.baseUrl.replace(/\/v1$/, "");
    expect(await (await fetch(`${root}/health`)).json()).toEqual({ status: "ok" });
    const props = (await (await fetch(`${root}/props`)).json()) as Json;
    expect(props.default_generation_settings.n_ctx).toBe(32768);
  });

  it("Ollama: GET / says it is running; unknown routes are Go's plain 404", async () => {
    const server = await sim({ flavour: "ollama" });
    const root = server.baseUrl.replace(/\/v1$/, "");
    const res = await fetch(`${root}/`);
    expect(await res.text()).toBe("Ollama is running");
    expect(res.headers.get("x-cto-harness-simulator")).toBe("ollama");
    const health = await fetch(`${root}/health`);
    expect(health.status).toBe(404);
    expect(await health.text()).toBe("404 page not found");
  });
});

describe("error bodies", () => {
  const notFound: [Flavour, number, (b: any) => void][] = [
    ["vllm-0.16", 404, (b) => expect(b).toEqual({ error: { message: "The model `nope` does not exist.", type: "NotFoundError", param: null, code: 404 } })],
    ["vllm-0.11", 404, (b) => expect(b.error.type).toBe("NotFoundError")],
    // main: models/serving.py check_model passes param="model"
    ["vllm-main", 404, (b) => expect(b).toEqual({ error: { message: "The model `nope` does not exist.", type: "NotFoundError", param: "model", code: 404 } })],
    ["vllm-0.8", 404, (b) => expect(b).toMatchObject({ object: "error", message: "The model `nope` does not exist.", code: 404 })],
    ["ollama", 404, (b) => expect(b.error.message).toBe("model 'nope' not found")],
    ["lmstudio", 404, (b) => expect(b.error.code).toBe("model_not_found")],
  ];
  it.each(notFound)("%s: unknown model → %i in its own shape (E1 by default)", async (flavour, status, check) => {
    const server = await sim({ flavour, scenario: "V1" });
    const res = await post(server, chatBody({ model: "nope" }));
    expect(res.status).toBe(status);
    check(await res.json());
  });

  it.each([
    ["llamacpp", "qwen3.6-35b-a3b"], // names its own model (recorded: test/data/llamacpp-real/chat-unknown-model.json)
    ["sglang", "whatever-you-like"],
  ] as [Flavour, string][])("%s answers any model name by default (E1b), naming %s", async (flavour, named) => {
    const server = await sim({ flavour, scenario: "V1" });
    const res = await post(server, chatBody({ model: "whatever-you-like" }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).model).toBe(named);
  });

  it("E1 forces a 404 even on servers that ignore names (SGLang flat body); E1b answers any name on vLLM", async () => {
    const e1 = await sim({ flavour: "sglang", scenario: "E1" });
    const res = await post(e1, chatBody({ model: "x" }));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ object: "error", message: "The model 'x' does not exist.", code: 404 });
    const e1b = await sim({ flavour: "vllm-0.16", scenario: "E1b" });
    expect((await post(e1b, chatBody({ model: "x" }))).status).toBe(200);
  });

  const unauthorized: [Flavour, unknown][] = [
    ["vllm-0.16", { error: "Unauthorized" }],
    ["vllm-0.8", { error: "Unauthorized" }],
    ["sglang", { error: "Unauthorized" }],
    ["llamacpp", { error: { code: 401, message: "Invalid API Key", type: "authentication_error" } }],
  ];
  it.each(unauthorized)("%s: wrong or missing key → 401 %j", async (flavour, expected) => {
    const server = await sim({ flavour, scenario: "V1", apiKey: "sekret" });
    const missing = await post(server, chatBody());
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual(expected);
    expect((await post(server, chatBody(), { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await post(server, chatBody(), { authorization: "Bearer sekret" })).status).toBe(200);
  });

  it("E3 without a configured key refuses everything; llama.cpp keeps only /health public", async () => {
    const vllm = await sim({ flavour: "vllm-0.16", scenario: "E3" });
    expect((await fetch(`${vllm.baseUrl}/models`)).status).toBe(401);
    expect((await post(vllm, chatBody(), { authorization: "Bearer guess" })).status).toBe(401);
    // Recorded from a real llama-server: auth-models.json (401), auth-health.json (200).
    const llama = await sim({ flavour: "llamacpp", scenario: "E3" });
    expect((await fetch(`${llama.baseUrl}/models`)).status).toBe(401);
    expect((await fetch(llama.baseUrl.replace(/\/v1$/, "/health"))).status).toBe(200);
    expect((await post(llama, chatBody())).status).toBe(401);
  });

  it("http-500: the flavour's 500 body on every chat request", async () => {
    const vllm = await sim({ flavour: "vllm-0.16", scenario: "http-500" });
    const res = await post(vllm, chatBody());
    expect(res.status).toBe(500);
    expect(((await res.json()) as Json).error.type).toBe("InternalServerError");
    const llama = await sim({ flavour: "llamacpp", scenario: "http-500" });
    expect(((await (await post(llama, chatBody())).json()) as Json).error).toMatchObject({ code: 500, type: "server_error" });
  });

  it("V8: vLLM rejects tools without --enable-auto-tool-choice (400); fine without tools", async () => {
    const server = await sim({ flavour: "vllm-0.16", scenario: "V8" });
    const res = await post(server, chatBody({ tools: [WEATHER_TOOL] }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error.message).toBe('"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set');
    expect((await post(server, chatBody())).status).toBe(200);
  });

  it("V8b: llama.cpp without --jinja → 500 'tools param requires --jinja flag'", async () => {
    const server = await sim({ flavour: "llamacpp", scenario: "V8b" });
    const res = await post(server, chatBody({ tools: [WEATHER_TOOL] }));
    expect(res.status).toBe(500);
    expect(((await res.json()) as Json).error.message).toBe("tools param requires --jinja flag");
  });

  it.each(FLAVOURS.map((f) => [f]))("E2 %s: 400 mentioning the context", async (flavour) => {
    const server = await sim({ flavour, scenario: "E2" });
    const res = await post(server, chatBody({ max_tokens: 4096 }));
    expect(res.status).toBe(400);
    expect((await res.text()).toLowerCase()).toContain("context");
  });

  it("E2 on llama.cpp has type exceed_context_size_error", async () => {
    const server = await sim({ flavour: "llamacpp", scenario: "E2" });
    expect(((await (await post(server, chatBody())).json()) as Json).error.type).toBe("exceed_context_size_error");
  });

  it("E5: Ollama 503 server busy, maximum pending requests exceeded", async () => {
    const server = await sim({ flavour: "ollama", scenario: "E5" });
    const res = await post(server, chatBody());
    expect(res.status).toBe(503);
    expect(((await res.json()) as Json).error.message).toMatch(/^server busy.*maximum pending requests exceeded$/);
  });
});

describe("budget and reasoning scenarios", () => {
  it("V2 fills any budget with reasoning and never reaches content", async () => {
    const server = await sim({ flavour: "vllm-main", scenario: "V2" });
    for (const max_tokens of [16, 1024]) {
      const body = (await (await post(server, chatBody({ max_tokens }))).json()) as Json;
      expect(body.choices[0].message.content).toBeNull();
      expect(body.choices[0].finish_reason).toBe("length");
      expect(body.usage.completion_tokens_details.reasoning_tokens).toBe(max_tokens);
    }
  });

  it("V2 honours enable_thinking=false (the advice works)", async () => {
    const server = await sim({ flavour: "vllm-0.16", scenario: "V2" });
    const body = (await (await post(server, chatBody({ max_tokens: 16, chat_template_kwargs: { enable_thinking: false } }))).json()) as Json;
    expect(body.choices[0].message.content).toBe("The answer is 4.");
    expect(body.choices[0].finish_reason).toBe("stop");
  });

  it("V2b: delayed content — content with a big budget, truncated reasoning with a small one", async () => {
    const server = await sim({ flavour: "llamacpp", scenario: "V2b", reasoningTokens: 100 });
    const big = (await (await post(server, chatBody({ max_tokens: 1024 }))).json()) as Json;
    expect(big.choices[0].message.content).toBe("The answer is 4.");
    expect(big.choices[0].finish_reason).toBe("stop");
    const small = (await (await post(server, chatBody({ max_tokens: 50 }))).json()) as Json;
    expect(small.choices[0].message.content).toBe("");
    expect(small.choices[0].finish_reason).toBe("length");
    // streamed: content arrives only after all reasoning deltas
    const sse = await readSse(await post(server, chatBody({ max_tokens: 1024, stream: true })));
    const ds = deltas(sse);
    const firstContent = ds.findIndex((d) => typeof d.content === "string" && d.content !== "");
    const lastReasoning = ds.findLastIndex((d) => typeof d.reasoning_content === "string");
    expect(firstContent).toBeGreaterThan(lastReasoning);
    expect(lastReasoning).toBeGreaterThanOrEqual(100);
  });

  it("V2b default think is long enough that a 256 budget truncates and 1024 does not", async () => {
    const server = await sim({ flavour: "vllm-0.16", scenario: "V2b" });
    expect(((await (await post(server, chatBody({ max_tokens: 256 }))).json()) as Json).choices[0].finish_reason).toBe("length");
    expect(((await (await post(server, chatBody({ max_tokens: 1024 }))).json()) as Json).choices[0].finish_reason).toBe("stop");
  });

  it("V3: reasoning text in content, reasoning null, length, no tags", async () => {
    const server = await sim({ flavour: "vllm-0.11", scenario: "V3" });
    const msg = ((await (await post(server, chatBody({ max_tokens: 64 }))).json()) as Json).choices[0];
    expect(msg.finish_reason).toBe("length");
    expect(msg.message.reasoning).toBeNull();
    expect(msg.message.reasoning_content).toBeNull();
    expect(msg.message.content.length).toBeGreaterThan(50);
    expect(msg.message.content).not.toContain("<think>");
  });

  it("V4 / V4b / V5: reasoning left in content", async () => {
    const v4 = (await (await post(await sim({ scenario: "V4" }), chatBody())).json()) as Json;
    expect(v4.choices[0].message.content).toMatch(/^<think>\n[\s\S]+<\/think>\n\nThe answer is 4\.$/);
    expect(v4.choices[0].message.reasoning).toBeNull();
    const v4b = (await (await post(await sim({ scenario: "V4b" }), chatBody({ max_tokens: 64 }))).json()) as Json;
    expect(v4b.choices[0].message.content).toMatch(/^<think>\n/);
    expect(v4b.choices[0].message.content).not.toContain("</think>");
    expect(v4b.choices[0].finish_reason).toBe("length");
    const v5 = (await (await post(await sim({ scenario: "V5" }), chatBody())).json()) as Json;
    expect(v5.choices[0].message.content).toMatch(/^Thinking Process:\n1\. [\s\S]*<\/think>\n\nThe answer is 4\.$/);
    expect(v5.choices[0].message.content).not.toContain("<think>");
  });

  it("V7: the answer lands in reasoning, content null, stop", async () => {
    const body = (await (await post(await sim({ flavour: "vllm-0.8", scenario: "V7" }), chatBody())).json()) as Json;
    expect(body.choices[0].message.content).toBeNull();
    expect(body.choices[0].message.reasoning_content).toMatch(/^I am Qwen3/);
    expect(body.choices[0].finish_reason).toBe("stop");
  });

  it("V9 / tool-call-as-text: <tool_call> in content and no parsed tool calls", async () => {
    for (const scenario of ["V9", "tool-call-as-text"]) {
      const server = await sim({ flavour: "vllm-0.16", scenario });
      const body = (await (await post(server, chatBody({ tools: [WEATHER_TOOL] }))).json()) as Json;
      expect(body.choices[0].message.content).toMatch(/^<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n<\/parameter>/);
      expect(body.choices[0].message.tool_calls).toEqual([]);
    }
  });

  it("V11: finish_reason tool_calls with an empty list and text content", async () => {
    const body = (await (await post(await sim({ flavour: "sglang", scenario: "V11" }), chatBody({ tools: [WEATHER_TOOL] }))).json()) as Json;
    expect(body.choices[0].finish_reason).toBe("tool_calls");
    expect(body.choices[0].message.tool_calls).toEqual([]);
    expect(body.choices[0].message.content).toContain("get_weather");
  });
});

describe("connection-level scenarios", () => {
  it("E4 (vLLM): connection refused while loading, then healthy on the same port", async () => {
    const server = await sim({ flavour: "vllm-0.16", scenario: "E4", loadingMs: 400 });
    const err = await fetch(`${server.baseUrl}/models`).then(
      () => null,
      (e: Error & { cause?: { code?: string } }) => e,
    );
    expect(err?.cause?.code).toBe("ECONNREFUSED");
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = await fetch(`${server.baseUrl}/models`).then(
        (r) => r.status,
        () => 0,
      );
    }
    expect(status).toBe(200);
    expect((await post(server, chatBody())).status).toBe(200);
  });

  it("E4 (llama.cpp): /health 503 Loading model while loading, then ok", async () => {
    const server = await sim({ flavour: "llamacpp", scenario: "E4", loadingMs: 300 });
    const root = server.baseUrl.replace(/\/v1$/, "");
    const loading = await fetch(`${root}/health`);
    expect(loading.status).toBe(503);
    expect(await loading.json()).toEqual({ error: { code: 503, message: "Loading model", type: "unavailable_error" } });
    expect((await post(server, chatBody())).status).toBe(503);
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await fetch(`${root}/health`)).status;
    }
    expect(status).toBe(200);
  });

  it("E4 close() before loading finished leaves nothing listening", async () => {
    const server = await startSimulator({ scenario: "E4", loadingMs: 200 });
    await server.close();
    await new Promise((r) => setTimeout(r, 400));
    await expect(fetch(`${server.baseUrl}/models`)).rejects.toThrow();
  });

  it("E6: HTTP 200 stream that carries an error event mid-way", async () => {
    for (const flavour of ["vllm-0.16", "ollama"] as Flavour[]) {
      const server = await sim({ flavour, scenario: "E6" });
      const res = await post(server, chatBody({ stream: true }));
      expect(res.status).toBe(200);
      const sse = await readSse(res);
      const errorChunk = sse.chunks.find((c) => "error" in c);
      expect(errorChunk?.error.message).toBeTruthy();
      expect(sse.chunks.indexOf(errorChunk!)).toBeGreaterThan(1);
      expect(sse.chunks.some((c) => c.choices?.[0]?.finish_reason)).toBe(false);
    }
  });

  it("stream-cut: the connection dies mid-stream (no [DONE], no finish)", async () => {
    const server = await sim({ scenario: "stream-cut" });
    const res = await post(server, chatBody({ stream: true }));
    expect(res.status).toBe(200);
    const received: string[] = [];
    const decoder = new TextDecoder();
    const failure = await (async () => {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) received.push(decoder.decode(chunk));
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(failure).not.toBeNull();
    const text = received.join("");
    expect(text).toContain("data: {");
    expect(text).not.toContain("[DONE]");
  });

  it("records what each request asked", async () => {
    const server = await sim({ scenario: "V10" });
    await post(server, chatBody({ stream: true, tools: [WEATHER_TOOL] })).then((r) => r.text());
    await fetch(`${server.baseUrl}/models`).then((r) => r.text());
    expect(server.requests).toEqual([
      { method: "POST", path: "/v1/chat/completions", model: MODEL, stream: true, tools: ["get_weather"], messageCount: 1, status: 200 },
      { method: "GET", path: "/v1/models", model: null, stream: false, tools: [], messageCount: 0, status: 200 },
    ]);
  });
});

// Each row: a vLLM fact, the flavour(s) it holds for, and the vLLM source it was read in
// (docs/simulator.md, "Checked against vLLM's source").
describe("vLLM by version: shapes checked against vLLM's source", () => {
  const VLLM: Flavour[] = ["vllm-0.8", "vllm-0.11", "vllm-0.16", "vllm-main"];

  it.each(VLLM.map((f) => [f]))("%s non-stream body: nulls of model_dump(), usage, fingerprint, tool_calls", async (flavour) => {
    const server = await sim({ flavour, scenario: "V1" });
    const res = await post(server, chatBody());
    expect(res.headers.get("server")).toBe("uvicorn");
    const body = (await res.json()) as Json;
    const choice = body.choices[0];
    const msg = choice.message;
    // UsageInfo.prompt_tokens_details is declared, None, and model_dump() keeps it.
    expect(body.usage).toHaveProperty("prompt_tokens_details", null);
    expect(choice.stop_reason).toBeNull();
    if (flavour === "vllm-0.8") {
      expect("token_ids" in choice).toBe(false);
      expect("refusal" in msg).toBe(false);
    } else {
      // ≈0.10.2 on: token_ids / prompt_token_ids declared and None; ChatMessage's OpenAI extras None
      expect(choice).toHaveProperty("token_ids", null);
      expect(body).toHaveProperty("prompt_token_ids", null);
      for (const field of ["refusal", "annotations", "audio", "function_call"]) expect(msg).toHaveProperty(field, null);
    }
    if (flavour === "vllm-main") {
      expect(body.system_fingerprint).toMatch(/^vllm-0\.28\.0-[0-9a-f]{8}$/);
      expect("tool_calls" in msg).toBe(false); // PR #44105
      expect(body.usage.completion_tokens_details).toEqual({ reasoning_tokens: 30 }); // PR #45802
    } else if (flavour !== "vllm-0.8") {
      expect(body).toHaveProperty("system_fingerprint", null);
      expect(msg.tool_calls).toEqual([]);
      expect(body.usage.completion_tokens_details).toBeUndefined();
    }
  });

  it.each(VLLM.map((f) => [f]))("%s stream: exclude_unset chunks, separate finish chunk, usage chunk without nulls", async (flavour) => {
    const server = await sim({ flavour, scenario: "V1" });
    const sse = await readSse(await post(server, chatBody({ stream: true, stream_options: { include_usage: true } })));
    const [first, ...rest] = sse.chunks;
    const usage = sse.chunks.at(-1)!;
    const tokenChunks = rest.slice(0, -1);
    expect(first!.choices[0].delta).toEqual(flavour === "vllm-0.11" ? { role: "assistant", content: "", reasoning_content: null } : { role: "assistant", content: "" });
    const contentDeltas = tokenChunks.map((c) => c.choices[0].delta).filter((d) => typeof d.content === "string");
    if (flavour === "vllm-0.11") {
      // 0.11–0.15: the after-validator mirrors reasoning into reasoning_content on every delta
      expect(contentDeltas.every((d) => d.reasoning_content === null && !("reasoning" in d))).toBe(true);
    } else {
      expect(contentDeltas.every((d) => Object.keys(d).join() === "content")).toBe(true);
    }
    if (flavour === "vllm-0.8") {
      expect("prompt_token_ids" in first!).toBe(false);
      expect(tokenChunks.every((c) => !("token_ids" in c.choices[0]))).toBe(true);
    } else {
      expect(first).toHaveProperty("prompt_token_ids", null);
      expect("token_ids" in first!.choices[0]).toBe(false);
      expect(tokenChunks.every((c) => c.choices[0].token_ids === null && !("prompt_token_ids" in c))).toBe(true);
    }
    const finish = tokenChunks.at(-1)!;
    expect(finish.choices[0].finish_reason).toBe("stop");
    expect(joined(sse, "content")).toBe("The answer is 4.");
    // The usage-only chunk is dumped with exclude_none: no prompt_tokens_details: null there.
    expect(usage.choices).toEqual([]);
    expect("prompt_tokens_details" in usage.usage).toBe(false);
    // system_fingerprint: main only, on the last chunk only (the usage chunk when there is one)
    const withFingerprint = sse.chunks.filter((c) => "system_fingerprint" in c);
    expect(withFingerprint).toEqual(flavour === "vllm-main" ? [usage] : []);
    if (flavour === "vllm-main") {
      expect(usage.usage.completion_tokens_details).toEqual({ reasoning_tokens: 30 });
      const noUsage = await readSse(await post(server, chatBody({ stream: true })));
      expect(noUsage.chunks.filter((c) => "system_fingerprint" in c)).toEqual([noUsage.chunks.at(-1)]);
      expect(noUsage.chunks.at(-1)!.choices[0].finish_reason).toBe("stop");
    }
  });

  it("a stream cut by max_tokens carries finish_reason on the last real token's chunk", async () => {
    const server = await sim({ flavour: "vllm-0.16", scenario: "V2" });
    const sse = await readSse(await post(server, chatBody({ stream: true, max_tokens: 8 })));
    const last = sse.chunks.at(-1)!.choices[0];
    expect(last.finish_reason).toBe("length");
    expect(typeof last.delta.reasoning).toBe("string");
    expect(deltas(sse).filter((d) => typeof d.reasoning === "string")).toHaveLength(8);
  });

  it("wrong HTTP method on a known route: 405 {detail: Method Not Allowed} with allow (FastAPI)", async () => {
    const server = await sim({ flavour: "vllm-main" });
    const get = await fetch(`${server.baseUrl}/chat/completions`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect(await get.json()).toEqual({ detail: "Method Not Allowed" });
    const postModels = await fetch(`${server.baseUrl}/models`, { method: "POST" });
    expect(postModels.status).toBe(405);
    expect((await fetch(`${server.baseUrl}/nothing-here`)).status).toBe(404);
    // Go's mux (Ollama) has no 405: unknown method is its plain 404
    const ollama = await sim({ flavour: "ollama" });
    expect((await fetch(`${ollama.baseUrl}/chat/completions`)).status).toBe(404);
  });

  it("impossible shapes leave the vLLM flavours: V11 and V8b are refused there; V9b only exists there", async () => {
    for (const flavour of VLLM) {
      await expect(startSimulator({ flavour, scenario: "V11" })).rejects.toThrow(/cannot happen on vLLM/);
      await expect(startSimulator({ flavour, scenario: "V8b" })).rejects.toThrow(/llama\.cpp/);
    }
    await expect(startSimulator({ flavour: "llamacpp", scenario: "V9b" })).rejects.toThrow(/vllm-\*/);
    // main's qwen3 reasoning parser keeps a </think>-less output as reasoning: no V3 there
    await expect(startSimulator({ flavour: "vllm-main", scenario: "V3" })).rejects.toThrow(/qwen3_reasoning_parser/);
    expect((await sim({ flavour: "vllm-0.16", scenario: "V3" })).scenario).toBe("V3");
    // still there for the servers that do send them
    expect((await sim({ flavour: "sglang", scenario: "V11" })).scenario).toBe("V11");
  });

  it("E5 on vLLM: no 503 (vLLM has none); the request queues and is answered late", async () => {
    const server = await sim({ flavour: "vllm-0.16", scenario: "E5" });
    const started = performance.now();
    const res = await post(server, chatBody());
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).choices[0].message.content).toBe("The answer is 4.");
    expect(performance.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it("V9 on vLLM main: the XML is content and the empty tool_calls list is omitted (PR #44105)", async () => {
    const body = (await (await post(await sim({ flavour: "vllm-main", scenario: "V9" }), chatBody({ tools: [WEATHER_TOOL] }))).json()) as Json;
    expect(body.choices[0].message.content).toMatch(/^<tool_call>\n<function=get_weather>/);
    expect("tool_calls" in body.choices[0].message).toBe(false);
  });
});

describe("V9b: vLLM's hermes tool parser holds back Qwen3-Coder XML tool calls", () => {
  it.each((["vllm-0.11", "vllm-0.16", "vllm-main"] as Flavour[]).map((f) => [f]))(
    "%s stream: reasoning, then neither content nor tool_calls, finish stop; usage still counts the XML",
    async (flavour) => {
      const server = await sim({ flavour, scenario: "V9b" });
      const sse = await readSse(await post(server, chatBody({ tools: [WEATHER_TOOL], stream: true, stream_options: { include_usage: true } })));
      const ds = deltas(sse);
      expect(joined(sse, "reasoning")).toMatch(/^I should call a tool for this\./);
      expect(joined(sse, "content")).toBe("");
      expect(ds.some((d) => "tool_calls" in d)).toBe(false);
      const finish = sse.chunks.filter((c) => c.choices.length > 0).at(-1)!.choices[0];
      expect([finish.finish_reason, finish.delta]).toEqual(["stop", flavour === "vllm-0.11" ? { reasoning_content: null } : {}]);
      const usage = sse.chunks.at(-1)!.usage;
      expect(usage.completion_tokens).toBeGreaterThan(30 + 10);
    },
  );

  it("non-stream: json.loads fails, the XML comes back as content (V9's shape); no tools → a plain answer", async () => {
    const server = await sim({ flavour: "vllm-0.16", scenario: "V9b" });
    const body = (await (await post(server, chatBody({ tools: [WEATHER_TOOL] }))).json()) as Json;
    expect(body.choices[0].message.content).toMatch(/^<tool_call>\n<function=get_weather>\n<parameter=city>\nParis/);
    expect(body.choices[0].message.tool_calls).toEqual([]);
    expect(body.choices[0].finish_reason).toBe("stop");
    const plain = (await (await post(server, chatBody())).json()) as Json;
    expect(plain.choices[0].message.content).toBe("The answer is 4.");
  });
});
