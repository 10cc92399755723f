// The recording proxy against a tiny real upstream over loopback: pass-through, refusals,
// faults, and that the upstream URL never leaks to the agent side.
import { afterEach, describe, expect, it } from "vitest";
import http from "node:http";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretValue } from "../src/config/secret.ts";
import { startRecordingProxy, type ProxyOptions, type RecordingProxy } from "../src/proxy/proxy.ts";

const MODEL = "qwen3.6-35b-a3b";

interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
type Route = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

interface Upstream {
  port: number;
  seen: SeenRequest[];
  route: Route;
  server: http.Server;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function startUpstream(route: Route): Promise<Upstream> {
  const upstream: Upstream = { port: 0, seen: [], route, server: http.createServer() };
  upstream.server.on("request", (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      upstream.seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      upstream.route(req, res, body);
    });
  });
  await new Promise<void>((resolve) => upstream.server.listen(0, "127.0.0.1", resolve));
  upstream.port = (upstream.server.address() as { port: number }).port;
  cleanups.push(async () => {
    upstream.server.closeAllConnections();
    await new Promise((resolve) => upstream.server.close(resolve));
  });
  return upstream;
}

async function startProxy(upstreamUrl: string, extra: Partial<ProxyOptions> = {}): Promise<RecordingProxy> {
  const proxy = await startRecordingProxy({
    upstreamBaseUrl: new SecretValue(upstreamUrl),
    upstreamApiKey: new SecretValue("upstream-key-abc123"),
    admittedModel: MODEL,
    ...extra,
  });
  cleanups.push(() => proxy.close());
  return proxy;
}

interface ClientResult {
  status: number;
  body: string;
  complete: boolean;
  headers: http.IncomingHttpHeaders;
}

