// The probe against real HTTP over loopback: a small node:http stand-in for a vLLM-like
// server whose reasoning length is fixed, so the budget alone decides between V2
// (reasoning only) and V2b (delayed content), exactly the user's qwen3.6 observation.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SecretValue } from "../src/config/secret.ts";
import { fingerprintOf, probeEndpoint, renderProbeMarker, type ProbeResult } from "../src/provider/probe.ts";
import { ProbeCache } from "../src/provider/probe-cache.ts";

interface StubOptions {
  reasoningTokens?: number;
  answer?: string;
  requireKey?: string;
  model?: string;
  /** Delay between stream chunks. */
  tokenDelayMs?: number;
  /** Stop sending (but keep the connection open) after this many deltas. */
  stallAfter?: number;
}

interface Stub {
  port: number;
  seen: { path: string; auth: string | undefined; body: Record<string, unknown> | null; closedEarly: boolean }[];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections(); // fetch keeps idle keep-alive sockets open
      return new Promise((r) => s.close(r));
    }),
  );
});

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

async function startStub(opts: StubOptions = {}): Promise<Stub> {
  const model = opts.model ?? "qwen3.6-35b-a3b";
  const seen: Stub["seen"] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    const body = req.method === "POST" ? (JSON.parse(await readBody(req)) as Record<string, unknown>) : null;
    const record = { path: `${url.pathname}${url.search}`, auth: req.headers.authorization, body, closedEarly: false };
    seen.push(record);
    if (opts.requireKey && req.headers.authorization !== `Bearer ${opts.requireKey}`) {
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "Unauthorized" }));
      return;
    }
    if (url.pathname.endsWith("/models")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: model, object: "model", owned_by: "vllm", max_model_len: 32768 }] }));
      return;
    }
    if (!url.pathname.endsWith("/chat/completions") || !body) {
      res.writeHead(404).end("Not Found");
      return;
    }
    if (body.model !== model) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `The model \`${String(body.model)}\` does not exist.`, type: "NotFoundError", code: 404 } }));
      return;
    }
    const budget = typeof body.max_tokens === "number" ? body.max_tokens : 1024;
    const tools = Array.isArray(body.tools) && body.tools.length > 0;
    const deltas: Record<string, unknown>[] = [];
    const reasoningTokens = opts.reasoningTokens ?? 100;
    let used = 0;
    for (; used < Math.min(reasoningTokens, budget); used++) deltas.push({ reasoning: used === 0 ? "Okay, " : "thinking " });
    let finish = "length";
    if (used < budget) {
      if (tools) {
        deltas.push({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }] });
        deltas.push({ tool_calls: [{ index: 0, function: { arguments: '{"city": "Paris"}' } }] });
        finish = "tool_calls";
      } else {
        const words = (opts.answer ?? "The capital of France is Paris.\n").split(/(?<= )/);
        for (const w of words) {
          if (used++ >= budget) break;
          deltas.push({ content: w });
        }
        finish = used <= budget ? "stop" : "length";
      }
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.on("close", () => {
      if (!res.writableFinished) record.closedEarly = true;
    });
    const send = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
    send({ object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
    res.write(": ping\n\n");
    for (const [i, d] of deltas.entries()) {
      if (res.destroyed) return;
      if (opts.stallAfter !== undefined && i >= opts.stallAfter) return; // hang: no more bytes
      send({ object: "chat.completion.chunk", choices: [{ index: 0, delta: d, finish_reason: null }] });
      if (opts.tokenDelayMs) await new Promise((r) => setTimeout(r, opts.tokenDelayMs));
    }
    send({ object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: finish }] });
    send({ object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 20, completion_tokens: Math.min(used, budget), total_tokens: 20 + used } });
    res.end("data: [DONE]\n\n");
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { port, seen, close: () => new Promise((r) => server.close(() => r())) };
}

const target = (port: number, extra: { apiKey?: string; model?: string; url?: string } = {}) => ({
  baseUrl: new SecretValue(extra.url ?? `http://127.0.0.1:${port}/v1`),
  apiKey: extra.apiKey ? new SecretValue(extra.apiKey) : undefined,
  model: extra.model ?? "qwen3.6-35b-a3b",
});

