// The response-shape probe against a real llama-server: what it decides about each set-up the
// server can really be in. The tiny model is random, so "content" here is noise — but it is
// real content, really streamed by llama.cpp's own template, parser and SSE code.
import { describe, expect, it } from "vitest";
import { SecretValue } from "../../src/config/secret.ts";
import { probeEndpoint, type ProbeResult } from "../../src/provider/probe.ts";
import { realServer, requireInstall } from "./fixture.ts";
import { ensureTinyModel, spawnLlamaServer, TINY_MODEL_ALIAS, type RunningLlamaServer } from "./llama-server.ts";
import { ownServerConfigured } from "./target.ts";

async function probe(server: RunningLlamaServer, opts: { model?: string; key?: string; budget?: number } = {}): Promise<ProbeResult> {
  return probeEndpoint(
    { baseUrl: new SecretValue(server.baseUrl), apiKey: opts.key ? new SecretValue(opts.key) : undefined, model: opts.model ?? TINY_MODEL_ALIAS },
    { budget: opts.budget ?? 1024, timeoutMs: 120_000 },
  );
}

// The set-ups are our tiny server's; against a user's own server only the endpoint-* files run.
describe.skipIf(ownServerConfigured())("probe against a real llama-server", () => {
  it("Qwen template, --jinja: content-only answer is allowed, the server is recognised", async () => {
    const server = await realServer();
    const r = await probe(server);
    expect(r.text.classification).toBe("OK_PLAIN");
    expect(r.verdict).not.toBe("block");
    expect(r.server).toMatchObject({ reachable: true, kind: "llamacpp", owned_by: "llamacpp", model_served: true, simulated: false });
    expect(r.server.models).toEqual([TINY_MODEL_ALIAS]);
    expect(r.server.system_fingerprint).toMatch(/^b\d+-[0-9a-f]+$/);
    // Tools offered: a random model writes text, not a call. The probe must say so, not invent a call.
    expect(r.tools).not.toBeNull();
    expect(r.tools!.tool_calls).toBe(0);
    expect(r.tools!.classification).not.toBe("TOOL_CALLS_OK");
  });

  it("thinking template (opens <think>), reasoning parser on: reasoning only, blocked with the budget advice", async () => {
    const server = await realServer({ template: "qwen-thinking", reasoningFormat: "deepseek" });
    const r = await probe(server, { budget: 256 });
    expect(r.text.classification).toBe("REASONING_ONLY_TRUNCATED");
    expect(r.verdict).toBe("block");
    expect(r.failure_reason).toBe("provider response shape unavailable");
    expect(r.marker).toBe("provider-reasoning-only.txt");
    expect(r.text.reasoning_fields).toEqual(["reasoning_content"]);
    expect(r.advice.join(" ")).toMatch(/budget|enable_thinking|reasoning-budget/);
  });

  it("a model name the server does not serve: llama.cpp answers anyway, the probe warns", async () => {
    const server = await realServer();
    const r = await probe(server, { model: "qwen3.6-35b-a3b" });
    expect(r.classification).toBe("MODEL_NAME_IGNORED");
    expect(r.verdict).toBe("warn");
    expect(r.server.model_served).toBe(false);
  });

  it("a wrong or missing API key: ERR_AUTH, and the key is never echoed", async () => {
    const key = "real-tier-key-4f1c9a";
    const server = await realServer({ apiKey: key });
    for (const given of [undefined, "wrong-key-123"]) {
      const r = await probe(server, { key: given });
      expect(r.classification).toBe("ERR_AUTH");
      expect(r.verdict).toBe("block");
      expect(JSON.stringify(r)).not.toContain(key);
    }
    const ok = await probe(server, { key });
    expect(ok.verdict).not.toBe("block");
  });

  it("context overflow: a context smaller than the probe's prompt is ERR_CONTEXT_OVERFLOW", async () => {
    const server = await realServer({ ctx: 32, parallel: 1 });
    const r = await probe(server);
    expect(r.classification).toBe("ERR_CONTEXT_OVERFLOW");
    expect(r.verdict).toBe("block");
  });

  it("tools without --jinja: the probe reports how this server really answers", async () => {
    const server = await realServer({ jinja: false });
    const r = await probe(server);
    expect(r.verdict).toBe("block");
    expect(r.tools?.classification).toBe("TOOLS_REJECTED_CONFIG");
    expect(r.advice.join(" ")).toContain("--jinja");
  });

  it("a server still loading its model: ERR_LOADING while loading, allowed once ready", async () => {
    const install = requireInstall();
    // llama-server listens before it loads (the Qwen2 vocabulary alone takes seconds): 503 "Loading model".
    const server = await spawnLlamaServer({ install, model: ensureTinyModel(install) });
    try {
      let first: ProbeResult | null = null;
      const deadline = Date.now() + 30_000;
      while (first === null && Date.now() < deadline) {
        const r = await probe(server, { budget: 16 });
        if (r.classification !== "ERR_UNREACHABLE") first = r;
      }
      expect(first?.classification).toBe("ERR_LOADING");
      await server.ready(60_000);
      expect((await probe(server, { budget: 16 })).classification).not.toBe("ERR_LOADING");
    } finally {
      await server.stop();
    }
  });
});
