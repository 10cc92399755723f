// Reads facts out of a model response while it passes through, without holding it.
//
// Streams (SSE) are fed event by event through eventsource-parser; each event is looked at
// and dropped, so a 50 MB stream costs no more memory than its largest single event (capped).
// Plain JSON bodies are kept only up to a cap and parsed once at the end.
// Pure: bytes in, facts out; the proxy does the I/O.
import { createParser, type EventSourceParser } from "eventsource-parser";

export type ReasoningField = "reasoning" | "reasoning_content" | "both" | null;

export interface ResponseFacts {
  prompt_tokens: number | null;
  completion_tokens: number | null;
  reasoning_tokens: number | null;
  finish_reason: string | null;
  reasoning_field: ReasoningField;
  /** The `model` the server said answered (from the body or the last interesting stream event). */
  response_model: string | null;
  /** Set when the body itself carried an error (e.g. `data: {"error":...}` inside a 200 stream). */
  body_error: string | null;
  /** False when the body was too large (or malformed) to be read to the end. */
  complete_parse: boolean;
}

/** Largest non-streamed body (and largest single SSE event) the tap reads. */
export const DEFAULT_PARSE_CAP_BYTES = 8 * 1024 * 1024;

// Cheap pre-check before JSON.parse of a stream event: most chunks are plain content deltas
// with `"finish_reason":null`, which carry nothing the record needs once the reasoning field
// is known. Skipping them keeps the tap cheap on long streams.
const INTERESTING_EVENT = /"(?:usage|error)"|"finish_reason"\s*:\s*"|"type"\s*:\s*"(?:response\.|error)/;
const REASONING_KEY = /"reasoning"\s*:\s*"/;
const REASONING_CONTENT_KEY = /"reasoning_content"\s*:\s*"/;

