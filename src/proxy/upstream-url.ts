// Where a proxied request goes upstream. Pure: no I/O, so the URL rules are testable alone.
//
// The upstream base URL is a secret (DESIGN §4): nothing here may put it, or any part of it,
// into an error message. Errors say what is wrong with the URL, never what the URL is.

export interface UpstreamTarget {
  protocol: "http:" | "https:";
  hostname: string;
  port: number;
  /** Path of the base without a trailing slash, e.g. "/v1" or "" */
  basePath: string;
  /** Query parameters of the base (e.g. an api-version or a token), kept on every request. */
  baseQuery: [string, string][];
  /** `Basic ...` built from the base's userinfo; the userinfo never goes into the request line. */
  basicAuthorization: string | null;
}

export class UpstreamUrlError extends Error {}

export function parseUpstreamBase(base: string): UpstreamTarget {
  let url: URL;
  try {
    url = new URL(base.trim());
  } catch {
    throw new UpstreamUrlError("the upstream base URL is not a valid URL (value not shown: it is secret)");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UpstreamUrlError(`the upstream base URL must use http or https, not ${JSON.stringify(url.protocol.replace(/:$/, ""))}`);
  }
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const basicAuthorization =
    user || password ? `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}` : null;
  return {
    protocol: url.protocol,
    hostname,
    port,
    basePath: url.pathname.replace(/\/+$/, ""),
    baseQuery: [...url.searchParams.entries()],
    basicAuthorization,
  };
}

/**
 * The path a client asked for, relative to the OpenAI base: `/v1/chat/completions` and
 * `/chat/completions` both mean `/chat/completions` (clients differ on whether their base
 * ends in /v1; the upstream base always carries its own prefix).
 */
export function apiSuffix(pathname: string): string {
  if (pathname === "/v1") return "/";
  if (pathname.startsWith("/v1/")) return pathname.slice(3);
  return pathname === "" ? "/" : pathname;
}

/** The request-line path for upstream: base path + suffix, base query first, then the client's. */
export function upstreamRequestPath(target: UpstreamTarget, incoming: string): string {
  // A dummy origin only to split path and query; the incoming request line never has a host we use.
  const parsed = new URL(incoming, "http://proxy.invalid");
  const suffix = apiSuffix(parsed.pathname);
  const path = suffix === "/" ? target.basePath || "/" : target.basePath + suffix;
  const query = new URLSearchParams(target.baseQuery);
  for (const [key, value] of parsed.searchParams) query.append(key, value);
  const qs = query.toString();
  return qs ? `${path}?${qs}` : path;
}

/** `host` header value for the upstream request (port only when not the protocol's default). */
export function upstreamHostHeader(target: UpstreamTarget): string {
  const host = target.hostname.includes(":") ? `[${target.hostname}]` : target.hostname;
  const defaultPort = target.protocol === "https:" ? 443 : 80;
  return target.port === defaultPort ? host : `${host}:${target.port}`;
}
