// Advice that depends on the server kind: which reasoning parser or tool parser flag to set
// on vLLM, SGLang, llama.cpp, Ollama or LM Studio, and what a non-streamed repeat of a
// swallowed tool call shows. Apart from the classification because it is text for a person
// that changes with the servers' flags and versions, not with the response shapes.
import { analyseContent } from "./content-shape.ts";
import type { ResponseEvidence, ServerKind } from "./probe-classes.ts";

/** A server message quoted in advice, cut to `n` characters. */
export function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

export function reasoningParserAdvice(kind: ServerKind | null, unopened = false): string[] {
  switch (kind) {
    case "vllm":
      return unopened
        ? ["Add `--reasoning-parser qwen3` to `vllm serve` (on vLLM before ≈0.10, `--reasoning-parser deepseek_r1`, which accepts a missing <think>)."]
        : ["Add `--reasoning-parser qwen3` to `vllm serve` (`deepseek_r1` for DeepSeek-R1 models; before vLLM 0.10 also `--enable-reasoning`)."];
    case "sglang":
      return ["Add `--reasoning-parser qwen3` to the SGLang server."];
    case "llamacpp":
      return ["Start llama-server with `--reasoning-format auto` (or `deepseek`): `none` and `deepseek-legacy` leave <think> in content."];
    case "lmstudio":
      return ["Turn on 'separate reasoning_content' (Developer settings) in LM Studio."];
    case "ollama":
      return ["Update Ollama (≥0.11 puts reasoning in the `reasoning` field)."];
    default:
      return [
        "Enable the server's reasoning parser: vLLM/SGLang `--reasoning-parser qwen3`, llama.cpp `--reasoning-format auto`, LM Studio 'separate reasoning_content'.",
      ];
  }
}

export function toolParserAdvice(kind: ServerKind | null, problem: "rejected" | "as-text" | "mismatch" | "swallowed"): string[] {
  const vllmFlags =
    problem === "rejected"
      ? "Add `--enable-auto-tool-choice --tool-call-parser qwen3_coder` to `vllm serve` (`hermes` for Qwen3/Qwen2.5 JSON tool calls)."
      : "Use the tool parser that matches the model: `--tool-call-parser qwen3_coder` (or `qwen3_xml`) for Qwen3-Coder / Qwen3.5 / Qwen3.6 XML tool calls, `hermes` for Qwen3 / Qwen2.5 JSON.";
  if (problem === "swallowed") {
    switch (kind) {
      case "vllm":
        return [
          "Start vLLM with the tool parser that matches the model: `--tool-call-parser qwen3_coder` for Qwen3-Coder / Qwen3.5 / Qwen3.6 (they write XML `<tool_call><function=…>` calls; `hermes` only reads JSON inside <tool_call> and, streaming, holds the XML back without ever emitting it).",
          "The reasoning parser is fine (the text probe's answer arrived in `content`): do not change `--reasoning-parser`.",
        ];
      case "sglang":
        return ["Start SGLang with the tool parser that matches the model: `--tool-call-parser qwen3_coder` for Qwen3-Coder / Qwen3.5 / Qwen3.6 XML tool calls."];
      default:
        return [
          "Configure the server's tool-call parser for this model's format (vLLM/SGLang `--tool-call-parser qwen3_coder` for Qwen3-Coder / Qwen3.5 / Qwen3.6 XML calls).",
          "The reasoning parser is fine (the text probe's answer arrived in `content`).",
        ];
    }
  }
  switch (kind) {
    case "vllm":
      return [vllmFlags];
    case "sglang":
      return ["Start SGLang with `--tool-call-parser qwen3_coder` (or `qwen25` for JSON tool calls)."];
    case "llamacpp":
      return ["Start llama-server with `--jinja` (a recent build; the model's own chat template must support tools)."];
    case "ollama":
      return ["Use a model whose Ollama template supports tools (`ollama show <model>` lists 'tools' under Capabilities), and a current Ollama."];
    case "lmstudio":
      return ["Load a model LM Studio marks as tool-capable and update LM Studio."];
    default:
      return [vllmFlags, "llama.cpp: start llama-server with `--jinja`."];
  }
}

/**
 * What a non-streamed repeat of a swallowed tool request showed (TOOL_CALLS_SWALLOWED): the
 * call as text proves the model's format; a parsed call means only the streaming path loses it.
 */
export function swallowedRecheckAdvice(recheck: ResponseEvidence, kind: ServerKind | null): string[] {
  if (recheck.toolCalls > 0) {
    return [
      "Asked again without streaming, the server did parse the tool call: only its streaming path loses it. Agents stream, so this still breaks them; use the model's own parser (`--tool-call-parser qwen3_coder` for Qwen3-Coder / Qwen3.5 / Qwen3.6) or a vLLM with a fixed streaming parser.",
    ];
  }
  const shape = analyseContent(recheck.content);
  if (shape.hasToolCallText) {
    const xml = /<function=/i.test(recheck.content);
    return [
      `Asked again without streaming, the server returned the tool call as text in \`content\` (${JSON.stringify(truncate(recheck.content.trimStart(), 60))})${
        xml ? ": `<function=…>` XML is the Qwen3-Coder format, which `qwen3_coder` reads and `hermes` does not" : ""
      }.`,
      ...(kind === "vllm" && xml ? [] : toolParserAdvice(kind, "as-text")),
    ];
  }
  return [];
}
