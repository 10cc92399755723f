// Addressing the probed endpoint and keeping its secrets out of what the probe says: the base
// URL and key (SecretValues) are revealed here only, to build request URLs and headers, and
// `redact` takes them out of any text that leaves the probe. Apart from the requests so that
// one short file shows that no URL or key can leak; the capped body read and the clock are
// here too because the chat requests and discovery both use them.
import type { ProbeTarget } from "./probe.ts";

export interface Endpoint {
  /** Build the URL of `path` under the base (keeps the base's query string). */
  url(path: string): string;
  /** The URL of a server-level `path` beside the base's `/v1`; null when the base does not end in /v1. */
  rootUrl(path: string): string | null;
  headers: Record<string, string>;
  redact(text: string): string;
}

class InvalidUrl extends Error {}

export function endpointOf(target: ProbeTarget): Endpoint {
  const raw = target.baseUrl.reveal();
  const key = target.apiKey?.reveal();
  const secrets = new Set<string>([raw]);
  if (key) secrets.add(key);
  let base: URL;
  try {
    base = new URL(raw);
  } catch {
    throw new InvalidUrl("invalid base URL");
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") throw new InvalidUrl("invalid base URL");
  const headers: Record<string, string> = { accept: "application/json, text/event-stream" };
  // fetch() refuses URLs with credentials: move user:pass into Basic auth (a bearer key wins).
  const user = decodeURIComponent(base.username);
  const pass = decodeURIComponent(base.password);
  for (const s of [base.username, base.password, user, pass]) if (s.length >= 3) secrets.add(s);
  for (const [, v] of base.searchParams) if (v.length >= 3) secrets.add(v);
  if (key) headers.authorization = `Bearer ${key}`;
  else if (user || pass) headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
  base.username = "";
  base.password = "";
  secrets.add(base.href);
  secrets.add(base.origin);
  secrets.add(base.host);
  const basePath = base.pathname.replace(/\/+$/, "");
  const ordered = [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  return {
    url(path: string): string {
      const u = new URL(base.href);
      u.pathname = `${basePath}${path}`;
      return u.href;
    },
    rootUrl(path: string): string | null {
      // Server-level routes (vLLM /version) sit beside /v1, not under it.
      if (!/\/v1$/.test(basePath)) return null;
      const u = new URL(base.href);
      u.pathname = `${basePath.replace(/\/v1$/, "")}${path}`;
      return u.href;
    },
    headers,
    redact(text: string): string {
      let out = text;
      for (const s of ordered) out = out.split(s).join("[secret]");
      return out;
    },
  };
}

/** The error code of a failed fetch; never its message, which contains the URL. */
export function connectionErrorCode(error: unknown): string {
  const seen = new Set<unknown>();
  let e: unknown = error;
  while (e && typeof e === "object" && !seen.has(e)) {
    seen.add(e);
    const obj = e as { code?: unknown; name?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof obj.code === "string" && /^[A-Z_]+$/.test(obj.code)) return obj.code;
    if (obj.name === "TimeoutError" || obj.name === "AbortError") return "ETIMEDOUT";
    if (Array.isArray(obj.errors) && obj.errors.length > 0) {
      e = obj.errors[0];
      continue;
    }
    e = obj.cause;
  }
  return "EFETCH";
}

export interface Clock {
  start: number;
  now(): number;
}

export async function readCapped(res: Response, cap = 64 * 1024): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < cap) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return text.slice(0, cap);
}
