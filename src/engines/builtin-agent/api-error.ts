// The builtin agent's name for a failed model call (its events and its case-result summary).
import OpenAI from "openai";

/**
 * How a failed model call is named in the agent's events and result. An error event inside a
 * 200 stream (llama.cpp's "does not match the expected … format", found by the real-server tier)
 * is an APIError without a status: it is the server's answer, not a connection failure.
 */
export function describeApiError(e: unknown): string {
  if (e instanceof OpenAI.APIConnectionError) return `connection error: ${e.message}`;
  if (e instanceof OpenAI.APIError) {
    const status = e.status ? `HTTP ${e.status}` : "error inside the response stream";
    return `${status}: ${e.message}`;
  }
  return e instanceof Error ? e.message : String(e);
}
