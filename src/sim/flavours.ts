// What distinguishes one real server's OpenAI-compatible surface from another's.
// Every field is a fact from shared/reference/response-shapes.md (or the server's own
// code where the reference is silent); the renderers only read these profiles. The vLLM
// profiles were checked against vLLM's source file by file: docs/simulator.md names the
// file and PR behind each field.

export type Flavour = "vllm-0.8" | "vllm-0.11" | "vllm-0.16" | "vllm-main" | "llamacpp" | "ollama" | "sglang" | "lmstudio";

export const FLAVOURS: readonly Flavour[] = ["vllm-0.8", "vllm-0.11", "vllm-0.16", "vllm-main", "llamacpp", "ollama", "sglang", "lmstudio"];

export type ServerKind = "vllm" | "llamacpp" | "ollama" | "sglang" | "lmstudio";
export type ReasoningField = "reasoning" | "reasoning_content";

/**
 * How vLLM's pydantic models serialise, by version (vLLM only; null for the others).
 * Non-stream bodies are `model_dump()` (every field, null included); stream chunks are
 * `model_dump_json(exclude_unset=True)` (only fields the serving code set, explicit None
 * kept); the usage-only chunk adds `exclude_none=True`.
 */
export interface VllmShapes {
  /** Fields the non-stream body always carries as null (besides system_fingerprint, handled apart). */
  bodyNulls: readonly string[];
  /** Fields every non-stream choice carries as null (besides logprobs / stop_reason). */
  choiceNulls: readonly string[];
  /** Message fields carried as null (refusal, annotations, audio, function_call). */
  messageNulls: readonly string[];
  /** ≈0.10.2 on: every chunk's choice but the role chunk has `token_ids: null`, the role chunk has top-level `prompt_token_ids: null`. */
  streamTokenIds: boolean;
  /** 0.11.1–0.15 (PR #27752 to PR #33402): an after-validator copies `reasoning` into `reasoning_content` on every delta, so deltas without reasoning carry `reasoning_content: null`. */
  mirrorsReasoningContent: boolean;
  /** main (PR #40537): `system_fingerprint` only on the terminal chunk (or the usage chunk when include_usage). */
  fingerprintOnFinalChunkOnly: boolean;
  /** `param` of the unknown-model 404: `"model"` on main (models/serving.py `check_model`), null before as far as read. */
  modelNotFoundParam: "model" | null;
}

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
  /** How a message without tool calls says so: `[]` (vLLM before PR #44105, LM Studio), `null` (SGLang), absent (vLLM main). */
  noToolCalls: "empty-list" | "null" | "absent";
  /** The server drops an empty `tool_calls` list whatever produced it (vLLM main, PR #44105): V9's `[]` becomes absent. */
  omitsEmptyToolCalls: boolean;
  /** Error body family (see errors.ts). */
  errorStyle: "vllm-flat" | "vllm-nested" | "llamacpp" | "ollama" | "sglang" | "lmstudio";
  /**
   * Stream: `finish_reason` arrives on its own chunk with `delta: {}` (Ollama, llama.cpp, SGLang);
   * `"unless-length"`: vLLM, whose last output step is the stop token (decoded to "") so the finish
   * chunk is separate, except when the budget ran out on a real token.
   */
  finishOnOwnChunk: boolean | "unless-length";
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
  /** `server` response header (uvicorn's default for the FastAPI servers). */
  serverHeader: string | null;
  /** vLLM's serialisation details by version; null for the other servers. */
  vllm: VllmShapes | null;
}

const VLLM_BASE = {
  kind: "vllm",
  reasoningNullWhenEmpty: true,
  emptyContent: null,
  noToolCalls: "empty-list",
  omitsEmptyToolCalls: false,
  finishOnOwnChunk: "unless-length",
  roleOnlyOnFirstChunk: false,
  wholeToolCallDelta: false,
  sseComments: false,
  answersUnknownModels: false,
  systemFingerprint: null,
  maxModelLen: 32768,
  serverHeader: "uvicorn",
} as const;

/** ChatMessage fields of the OpenAI spec vLLM declares and leaves None (protocol.py, 0.10.1 on). */
const VLLM_MESSAGE_NULLS = ["refusal", "annotations", "audio", "function_call"] as const;

