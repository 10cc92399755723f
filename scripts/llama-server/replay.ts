// Sends one recorded exchange's request (to the real server when recording, to the simulator
// when checking conformance) and records the answer.
import type { Exchange } from "./exchanges.ts";
import { recordResponse, type RecordedResponse } from "./shapes.ts";

export type ExchangeRequest = Pick<Exchange, "method" | "path" | "body" | "rawBody" | "auth">;

export async function sendExchange(origin: string, ex: ExchangeRequest, key: string): Promise<RecordedResponse> {
  const headers: Record<string, string> = {};
  if (ex.auth === "good") headers.authorization = `Bearer ${key}`;
  if (ex.auth === "wrong") headers.authorization = "Bearer wrong-key";
  let body: string | undefined;
  if (ex.rawBody !== undefined) body = ex.rawBody;
  else if (ex.body !== undefined) body = JSON.stringify(ex.body);
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${origin}${ex.path}`, { method: ex.method, headers, body, signal: AbortSignal.timeout(60_000) });
  return recordResponse(res.status, res.headers, await res.text());
}
