// A queued loop's schedule: targets (provider + model) × fixtures × engines × attempts, each
// with its run key; and the resume decision: which keys still need a run. Pure.
import { makeJob, type QueueJob, type RunSpec } from "./spec.ts";

export interface Target {
  provider: string;
  model: string;
}

export interface FixtureRef {
  /** The id a worker loads (built-in fixture id). */
  id: string;
  digest: string;
  variant: string | null;
  /** As the loop's configuration names it (`<id>` or `<id>#<variant>`). */
  label: string;
}

export interface QueuedAttempt {
  job: QueueJob;
  fixture: string;
  engine: string;
  target: Target;
  attempt: number;
}

export interface PlanInput {
  loopId: string;
  targets: Target[];
  fixtures: FixtureRef[];
  engines: string[];
  attempts: number;
  budget: number;
  agentTimeoutSec: number | null;
  isolation: "bwrap" | "none";
}

/** Attempt-major, like the local loop, so every pair gets a first result early. */
export function planQueuedAttempts(p: PlanInput): QueuedAttempt[] {
  const out: QueuedAttempt[] = [];
  for (let a = 1; a <= p.attempts; a++) {
    for (const f of p.fixtures) {
      for (const engine of p.engines) {
        for (const t of p.targets) {
          const spec: RunSpec = {
            fixture_id: f.id,
            fixture_digest: f.digest,
            variant: f.variant,
            engine,
            provider: t.provider,
            model: t.model,
            budget: p.budget,
            agent_timeout_sec: p.agentTimeoutSec,
            isolation: p.isolation,
          };
          out.push({ job: makeJob(p.loopId, spec, a), fixture: f.label, engine, target: t, attempt: a });
        }
      }
    }
  }
  return out;
}

/** The attempts without an accepted result: what a (re)started coordinator enqueues. */
export function attemptsToEnqueue(plan: QueuedAttempt[], accepted: ReadonlySet<string>): QueuedAttempt[] {
  return plan.filter((a) => !accepted.has(a.job.run_key));
}

/** Parses `--providers p1,p2=model-b`: a provider without `=model` uses the loop's `--model`. */
export function parseTargets(spec: string, defaultModel: string): Target[] {
  const out: Target[] = [];
  for (const part of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [provider, model] = part.split("=", 2) as [string, string | undefined];
    if (!/^[A-Za-z0-9._-]+$/.test(provider)) throw new Error(`--providers: '${provider}' is not a provider name`);
    out.push({ provider, model: model?.trim() || defaultModel });
  }
  const seen = new Set<string>();
  for (const t of out) {
    const k = `${t.provider}=${t.model}`;
    if (seen.has(k)) throw new Error(`--providers: ${k} is listed twice`);
    seen.add(k);
  }
  return out;
}