export const PROFILES: Readonly<Record<Flavour, FlavourProfile>> = {
  "vllm-0.8": {
    ...VLLM_BASE,
    flavour: "vllm-0.8",
    version: "0.8.5",
    reasoningFields: ["reasoning_content"],
    errorStyle: "vllm-flat",
    usageReasoning: "none",
    // Not re-read at 0.8 (the stored source is 0.10.1 and later): only what the older shapes share.
    vllm: { bodyNulls: [], choiceNulls: [], messageNulls: [], streamTokenIds: false, mirrorsReasoningContent: false, fingerprintOnFinalChunkOnly: false, modelNotFoundParam: null },
  },
  "vllm-0.11": {
    ...VLLM_BASE,
    flavour: "vllm-0.11",
    version: "0.11.1",
    reasoningFields: ["reasoning", "reasoning_content"],
    errorStyle: "vllm-nested",
    usageReasoning: "none",
    vllm: {
      bodyNulls: ["service_tier", "system_fingerprint", "prompt_token_ids", "kv_transfer_params"],
      choiceNulls: ["token_ids"],
      messageNulls: VLLM_MESSAGE_NULLS,
      streamTokenIds: true,
      mirrorsReasoningContent: true,
      fingerprintOnFinalChunkOnly: false,
      modelNotFoundParam: null,
    },
  },
  "vllm-0.16": {
    ...VLLM_BASE,
    flavour: "vllm-0.16",
    version: "0.16.0",
    reasoningFields: ["reasoning"],
    errorStyle: "vllm-nested",
    // UsageInfo has no completion_tokens_details before PR #45802.
    usageReasoning: "none",
    vllm: {
      bodyNulls: ["service_tier", "system_fingerprint", "prompt_token_ids", "kv_transfer_params"],
      choiceNulls: ["token_ids"],
      messageNulls: VLLM_MESSAGE_NULLS,
      streamTokenIds: true,
      mirrorsReasoningContent: false,
      fingerprintOnFinalChunkOnly: false,
      modelNotFoundParam: null,
    },
  },
  "vllm-main": {
    ...VLLM_BASE,
    flavour: "vllm-main",
    // A stand-in version string: the shapes are vLLM main's as read in late 2026.
    version: "0.28.0",
    reasoningFields: ["reasoning"],
    errorStyle: "vllm-nested",
    // PR #44105: an empty tool_calls list is dropped from messages and deltas.
    noToolCalls: "absent",
    omitsEmptyToolCalls: true,
    // PR #45802: reasoning tokens counted by the reasoning parser.
    usageReasoning: "completion_tokens_details",
    // fingerprint.py, mode "full": vllm-<version>[-tpN...]-<hash8> (PR #40537).
    systemFingerprint: "vllm-0.28.0-3f9a2c1d",
    vllm: {
      bodyNulls: ["service_tier", "prompt_token_ids", "prompt_text", "kv_transfer_params", "ec_transfer_params", "metrics"],
      choiceNulls: ["token_ids", "routed_experts"],
      messageNulls: VLLM_MESSAGE_NULLS,
      streamTokenIds: true,
      mirrorsReasoningContent: false,
      fingerprintOnFinalChunkOnly: true,
      modelNotFoundParam: "model",
    },
  },
  llamacpp: {
    flavour: "llamacpp",
    kind: "llamacpp",
    reasoningNullWhenEmpty: false,
    version: "b6700",
    reasoningFields: ["reasoning_content"],
    emptyContent: "",
    noToolCalls: "absent",
    omitsEmptyToolCalls: false,
    errorStyle: "llamacpp",
    finishOnOwnChunk: true,
    roleOnlyOnFirstChunk: false,
    wholeToolCallDelta: false,
    sseComments: true,
    usageReasoning: "none",
    answersUnknownModels: true,
    systemFingerprint: "b6700-3df2244d",
    maxModelLen: 32768,
    // cpp-httplib's `Server: llama.cpp` (recorded: test/data/llamacpp-real).
    serverHeader: "llama.cpp",
    vllm: null,
  },
  ollama: {
    flavour: "ollama",
    kind: "ollama",
    reasoningNullWhenEmpty: false,
    version: "0.12.6",
    reasoningFields: ["reasoning"],
    emptyContent: "",
    noToolCalls: "absent",
    omitsEmptyToolCalls: false,
    errorStyle: "ollama",
    finishOnOwnChunk: true,
    roleOnlyOnFirstChunk: true,
    wholeToolCallDelta: true,
    sseComments: false,
    usageReasoning: "none",
    answersUnknownModels: false,
    systemFingerprint: "fp_ollama",
    maxModelLen: 32768,
    serverHeader: null,
    vllm: null,
  },
  sglang: {
    flavour: "sglang",
    kind: "sglang",
    reasoningNullWhenEmpty: true,
    version: "0.5.3",
    reasoningFields: ["reasoning_content"],
    emptyContent: null,
    noToolCalls: "null",
    omitsEmptyToolCalls: false,
    errorStyle: "sglang",
    finishOnOwnChunk: true,
    roleOnlyOnFirstChunk: false,
    wholeToolCallDelta: false,
    sseComments: false,
    usageReasoning: "top-level",
    answersUnknownModels: true,
    systemFingerprint: null,
    maxModelLen: 32768,
    serverHeader: "uvicorn",
    vllm: null,
  },
  lmstudio: {
    flavour: "lmstudio",
    kind: "lmstudio",
    reasoningNullWhenEmpty: false,
    version: "0.3.30",
    reasoningFields: ["reasoning_content"],
    emptyContent: null,
    noToolCalls: "empty-list",
    omitsEmptyToolCalls: false,
    errorStyle: "lmstudio",
    finishOnOwnChunk: false,
    roleOnlyOnFirstChunk: false,
    wholeToolCallDelta: false,
    sseComments: false,
    usageReasoning: "none",
    answersUnknownModels: false,
    systemFingerprint: null,
    maxModelLen: 32768,
    serverHeader: null,
    vllm: null,
  },
};

/** Content types by flavour; llama.cpp's are recorded (cpp-httplib: JSON with a charset, SSE without). */
export function contentTypeFor(profile: FlavourProfile, kind: "json" | "sse"): string {
  if (profile.kind === "llamacpp") return kind === "json" ? "application/json; charset=utf-8" : "text/event-stream";
  return kind === "json" ? "application/json" : "text/event-stream; charset=utf-8";
}

/**
 * The `model` a chat answer names. llama.cpp (single model) answers with its own model name
 * whatever was asked (recorded: chat-unknown-model.json); the others echo the request.
 */
export function answeredModel(profile: FlavourProfile, requested: string | null, served: readonly string[]): string | null {
  if (profile.kind === "llamacpp") return served[0] ?? requested;
  return requested;
}

export function isFlavour(value: string): value is Flavour {
  return (FLAVOURS as readonly string[]).includes(value);
}
