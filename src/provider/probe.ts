// The response-shape probe (DESIGN §9): asks a local OpenAI-compatible server a real
// question the way an agent would, and says whether a coding agent can work with what comes
// back. GET {base}/models, then concurrently a streamed text request (decided at the first
// token that settles it) and a tool request. Decisions live in classify.ts; this file only
// does HTTP and bookkeeping. The base URL and key are SecretValues: revealed only to build
// the request, never put into the result, advice, errors or thrown messages.
import { createParser } from "eventsource-parser";
import type { SecretValue } from "../config/secret.ts";
import {
  classifyModelsFailure,
  classifyResponse,
  combineClassifications,
  emptyEvidence,
  swallowedRecheckAdvice,
  type Classification,
  type ClassifyContext,
  type ResponseEvidence,
  type ServerKind,
  type Verdict,
} from "./classify.ts";
import { ResponseAccumulator, isErrorPayload, parseErrorBody, serverVersionFromFingerprint, versionFromBody } from "./response-evidence.ts";

export interface ProbeTarget {
  baseUrl: SecretValue;
  apiKey?: SecretValue;
  model: string;
}

export interface ProbeOptions {
  /** max_tokens of the probe requests (default 1024: a realistic agent budget). */
  budget?: number;
  signal?: AbortSignal;
  /** Whole-probe deadline (default 120000). */
  timeoutMs?: number;
  /** Skip the tool probe (default false). */
  skipTools?: boolean;
  /**
   * Each chat request of the probe holds one of these slots while it is in flight, like the
   * agent's requests through the proxy: a worker's --slots then caps the probe too (src/queue).
   */
  modelSlots?: { acquire(signal?: AbortSignal): Promise<() => void> };
}

export const DEFAULT_BUDGET = 1024;
export const DEFAULT_TIMEOUT_MS = 120_000;

export type FailureReason = null | "provider unreachable" | "provider response shape unavailable";
export type ProbeMarker = null | "provider-unreachable.txt" | "provider-reasoning-only.txt" | "provider-response-shape-unavailable.txt";

export interface ServerFacts {
  reachable: boolean;
  kind: ServerKind | null;
  owned_by: string | null;
  models: string[];
  model_served: boolean | null;
  context_length: number | null;
  /** The endpoint is cto-harness's own simulator (response header x-cto-harness-simulator). */
  simulated: boolean;
  /** HTTP status of GET /models (null: no answer). */
  models_status: number | null;
  /** `system_fingerprint` of the chat answers, when the server sent one (vLLM main: `vllm-<version>-<hash>`). */
  system_fingerprint: string | null;
  /** Server version, when the server told it (`system_fingerprint`, or vLLM's `GET /version`), else null. */
  version: string | null;
  /** Where `version` came from. */
  version_source: "system_fingerprint" | "/version" | null;
}

interface ProbeRequestCommon {
  classification: string;
  verdict: Verdict;
  status: number | null;
  finish_reason: string | null;
  reasoning_fields: string[];
  reasoning_chars: number;
  reasoning_tokens: number | null;
  completion_tokens: number | null;
  content_chars: number;
  /** First characters of the content (redacted), for a human to see what came back. */
  content_sample: string;
  chunks: number;
  stream: boolean;
  decided_early: boolean;
  /** Error message from the server (redacted), or null. */
  error: string | null;
  /** Connection error code (ECONNREFUSED, ...), never the fetch message (it holds the URL). */
  connection_error: string | null;
  elapsed_ms: number | null;
  advice: string[];
}

export interface TextProbeResult extends ProbeRequestCommon {}

export interface ToolProbeResult extends ProbeRequestCommon {
  tool_calls: number;
  tool_names: string[];
  arguments_valid: boolean | null;
  content_has_tool_call_text: boolean;
  /**
   * TOOL_CALLS_SWALLOWED only: the same tool request asked once more without streaming, to see
   * what the streaming path held back. null when not asked.
   */
  non_stream_recheck: {
    status: number | null;
    finish_reason: string | null;
    tool_calls: number;
    content_has_tool_call_text: boolean;
    /** First characters of the content (redacted). */
    content_sample: string;
  } | null;
}

