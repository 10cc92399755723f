// The run's recording proxy: the only model endpoint an agent ever sees (DESIGN §8).
//
// It listens on loopback (and optionally a Unix socket bound into the sandbox), checks the
// per-run token, refuses any request for a model other than the admitted one, forwards the
// rest to the real endpoint with the real key, streams answers back untouched and unbuffered,
// and writes one record per request. The records are the run's evidence of which model the
// agent talked to; the refusals are the evidence that it could not fall back to another one.
//
// The upstream URL and key are secrets: they are revealed only in the outgoing request below
// and never appear in a record, an error body, a log line or an exception message.
import http from "node:http";
import https from "node:https";
import { randomBytes, timingSafeEqual, createHash } from "node:crypto";
import { appendFileSync, chmodSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import type { SecretValue } from "../config/secret.ts";
import { apiSuffix, parseUpstreamBase, upstreamHostHeader, upstreamRequestPath } from "./upstream-url.ts";
import { decideAdmission, openAiErrorBody, readRequestFacts, type RequestFacts } from "./admission-gate.ts";
import { ResponseTap, DEFAULT_PARSE_CAP_BYTES, type ResponseFacts } from "./response-tap.ts";
import { summarizeRecords, type ModelRequestRecord, type ModelTrafficSummary } from "./record.ts";

export type { ModelRequestRecord, ModelTrafficSummary } from "./record.ts";

export interface ProxyOptions {
  /** e.g. http://host:8000/v1; may carry userinfo (sent as Basic auth) and query parameters (kept). */
  upstreamBaseUrl: SecretValue;
  /** Sent upstream as `Authorization: Bearer`; wins over userinfo in the URL when both are given. */
  upstreamApiKey?: SecretValue;
  /** The only model id allowed through. */
  admittedModel: string;
  /** Per-run bearer token the agent must present; generated when absent. */
  token?: string;
  /** Append one JSON line per request here (backend/model-requests.jsonl). */
  recordFile?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Also listen on this Unix socket (the sandbox binds it in). */
  unixSocketPath?: string;
  /** Called once per finished request (the lead turns these into trace `model_request` events). */
  onRecord?: (rec: ModelRequestRecord) => void;
  /**
   * Longest wait for the upstream's response headers, and longest silence while a body is
   * streaming, before the request is failed (default 10 minutes). A long but live stream is
   * never cut; a stalled one is.
   */
  upstreamTimeoutMs?: number;
  /** Largest non-streamed response body (and single SSE event) parsed for usage; larger ones pass through unread. Default 8 MiB. */
  parseCapBytes?: number;
  /** Largest request body accepted (it must be read to check its model). Default 64 MiB. */
  maxRequestBytes?: number;
  /**
   * Slots for in-flight upstream requests, shared by every run of a loop that talks to the
   * same endpoint (local servers saturate). A request waits for a slot before it is forwarded.
   */
  modelSlots?: { acquire(signal?: AbortSignal): Promise<() => void> };
}

export interface RecordingProxy {
  /** http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  port: number;
  token: string;
  socketPath?: string;
  records(): ModelRequestRecord[];
  summary(): ModelTrafficSummary;
  close(): Promise<void>;
}

const DEFAULT_UPSTREAM_TIMEOUT_MS = 10 * 60 * 1000;
const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024;

// Headers that describe one hop, not the message (RFC 9110 §7.6.1), plus the ones the proxy
// sets itself. Credentials the agent sent are for the proxy only and never go upstream.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);
const NOT_FORWARDED_UP = new Set([...HOP_BY_HOP, "host", "authorization", "x-api-key", "api-key", "content-length", "accept-encoding", "expect"]);
// Response headers that could name the upstream host (a redirect target, a cookie domain).
const NOT_FORWARDED_DOWN = new Set([...HOP_BY_HOP, "location", "content-location", "set-cookie", "alt-svc"]);

export async function startRecordingProxy(opts: ProxyOptions): Promise<RecordingProxy> {
  const target = parseUpstreamBase(opts.upstreamBaseUrl.reveal());
  const token = opts.token ?? randomBytes(24).toString("base64url");
  const tokenDigest = sha256(`Bearer ${token}`);
  const upstreamTimeoutMs = opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  const parseCap = opts.parseCapBytes ?? DEFAULT_PARSE_CAP_BYTES;
  const maxRequestBytes = opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const transport = target.protocol === "https:" ? https : http;
  const agent = new transport.Agent({ keepAlive: true, scheduling: "lifo" });
  const hostHeader = upstreamHostHeader(target);
  const upstreamAuthorization = opts.upstreamApiKey
    ? `Bearer ${opts.upstreamApiKey.reveal()}`
    : target.basicAuthorization;

  const records: ModelRequestRecord[] = [];
  const inFlight = new Set<(reason: string) => void>();
  const settled = new Set<Promise<void>>();
  let seq = 0;
  let recordFileWarned = false;

  if (opts.recordFile) mkdirSync(dirname(opts.recordFile), { recursive: true });

  function emit(record: ModelRequestRecord): void {
    records.push(record);
    if (opts.recordFile) {
      try {
        appendFileSync(opts.recordFile, JSON.stringify(record) + "\n");
      } catch (error) {
        if (!recordFileWarned) {
          recordFileWarned = true;
          process.stderr.write(`cto-harness proxy: cannot append to the record file (${(error as NodeJS.ErrnoException).code ?? "error"}); records stay in memory\n`);
        }
      }
    }
    try {
      opts.onRecord?.(record);
    } catch {
      // A failing observer must not take the proxy (and the agent's traffic) down with it.
    }
  }

  function authorized(header: string | undefined): boolean {
    if (!header) return false;
    return timingSafeEqual(sha256(header.trim()), tokenDigest);
  }

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const done = handleRequest(req, res);
    settled.add(done);
    void done.finally(() => settled.delete(done));
  };

  async function handleRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const arrival = performance.now();
    const record: ModelRequestRecord = {
      seq: ++seq,
      ts: new Date().toISOString(),
      method: req.method ?? "GET",
      path: safePathname(req.url),
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
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      record.latency_ms = round(performance.now() - arrival);
      emit(record);
    };

    try {
      await admitAndForward(req, res, record, finish);
    } catch {
      // A bug or an unexpected input must fail this one request, never the run's process.
      record.upstream_error ??= "proxy error";
      if (!res.headersSent && !res.destroyed) {
        record.status = 500;
        record.bytes = sendError(res, 500, "cto-harness proxy failed on this request", "proxy_error", "proxy_error");
      } else {
        res.destroy();
      }
      finish();
    }
  }

  async function admitAndForward(req: http.IncomingMessage, res: http.ServerResponse, record: ModelRequestRecord, finish: () => void): Promise<void> {
    const body = await readBody(req, maxRequestBytes);
    if (body === "aborted") {
      record.status = 499;
      record.client_aborted = true;
      finish();
      return;
    }
    if (body === "too-large") {
      record.refused = true;
      record.refusal_reason = "request body too large";
      record.status = 413;
      record.bytes = sendError(res, 413, `request body exceeds ${maxRequestBytes} bytes; cto-harness refused the request`, "invalid_request_error", "request_too_large", true);
      finish();
      return;
    }

    const facts: RequestFacts = readRequestFacts(body, headerValue(req.headers["content-encoding"]));
    record.model = facts.model;
    record.stream = facts.stream;

    if (!authorized(headerValue(req.headers.authorization))) {
      record.refused = true;
      record.refusal_reason = "missing or invalid proxy token";
      record.status = 401;
      record.bytes = sendError(
        res,
        401,
        "missing or invalid proxy token: send 'Authorization: Bearer <token>' with the token cto-harness gave this run (OPENAI_API_KEY)",
        "invalid_request_error",
        "invalid_api_key",
      );
      finish();
      return;
    }

    const decision = decideAdmission(apiSuffix(record.path), facts, opts.admittedModel);
    if (!decision.admit) {
      record.refused = true;
      record.refusal_reason = decision.reason;
      record.status = decision.status;
      record.bytes = sendError(res, decision.status, decision.message, decision.code, decision.code);
      finish();
      return;
    }

    const release = opts.modelSlots ? await opts.modelSlots.acquire() : () => {};
    try {
      await forward(req, res, body, record);
    } finally {
      release();
    }
    finish();
  }

  /** Sends the request upstream and relays the answer; resolves when the exchange is over. */
  function forward(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, record: ModelRequestRecord): Promise<void> {
    return new Promise<void>((resolve) => {
      const headers: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined && !NOT_FORWARDED_UP.has(name)) headers[name] = value;
      }
      // Also drop headers the client listed in `Connection` (they are hop-by-hop by declaration).
      for (const name of connectionListed(req.headers.connection)) delete headers[name];
      headers.host = hostHeader;
      headers["accept-encoding"] = "identity"; // the tap reads plain bytes; nothing is recompressed
      if (body.length > 0 || methodHasBody(record.method)) headers["content-length"] = String(body.length);
      if (upstreamAuthorization) headers.authorization = upstreamAuthorization;
      const path = upstreamRequestPath(target, req.url ?? "/");

      let upReq: http.ClientRequest | null = null;
      let upRes: http.IncomingMessage | null = null;
      let tap: ResponseTap | null = null;
      let timer: NodeJS.Timeout | null = null;
      let sentAt = 0;
      let over = false;

      const end = (): void => {
        if (over) return;
        over = true;
        if (timer) clearTimeout(timer);
        inFlight.delete(abortForClose);
        if (tap) applyFacts(record, tap.finish());
        resolve();
      };
      const armTimer = (what: "headers" | "idle"): void => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          if (what === "headers") fail("timeout", 504, `upstream sent no response within ${Math.round(upstreamTimeoutMs / 1000)} s (timeout)`, "upstream_timeout");
          else cut("stream idle timeout");
        }, upstreamTimeoutMs);
        timer.unref?.();
      };
      /** Failure before any response byte reached the agent: answer with an error of the same kind. */
      const fail = (code: string, status: number, message: string, errorCode: string): void => {
        if (over) return;
        upReq?.destroy();
        record.upstream_error = code;
        if (res.headersSent) {
          res.destroy();
        } else {
          record.status = status;
          record.bytes = sendError(res, status, message, "upstream_error", errorCode);
        }
        end();
      };
      /** Failure after the response began: the agent must see a cut stream too, never a clean end. */
      const cut = (why: string): void => {
        if (over) return;
        record.upstream_error = why;
        upReq?.destroy();
        upRes?.destroy();
        res.destroy();
        end();
      };
      const abortForClose = (why: string): void => cut(why);
      inFlight.add(abortForClose);

      // The agent went away: stop the upstream work it asked for.
      res.on("close", () => {
        if (over || res.writableFinished) return;
        record.client_aborted = true;
        if (!upRes) record.status = 499;
        upReq?.destroy();
        upRes?.destroy();
        end();
      });

      const send = (attempt: number): void => {
        try {
          sendOnce(attempt);
        } catch {
          fail("proxy error", 502, "cto-harness proxy could not send the request upstream", "proxy_error");
        }
      };
      const sendOnce = (attempt: number): void => {
        sentAt = performance.now();
        const request = transport.request({
          agent,
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: record.method,
          path,
          headers,
          ...(target.protocol === "https:" && !isIpLiteral(target.hostname) ? { servername: target.hostname } : {}),
        });
        upReq = request;
        armTimer("headers");
        request.on("error", (error: NodeJS.ErrnoException) => {
          if (over || upReq !== request) return;
          if (upRes) return; // after the response began, the response's own close handler reports the cut
          // A kept-alive socket the server had already closed: the request never reached it, retry once.
          if (attempt === 0 && request.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE")) {
            send(1);
            return;
          }
          const code = errorCode(error);
          fail(code, 502, `upstream unreachable (${code}); cto-harness could not reach the model server`, "upstream_unreachable");
        });
        request.on("response", (response) => onResponse(response));
        request.end(body);
      };

      const onResponse = (response: http.IncomingMessage): void => {
        try {
          relay(response);
        } catch {
          // e.g. a response header Node refuses to write: the agent gets a fault, not a hang.
          if (res.headersSent) cut("proxy error");
          else fail("proxy error", 502, "cto-harness proxy could not relay the upstream response", "proxy_error");
        }
      };
      const relay = (response: http.IncomingMessage): void => {
        if (over) {
          response.destroy();
          return;
        }
        upRes = response;
        const status = response.statusCode ?? 502;
        record.status = status;
        if (status >= 400) record.upstream_error = `upstream status ${status}`;
        const contentType = headerValue(response.headers["content-type"]) ?? "";
        const sse = contentType.toLowerCase().includes("text/event-stream");
        if (sse) record.stream = true;
        const encoded = (headerValue(response.headers["content-encoding"]) ?? "identity").toLowerCase() !== "identity";
        tap = encoded ? null : new ResponseTap({ sse, capBytes: parseCap });

        const outHeaders: http.OutgoingHttpHeaders = {};
        const dropped = new Set([...NOT_FORWARDED_DOWN, ...connectionListed(response.headers.connection)]);
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined && !dropped.has(name)) outHeaders[name] = value;
        }
        if (sse) outHeaders["x-accel-buffering"] = "no";
        res.writeHead(status, outHeaders);
        res.flushHeaders(); // the agent sees the status at once, even if the first token is slow
        armTimer("idle");

        response.on("data", (chunk: Buffer) => {
          if (over) return;
          if (record.ttfb_ms === null) record.ttfb_ms = round(performance.now() - sentAt);
          timer?.refresh(); // cheaper than a new timer per chunk
          tap?.feed(chunk);
          record.bytes += chunk.length;
          if (!res.write(chunk)) response.pause();
        });
        res.on("drain", () => response.resume());
        response.on("end", () => {
          if (over) return;
          if (record.ttfb_ms === null) record.ttfb_ms = round(performance.now() - sentAt);
          res.end(() => end());
        });
        response.on("error", () => {
          // reported by "close" below
        });
        response.on("close", () => {
          if (!response.complete) cut("stream cut");
        });
      };

      send(0);
    });
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

  // Agents keep connections open between turns; a long idle window makes it unlikely that a
  // client reuses a connection in the instant the proxy closes it (the agent would see a reset).
  const serverOptions: http.ServerOptions = { noDelay: true, keepAliveTimeout: 65_000, headersTimeout: 70_000 };
  const tcpServer = http.createServer(serverOptions, handler);
  await listen(tcpServer, (done) => tcpServer.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", done));
  const address = tcpServer.address();
  if (address === null || typeof address === "string") throw new Error("proxy: unexpected listen address");

  let socketServer: http.Server | null = null;
  if (opts.unixSocketPath) {
    removeStaleSocket(opts.unixSocketPath);
    const server = http.createServer(serverOptions, handler);
    try {
      await listen(server, (done) => server.listen(opts.unixSocketPath, done));
    } catch (error) {
      await closeServer(tcpServer);
      throw error;
    }
    socketServer = server;
    // The token guards every request anyway; the mode keeps other users off the socket.
    chmodSync(opts.unixSocketPath, 0o600);
  }

  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | null = null;

  return {
    baseUrl: `http://${host}:${address.port}/v1`,
    port: address.port,
    token,
    ...(opts.unixSocketPath ? { socketPath: opts.unixSocketPath } : {}),
    records: () => records.slice(),
    summary: () => summarizeRecords(records, opts.admittedModel),
    close(): Promise<void> {
      closing ??= (async () => {
        const stopTcp = closeServer(tcpServer);
        const stopSocket = socketServer ? closeServer(socketServer) : Promise.resolve();
        // Requests still running are cut (and recorded) rather than waited for.
        for (const abort of [...inFlight]) abort("proxy closed");
        // Also ends requests still sending their body; each records itself before we go on.
        tcpServer.closeAllConnections();
        socketServer?.closeAllConnections();
        await Promise.allSettled([...settled]);
        await Promise.all([stopTcp, stopSocket]);
        agent.destroy();
        if (opts.unixSocketPath) removeStaleSocket(opts.unixSocketPath);
      })();
      return closing;
    },
  };
}

