// Turns what a server sent (stream chunks, a JSON body, an error body) into ResponseEvidence.
// Pure: the I/O layer feeds parsed JSON in, tests feed literal shapes in. Tolerates every
// shape in shared/reference/response-shapes.md: four error-body shapes, content null or "",
// tool_calls []/null/missing, the usage-only last chunk (choices: []), finish_reason on its
// own chunk with delta {} (Ollama), and reasoning under `reasoning`, `reasoning_content` or
// both carrying the same text (vLLM ≈0.11–0.15), which is counted once.
import { emptyEvidence, judgeContentPrefix, type ErrorInfo, type ResponseEvidence } from "./classify.ts";

/** Field names servers use for reasoning text, in messages and in stream deltas. */
export const REASONING_FIELDS = ["reasoning", "reasoning_content", "thinking"] as const;

/** Content kept for classification; tags and openings are all within the first few KB. */
const CONTENT_CAP = 64 * 1024;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" ? v : typeof v === "number" ? String(v) : null);

/**
 * Normalises an error body: `{"error":{message,type,code}}`, flat `{"object":"error",message,...}`,
 * `{"error":"Unauthorized"}`, `{"detail": ...}` (FastAPI), or plain text.
 */
export function parseErrorBody(body: unknown): ErrorInfo | null {
  if (typeof body === "string") {
    const trimmed = body.trim();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
      try {
        return parseErrorBody(JSON.parse(trimmed));
      } catch {
        // not JSON after all: plain text
      }
    }
    return trimmed ? { message: trimmed.slice(0, 2000), type: null, code: null } : null;
  }
  if (!isObj(body)) return null;
  const err = body.error;
  if (typeof err === "string") return { message: err, type: str(body.type), code: str(body.code) };
  if (isObj(err)) {
    return {
      message: str(err.message) ?? str(err.msg) ?? JSON.stringify(err).slice(0, 2000),
      type: str(err.type),
      code: str(err.code),
    };
  }
  if (body.object === "error" || typeof body.message === "string") {
    return { message: str(body.message) ?? "", type: str(body.type), code: str(body.code) };
  }
  if (body.detail !== undefined) {
    return { message: typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail).slice(0, 2000), type: null, code: null };
  }
  return null;
}

/**
 * The server version a `system_fingerprint` names, when it names one: vLLM (PR #40537,
 * fingerprint.py) sends `vllm-<version>[-tp2…]-<hash8>`, llama.cpp `b<build>-<commit>`.
 * Opaque fingerprints (`fp_ollama`, vLLM's `hash` / `custom` modes) name none: null.
 */
export function serverVersionFromFingerprint(fingerprint: string | null): string | null {
  if (fingerprint === null) return null;
  const vllm = /^vllm-(\d+\.\d+(?:\.\d+)?(?:[.+-]?(?:dev|rc|post)\d*)?(?:\+[0-9a-z.]+)?)-/i.exec(fingerprint);
  if (vllm) return vllm[1]!;
  const llama = /^(b\d+)-[0-9a-f]+$/i.exec(fingerprint);
  if (llama) return llama[1]!;
  return null;
}

/** The version in a `GET /version` body (vLLM: `{"version":"0.16.0"}`), or null. */
export function versionFromBody(text: string): string | null {
  try {
    const body = JSON.parse(text) as unknown;
    if (!isObj(body) || typeof body.version !== "string") return null;
    const version = body.version.trim();
    return /^[0-9A-Za-z.+_-]{1,64}$/.test(version) ? version : null;
  } catch {
    return null;
  }
}

/** Whether a parsed stream chunk / body is an error object rather than a completion. */
export function isErrorPayload(payload: unknown): boolean {
  return isObj(payload) && (payload.error !== undefined || payload.object === "error");
}

interface ToolCallState {
  name: string;
  args: string;
}

/**
 * Accumulates one response. Feed it stream chunks (`addChunk`) or a whole body (`addBody`);
 * read `evidence` at any time.
 */
export class ResponseAccumulator {
  readonly evidence: ResponseEvidence;
  chunks = 0;
  /** Set when content first arrives / reasoning first arrives (caller supplies the clock). */
  firstContentAt: number | null = null;
  firstReasoningAt: number | null = null;
  #tools = new Map<number, ToolCallState>();
  #now: () => number;

  constructor(probe: "text" | "tools", now: () => number = () => Date.now()) {
    this.evidence = emptyEvidence(probe);
    this.#now = now;
  }

