// What travels on the queue: one run's specification. It names things (fixture id and digest,
// engine, provider NAME, model, budgets) and never says where an endpoint is or how to reach
// it: each worker reads its own endpoint from its own environment (src/config/providers.ts).
// The run key is a digest of the spec and the attempt number, so the same attempt always has
// the same key, whichever process computes it. Pure: no I/O.
import { createHash } from "node:crypto";
import { z } from "zod";
import { canonicalJson } from "../loop/config.ts";

export const QUEUE_JOB_SCHEMA = "cto-harness/queue-job@1";

/** What decides a run's result; the attempt number is added to make its key. */
export const RunSpec = z.strictObject({
  /** Built-in fixture id (a worker loads it itself; paths are machine-local and never sent). */
  fixture_id: z.string().min(1).max(200).regex(/^[A-Za-z0-9._-]+$/, "must be a fixture id"),
  /** The digest the coordinator loaded; a worker whose copy differs refuses the job. */
  fixture_digest: z.string().min(1).max(200),
  variant: z.string().max(200).nullable(),
  engine: z.string().min(1).max(64),
  provider: z.string().min(1).max(128).regex(/^[A-Za-z0-9._-]+$/, "must be a provider name"),
  model: z.string().min(1).max(256),
  budget: z.number().int().positive(),
  agent_timeout_sec: z.number().int().positive().nullable(),
  isolation: z.enum(["bwrap", "none"]),
});
export type RunSpec = z.infer<typeof RunSpec>;

export const QueueJob = z.strictObject({
  schema: z.literal(QUEUE_JOB_SCHEMA),
  loop_id: z.string().uuid(),
  run_key: z.string().regex(/^rk-[0-9a-f]{32}$/),
  attempt: z.number().int().positive(),
  spec: RunSpec,
});
export type QueueJob = z.infer<typeof QueueJob>;

/** `rk-` + the first 128 bits of sha256 over the canonical spec and the attempt number. */
export function runKey(spec: RunSpec, attempt: number): string {
  const digest = createHash("sha256").update(canonicalJson({ spec, attempt })).digest("hex");
  return `rk-${digest.slice(0, 32)}`;
}

/** One queue per provider: a worker subscribes only to the providers it serves. */
export function queueName(provider: string): string {
  return `cto-run.${provider}`;
}

/** The queue's uniqueness key: at most one queued-or-active job per loop and run key. */
export function singletonKey(loopId: string, key: string): string {
  return `${loopId}/${key}`;
}

export function makeJob(loopId: string, spec: RunSpec, attempt: number): QueueJob {
  return { schema: QUEUE_JOB_SCHEMA, loop_id: loopId, run_key: runKey(spec, attempt), attempt, spec };
}
