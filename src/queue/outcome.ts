// Is a finished run a RESULT (accepted, counted in pass@k) or a FAULT of the machinery (run
// again)? Only faults of the infrastructure are retried: a model that fails, an agent that
// times out, a judged fail are results, or pass@k would be biased towards passes. Faults of
// a provider (429, 5xx, refused or cut connections) pause that provider with backoff; faults
// of a worker (harness error, sandbox missing on that host, interrupted, its endpoint not
// configured) are retried on any worker. Pure: the caller reads the report and the proxy's
// request records.
import type { RunStatus } from "../evidence/report.ts";

export type Outcome =
  | { kind: "result" }
  | { kind: "provider_fault"; reason: string }
  | { kind: "worker_fault"; reason: string };

export interface RunFacts {
  status: RunStatus;
  failure_reason: string | null;
  /** Per model request the proxy forwarded: the status it got and its upstream error code. */
  model_requests: { status: number; upstream_error?: string; refused?: boolean }[];
  /** HTTP statuses of the probe's chat requests (probe.json), when it ran. */
  probe_statuses?: number[];
}

/** Failure reasons that say the machine or its configuration failed, not the agent. */
const WORKER_FAULTS = new Set(["harness error", "interrupted", "sandbox unavailable", "provider local config unavailable"]);

/** A request that the model server refused or broke, rather than answered. */
export function isProviderFailure(r: { status: number; upstream_error?: string; refused?: boolean }): boolean {
  // The proxy's own refusals (bad token, model not admitted) are the agent's doing, not the server's.
  if (r.refused) return false;
  if (r.status === 429 || (r.status >= 500 && r.status <= 599)) return true;
  const e = r.upstream_error ?? "";
  return /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EAI_AGAIN|socket hang up|stream cut|unreachable/i.test(e);
}

export function classifyOutcome(f: RunFacts): Outcome {
  if (f.failure_reason && WORKER_FAULTS.has(f.failure_reason)) return { kind: "worker_fault", reason: f.failure_reason };
  if (f.failure_reason === "provider unreachable") return { kind: "provider_fault", reason: "provider unreachable" };
  // A probe blocked by an overloaded or failing server says nothing about the server's shape.
  const probeFailure = (f.probe_statuses ?? []).find((s) => isProviderFailure({ status: s }));
  if (f.status === "blocked" && probeFailure !== undefined) return { kind: "provider_fault", reason: `model server answered ${probeFailure} to the probe` };
  // A pass stands: the judge saw a correct change whatever the server did on the way.
  if (f.status === "pass") return { kind: "result" };
  const bad = f.model_requests.filter(isProviderFailure);
  if (bad.length > 0) {
    const first = bad[0]!;
    return { kind: "provider_fault", reason: first.upstream_error ?? `model server answered ${first.status}` };
  }
  return { kind: "result" };
}