/** A plain HTTP client that reports whether the body arrived whole (a cut stream is not an exception here). */
function call(
  proxy: { port: number; token: string } | { socketPath: string; token: string },
  path: string,
  opts: { method?: string; body?: unknown; token?: string | null; onChunk?: (chunk: string) => void } = {},
): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: http.OutgoingHttpHeaders = { "content-type": "application/json" };
    const token = opts.token === undefined ? proxy.token : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const req = http.request(
      {
        ...("socketPath" in proxy ? { socketPath: proxy.socketPath } : { host: "127.0.0.1", port: proxy.port }),
        path,
        method: opts.method ?? (payload ? "POST" : "GET"),
        headers,
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
          opts.onChunk?.(chunk);
        });
        res.on("error", () => {});
        res.on("close", () => resolve({ status: res.statusCode ?? 0, body, complete: res.complete, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const chat = (model: string, stream = false): unknown => ({
  model,
  stream,
  messages: [{ role: "user", content: "2+2?" }],
  ...(stream ? { stream_options: { include_usage: true } } : {}),
});

const sse = (data: unknown): string => `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
const delta = (fields: Record<string, unknown>, finish: string | null = null): unknown => ({
  id: "c1",
  object: "chat.completion.chunk",
  choices: [{ index: 0, delta: fields, finish_reason: finish }],
});

function waitFor(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (predicate()) resolve();
      else if (Date.now() - start > ms) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

describe("recording proxy: pass-through", () => {
  it("streams SSE chunk by chunk without buffering and records usage, finish_reason and reasoning field", async () => {
    let releaseRest: () => void = () => {};
    const restReleased = new Promise<void>((resolve) => (releaseRest = resolve));
    let secondChunkSent = false;
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sse(delta({ role: "assistant", reasoning: "2+2 is" })));
      // A buffering proxy never shows chunk 1 early; release anyway so it fails below instead of hanging.
      setTimeout(releaseRest, 3000).unref();
      void restReleased.then(() => {
        secondChunkSent = true;
        res.write(sse(delta({ content: "4" })));
        res.write(sse(delta({}, "stop")));
        res.write(sse({ id: "c1", choices: [], usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19, completion_tokens_details: { reasoning_tokens: 3 } } }));
        res.end(sse("[DONE]"));
      });
    });
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`);

    const chunks: string[] = [];
    let secondSentBeforeFirstSeen: boolean | null = null;
    const result = await call(proxy, "/v1/chat/completions", {
      body: chat(MODEL, true),
      onChunk: (chunk) => {
        chunks.push(chunk);
        if (chunks.length === 1) {
          // The upstream holds chunk 2 back until we have seen chunk 1: a buffering proxy hangs here.
          secondSentBeforeFirstSeen = secondChunkSent;
          releaseRest();
        }
      },
    });

    expect(secondSentBeforeFirstSeen).toBe(false);
    expect(chunks[0]).toContain('"reasoning":"2+2 is"');
    expect(result.status).toBe(200);
    expect(result.complete).toBe(true);
    expect(result.body).toContain('"content":"4"');
    expect(result.body.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(result.headers["content-type"]).toBe("text/event-stream");

    // The upstream saw the real key, not the agent's token, and the same path.
    expect(upstream.seen[0]!.headers.authorization).toBe("Bearer upstream-key-abc123");
    expect(upstream.seen[0]!.url).toBe("/v1/chat/completions");
    expect(JSON.parse(upstream.seen[0]!.body)).toEqual(chat(MODEL, true));

    const [record] = proxy.records();
    expect(record).toMatchObject({
      seq: 1,
      method: "POST",
      path: "/v1/chat/completions",
      model: MODEL,
      stream: true,
      status: 200,
      refused: false,
      prompt_tokens: 12,
      completion_tokens: 7,
      reasoning_tokens: 3,
      finish_reason: "stop",
      reasoning_field: "reasoning",
      bytes: Buffer.byteLength(result.body),
    });
    expect(record!.ttfb_ms).not.toBeNull();
    expect(record!.upstream_error).toBeUndefined();
    expect(proxy.summary()).toEqual({
      requests: 1,
      models_seen: [MODEL],
      prompt_tokens: 12,
      completion_tokens: 7,
      fallback_detected: false,
      refused_requests: 0,
      errors: 0,
      models_answered: [],
    });
  });

  it("records a non-streamed answer's tokens and reasoning_content, and writes the record file", async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          choices: [{ index: 0, message: { role: "assistant", content: "4", reasoning_content: "think" }, finish_reason: "length" }],
          usage: { prompt_tokens: 5, completion_tokens: 9 },
        }),
      );
    });
    const dir = await mkdtemp(join(tmpdir(), "proxy-test-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const recordFile = join(dir, "backend", "model-requests.jsonl");
    const seenByCallback: unknown[] = [];
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`, { recordFile, onRecord: (r) => seenByCallback.push(r) });

    // Without the /v1 prefix the path maps onto the same upstream base.
    const result = await call(proxy, "/chat/completions", { body: chat(MODEL) });
    expect(result.status).toBe(200);
    expect(upstream.seen[0]!.url).toBe("/v1/chat/completions");
    expect(proxy.records()[0]).toMatchObject({
      stream: false,
      prompt_tokens: 5,
      completion_tokens: 9,
      finish_reason: "length",
      reasoning_field: "reasoning_content",
    });
    const lines = (await readFile(recordFile, "utf8")).trim().split("\n");
    expect(lines.map((line) => JSON.parse(line))).toEqual(proxy.records());
    expect(seenByCallback).toEqual(proxy.records());
  });

  it("keeps serving when the record observer throws", async () => {
    const upstream = await startUpstream((_req, res) => res.end('{"object":"list","data":[]}'));
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`, {
      onRecord: () => {
        throw new Error("observer bug");
      },
    });
    expect((await call(proxy, "/v1/models")).status).toBe(200);
    expect((await call(proxy, "/v1/models")).status).toBe(200);
    expect(proxy.records()).toHaveLength(2);
  });

  it("passes GET /v1/models through and records it with model null", async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: MODEL, object: "model", owned_by: "vllm" }] }));
    });
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`);
    const result = await call(proxy, "/v1/models");
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body).data[0].id).toBe(MODEL);
    expect(upstream.seen[0]!.url).toBe("/v1/models");
    expect(proxy.records()[0]).toMatchObject({ method: "GET", path: "/v1/models", model: null, status: 200, refused: false });
    expect(proxy.summary().models_seen).toEqual([]);
  });

  it("serves the same on its Unix socket", async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"object":"list","data":[]}');
    });
    const dir = await mkdtemp(join(tmpdir(), "proxy-sock-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const socketPath = join(dir, "proxy.sock");
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`, { unixSocketPath: socketPath });
    expect(proxy.socketPath).toBe(socketPath);
    const result = await call({ socketPath, token: proxy.token }, "/v1/models");
    expect(result.status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
  });
});

