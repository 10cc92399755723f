// How the builtin agent names a failed model call: a server's error event inside a 200 stream
// (llama.cpp: "The model produced output that does not match the expected peg-native format",
// found by the real-server tier) is the server's answer, not a connection failure.
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { describeApiError } from "../src/engines/builtin-agent/api-error.ts";
import { startSimulator } from "../src/sim/server.ts";

describe("builtin agent: describeApiError", () => {
  it("an error event in a 200 stream from the llamacpp simulator is named as such, with the server's message", async () => {
    const sim = await startSimulator({ flavour: "llamacpp", scenario: "E6" });
    try {
      const client = new OpenAI({ baseURL: sim.baseUrl, apiKey: "x", maxRetries: 0 });
      let caught: unknown = null;
      try {
        const stream = await client.chat.completions.create({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
        for await (const _ of stream) void _;
      } catch (e) {
        caught = e;
      }
      expect(caught).not.toBeNull();
      const text = describeApiError(caught);
      expect(text).toMatch(/^error inside the response stream: /);
      expect(text).not.toContain("connection error");
    } finally {
      await sim.close();
    }
  });

  it("a refused connection is a connection error; an HTTP error names its status", async () => {
    const client = new OpenAI({ baseURL: "http://127.0.0.1:9/v1", apiKey: "x", maxRetries: 0 });
    const refused = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(describeApiError(refused)).toMatch(/^connection error: /);
    const sim = await startSimulator({ flavour: "llamacpp", scenario: "http-500" });
    try {
      const c = new OpenAI({ baseURL: sim.baseUrl, apiKey: "x", maxRetries: 0 });
      const e = await c.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).catch((x: unknown) => x);
      expect(describeApiError(e)).toMatch(/^HTTP 500: /);
    } finally {
      await sim.close();
    }
  });
});
