// The simulated OpenAI-compatible model server: one stand-in for vLLM (by version),
// llama.cpp, Ollama, SGLang and LM Studio, reproducing their real response shapes.
// Every response carries `x-cto-harness-simulator: <flavour>` so runs against it are
// labelled `endpoint_kind: simulated`. Routing: routes.ts (pure); the chat route's behaviour:
// chat.ts; shapes: render.ts/errors.ts/discovery.ts; what to answer: scenarios.ts. This file
// is only the HTTP server and its life (including scenario E4's loading phase).
import { registerSimulatedEndpoint, unregisterSimulatedEndpoint } from "../config/simulated-endpoints.ts";
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Fixture } from "../fixtures/types.ts";
import { errorReply, type ErrorKind, type ErrorReply } from "./errors.ts";
import { jsonReply, type PlainReply } from "./discovery.ts";
import { fixtureSolveSource } from "./fixture-source.ts";
import { FLAVOURS, PROFILES, contentTypeFor, isFlavour, type Flavour, type FlavourProfile } from "./flavours.ts";
import { DEFAULT_MODEL, handleChat, type ChatHost, type SimStats } from "./chat.ts";
import { routeRequest } from "./routes.ts";
import { DEFAULT_SLOW_FIRST_BYTE_MS, SCENARIOS, parseScenario, scenarioUnavailable, type Scenario, type SolveSource } from "./scenarios.ts";

export type { Flavour } from "./flavours.ts";
export { FLAVOURS } from "./flavours.ts";
export { SCENARIOS, parseScenario, scenarioUnavailable, type Scenario } from "./scenarios.ts";
export { DEFAULT_MODEL } from "./chat.ts";

export const SIMULATOR_HEADER = "x-cto-harness-simulator";
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

export type { SimStats } from "./chat.ts";

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

function validated(opts: SimOptions): { flavour: Flavour; scenario: Scenario; profile: FlavourProfile } {
  const flavour = opts.flavour ?? "vllm-0.16";
  if (!isFlavour(flavour)) throw new Error(`unknown simulator flavour "${String(flavour)}"; valid: ${FLAVOURS.join(", ")}`);
  const scenario = parseScenario(opts.scenario ?? "solve");
  if (scenario === null) throw new Error(`unknown simulator scenario "${opts.scenario}"; valid: ${SCENARIOS.join(", ")}`);
  const profile = PROFILES[flavour];
  const unavailable = scenarioUnavailable(profile, scenario);
  if (unavailable !== null) throw new Error(`scenario ${scenario} is not available on flavour ${flavour}: ${unavailable}`);
  return { flavour, scenario, profile };
}

/** The simulator's mutable condition: loading (E4) and closed. */
interface Life {
  loading: boolean;
  closed: boolean;
}

function chatHost(opts: SimOptions, flavour: Flavour, scenario: Scenario, profile: FlavourProfile, models: string[], life: Life): ChatHost {
  const tokensPerSec = opts.tokensPerSec ?? 0;
  const head = (res: http.ServerResponse, record: SimRequestRecord, status: number, headers: Record<string, string>): void => {
    record.status = status;
    const server: Record<string, string> = profile.serverHeader !== null ? { server: profile.serverHeader } : {};
    const type = headers["content-type"];
    const shaped = type === "application/json" ? contentTypeFor(profile, "json") : type?.startsWith("text/event-stream") ? contentTypeFor(profile, "sse") : type;
    res.writeHead(status, { ...server, ...headers, ...(shaped !== undefined ? { "content-type": shaped } : {}), [SIMULATOR_HEADER]: flavour });
  };
  return {
    profile,
    scenario,
    plan: { profile, servedModels: models, reasoningTokens: opts.reasoningTokens, solve: opts.solveSource ?? fixtureSolveSource(opts.fixture) },
    ttftMs: opts.ttftMs ?? (scenario === "slow-first-byte" ? DEFAULT_SLOW_FIRST_BYTE_MS : 0),
    failFirst: opts.failFirst ?? 0,
    stats: { chat_in_flight: 0, chat_peak: 0, chat_total: 0, chat_failed_on_purpose: 0 },
    tokenMs: tokensPerSec > 0 ? 1000 / tokensPerSec : 0,
    isClosed: () => life.closed,
    head,
    sendError: (res, record, error) => send(head, res, record, errorReply(profile, error)),
  };
}

