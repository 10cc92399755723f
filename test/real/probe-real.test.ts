// The response-shape probe against a real llama-server: what it decides about each set-up the
// server can really be in. The tiny model is random, so "content" here is noise — but it is
// real content, really streamed by llama.cpp's own template, parser and SSE code. Sampling is
// the server's (seed 42), so each answer repeats. Budgets are small where a long random answer
// would hit llama.cpp's own parse failure (the last test shows it) instead of the case at hand.
import { describe, expect, it } from "vitest";
import { SecretValue } from "../../src/config/secret.ts";
import { classifyResponse, emptyEvidence } from "../../src/provider/classify.ts";
import { probeEndpoint, type ProbeResult } from "../../src/provider/probe.ts";
import { parseErrorBody } from "../../src/provider/response-evidence.ts";
import { realServer, requireInstall } from "./fixture.ts";
import { ensureTinyModel, SCRIPTED_TOOL_CALL, spawnLlamaServer, startLlamaServer, TINY_MODEL_ALIAS, type RunningLlamaServer } from "./llama-server.ts";
import { ownServerConfigured } from "./target.ts";

async function probe(server: RunningLlamaServer, opts: { model?: string; key?: string; budget?: number } = {}): Promise<ProbeResult> {
  return probeEndpoint(
    { baseUrl: new SecretValue(server.baseUrl), apiKey: opts.key ? new SecretValue(opts.key) : undefined, model: opts.model ?? TINY_MODEL_ALIAS },
    { budget: opts.budget ?? 1024, timeoutMs: 120_000 },
  );
}

// The set-ups are our tiny server's; against a user's own server only the endpoint-* files run.
describe.skipIf(ownServerConfigured())("probe against a real llama-server", () => {
  it("Qwen template, --jinja: content-only answer is allowed, the server is recognised, no tool call is invented", async () => {
    const server = await realServer();
    const r = await probe(server, { budget: 48 });
    expect(r.text.classification).toBe("OK_PLAIN");
    expect(r.verdict).toBe("allow");
    expect(r.server).toMatchObject({ reachable: true, kind: "llamacpp", owned_by: "llamacpp", model_served: true, simulated: false });
    expect(r.server.models).toEqual([TINY_MODEL_ALIAS]);
    expect(r.server.system_fingerprint).toMatch(/^b\d+-[0-9a-f]+$/);
    // Tools offered: a random model writes text, not a call. The probe must say so, not invent a call.
    expect(r.tools).not.toBeNull();
    expect(r.tools!.tool_calls).toBe(0);
    expect(r.tools!.classification).toBe("OK_PLAIN");
    expect(r.advice.join(" ")).toMatch(/without calling the offered tool/);
    expect(r.server.context_length).toBe(2048); // -c 4096 over 2 slots: the per-slot window, not n_ctx_train
  });

  it("thinking template (opens <think>), reasoning parser on: reasoning only, blocked with the budget advice", async () => {
    const server = await realServer({ template: "qwen-thinking", reasoningFormat: "deepseek" });
    const r = await probe(server, { budget: 64 });
    expect(r.text.classification).toBe("REASONING_ONLY_TRUNCATED");
    expect(r.verdict).toBe("block");
    expect(r.failure_reason).toBe("provider response shape unavailable");
    expect(r.marker).toBe("provider-reasoning-only.txt");
    expect(r.text.reasoning_fields).toEqual(["reasoning_content"]);
    expect(r.advice.join(" ")).toMatch(/budget|enable_thinking|reasoning-budget/);
  });

  it("a model name the server does not serve: llama.cpp answers anyway, the probe warns", async () => {
    const server = await realServer();
    const r = await probe(server, { model: "qwen3.6-35b-a3b", budget: 48 });
    expect(r.classification).toBe("MODEL_NAME_IGNORED");
    expect(r.verdict).toBe("warn");
    expect(r.server.model_served).toBe(false);
  });

  it("a wrong or missing API key: ERR_AUTH, and the key is never echoed", async () => {
    const key = "real-tier-key-4f1c9a";
    const server = await realServer({ apiKey: key });
    for (const given of [undefined, "wrong-key-123"]) {
      const r = await probe(server, { key: given, budget: 48 });
      expect(r.classification).toBe("ERR_AUTH");
      expect(r.verdict).toBe("block");
      expect(JSON.stringify(r)).not.toContain(key);
    }
    const ok = await probe(server, { key, budget: 48 });
    expect(ok.verdict).not.toBe("block");
  });

  it("context overflow: the real 400 (exceed_context_size_error) is ERR_CONTEXT_OVERFLOW", async () => {
    // llama.cpp's smallest slot is 256 tokens, more than the probe's own question: a long
    // prompt (an agent's) overflows it, and the probe's reading of that answer must say so.
    const server = await realServer({ ctx: 256, parallel: 1 });
    const res = await fetch(`${server.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: TINY_MODEL_ALIAS, messages: [{ role: "user", content: "word ".repeat(400) }], max_tokens: 8 }),
    });
    const evidence = { ...emptyEvidence("text"), status: res.status, error: parseErrorBody(await res.text()) };
    expect(evidence.error?.type).toBe("exceed_context_size_error");
    const verdict = classifyResponse(evidence, { budget: 1024, serverKind: "llamacpp", requestedModel: TINY_MODEL_ALIAS, servedModels: [TINY_MODEL_ALIAS], modelServed: true });
    expect(verdict.classification).toBe("ERR_CONTEXT_OVERFLOW");
    expect(verdict.verdict).toBe("block");
    // The probe itself reports the small window it found.
    expect((await probe(server, { budget: 48 })).server.context_length).toBe(256);
  });

  it("tools without --jinja: the probe reports how this server really answers", async () => {
    const server = await realServer({ jinja: false });
    const r = await probe(server, { budget: 48 });
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

  it("a long random answer: llama.cpp's own parser fails at the end and says so inside the 200 stream — ERR_STREAM, with its message", async () => {
    // Found by this tier: with --jinja, llama.cpp parses the whole output with the template's
    // grammar when generation ends; output that does not fit ends the stream with
    // data: {"error":{"code":500,"message":"The model produced output that does not match the expected peg-native format"}}
    // and no finish_reason (non-stream: HTTP 500). An agent would see a broken answer: block.
    const server = await realServer();
    const r = await probe(server, { budget: 1024 });
    expect(r.text.classification).toBe("OK_PLAIN"); // decided at the first content token, before the failure
    expect(r.tools?.classification).toBe("ERR_STREAM");
    expect(r.tools?.error).toMatch(/does not match the expected/);
    expect(r.classification).toBe("ERR_STREAM");
    expect(r.verdict).toBe("block");
  });

  it("a model that calls the offered tool (the scripted model): TOOL_CALLS_OK, allowed", async () => {
    const install = requireInstall();
    const server = await startLlamaServer({ install, model: ensureTinyModel(install, { script: SCRIPTED_TOOL_CALL }) });
    try {
      const r = await probe(server);
      expect(r.tools?.classification).toBe("TOOL_CALLS_OK");
      expect(r.tools?.tool_calls).toBe(1);
      expect(r.tools?.tool_names).toEqual(["get_weather"]);
      expect(r.tools?.finish_reason).toBe("tool_calls");
      // No tools offered: llama.cpp leaves the model's <tool_call> text in content, which says
      // nothing against the server (the tool probe proved the parser): the text probe allows it.
      expect(r.text.classification).toBe("OK_PLAIN");
      expect(r.verdict).toBe("allow");
    } finally {
      await server.stop();
    }
  });
});
