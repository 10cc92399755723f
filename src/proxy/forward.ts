// Forwarding: one admitted request sent upstream with the real key, its answer relayed to the
// agent untouched and unbuffered while the response tap reads usage and finish reasons. Every
// way an exchange can end (answer, upstream failure, cut stream, timeout, the agent leaving,
// the proxy closing) ends it exactly once and leaves its facts in the record.
//
// The upstream URL and key are secrets: they are revealed only in the outgoing request here
// and never appear in a record, an error body or an exception message.
import http from "node:http";
import https from "node:https";
import { performance } from "node:perf_hooks";
import type { SecretValue } from "../config/secret.ts";
import { parseUpstreamBase, upstreamHostHeader, upstreamRequestPath, type UpstreamTarget } from "./upstream-url.ts";
import { ResponseTap, type ResponseFacts } from "./response-tap.ts";
import type { ModelRequestRecord } from "./record.ts";
import { connectionListed, errorCode, headerValue, isIpLiteral, methodHasBody, round, sendError } from "./http-util.ts";

// Headers that describe one hop, not the message (RFC 9110 §7.6.1), plus the ones the proxy
// sets itself. Credentials the agent sent are for the proxy only and never go upstream.
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);
const NOT_FORWARDED_UP = new Set([...HOP_BY_HOP, "host", "authorization", "x-api-key", "api-key", "content-length", "accept-encoding", "expect"]);
// Response headers that could name the upstream host (a redirect target, a cookie domain).
const NOT_FORWARDED_DOWN = new Set([...HOP_BY_HOP, "location", "content-location", "set-cookie", "alt-svc"]);

/** Where admitted requests go, and how. */
export interface Upstream {
  target: UpstreamTarget;
  transport: typeof http | typeof https;
  agent: http.Agent;
  hostHeader: string;
  authorization: string | undefined;
  timeoutMs: number;
  parseCapBytes: number;
  /** Exchanges still running, cut with a reason when the proxy closes. */
  inFlight: Set<(reason: string) => void>;
}

export function makeUpstream(baseUrl: SecretValue, apiKey: SecretValue | undefined, timeoutMs: number, parseCapBytes: number): Upstream {
  const target = parseUpstreamBase(baseUrl.reveal());
  const transport = target.protocol === "https:" ? https : http;
  return {
    target,
    transport,
    agent: new transport.Agent({ keepAlive: true, scheduling: "lifo" }),
    hostHeader: upstreamHostHeader(target),
    authorization: apiKey ? `Bearer ${apiKey.reveal()}` : (target.basicAuthorization ?? undefined),
    timeoutMs,
    parseCapBytes,
    inFlight: new Set(),
  };
}

/** Sends the request upstream and relays the answer; resolves when the exchange is over. */
export function forward(up: Upstream, req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, record: ModelRequestRecord): Promise<void> {
  return new Promise<void>((resolve) => new Exchange(up, req, res, body, record, resolve).start());
}

function upstreamHeaders(up: Upstream, req: http.IncomingMessage, body: Buffer, method: string): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !NOT_FORWARDED_UP.has(name)) headers[name] = value;
  }
  // Also drop headers the client listed in `Connection` (they are hop-by-hop by declaration).
  for (const name of connectionListed(req.headers.connection)) delete headers[name];
  headers.host = up.hostHeader;
  headers["accept-encoding"] = "identity"; // the tap reads plain bytes; nothing is recompressed
  if (body.length > 0 || methodHasBody(method)) headers["content-length"] = String(body.length);
  if (up.authorization) headers.authorization = up.authorization;
  return headers;
}

function downstreamHeaders(response: http.IncomingMessage, sse: boolean): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  const dropped = new Set([...NOT_FORWARDED_DOWN, ...connectionListed(response.headers.connection)]);
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined && !dropped.has(name)) out[name] = value;
  }
  if (sse) out["x-accel-buffering"] = "no";
  return out;
}

function applyFacts(record: ModelRequestRecord, facts: ResponseFacts): void {
  record.prompt_tokens = facts.prompt_tokens;
  record.completion_tokens = facts.completion_tokens;
  record.reasoning_tokens = facts.reasoning_tokens;
  record.finish_reason = facts.finish_reason;
  record.reasoning_field = facts.reasoning_field;
  record.response_model = facts.response_model;
  if (facts.body_error && record.upstream_error === undefined) record.upstream_error = facts.body_error;
}

class Exchange {
  #upReq: http.ClientRequest | null = null;
  #upRes: http.IncomingMessage | null = null;
  #tap: ResponseTap | null = null;
  #timer: NodeJS.Timeout | null = null;
  #sentAt = 0;
  #over = false;
  readonly #headers: http.OutgoingHttpHeaders;
  readonly #path: string;
  readonly #abortForClose = (why: string): void => this.cut(why);

  private readonly up: Upstream;
  private readonly res: http.ServerResponse;
  private readonly body: Buffer;
  private readonly record: ModelRequestRecord;
  private readonly resolve: () => void;

  constructor(up: Upstream, req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, record: ModelRequestRecord, resolve: () => void) {
    this.up = up;
    this.res = res;
    this.body = body;
    this.record = record;
    this.resolve = resolve;
    this.#headers = upstreamHeaders(up, req, body, record.method);
    this.#path = upstreamRequestPath(up.target, req.url ?? "/");
  }

