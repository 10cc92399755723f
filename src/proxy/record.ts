// What the proxy writes about each request (backend/model-requests.jsonl, one JSON line each)
// and the run-level summary the report's `model_traffic` is built from. Pure.
import type { ReasoningField } from "./response-tap.ts";

export interface ModelRequestRecord {
  /** Order of arrival at the proxy (1-based); lines are written when a request ends. */
  seq: number;
  /** When the request arrived (ISO 8601). */
  ts: string;
  method: string;
  /** The path the agent asked for (no query string). */
  path: string;
  /** The `model` the request named, or null (e.g. GET /v1/models). */
  model: string | null;
  stream: boolean;
  /** HTTP status the agent received (or the upstream status when the stream was later cut). */
  status: number;
  /** The proxy answered itself and nothing went upstream (bad token, model not admitted, ...). */
  refused: boolean;
  refusal_reason?: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  reasoning_tokens?: number | null;
  /** Arrival to last byte sent (or failure). */
  latency_ms: number;
  /** Request sent upstream to first response byte; null when nothing came back. */
  ttfb_ms: number | null;
  finish_reason: string | null;
  reasoning_field: ReasoningField;
  /** The model the server says answered (servers that ignore the name, e.g. llama.cpp, may differ). */
  response_model?: string | null;
  /** What went wrong upstream, as a short code ("ECONNREFUSED", "stream cut", "error in 200 stream", "upstream status 500"); never the URL. */
  upstream_error?: string;
  /** The agent went away before the response ended; the upstream request was aborted. */
  client_aborted?: boolean;
  /** Response body bytes sent to the agent. */
  bytes: number;
}

export interface ModelTrafficSummary {
  requests: number;
  /** Every model asked for, admitted or not, in order of first appearance. */
  models_seen: string[];
  prompt_tokens: number;
  completion_tokens: number;
  /** Some request named a model other than the admitted one (it was refused, never forwarded). */
  fallback_detected: boolean;
  refused_requests: number;
  /** Forwarded requests that failed: upstream error status, unreachable, cut, error in stream. */
  errors: number;
  /** Every model the server said answered, in order of first appearance. */
  models_answered: string[];
}

export function summarizeRecords(records: readonly ModelRequestRecord[], admittedModel: string): ModelTrafficSummary {
  const modelsSeen: string[] = [];
  const modelsAnswered: string[] = [];
  let promptTokens = 0;
  let completionTokens = 0;
  let refused = 0;
  let errors = 0;
  // Arrival order, so "first appearance" means first asked, not first finished.
  const byArrival = [...records].sort((a, b) => a.seq - b.seq);
  for (const record of byArrival) {
    if (record.model !== null && !modelsSeen.includes(record.model)) modelsSeen.push(record.model);
    if (record.response_model && !modelsAnswered.includes(record.response_model)) modelsAnswered.push(record.response_model);
    promptTokens += record.prompt_tokens ?? 0;
    completionTokens += record.completion_tokens ?? 0;
    if (record.refused) refused += 1;
    else if (record.upstream_error !== undefined || record.status >= 400) errors += 1;
  }
  return {
    requests: records.length,
    models_seen: modelsSeen,
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    fallback_detected: modelsSeen.some((model) => model !== admittedModel),
    refused_requests: refused,
    errors,
    models_answered: modelsAnswered,
  };
}

/** A fresh record for a request that just arrived. */
export function newRecord(seq: number, method: string | undefined, path: string): ModelRequestRecord {
  return {
    seq,
    ts: new Date().toISOString(),
    method: method ?? "GET",
    path,
    model: null,
    stream: false,
    status: 0,
    refused: false,
    prompt_tokens: null,
    completion_tokens: null,
    reasoning_tokens: null,
    latency_ms: 0,
    ttfb_ms: null,
    finish_reason: null,
    reasoning_field: null,
    bytes: 0,
  };
}
