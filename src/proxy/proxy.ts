// The run's recording proxy: the only model endpoint an agent ever sees (DESIGN §8).
//
// It listens on loopback (and optionally a Unix socket bound into the sandbox), checks the
// per-run token, refuses any request for a model other than the admitted one, forwards the
// rest to the real endpoint with the real key, streams answers back untouched and unbuffered,
// and writes one record per request. The records are the run's evidence of which model the
// agent talked to; the refusals are the evidence that it could not fall back to another one.
//
// Its parts: listen.ts (transport), admit.ts + admission-gate.ts (admission), forward.ts
// (forwarding), response-tap.ts (what the answers say), record.ts + record-log.ts (records).
// This file wires them together and owns the proxy's lifetime.
import type http from "node:http";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { SecretValue } from "../config/secret.ts";
import { DEFAULT_PARSE_CAP_BYTES } from "./response-tap.ts";
import { newRecord, summarizeRecords, type ModelRequestRecord, type ModelTrafficSummary } from "./record.ts";
import { RecordLog } from "./record-log.ts";
import { admitRequest, sha256, type AdmissionRules } from "./admit.ts";
import { forward, makeUpstream, type Upstream } from "./forward.ts";
import { startListeners } from "./listen.ts";
import { round, safePathname, sendError } from "./http-util.ts";
import type { Slots } from "../core/semaphore.ts";

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
  modelSlots?: Slots;
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

/** Everything one request needs: where it may go, the rules it must pass, where its record goes. */
interface ProxyParts {
  upstream: Upstream;
  rules: AdmissionRules;
  log: RecordLog;
  modelSlots: ProxyOptions["modelSlots"];
}

export async function startRecordingProxy(opts: ProxyOptions): Promise<RecordingProxy> {
  const token = opts.token ?? randomBytes(24).toString("base64url");
  const parts: ProxyParts = {
    upstream: makeUpstream(opts.upstreamBaseUrl, opts.upstreamApiKey, opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS, opts.parseCapBytes ?? DEFAULT_PARSE_CAP_BYTES),
    rules: { tokenDigest: sha256(`Bearer ${token}`), admittedModel: opts.admittedModel, maxRequestBytes: opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES },
    log: new RecordLog(opts.recordFile, opts.onRecord),
    modelSlots: opts.modelSlots,
  };
  const settled = new Set<Promise<void>>();
  let seq = 0;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const done = handleRequest(parts, ++seq, req, res);
    settled.add(done);
    void done.finally(() => settled.delete(done));
  };
  const listeners = await startListeners(handler, { host: opts.host, port: opts.port, unixSocketPath: opts.unixSocketPath });
  let closing: Promise<void> | null = null;
  return {
    baseUrl: listeners.baseUrl,
    port: listeners.port,
    token,
    ...(opts.unixSocketPath ? { socketPath: opts.unixSocketPath } : {}),
    records: () => parts.log.all(),
    summary: () => summarizeRecords(parts.log.all(), opts.admittedModel),
    close(): Promise<void> {
      closing ??= (async () => {
        const stopped = listeners.stopAccepting();
        // Requests still running are cut (and recorded) rather than waited for.
        for (const abort of [...parts.upstream.inFlight]) abort("proxy closed");
        // Also ends requests still sending their body; each records itself before we go on.
        listeners.closeConnections();
        await Promise.allSettled([...settled]);
        await stopped;
        parts.upstream.agent.destroy();
        listeners.removeSocket();
      })();
      return closing;
    },
  };
}

/** One request, start to record: admitted or refused, forwarded under a model slot, recorded once. */
async function handleRequest(parts: ProxyParts, seq: number, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const arrival = performance.now();
  const record = newRecord(seq, req.method, safePathname(req.url));
  try {
    const body = await admitRequest(parts.rules, req, res, record);
    if (body !== null) {
      const release = parts.modelSlots ? await parts.modelSlots.acquire() : () => {};
      try {
        await forward(parts.upstream, req, res, body, record);
      } finally {
        release();
      }
    }
  } catch {
    // A bug or an unexpected input must fail this one request, never the run's process.
    record.upstream_error ??= "proxy error";
    if (!res.headersSent && !res.destroyed) {
      record.status = 500;
      record.bytes = sendError(res, 500, "cto-harness proxy failed on this request", "proxy_error", "proxy_error");
    } else {
      res.destroy();
    }
  }
  record.latency_ms = round(performance.now() - arrival);
  parts.log.emit(record);
}