describe("recording proxy: refusals", () => {
  it("refuses claude-sonnet-4-6 with 403, never forwards it, and reports the fallback", async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [{ index: 0, message: { content: "ok" }, finish_reason: "stop" }] }));
    });
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`);

    expect((await call(proxy, "/v1/chat/completions", { body: chat(MODEL) })).status).toBe(200);
    const refused = await call(proxy, "/v1/chat/completions", { body: chat("claude-sonnet-4-6", true) });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toEqual({
      error: {
        message: `model 'claude-sonnet-4-6' is not admitted for this run (admitted: '${MODEL}'); cto-harness refused the request`,
        type: "model_not_admitted",
        code: "model_not_admitted",
      },
    });
    // An agent falling back to another API shape is refused the same way.
    expect((await call(proxy, "/v1/messages", { body: { model: "claude-sonnet-4-6", max_tokens: 10, messages: [] } })).status).toBe(403);
    // A model endpoint without a model would let the server choose: refused too.
    expect((await call(proxy, "/v1/chat/completions", { body: { messages: [] } })).status).toBe(403);

    expect(upstream.seen).toHaveLength(1);
    const records = proxy.records();
    expect(records[1]).toMatchObject({ model: "claude-sonnet-4-6", stream: true, status: 403, refused: true, refusal_reason: "model not admitted", ttfb_ms: null });
    expect(records[3]).toMatchObject({ model: null, status: 403, refused: true, refusal_reason: "request names no model" });
    expect(proxy.summary()).toMatchObject({
      requests: 4,
      models_seen: [MODEL, "claude-sonnet-4-6"],
      fallback_detected: true,
      refused_requests: 3,
      errors: 0,
    });
  });

  it("answers 401 without the run's token, records the attempt, and forwards nothing", async () => {
    const upstream = await startUpstream((_req, res) => res.end("{}"));
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`, { token: "run-token-1" });
    expect(proxy.token).toBe("run-token-1");

    const missing = await call(proxy, "/v1/chat/completions", { body: chat(MODEL), token: null });
    const wrong = await call(proxy, "/v1/models", { token: "upstream-key-abc123" });
    for (const result of [missing, wrong]) {
      expect(result.status).toBe(401);
      expect(JSON.parse(result.body).error).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key" });
    }
    expect(upstream.seen).toHaveLength(0);
    expect(proxy.records().map((r) => [r.status, r.refused, r.refusal_reason])).toEqual([
      [401, true, "missing or invalid proxy token"],
      [401, true, "missing or invalid proxy token"],
    ]);
    expect(proxy.summary().fallback_detected).toBe(false);
  });

  it("generates a fresh token when none is given", async () => {
    const upstream = await startUpstream((_req, res) => res.end("{}"));
    const a = await startProxy(`http://127.0.0.1:${upstream.port}/v1`);
    const b = await startProxy(`http://127.0.0.1:${upstream.port}/v1`);
    expect(a.token.length).toBeGreaterThanOrEqual(32);
    expect(a.token).not.toBe(b.token);
    expect(a.baseUrl).toBe(`http://127.0.0.1:${a.port}/v1`);
  });
});

