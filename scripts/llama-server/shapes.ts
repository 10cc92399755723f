// Pure helpers shared by the recorder (record.ts) and the conformance test: how a raw HTTP
// answer becomes a recording, how machine-specific values are scrubbed, and what "the same
// shape" means when the simulator is compared with the real server.

export type SseEvent = { kind: "data"; json: unknown } | { kind: "data-text"; text: string } | { kind: "comment"; text: string } | { kind: "done" };

export interface SseFraming {
  /** Every event ended with a blank line ("\n\n"), no "\r". */
  blank_line_separated: boolean;
  /** Every data line was `data: ` + one compact JSON document (or [DONE]). */
  single_line_data: boolean;
  ends_with_done: boolean;
  comment_lines: number;
}

export interface RecordedResponse {
  status: number;
  /** Header names (lower-case, sorted) and the values that say something: content-type, server. */
  header_names: string[];
  content_type: string | null;
  server: string | null;
  kind: "json" | "sse" | "text" | "empty";
  json?: unknown;
  text?: string;
  events?: SseEvent[];
  framing?: SseFraming;
}

/** Headers whose values differ per machine or per request and say nothing about the shape. */
const VOLATILE_HEADERS = new Set(["date", "content-length", "keep-alive"]);

export function recordResponse(status: number, headers: Headers, raw: string): RecordedResponse {
  const names = [...headers.keys()].map((n) => n.toLowerCase()).filter((n) => !VOLATILE_HEADERS.has(n) && !n.startsWith("x-cto-harness"));
  const contentType = headers.get("content-type");
  const base = { status, header_names: [...new Set(names)].sort(), content_type: contentType, server: headers.get("server") };
  if (raw === "") return { ...base, kind: "empty" };
  if (contentType?.includes("text/event-stream")) return { ...base, kind: "sse", ...parseSse(raw) };
  try {
    return { ...base, kind: "json", json: JSON.parse(raw) };
  } catch {
    return { ...base, kind: "text", text: raw };
  }
}

export function parseSse(raw: string): { events: SseEvent[]; framing: SseFraming } {
  const blocks = raw.split("\n\n");
  const tail = blocks.pop();
  const events: SseEvent[] = [];
  let singleLine = true;
  let comments = 0;
  for (const block of blocks) {
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) {
        comments++;
        events.push({ kind: "comment", text: line.slice(1).trim() });
      } else if (line === "data: [DONE]") {
        events.push({ kind: "done" });
      } else if (line.startsWith("data: ")) {
        try {
          events.push({ kind: "data", json: JSON.parse(line.slice(6)) });
        } catch {
          singleLine = false;
          events.push({ kind: "data-text", text: line.slice(6) });
        }
      } else {
        singleLine = false;
        events.push({ kind: "data-text", text: line });
      }
    }
    if (block.split("\n").filter((l) => l.startsWith("data: ")).length > 1) singleLine = false;
  }
  const framing: SseFraming = {
    blank_line_separated: tail === "" && !raw.includes("\r"),
    single_line_data: singleLine,
    ends_with_done: events.at(-1)?.kind === "done",
    comment_lines: comments,
  };
  return { events, framing };
}

// ---------------------------------------------------------------------------------------
// Scrubbing: values that differ per run or machine (ids, clocks, ports, paths, speeds)

const SCRUBBED = "<scrubbed>";

/** Keys whose values are per-request or per-machine: replaced, the key kept. */
const SCRUB_KEYS = new Set(["created", "model_path", "modified_at", "media_marker"]);
/** Generated ids (completions `chatcmpl-…`, tool calls: 32 random letters); a model's `id` stays. */
const GENERATED_ID = /^(chatcmpl-[A-Za-z0-9]+|[A-Za-z0-9]{24,})$/;

export function scrub(value: unknown, key = ""): unknown {
  if (Array.isArray(value)) return value.map((v) => scrub(v, key));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "timings" && v !== null && typeof v === "object") {
        // Speeds and durations depend on the machine: keep the names, zero the numbers.
        out[k] = Object.fromEntries(Object.entries(v).map(([tk, tv]) => [tk, typeof tv === "number" ? 0 : tv]));
      } else {
        out[k] = scrub(v, k);
      }
    }
    return out;
  }
  if (key === "id" && typeof value === "string" && GENERATED_ID.test(value)) return SCRUBBED;
  if (SCRUB_KEYS.has(key) && value !== null && (typeof value === "string" || typeof value === "number")) {
    return typeof value === "number" ? 0 : SCRUBBED;
  }
  if (typeof value === "string") return value.replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>").replace(/\/(?:root|home|tmp)\/[^\s"']*/g, "<path>");
  return value;
}

