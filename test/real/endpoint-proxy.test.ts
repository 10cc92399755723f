// The recording proxy in front of a real server (the tiny llama-server, or the user's own:
// test/real/target.ts): the bytes the server wrote reach the client unchanged, usage and finish
// reasons are read right, a non-admitted model is refused and never forwarded.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretValue } from "../../src/config/secret.ts";
import { startRecordingProxy, type RecordingProxy } from "../../src/proxy/proxy.ts";
import { tempDir } from "../helpers/run-env.ts";
import { realTarget, type RealTarget } from "./target.ts";
import { httpResponseBody, startTcpTee, type TcpTee } from "./tcp-tee.ts";

/** Per-request values (ids, clocks, speeds, prompt-cache hits) blanked so two answers to one greedy request compare. */
function blankVolatile(text: string): string {
  return text
    .replace(/"id":"[^"]*"/g, '"id":""')
    .replace(/"created":\d+/g, '"created":0')
    .replace(/"cached_tokens":\d+/g, '"cached_tokens":0')
    .replace(/"timings":\{[^}]*\}/g, '"timings":{}');
}

let target: RealTarget;
let tee: TcpTee | null = null;
let proxy: RecordingProxy;
let recordFile: string;
let ask: Record<string, unknown>;

beforeAll(async () => {
  target = await realTarget({ ctx: 4096 });
  ask = { model: target.model, messages: [{ role: "user", content: "What is 2+2?" }], temperature: 0, max_tokens: 12 };
  const upstream = new URL(target.baseUrl);
  let upstreamUrl = target.baseUrl;
  if (upstream.protocol === "http:") {
    // A byte-recording hop between the proxy and the server: what the server wrote on the wire.
    tee = await startTcpTee(upstream.hostname, Number(upstream.port || 80));
    upstream.hostname = "127.0.0.1";
    upstream.port = String(tee.port);
    upstreamUrl = upstream.href;
  }
  recordFile = join(tempDir("real-proxy"), "model-requests.jsonl");
  proxy = await startRecordingProxy({
    upstreamBaseUrl: new SecretValue(upstreamUrl),
    upstreamApiKey: target.apiKey ? new SecretValue(target.apiKey) : undefined,
    admittedModel: target.model,
    recordFile,
  });
});
afterAll(async () => {
  await proxy?.close();
  await tee?.close();
});

async function viaProxy(body: unknown): Promise<{ status: number; text: string; contentType: string | null }> {
  const res = await fetch(`${proxy.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${proxy.token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text(), contentType: res.headers.get("content-type") };
}

async function direct(body: unknown): Promise<string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  const res = await fetch(`${target.baseUrl.replace(/\/+$/, "")}/chat/completions`, { method: "POST", headers, body: JSON.stringify(body) });
  return res.text();
}

function lastRecord(): Record<string, unknown> {
  const lines = readFileSync(recordFile, "utf8").trim().split("\n");
  return JSON.parse(lines.at(-1)!) as Record<string, unknown>;
}

describe("recording proxy against a real server", () => {
  it("non-stream: the client gets exactly the bytes the server wrote; usage and finish reason recorded", async () => {
    const mark = tee?.mark();
    const got = await viaProxy(ask);
    expect(got.status, got.text.slice(0, 500)).toBe(200);
    if (mark) expect(httpResponseBody(mark.since()).body.toString("utf8")).toBe(got.text);
    // The tiny model is greedy and deterministic: asked directly, the same answer but for per-request values.
    if (target.kind === "tiny") expect(blankVolatile(got.text)).toBe(blankVolatile(await direct(ask)));
    const body = JSON.parse(got.text) as { usage: { prompt_tokens: number; completion_tokens: number }; choices: { finish_reason: string }[] };
    expect(lastRecord()).toMatchObject({
      model: target.model,
      status: 200,
      refused: false,
      stream: false,
      prompt_tokens: body.usage.prompt_tokens,
      completion_tokens: body.usage.completion_tokens,
      finish_reason: body.choices[0]!.finish_reason,
    });
    if (target.kind === "tiny") expect(body.choices[0]!.finish_reason).toBe("length"); // 12 tokens of a random model
  });

  it("stream with usage: SSE bytes unchanged, usage and finish reason read from the stream", async () => {
    const req = { ...ask, stream: true, stream_options: { include_usage: true } };
    const mark = tee?.mark();
    const got = await viaProxy(req);
    expect(got.status).toBe(200);
    expect(got.contentType).toContain("text/event-stream");
    if (mark) expect(httpResponseBody(mark.since()).body.toString("utf8")).toBe(got.text);
    if (target.kind === "tiny") expect(blankVolatile(got.text)).toBe(blankVolatile(await direct(req)));
    const chunks = got.text
      .split("\n")
      .filter((l) => l.startsWith("data: {"))
      .map((l) => JSON.parse(l.slice(6)) as { usage?: { prompt_tokens: number; completion_tokens: number }; choices: { finish_reason?: string | null }[] });
    const usage = chunks.find((c) => c.usage && c.choices.length === 0)?.usage;
    expect(usage, "usage-only last chunk").toBeDefined();
    const finish = chunks.map((c) => c.choices[0]?.finish_reason).find((f) => f !== null && f !== undefined);
    expect(lastRecord()).toMatchObject({ stream: true, status: 200, prompt_tokens: usage!.prompt_tokens, completion_tokens: usage!.completion_tokens, finish_reason: finish });
  });

  it("stream without usage: the finish reason is read, token counts are not invented", async () => {
    const got = await viaProxy({ ...ask, stream: true });
    expect(got.status).toBe(200);
    const rec = lastRecord();
    expect(rec.finish_reason).not.toBeNull();
    if (target.kind === "tiny") expect(rec.finish_reason).toBe("length");
    const timings = /"timings":\{[^}]*"predicted_n":(\d+)/.exec(got.text);
    // Whatever the proxy records must come from the stream (llama.cpp's timings), never be made up.
    if (rec.completion_tokens !== null) expect(timings ? Number(timings[1]) : null).toBe(rec.completion_tokens);
  });

  it("a model other than the admitted one is refused and never reaches the server", async () => {
    const before = tee?.totalBytes();
    const got = await viaProxy({ ...ask, model: "claude-sonnet-4-6" });
    expect(got.status).toBeGreaterThanOrEqual(400);
    expect(got.text).toContain("not admitted");
    if (tee) expect(tee.totalBytes()).toBe(before); // the server answered nothing: it was never asked
    expect(lastRecord()).toMatchObject({ model: "claude-sonnet-4-6", refused: true, refusal_reason: "model not admitted" });
    expect(proxy.summary().fallback_detected).toBe(true);
  });
});
