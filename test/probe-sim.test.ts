// The probe against the built-in simulator (src/sim/server.ts) over loopback: every
// reference scenario under every server flavour, so the classifier is checked against the
// real byte-level shapes each flavour sends (field names, null vs "", SSE details).
import { describe, expect, it } from "vitest";
import { SecretValue } from "../src/config/secret.ts";
import { probeEndpoint, renderProbeMarker } from "../src/provider/probe.ts";
import { FLAVOURS, startSimulator, type Flavour } from "../src/sim/server.ts";

const MODEL = "qwen3.6-35b-a3b";

const EXPECTED: Record<string, { cls: string; verdict: "allow" | "warn" | "block"; budget?: number; model?: string; tools?: string }> = {
  V1: { cls: "OK_REASONING", verdict: "allow", tools: "OK_REASONING" },
  V2: { cls: "REASONING_ONLY_TRUNCATED", verdict: "block", budget: 32 },
  V2b: { cls: "OK_REASONING", verdict: "allow" },
  V3: { cls: "REASONING_IN_CONTENT_UNTERMINATED", verdict: "block" },
  V4: { cls: "REASONING_IN_CONTENT_TAGGED", verdict: "block" },
  V4b: { cls: "REASONING_IN_CONTENT_UNTERMINATED", verdict: "block" },
  V5: { cls: "REASONING_IN_CONTENT_UNOPENED", verdict: "block" },
  V7: { cls: "CONTENT_MISROUTED_TO_REASONING", verdict: "block" },
  V8: { cls: "TOOLS_REJECTED_CONFIG", verdict: "block", tools: "TOOLS_REJECTED_CONFIG" },
  V8b: { cls: "TOOLS_REJECTED_CONFIG", verdict: "block", tools: "TOOLS_REJECTED_CONFIG" },
  V9: { cls: "TOOL_CALL_AS_TEXT", verdict: "block", tools: "TOOL_CALL_AS_TEXT" },
  V10: { cls: "OK_REASONING", verdict: "allow", tools: "TOOL_CALLS_OK" },
  V11: { cls: "TOOL_FINISH_MISMATCH", verdict: "block" },
  E1: { cls: "ERR_MODEL_NOT_FOUND", verdict: "block" },
  E1b: { cls: "MODEL_NAME_IGNORED", verdict: "warn", model: "some-other-model" },
  E2: { cls: "ERR_CONTEXT_OVERFLOW", verdict: "block" },
  E3: { cls: "ERR_AUTH", verdict: "block" },
  E4: { cls: "ERR_UNREACHABLE|ERR_LOADING", verdict: "block" },
  E5: { cls: "ERR_OVERLOADED", verdict: "block" },
  E6: { cls: "ERR_STREAM", verdict: "block" },
};

/**
 * What a flavour's server can send differs: vLLM never sends V11 or V8b (main not V3) and has no overload
 * 503 (E5 queues and is answered), and only vLLM's hermes parser holds a tool call back (V9b).
 */
function expectedFor(flavour: Flavour): [string, (typeof EXPECTED)[string]][] {
  const rows = Object.entries(EXPECTED);
  if (!flavour.startsWith("vllm")) return rows;
  return [
    ...rows
      .filter(([scenario]) => scenario !== "V11" && scenario !== "V8b" && !(scenario === "V3" && flavour === "vllm-main"))
      .map(([scenario, want]): [string, (typeof EXPECTED)[string]] => (scenario === "E5" ? [scenario, { cls: "OK_REASONING", verdict: "allow" }] : [scenario, want])),
    ["V9b", { cls: "TOOL_CALLS_SWALLOWED", verdict: "block", tools: "TOOL_CALLS_SWALLOWED" }],
  ];
}

const KIND: Record<Flavour, string> = {
  "vllm-0.8": "vllm",
  "vllm-0.11": "vllm",
  "vllm-0.16": "vllm",
  "vllm-main": "vllm",
  llamacpp: "llamacpp",
  ollama: "ollama",
  sglang: "sglang",
  lmstudio: "lmstudio",
};