export interface ProbeResult {
  classification: string;
  verdict: Verdict;
  failure_reason: FailureReason;
  marker: ProbeMarker;
  budget: number;
  model: string;
  server: Omit<ServerFacts, "models_status">;
  text: TextProbeResult;
  tools: ToolProbeResult | null;
  advice: string[];
  timings: {
    models_ms: number | null;
    ttfb_ms: number | null;
    first_reasoning_ms: number | null;
    first_content_ms: number | null;
    text_ms: number | null;
    tools_ms: number | null;
    verdict_ms: number | null;
  };
}

// ---------------------------------------------------------------------------------------
// Endpoint addressing and secret hygiene

interface Endpoint {
  /** Build the URL of `path` under the base (keeps the base's query string). */
  url(path: string): string;
  /** The URL of a server-level `path` beside the base's `/v1`; null when the base does not end in /v1. */
  rootUrl(path: string): string | null;
  headers: Record<string, string>;
  redact(text: string): string;
}

class InvalidUrl extends Error {}

function endpointOf(target: ProbeTarget): Endpoint {
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

// ---------------------------------------------------------------------------------------
// Requests

const TEXT_QUESTION = "What is the capital of France? Answer in one short sentence.";
const TOOL_QUESTION = "What is the weather in Paris right now? Use the get_weather tool.";
const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the current weather for a city.",
    parameters: {
      type: "object",
      properties: { city: { type: "string", description: "City name, e.g. Paris" } },
      required: ["city"],
    },
  },
};

interface Clock {
  start: number;
  now(): number;
}

interface ChatOutcome {
  acc: ResponseAccumulator;
  stream: boolean;
  decidedEarly: boolean;
  ttfbMs: number | null;
  elapsedMs: number;
  simulated: boolean;
  server: string | null;
}

class ProbeAborted extends Error {
  constructor() {
    super("probe aborted");
    this.name = "AbortError";
  }
}

