// The response-shape probe (DESIGN §9): asks a local OpenAI-compatible server a real
// question the way an agent would, and says whether a coding agent can work with what comes
// back. GET {base}/models, then concurrently a streamed text request (decided at the first
// token that settles it) and a tool request. This file is the probe's order and bookkeeping
// and its result types; the parts live beside it: endpoint.ts (addressing, secret hygiene),
// discovery.ts (/models, /version), chat-request.ts (the requests and the stream),
// probe-marker.ts (marker text, fingerprint), and the decisions in classify.ts. The base
// URL and key are SecretValues: revealed only to build the request, never put into the
// result, advice, errors or thrown messages.
import type { SecretValue } from "../config/secret.ts";
import { chatRequest, type ChatOutcome } from "./chat-request.ts";
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
import { fetchModels, fetchVersion, serverKindOf, unknownServer } from "./discovery.ts";
import { endpointOf, type Clock, type Endpoint } from "./endpoint.ts";
import { serverVersionFromFingerprint } from "./response-evidence.ts";
import type { Slots } from "../core/semaphore.ts";

export { connectionErrorCode } from "./endpoint.ts";
export { discoverServer, isModelServed, serverKindOf } from "./discovery.ts";
export { fingerprintOf, fingerprintOfServer, renderProbeMarker } from "./probe-marker.ts";

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
  modelSlots?: Slots;
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

class ProbeAborted extends Error {
  constructor() {
    super("probe aborted");
    this.name = "AbortError";
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

  const noServer = unknownServer();

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