describe("recording proxy: upstream faults reach the agent as faults", () => {
  it("answers 502 with an OpenAI-style body when the upstream refuses connections", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));

    const proxy = await startProxy(`http://127.0.0.1:${deadPort}/v1`);
    const result = await call(proxy, "/v1/chat/completions", { body: chat(MODEL) });
    expect(result.status).toBe(502);
    const error = JSON.parse(result.body).error;
    expect(error.code).toBe("upstream_unreachable");
    expect(error.message).toContain("upstream unreachable (ECONNREFUSED)");
    expect(result.body).not.toContain(String(deadPort));
    expect(proxy.records()[0]).toMatchObject({ status: 502, refused: false, upstream_error: "ECONNREFUSED", ttfb_ms: null });
    expect(JSON.stringify(proxy.records())).not.toContain(String(deadPort));
    expect(proxy.summary().errors).toBe(1);
  });

  it("passes an upstream 500 through with its body", async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end('{"error":{"message":"tools param requires --jinja flag","type":"server_error","code":500}}');
    });
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`);
    const result = await call(proxy, "/v1/chat/completions", { body: chat(MODEL) });
    expect(result.status).toBe(500);
    expect(result.body).toBe('{"error":{"message":"tools param requires --jinja flag","type":"server_error","code":500}}');
    expect(proxy.records()[0]).toMatchObject({ status: 500, upstream_error: "upstream status 500" });
    expect(proxy.summary().errors).toBe(1);
  });

  it("cuts the agent's stream when the upstream stream is cut mid-way", async () => {
    const upstream = await startUpstream((req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sse(delta({ content: "par" })));
      setTimeout(() => req.socket.destroy(), 50);
    });
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`);
    const result = await call(proxy, "/v1/chat/completions", { body: chat(MODEL, true) });
    expect(result.status).toBe(200);
    expect(result.body).toContain('"content":"par"');
    expect(result.complete).toBe(false);
    expect(proxy.records()[0]).toMatchObject({ status: 200, upstream_error: "stream cut", finish_reason: null });
  });

  it("passes an error event inside a 200 stream through and records it", async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sse(delta({ content: "par" })));
      res.write(sse({ error: { message: "engine died", type: "InternalServerError", code: 500 } }));
      res.end(sse("[DONE]"));
    });
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`);
    const result = await call(proxy, "/v1/chat/completions", { body: chat(MODEL, true) });
    expect(result.status).toBe(200);
    expect(result.complete).toBe(true);
    expect(result.body).toContain("engine died");
    expect(proxy.records()[0]).toMatchObject({ status: 200, upstream_error: "error in 200 stream" });
    expect(proxy.summary().errors).toBe(1);
  });

  it("waits for a slow first byte and records the time to it", async () => {
    const upstream = await startUpstream((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"choices":[{"index":0,"message":{"content":"4"},"finish_reason":"stop"}]}');
      }, 300);
    });
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`);
    const result = await call(proxy, "/v1/chat/completions", { body: chat(MODEL) });
    expect(result.status).toBe(200);
    expect(proxy.records()[0]!.ttfb_ms).toBeGreaterThanOrEqual(250);
    expect(proxy.records()[0]!.finish_reason).toBe("stop");
  });

  it("gives up on an upstream that never answers with a 504 after upstreamTimeoutMs", async () => {
    const upstream = await startUpstream(() => {
      /* never answers */
    });
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`, { upstreamTimeoutMs: 200 });
    const result = await call(proxy, "/v1/chat/completions", { body: chat(MODEL) });
    expect(result.status).toBe(504);
    expect(JSON.parse(result.body).error.code).toBe("upstream_timeout");
    expect(proxy.records()[0]).toMatchObject({ status: 504, upstream_error: "timeout" });
  });

  it("cuts a stalled stream after upstreamTimeoutMs of silence, but never a live one that runs longer", async () => {
    const upstream = await startUpstream((req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sse(delta({ content: "a" })));
      if (req.url?.includes("stall")) return; // then silence
      let n = 0;
      const tick = setInterval(() => {
        res.write(sse(delta({ content: "b" })));
        if (++n === 6) {
          clearInterval(tick);
          res.end(sse("[DONE]"));
        }
      }, 80);
    });
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`, { upstreamTimeoutMs: 250 });
    const live = await call(proxy, "/v1/chat/completions?live", { body: chat(MODEL, true) });
    expect(live.complete).toBe(true);
    const stalled = await call(proxy, "/v1/chat/completions?stall", { body: chat(MODEL, true) });
    expect(stalled.complete).toBe(false);
    expect(proxy.records().map((r) => r.upstream_error)).toEqual([undefined, "stream idle timeout"]);
  });

  it("aborts the upstream request when the agent disconnects", async () => {
    let upstreamClosed = false;
    const upstream = await startUpstream((req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sse(delta({ content: "a" })));
      res.on("close", () => (upstreamClosed = true));
      void req;
    });
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`);
    await new Promise<void>((resolve) => {
      const req = http.request(
        { host: "127.0.0.1", port: proxy.port, path: "/v1/chat/completions", method: "POST", headers: { authorization: `Bearer ${proxy.token}` }, agent: false },
        (res) => res.once("data", () => {
          req.destroy();
          resolve();
        }),
      );
      req.on("error", () => {});
      req.end(JSON.stringify(chat(MODEL, true)));
    });
    await waitFor(() => upstreamClosed, "the upstream request to be aborted");
    await waitFor(() => proxy.records().length === 1, "the record");
    expect(proxy.records()[0]).toMatchObject({ status: 200, client_aborted: true });
  });

  it("cuts and records requests still running when closed", async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sse(delta({ content: "a" })));
    });
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}/v1`);
    let first: () => void = () => {};
    const gotFirst = new Promise<void>((resolve) => (first = resolve));
    const pending = call(proxy, "/v1/chat/completions", { body: chat(MODEL, true), onChunk: () => first() });
    await gotFirst;
    await proxy.close();
    const result = await pending;
    expect(result.complete).toBe(false);
    expect(proxy.records()[0]).toMatchObject({ upstream_error: "proxy closed" });
  });
});