async function readCapped(res: Response, cap = 64 * 1024): Promise<string> {
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

async function chatRequest(
  probe: "text" | "tools",
  ep: Endpoint,
  target: ProbeTarget,
  budget: number,
  deadline: AbortSignal,
  clock: Clock,
  stream = true,
  slots?: ProbeOptions["modelSlots"],
): Promise<ChatOutcome> {
  if (slots) {
    let release: () => void;
    try {
      release = await slots.acquire(deadline);
    } catch {
      const acc = new ResponseAccumulator(probe, () => clock.now());
      acc.evidence.timedOut = true;
      return { acc, stream, decidedEarly: false, ttfbMs: null, elapsedMs: 0, simulated: false, server: null };
    }
    try {
      return await chatRequest(probe, ep, target, budget, deadline, clock, stream);
    } finally {
      release();
    }
  }
  const acc = new ResponseAccumulator(probe, () => clock.now());
  const controller = new AbortController();
  const onDeadline = () => controller.abort();
  deadline.addEventListener("abort", onDeadline, { once: true });
  const begun = clock.now();
  const outcome: ChatOutcome = { acc, stream, decidedEarly: false, ttfbMs: null, elapsedMs: 0, simulated: false, server: null };
  const body: Record<string, unknown> = {
    model: target.model,
    messages: [{ role: "user", content: probe === "text" ? TEXT_QUESTION : TOOL_QUESTION }],
    max_tokens: budget,
    stream,
  };
  if (stream) body.stream_options = { include_usage: true };
  if (probe === "tools") {
    body.tools = [WEATHER_TOOL];
    body.tool_choice = "auto";
  }
  try {
    let res: Response;
    try {
      res = await fetch(ep.url("/chat/completions"), {
        method: "POST",
        headers: { ...ep.headers, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
    } catch (error) {
      acc.evidence.connectionError = deadline.aborted ? "ETIMEDOUT" : connectionErrorCode(error);
      return outcome;
    }
    outcome.ttfbMs = clock.now();
    outcome.simulated = res.headers.has("x-cto-harness-simulator");
    outcome.server = res.headers.get("server");
    acc.evidence.status = res.status;
    if (!res.ok) {
      const text = await readCapped(res).catch(() => "");
      acc.addErrorBody(res.status, text);
      return outcome;
    }
    const contentType = res.headers.get("content-type") ?? "";
    if (!contentType.includes("text/event-stream")) {
      // Not a stream (server ignored `stream`, or stream: false): one JSON body.
      outcome.stream = false;
      const text = await readCapped(res, 1024 * 1024);
      try {
        acc.addBody(JSON.parse(text));
      } catch {
        acc.evidence.error = parseErrorBody(text) ?? { message: "unparseable body", type: null, code: null };
      }
      return outcome;
    }
    await readStream(res, acc, controller, outcome);
    return outcome;
  } catch (error) {
    if (deadline.aborted) acc.evidence.timedOut = true;
    else if (!outcome.decidedEarly) {
      acc.evidence.error = { message: `stream broke (${connectionErrorCode(error)})`, type: null, code: null };
      acc.evidence.streamError = acc.evidence.status !== null;
    }
    return outcome;
  } finally {
    deadline.removeEventListener("abort", onDeadline);
    outcome.elapsedMs = clock.now() - begun;
    if (!controller.signal.aborted) controller.abort();
  }
}

async function readStream(res: Response, acc: ResponseAccumulator, controller: AbortController, outcome: ChatOutcome): Promise<void> {
  let done = false;
  const parser = createParser({
    onEvent(event) {
      if (done) return;
      if (event.data.trim() === "[DONE]") {
        done = true;
        return;
      }
      let payload: unknown;
      try {
        payload = JSON.parse(event.data);
      } catch {
        if (event.event === "error") acc.addChunk({ error: { message: event.data } });
        return;
      }
      if (event.event === "error" && !isErrorPayload(payload)) payload = { error: payload };
      acc.addChunk(payload);
      const early = acc.earlyDecision();
      if (early) {
        outcome.decidedEarly = true;
        done = true;
      }
    },
    // SSE comment lines (`: ping`, llama.cpp keep-alives) are ignored by design.
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  try {
    while (!done) {
      const { done: eof, value } = await reader.read();
      if (eof) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } finally {
    // Stop the server generating the rest: abort the request once the verdict is in.
    if (outcome.decidedEarly) controller.abort();
    reader.cancel().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------
// Discovery

const KIND_BY_OWNER: Record<string, ServerKind> = {
  vllm: "vllm",
  llamacpp: "llamacpp",
  "llama.cpp": "llamacpp",
  library: "ollama",
  ollama: "ollama",
  sglang: "sglang",
  organization_owner: "lmstudio",
  lmstudio: "lmstudio",
  "lm-studio": "lmstudio",
  "lm studio": "lmstudio",
};

export function serverKindOf(ownedBy: string | null, serverHeader: string | null): ServerKind | null {
  if (ownedBy) {
    const kind = KIND_BY_OWNER[ownedBy.toLowerCase()];
    if (kind) return kind;
  }
  if (serverHeader && /llama\.cpp/i.test(serverHeader)) return "llamacpp";
  return ownedBy || serverHeader ? "unknown" : null;
}

/** Whether `model` is among the served ids (Ollama's `name` means `name:latest`). */
export function isModelServed(model: string, ids: string[]): boolean {
  return ids.includes(model) || ids.includes(`${model}:latest`);
}

interface ModelsOutcome {
  facts: ServerFacts;
  evidence: ResponseEvidence;
  elapsedMs: number;
}

async function fetchModels(ep: Endpoint, model: string, deadline: AbortSignal, clock: Clock): Promise<ModelsOutcome> {
  const begun = clock.now();
  const evidence = emptyEvidence("text");
  const facts: ServerFacts = {
    reachable: false,
    kind: null,
    owned_by: null,
    models: [],
    model_served: null,
    context_length: null,
    simulated: false,
    models_status: null,
    system_fingerprint: null,
    version: null,
    version_source: null,
  };
  let res: Response;
  try {
    res = await fetch(ep.url("/models"), { headers: ep.headers, signal: deadline });
  } catch (error) {
    evidence.connectionError = deadline.aborted ? "ETIMEDOUT" : connectionErrorCode(error);
    return { facts, evidence, elapsedMs: clock.now() - begun };
  }
  facts.reachable = true;
  facts.models_status = res.status;
  evidence.status = res.status;
  facts.simulated = res.headers.has("x-cto-harness-simulator");
  const text = await readCapped(res, 1024 * 1024).catch(() => "");
  if (!res.ok) {
    evidence.error = parseErrorBody(text) ?? { message: "", type: null, code: null };
    facts.kind = serverKindOf(null, res.headers.get("server"));
    return { facts, evidence, elapsedMs: clock.now() - begun };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  const data = body && typeof body === "object" && Array.isArray((body as { data?: unknown }).data) ? ((body as { data: unknown[] }).data) : [];
  const entries = data.filter((d): d is Record<string, unknown> => typeof d === "object" && d !== null);
  facts.models = entries.map((d) => d.id).filter((id): id is string => typeof id === "string");
  const entry = entries.find((d) => d.id === model || d.id === `${model}:latest`) ?? entries[0];
  facts.owned_by = entry && typeof entry.owned_by === "string" ? entry.owned_by : null;
  facts.kind = serverKindOf(facts.owned_by, res.headers.get("server"));
  if (entry) {
    const meta = entry.meta as Record<string, unknown> | undefined;
    const ctx = entry.max_model_len ?? entry.context_length ?? entry.max_context_length ?? meta?.n_ctx ?? meta?.n_ctx_train;
    facts.context_length = typeof ctx === "number" ? ctx : null;
  }
  facts.model_served = facts.models.length > 0 ? isModelServed(model, facts.models) : null;
  return { facts, evidence, elapsedMs: clock.now() - begun };
}

/** vLLM's `GET /version` (public, beside /v1): the server version, or null. Never throws. */
async function fetchVersion(ep: Endpoint, deadline: AbortSignal): Promise<string | null> {
  const url = ep.rootUrl("/version");
  if (url === null) return null;
  try {
    const res = await fetch(url, { headers: ep.headers, signal: AbortSignal.any([deadline, AbortSignal.timeout(5000)]) });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      return null;
    }
    return versionFromBody(await readCapped(res, 4096));
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------
// The probe

function requestResult(outcome: ChatOutcome | null, ev: ResponseEvidence, cls: Classification, ep: Endpoint | null, contentChars: number): TextProbeResult {
  const redact = (s: string) => (ep ? ep.redact(s) : s);
  return {
    classification: cls.classification,
    verdict: cls.verdict,
    status: ev.status,
    finish_reason: ev.finishReason,
    reasoning_fields: [...ev.reasoningFields],
    reasoning_chars: ev.reasoningChars,
    reasoning_tokens: ev.reasoningTokens,
    completion_tokens: ev.completionTokens,
    content_chars: contentChars,
    content_sample: redact(ev.content.slice(0, 160)),
    chunks: outcome?.acc.chunks ?? 0,
    stream: outcome?.stream ?? false,
    decided_early: outcome?.decidedEarly ?? false,
    error: ev.error ? redact(ev.error.message).slice(0, 500) : null,
    connection_error: ev.connectionError,
    elapsed_ms: outcome ? outcome.elapsedMs : null,
    advice: cls.advice.map(redact),
  };
}

function failureOf(classification: string, verdict: Verdict): { failure_reason: FailureReason; marker: ProbeMarker } {
  if (verdict !== "block") return { failure_reason: null, marker: null };
  if (classification === "ERR_UNREACHABLE") return { failure_reason: "provider unreachable", marker: "provider-unreachable.txt" };
  if (classification === "REASONING_ONLY_TRUNCATED") {
    return { failure_reason: "provider response shape unavailable", marker: "provider-reasoning-only.txt" };
  }
  return { failure_reason: "provider response shape unavailable", marker: "provider-response-shape-unavailable.txt" };
}

/** Probes one endpoint. Never throws for endpoint faults (they are classes); throws only if `signal` aborts. */
export async function probeEndpoint(target: ProbeTarget, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const budget = opts.budget ?? DEFAULT_BUDGET;
  const started = performance.now();
  const clock: Clock = { start: started, now: () => Math.round(performance.now() - started) };
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const deadline = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const checkAborted = () => {
    if (opts.signal?.aborted) throw new ProbeAborted();
  };

  let ep: Endpoint | null = null;
  try {
    ep = endpointOf(target);
  } catch {
    ep = null;
  }
  const baseCtx: ClassifyContext = { budget, serverKind: null, requestedModel: target.model, servedModels: [], modelServed: null };

  const finish = (
    overall: Classification,
    server: ServerFacts,
    text: TextProbeResult,
    tools: ToolProbeResult | null,
    timings: Partial<ProbeResult["timings"]>,
  ): ProbeResult => {
    const redact = (s: string) => (ep ? ep.redact(s) : s);
    const { models_status: _ms, ...serverOut } = server;
    return {
      classification: overall.classification,
      verdict: overall.verdict,
      ...failureOf(overall.classification, overall.verdict),
      budget,
      model: target.model,
      server: serverOut,
      text,
      tools,
      advice: overall.advice.map(redact),
      timings: {
        models_ms: null,
        ttfb_ms: null,
        first_reasoning_ms: null,
        first_content_ms: null,
        text_ms: null,
        tools_ms: null,
        ...timings,
        verdict_ms: clock.now(),
      },
    };
  };

  const noServer: ServerFacts = {
    reachable: false,
    kind: null,
    owned_by: null,
    models: [],
    model_served: null,
    context_length: null,
    simulated: false,
    models_status: null,
    system_fingerprint: null,
    version: null,
    version_source: null,
  };

  if (!ep) {
    const ev = emptyEvidence("text");
    ev.connectionError = "EINVALIDURL";
    const cls = classifyResponse(ev, baseCtx);
    return finish(cls, noServer, requestResult(null, ev, cls, null, 0), null, {});
  }

  // 1. Discovery: reachability, served models, server kind, context length.
  const models = await fetchModels(ep, target.model, deadline, clock);
  checkAborted();
  const ctx: ClassifyContext = {
    ...baseCtx,
    serverKind: models.facts.kind,
    servedModels: models.facts.models,
    modelServed: models.facts.model_served,
  };
  const modelsFailure = classifyModelsFailure(models.evidence, ctx);
  if (modelsFailure) {
    return finish(modelsFailure, models.facts, requestResult(null, models.evidence, modelsFailure, ep, 0), null, {
      models_ms: models.elapsedMs,
    });
  }

  // 2. Text and tool probes at once: the verdict takes as long as the slower one.
  const endpoint = ep;
  const textPromise = chatRequest("text", endpoint, target, budget, deadline, clock, true, opts.modelSlots);
  const toolsPromise = opts.skipTools
    ? Promise.resolve(null)
    : chatRequest("tools", endpoint, target, budget, deadline, clock, true, opts.modelSlots).then(async (outcome) => {
        // Some llama.cpp builds reject tools with stream: retry once without streaming.
        const ev = outcome.acc.evidence;
        const msg = `${ev.error?.message ?? ""}`.toLowerCase();
        if (ev.status !== null && ev.status >= 400 && msg.includes("stream") && msg.includes("tool")) {
          return chatRequest("tools", endpoint, target, budget, deadline, clock, false, opts.modelSlots);
        }
        return outcome;
      });
  const versionPromise = models.facts.kind === "vllm" ? fetchVersion(endpoint, deadline) : Promise.resolve(null);
  const [textOut, toolsOut, versionBody] = await Promise.all([textPromise, toolsPromise, versionPromise]);
  checkAborted();

  const simulated = models.facts.simulated || textOut.simulated || (toolsOut?.simulated ?? false);
  const kind = models.facts.kind ?? serverKindOf(null, textOut.server);
  const fingerprint = textOut.acc.evidence.systemFingerprint ?? toolsOut?.acc.evidence.systemFingerprint ?? null;
  const fingerprintVersion = serverVersionFromFingerprint(fingerprint);
  const server: ServerFacts = {
    ...models.facts,
    reachable: models.facts.reachable || textOut.acc.evidence.status !== null,
    simulated,
    kind,
    system_fingerprint: fingerprint === null ? null : ep.redact(fingerprint),
    version: fingerprintVersion ?? versionBody,
    version_source: fingerprintVersion !== null ? "system_fingerprint" : versionBody !== null ? "/version" : null,
  };
  const finalCtx: ClassifyContext = { ...ctx, serverKind: kind };

  const textCls = classifyResponse(textOut.acc.evidence, finalCtx);
  // The tool probe is judged knowing what the text probe proved (e.g. the reasoning parser works).
  let toolsCls = toolsOut ? classifyResponse(toolsOut.acc.evidence, { ...finalCtx, textProbe: textCls.classification }) : null;
  // A swallowed streamed tool call: ask once without streaming to see what was held back.
  let recheck: ChatOutcome | null = null;
  if (toolsCls?.classification === "TOOL_CALLS_SWALLOWED" && toolsOut?.stream === true) {
    recheck = await chatRequest("tools", endpoint, target, budget, deadline, clock, false);
    checkAborted();
    toolsCls = { ...toolsCls, advice: [...toolsCls.advice, ...swallowedRecheckAdvice(recheck.acc.evidence, kind)] };
  }
  const overall = combineClassifications(textCls, toolsCls, finalCtx);

  const text = requestResult(textOut, textOut.acc.evidence, textCls, ep, textOut.acc.contentChars);
  let tools: ToolProbeResult | null = null;
  if (toolsOut && toolsCls) {
    const ev = toolsOut.acc.evidence;
    tools = {
      ...requestResult(toolsOut, ev, toolsCls, ep, toolsOut.acc.contentChars),
      tool_calls: ev.toolCalls,
      tool_names: [...ev.toolCallNames],
      arguments_valid: ev.toolArgumentsValid,
      content_has_tool_call_text: /<tool_call>|<function=/i.test(ev.content),
      non_stream_recheck:
        recheck === null
          ? null
          : {
              status: recheck.acc.evidence.status,
              finish_reason: recheck.acc.evidence.finishReason,
              tool_calls: recheck.acc.evidence.toolCalls,
              content_has_tool_call_text: /<tool_call>|<function=/i.test(recheck.acc.evidence.content),
              content_sample: ep.redact(recheck.acc.evidence.content.slice(0, 160)),
            },
    };
  }
  return finish(overall, server, text, tools, {
    models_ms: models.elapsedMs,
    ttfb_ms: textOut.ttfbMs,
    first_reasoning_ms: textOut.acc.firstReasoningAt,
    first_content_ms: textOut.acc.firstContentAt,
    text_ms: textOut.elapsedMs,
    tools_ms: toolsOut ? toolsOut.elapsedMs : null,
  });
}

// ---------------------------------------------------------------------------------------
// Marker text and fingerprint

const EXPECTED: Record<string, string> = {
  ERR_UNREACHABLE: "an HTTP answer from GET {base}/models",
  TOOL_CALLS_SWALLOWED: "structured `tool_calls` (or `content`) in the answer to a request that offered a tool, after any reasoning",
  REASONING_ONLY_TRUNCATED: "assistant `content` within the budget, after any reasoning",
};

/** Human text for the marker file: what was found, what was expected, what to do. No URL, no key. */
export function renderProbeMarker(result: ProbeResult): string {
  const lines: string[] = [];
  lines.push(`cto-harness response-shape probe: ${result.classification} (${result.verdict})`);
  if (result.failure_reason) lines.push(`failure_reason: ${result.failure_reason}`);
  lines.push(`model: ${result.model}    budget (max_tokens): ${result.budget}`);
  lines.push(
    `server: ${result.server.reachable ? "reachable" : "unreachable"}, kind ${result.server.kind ?? "unknown"}${result.server.version ? ` ${result.server.version}` : ""}${result.server.simulated ? " (simulator)" : ""}, serves [${result.server.models.join(", ")}]${
      result.server.context_length ? `, context ${result.server.context_length}` : ""
    }`,
  );
  lines.push("");
  lines.push("Found:");
  for (const [name, r] of [["text probe", result.text], ["tool probe", result.tools]] as const) {
    if (!r) continue;
    const parts = [
      `${name}: ${r.classification}`,
      r.connection_error ? `connection ${r.connection_error}` : `HTTP ${r.status ?? "-"}`,
      `finish_reason ${r.finish_reason ?? "-"}`,
      `reasoning ${r.reasoning_chars} chars${r.reasoning_fields.length ? ` in ${r.reasoning_fields.join("+")}` : ""}`,
      `content ${r.content_chars} chars`,
    ];
    if ("tool_calls" in r) parts.push(`tool_calls ${r.tool_calls}`);
    lines.push(`  - ${parts.join("; ")}`);
    if (r.error) lines.push(`    server said: ${r.error}`);
    if (r.content_sample) lines.push(`    content began: ${JSON.stringify(r.content_sample.slice(0, 120))}`);
    if ("non_stream_recheck" in r && r.non_stream_recheck) {
      const n = r.non_stream_recheck;
      lines.push(
        `    asked again without streaming: HTTP ${n.status ?? "-"}, finish_reason ${n.finish_reason ?? "-"}, tool_calls ${n.tool_calls}${
          n.content_sample ? `, content began: ${JSON.stringify(n.content_sample.slice(0, 120))}` : ""
        }`,
      );
    }
  }
  lines.push("");
  lines.push("Expected:");
  lines.push(
    `  ${EXPECTED[result.classification] ?? "HTTP 200 with assistant `content` (reasoning, if any, in its own field) and, when tools are offered, structured `tool_calls`"}.`,
  );
  lines.push("");
  lines.push("What to do:");
  for (const a of result.advice) lines.push(`  - ${a}`);
  if (result.advice.length === 0) lines.push("  - nothing: the endpoint's responses are usable.");
  lines.push(`  - Re-check with: cto-harness probe --model ${result.model} --budget ${result.budget}`);
  return `${lines.join("\n")}\n`;
}

/** What identifies the serving setup: loops re-probe only when it changes. */
export function fingerprintOfServer(server: Pick<ServerFacts, "kind" | "models" | "context_length" | "reachable">): string {
  if (!server.reachable) return "unreachable";
  return `${server.kind ?? "none"}|${[...server.models].sort().join(",")}|${server.context_length ?? "-"}`;
}

export function fingerprintOf(result: ProbeResult): string {
  return fingerprintOfServer(result.server);
}

/** Only the cheap /models discovery (for ProbeCache). */
export async function discoverServer(target: ProbeTarget, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<ServerFacts> {
  const started = performance.now();
  const clock: Clock = { start: started, now: () => Math.round(performance.now() - started) };
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 15_000);
  const deadline = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let ep: Endpoint;
  try {
    ep = endpointOf(target);
  } catch {
    return {
      reachable: false,
      kind: null,
      owned_by: null,
      models: [],
      model_served: null,
      context_length: null,
      simulated: false,
      models_status: null,
      system_fingerprint: null,
      version: null,
      version_source: null,
    };
  }
  return (await fetchModels(ep, target.model, deadline, clock)).facts;
}