function send(head: ChatHost["head"], res: http.ServerResponse, record: SimRequestRecord, reply: PlainReply | ErrorReply): void {
  const extra = "headers" in reply && reply.headers !== undefined ? reply.headers : {};
  head(res, record, reply.status, { ...extra, "content-type": reply.contentType, "content-length": String(Buffer.byteLength(reply.body)) });
  res.end(reply.body);
}

export async function startSimulator(opts: SimOptions = {}): Promise<SimServer> {
  const { flavour, scenario, profile } = validated(opts);
  const models = opts.models !== undefined && opts.models.length > 0 ? [...opts.models] : [DEFAULT_MODEL];
  // E3 without a configured key: a key nobody has, so every guarded request is refused.
  const apiKey = opts.apiKey ?? (scenario === "E3" ? `sim-${randomUUID()}` : undefined);
  const startedAt = Math.floor(Date.now() / 1000);
  const requests: SimRequestRecord[] = [];
  const life: Life = { loading: scenario === "E4", closed: false };
  const host = chatHost(opts, flavour, scenario, profile, models, life);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://sim").pathname;
    const record: SimRequestRecord = { method, path, model: null, stream: false, tools: [], messageCount: 0, status: 0 };
    requests.push(record);
    try {
      if (opts.stats && method === "GET" && path === "/sim/stats") {
        req.resume();
        return send(host.head, res, record, jsonReply({ ...host.stats }));
      }
      const keyAccepted = apiKey === undefined || (req.headers.authorization ?? "") === `Bearer ${apiKey}`;
      const action = routeRequest(profile, method, path, { keyAccepted, loading: life.loading, servedModels: models, startedAt });
      if (action.kind === "chat") return await handleChat(host, req, res, record);
      req.resume();
      if (action.kind === "reply") send(host.head, res, record, action.reply);
      else host.sendError(res, record, action.error);
    } catch (error) {
      // A bug in the simulator is reported as the flavour's 500, never as a hang.
      if (!res.headersSent) host.sendError(res, record, { kind: "server-error", message: `simulator error: ${error instanceof Error ? error.message : String(error)}` });
      else res.destroy();
    }
  }

  const listener = await startListener((req, res) => void handle(req, res), opts, scenario === "E4" && profile.kind !== "llamacpp", life);
  const urlHost = (opts.host ?? "127.0.0.1").includes(":") ? `[${opts.host}]` : (opts.host ?? "127.0.0.1");
  const baseUrl = `http://${urlHost}:${listener.port}/v1`;
  // Runs pointed at this server are labelled simulated even if blocked before the probe.
  registerSimulatedEndpoint(baseUrl);
  return {
    baseUrl,
    port: listener.port,
    flavour,
    scenario,
    requests,
    stats: host.stats,
    async close() {
      if (life.closed) return;
      life.closed = true;
      unregisterSimulatedEndpoint(baseUrl);
      await listener.close();
    },
  };
}

/**
 * Listens, and plays the loading phase (E4): llama.cpp answers 503 until the model is up;
 * the other servers do not listen at all (connection refused) until then.
 */
async function startListener(handler: http.RequestListener, opts: SimOptions, refuseWhileLoading: boolean, life: Life): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5000;
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once("error", onError);
      server.listen(port, opts.host ?? "127.0.0.1", () => {
        server.off("error", onError);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const closeListener = () => new Promise<void>((resolve) => server.close(() => resolve()));
  const loadingMs = opts.loadingMs ?? DEFAULT_LOADING_MS;
  let loadTimer: NodeJS.Timeout | undefined;
  const port = await listen(opts.port ?? 0);
  if (refuseWhileLoading) {
    await closeListener();
    const relisten = async (attempt: number): Promise<void> => {
      if (life.closed) return;
      try {
        await listen(port);
        life.loading = false;
        if (life.closed) await closeListener();
      } catch (error) {
        // Someone took the port meanwhile: keep trying for a while, as a restarting server would.
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE" && attempt < 50 && !life.closed) {
          loadTimer = setTimeout(() => void relisten(attempt + 1), 100);
        }
      }
    };
    loadTimer = setTimeout(() => void relisten(0), loadingMs);
  } else if (life.loading) {
    loadTimer = setTimeout(() => (life.loading = false), loadingMs);
  }
  return {
    port,
    async close() {
      if (loadTimer !== undefined) clearTimeout(loadTimer);
      for (const socket of sockets) socket.destroy();
      if (server.listening) await closeListener();
    },
  };
}
