// The simulated OpenAI-compatible model server: one stand-in for vLLM (by version),
// llama.cpp, Ollama, SGLang and LM Studio, reproducing their real response shapes.
// Every response carries `x-cto-harness-simulator: <flavour>` so runs against it are
// labelled `endpoint_kind: simulated`. Shapes: render.ts/errors.ts/discovery.ts; what to
// answer: scenarios.ts; this file is only HTTP.
import { registerSimulatedEndpoint, unregisterSimulatedEndpoint } from "../config/simulated-endpoints.ts";
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Fixture } from "../fixtures/types.ts";
import { completionTokens } from "./answer.ts";
import { llamacppProps, modelList, jsonReply, ollamaTags, type PlainReply } from "./discovery.ts";
import { errorReply, type ErrorKind, type ErrorReply } from "./errors.ts";
import { fixtureSolveSource } from "./fixture-source.ts";
import { FLAVOURS, PROFILES, isFlavour, type Flavour, type FlavourProfile } from "./flavours.ts";
import { completionId, formatEvent, renderCompletion, renderStream, streamErrorPayload, toolCallId, type RenderMeta } from "./render.ts";
import { readChatRequest, type ChatView } from "./request.ts";
import {
  DEFAULT_SLOW_FIRST_BYTE_MS,
  SCENARIOS,
  parseScenario,
  planChat,
  scenarioUnavailable,
  serverErrorMessage,
  type ChatPlan,
  type Scenario,
  type SolveSource,
} from "./scenarios.ts";

export type { Flavour } from "./flavours.ts";
export { FLAVOURS } from "./flavours.ts";
export { SCENARIOS, parseScenario, scenarioUnavailable, type Scenario } from "./scenarios.ts";

export const SIMULATOR_HEADER = "x-cto-harness-simulator";
export const DEFAULT_MODEL = "qwen3.6-35b-a3b";
export const DEFAULT_LOADING_MS = 1500;

export interface SimOptions {
  flavour?: Flavour; // default "vllm-0.16"
  scenario?: string; // default "solve"
  models?: string[]; // served ids, default ["qwen3.6-35b-a3b"]
  fixture?: Fixture; // for scripted coding trajectories
  ttftMs?: number; // time to first token, default 0 (3000 for slow-first-byte)
  tokensPerSec?: number; // pacing of streamed tokens, default 0 = unpaced
  reasoningTokens?: number; // reasoning tokens before content (default 30; V2b 300)
  apiKey?: string; // if set, requests without `Authorization: Bearer <key>` get the flavour's 401 body
  host?: string; // default 127.0.0.1
  port?: number; // default 0
  /** E4: how long the server "loads" (refuses connections / llama.cpp answers 503). Default 1500. */
  loadingMs?: number;
  /** Replaces where `solve` gets fixtures and fixes from (tests). */
  solveSource?: SolveSource;
  /** Serve `GET /sim/stats`: chat requests in flight now, the most ever in flight at once, and the total (load tests). */
  stats?: boolean;
  /** Answer the first N chat requests with the flavour's 500 (a server that is failing, then recovers). */
  failFirst?: number;
}

/** `GET /sim/stats` when SimOptions.stats is set. */
export interface SimStats {
  chat_in_flight: number;
  chat_peak: number;
  chat_total: number;
  chat_failed_on_purpose: number;
}

export interface SimRequestRecord {
  method: string;
  path: string;
  /** Requested model (chat), null when none was named or not a chat request. */
  model: string | null;
  stream: boolean;
  /** Names of the tools the request offered. */
  tools: string[];
  messageCount: number;
  /** HTTP status sent (0 while the response has not started). */
  status: number;
}

