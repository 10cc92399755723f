// What distinguishes one real server's OpenAI-compatible surface from another's.
// Every field is a fact from shared/reference/response-shapes.md (or the server's own
// code where the reference is silent); the renderers only read these profiles.

export type Flavour = "vllm-0.8" | "vllm-0.11" | "vllm-0.16" | "llamacpp" | "ollama" | "sglang" | "lmstudio";

export const FLAVOURS: readonly Flavour[] = ["vllm-0.8", "vllm-0.11", "vllm-0.16", "llamacpp", "ollama", "sglang", "lmstudio"];

export type ServerKind = "vllm" | "llamacpp" | "ollama" | "sglang" | "lmstudio";
export type ReasoningField = "reasoning" | "reasoning_content";

export interface FlavourProfile {
  flavour: Flavour;
  kind: ServerKind;
  /** Version string the server reports (vLLM `/version`, Ollama `/api/version`, llama.cpp build). */
  version: string;
  /** Message/delta field(s) carrying reasoning text; vLLM ≈0.11–0.15 sends the same text in both. */
  reasoningFields: readonly ReasoningField[];
  /** Non-stream message carries the reasoning field(s) as null when there is none (vLLM, SGLang). */
  reasoningNullWhenEmpty: boolean;
  /** `content` when the model produced none: vLLM/SGLang/LM Studio null, llama.cpp/Ollama "". */
  emptyContent: null | "";
  /** How a message without tool calls says so: `[]` (vLLM, LM Studio), `null` (SGLang), absent. */
  noToolCalls: "empty-list" | "null" | "absent";
  /** Error body family (see errors.ts). */
  errorStyle: "vllm-flat" | "vllm-nested" | "llamacpp" | "ollama" | "sglang" | "lmstudio";
  /** Stream: `finish_reason` arrives on its own chunk with `delta: {}` (Ollama, llama.cpp, SGLang). */
  finishOnOwnChunk: boolean;
  /** Stream: only the first chunk carries `role` (Ollama ≥0.32.6); others put it on the first delta too. */
  roleOnlyOnFirstChunk: boolean;
  /** Stream: a tool call arrives whole in one delta (Ollama) rather than name then argument pieces. */
  wholeToolCallDelta: boolean;
  /** Stream: SSE comment lines (`: ping`) appear between events (llama.cpp). */
  sseComments: boolean;
  /** Where reasoning token counts go in `usage`. */
  usageReasoning: "none" | "completion_tokens_details" | "top-level";
  /** Whether a chat request naming a model the server does not serve is answered anyway (E1b). */
  answersUnknownModels: boolean;
  /** `system_fingerprint` on completions, when the server sends one. */
  systemFingerprint: string | null;
  /** Context window reported by discovery endpoints. */
  maxModelLen: number;
}

const VLLM_BASE = {
  kind: "vllm",
  reasoningNullWhenEmpty: true,
  emptyContent: null,
  noToolCalls: "empty-list",
  finishOnOwnChunk: false,
  roleOnlyOnFirstChunk: false,
  wholeToolCallDelta: false,
  sseComments: false,
  answersUnknownModels: false,
  systemFingerprint: null,
  maxModelLen: 32768,
} as const;

export const PROFILES: Readonly<Record<Flavour, FlavourProfile>> = {
  "vllm-0.8": {
    ...VLLM_BASE,
    flavour: "vllm-0.8",
    version: "0.8.5",
    reasoningFields: ["reasoning_content"],
    errorStyle: "vllm-flat",
    usageReasoning: "none",
  },
  "vllm-0.11": {
    ...VLLM_BASE,
    flavour: "vllm-0.11",
    version: "0.11.1",
    reasoningFields: ["reasoning", "reasoning_content"],
    errorStyle: "vllm-nested",
    usageReasoning: "none",
  },
  "vllm-0.16": {
    ...VLLM_BASE,
    flavour: "vllm-0.16",
    version: "0.16.0",
    reasoningFields: ["reasoning"],
    errorStyle: "vllm-nested",
    usageReasoning: "completion_tokens_details",
  },
  llamacpp: {
    flavour: "llamacpp",
    kind: "llamacpp",
    reasoningNullWhenEmpty: false,
    version: "b6700",
    reasoningFields: ["reasoning_content"],
    emptyContent: "",
    noToolCalls: "absent",
    errorStyle: "llamacpp",
    finishOnOwnChunk: true,
    roleOnlyOnFirstChunk: false,
    wholeToolCallDelta: false,
    sseComments: true,
    usageReasoning: "none",
    answersUnknownModels: true,
    systemFingerprint: "b6700-3df2244d",
    maxModelLen: 32768,
  },
  ollama: {
    flavour: "ollama",
    kind: "ollama",
    reasoningNullWhenEmpty: false,
    version: "0.12.6",
    reasoningFields: ["reasoning"],
    emptyContent: "",
    noToolCalls: "absent",
    errorStyle: "ollama",
    finishOnOwnChunk: true,
    roleOnlyOnFirstChunk: true,
    wholeToolCallDelta: true,
    sseComments: false,
    usageReasoning: "none",
    answersUnknownModels: false,
    systemFingerprint: "fp_ollama",
    maxModelLen: 32768,
  },
  sglang: {
    flavour: "sglang",
    kind: "sglang",
    reasoningNullWhenEmpty: true,
    version: "0.5.3",
    reasoningFields: ["reasoning_content"],
    emptyContent: null,
    noToolCalls: "null",
    errorStyle: "sglang",
    finishOnOwnChunk: true,
    roleOnlyOnFirstChunk: false,
    wholeToolCallDelta: false,
    sseComments: false,
    usageReasoning: "top-level",
    answersUnknownModels: true,
    systemFingerprint: null,
    maxModelLen: 32768,
  },
  lmstudio: {
    flavour: "lmstudio",
    kind: "lmstudio",
    reasoningNullWhenEmpty: false,
    version: "0.3.30",
    reasoningFields: ["reasoning_content"],
    emptyContent: null,
    noToolCalls: "empty-list",
    errorStyle: "lmstudio",
    finishOnOwnChunk: false,
    roleOnlyOnFirstChunk: false,
    wholeToolCallDelta: false,
    sseComments: false,
    usageReasoning: "none",
    answersUnknownModels: false,
    systemFingerprint: null,
    maxModelLen: 32768,
  },
};

export function isFlavour(value: string): value is Flavour {
  return (FLAVOURS as readonly string[]).includes(value);
}