export class ResponseTap {
  readonly #sse: boolean;
  readonly #cap: number;
  #parser: EventSourceParser | null = null;
  #decoder = new TextDecoder("utf-8");
  #jsonChunks: Buffer[] = [];
  #jsonBytes = 0;
  #overflow = false;
  #sawReasoning = false;
  #sawReasoningContent = false;
  #facts: ResponseFacts = {
    prompt_tokens: null,
    completion_tokens: null,
    reasoning_tokens: null,
    finish_reason: null,
    reasoning_field: null,
    response_model: null,
    body_error: null,
    complete_parse: true,
  };

  constructor(opts: { sse: boolean; capBytes?: number }) {
    this.#sse = opts.sse;
    this.#cap = opts.capBytes ?? DEFAULT_PARSE_CAP_BYTES;
    if (this.#sse) {
      this.#parser = createParser({
        maxBufferSize: this.#cap,
        onEvent: (event) => this.#onSseData(event.data, event.event),
        onError: (error) => {
          // Oversized event: stop reading this stream (the bytes still pass through).
          if (error.type === "max-buffer-size-exceeded") {
            this.#overflow = true;
            this.#parser = null;
          }
        },
      });
    }
  }

  feed(chunk: Buffer): void {
    if (this.#overflow) return;
    if (this.#sse) {
      try {
        this.#parser?.feed(this.#decoder.decode(chunk, { stream: true }));
      } catch {
        this.#overflow = true;
        this.#parser = null;
      }
      return;
    }
    if (this.#jsonBytes + chunk.length > this.#cap) {
      this.#overflow = true;
      this.#jsonChunks = [];
      return;
    }
    this.#jsonChunks.push(chunk);
    this.#jsonBytes += chunk.length;
  }

  /** Call once when the body has ended (or been cut); returns what was learnt. */
  finish(): ResponseFacts {
    if (this.#sse) {
      if (!this.#overflow && this.#parser) {
        try {
          this.#parser.feed(this.#decoder.decode());
          this.#parser.reset({ consume: true });
        } catch {
          // ignore: partial trailing data
        }
      }
    } else if (!this.#overflow && this.#jsonBytes > 0) {
      const text = Buffer.concat(this.#jsonChunks).toString("utf8");
      this.#jsonChunks = [];
      try {
        this.#absorb(JSON.parse(text) as unknown, "message");
      } catch {
        this.#facts.complete_parse = false;
      }
    }
    if (this.#overflow) this.#facts.complete_parse = false;
    this.#facts.reasoning_field = this.#sawReasoning
      ? this.#sawReasoningContent
        ? "both"
        : "reasoning"
      : this.#sawReasoningContent
        ? "reasoning_content"
        : null;
    return { ...this.#facts };
  }

  #onSseData(data: string, eventName: string | undefined): void {
    if (eventName === "error") this.#facts.body_error ??= "error in 200 stream";
    const trimmed = data.trim();
    if (trimmed === "" || trimmed === "[DONE]") return;
    // `includes` first: it is far cheaper than a regex over a long content delta.
    const interesting =
      ((trimmed.includes('"usage"') || trimmed.includes('"error"') || trimmed.includes('"finish_reason"') || trimmed.includes('"type"')) &&
        INTERESTING_EVENT.test(trimmed)) ||
      (trimmed.includes('"reasoning') &&
        ((!this.#sawReasoning && REASONING_KEY.test(trimmed)) || (!this.#sawReasoningContent && REASONING_CONTENT_KEY.test(trimmed))));
    if (!interesting) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return;
    }
    this.#absorb(parsed, "delta");
  }

  #absorb(value: unknown, messageKey: "delta" | "message"): void {
    if (!isRecord(value)) return;
    if ("error" in value && value.error !== null && value.error !== undefined) {
      this.#facts.body_error ??= this.#sse ? "error in 200 stream" : "error in response body";
    }
    if (value.object === "error") this.#facts.body_error ??= this.#sse ? "error in 200 stream" : "error in response body";
    this.#absorbUsage(value.usage);
    if (typeof value.model === "string" && value.model) this.#facts.response_model = value.model;
    const choices = value.choices;
    if (Array.isArray(choices)) {
      for (const choice of choices) {
        if (!isRecord(choice)) continue;
        if (typeof choice.finish_reason === "string" && choice.finish_reason) this.#facts.finish_reason = choice.finish_reason;
        const message = choice[messageKey] ?? choice.message ?? choice.delta;
        if (isRecord(message)) {
          if (nonEmptyString(message.reasoning)) this.#sawReasoning = true;
          if (nonEmptyString(message.reasoning_content)) this.#sawReasoningContent = true;
        }
      }
    }
    // Responses API (`/responses`): usage and status live on the response object.
    const type = typeof value.type === "string" ? value.type : null;
    if (type === "error" || type === "response.failed") this.#facts.body_error ??= this.#sse ? "error in 200 stream" : "error in response body";
    const response = type?.startsWith("response.") ? value.response : value.object === "response" ? value : null;
    if (isRecord(response)) {
      this.#absorbUsage(response.usage);
      if (typeof response.status === "string" && response.status !== "in_progress" && response.status !== "queued") {
        this.#facts.finish_reason = response.status;
      }
    }
    if (type === "response.reasoning_text.delta" || type === "response.reasoning_summary_text.delta") this.#sawReasoning = true;
  }

  #absorbUsage(usage: unknown): void {
    if (!isRecord(usage)) return;
    const prompt = numberOrNull(usage.prompt_tokens) ?? numberOrNull(usage.input_tokens);
    const completion = numberOrNull(usage.completion_tokens) ?? numberOrNull(usage.output_tokens);
    if (prompt !== null) this.#facts.prompt_tokens = prompt;
    if (completion !== null) this.#facts.completion_tokens = completion;
    const details = isRecord(usage.completion_tokens_details)
      ? usage.completion_tokens_details
      : isRecord(usage.output_tokens_details)
        ? usage.output_tokens_details
        : null;
    const reasoning = numberOrNull(details?.reasoning_tokens) ?? numberOrNull(usage.reasoning_tokens);
    if (reasoning !== null) this.#facts.reasoning_tokens = reasoning;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function nonEmptyString(value: unknown): boolean {
  return typeof value === "string" && value.length > 0;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}
