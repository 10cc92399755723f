// The vocabulary of the response-shape classification: the classes and their verdicts, the
// evidence one request yields, the context it is judged in, and the classification it gets.
// Apart from the judging so that the I/O side (response-evidence.ts, probe.ts) and every
// part of the classifier share one definition, and a reader finds the classes in one list.

export const PROBE_CLASSES = [
  "OK_REASONING",
  "OK_PLAIN",
  "REASONING_ONLY_TRUNCATED",
  "REASONING_IN_CONTENT_UNTERMINATED",
  "REASONING_IN_CONTENT_TAGGED",
  "REASONING_IN_CONTENT_UNOPENED",
  "CONTENT_MISROUTED_TO_REASONING",
  "TOOLS_REJECTED_CONFIG",
  "TOOL_CALL_AS_TEXT",
  "TOOL_CALLS_OK",
  "TOOL_FINISH_MISMATCH",
  "TOOL_CALLS_SWALLOWED",
  "ERR_MODEL_NOT_FOUND",
  "MODEL_NAME_IGNORED",
  "ERR_CONTEXT_OVERFLOW",
  "ERR_AUTH",
  "ERR_LOADING",
  "ERR_OVERLOADED",
  "ERR_STREAM",
  "ERR_UNREACHABLE",
  "ERR_HTTP",
] as const;
export type ProbeClass = (typeof PROBE_CLASSES)[number];
export type Verdict = "allow" | "warn" | "block";

/** Which classes a coding agent can run on. Everything not allowed or warned blocks. */
export const VERDICT_OF: Record<ProbeClass, Verdict> = {
  OK_REASONING: "allow",
  OK_PLAIN: "allow",
  TOOL_CALLS_OK: "allow",
  MODEL_NAME_IGNORED: "warn",
  REASONING_ONLY_TRUNCATED: "block",
  REASONING_IN_CONTENT_UNTERMINATED: "block",
  REASONING_IN_CONTENT_TAGGED: "block",
  REASONING_IN_CONTENT_UNOPENED: "block",
  CONTENT_MISROUTED_TO_REASONING: "block",
  TOOLS_REJECTED_CONFIG: "block",
  TOOL_CALL_AS_TEXT: "block",
  TOOL_FINISH_MISMATCH: "block",
  TOOL_CALLS_SWALLOWED: "block",
  ERR_MODEL_NOT_FOUND: "block",
  ERR_CONTEXT_OVERFLOW: "block",
  ERR_AUTH: "block",
  ERR_LOADING: "block",
  ERR_OVERLOADED: "block",
  ERR_STREAM: "block",
  ERR_UNREACHABLE: "block",
  ERR_HTTP: "block",
};

export const SEVERITY: Record<Verdict, number> = { allow: 0, warn: 1, block: 2 };

/** Worse of two verdicts. */
export function worstVerdict(a: Verdict, b: Verdict): Verdict {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}

export type ServerKind = "vllm" | "llamacpp" | "ollama" | "sglang" | "lmstudio" | "unknown";

/** An error as a server reported it, normalised from any of the four body shapes. */
export interface ErrorInfo {
  message: string;
  type: string | null;
  code: string | null;
}

/** What one chat request showed. Gathered by the I/O layer (stream or body), judged here. */
export interface ResponseEvidence {
  probe: "text" | "tools";
  /** Connection-level failure code (ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ...): no HTTP answer. */
  connectionError: string | null;
  /** The request hit the probe's timeout after the server had started answering. */
  timedOut: boolean;
  status: number | null;
  /** Error from a non-2xx body, or from an error event inside a 200 stream. */
  error: ErrorInfo | null;
  /** The error arrived inside a stream that had begun with HTTP 200. */
  streamError: boolean;
  reasoningFields: string[];
  reasoningChars: number;
  /** From usage (vLLM completion_tokens_details, SGLang top-level), when reported. */
  reasoningTokens: number | null;
  completionTokens: number | null;
  /** Assistant content seen (null and "" both arrive as ""). */
  content: string;
  finishReason: string | null;
  toolCalls: number;
  toolCallNames: string[];
  /** Every tool call's arguments parsed as a JSON object; null when there were no calls. */
  toolArgumentsValid: boolean | null;
  /** `system_fingerprint` the server sent (vLLM main: `vllm-<version>-…`), or null. */
  systemFingerprint: string | null;
}

export interface ClassifyContext {
  budget: number;
  serverKind: ServerKind | null;
  requestedModel: string;
  /** Ids from /models (empty when the list was unavailable). */
  servedModels: string[];
  /** Requested model is in the served list; null when the list was unavailable. */
  modelServed: boolean | null;
  /**
   * When classifying the tool probe: the text probe's class. `OK_REASONING` / `OK_PLAIN` prove
   * that answers reach `content` (and reasoning its own field), so an empty tool answer is the
   * tool parser's doing, never the reasoning parser's. Absent or null: not known.
   */
  textProbe?: ProbeClass | null;
}

export interface Classification {
  classification: ProbeClass;
  verdict: Verdict;
  advice: string[];
}

export function emptyEvidence(probe: "text" | "tools"): ResponseEvidence {
  return {
    probe,
    connectionError: null,
    timedOut: false,
    status: null,
    error: null,
    streamError: false,
    reasoningFields: [],
    reasoningChars: 0,
    reasoningTokens: null,
    completionTokens: null,
    content: "",
    finishReason: null,
    toolCalls: 0,
    toolCallNames: [],
    toolArgumentsValid: null,
    systemFingerprint: null,
  };
}

export function result(classification: ProbeClass, advice: string[]): Classification {
  return { classification, verdict: VERDICT_OF[classification], advice };
}