describe.each(FLAVOURS.map((f) => [f] as const))("simulator flavour %s", (flavour) => {
  it("classifies every reference scenario", async () => {
    const rows = await Promise.all(
      expectedFor(flavour).map(async ([scenario, want]) => {
        const sim = await startSimulator({ flavour, scenario });
        try {
          const result = await probeEndpoint(
            { baseUrl: new SecretValue(sim.baseUrl), model: want.model ?? MODEL },
            { budget: want.budget ?? 1024, timeoutMs: 20_000 },
          );
          return { scenario, want, result, marker: renderProbeMarker(result) };
        } finally {
          await sim.close();
        }
      }),
    );
    const got = rows.map((r) => `${r.scenario}=${r.result.classification}/${r.result.verdict}`);
    const want = rows.map((r) => {
      const options = r.want.cls.split("|");
      const cls = options.includes(r.result.classification) ? r.result.classification : r.want.cls;
      return `${r.scenario}=${cls}/${r.want.verdict}`;
    });
    expect(got).toEqual(want);
    for (const { scenario, want: w, result } of rows) {
      if (w.tools) expect(result.tools?.classification, scenario).toBe(w.tools);
      if (result.server.reachable) {
        expect(result.server.simulated, scenario).toBe(true);
        if (result.server.kind !== null && scenario !== "E3") expect(result.server.kind, scenario).toBe(KIND[flavour]);
      }
      if (result.verdict === "block") expect(result.advice.length, scenario).toBeGreaterThan(0);
    }
    if (flavour === "llamacpp") expect(rows.find((r) => r.scenario === "E4")!.result.classification).toBe("ERR_LOADING");
    if (flavour.startsWith("vllm")) expect(rows.find((r) => r.scenario === "E4")!.result.classification).toBe("ERR_UNREACHABLE");
  });
});

describe("the user's qwen3.6 observation on one simulated server", () => {
  it("V2b reasoning (300 tokens): budget 32 blocks as reasoning-only, 1024 allows the delayed content", async () => {
    const sim = await startSimulator({ flavour: "vllm-0.16", scenario: "V2b" });
    try {
      const target = { baseUrl: new SecretValue(sim.baseUrl), model: MODEL };
      const small = await probeEndpoint(target, { budget: 32 });
      expect([small.classification, small.marker]).toEqual(["REASONING_ONLY_TRUNCATED", "provider-reasoning-only.txt"]);
      const realistic = await probeEndpoint(target, { budget: 1024 });
      expect([realistic.classification, realistic.verdict, realistic.marker]).toEqual(["OK_REASONING", "allow", null]);
      expect(realistic.text.reasoning_chars).toBeGreaterThan(0);
      expect(realistic.text.content_chars).toBeGreaterThan(0);
    } finally {
      await sim.close();
    }
  });
});

describe("vLLM with --tool-call-parser hermes serving Qwen3.6's XML tool calls (V9b)", () => {
  it.each([["vllm-0.16", "0.16.0", "/version"], ["vllm-main", "0.28.0", "system_fingerprint"]] as const)(
    "%s: the text probe passes, the tool probe blocks with tool-parser advice, never a reasoning parser",
    async (flavour, version, source) => {
      const sim = await startSimulator({ flavour, scenario: "V9b" });
      try {
        const result = await probeEndpoint({ baseUrl: new SecretValue(sim.baseUrl), model: MODEL }, { timeoutMs: 20_000 });
        expect([result.text.classification, result.tools?.classification, result.classification, result.verdict]).toEqual([
          "OK_REASONING",
          "TOOL_CALLS_SWALLOWED",
          "TOOL_CALLS_SWALLOWED",
          "block",
        ]);
        expect([result.failure_reason, result.marker]).toEqual(["provider response shape unavailable", "provider-response-shape-unavailable.txt"]);
        const advice = result.advice.join("\n");
        expect(advice).toMatch(/--tool-call-parser qwen3_coder/);
        expect(advice).not.toMatch(/Add `--reasoning-parser/);
        expect(result.tools).toMatchObject({ tool_calls: 0, content_chars: 0, finish_reason: "stop", stream: true });
        expect(result.tools!.reasoning_chars).toBeGreaterThan(0);
        // probe.json records the server version when the server tells it (system_fingerprint on main, else GET /version)
        expect([result.server.version, result.server.version_source]).toEqual([version, source]);
        if (flavour === "vllm-main") expect(result.server.system_fingerprint).toMatch(/^vllm-0\.28\.0-/);
        else expect(result.server.system_fingerprint).toBeNull();
        // asked again without streaming, the held-back XML shows: the Qwen3-Coder format
        expect(result.tools!.non_stream_recheck).toMatchObject({ status: 200, tool_calls: 0, content_has_tool_call_text: true, finish_reason: "stop" });
        expect(result.tools!.non_stream_recheck!.content_sample).toMatch(/^<tool_call>\n<function=get_weather>/);
        expect(advice).toMatch(/Asked again without streaming.*`<function=…>` XML is the Qwen3-Coder format/s);
        expect(sim.requests.filter((r) => r.path === "/v1/chat/completions" && r.tools.length > 0).map((r) => r.stream)).toEqual([true, false]);
        const marker = renderProbeMarker(result);
        expect(marker).toMatch(/TOOL_CALLS_SWALLOWED \(block\)/);
        expect(marker).toMatch(/structured `tool_calls`/);
        expect(marker).toMatch(/asked again without streaming: HTTP 200, finish_reason stop, tool_calls 0, content began: "<tool_call>/);
        expect(marker).toContain(`kind vllm ${version}`);
      } finally {
        await sim.close();
      }
    },
  );
});