  #noteReasoningField(name: string): void {
    if (!this.evidence.reasoningFields.includes(name)) this.evidence.reasoningFields.push(name);
  }

  /** Reasoning text of one message or delta, counted once even if several fields carry it. */
  #addReasoning(holder: Json): void {
    const texts: string[] = [];
    for (const field of REASONING_FIELDS) {
      const v = holder[field];
      if (typeof v === "string" && v.length > 0) {
        this.#noteReasoningField(field);
        if (!texts.includes(v)) texts.push(v);
      }
    }
    if (texts.length === 0) return;
    // Different texts under two names would be a server bug; count the longer, never the sum.
    const chars = Math.max(...texts.map((t) => t.length));
    this.evidence.reasoningChars += chars;
    this.firstReasoningAt ??= this.#now();
  }

  #addContent(holder: Json): void {
    const c = holder.content;
    if (typeof c === "string" && c.length > 0) {
      if (this.evidence.content.length < CONTENT_CAP) this.evidence.content += c.slice(0, CONTENT_CAP - this.evidence.content.length);
      this.#contentChars += c.length;
      if (c.trim().length > 0) this.firstContentAt ??= this.#now();
    } else if (Array.isArray(c)) {
      // Content parts (rare on chat completions): join their text.
      const text = c.map((p) => (isObj(p) && typeof p.text === "string" ? p.text : "")).join("");
      if (text) this.#addContent({ content: text });
    }
  }
  #contentChars = 0;
  get contentChars(): number {
    return this.#contentChars;
  }

  #addToolCalls(holder: Json, streamed: boolean): void {
    const calls = holder.tool_calls;
    if (!Array.isArray(calls)) return; // null or missing
    calls.forEach((call, i) => {
      if (!isObj(call)) return;
      // Streams index pieces by `index`; whole messages list calls in order.
      const index = streamed && typeof call.index === "number" ? call.index : i;
      const fn = isObj(call.function) ? call.function : {};
      const state = this.#tools.get(index) ?? { name: "", args: "" };
      if (typeof fn.name === "string") state.name += streamed && state.name === fn.name ? "" : fn.name;
      if (typeof fn.arguments === "string") state.args += fn.arguments;
      else if (isObj(fn.arguments)) state.args += JSON.stringify(fn.arguments); // Ollama-native style object
      this.#tools.set(index, state);
    });
    this.#syncTools();
  }

  #syncTools(): void {
    const calls = [...this.#tools.values()].filter((c) => c.name.length > 0);
    this.evidence.toolCalls = calls.length;
    this.evidence.toolCallNames = calls.map((c) => c.name);
    this.evidence.toolArgumentsValid =
      calls.length === 0
        ? null
        : calls.every((c) => {
            if (c.args.trim() === "") return true; // a tool with no arguments
            try {
              return isObj(JSON.parse(c.args));
            } catch {
              return false;
            }
          });
  }

  #addUsage(usage: unknown): void {
    if (!isObj(usage)) return;
    if (typeof usage.completion_tokens === "number") this.evidence.completionTokens = usage.completion_tokens;
    const details = usage.completion_tokens_details;
    const rt = isObj(details) && typeof details.reasoning_tokens === "number" ? details.reasoning_tokens : usage.reasoning_tokens;
    if (typeof rt === "number") this.evidence.reasoningTokens = rt;
  }

  #addFingerprint(value: unknown): void {
    if (typeof value === "string" && value.length > 0 && value.length <= 200) this.evidence.systemFingerprint = value;
  }

  #setError(payload: unknown, inStream: boolean): void {
    this.evidence.error = parseErrorBody(payload) ?? { message: "error without a message", type: null, code: null };
    if (inStream) this.evidence.streamError = true;
  }

  /** One parsed SSE `data:` payload of a streamed completion. */
  addChunk(payload: unknown): void {
    this.chunks++;
    if (isErrorPayload(payload)) {
      this.#setError(payload, true);
      return;
    }
    if (!isObj(payload)) return;
    this.#addUsage(payload.usage);
    this.#addFingerprint(payload.system_fingerprint);
    const choices = Array.isArray(payload.choices) ? payload.choices : [];
    for (const choice of choices) {
      if (!isObj(choice) || (typeof choice.index === "number" && choice.index !== 0)) continue;
      const delta = isObj(choice.delta) ? choice.delta : isObj(choice.message) ? choice.message : {};
      this.#addReasoning(delta);
      this.#addContent(delta);
      this.#addToolCalls(delta, true);
      if (typeof choice.finish_reason === "string" && choice.finish_reason) this.evidence.finishReason = choice.finish_reason;
    }
  }

  /** A whole non-streamed completion body (or an error body that came with 2xx). */
  addBody(payload: unknown): void {
    if (isErrorPayload(payload)) {
      this.#setError(payload, false);
      return;
    }
    if (!isObj(payload)) return;
    this.#addUsage(payload.usage);
    this.#addFingerprint(payload.system_fingerprint);
    const choices = Array.isArray(payload.choices) ? payload.choices : [];
    const choice = choices.find((c) => isObj(c)) as Json | undefined;
    if (!choice) return;
    const message = isObj(choice.message) ? choice.message : isObj(choice.delta) ? choice.delta : {};
    this.#addReasoning(message);
    this.#addContent(message);
    this.#addToolCalls(message, false);
    if (typeof choice.finish_reason === "string" && choice.finish_reason) this.evidence.finishReason = choice.finish_reason;
  }

  /** An error body from a non-2xx answer (any of the four shapes, or plain text). */
  addErrorBody(status: number, body: string): void {
    this.evidence.status = status;
    this.evidence.error = parseErrorBody(body) ?? { message: "", type: null, code: null };
  }

  /**
   * Whether the text probe already has its verdict while the stream is still running:
   * a content prefix that is an ordinary answer allows; `</think>` in content decides a
   * reasoning-in-content class. Everything else waits for finish_reason.
   */
  earlyDecision(): "allow" | "decided-block" | null {
    const ev = this.evidence;
    if (ev.streamError) return "decided-block";
    if (ev.probe === "tools") return null; // tool calls are short; read them to the end
    switch (judgeContentPrefix(ev.content)) {
      case "answer":
        return "allow";
      case "thinking-like":
        // With a working reasoning parser (reasoning arrived in its own field), an answer
        // that opens with "Okay," is just an answer; without one it may be reasoning.
        return ev.reasoningChars > 0 ? "allow" : null;
      case "tagged":
        return /<\/think>/i.test(ev.content) ? "decided-block" : null;
      default:
        return null;
    }
  }
}