describe("probeEndpoint over loopback", () => {
  it("V2: reasoning that outlasts max_tokens=32 blocks as REASONING_ONLY_TRUNCATED with the reasoning-only marker", async () => {
    const stub = await startStub({ reasoningTokens: 100 });
    const result = await probeEndpoint(target(stub.port), { budget: 32 });
    expect(result.classification).toBe("REASONING_ONLY_TRUNCATED");
    expect(result.verdict).toBe("block");
    expect(result.failure_reason).toBe("provider response shape unavailable");
    expect(result.marker).toBe("provider-reasoning-only.txt");
    expect(result.text.finish_reason).toBe("length");
    expect(result.text.content_chars).toBe(0);
    expect(result.text.reasoning_fields).toEqual(["reasoning"]);
    expect(result.server).toMatchObject({ reachable: true, kind: "vllm", models: ["qwen3.6-35b-a3b"], model_served: true, context_length: 32768, simulated: false });
    const chat = stub.seen.find((s) => s.path.endsWith("/chat/completions") && !s.body?.tools);
    expect(chat?.body).toMatchObject({ max_tokens: 32, stream: true, stream_options: { include_usage: true } });
    const marker = renderProbeMarker(result);
    expect(marker).toMatch(/REASONING_ONLY_TRUNCATED/);
    expect(marker).toMatch(/Expected:/);
    expect(marker).toMatch(/enable_thinking=false/);
  });

  it("V2b: the same server with budget 1024 is allowed (delayed content), decided early, tools probed concurrently", async () => {
    const stub = await startStub({ reasoningTokens: 100, answer: "The capital of France is Paris. ".repeat(40) });
    const result = await probeEndpoint(target(stub.port), { budget: 1024 });
    expect(result.verdict).toBe("allow");
    expect(result.classification).toBe("OK_REASONING");
    expect(result.failure_reason).toBeNull();
    expect(result.marker).toBeNull();
    expect(result.text.decided_early).toBe(true);
    expect(result.tools).toMatchObject({ classification: "TOOL_CALLS_OK", tool_calls: 1, tool_names: ["get_weather"], arguments_valid: true });
    const tools = stub.seen.find((s) => Array.isArray(s.body?.tools));
    expect(tools?.body).toMatchObject({ tool_choice: "auto" });
    expect(result.timings.first_reasoning_ms).not.toBeNull();
    expect(result.timings.first_content_ms).not.toBeNull();
    expect(result.timings.first_reasoning_ms!).toBeLessThanOrEqual(result.timings.first_content_ms!);
  });

  it("stops reading the stream as soon as the verdict is in", async () => {
    const stub = await startStub({ reasoningTokens: 5, answer: "The capital of France is Paris. ".repeat(200), tokenDelayMs: 5 });
    const result = await probeEndpoint(target(stub.port), { budget: 2048 });
    expect(result.verdict).toBe("allow");
    expect(result.text.decided_early).toBe(true);
    // Long answer (~1000 chunks at 5 ms): the probe read only a prefix and hung up.
    expect(result.text.chunks).toBeLessThan(60);
    await new Promise((r) => setTimeout(r, 50));
    expect(stub.seen.find((s) => s.path.endsWith("/chat/completions") && !s.body?.tools)?.closedEarly).toBe(true);
  });

  it("connection refused: ERR_UNREACHABLE, provider unreachable, advice mentions loading", async () => {
    const stub = await startStub();
    const port = stub.port;
    await stub.close();
    const result = await probeEndpoint(target(port));
    expect(result.classification).toBe("ERR_UNREACHABLE");
    expect(result.verdict).toBe("block");
    expect(result.failure_reason).toBe("provider unreachable");
    expect(result.marker).toBe("provider-unreachable.txt");
    expect(result.text.connection_error).toBe("ECONNREFUSED");
    expect(result.server.reachable).toBe(false);
    expect(result.advice.join(" ")).toMatch(/loading/);
  });

  it("E3: a server that wants a key gives ERR_AUTH; with the key it is allowed", async () => {
    const stub = await startStub({ requireKey: "sekret-key-123" });
    const denied = await probeEndpoint(target(stub.port));
    expect(denied.classification).toBe("ERR_AUTH");
    expect(denied.failure_reason).toBe("provider response shape unavailable");
    expect(denied.marker).toBe("provider-response-shape-unavailable.txt");
    const allowed = await probeEndpoint(target(stub.port, { apiKey: "sekret-key-123" }));
    expect(allowed.verdict).toBe("allow");
    expect(JSON.stringify(allowed)).not.toContain("sekret-key-123");
  });

  it("E1: a model the server does not serve is ERR_MODEL_NOT_FOUND, advice lists the served id", async () => {
    const stub = await startStub();
    const result = await probeEndpoint(target(stub.port, { model: "claude-sonnet-4-6" }));
    expect(result.classification).toBe("ERR_MODEL_NOT_FOUND");
    expect(result.server.model_served).toBe(false);
    expect(result.advice.join(" ")).toContain("qwen3.6-35b-a3b");
  });

  it("never leaks the base URL, its credentials or query token, or the key into the result or marker", async () => {
    const stub = await startStub({ reasoningTokens: 100 });
    const url = `http://user:canary-pass@127.0.0.1:${stub.port}/v1?token=canary-tok`;
    const results: ProbeResult[] = [
      await probeEndpoint({ ...target(stub.port, { url }), apiKey: undefined }, { budget: 32 }),
      await probeEndpoint(target(stub.port, { url, apiKey: "canary-key" }), { budget: 1024 }),
    ];
    // The URL's parts were honoured: query kept, user:pass sent as Basic auth (or the key as Bearer).
    expect(stub.seen[0]!.path).toBe("/v1/models?token=canary-tok");
    expect(stub.seen[0]!.auth).toBe(`Basic ${Buffer.from("user:canary-pass").toString("base64")}`);
    expect(stub.seen.some((s) => s.auth === "Bearer canary-key")).toBe(true);
    const closedPort = (await startStub()).port;
    await new Promise((r) => servers.pop()!.close(r));
    results.push(await probeEndpoint(target(closedPort, { url: `http://user:canary-pass@127.0.0.1:${closedPort}/v1?token=canary-tok`, apiKey: "canary-key" })));
    results.push(await probeEndpoint(target(0, { url: "not a url canary-tok" })));
    for (const result of results) {
      const text = JSON.stringify(result) + renderProbeMarker(result);
      for (const secret of ["canary-pass", "canary-tok", "canary-key", `127.0.0.1:${stub.port}`, `127.0.0.1:${closedPort}`]) {
        expect(text).not.toContain(secret);
      }
    }
    expect(results.map((r) => r.classification)).toEqual(["REASONING_ONLY_TRUNCATED", "OK_REASONING", "ERR_UNREACHABLE", "ERR_UNREACHABLE"]);
  });
});

