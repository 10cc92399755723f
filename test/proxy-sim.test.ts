// The proxy between the OpenAI SDK (what agents use) and the simulator's server flavours:
// the records name the reasoning field each real server kind uses, and faults reach the SDK.
import { afterEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { SecretValue } from "../src/config/secret.ts";
import { startRecordingProxy } from "../src/proxy/proxy.ts";
import { startSimulator, type Flavour, type Scenario } from "../src/sim/server.ts";

const MODEL = "qwen3.6-35b-a3b";
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function streamThroughProxy(flavour: Flavour, scenario: Scenario, model = MODEL) {
  const sim = await startSimulator({ flavour, scenario, models: [MODEL] });
  cleanups.push(() => sim.close());
  const proxy = await startRecordingProxy({ upstreamBaseUrl: new SecretValue(sim.baseUrl), admittedModel: MODEL });
  cleanups.push(() => proxy.close());
  const client = new OpenAI({ baseURL: proxy.baseUrl, apiKey: proxy.token, maxRetries: 0 });
  let text = "";
  let error: unknown = null;
  try {
    const stream = await client.chat.completions.create({
      model,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 1024,
      messages: [{ role: "user", content: "What is 2+2?" }],
    });
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  } catch (e) {
    error = e;
  }
  return { proxy, sim, text, error };
}

describe("recording proxy with the simulator and the OpenAI SDK", () => {
  it.each([
    ["vllm-0.16", "reasoning"],
    ["vllm-0.11", "both"],
    ["vllm-0.8", "reasoning_content"],
    ["sglang", "reasoning_content"],
    ["llamacpp", "reasoning_content"],
  ] as const)("records %s's reasoning field as %s, with usage and finish_reason", async (flavour, field) => {
    const { proxy, text, error } = await streamThroughProxy(flavour, "V1");
    expect(error).toBeNull();
    expect(text).toContain("4");
    const [record] = proxy.records();
    expect(record).toMatchObject({ model: MODEL, stream: true, status: 200, finish_reason: "stop", reasoning_field: field });
    expect(record!.prompt_tokens).toBeGreaterThan(0);
    expect(record!.completion_tokens).toBeGreaterThan(0);
  });

  it("a cut stream fails the SDK's iteration and is recorded", async () => {
    const { proxy, error } = await streamThroughProxy("vllm-0.16", "stream-cut");
    expect(error).not.toBeNull();
    expect(proxy.records()[0]).toMatchObject({ status: 200, upstream_error: "stream cut" });
  });

  it("an error event in a 200 stream reaches the SDK and is recorded", async () => {
    const { proxy, error } = await streamThroughProxy("vllm-0.16", "E6");
    expect(error).not.toBeNull();
    expect(proxy.records()[0]).toMatchObject({ status: 200, upstream_error: "error in 200 stream" });
  });

  it("the SDK gets a 403 APIError for a fallback model, and the simulator never sees it", async () => {
    const { proxy, sim, error } = await streamThroughProxy("vllm-0.16", "V1", "claude-sonnet-4-6");
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
    expect(String((error as Error).message)).toContain("not admitted");
    expect(sim.requests.filter((r) => r.path.includes("chat"))).toHaveLength(0);
    expect(proxy.summary()).toMatchObject({ fallback_detected: true, models_seen: ["claude-sonnet-4-6"] });
  });
});
