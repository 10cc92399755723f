// Which requests the proxy lets through. Pure decision logic: given what a request asked for,
// say whether it may reach the upstream model server, and if not, what the agent is told.
//
// This refusal (and its record) is the run's proof of "no fallback to another model": a
// request naming any model other than the admitted one never leaves the machine.
import { gunzipSync, inflateSync, brotliDecompressSync } from "node:zlib";

/** API paths (after the /v1 prefix) whose requests run a model and must name the admitted one. */
export const MODEL_ENDPOINTS: readonly string[] = ["/chat/completions", "/completions", "/embeddings", "/responses"];

export interface RequestFacts {
  /** The `model` of the JSON body, or null when the body names none / is not JSON. */
  model: string | null;
  /** The body asked for a streamed answer (`"stream": true`). */
  stream: boolean;
  /** The body was JSON we could read. */
  json: boolean;
}

/** Largest decoded request body the proxy reads for its `model`. */
const MAX_DECODED_BODY = 64 * 1024 * 1024;

/** Reads `model` and `stream` out of a request body (any content encoding the SDKs use). */
export function readRequestFacts(body: Buffer, contentEncoding: string | undefined): RequestFacts {
  const none: RequestFacts = { model: null, stream: false, json: false };
  if (body.length === 0) return none;
  let decoded: Buffer;
  try {
    decoded = decodeBody(body, (contentEncoding ?? "identity").trim().toLowerCase());
  } catch {
    return none;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoded.toString("utf8"));
  } catch {
    return none;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return { ...none, json: true };
  const fields = parsed as Record<string, unknown>;
  return {
    model: typeof fields.model === "string" ? fields.model : null,
    stream: fields.stream === true,
    json: true,
  };
}

function decodeBody(body: Buffer, encoding: string): Buffer {
  const opts = { maxOutputLength: MAX_DECODED_BODY };
  switch (encoding) {
    case "":
    case "identity":
      return body;
    case "gzip":
    case "x-gzip":
      return gunzipSync(body, opts);
    case "deflate":
      return inflateSync(body, opts);
    case "br":
      return brotliDecompressSync(body, opts);
    default:
      throw new Error("unsupported content-encoding");
  }
}

export type AdmissionDecision =
  | { admit: true }
  | { admit: false; status: number; reason: string; code: string; message: string };

/**
 * Any request that names a model must name the admitted one, whatever the path (an agent
 * falling back to another API shape, e.g. `/v1/messages`, is refused too). Requests to the
 * model-running endpoints must name one: a request without a model would let the server pick.
 */
export function decideAdmission(suffixPath: string, facts: RequestFacts, admittedModel: string): AdmissionDecision {
  if (facts.model !== null) {
    if (facts.model === admittedModel) return { admit: true };
    return {
      admit: false,
      status: 403,
      reason: "model not admitted",
      code: "model_not_admitted",
      message: `model '${facts.model}' is not admitted for this run (admitted: '${admittedModel}'); cto-harness refused the request`,
    };
  }
  if (MODEL_ENDPOINTS.includes(suffixPath)) {
    return {
      admit: false,
      status: 403,
      reason: facts.json ? "request names no model" : "request body is not JSON",
      code: "model_not_admitted",
      message: `the request names no model${facts.json ? "" : " (its body is not readable JSON)"}; only '${admittedModel}' is admitted for this run; cto-harness refused the request`,
    };
  }
  return { admit: true };
}

/** The error body shape OpenAI clients understand (`error.message` is what they print). */
export function openAiErrorBody(message: string, type: string, code: string): string {
  return JSON.stringify({ error: { message, type, code } });
}