export interface SimServer {
  baseUrl: string; // http://127.0.0.1:PORT/v1
  port: number;
  flavour: Flavour;
  scenario: Scenario;
  requests: SimRequestRecord[];
  stats: SimStats;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

class BodyTooLarge extends Error {}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Writes `text`, waits until everything written so far has left, then drops the connection (stream-cut). */
async function flushThenCut(res: http.ServerResponse, text: string): Promise<void> {
  await new Promise<void>((resolve) => res.write(text, () => resolve()));
  // Give the kernel a moment to deliver what was written before the reset.
  await sleep(20);
  res.destroy();
}

/** Which routes a server guards with its API key. */
export function requiresAuth(profile: FlavourProfile, path: string): boolean {
  switch (profile.kind) {
    case "vllm":
    case "lmstudio":
      return path.startsWith("/v1");
    case "sglang":
      return !(path.startsWith("/health") || path === "/metrics");
    case "llamacpp":
      // llama.cpp's public endpoints answer without a key.
      return !["/health", "/v1/health", "/models", "/v1/models", "/api/tags"].includes(path);
    case "ollama":
      return path !== "/";
  }
}

/** FastAPI servers (vLLM, SGLang): the methods a known route accepts, so another method gets 405. */
export function allowedMethods(profile: FlavourProfile, path: string): string | null {
  if (profile.kind !== "vllm" && profile.kind !== "sglang") return null;
  if (path === "/v1/chat/completions" || path === "/v1/completions") return "POST";
  if (path === "/v1/models" || path === "/health" || (path === "/version" && profile.kind === "vllm")) return "GET";
  return null;
}

function bearerMatches(req: http.IncomingMessage, key: string): boolean {
  const header = req.headers.authorization ?? "";
  return header === `Bearer ${key}`;
}

export async function startSimulator(opts: SimOptions = {}): Promise<SimServer> {
  const flavour = opts.flavour ?? "vllm-0.16";
  if (!isFlavour(flavour)) throw new Error(`unknown simulator flavour "${String(flavour)}"; valid: ${FLAVOURS.join(", ")}`);
  const scenario = parseScenario(opts.scenario ?? "solve");
  if (scenario === null) throw new Error(`unknown simulator scenario "${opts.scenario}"; valid: ${SCENARIOS.join(", ")}`);
  const profile = PROFILES[flavour];
  const unavailable = scenarioUnavailable(profile, scenario);
  if (unavailable !== null) throw new Error(`scenario ${scenario} is not available on flavour ${flavour}: ${unavailable}`);
  const models = opts.models !== undefined && opts.models.length > 0 ? [...opts.models] : [DEFAULT_MODEL];
  const host = opts.host ?? "127.0.0.1";
  const tokensPerSec = opts.tokensPerSec ?? 0;
  const ttftMs = opts.ttftMs ?? (scenario === "slow-first-byte" ? DEFAULT_SLOW_FIRST_BYTE_MS : 0);
  // E3 without a configured key: a key nobody has, so every guarded request is refused.
  const apiKey = opts.apiKey ?? (scenario === "E3" ? `sim-${randomUUID()}` : undefined);
  const solve = opts.solveSource ?? fixtureSolveSource(opts.fixture);
  const startedAt = Math.floor(Date.now() / 1000);
  const requests: SimRequestRecord[] = [];
  const sockets = new Set<Socket>();
  let loading = scenario === "E4";
  let closed = false;

  const ctx = { profile, servedModels: models, reasoningTokens: opts.reasoningTokens, solve };
  const stats: SimStats = { chat_in_flight: 0, chat_peak: 0, chat_total: 0, chat_failed_on_purpose: 0 };

  function head(res: http.ServerResponse, record: SimRequestRecord, status: number, headers: Record<string, string>): void {
    record.status = status;
    const server: Record<string, string> = profile.serverHeader !== null ? { server: profile.serverHeader } : {};
    res.writeHead(status, { ...server, ...headers, [SIMULATOR_HEADER]: flavour });
  }

  function send(res: http.ServerResponse, record: SimRequestRecord, reply: PlainReply | ErrorReply): void {
    const extra = "headers" in reply && reply.headers !== undefined ? reply.headers : {};
    head(res, record, reply.status, { ...extra, "content-type": reply.contentType, "content-length": String(Buffer.byteLength(reply.body)) });
    res.end(reply.body);
  }

  function sendError(res: http.ServerResponse, record: SimRequestRecord, error: ErrorKind): void {
    send(res, record, errorReply(profile, error));
  }

  function routeGet(path: string, method: string, res: http.ServerResponse, record: SimRequestRecord): void {
    const notFound = () => sendError(res, record, { kind: "route-not-found", method, path });
    if (path === "/v1/models" || (path === "/models" && profile.kind === "llamacpp")) {
      return send(res, record, modelList(profile, models, startedAt));
    }
    switch (path) {
      case "/health":
        if (profile.kind === "vllm" || profile.kind === "sglang") return send(res, record, { status: 200, contentType: "text/plain", body: "" });
        if (profile.kind === "llamacpp") return send(res, record, jsonReply({ status: "ok" }));
        return notFound();
      case "/version":
        if (profile.kind === "vllm") return send(res, record, jsonReply({ version: profile.version }));
        return notFound();
      case "/props":
        if (profile.kind === "llamacpp") return send(res, record, llamacppProps(profile, models));
        return notFound();
      case "/get_model_info":
        if (profile.kind === "sglang") {
          return send(res, record, jsonReply({ model_path: models[0], tokenizer_path: models[0], is_generation: true, preferred_sampling_params: null }));
        }
        return notFound();
      case "/":
        if (profile.kind === "ollama") return send(res, record, { status: 200, contentType: "text/plain; charset=utf-8", body: "Ollama is running" });
        if (profile.kind === "llamacpp") {
          return send(res, record, { status: 200, contentType: "text/html; charset=utf-8", body: "<!doctype html><title>llama.cpp - chat</title>" });
        }
        return notFound();
      case "/api/version":
        if (profile.kind === "ollama") return send(res, record, jsonReply({ version: profile.version }));
        return notFound();
      case "/api/tags":
        if (profile.kind === "ollama") return send(res, record, ollamaTags(models));
        return notFound();
      default:
        return notFound();
    }
  }

  async function pace(res: http.ServerResponse, ms: number): Promise<boolean> {
    if (ms > 0) await sleep(ms);
    return !res.destroyed && !closed;
  }

  const tokenMs = tokensPerSec > 0 ? 1000 / tokensPerSec : 0;

  async function answerChat(view: ChatView, plan: ChatPlan & { kind: "answer" }, res: http.ServerResponse, record: SimRequestRecord): Promise<void> {
    const { answer, delivery } = plan;
    const meta: RenderMeta = {
      id: completionId(profile),
      created: Math.floor(Date.now() / 1000),
      model: view.model ?? models[0] ?? DEFAULT_MODEL,
      promptTokens: view.promptTokens,
      includeUsage: view.includeUsage,
      toolCallIds: answer.toolCalls.map(() => toolCallId(profile)),
    };
    if (!(await pace(res, ttftMs + (plan.queueMs ?? 0)))) return;

    if (!view.stream) {
      // A non-streaming client waits for the whole generation.
      if (!(await pace(res, completionTokens(answer).total * tokenMs))) return;
      const body = JSON.stringify(renderCompletion(profile, answer, meta));
      if (delivery === "cut") {
        head(res, record, 200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
        await flushThenCut(res, body.slice(0, Math.floor(body.length / 2)));
        return;
      }
      head(res, record, 200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
      res.end(body);
      return;
    }

    const events = renderStream(profile, answer, meta);
    head(res, record, 200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
    res.flushHeaders();
    const dataCount = events.filter((e) => e.kind === "data").length;
    const stopAfter = delivery === "cut" ? Math.max(2, Math.floor(dataCount / 2)) : delivery === "error-mid-stream" ? Math.max(2, Math.floor(dataCount / 3)) : Infinity;
    let sent = 0;
    // Paced against the clock (not per-sleep) so timer jitter does not add up over thousands of tokens.
    const generationStart = performance.now();
    let generated = 0;
    for (const event of events) {
      if (event.kind === "data" && sent >= stopAfter) break;
      if (event.kind === "data" && event.cost > 0 && tokenMs > 0) {
        generated += event.cost;
        if (!(await pace(res, generationStart + generated * tokenMs - performance.now()))) return;
      }
      if (res.destroyed || closed) return;
      res.write(formatEvent(event));
      if (event.kind === "data") sent += 1;
    }
    if (delivery === "cut") {
      await flushThenCut(res, "");
      return;
    }
    if (delivery === "error-mid-stream") {
      res.write(formatEvent({ kind: "data", payload: streamErrorPayload(profile, serverErrorMessage(profile)), cost: 0 }));
      // vLLM and SGLang still close the stream with [DONE]; the others just end it.
      if (profile.kind === "vllm" || profile.kind === "sglang") res.write(formatEvent({ kind: "done" }));
    }
    res.end();
  }

  async function handleChat(req: http.IncomingMessage, res: http.ServerResponse, record: SimRequestRecord): Promise<void> {
    let raw: string;
    try {
      raw = await readBody(req);
    } catch (error) {
      if (error instanceof BodyTooLarge) return sendError(res, record, { kind: "bad-request", message: "request body too large" });
      throw error;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return sendError(res, record, { kind: "bad-request", message: "Invalid JSON in request body" });
    }
    const view = readChatRequest(body);
    record.model = view.model;
    record.stream = view.stream;
    record.tools = view.tools.map((t) => t.name);
    record.messageCount = view.messages.length;
    if (profile.kind === "llamacpp" && loading) return sendError(res, record, { kind: "loading" });
    stats.chat_total++;
    if (stats.chat_total <= (opts.failFirst ?? 0)) {
      stats.chat_failed_on_purpose++;
      return sendError(res, record, { kind: "server-error", message: "simulated failure (--fail-first)" });
    }
    stats.chat_in_flight++;
    stats.chat_peak = Math.max(stats.chat_peak, stats.chat_in_flight);
    try {
      const plan = await planChat(scenario!, view, ctx);
      if (plan.kind === "error") return sendError(res, record, plan.error);
      await answerChat(view, plan, res, record);
    } finally {
      stats.chat_in_flight--;
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://sim").pathname;
    const record: SimRequestRecord = { method, path, model: null, stream: false, tools: [], messageCount: 0, status: 0 };
    requests.push(record);
    try {
      await route(req, res, method, path, record);
    } catch (error) {
      // A bug in the simulator is reported as the flavour's 500, never as a hang.
      if (!res.headersSent) {
        sendError(res, record, { kind: "server-error", message: `simulator error: ${error instanceof Error ? error.message : String(error)}` });
      } else {
        res.destroy();
      }
    }
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse, method: string, path: string, record: SimRequestRecord): Promise<void> {

    if (apiKey !== undefined && requiresAuth(profile, path) && !bearerMatches(req, apiKey)) {
      req.resume();
      return sendError(res, record, { kind: "unauthorized" });
    }
    if (profile.kind === "llamacpp" && loading && path !== "/health" && path !== "/v1/health") {
      req.resume();
      return sendError(res, record, { kind: "loading" });
    }
    if (method === "POST" && (path === "/v1/chat/completions" || (path === "/chat/completions" && profile.kind === "llamacpp"))) {
      return handleChat(req, res, record);
    }
    req.resume();
    if (opts.stats && method === "GET" && path === "/sim/stats") return send(res, record, jsonReply({ ...stats }));
    const allow = allowedMethods(profile, path);
    if (allow !== null && !allow.split(", ").includes(method)) return sendError(res, record, { kind: "method-not-allowed", method, path, allow });
    if (method === "GET" || method === "HEAD") {
      if (profile.kind === "llamacpp" && loading && (path === "/health" || path === "/v1/health")) return sendError(res, record, { kind: "loading" });
      return routeGet(path, method, res, record);
    }
    return sendError(res, record, { kind: "route-not-found", method, path });
  }

  const server = http.createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 5000;
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once("error", onError);
      server.listen(port, host, () => {
        server.off("error", onError);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const closeListener = () => new Promise<void>((resolve) => server.close(() => resolve()));

  const loadingMs = opts.loadingMs ?? DEFAULT_LOADING_MS;
  let port: number;
  let loadTimer: NodeJS.Timeout | undefined;
  if (scenario === "E4" && profile.kind !== "llamacpp") {
    // Loading: nothing listens on the port (connection refused) until the model is "up".
    port = await listen(opts.port ?? 0);
    await closeListener();
    const relisten = async (attempt: number): Promise<void> => {
      if (closed) return;
      try {
        await listen(port);
        loading = false;
        if (closed) await closeListener();
      } catch (error) {
        // Someone took the port meanwhile: keep trying for a while, as a restarting server would.
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE" && attempt < 50 && !closed) {
          loadTimer = setTimeout(() => void relisten(attempt + 1), 100);
        }
      }
    };
    loadTimer = setTimeout(() => void relisten(0), loadingMs);
  } else {
    port = await listen(opts.port ?? 0);
    if (loading) loadTimer = setTimeout(() => (loading = false), loadingMs);
  }

  const urlHost = host.includes(":") ? `[${host}]` : host;
  const baseUrl = `http://${urlHost}:${port}/v1`;
  // Runs pointed at this server are labelled simulated even if blocked before the probe.
  registerSimulatedEndpoint(baseUrl);
  return {
    baseUrl,
    port,
    flavour,
    scenario,
    requests,
    stats,
    async close() {
      if (closed) return;
      closed = true;
      unregisterSimulatedEndpoint(baseUrl);
      if (loadTimer !== undefined) clearTimeout(loadTimer);
      for (const socket of sockets) socket.destroy();
      if (server.listening) await closeListener();
    },
  };
}
