// Reads facts out of a model response while it passes through, without holding it.
//
// Streams (SSE) are split into events at the byte level; only events that can carry a fact
// are decoded and handed to eventsource-parser, and each is looked at and dropped, so a 50 MB
// stream costs no more memory than its largest single event (capped).
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

// Byte patterns for the pre-scan in `feed` (see #scanSse).
const LF_BLANK = Buffer.from("\n\n");
const CRLF_BLANK = Buffer.from("\r\n\r\n");
const CR = 0x0d;
const LF = 0x0a;
const QUOTE = 0x22;
const COLON = 0x3a;
// Markers are found in decoded text by one regex per stretch of text: V8 has a fixed cost of
// ~100 ns per substring search (more for Buffer#indexOf), which adds up when a stream arrives
// as one ~1 KB chunk per event.
const MARKERS = /"(?:usage|error|model|finish_reason|type|reasoning_content|reasoning)"|event: ?error/g;
const CONTENT_TEXT_KEY = 'content":"'; // also the tail of "reasoning_content"
const TYPE_PREFIXES = ["response.", "error"];

export class ResponseTap {
  readonly #sse: boolean;
  readonly #cap: number;
  #parser: EventSourceParser | null = null;
  #decoder = new TextDecoder("utf-8");
  /** Bytes of the SSE event not yet ended by a blank line (at most the cap). */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** The previous chunk ended in `\r`: a bare CR unless this one starts with `\n`. */
  #endedWithCr = false;
  /** A bare-CR stream: every byte goes to the parser, as before the pre-scan existed. */
  #feedAll = false;
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
        if (this.#feedAll) this.#parser?.feed(this.#decoder.decode(chunk, { stream: true }));
        else this.#scanSse(chunk);
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
          if (this.#feedAll) this.#parser.feed(this.#decoder.decode());
          else if (this.#pendingBytes > 0) this.#parser.feed(Buffer.concat(this.#pending).toString("utf8"));
          this.#pending = [];
          this.#pendingBytes = 0;
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

  // Why a hand-rolled splitter: decoding every byte and running every event through the
  // parser cost about half the proxy's stream throughput, yet almost every event is a plain
  // content delta that carries no fact. So the bytes are split at blank lines here and only
  // events that *might* matter (a superset of #onSseData's test) are decoded and fed to
  // eventsource-parser, which still does all the parsing. Events are fed whole plus "\n\n",
  // so the parser never holds anything between feeds. A stream with bare-CR line ends (legal,
  // never seen from model servers) switches to feeding every byte to the parser.
  #scanSse(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const sawCr = this.#checkLineEnds(chunk);
    if (this.#feedAll) {
      const held = this.#pending;
      this.#pending = [];
      this.#pendingBytes = 0;
      for (const piece of held) this.#parser?.feed(this.#decoder.decode(piece, { stream: true }));
      this.#parser?.feed(this.#decoder.decode(chunk, { stream: true }));
      return;
    }
    let start = 0;
    const lastHeld = this.#pending.at(-1);
    const lastByte = lastHeld?.[lastHeld.length - 1];
    if ((lastByte === LF || lastByte === CR) && (chunk[0] === LF || chunk[0] === CR)) {
      // A blank line may straddle the previous chunk and this one.
      const tail = this.#pendingTail(3);
      const joined = Buffer.concat([tail, chunk.subarray(0, 3)]);
      let at = -1;
      let len = 0;
      for (const blank of [CRLF_BLANK, LF_BLANK]) {
        const i = joined.indexOf(blank);
        if (i !== -1 && i < tail.length && i + blank.length > tail.length && (at === -1 || i < at)) {
          at = i;
          len = blank.length;
        }
      }
      if (at !== -1) {
        const event = Buffer.concat(this.#pending, this.#pendingBytes).subarray(0, this.#pendingBytes - (tail.length - at));
        this.#pending = [];
        this.#pendingBytes = 0;
        this.#considerEvent(event);
        start = at + len - tail.length;
      }
    }
    let nextLf = -2;
    let nextCrlf = sawCr ? -2 : -1; // -2: not searched yet; no CR in the chunk, no CRLF blank line
    let triedBulk = false;
    while (start < chunk.length && this.#parser) {
      if (!triedBulk && this.#pendingBytes === 0) {
        // Usually no event in the chunk matters: one check over all its whole events skips them.
        triedBulk = true;
        const n = chunk.length;
        let end: number;
        if (n >= 2 && chunk[n - 1] === LF && chunk[n - 2] === LF) end = n; // the usual: chunk = whole events
        else if (n >= 4 && chunk[n - 1] === LF && chunk[n - 2] === CR && chunk[n - 3] === LF && chunk[n - 4] === CR) end = n;
        else {
          const lastLf = chunk.lastIndexOf(LF_BLANK);
          const lastCrlf = sawCr ? chunk.lastIndexOf(CRLF_BLANK) : -1;
          end = Math.max(lastLf === -1 ? -1 : lastLf + LF_BLANK.length, lastCrlf === -1 ? -1 : lastCrlf + CRLF_BLANK.length);
        }
        if (end > start && !this.#mightMatter(chunk.toString("utf8", start, end))) start = end;
        continue;
      }
      if (nextLf !== -1 && nextLf < start) nextLf = chunk.indexOf(LF_BLANK, start);
      if (nextCrlf !== -1 && nextCrlf < start) nextCrlf = chunk.indexOf(CRLF_BLANK, start);
      const useLf = nextLf !== -1 && (nextCrlf === -1 || nextLf < nextCrlf);
      const at = useLf ? nextLf : nextCrlf;
      if (at === -1) break;
      const piece = chunk.subarray(start, at);
      let event = piece;
      if (this.#pendingBytes > 0) {
        this.#pending.push(piece);
        event = Buffer.concat(this.#pending, this.#pendingBytes + piece.length);
        this.#pending = [];
        this.#pendingBytes = 0;
      }
      this.#considerEvent(event);
      start = at + (useLf ? LF_BLANK.length : CRLF_BLANK.length);
    }
    if (start < chunk.length && this.#parser) {
      const rest = chunk.subarray(start);
      if (this.#pendingBytes + rest.length > this.#cap) {
        // Oversized event: stop reading this stream (the bytes still pass through).
        this.#overflow = true;
        this.#parser = null;
        this.#pending = [];
        this.#pendingBytes = 0;
        return;
      }
      this.#pending.push(rest);
      this.#pendingBytes += rest.length;
    }
  }

  /** Sets #feedAll on a bare CR; returns whether the chunk holds any CR. */
  #checkLineEnds(chunk: Buffer): boolean {
    if (this.#endedWithCr && chunk[0] !== LF) this.#feedAll = true;
    this.#endedWithCr = false;
    let i = chunk.indexOf(CR);
    const sawCr = i !== -1;
    while (i !== -1 && !this.#feedAll) {
      if (i === chunk.length - 1) {
        this.#endedWithCr = true;
        break;
      }
      if (chunk[i + 1] !== LF) this.#feedAll = true;
      i = chunk.indexOf(CR, i + 2);
    }
    return sawCr;
  }

  #pendingTail(n: number): Buffer {
    const last = this.#pending[this.#pending.length - 1]!;
    if (last.length >= n || this.#pending.length === 1) return last.subarray(Math.max(0, last.length - n));
    return Buffer.concat(this.#pending, this.#pendingBytes).subarray(Math.max(0, this.#pendingBytes - n));
  }

  #considerEvent(event: Buffer): void {
    if (!this.#parser) return;
    const text = event.toString("utf8");
    if (this.#mightMatter(text)) this.#parser.feed(text + "\n\n");
  }

  /** A superset of #onSseData's test (plus `event: error`): false only when the events surely carry no fact. */
  #mightMatter(events: string): boolean {
    // Text values of `…content` keys are most of a stream's bytes and can hold no raw key
    // (a JSON string escapes its quotes), so each substring search runs only around them.
    let from = 0;
    for (let at = events.indexOf(CONTENT_TEXT_KEY); at !== -1; at = events.indexOf(CONTENT_TEXT_KEY, from)) {
      const close = closingQuote(events, at + CONTENT_TEXT_KEY.length);
      // No closing quote on the same line: not valid JSON, so look at everything that is left.
      if (close === -1) break;
      const lineEnd = events.indexOf("\n", at);
      if (lineEnd !== -1 && lineEnd < close) break;
      if (this.#segmentMightMatter(events.slice(from, at + CONTENT_TEXT_KEY.length))) return true;
      from = close + 1;
    }
    return this.#segmentMightMatter(from === 0 ? events : events.slice(from));
  }

  #segmentMightMatter(text: string): boolean {
    MARKERS.lastIndex = 0;
    for (let match = MARKERS.exec(text); match !== null; match = MARKERS.exec(text)) {
      const after = match.index + match[0].length;
      switch (match[0]) {
        case '"model"':
          if (this.#facts.response_model === null) return true;
          break;
        case '"finish_reason"':
          if (valueMayMatter(text, after, null)) return true;
          break;
        case '"type"':
          if (valueMayMatter(text, after, TYPE_PREFIXES)) return true;
          break;
        case '"reasoning"':
          if (!this.#sawReasoning && valueMayMatter(text, after, null)) return true;
          break;
        case '"reasoning_content"':
          if (!this.#sawReasoningContent && valueMayMatter(text, after, null)) return true;
          break;
        default: // "usage", "error", an `event: error` line
          return true;
      }
    }
    return false;
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
        ((!this.#sawReasoning && REASONING_KEY.test(trimmed)) || (!this.#sawReasoningContent && REASONING_CONTENT_KEY.test(trimmed)))) ||
      // The first event naming a model says who answered, even if nothing later does.
      (this.#facts.response_model === null && trimmed.includes('"model"'));
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

/**
 * Whether the key that ends at `p` may have a string value (starting with one of `prefixes`,
 * or any string when null). Conservative: anything other than plain `null` or a non-key use
 * (followed by `,` `]` `}`) counts as maybe, e.g. a `data:` line break between the tokens.
 */
function valueMayMatter(text: string, p: number, prefixes: string[] | null): boolean {
  p = skipJsonSpace(text, p);
  const after = text.charCodeAt(p);
  if (after === 0x2c || after === 0x5d || after === 0x7d) return false; // a value, not a key
  if (after !== COLON) return true;
  p = skipJsonSpace(text, p + 1);
  if (text.startsWith("null", p)) return false;
  if (text.charCodeAt(p) !== QUOTE || prefixes === null) return true;
  return prefixes.some((prefix) => text.startsWith(prefix, p + 1));
}

/** Index of the quote that ends the JSON string whose text starts at `p`, or -1. */
function closingQuote(text: string, p: number): number {
  for (let q = text.indexOf('"', p); q !== -1; q = text.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (q - 1 - backslashes >= p && text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
  return -1;
}

function skipJsonSpace(text: string, p: number): number {
  while (p < text.length) {
    const c = text.charCodeAt(p);
    if (c !== 0x20 && c !== 0x09 && c !== LF && c !== CR) break;
    p++;
  }
  return p;
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