  start(): void {
    this.up.inFlight.add(this.#abortForClose);
    // The agent went away: stop the upstream work it asked for.
    this.res.on("close", () => {
      if (this.#over || this.res.writableFinished) return;
      this.record.client_aborted = true;
      if (!this.#upRes) this.record.status = 499;
      this.#upReq?.destroy();
      this.#upRes?.destroy();
      this.end();
    });
    this.send(0);
  }

  private end(): void {
    if (this.#over) return;
    this.#over = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.up.inFlight.delete(this.#abortForClose);
    if (this.#tap) applyFacts(this.record, this.#tap.finish());
    this.resolve();
  }

  private armTimer(what: "headers" | "idle"): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (what === "headers") this.fail("timeout", 504, `upstream sent no response within ${Math.round(this.up.timeoutMs / 1000)} s (timeout)`, "upstream_timeout");
      else this.cut("stream idle timeout");
    }, this.up.timeoutMs);
    this.#timer.unref?.();
  }

  /** Failure before any response byte reached the agent: answer with an error of the same kind. */
  private fail(code: string, status: number, message: string, errorCodeName: string): void {
    if (this.#over) return;
    this.#upReq?.destroy();
    this.record.upstream_error = code;
    if (this.res.headersSent) {
      this.res.destroy();
    } else {
      this.record.status = status;
      this.record.bytes = sendError(this.res, status, message, "upstream_error", errorCodeName);
    }
    this.end();
  }

  /** Failure after the response began: the agent must see a cut stream too, never a clean end. */
  private cut(why: string): void {
    if (this.#over) return;
    this.record.upstream_error = why;
    this.#upReq?.destroy();
    this.#upRes?.destroy();
    this.res.destroy();
    this.end();
  }

  private send(attempt: number): void {
    try {
      this.sendOnce(attempt);
    } catch {
      this.fail("proxy error", 502, "cto-harness proxy could not send the request upstream", "proxy_error");
    }
  }

  private sendOnce(attempt: number): void {
    const { target } = this.up;
    this.#sentAt = performance.now();
    const request = this.up.transport.request({
      agent: this.up.agent,
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: this.record.method,
      path: this.#path,
      headers: this.#headers,
      ...(target.protocol === "https:" && !isIpLiteral(target.hostname) ? { servername: target.hostname } : {}),
    });
    this.#upReq = request;
    this.armTimer("headers");
    request.on("error", (error: NodeJS.ErrnoException) => this.onRequestError(request, attempt, error));
    request.on("response", (response) => this.onResponse(response));
    request.end(this.body);
  }

  private onRequestError(request: http.ClientRequest, attempt: number, error: NodeJS.ErrnoException): void {
    if (this.#over || this.#upReq !== request) return;
    if (this.#upRes) return; // after the response began, the response's own close handler reports the cut
    // A kept-alive socket the server had already closed: the request never reached it, retry once.
    if (attempt === 0 && request.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE")) {
      this.send(1);
      return;
    }
    const code = errorCode(error);
    this.fail(code, 502, `upstream unreachable (${code}); cto-harness could not reach the model server`, "upstream_unreachable");
  }

  private onResponse(response: http.IncomingMessage): void {
    try {
      this.relay(response);
    } catch {
      // e.g. a response header Node refuses to write: the agent gets a fault, not a hang.
      if (this.res.headersSent) this.cut("proxy error");
      else this.fail("proxy error", 502, "cto-harness proxy could not relay the upstream response", "proxy_error");
    }
  }

  private relay(response: http.IncomingMessage): void {
    if (this.#over) {
      response.destroy();
      return;
    }
    this.#upRes = response;
    const status = response.statusCode ?? 502;
    this.record.status = status;
    if (status >= 400) this.record.upstream_error = `upstream status ${status}`;
    const sse = (headerValue(response.headers["content-type"]) ?? "").toLowerCase().includes("text/event-stream");
    if (sse) this.record.stream = true;
    const encoded = (headerValue(response.headers["content-encoding"]) ?? "identity").toLowerCase() !== "identity";
    this.#tap = encoded ? null : new ResponseTap({ sse, capBytes: this.up.parseCapBytes });
    this.res.writeHead(status, downstreamHeaders(response, sse));
    this.res.flushHeaders(); // the agent sees the status at once, even if the first token is slow
    this.armTimer("idle");
    this.pipe(response);
  }

  private pipe(response: http.IncomingMessage): void {
    response.on("data", (chunk: Buffer) => {
      if (this.#over) return;
      if (this.record.ttfb_ms === null) this.record.ttfb_ms = round(performance.now() - this.#sentAt);
      this.#timer?.refresh(); // cheaper than a new timer per chunk
      this.#tap?.feed(chunk);
      this.record.bytes += chunk.length;
      if (!this.res.write(chunk)) response.pause();
    });
    this.res.on("drain", () => response.resume());
    response.on("end", () => {
      if (this.#over) return;
      if (this.record.ttfb_ms === null) this.record.ttfb_ms = round(performance.now() - this.#sentAt);
      this.res.end(() => this.end());
    });
    response.on("error", () => {
      // reported by "close" below
    });
    response.on("close", () => {
      if (!response.complete) this.cut("stream cut");
    });
  }
}
