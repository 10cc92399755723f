// Small HTTP helpers the proxy's parts share. Pure or nearly so (sendError writes a response).
import type http from "node:http";
import { openAiErrorBody } from "./admission-gate.ts";

/** Writes an OpenAI-style error body; returns the bytes written. */
export function sendError(res: http.ServerResponse, status: number, message: string, type: string, code: string, closeConnection = false): number {
  const payload = Buffer.from(openAiErrorBody(message, type, code));
  if (res.headersSent || res.destroyed) return 0;
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(payload.length),
    ...(closeConnection ? { connection: "close" } : {}),
  });
  res.end(payload);
  return payload.length;
}

/** A short, URL-free name for a transport failure: the error code only, never the message (it names the address). */
export function errorCode(error: NodeJS.ErrnoException): string {
  const code = typeof error.code === "string" ? error.code : "";
  return /^[A-Z][A-Z0-9_]{1,63}$/.test(code) ? code : "upstream connection failed";
}

export function safePathname(url: string | undefined): string {
  try {
    return new URL(url ?? "/", "http://proxy.invalid").pathname;
  } catch {
    return "/";
  }
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Header names a message lists in `Connection` (hop-by-hop by declaration). */
export function connectionListed(value: string | string[] | undefined): string[] {
  const text = Array.isArray(value) ? value.join(",") : (value ?? "");
  return text
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name && name !== "close" && name !== "keep-alive");
}

export function methodHasBody(method: string): boolean {
  return method === "POST" || method === "PUT" || method === "PATCH";
}

export function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}

export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