describe("recording proxy: the upstream URL stays secret", () => {
  it("never shows userinfo, password, query token or address in records, record file, responses or error bodies", async () => {
    const user = "canaryuser7f3a";
    const password = "canary-pass-9f3k2m";
    const queryToken = "canary-query-7x2p4q";
    let mode: "ok" | "500" | "stream" = "ok";
    const upstream = await startUpstream((_req, res) => {
      if (mode === "500") {
        res.writeHead(500, { "content-type": "application/json", location: "http://127.0.0.1/elsewhere" });
        res.end('{"error":{"message":"boom"}}');
      } else if (mode === "stream") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(sse(delta({ content: "x" })));
        res.end(sse({ id: "c", choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } }));
      } else {
        res.writeHead(200, { "content-type": "application/json", "set-cookie": "s=1; Domain=127.0.0.1" });
        res.end('{"choices":[{"index":0,"message":{"content":"4"},"finish_reason":"stop"}]}');
      }
    });
    const upstreamUrl = `http://${user}:${password}@127.0.0.1:${upstream.port}/v1?token=${queryToken}`;
    const dir = await mkdtemp(join(tmpdir(), "proxy-canary-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const recordFile = join(dir, "model-requests.jsonl");
    // No API key: the userinfo becomes the upstream's Basic auth.
    const proxy = await startRecordingProxy({ upstreamBaseUrl: new SecretValue(upstreamUrl), admittedModel: MODEL, recordFile });
    cleanups.push(() => proxy.close());

    const bodies: string[] = [];
    const headerDumps: string[] = [];
    const keep = (r: ClientResult): ClientResult => {
      bodies.push(r.body);
      headerDumps.push(JSON.stringify(r.headers));
      return r;
    };
    expect(keep(await call(proxy, "/v1/chat/completions?x=1", { body: chat(MODEL) })).status).toBe(200);
    mode = "stream";
    expect(keep(await call(proxy, "/v1/chat/completions", { body: chat(MODEL, true) })).status).toBe(200);
    mode = "500";
    expect(keep(await call(proxy, "/v1/chat/completions", { body: chat(MODEL) })).status).toBe(500);
    expect(keep(await call(proxy, "/v1/chat/completions", { body: chat("claude-sonnet-4-6") })).status).toBe(403);
    expect(keep(await call(proxy, "/v1/models", { token: "nope" })).status).toBe(401);

    // The upstream got the credentials the right way: Basic auth, base query kept, client query appended.
    expect(upstream.seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`);
    expect(upstream.seen[0]!.url).toBe(`/v1/chat/completions?token=${queryToken}&x=1`);
    expect(upstream.seen.every((s) => !s.url.includes(user) && !s.url.includes(password))).toBe(true);

    // Same check against a closed port so the unreachable error body is covered too.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const deadUrl = `http://${user}:${password}@127.0.0.1:${deadPort}/v1?token=${queryToken}`;
    const dead = await startRecordingProxy({ upstreamBaseUrl: new SecretValue(deadUrl), admittedModel: MODEL, recordFile });
    cleanups.push(() => dead.close());
    expect(keep(await call(dead, "/v1/chat/completions", { body: chat(MODEL) })).status).toBe(502);

    const everything = [
      ...bodies,
      ...headerDumps,
      JSON.stringify(proxy.records()),
      JSON.stringify(dead.records()),
      JSON.stringify(proxy.summary()),
      JSON.stringify(proxy),
      await readFile(recordFile, "utf8"),
    ].join("\n");
    const canaries = [
      user,
      password,
      queryToken,
      upstreamUrl,
      deadUrl,
      `127.0.0.1:${upstream.port}`,
      `127.0.0.1:${deadPort}`,
      `:${upstream.port}`,
      `:${deadPort}`,
      "Domain=127.0.0.1",
      "/elsewhere",
      encodeURIComponent(password),
      Buffer.from(`${user}:${password}`).toString("base64"),
    ];
    for (const canary of canaries) expect(everything, canary).not.toContain(canary);
  });

  it("rejects a malformed upstream URL without echoing it", async () => {
    const secret = "not a url with secret-zz9q";
    await expect(startRecordingProxy({ upstreamBaseUrl: new SecretValue(secret), admittedModel: MODEL })).rejects.toThrow(/not a valid URL/);
    await expect(startRecordingProxy({ upstreamBaseUrl: new SecretValue(secret), admittedModel: MODEL })).rejects.not.toThrow(/secret-zz9q/);
    await expect(startRecordingProxy({ upstreamBaseUrl: new SecretValue("ftp://u:secret-zz9q@h/v1"), admittedModel: MODEL })).rejects.toThrow(/http or https/);
  });
});