/** Reads the whole request body (it is needed to check the model), up to a cap. */
function readBody(req: http.IncomingMessage, cap: number): Promise<Buffer | "aborted" | "too-large"> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settledAs: Buffer | "aborted" | "too-large" | null = null;
    const settle = (value: Buffer | "aborted" | "too-large"): void => {
      if (settledAs !== null) return;
      settledAs = value;
      resolve(value);
    };
    req.on("data", (chunk: Buffer) => {
      if (settledAs !== null) return;
      size += chunk.length;
      if (size > cap) {
        chunks.length = 0;
        settle("too-large");
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => settle(Buffer.concat(chunks, size)));
    req.on("error", () => settle("aborted"));
    req.on("close", () => {
      if (!req.complete) settle("aborted");
    });
  });
}

/** Writes an OpenAI-style error body; returns the bytes written. */
function sendError(res: http.ServerResponse, status: number, message: string, type: string, code: string, closeConnection = false): number {
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
function errorCode(error: NodeJS.ErrnoException): string {
  const code = typeof error.code === "string" ? error.code : "";
  return /^[A-Z][A-Z0-9_]{1,63}$/.test(code) ? code : "upstream connection failed";
}

function safePathname(url: string | undefined): string {
  try {
    return new URL(url ?? "/", "http://proxy.invalid").pathname;
  } catch {
    return "/";
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function connectionListed(value: string | string[] | undefined): string[] {
  const text = Array.isArray(value) ? value.join(",") : (value ?? "");
  return text
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name && name !== "close" && name !== "keep-alive");
}

function methodHasBody(method: string): boolean {
  return method === "POST" || method === "PUT" || method === "PATCH";
}

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function listen(server: http.Server, start: (done: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    start(() => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // absent: nothing to remove
  }
}