export function scrubResponse(r: RecordedResponse): RecordedResponse {
  const out: RecordedResponse = { ...r };
  if (r.json !== undefined) out.json = scrub(r.json);
  if (r.text !== undefined) out.text = scrub(r.text) as string;
  if (r.events) out.events = r.events.map((e) => (e.kind === "data" ? { kind: "data", json: scrub(e.json) } : e));
  return out;
}

// ---------------------------------------------------------------------------------------
// Shapes: what must match between the simulator and the real server

/** The type skeleton of a JSON value: null vs absent vs string vs number, recursively. */
export function shapeOf(value: unknown): unknown {
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "[]" : [shapeOf(value[0])];
  if (typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, shapeOf(v)]));
  }
  return typeof value;
}

/** What a stream chunk is, by what it carries (order of these is the "chunk order"). */
export function chunkKind(json: unknown): string {
  const c = json as { choices?: { delta?: Record<string, unknown>; finish_reason?: unknown }[]; usage?: unknown; error?: unknown };
  if (c.error !== undefined) return "error";
  if (Array.isArray(c.choices) && c.choices.length === 0) return c.usage !== undefined ? "usage" : "empty-choices";
  const choice = c.choices?.[0];
  const d = choice?.delta ?? {};
  const parts: string[] = [];
  if (d.role !== undefined && d.role !== null) parts.push("role");
  if (typeof d.reasoning_content === "string" && d.reasoning_content !== "") parts.push("reasoning");
  if (typeof d.content === "string" && d.content !== "") parts.push("content");
  const calls = d.tool_calls as { id?: unknown }[] | undefined;
  if (Array.isArray(calls) && calls.length > 0) parts.push(calls[0]!.id !== undefined ? "tool-head" : "tool-args");
  if (choice?.finish_reason !== null && choice?.finish_reason !== undefined) parts.push("finish");
  if (c.usage !== undefined) parts.push("usage");
  return parts.length > 0 ? parts.join("+") : "empty-delta";
}

/** Chunk kinds in order, repeats collapsed ("content" × n → one), comments left out. */
export function chunkOrder(events: readonly SseEvent[]): string[] {
  const order: string[] = [];
  for (const e of events) {
    const kind = e.kind === "data" ? chunkKind(e.json) : e.kind === "done" ? "[DONE]" : e.kind === "data-text" ? "data-text" : null;
    if (kind !== null && order.at(-1) !== kind) order.push(kind);
  }
  return order;
}

/** The shape of the first chunk of each kind. */
export function chunkShapes(events: readonly SseEvent[]): Record<string, unknown> {
  const shapes: Record<string, unknown> = {};
  for (const e of events) {
    if (e.kind !== "data") continue;
    const kind = chunkKind(e.json);
    if (!(kind in shapes)) shapes[kind] = shapeOf(e.json);
  }
  return shapes;
}

/** Values that name things (not generated text): they must be equal, not only typed alike. */
const ENUMERATED = new Set(["object", "finish_reason", "role", "type", "owned_by", "code", "status", "format"]);

export function enumeratedValues(value: unknown, path = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  if (Array.isArray(value)) value.slice(0, 1).forEach((v) => enumeratedValues(v, `${path}[]`, out));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      if (ENUMERATED.has(k) && (typeof v !== "object" || v === null)) out[p] = v;
      else enumeratedValues(v, p, out);
    }
  }
  return out;
}

/** What must be equal between the simulator's answer and the recorded one. */
export function comparable(r: RecordedResponse): Record<string, unknown> {
  const base = { status: r.status, content_type: r.content_type, server: r.server, kind: r.kind };
  switch (r.kind) {
    case "json":
      return { ...base, shape: shapeOf(r.json), values: enumeratedValues(r.json) };
    case "sse": {
      const events = r.events ?? [];
      const values: Record<string, unknown> = {};
      for (const e of events) if (e.kind === "data") Object.assign(values, enumeratedValues(e.json));
      return { ...base, framing: { ...r.framing, comment_lines: undefined }, order: chunkOrder(events), shapes: chunkShapes(events), values };
    }
    case "text":
      return { ...base, text: r.text };
    case "empty":
      return base;
  }
}