describe("probeEndpoint deadlines", () => {
  it("a stream that stalls mid-reasoning ends at the timeout as ERR_STREAM with the reasoning seen", async () => {
    const stub = await startStub({ reasoningTokens: 100, stallAfter: 10 });
    const result = await probeEndpoint(target(stub.port), { budget: 1024, timeoutMs: 400 });
    expect(result.classification).toBe("ERR_STREAM");
    expect(result.text.reasoning_chars).toBeGreaterThan(0);
    expect(result.advice.join(" ")).toMatch(/still reasoning/);
    expect(result.timings.verdict_ms!).toBeLessThan(5000);
  });

  it("the caller's abort signal stops the probe with an AbortError that carries no URL", async () => {
    const stub = await startStub({ reasoningTokens: 100, stallAfter: 10 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await probeEndpoint(target(stub.port, { url: `http://127.0.0.1:${stub.port}/v1?token=canary-tok` }), { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe("AbortError");
    expect(String((error as Error).message)).not.toContain("canary-tok");
  });
});

describe("ProbeCache", () => {
  it("re-uses an allowed result while /models shows the same setup, re-probes when it changes", async () => {
    const stub = await startStub({ reasoningTokens: 3 });
    let probes = 0;
    const cache = new ProbeCache({
      probe: async (t, o) => {
        probes++;
        return probeEndpoint(t, o);
      },
    });
    const first = await cache.probe("qwen-local", target(stub.port));
    expect(first.cached).toBe(false);
    expect(fingerprintOf(first.result)).toBe("vllm|qwen3.6-35b-a3b|32768");
    const second = await cache.probe("qwen-local", target(stub.port));
    expect([second.cached, probes]).toEqual([true, 1]);
    cache.invalidate("qwen-local");
    expect((await cache.probe("qwen-local", target(stub.port))).cached).toBe(false);
    // A different server (other model list) behind the same name: fingerprint differs.
    const other = await startStub({ model: "qwen3.6-35b-a3b", reasoningTokens: 3 });
    const moved = await cache.probe("qwen-local", target(other.port, { model: "qwen3.6-35b-a3b" }));
    expect(moved.cached).toBe(true); // same kind, models, context: same setup
    const changed = await startStub({ model: "other-model" });
    const after = await cache.probe("qwen-local", target(changed.port, { model: "qwen3.6-35b-a3b" }));
    expect(after.cached).toBe(false);
    expect(probes).toBe(3);
  });

  it("never caches a blocking result", async () => {
    const stub = await startStub({ reasoningTokens: 100 });
    const cache = new ProbeCache();
    await cache.probe("p", target(stub.port), { budget: 32 });
    expect(cache.get("p")).toBeUndefined();
  });
});
